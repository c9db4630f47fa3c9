//! The domain page: the operator's domain's settings and quotas (read by admins, changed by
//! superadmins, as `domain/get` and `domain/update` allow), and the domains below it for a
//! superadmin (`domain/list`, `domain/create`; the first admin's generated password is shown
//! once; `domain/update` of one's settings and quotas, `domain/delete` with everything in it,
//! confirmed). A group admin is refused, as the API refuses it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::texts::ConsoleTexts;
use super::Operator;
use crate::error::{Error, ParamProblem};
use crate::http::signin::html;
use crate::http::AppState;
use crate::model::{CreatedDomain, Domain, DomainChanges, DomainSearch, NewDomainSpec, Role};

/// Subdomains shown on one page.
const SUBDOMAIN_PAGE: i64 = 50;

/// The page's query: the page of subdomains, and the one whose edit form is shown.
#[derive(Debug, Default, Deserialize)]
pub struct DomainQuery {
    #[serde(default)]
    pub marker: String,
    #[serde(default)]
    pub edit: String,
}

/// One of the page's forms: the settings (`settings`), a new subdomain (`subdomain`), a
/// subdomain's settings (`subdomain_update`) or its deletion (`subdomain_delete`).
#[derive(Debug, Default, Deserialize)]
pub struct DomainForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub domain_name: String,
    #[serde(default)]
    pub description: String,
    /// A ticked checkbox sends `yes`.
    #[serde(default)]
    pub init_drive_enable: String,
    #[serde(default)]
    pub init_drive_mib: String,
    #[serde(default)]
    pub size_quota_mib: String,
    #[serde(default)]
    pub user_count_quota: String,
    #[serde(default)]
    pub new_domain_id: String,
    #[serde(default)]
    pub new_domain_name: String,
    #[serde(default)]
    pub admin_user_id: String,
    #[serde(default)]
    pub admin_password: String,
    /// The subdomain a `subdomain_update` or `subdomain_delete` is on.
    #[serde(default)]
    pub domain_id: String,
    /// A ticked deletion: `domain/delete`'s `force`.
    #[serde(default)]
    pub confirm: String,
}

/// Bytes as whole MiB for a form (negative: `-1`, unlimited).
fn mib(bytes: i64) -> i64 {
    if bytes < 0 {
        -1
    } else {
        bytes >> 20
    }
}

/// A number a form field holds, refused as that field.
fn number(field: &str, value: &str) -> Result<i64, Error> {
    value
        .trim()
        .parse()
        .map_err(|_| Error::param(ParamProblem::Invalid, field))
}

/// MiB from a form as bytes (`-1` stays `-1`).
fn bytes_of(field: &str, value: &str) -> Result<i64, Error> {
    let n = number(field, value)?;
    if n < 0 {
        return Ok(n);
    }
    n.checked_mul(1 << 20)
        .ok_or_else(|| Error::param(ParamProblem::Invalid, field))
}

