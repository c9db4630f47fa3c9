//! One connection: read messages, answer each, keep who is bound. Malformed input ends the
//! connection with a notice of disconnection (protocol error), never a panic.

use crate::audit::Trail;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{Sink, SinkExt, StreamExt};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapBindCred, LdapBindResponse, LdapExtendedRequest, LdapExtendedResponse, LdapMsg, LdapOp,
    LdapPasswordModifyRequest, LdapResult, LdapResultCode,
};
use ldap3_proto::simple::DisconnectionNotice;
use ldap3_proto::LdapCodec;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::Framed;

use super::entries::Node;
use super::{search, Shared, PASSWORD_MODIFY_OID, START_TLS_OID, WHOAMI_OID};
use crate::error::{AuthProblem, Error};
use crate::service::tokens::CallKind;
use crate::service::Actor;

/// Who is bound on a connection, and where it comes from.
pub(crate) struct Session {
    pub shared: Arc<Shared>,
    pub actor: Option<Actor>,
    pub peer: String,
}

/// How a run of messages ended.
enum Ending {
    Closed,
    /// The client asked for StartTLS (answered once the handshake can start).
    StartTls(i32),
}

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn codec() -> LdapCodec {
    LdapCodec::new(Some(super::MAX_MESSAGE_BYTES), Some(super::MAX_BER_DEPTH))
}

/// Refuses a connection over the cap: on plain LDAP with a notice of disconnection (`busy`,
/// RFC 4511 §4.4.1) the client can read; LDAPS is closed before its handshake (no secret
/// material is spent on a connection that will not be served).
pub(crate) async fn refuse_busy(socket: tokio::net::TcpStream, ldaps: bool) {
    if ldaps {
        return;
    }
    let mut framed = Framed::new(socket, codec());
    let notice = DisconnectionNotice::gen_response(LdapResultCode::Busy, "too many connections");
    let _ = tokio::time::timeout(HANDSHAKE_TIMEOUT, framed.send(notice)).await;
}

pub(crate) async fn serve_connection(
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    ldaps: bool,
) {
    let mut session = Session {
        shared: shared.clone(),
        actor: None,
        peer: peer.ip().to_string(),
    };
    let acceptor = shared.tls.clone();
    if ldaps {
        let Some(acceptor) = acceptor else { return };
        if let Ok(Ok(stream)) =
            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await
        {
            let mut framed = Framed::new(stream, codec());
            serve_messages(&mut framed, &mut session, false).await;
        }
        return;
    }
    let mut framed = Framed::new(socket, codec());
    let ending = serve_messages(&mut framed, &mut session, acceptor.is_some()).await;
    let (Ending::StartTls(msgid), Some(acceptor)) = (ending, acceptor) else {
        return;
    };
    let answer = extended_answer(msgid, LdapResultCode::Success, "", None, None);
    if framed.send(answer).await.is_err() {
        return;
    }
    let parts = framed.into_parts();
    // Anything sent after the request but before the handshake would be read in the clear.
    if !parts.read_buf.is_empty() {
        return;
    }
    if let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(parts.io)).await
    {
        let mut framed = Framed::new(stream, codec());
        serve_messages(&mut framed, &mut session, false).await;
    }
}

async fn serve_messages<S>(
    framed: &mut Framed<S, LdapCodec>,
    session: &mut Session,
    can_start_tls: bool,
) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        // An idle connection is closed; a client reconnects when it needs to.
        let idle_timeout = session.shared.idle_timeout;
        let Ok(Some(message)) = tokio::time::timeout(idle_timeout, framed.next()).await else {
            return Ending::Closed;
        };
        let message = match message {
            Ok(m) => m,
            Err(_) => {
                let notice =
                    DisconnectionNotice::gen_response(LdapResultCode::ProtocolError, "malformed");
                let _ = framed.send(notice).await;
                return Ending::Closed;
            }
        };
        let msgid = message.msgid;
        if let LdapOp::ExtendedRequest(req) = &message.op {
            if req.name == START_TLS_OID {
                if !can_start_tls {
                    let answer = extended_answer(
                        msgid,
                        LdapResultCode::UnwillingToPerform,
                        "StartTLS is not available on this connection",
                        None,
                        None,
                    );
                    if framed.send(answer).await.is_err() {
                        return Ending::Closed;
                    }
                    continue;
                }
                return Ending::StartTls(msgid);
            }
        }
        match session.answer(message, framed).await {
            Ok(true) => {}
            Ok(false) | Err(_) => return Ending::Closed,
        }
    }
}

