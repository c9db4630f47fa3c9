//! Custom user properties: a key, the values it allows, and which users hold which values.

use crate::audit::Trail;
use async_trait::async_trait;

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PropertyRow {
    pub domain_id: String,
    pub property_id: i64,
    pub property_key: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PropertyValueRow {
    pub property_id: i64,
    pub value_id: i64,
    pub value: String,
}

/// A value a user holds, with its property's key.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UserPropertyValue {
    pub user_id: String,
    pub property_id: i64,
    pub property_key: String,
    pub value_id: i64,
    pub value: String,
}

#[async_trait]
pub trait PropertyStore: Send + Sync + 'static {
    /// Inserts a property unless the domain has `max_properties` already (`QuotaExhausted`);
    /// `AlreadyExists(Property)` if the key is taken.
    async fn create_property(
        &self,
        trail: &Trail,
        property: PropertyRow,
        max_properties: i64,
    ) -> Result<()>;

    async fn property(&self, domain_id: &str, property_id: i64) -> Result<Option<PropertyRow>>;

    /// Every property of the domain, by id.
    async fn properties(&self, domain_id: &str) -> Result<Vec<PropertyRow>>;

    /// `AlreadyExists(Property)` if another property has the key.
    async fn rename_property(
        &self,
        trail: &Trail,
        domain_id: &str,
        property_id: i64,
        key: &str,
    ) -> Result<()>;

    /// Deletes a property with its values and their assignments; `false` if there was none.
    async fn delete_property(
        &self,
        trail: &Trail,
        domain_id: &str,
        property_id: i64,
    ) -> Result<bool>;

    /// Adds a value unless the property has `max_values` (`QuotaExhausted`);
    /// `AlreadyExists(PropertyValue)` if the property has it already.
    async fn add_property_value(
        &self,
        trail: &Trail,
        domain_id: &str,
        value: PropertyValueRow,
        max_values: i64,
    ) -> Result<()>;

    /// Changes a value's text; `NotFound(PropertyValue)` if the property has no such value,
    /// `AlreadyExists(PropertyValue)` if it has the new text already.
    async fn set_property_value_text(
        &self,
        trail: &Trail,
        domain_id: &str,
        value: PropertyValueRow,
    ) -> Result<()>;

    /// Values of the given properties, by value id.
    async fn property_values(
        &self,
        domain_id: &str,
        property_ids: &[i64],
    ) -> Result<Vec<PropertyValueRow>>;

    /// Gives a user a value; giving it twice changes nothing.
    async fn assign_property_value(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
        value: &PropertyValueRow,
        at: i64,
    ) -> Result<()>;

    /// `false` if the user did not hold the value.
    async fn unassign_property_value(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
        value_id: i64,
    ) -> Result<bool>;

    /// Users holding a value of the property (`value_id: None`) or that value.
    async fn property_use_count(
        &self,
        domain_id: &str,
        property_id: i64,
        value_id: Option<i64>,
    ) -> Result<i64>;

    /// The values the given users hold.
    async fn user_property_values(
        &self,
        domain_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<UserPropertyValue>>;
}