fn non_empty(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

impl DomainForm {
    /// The `domain/update` the settings form is. A size left at what the page showed is no
    /// change (the page shows whole MiB; restating it must not round a quota set in bytes).
    pub fn changes(&self, current: &Domain) -> Result<DomainChanges, Error> {
        let init = number("init_drive_mib", &self.init_drive_mib)?;
        let size = number("size_quota_mib", &self.size_quota_mib)?;
        let users = number("user_count_quota", &self.user_count_quota)?;
        Ok(DomainChanges {
            domain_name: Some(self.domain_name.trim().to_owned()),
            description: Some(self.description.clone()),
            init_drive_enable: Some(self.init_drive_enable == "yes"),
            init_drive_size: (init != mib(current.init_drive_size))
                .then(|| bytes_of("init_drive_mib", &self.init_drive_mib))
                .transpose()?,
            size_quota: (size != mib(current.size_quota))
                .then(|| bytes_of("size_quota_mib", &self.size_quota_mib))
                .transpose()?,
            user_count_quota: (users != current.user_count_quota).then_some(users),
            app_access_strategy: false,
        })
    }

    /// The `domain/create` the subdomain form is, below `parent` (`None`: top level).
    pub fn subdomain(&self, parent: Option<String>) -> NewDomainSpec {
        NewDomainSpec {
            domain_id: non_empty(&self.new_domain_id),
            domain_name: self.new_domain_name.trim().to_owned(),
            parent_domain_id: parent,
            admin_user_id: non_empty(&self.admin_user_id),
            admin_password: (!self.admin_password.is_empty()).then(|| self.admin_password.clone()),
            ..NewDomainSpec::default()
        }
    }
}

/// The form field a service's parameter is on this page.
fn field_on_page(action: &str, param: &str) -> String {
    let field = match (action, param) {
        ("settings" | "edit", "init_drive_size") => "init_drive_mib",
        ("settings" | "edit", "size_quota") => "size_quota_mib",
        ("subdomain", "domain_id") => "new_domain_id",
        ("subdomain", "domain_name") => "new_domain_name",
        ("subdomain", "user_id" | "admin_user_id") => "admin_user_id",
        ("subdomain", "password" | "admin_password") => "admin_password",
        (_, other) => other,
    };
    field.to_owned()
}

/// A duration as people read it: the largest whole unit (days, hours, minutes, seconds).
fn duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "0 s".into(),
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// The server's sign-in and session settings (flags of `roster serve`, the same for every
/// domain), shown read only: label and value.
fn server_settings(app: &AppState, ct: &'static ConsoleTexts) -> Vec<(&'static str, String)> {
    let t = &app.services.token_settings;
    vec![
        (ct.lockout_failures, t.lockout.max_failures.to_string()),
        (ct.lockout_for, duration(t.lockout.lock_for)),
        (ct.access_ttl, duration(t.access_ttl)),
        (ct.refresh_ttl, duration(t.refresh_ttl)),
        (ct.session_idle, duration(t.session_idle)),
        (ct.session_max, duration(t.session_max)),
    ]
}

#[derive(Template)]
#[template(path = "console/domain.html")]
struct DomainPage<'a> {
    /// Lockout and session lifetimes: server settings, read only.
    server: Vec<(&'static str, String)>,
    op: &'a Operator,
    ct: &'static ConsoleTexts,
    domain: Domain,
    /// The settings form's values (what was sent, after a refusal).
    form: DomainForm,
    /// The subdomain form's values after a refusal (never the password).
    sub: DomainForm,
    editable: bool,
    /// The domains below this one, for a superadmin.
    subdomains: Option<Vec<Domain>>,
    next: Option<String>,
    /// Set on a later page of subdomains: a link back to the first.
    first: Option<()>,
    created: Option<CreatedDomain>,
    /// A subdomain's edit form: the subdomain and the form's values.
    editing: Option<(Domain, DomainForm)>,
    error: String,
    error_field: String,
    /// The form the error concerns (`settings`, `subdomain`, `edit`; `row`: a subdomain's
    /// row, `error_target`; `page`: none).
    error_form: String,
    error_target: String,
}

impl DomainPage<'_> {
    /// The link that shows the page with a subdomain's edit form.
    fn edit_link(&self, domain_id: &str) -> String {
        let query = serde_urlencoded::to_string([("edit", domain_id)]).unwrap_or_default();
        format!("/console/domain?{query}#edit-domain")
    }
}

/// The settings form as the domain is now.
fn form_of(domain: &Domain) -> DomainForm {
    DomainForm {
        domain_name: domain.domain_name.clone(),
        description: domain.description.clone(),
        init_drive_enable: if domain.init_drive_enable { "yes" } else { "" }.into(),
        init_drive_mib: mib(domain.init_drive_size).to_string(),
        size_quota_mib: mib(domain.size_quota).to_string(),
        user_count_quota: domain.user_count_quota.to_string(),
        ..DomainForm::default()
    }
}

/// `GET /console/domain`.
pub async fn show(
    State(app): State<AppState>,
    op: Operator,
    Query(query): Query<DomainQuery>,
) -> Response {
    let view = View {
        marker: &query.marker,
        edit: &query.edit,
    };
    render(&app, &op, view, None, None, None).await
}