/// The answer to an operation in its own response type.
pub(crate) fn done(msgid: i32, op: &LdapOp, code: LdapResultCode, message: &str) -> LdapMsg {
    let res = LdapResult {
        code,
        matcheddn: String::new(),
        message: message.to_owned(),
        referral: Vec::new(),
    };
    let op = match op {
        LdapOp::BindRequest(_) => LdapOp::BindResponse(LdapBindResponse {
            res,
            saslcreds: None,
        }),
        LdapOp::SearchRequest(_) => LdapOp::SearchResultDone(res),
        LdapOp::ModifyRequest(_) => LdapOp::ModifyResponse(res),
        LdapOp::AddRequest(_) => LdapOp::AddResponse(res),
        LdapOp::DelRequest(_) => LdapOp::DelResponse(res),
        LdapOp::ModifyDNRequest(_) => LdapOp::ModifyDNResponse(res),
        LdapOp::CompareRequest(_) => LdapOp::CompareResult(res),
        _ => LdapOp::ExtendedResponse(LdapExtendedResponse {
            res,
            name: None,
            value: None,
        }),
    };
    LdapMsg {
        msgid,
        op,
        ctrl: Vec::new(),
    }
}

fn extended_answer(
    msgid: i32,
    code: LdapResultCode,
    message: &str,
    name: Option<&str>,
    value: Option<Vec<u8>>,
) -> LdapMsg {
    LdapMsg {
        msgid,
        op: LdapOp::ExtendedResponse(LdapExtendedResponse {
            res: LdapResult {
                code,
                matcheddn: String::new(),
                message: message.to_owned(),
                referral: Vec::new(),
            },
            name: name.map(str::to_owned),
            value,
        }),
        ctrl: Vec::new(),
    }
}

/// The one mapping of Roster's errors to LDAP result codes; never an internal detail.
pub(crate) fn result_of(error: &Error) -> (LdapResultCode, String) {
    match error {
        Error::Unauthorized(_) => (
            LdapResultCode::InvalidCredentials,
            "invalid credentials".into(),
        ),
        Error::TooManyRequests(seconds) => (
            LdapResultCode::InvalidCredentials,
            format!("too many failed attempts: locked for {seconds} s"),
        ),
        Error::Forbidden(message) => (LdapResultCode::InsufficentAccessRights, message.clone()),
        Error::NotFound(_) => (LdapResultCode::NoSuchObject, "no such object".into()),
        Error::InvalidParameter { .. } => (LdapResultCode::UnwillingToPerform, error.to_string()),
        Error::Internal(_) => (LdapResultCode::Other, "internal error".into()),
        _ => (LdapResultCode::UnwillingToPerform, error.to_string()),
    }
}

/// Whether a message carries a control marked critical that the operation does not serve.
fn unserved_critical_control(message: &LdapMsg) -> bool {
    message.ctrl.iter().any(|control| match control {
        LdapControl::SimplePagedResults { .. } => !matches!(message.op, LdapOp::SearchRequest(_)),
        LdapControl::Unknown { criticality, .. }
        | LdapControl::ManageDsaIT { criticality }
        | LdapControl::PasswordPolicyRequest { criticality }
        | LdapControl::SearchOptions { criticality, .. }
        | LdapControl::ShowDeleted { criticality }
        | LdapControl::SdFlags { criticality, .. }
        | LdapControl::ExtendedDn { criticality, .. }
        | LdapControl::SyncRequest { criticality, .. } => *criticality,
        _ => false,
    })
}

