//! `/v2/group/*` wire types.
