//! SCIM provisioning tokens as the service answers them: never with their secret, but once,
//! at issue.

/// A provisioning token, without the token itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimTokenInfo {
    pub token_id: String,
    pub domain_id: String,
    pub description: String,
    pub creator: String,
    pub created_at: i64,
}

/// A token just created, with the bearer token: the one time it is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedScimToken {
    pub info: ScimTokenInfo,
    pub token: String,
}
