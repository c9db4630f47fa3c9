//! Logon accounts: the identities a user logs in with.

/// The kind of identity an account logs in with. Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogonKind {
    Mobile,
    Email,
    Ldap,
    /// The user's own id, or any name an admin gives it.
    Custom,
}

impl LogonKind {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            LogonKind::Mobile => "mobile",
            LogonKind::Email => "email",
            LogonKind::Ldap => "ldap",
            LogonKind::Custom => "custom",
        }
    }
}

/// An identity of some kind, as a lookup or an unlink names an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogonIdentity {
    pub kind: LogonKind,
    pub identity: String,
}

/// An account to link to (or unlink from) a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLink {
    pub user_id: String,
    pub kind: LogonKind,
    pub identity: String,
    /// What the account keeps beside its identity (a mobile number's region; default `86`).
    pub extra: Option<String>,
}