impl Session {
    /// Answers one message; `false` when the connection is to end.
    async fn answer<W>(&mut self, message: LdapMsg, out: &mut W) -> Result<bool, std::io::Error>
    where
        W: Sink<LdapMsg, Error = std::io::Error> + Unpin,
    {
        let msgid = message.msgid;
        if matches!(message.op, LdapOp::UnbindRequest) {
            return Ok(false);
        }
        if matches!(message.op, LdapOp::AbandonRequest(_)) {
            // Searches are answered before the next message is read: nothing to abandon.
            return Ok(true);
        }
        if unserved_critical_control(&message) {
            let answer = done(
                msgid,
                &message.op,
                LdapResultCode::UnavailableCriticalExtension,
                "a critical control is not supported",
            );
            out.send(answer).await?;
            return Ok(true);
        }
        let answer = match &message.op {
            LdapOp::BindRequest(bind) => {
                let (code, text) = match &bind.cred {
                    LdapBindCred::Simple(password) if bind.version == 3 => {
                        self.bind(&bind.dn, password).await
                    }
                    LdapBindCred::Simple(_) => {
                        (LdapResultCode::ProtocolError, "LDAPv3 only".into())
                    }
                    _ => (
                        LdapResultCode::AuthMethodNotSupported,
                        "simple bind only".into(),
                    ),
                };
                done(msgid, &message.op, code, &text)
            }
            LdapOp::SearchRequest(request) => {
                return search::run(self, msgid, request, &message.ctrl, out)
                    .await
                    .map(|()| true);
            }
            LdapOp::ExtendedRequest(request) => self.extended(msgid, request).await,
            LdapOp::ModifyRequest(_)
            | LdapOp::AddRequest(_)
            | LdapOp::DelRequest(_)
            | LdapOp::ModifyDNRequest(_)
            | LdapOp::CompareRequest(_) => done(
                msgid,
                &message.op,
                LdapResultCode::UnwillingToPerform,
                "the directory is read-only over LDAP",
            ),
            _ => {
                let notice =
                    DisconnectionNotice::gen_response(LdapResultCode::ProtocolError, "unexpected");
                out.send(notice).await?;
                return Ok(false);
            }
        };
        out.send(answer).await?;
        Ok(true)
    }

    /// Runs a service call with a new audit trail, as the HTTP layer runs a request: records
    /// it leaves pending (a refused attempt) are written, marked with its error.
    pub async fn traced<T, F>(&self, call: impl FnOnce(Trail) -> F) -> crate::error::Result<T>
    where
        F: Future<Output = crate::error::Result<T>>,
    {
        let services = &self.shared.services;
        let request_id = crate::ids::random_hex(16).to_uppercase();
        let trail = Trail::new(request_id, self.peer.clone(), services.clock.clone());
        let output = call(trail.clone()).await;
        let failure = output.as_ref().err().map(crate::error::Error::audit_code);
        crate::audit::write_leftovers(services.store.as_ref(), &trail, failure.as_deref()).await;
        output
    }

