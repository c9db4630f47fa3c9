//! Reading the audit log: what a search asks for and what an export is made of.
//!
//! `query` is Roster's filter language for the log (the same as PDS's): conditions
//! `field op 'value'` joined by `and`; the service reads it, after checking the caller.

/// A page of the log a caller asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditSearch {
    /// The filter (`""`: every record).
    pub query: String,
    /// `acted_at DESC` (the default, also as `None` or `""`) or `acted_at ASC`.
    pub order_by: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

/// An export a caller asks for: the records of a filter, in an order, as a named CSV file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditExportSpec {
    pub query: Option<String>,
    pub order_by: Option<String>,
    /// `None`: `audit_log.csv`.
    pub file_name: Option<String>,
}