/// Which page of subdomains, and which subdomain's edit form.
#[derive(Clone, Copy, Default)]
struct View<'a> {
    marker: &'a str,
    edit: &'a str,
}

/// The subdomain whose edit form is shown (read as `domain/get` reads it: a domain the
/// operator does not manage is not found); the operator's own domain is the settings form.
async fn editing(app: &AppState, op: &Operator, edit: &str) -> Result<Option<Domain>, Error> {
    match non_empty(edit) {
        Some(id) if id != op.actor.domain_id => {
            let found = app.services.get_domain(&op.actor, &id, false).await?;
            Ok(Some(found.domain))
        }
        _ => Ok(None),
    }
}

async fn render(
    app: &AppState,
    op: &Operator,
    view: View<'_>,
    form: Option<DomainForm>,
    failed: Option<(&str, &Error)>,
    created: Option<CreatedDomain>,
) -> Response {
    let s = &app.services;
    let domain = match s.get_domain(&op.actor, &op.actor.domain_id, false).await {
        Ok(found) => found.domain,
        Err(e) => return op.failed(&e),
    };
    let marker = view.marker;
    let edited = match editing(app, op, view.edit).await {
        Ok(edited) => edited,
        Err(e) => return op.failed(&e),
    };
    let first = (!marker.is_empty()).then_some(());
    let (subdomains, next) = if op.actor.role == Role::Superadmin {
        let search = DomainSearch {
            limit: Some(SUBDOMAIN_PAGE),
            marker: non_empty(marker),
            ..DomainSearch::default()
        };
        match s.list_domains(&op.actor, search, false).await {
            Ok(page) => {
                let next = (!page.next_marker.is_empty()).then(|| {
                    serde_urlencoded::to_string([("marker", page.next_marker.as_str())])
                        .unwrap_or_default()
                });
                (Some(page.items), next)
            }
            Err(Error::Forbidden(_)) => (None, None),
            Err(e) => return op.failed(&e),
        }
    } else {
        (None, None)
    };
    let status = match failed {
        Some((_, Error::Forbidden(_))) => StatusCode::FORBIDDEN,
        Some((_, Error::NotFound(_))) => StatusCode::NOT_FOUND,
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    let (error_form, error_field, error) = match failed {
        Some((action, e)) => (
            action.to_owned(),
            ConsoleTexts::field_of(e)
                .map(|f| field_on_page(action, f))
                .unwrap_or_default(),
            op.ct.sentence(e),
        ),
        None => Default::default(),
    };
    let error_target = match (&form, error_form.as_str()) {
        (Some(sent), "row") => sent.domain_id.trim().to_owned(),
        _ => String::new(),
    };
    let (form, sub, edit_form) = match (form, error_form.as_str()) {
        (Some(sent), "settings") => (sent, DomainForm::default(), None),
        (Some(sent), "subdomain") => (
            form_of(&domain),
            DomainForm {
                admin_password: String::new(),
                ..sent
            },
            None,
        ),
        (Some(sent), "edit") => (form_of(&domain), DomainForm::default(), Some(sent)),
        _ => (form_of(&domain), DomainForm::default(), None),
    };
    let editing = edited.map(|d| {
        let values = edit_form.unwrap_or_else(|| form_of(&d));
        (d, values)
    });
    html(
        status,
        DomainPage {
            server: server_settings(app, op.ct),
            op,
            ct: op.ct,
            editable: op.actor.is_superadmin(),
            form,
            sub,
            domain,
            subdomains,
            next,
            first,
            created,
            editing,
            error,
            error_field,
            error_form,
            error_target,
        },
    )
}

/// `POST /console/domain`: new settings, or a new subdomain.
pub async fn action(
    State(app): State<AppState>,
    op: Operator,
    Form(form): Form<DomainForm>,
) -> Response {
    if let Some(refused) = op.page.check_form(&form.csrf) {
        return refused;
    }
    let s = &app.services;
    match form.action.as_str() {
        "settings" => {
            let current = match s.get_domain(&op.actor, &op.actor.domain_id, false).await {
                Ok(found) => found.domain,
                Err(e) => return op.failed(&e),
            };
            let done = match form.changes(&current) {
                Ok(changes) => s
                    .update_domain(&op.actor, &op.actor.domain_id, changes)
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            };
            match done {
                Ok(()) => Redirect::to("/console/domain").into_response(),
                // A refusal (an admin, or a domain raising its own quota) is said on the
                // form too: the page stays readable for whoever may read it.
                Err(
                    e @ (Error::InvalidParameter { .. } | Error::Conflict(_) | Error::Forbidden(_)),
                ) => {
                    let view = View::default();
                    render(&app, &op, view, Some(form), Some(("settings", &e)), None).await
                }
                Err(e) => op.failed(&e),
            }
        }
        "subdomain" => {
            let own = match s.get_domain(&op.actor, &op.actor.domain_id, false).await {
                Ok(found) => found.domain,
                Err(e) => return op.failed(&e),
            };
            // The operator's domain creates top-level domains; any other, its subdomains.
            let parent = (!own.is_operator).then(|| own.domain_id.clone());
            match s.create_domain(&op.actor, form.subdomain(parent)).await {
                Ok(created) => render(&app, &op, View::default(), None, None, Some(created)).await,
                Err(
                    e @ (Error::InvalidParameter { .. }
                    | Error::Conflict(_)
                    | Error::AlreadyExists(_)),
                ) => {
                    let view = View::default();
                    render(&app, &op, view, Some(form), Some(("subdomain", &e)), None).await
                }
                Err(e) => op.failed(&e),
            }
        }
        "subdomain_update" => {
            let id = form.domain_id.trim().to_owned();
            let done = update_subdomain(&app, &op, &id, &form).await;
            after_subdomain_change(&app, &op, done, form, "edit").await
        }
        "subdomain_delete" => {
            let id = form.domain_id.trim();
            let done = s.delete_domain(&op.actor, id, form.confirm == "yes").await;
            after_subdomain_change(&app, &op, done, form, "row").await
        }
        _ => op.failed(&Error::param(ParamProblem::Invalid, "action")),
    }
}

/// A subdomain's settings form as `domain/update`, against its settings now (as the own
/// domain's form is).
async fn update_subdomain(
    app: &AppState,
    op: &Operator,
    id: &str,
    form: &DomainForm,
) -> Result<(), Error> {
    let s = &app.services;
    let current = s.get_domain(&op.actor, id, false).await?.domain;
    let changes = form.changes(&current)?;
    s.update_domain(&op.actor, id, changes).await.map(|_| ())
}

/// The page after a subdomain's change: the list again, or the refusal as a sentence on the
/// form it concerns (`form_name`), or on the page when the subdomain is not found (another
/// domain's, or not the operator's to manage).
async fn after_subdomain_change(
    app: &AppState,
    op: &Operator,
    done: Result<(), Error>,
    form: DomainForm,
    form_name: &str,
) -> Response {
    match done {
        Ok(()) => Redirect::to("/console/domain").into_response(),
        Err(e @ Error::NotFound(_)) => {
            render(
                app,
                op,
                View::default(),
                Some(form),
                Some(("page", &e)),
                None,
            )
            .await
        }
        Err(e @ (Error::InvalidParameter { .. } | Error::Conflict(_) | Error::Forbidden(_))) => {
            let id = form.domain_id.trim().to_owned();
            let view = View {
                marker: "",
                edit: if form_name == "edit" { &id } else { "" },
            };
            render(app, op, view, Some(form), Some((form_name, &e)), None).await
        }
        Err(e) => op.failed(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::duration;
    use std::time::Duration;

    #[test]
    fn durations_read_in_their_largest_whole_unit() {
        assert_eq!(duration(Duration::from_secs(300)), "5 min");
        assert_eq!(duration(Duration::from_secs(7_200)), "2 h");
        assert_eq!(duration(Duration::from_secs(30 * 86_400)), "30 d");
        assert_eq!(duration(Duration::from_secs(90)), "90 s");
    }
}
