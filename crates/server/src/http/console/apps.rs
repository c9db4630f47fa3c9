//! The apps and keys page: JWT and OAuth apps (superadmins, as `app/*` allows: create with
//! its kind, redirect URIs, scopes and trust; edit its name, trust and its kind's settings; a
//! client secret shown once after create or rotate; enable, disable, delete), access keys
//! (admins: create with the secret shown once, enable, disable, delete) and webhooks (admins:
//! create with the signing secret shown once, edit, delete, send a test event). Each action
//! is the API's service call with the operator as caller; secrets are only ever in the answer
//! to the form that made them, never in a URL.

use std::collections::HashMap;

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
use crate::model::{AccessKey, AccessKeyStatus, AppChanges, AppInfo, NewAppSpec};
use crate::service::apps::KNOWN_SCOPES;
use crate::service::webhooks::{Webhook, WebhookSpec, EVENT_TYPES};
use crate::time_format::iso8601_ms;

/// Apps and keys shown on one page.
const PAGE: i64 = 50;

/// The kinds of app, as the API names them.
const APP_TYPES: [&str; 4] = ["ServerSide", "WebServer", "SinglePageApp", "NativeApp"];

/// The page's query: where each list starts, and the app or webhook whose edit form is shown.
#[derive(Debug, Default, Deserialize)]
pub struct AppsQuery {
    #[serde(default)]
    pub apps: String,
    #[serde(default)]
    pub keys: String,
    #[serde(default)]
    pub edit_app: String,
    #[serde(default)]
    pub edit_webhook: String,
}

/// One of the page's forms. Scopes and event types are one checkbox each (a form sends a list
/// as repeated names, which this decoding does not take).
#[derive(Debug, Default, Deserialize)]
pub struct AppsForm {
    #[serde(default)]
    pub csrf: String,
    /// `app_create`, `app_update`, `app_rotate`, `app_enable`, `app_disable`, `app_delete`,
    /// `key_create`, `key_enable`, `key_disable`, `key_delete`, `webhook_create`,
    /// `webhook_update`, `webhook_delete`, `webhook_test`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub app_name: String,
    #[serde(default)]
    pub app_type: String,
    #[serde(default)]
    pub algorithm: String,
    #[serde(default)]
    pub public_key: String,
    /// One a line.
    #[serde(default)]
    pub redirect_uris: String,
    #[serde(default)]
    pub scope_openid: String,
    #[serde(default)]
    pub scope_profile: String,
    #[serde(default)]
    pub scope_email: String,
    #[serde(default)]
    pub scope_groups: String,
    #[serde(default)]
    pub scope_quota: String,
    #[serde(default)]
    pub scope_offline_access: String,
    #[serde(default)]
    pub trusted: String,
    #[serde(default)]
    pub access_key_id: String,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub webhook_id: String,
    #[serde(default)]
    pub url: String,
    /// `yes`: the edited webhook delivers.
    #[serde(default)]
    pub enabled: String,
    /// `yes` if the edited webhook delivered when its form was shown: only a change of the
    /// box is sent, so saving other fields keeps why a webhook was disabled.
    #[serde(default)]
    pub was_enabled: String,
    #[serde(default)]
    pub confirm: String,
    /// Every other field: the event types' checkboxes (`type_<event type>=yes`).
    #[serde(flatten)]
    pub ticked: HashMap<String, String>,
}

