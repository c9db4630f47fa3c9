//! `/v2/drive/*` wire types.
