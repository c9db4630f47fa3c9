//! `PropertyStore` on SQL.

use crate::audit::Trail;
use async_trait::async_trait;

use super::users::user_id_list;
use super::{missing_as, text, unique_as, Arg, SqlStore, Stmt};
use crate::error::{Error, Resource, Result};
use crate::store::properties::{PropertyRow, PropertyStore, PropertyValueRow, UserPropertyValue};

const PROPERTY_COLUMNS: &str = "domain_id, property_id, property_key, created_at";

/// `$2, $3, ...` for integer ids after the domain, with their arguments.
fn int_list(domain_id: &str, ids: &[i64]) -> (String, Vec<Arg>) {
    let mut args = vec![text(domain_id)];
    let placeholders: Vec<String> = ids
        .iter()
        .map(|id| {
            args.push(Arg::Int(*id));
            format!("${}", args.len())
        })
        .collect();
    (placeholders.join(", "), args)
}

fn count_stmt(sql: &str, domain_id: &str, id: i64) -> Stmt {
    Stmt::new(sql, vec![text(domain_id), Arg::Int(id)])
}

#[async_trait]
impl PropertyStore for SqlStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn create_property(
        &self,
        trail: &Trail,
        p: PropertyRow,
        max_properties: i64,
    ) -> Result<()> {
        let p = &p;
        self.write(trail, |tx| {
            Box::pin(async move {
                let (count,) = tx
                    .fetch_optional::<(i64,)>(Stmt::new(
                        "SELECT COUNT(*) FROM user_properties WHERE domain_id = $1",
                        vec![text(&p.domain_id)],
                    ))
                    .await?
                    .unwrap_or((0,));
                if count >= max_properties {
                    return Err(Error::QuotaExhausted(format!(
                        "at most {max_properties} properties"
                    )));
                }
                tx.execute(Stmt::new(
                    format!(
                        "INSERT INTO user_properties ({PROPERTY_COLUMNS}) VALUES ($1, $2, $3, $4)"
                    ),
                    vec![
                        text(&p.domain_id),
                        Arg::Int(p.property_id),
                        text(&p.property_key),
                        Arg::Int(p.created_at),
                    ],
                ))
                .await
                .map_err(unique_as(Resource::Property))?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn property(&self, domain_id: &str, property_id: i64) -> Result<Option<PropertyRow>> {
        let stmt = Stmt::new(
            format!(
                "SELECT {PROPERTY_COLUMNS} FROM user_properties \
                 WHERE domain_id = $1 AND property_id = $2"
            ),
            vec![text(domain_id), Arg::Int(property_id)],
        );
        Ok(self.reader().fetch_optional::<PropertyRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn properties(&self, domain_id: &str) -> Result<Vec<PropertyRow>> {
        let stmt = Stmt::new(
            format!(
                "SELECT {PROPERTY_COLUMNS} FROM user_properties WHERE domain_id = $1 \
                 ORDER BY property_id"
            ),
            vec![text(domain_id)],
        );
        Ok(self.reader().fetch_all::<PropertyRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn rename_property(
        &self,
        trail: &Trail,
        domain_id: &str,
        property_id: i64,
        key: &str,
    ) -> Result<()> {
        let stmt = Stmt::new(
            "UPDATE user_properties SET property_key = $1 \
             WHERE domain_id = $2 AND property_id = $3",
            vec![text(key), text(domain_id), Arg::Int(property_id)],
        );
        let changed = self
            .write_statement(trail, stmt)
            .await
            .map_err(unique_as(Resource::Property))?;
        if changed == 0 {
            return Err(Error::NotFound(Resource::Property));
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_property(
        &self,
        trail: &Trail,
        domain_id: &str,
        property_id: i64,
    ) -> Result<bool> {
        let stmt = Stmt::new(
            "DELETE FROM user_properties WHERE domain_id = $1 AND property_id = $2",
            vec![text(domain_id), Arg::Int(property_id)],
        );
        Ok(self.write_statement(trail, stmt).await? > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn add_property_value(
        &self,
        trail: &Trail,
        domain_id: &str,
        v: PropertyValueRow,
        max_values: i64,
    ) -> Result<()> {
        let v = &v;
        self.write(trail, |tx| {
            Box::pin(async move {
                let (count,) = tx
                    .fetch_optional::<(i64,)>(count_stmt(
                        "SELECT COUNT(*) FROM user_property_values \
                         WHERE domain_id = $1 AND property_id = $2",
                        domain_id,
                        v.property_id,
                    ))
                    .await?
                    .unwrap_or((0,));
                if count >= max_values {
                    return Err(Error::QuotaExhausted(format!(
                        "at most {max_values} values per property"
                    )));
                }
                tx.execute(Stmt::new(
                    "INSERT INTO user_property_values (domain_id, property_id, value_id, value) \
                         VALUES ($1, $2, $3, $4)",
                    vec![
                        text(domain_id),
                        Arg::Int(v.property_id),
                        Arg::Int(v.value_id),
                        text(&v.value),
                    ],
                ))
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                        Error::NotFound(Resource::Property)
                    }
                    _ => unique_as(Resource::PropertyValue)(e),
                })?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn set_property_value_text(
        &self,
        trail: &Trail,
        domain_id: &str,
        v: PropertyValueRow,
    ) -> Result<()> {
        let stmt = Stmt::new(
            "UPDATE user_property_values SET value = $1 \
             WHERE domain_id = $2 AND property_id = $3 AND value_id = $4",
            vec![
                text(&v.value),
                text(domain_id),
                Arg::Int(v.property_id),
                Arg::Int(v.value_id),
            ],
        );
        let changed = self
            .write_statement(trail, stmt)
            .await
            .map_err(unique_as(Resource::PropertyValue))?;
        if changed == 0 {
            return Err(Error::NotFound(Resource::PropertyValue));
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn property_values(
        &self,
        domain_id: &str,
        property_ids: &[i64],
    ) -> Result<Vec<PropertyValueRow>> {
        if property_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (list, args) = int_list(domain_id, property_ids);
        let stmt = Stmt::new(
            format!(
                "SELECT property_id, value_id, value FROM user_property_values \
                 WHERE domain_id = $1 AND property_id IN ({list}) ORDER BY value_id"
            ),
            args,
        );
        Ok(self.reader().fetch_all::<PropertyValueRow>(stmt).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn assign_property_value(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
        v: &PropertyValueRow,
        at: i64,
    ) -> Result<()> {
        let stmt = Stmt::new(
            "INSERT INTO user_property_assignments \
             (domain_id, user_id, property_id, value_id, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (domain_id, user_id, property_id, value_id) DO NOTHING",
            vec![
                text(domain_id),
                text(user_id),
                Arg::Int(v.property_id),
                Arg::Int(v.value_id),
                Arg::Int(at),
            ],
        );
        self.write_statement(trail, stmt)
            .await
            .map_err(missing_as(Resource::User))?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn unassign_property_value(
        &self,
        trail: &Trail,
        domain_id: &str,
        user_id: &str,
        value_id: i64,
    ) -> Result<bool> {
        let stmt = Stmt::new(
            "DELETE FROM user_property_assignments \
             WHERE domain_id = $1 AND user_id = $2 AND value_id = $3",
            vec![text(domain_id), text(user_id), Arg::Int(value_id)],
        );
        Ok(self.write_statement(trail, stmt).await? > 0)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn property_use_count(
        &self,
        domain_id: &str,
        property_id: i64,
        value_id: Option<i64>,
    ) -> Result<i64> {
        let stmt = match value_id {
            None => count_stmt(
                "SELECT COUNT(DISTINCT user_id) FROM user_property_assignments \
                 WHERE domain_id = $1 AND property_id = $2",
                domain_id,
                property_id,
            ),
            Some(value_id) => Stmt::new(
                "SELECT COUNT(DISTINCT user_id) FROM user_property_assignments \
                 WHERE domain_id = $1 AND property_id = $2 AND value_id = $3",
                vec![text(domain_id), Arg::Int(property_id), Arg::Int(value_id)],
            ),
        };
        let row = self.reader().fetch_optional::<(i64,)>(stmt).await?;
        Ok(row.map_or(0, |(n,)| n))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn user_property_values(
        &self,
        domain_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<UserPropertyValue>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (list, args) = user_id_list(domain_id, user_ids);
        let stmt = Stmt::new(
            format!(
                "SELECT a.user_id, a.property_id, p.property_key, a.value_id, v.value \
                 FROM user_property_assignments a \
                 JOIN user_properties p ON p.domain_id = a.domain_id AND p.property_id = a.property_id \
                 JOIN user_property_values v ON v.domain_id = a.domain_id AND v.value_id = a.value_id \
                 WHERE a.domain_id = $1 AND a.user_id IN ({list}) \
                 ORDER BY a.user_id, a.property_id, a.value_id"
            ),
            args,
        );
        Ok(self.reader().fetch_all::<UserPropertyValue>(stmt).await?)
    }
}
