//! Custom user properties: an admin defines keys and the values each allows (at most
//! [`MAX_PROPERTIES`] keys per domain, [`MAX_VALUES`] values per key) and gives users values.
//! Any user of the domain reads them; only admins change them.

use std::collections::HashMap;

use super::{validate, Actor, Services};
use crate::error::{Error, Resource, Result};
use crate::store::properties::{PropertyRow, PropertyValueRow};

pub const MAX_PROPERTIES: i64 = 10;
pub const MAX_VALUES: i64 = 50;
const MAX_KEY: usize = 64;
const MAX_VALUE: usize = 128;

/// A property with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub row: PropertyRow,
    pub values: Vec<PropertyValueRow>,
}

/// How saving each value of a create or update went: saved ones, and failed ones with why.
#[derive(Debug, Default)]
pub struct SavedValues {
    pub saved: Vec<PropertyValueRow>,
    pub failed: Vec<(String, Error)>,
}

/// Ids of properties and values: positive, below 2^53 so that JSON clients keep them exact.
fn new_id() -> i64 {
    use rand::Rng;
    rand::rngs::OsRng.gen_range(1..(1_i64 << 53))
}

impl Services {
    async fn existing_property(&self, actor: &Actor, property_id: i64) -> Result<PropertyRow> {
        self.store
            .property(&actor.domain_id, property_id)
            .await?
            .ok_or(Error::NotFound(Resource::Property))
    }

    async fn existing_property_value(
        &self,
        actor: &Actor,
        property_id: i64,
        value_id: i64,
    ) -> Result<PropertyValueRow> {
        self.existing_property(actor, property_id).await?;
        self.store
            .property_values(&actor.domain_id, &[property_id])
            .await?
            .into_iter()
            .find(|v| v.value_id == value_id)
            .ok_or(Error::NotFound(Resource::PropertyValue))
    }

    /// Creates a property with its first values; a value that cannot be saved is reported,
    /// not fatal.
    pub async fn create_property(
        &self,
        actor: &Actor,
        key: &str,
        values: &[String],
    ) -> Result<(PropertyRow, SavedValues)> {
        actor.audit("property.create", "property", "");
        actor.require_admin()?;
        validate::required("PropertyKey", key, MAX_KEY)?;
        let row = PropertyRow {
            domain_id: actor.domain_id.to_string(),
            property_id: new_id(),
            property_key: key.to_owned(),
            created_at: self.clock.now_ms(),
        };
        actor.trail.name_target(&row.property_id.to_string());
        self.store
            .create_property(&actor.trail, row.clone(), MAX_PROPERTIES)
            .await?;
        let mut saved = SavedValues::default();
        for value in values {
            self.save_value(actor, row.property_id, None, value, &mut saved)
                .await;
        }
        Ok((row, saved))
    }

    /// Adds a value (`value_id: None`) or changes one, noting how it went in `saved`.
    async fn save_value(
        &self,
        actor: &Actor,
        property_id: i64,
        value_id: Option<i64>,
        value: &str,
        saved: &mut SavedValues,
    ) {
        let row = PropertyValueRow {
            property_id,
            value_id: value_id.unwrap_or_else(new_id),
            value: value.to_owned(),
        };
        let done = super::attempt(&actor.trail, async {
            match validate::required("PropertyValue", value, MAX_VALUE) {
                Err(e) => Err(e),
                Ok(()) if value_id.is_some() => {
                    self.store
                        .set_property_value_text(&actor.trail, &actor.domain_id, row.clone())
                        .await
                }
                Ok(()) => {
                    self.store
                        .add_property_value(&actor.trail, &actor.domain_id, row.clone(), MAX_VALUES)
                        .await
                }
            }
        })
        .await;
        match done {
            Ok(()) => saved.saved.push(row),
            Err(e) => saved.failed.push((value.to_owned(), e)),
        }
    }