fn non_empty(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

impl AppsForm {
    fn scope_ticked(&self, scope: &str) -> bool {
        let value = match scope {
            "openid" => &self.scope_openid,
            "profile" => &self.scope_profile,
            "email" => &self.scope_email,
            "groups" => &self.scope_groups,
            "quota" => &self.scope_quota,
            "offline_access" => &self.scope_offline_access,
            _ => return false,
        };
        value == "yes"
    }

    /// The redirect URIs, one a line.
    fn redirect_uri_lines(&self) -> Vec<String> {
        self.redirect_uris
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn ticked_scopes(&self) -> Vec<String> {
        KNOWN_SCOPES
            .iter()
            .filter(|s| self.scope_ticked(s))
            .map(|s| (*s).to_owned())
            .collect()
    }

    /// The event types ticked; none is every type. A name the page never offers is kept, for
    /// the service to refuse.
    fn event_types(&self) -> Vec<String> {
        let mut types: Vec<String> = self
            .ticked
            .iter()
            .filter(|(_, value)| value.as_str() == "yes")
            .filter_map(|(name, _)| name.strip_prefix("type_"))
            .map(str::to_owned)
            .collect();
        types.sort();
        types
    }

    /// The `app/create` this form is. Code-flow settings go only with a code-flow kind, the
    /// key only with a JWT app (the service refuses any other mix, by field).
    pub fn new_app(&self) -> NewAppSpec {
        let code_flow = self.app_type != "ServerSide";
        let uris = self.redirect_uri_lines();
        let scopes = self.ticked_scopes();
        NewAppSpec {
            client_id: None,
            app_name: self.app_name.trim().to_owned(),
            app_type: Some(self.app_type.clone()),
            algorithm: non_empty(&self.algorithm),
            public_key: self.public_key.trim().to_owned(),
            redirect_uris: (code_flow || !uris.is_empty()).then_some(uris),
            scopes: (code_flow && !scopes.is_empty()).then_some(scopes),
            trusted: Some(self.trusted == "yes"),
        }
    }

    /// The `app/update` the edit form is: name, trust, and the settings of the app's kind
    /// (`app_type`, which the form carries as the page showed it): redirect URIs and scopes
    /// (none ticked: the app may ask for any) for a code-flow app, key and algorithm for a
    /// JWT app.
    pub fn app_changes(&self) -> AppChanges {
        let code_flow = self.app_type != "ServerSide";
        AppChanges {
            app_name: Some(self.app_name.trim().to_owned()),
            trusted: Some(self.trusted == "yes"),
            redirect_uris: code_flow.then(|| self.redirect_uri_lines()),
            scopes: code_flow.then(|| self.ticked_scopes()),
            public_key: (!code_flow).then(|| self.public_key.trim().to_owned()),
            algorithm: non_empty(&self.algorithm).filter(|_| !code_flow),
            ..AppChanges::default()
        }
    }

    /// The webhook the create form is.
    pub fn webhook(&self) -> WebhookSpec {
        WebhookSpec {
            url: Some(self.url.trim().to_owned()),
            event_types: Some(self.event_types()),
            description: Some(self.description.trim().to_owned()),
            enabled: None,
        }
    }

    /// The `webhook/update` the edit form is: delivery is switched only when its box changed.
    pub fn webhook_changes(&self) -> WebhookSpec {
        let enabled = self.enabled == "yes";
        WebhookSpec {
            enabled: (enabled != (self.was_enabled == "yes")).then_some(enabled),
            ..self.webhook()
        }
    }

    /// The form an error concerns: `app`, `key`, `webhook` for the create forms, `row` for an
    /// action on a listed item.
    fn form_name(&self) -> &'static str {
        match self.action.as_str() {
            "app_create" => "app",
            "app_update" => "edit-app",
            "key_create" => "key",
            "webhook_create" => "webhook",
            "webhook_update" => "edit-webhook",
            _ => "row",
        }
    }

    /// The listed item a row action is on.
    fn target(&self) -> &str {
        match self.action.split('_').next() {
            Some("app") => &self.client_id,
            Some("key") => &self.access_key_id,
            _ => &self.webhook_id,
        }
    }
}

/// A secret shown once: what it belongs to and the secret.
pub struct ShownSecret {
    pub label: &'static str,
    pub id: String,
    pub secret: String,
}

/// An app as a row of the page.
pub struct AppRowShown {
    pub info: AppInfo,
    pub created: String,
}

pub struct KeyRowShown {
    pub key: AccessKey,
    pub created: String,
}

/// Each of `known` with whether it is ticked, for a list of checkboxes.
fn checks(known: &[&'static str], ticked: impl Fn(&str) -> bool) -> Vec<(&'static str, bool)> {
    known.iter().map(|k| (*k, ticked(k))).collect()
}

/// The edit form of an app: as it is, or as sent after a refusal.
pub struct AppEdit {
    pub client_id: String,
    /// The app's kind: which settings the form has.
    pub kind: &'static str,
    pub app_name: String,
    /// One a line.
    pub redirect_uris: String,
    pub scopes: Vec<(&'static str, bool)>,
    pub trusted: bool,
    pub public_key: String,
    pub algorithm: String,
}

impl AppEdit {
    fn of(info: &AppInfo) -> Self {
        AppEdit {
            client_id: info.app.client_id.clone(),
            kind: info.kind.as_str(),
            app_name: info.app.app_name.clone(),
            redirect_uris: info.redirect_uris.join("\n"),
            scopes: checks(&KNOWN_SCOPES, |s| info.scopes.iter().any(|t| t == s)),
            trusted: info.app.trusted,
            public_key: info.app.public_key.clone(),
            algorithm: info.app.algorithm.clone(),
        }
    }

    fn sent(info: &AppInfo, form: &AppsForm) -> Self {
        AppEdit {
            client_id: info.app.client_id.clone(),
            kind: info.kind.as_str(),
            app_name: form.app_name.clone(),
            redirect_uris: form.redirect_uris.clone(),
            scopes: checks(&KNOWN_SCOPES, |s| form.scope_ticked(s)),
            trusted: form.trusted == "yes",
            public_key: form.public_key.clone(),
            algorithm: form.algorithm.clone(),
        }
    }
}

/// The edit form of a webhook: as it is, or as sent after a refusal.
pub struct WebhookEdit {
    pub webhook_id: String,
    pub url: String,
    pub description: String,
    pub types: Vec<(&'static str, bool)>,
    pub enabled: bool,
    /// Whether it delivers now.
    pub was_enabled: bool,
}

impl WebhookEdit {
    fn of(hook: &Webhook) -> Self {
        WebhookEdit {
            webhook_id: hook.webhook_id.clone(),
            url: hook.url.clone(),
            description: hook.description.clone(),
            types: checks(EVENT_TYPES, |t| hook.event_types.iter().any(|h| h == t)),
            enabled: hook.enabled,
            was_enabled: hook.enabled,
        }
    }

    fn sent(hook: &Webhook, form: &AppsForm) -> Self {
        let ticked = form.event_types();
        WebhookEdit {
            webhook_id: hook.webhook_id.clone(),
            url: form.url.clone(),
            description: form.description.clone(),
            types: checks(EVENT_TYPES, |t| ticked.iter().any(|h| h == t)),
            enabled: form.enabled == "yes",
            was_enabled: hook.enabled,
        }
    }
}

#[derive(Template)]
#[template(path = "console/apps.html")]
struct AppsPage<'a> {
    op: &'a Operator,
    ct: &'static ConsoleTexts,
    /// `None`: the operator may not manage apps (not a superadmin).
    apps: Option<Vec<AppRowShown>>,
    apps_next: Option<String>,
    keys: Vec<KeyRowShown>,
    keys_next: Option<String>,
    /// Not the first page of a list: a link back to the first.
    paged: bool,
    webhooks: Vec<Webhook>,
    shown: Option<ShownSecret>,
    /// A webhook test's outcome: the webhook, whether it was delivered, what to say.
    tested: Option<(String, bool, String)>,
    /// What was sent, after a refusal (never a secret).
    form: AppsForm,
    scopes: Vec<(&'static str, bool)>,
    /// The new webhook form's event types.
    webhook_types: Vec<(&'static str, bool)>,
    app_types: [&'static str; 4],
    edit_app: Option<AppEdit>,
    edit_webhook: Option<WebhookEdit>,
    error: String,
    error_field: String,
    error_form: String,
    error_target: String,
}

impl AppsPage<'_> {
    /// The link that shows the page with `id`'s edit form (`key`: `edit_app`, `edit_webhook`).
    fn edit_link(&self, key: &str, id: &str) -> String {
        let query = serde_urlencoded::to_string([(key, id)]).unwrap_or_default();
        let anchor = key.replace('_', "-");
        format!("/console/apps?{query}#{anchor}")
    }
}

/// What happened to a form, for the page shown after it.
#[derive(Default)]
struct Outcome {
    shown: Option<ShownSecret>,
    tested: Option<(String, bool, String)>,
    failed: Option<Error>,
}

/// `GET /console/apps`.
pub async fn show(
    State(app): State<AppState>,
    op: Operator,
    Query(query): Query<AppsQuery>,
) -> Response {
    render(&app, &op, &query, AppsForm::default(), Outcome::default()).await
}

fn next_link(query: &AppsQuery, list: &str, next_marker: &str) -> Option<String> {
    if next_marker.is_empty() {
        return None;
    }
    let (apps, keys) = match list {
        "apps" => (next_marker, query.keys.as_str()),
        _ => (query.apps.as_str(), next_marker),
    };
    let pairs: Vec<_> = [("apps", apps), ("keys", keys)]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    Some(serde_urlencoded::to_string(pairs).unwrap_or_default())
}

async fn render(
    app: &AppState,
    op: &Operator,
    query: &AppsQuery,
    form: AppsForm,
    outcome: Outcome,
) -> Response {
    let s = &app.services;
    // Access keys and webhooks are the admins'; a group admin is refused here, as the API
    // refuses it.
    let keys = match s
        .list_access_keys(
            &op.actor,
            None,
            Some(PAGE),
            non_empty(&query.keys).as_deref(),
        )
        .await
    {
        Ok(page) => page,
        Err(e) => return op.failed(&e),
    };
    let webhooks = match s.list_webhooks(&op.actor).await {
        Ok(list) => list,
        Err(e) => return op.failed(&e),
    };
    let (apps, apps_next) = match s
        .list_apps(&op.actor, Some(PAGE), non_empty(&query.apps).as_deref())
        .await
    {
        Ok(page) => (
            Some(
                page.items
                    .into_iter()
                    .map(|info| AppRowShown {
                        created: iso8601_ms(info.app.created_at),
                        info,
                    })
                    .collect(),
            ),
            next_link(query, "apps", &page.next_marker),
        ),
        Err(Error::Forbidden(_)) => (None, None),
        Err(e) => return op.failed(&e),
    };
    let status = if outcome.failed.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (error, error_field, error_form, error_target) = match &outcome.failed {
        Some(e) => (
            op.ct.sentence(e),
            ConsoleTexts::field_of(e).unwrap_or("").to_owned(),
            // An item that is not there (gone, or another domain's) has no row to
            // show the sentence next to: the page says it.
            match (form.form_name(), e) {
                ("row" | "edit-app" | "edit-webhook", Error::NotFound(_)) => "page".to_owned(),
                (name, _) => name.to_owned(),
            },
            form.target().to_owned(),
        ),
        None => Default::default(),
    };
    let (edit_app, edit_webhook) = match edit_forms(app, op, query, &form).await {
        Ok(edits) => edits,
        Err(e) => return op.failed(&e),
    };
    // An edit form's values are shown in it, not in the create forms.
    let form = if edit_app.is_some() || edit_webhook.is_some() {
        AppsForm::default()
    } else {
        form
    };
    let scopes = checks(&KNOWN_SCOPES, |s| form.scope_ticked(s));
    let ticked = form.event_types();
    let webhook_types = checks(EVENT_TYPES, |t| ticked.iter().any(|h| h == t));
    html(
        status,
        AppsPage {
            op,
            ct: op.ct,
            apps,
            apps_next,
            keys_next: next_link(query, "keys", &keys.next_marker),
            paged: !query.apps.is_empty() || !query.keys.is_empty(),
            keys: keys
                .items
                .into_iter()
                .map(|key| KeyRowShown {
                    created: iso8601_ms(key.created_at),
                    key,
                })
                .collect(),
            webhooks,
            shown: outcome.shown,
            tested: outcome.tested,
            form,
            scopes,
            webhook_types,
            app_types: APP_TYPES,
            edit_app,
            edit_webhook,
            error,
            error_field,
            error_form,
            error_target,
        },
    )
}

/// The edit forms the query asks for (through the API's reads, so an admin is refused an
/// app's, and another domain's app or webhook is not found); after a refused edit, with the
/// values sent.
async fn edit_forms(
    app: &AppState,
    op: &Operator,
    query: &AppsQuery,
    form: &AppsForm,
) -> Result<(Option<AppEdit>, Option<WebhookEdit>), Error> {
    let s = &app.services;
    let edit_app = match non_empty(&query.edit_app) {
        Some(id) => {
            let info = s.get_app(&op.actor, &id).await?;
            Some(if form.action == "app_update" {
                AppEdit::sent(&info, form)
            } else {
                AppEdit::of(&info)
            })
        }
        None => None,
    };
    let edit_webhook = match non_empty(&query.edit_webhook) {
        Some(id) => {
            let hook = s.get_webhook(&op.actor, &id).await?;
            Some(if form.action == "webhook_update" {
                WebhookEdit::sent(&hook, form)
            } else {
                WebhookEdit::of(&hook)
            })
        }
        None => None,
    };
    Ok((edit_app, edit_webhook))
}

/// `POST /console/apps/action`.
pub async fn action(
    State(app): State<AppState>,
    op: Operator,
    Form(form): Form<AppsForm>,
) -> Response {
    if let Some(refused) = op.page.check_form(&form.csrf) {
        return refused;
    }
    let s = &app.services;
    let actor = &op.actor;
    let ct = op.ct;
    let confirmed = || {
        if form.confirm == "yes" {
            Ok(())
        } else {
            Err(Error::missing("confirm"))
        }
    };
    let client_id = form.client_id.trim();
    let app_change =
        |changes: AppChanges| async move { s.update_app(actor, client_id, changes).await };
    let done: Result<Outcome, Error> = match form.action.as_str() {
        "app_create" => s
            .create_app(actor, form.new_app())
            .await
            .map(|made| Outcome {
                shown: made.client_secret.map(|secret| ShownSecret {
                    label: ct.client_secret,
                    id: made.app.client_id.clone(),
                    secret,
                }),
                ..Outcome::default()
            }),
        "app_update" => app_change(form.app_changes())
            .await
            .map(|_| Outcome::default()),
        "app_rotate" => app_change(AppChanges {
            rotate_secret: Some(true),
            ..AppChanges::default()
        })
        .await
        .map(|changed| Outcome {
            shown: changed.client_secret.map(|secret| ShownSecret {
                label: ct.client_secret,
                id: changed.app.client_id.clone(),
                secret,
            }),
            ..Outcome::default()
        }),
        "app_enable" | "app_disable" => app_change(AppChanges {
            status: Some(
                if form.action == "app_enable" {
                    "enabled"
                } else {
                    "disabled"
                }
                .into(),
            ),
            ..AppChanges::default()
        })
        .await
        .map(|_| Outcome::default()),
        "app_delete" => match confirmed() {
            Ok(()) => s
                .delete_app(actor, client_id)
                .await
                .map(|()| Outcome::default()),
            Err(e) => Err(e),
        },
        "key_create" => s
            .create_access_key(
                actor,
                non_empty(&form.user_id),
                non_empty(&form.description),
            )
            .await
            .map(|issued| Outcome {
                shown: Some(ShownSecret {
                    label: ct.access_key_secret,
                    id: issued.key.access_key_id,
                    secret: issued.secret,
                }),
                ..Outcome::default()
            }),
        "key_enable" | "key_disable" => {
            let status = if form.action == "key_enable" {
                AccessKeyStatus::Enabled
            } else {
                AccessKeyStatus::Disabled
            };
            s.update_access_key(actor, form.access_key_id.trim(), status)
                .await
                .map(|_| Outcome::default())
        }
        "key_delete" => match confirmed() {
            Ok(()) => s
                .delete_access_key(actor, form.access_key_id.trim())
                .await
                .map(|()| Outcome::default()),
            Err(e) => Err(e),
        },
        "webhook_create" => s
            .create_webhook(actor, form.webhook())
            .await
            .map(|(hook, secret)| Outcome {
                shown: Some(ShownSecret {
                    label: ct.webhook_secret,
                    id: hook.webhook_id,
                    secret,
                }),
                ..Outcome::default()
            }),
        "webhook_update" => s
            .update_webhook(actor, form.webhook_id.trim(), form.webhook_changes())
            .await
            .map(|_| Outcome::default()),
        "webhook_delete" => match confirmed() {
            Ok(()) => s
                .delete_webhook(actor, form.webhook_id.trim())
                .await
                .map(|()| Outcome::default()),
            Err(e) => Err(e),
        },
        "webhook_test" => s
            .test_webhook(actor, form.webhook_id.trim())
            .await
            .map(|sent| {
                let said = if sent.delivered {
                    format!("{} (HTTP {})", ct.test_delivered, sent.status_code)
                } else if sent.status_code > 0 {
                    format!("{} (HTTP {})", ct.test_failed, sent.status_code)
                } else {
                    ct.test_failed.to_owned()
                };
                Outcome {
                    tested: Some((form.webhook_id.trim().to_owned(), sent.delivered, said)),
                    ..Outcome::default()
                }
            }),
        _ => Err(Error::param(ParamProblem::Invalid, "action")),
    };
    match done {
        Ok(outcome) if outcome.shown.is_some() || outcome.tested.is_some() => {
            render(
                &app,
                &op,
                &AppsQuery::default(),
                AppsForm::default(),
                outcome,
            )
            .await
        }
        Ok(_) => Redirect::to("/console/apps").into_response(),
        Err(
            e @ (Error::InvalidParameter { .. }
            | Error::Conflict(_)
            | Error::AlreadyExists(_)
            | Error::NotFound(_)),
        ) => {
            let query = refused_edit(&form, &e);
            let outcome = Outcome {
                failed: Some(e),
                ..Outcome::default()
            };
            render(&app, &op, &query, form, outcome).await
        }
        Err(e) => op.failed(&e),
    }
}

/// The page after a refused form: a refused edit shows its form again, unless what it edits
/// is not there (the page then says so).
fn refused_edit(form: &AppsForm, e: &Error) -> AppsQuery {
    let id = |field: &str| field.trim().to_owned();
    match (form.action.as_str(), e) {
        (_, Error::NotFound(_)) => AppsQuery::default(),
        ("app_update", _) => AppsQuery {
            edit_app: id(&form.client_id),
            ..AppsQuery::default()
        },
        ("webhook_update", _) => AppsQuery {
            edit_webhook: id(&form.webhook_id),
            ..AppsQuery::default()
        },
        _ => AppsQuery::default(),
    }
}