    /// A simple bind: an empty DN and password is anonymous; `uid=<name>,ou=people,<base>`
    /// binds the user of that domain with that id, or else with that logon identity; anything
    /// that is not a DN of the tree is a logon identity of the default domain.
    async fn bind(&mut self, dn: &str, password: &str) -> (LdapResultCode, String) {
        self.actor = None;
        if dn.is_empty() && password.is_empty() {
            return (LdapResultCode::Success, String::new());
        }
        if password.is_empty() {
            // RFC 4513 §5.1.2: an unauthenticated bind; refused rather than mistaken for one.
            return (
                LdapResultCode::UnwillingToPerform,
                "unauthenticated bind refused".into(),
            );
        }
        let tree = &self.shared.tree;
        let services = self.shared.services.clone();
        // As every API call but the password change: refused while the password must change.
        let kind = CallKind::Ordinary;
        let (domain_id, outcome) = match tree.parse(dn) {
            Some(Node::User(domain, name)) => {
                let (domain_id, name) = (&domain, &name);
                let outcome = self
                    .traced(|trail| async move {
                        services
                            .authenticate_user_or_identity(&trail, domain_id, name, password, kind)
                            .await
                    })
                    .await;
                (domain, outcome)
            }
            Some(_) => {
                return (
                    LdapResultCode::InvalidCredentials,
                    "invalid credentials".into(),
                )
            }
            None => {
                let domain = tree.default_domain().to_owned();
                let domain_id = &domain;
                let outcome = self
                    .traced(|trail| async move {
                        services
                            .authenticate_with_password(&trail, domain_id, dn, password, kind)
                            .await
                    })
                    .await;
                (domain, outcome)
            }
        };
        match outcome {
            Ok(actor) => {
                tracing::info!(target: "roster::access", domain_id, user_id = actor.user_id.as_str(), "LDAP bind");
                self.actor = Some(actor);
                (LdapResultCode::Success, String::new())
            }
            Err(e) => result_of(&e),
        }
    }

    async fn extended(&mut self, msgid: i32, request: &LdapExtendedRequest) -> LdapMsg {
        match request.name.as_str() {
            WHOAMI_OID => {
                let value = match &self.actor {
                    Some(actor) => format!(
                        "dn:{}",
                        self.shared.tree.user_dn(&actor.domain_id, &actor.user_id)
                    ),
                    None => String::new(),
                };
                extended_answer(
                    msgid,
                    LdapResultCode::Success,
                    "",
                    None,
                    Some(value.into_bytes()),
                )
            }
            PASSWORD_MODIFY_OID => {
                let (code, text) = self.password_modify(request).await;
                extended_answer(msgid, code, &text, None, None)
            }
            _ => extended_answer(
                msgid,
                LdapResultCode::ProtocolError,
                "unsupported extended operation",
                None,
                None,
            ),
        }
    }

    /// RFC 3062 for the bound user's own password, through the API's change-password rule.
    async fn password_modify(&mut self, request: &LdapExtendedRequest) -> (LdapResultCode, String) {
        let Some(actor) = self.actor.clone() else {
            return (LdapResultCode::InsufficentAccessRights, "bind first".into());
        };
        let Ok(modify) = LdapPasswordModifyRequest::try_from(request) else {
            return (LdapResultCode::ProtocolError, "malformed request".into());
        };
        if let Some(identity) = &modify.user_identity {
            let own = self.shared.tree.user_dn(&actor.domain_id, &actor.user_id);
            let names_self = super::entries::normalize_dn(identity)
                == super::entries::normalize_dn(&own)
                || identity == &actor.user_id;
            if !names_self {
                return (
                    LdapResultCode::InsufficentAccessRights,
                    "only one's own password".into(),
                );
            }
        }
        let Some(new_password) = modify.new_password else {
            return (
                LdapResultCode::UnwillingToPerform,
                "a new password is required (none is generated)".into(),
            );
        };
        let services = self.shared.services.clone();
        let changed = self
            .traced(|trail| async move {
                let actor = actor.in_request(trail);
                let old_password = modify.old_password.as_deref();
                services
                    .change_password(&actor, old_password, &new_password)
                    .await
            })
            .await;
        match changed {
            Ok(()) => (LdapResultCode::Success, String::new()),
            Err(Error::InvalidParameter { .. }) => (
                LdapResultCode::ConstraintViolation,
                "the old password does not match, or the new one breaks the password rules".into(),
            ),
            Err(Error::Unauthorized(AuthProblem::InvalidCredentials)) => (
                LdapResultCode::InvalidCredentials,
                "invalid credentials".into(),
            ),
            Err(e) => result_of(&e),
        }
    }
}
