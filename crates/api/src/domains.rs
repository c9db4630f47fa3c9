//! `/v2/domain/*` wire types.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Which apps may reach the domain. Roster does not restrict apps: `allow`, no exceptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AppAccessStrategy {
    /// `allow` or `deny`.
    pub effect: String,
    pub except_app_id_list: Vec<String>,
}

/// Default `limit` of `/v2/domain/list` and `/v2/domain/search`, as PDS documents it.
pub const DEFAULT_DOMAIN_LIMIT: u32 = 50;

/// A PDS domain (tenant) with its drive and quota settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Domain {
    pub domain_id: String,
    pub domain_name: String,
    pub description: String,
    pub parent_domain_id: String,
    /// 1 normal, 2 creating, 6 expired; Roster's domains are always 1.
    pub status: i64,
    /// Create a drive for every user on first logon.
    pub init_drive_enable: bool,
    /// Bytes of that drive; -1 unlimited.
    pub init_drive_size: i64,
    /// Bytes the domain's drives may total; 0 unlimited.
    pub size_quota: i64,
    /// Sum of the `total_size` of the domain's limited drives (with `get_quota_used`).
    pub size_quota_used: i64,
    /// Bytes stored in the domain's drives (with `get_quota_used`).
    pub used_size: i64,
    /// Users the domain may hold; 0 unlimited.
    pub user_count_quota: i64,
    pub data_hash_name: String,
    pub store_redundancy_type: String,
    pub sharable: bool,
    pub published_app_access_strategy: AppAccessStrategy,
    /// ISO-8601, e.g. `2019-08-20T06:51:27.292Z`.
    pub created_at: String,
    /// ISO-8601.
    pub updated_at: String,
}

/// `/v2/domain/get`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GetDomainRequest {
    /// The caller's domain, or one it manages (its subdomains; the operator: top-level ones).
    #[schema(min_length = 1, max_length = 64)]
    pub domain_id: String,
    /// Fill `size_quota_used` and `used_size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_quota_used: Option<bool>,
    /// Accepted and ignored: every field is returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<String>,
}

/// `/v2/domain/update` (superadmin): only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateDomainRequest {
    /// The caller's domain, or one it manages (its subdomains; the operator: top-level ones).
    #[schema(min_length = 1, max_length = 64)]
    pub domain_id: String,
    /// ≤128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub domain_name: Option<String>,
    /// ≤1024 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_drive_enable: Option<bool>,
    /// Bytes, ≥ -1 (-1 unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -1.0, maximum = 9007199254740991.0)]
    pub init_drive_size: Option<i64>,
    /// Bytes, ≥ 0 (0 unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 9007199254740991.0)]
    pub size_quota: Option<i64>,
    /// ≥ 0 (0 unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub user_count_quota: Option<i64>,
    /// Not supported; refused when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::not_supported)]
    pub published_app_access_strategy: Option<Value>,
}

/// `/v2/domain/get_quota`: takes no parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GetDomainQuotaRequest {}

/// The domain's quotas and what is used of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DomainQuota {
    /// Bytes; 0 unlimited.
    pub size_quota: i64,
    /// Sum of the `total_size` of the domain's limited drives.
    pub size_used: i64,
    /// 0 unlimited.
    pub user_count_quota: i64,
    pub user_count_used: i64,
}

/// `/v2/domain/create`: a top-level domain (operator) or a subdomain (`parent_domain_id`,
/// the parent's superadmin), with its first superadmin.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateDomainRequest {
    /// ≤128 characters.
    #[schema(min_length = 1, max_length = 128)]
    pub domain_name: String,
    /// Roster extension: the id, which is also the first label of the domain's host name
    /// (`[a-z0-9-]`, 1..63, not starting or ending with `-`). Generated when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    pub domain_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub parent_domain_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_drive_enable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -1.0, maximum = 9007199254740991.0)]
    pub init_drive_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 9007199254740991.0)]
    pub size_quota: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub user_count_quota: Option<i64>,
    /// The first superadmin's user id (and custom account identity); default `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::optional_user_id)]
    pub admin_user_id: Option<String>,
    /// Its password; generated and answered once when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::password)]
    pub admin_password: Option<String>,
}

/// The created domain, and how its first superadmin logs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreateDomainResponse {
    #[serde(flatten)]
    pub domain: Domain,
    pub admin_user_id: String,
    /// Present only when Roster generated it: this is the only time it is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_password: Option<String>,
}

/// `/v2/domain/list` and `/v2/domain/search`: the domains the caller manages below it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListDomainRequest {
    /// Prefix of the name (search only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub domain_name: Option<String>,
    /// What the 2022-03-01 SDK's SearchDomains sends for `domain_name`; the same prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::users::int_or_numeric_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::domain_limit)]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::marker)]
    pub marker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListDomainResponse {
    pub items: Vec<Domain>,
    pub next_marker: String,
}

/// `/v2/domain/delete`: everything in the domain goes, so `force: true` is required.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DeleteDomainRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub domain_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}
