//! `/v2/domain/*` wire types.
