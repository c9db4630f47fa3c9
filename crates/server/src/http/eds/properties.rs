//! eds-user's user-property actions, over the core's properties.

use roster_api::eds::{
    FailedPropertyValue, Property, PropertyResult, PropertyValue, SavePropertyValueModel,
};
use serde_json::Value;

use super::error::item_failure;
use super::params::Params;
use super::{answer, json, Answer, Ctx};
use crate::model;
use crate::service::properties::SavedValues;

fn value(v: model::PropertyValue) -> PropertyValue {
    PropertyValue {
        property_value_id: v.value_id,
        property_value: v.value,
    }
}

fn result(row: model::Property, saved: SavedValues) -> Value {
    let failed = saved
        .failed
        .into_iter()
        .map(|(text, e)| {
            let (error_code, error_message) = item_failure(&e, "");
            FailedPropertyValue {
                property_id: row.property_id,
                property_value: text,
                error_code,
                error_message,
            }
        })
        .collect();
    json(PropertyResult {
        property_id: row.property_id,
        property_key: row.property_key,
        save_property_value_model: SavePropertyValueModel {
            save_property_values: saved.saved.into_iter().map(value).collect(),
            failed_property_values: failed,
        },
    })
}

pub async fn create(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let key = p.required("PropertyKey")?;
    let values = p.list("PropertyValues", 100)?;
    let (row, saved) = ctx
        .services
        .create_property(&ctx.actor, key, &values)
        .await?;
    answer(vec![("CreateResult", result(row, saved))])
}

pub async fn update(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let property_id = p.required_int("PropertyId")?;
    let key = p.required("PropertyKey")?;
    let mut values = Vec::new();
    for v in p.objects("PropertyValues", 100)? {
        values.push((
            v.int("PropertyValueId")?,
            v.required("PropertyValue")?.to_owned(),
        ));
    }
    let (row, saved) = ctx
        .services
        .update_property(&ctx.actor, property_id, key, &values)
        .await?;
    answer(vec![("UpdateResult", result(row, saved))])
}

pub async fn remove(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let property_id = p.required_int("PropertyId")?;
    ctx.services
        .remove_property(&ctx.actor, property_id)
        .await?;
    answer(vec![])
}

pub async fn list(ctx: &Ctx<'_>) -> Answer {
    let properties: Vec<Property> = ctx
        .services
        .properties(&ctx.actor)
        .await?
        .into_iter()
        .map(|p| Property {
            property_id: p.row.property_id,
            property_key: p.row.property_key,
            property_values: p.values.into_iter().map(value).collect(),
        })
        .collect();
    // Every property fits one answer (at most ten): there is never a next page.
    answer(vec![
        ("NextToken", Value::String(String::new())),
        ("Properties", json(properties)),
    ])
}

pub async fn list_values(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let property_id = p.required_int("PropertyId")?;
    let values: Vec<PropertyValue> = ctx
        .services
        .property_values(&ctx.actor, property_id)
        .await?
        .into_iter()
        .map(value)
        .collect();
    answer(vec![("PropertyValueInfos", json(values))])
}

pub async fn set_user_value(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let user_number = p.required_int("UserId")?;
    let user_name = p.required("UserName")?;
    let property_id = p.required_int("PropertyId")?;
    let value_id = p.required_int("PropertyValueId")?;
    ctx.services
        .set_user_property_value(
            &ctx.actor,
            user_number,
            Some(user_name),
            property_id,
            value_id,
        )
        .await?;
    answer(vec![])
}

pub async fn delete_user_value(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let user_number = p.required_int("UserId")?;
    let property_id = p.required_int("PropertyId")?;
    let value_id = p.required_int("PropertyValueId")?;
    ctx.services
        .delete_user_property_value(&ctx.actor, user_number, property_id, value_id)
        .await?;
    answer(vec![])
}

pub async fn check_used(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let property_id = p.required_int("PropertyId")?;
    let count = ctx
        .services
        .property_use_count(&ctx.actor, property_id, None)
        .await?;
    answer(vec![("UseCount", json(count))])
}

pub async fn check_used_value(ctx: &Ctx<'_>, p: &Params) -> Answer {
    let property_id = p.required_int("PropertyId")?;
    let value_id = p.required_int("PropertyValueId")?;
    let count = ctx
        .services
        .property_use_count(&ctx.actor, property_id, Some(value_id))
        .await?;
    answer(vec![("UseCount", json(count))])
}