    /// Renames a property and adds or changes values (`(Some(id), text)` changes one).
    pub async fn update_property(
        &self,
        actor: &Actor,
        property_id: i64,
        key: &str,
        values: &[(Option<i64>, String)],
    ) -> Result<(PropertyRow, SavedValues)> {
        actor.audit("property.update", "property", &property_id.to_string());
        actor.require_admin()?;
        validate::required("PropertyKey", key, MAX_KEY)?;
        let mut row = self.existing_property(actor, property_id).await?;
        if row.property_key != key {
            self.store
                .rename_property(&actor.trail, &actor.domain_id, property_id, key)
                .await?;
            row.property_key = key.to_owned();
        }
        let mut saved = SavedValues::default();
        for (value_id, value) in values {
            self.save_value(actor, property_id, *value_id, value, &mut saved)
                .await;
        }
        Ok((row, saved))
    }

    /// Removes a property, its values, and every user's hold of them.
    pub async fn remove_property(&self, actor: &Actor, property_id: i64) -> Result<()> {
        actor.audit("property.delete", "property", &property_id.to_string());
        actor.require_admin()?;
        if self
            .store
            .delete_property(&actor.trail, &actor.domain_id, property_id)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound(Resource::Property))
        }
    }

    /// Every property of the domain with its values.
    pub async fn properties(&self, actor: &Actor) -> Result<Vec<Property>> {
        let rows = self.store.properties(&actor.domain_id).await?;
        let ids: Vec<i64> = rows.iter().map(|p| p.property_id).collect();
        let mut values: HashMap<i64, Vec<PropertyValueRow>> = HashMap::new();
        for v in self.store.property_values(&actor.domain_id, &ids).await? {
            values.entry(v.property_id).or_default().push(v);
        }
        Ok(rows
            .into_iter()
            .map(|row| Property {
                values: values.remove(&row.property_id).unwrap_or_default(),
                row,
            })
            .collect())
    }

    pub async fn property_values(
        &self,
        actor: &Actor,
        property_id: i64,
    ) -> Result<Vec<PropertyValueRow>> {
        self.existing_property(actor, property_id).await?;
        self.store
            .property_values(&actor.domain_id, &[property_id])
            .await
    }

    /// Gives the user (named by its number, and by id as a check) a value of a property.
    pub async fn set_user_property_value(
        &self,
        actor: &Actor,
        user_number: i64,
        user_id: Option<&str>,
        property_id: i64,
        value_id: i64,
    ) -> Result<()> {
        actor.require_admin()?;
        let user = self.user_by_number(actor, user_number).await?;
        if user_id.is_some_and(|id| id != user.user_id) {
            return Err(Error::invalid("UserName"));
        }
        let value = self
            .existing_property_value(actor, property_id, value_id)
            .await?;
        let detail = serde_json::json!({ "property_id": property_id, "value_id": value_id });
        actor.audit_with("property.assign", "user", &user.user_id, detail);
        self.store
            .assign_property_value(
                &actor.trail,
                &actor.domain_id,
                &user.user_id,
                &value,
                self.clock.now_ms(),
            )
            .await
    }

    pub async fn delete_user_property_value(
        &self,
        actor: &Actor,
        user_number: i64,
        property_id: i64,
        value_id: i64,
    ) -> Result<()> {
        actor.require_admin()?;
        let user = self.user_by_number(actor, user_number).await?;
        self.existing_property_value(actor, property_id, value_id)
            .await?;
        let detail = serde_json::json!({ "property_id": property_id, "value_id": value_id });
        actor.audit_with("property.unassign", "user", &user.user_id, detail);
        self.store
            .unassign_property_value(&actor.trail, &actor.domain_id, &user.user_id, value_id)
            .await?;
        Ok(())
    }

    /// How many users hold a value of the property, or (`value_id`) that value.
    pub async fn property_use_count(
        &self,
        actor: &Actor,
        property_id: i64,
        value_id: Option<i64>,
    ) -> Result<i64> {
        match value_id {
            Some(value_id) => {
                self.existing_property_value(actor, property_id, value_id)
                    .await?;
            }
            None => {
                self.existing_property(actor, property_id).await?;
            }
        }
        self.store
            .property_use_count(&actor.domain_id, property_id, value_id)
            .await
    }
}
