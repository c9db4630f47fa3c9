//! Access keys as the service answers them: never with their secret, but once, at issue.

/// Whether a key may sign requests. Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessKeyStatus {
    Enabled,
    Disabled,
}

impl AccessKeyStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKeyStatus::Enabled => "enabled",
            AccessKeyStatus::Disabled => "disabled",
        }
    }
}

/// An access key, without its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub domain_id: String,
    /// The user whose requests the key signs.
    pub user_id: String,
    pub status: String,
    pub description: String,
    pub creator: String,
    pub created_at: i64,
}

/// A key just issued, with its secret: the one time the secret is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedAccessKey {
    pub key: AccessKey,
    pub secret: String,
}
