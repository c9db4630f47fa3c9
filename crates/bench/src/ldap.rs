//! The LDAP gateway's scenarios: a client of its own over `ldap3_proto`'s codec (the one the
//! server decodes with), one connection per worker, one operation in flight at a time.

use futures_util::{SinkExt, StreamExt};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapBindCred, LdapBindRequest, LdapDerefAliases, LdapFilter, LdapMsg, LdapOp, LdapResultCode,
    LdapSearchRequest, LdapSearchScope,
};
use ldap3_proto::LdapCodec;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::seed::DOMAIN;

/// Entries a paged walk asks per page.
pub const WALK_PAGE: i64 = 1000;

/// The people container of the seeded domain.
pub fn people() -> String {
    format!("ou=people,dc={DOMAIN}")
}

/// A seeded user's DN.
pub fn user_dn(user_id: &str) -> String {
    format!("uid={user_id},{}", people())
}

/// One LDAP connection.
pub struct LdapClient {
    framed: Framed<TcpStream, LdapCodec>,
    next_id: i32,
    /// Where a paged walk stands (empty: at its start).
    cookie: Vec<u8>,
}

impl LdapClient {
    pub async fn connect(address: &str) -> Result<LdapClient, String> {
        let socket = TcpStream::connect(address)
            .await
            .map_err(|e| format!("LDAP connect: {e}"))?;
        socket.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(LdapClient {
            framed: Framed::new(socket, LdapCodec::new(None, None)),
            next_id: 0,
            cookie: Vec::new(),
        })
    }

    async fn send(&mut self, op: LdapOp, ctrl: Vec<LdapControl>) -> Result<i32, String> {
        self.next_id += 1;
        let msgid = self.next_id;
        self.framed
            .send(LdapMsg { msgid, op, ctrl })
            .await
            .map_err(|e| format!("LDAP send: {e}"))?;
        Ok(msgid)
    }

    async fn receive(&mut self) -> Result<LdapMsg, String> {
        match self.framed.next().await {
            Some(Ok(message)) => Ok(message),
            Some(Err(e)) => Err(format!("LDAP receive: {e}")),
            None => Err("LDAP connection closed".into()),
        }
    }

    /// A simple bind; `Err` unless it succeeds.
    pub async fn bind(&mut self, dn: &str, password: &str) -> Result<(), String> {
        let op = LdapOp::BindRequest(LdapBindRequest {
            version: 3,
            dn: dn.to_owned(),
            cred: LdapBindCred::Simple(password.to_owned()),
        });
        self.send(op, Vec::new()).await?;
        match self.receive().await?.op {
            LdapOp::BindResponse(r) if r.res.code == LdapResultCode::Success => Ok(()),
            other => Err(format!("bind: {other:?}")),
        }
    }

    /// A search; answers the entries received and the paged-results cookie, if any.
    async fn search(
        &mut self,
        filter: LdapFilter,
        scope: LdapSearchScope,
        ctrl: Vec<LdapControl>,
    ) -> Result<(usize, Option<Vec<u8>>), String> {
        let op = LdapOp::SearchRequest(LdapSearchRequest {
            base: people(),
            scope,
            aliases: LdapDerefAliases::Never,
            sizelimit: 0,
            timelimit: 0,
            typesonly: false,
            filter,
            attrs: Vec::new(),
        });
        self.send(op, ctrl).await?;
        let mut entries = 0;
        loop {
            let message = self.receive().await?;
            match message.op {
                LdapOp::SearchResultEntry(_) => entries += 1,
                LdapOp::SearchResultReference(_) => {}
                LdapOp::SearchResultDone(r) if r.code == LdapResultCode::Success => {
                    let cookie = message.ctrl.into_iter().find_map(|c| match c {
                        LdapControl::SimplePagedResults { cookie, .. } => Some(cookie),
                        _ => None,
                    });
                    return Ok((entries, cookie));
                }
                other => return Err(format!("search: {other:?}")),
            }
        }
    }

    /// `(uid=<user_id>)` under the people container: exactly one entry expected.
    pub async fn search_uid(&mut self, user_id: &str) -> Result<(), String> {
        let filter = LdapFilter::Equality("uid".into(), user_id.to_owned());
        let (entries, _) = self
            .search(filter, LdapSearchScope::Subtree, Vec::new())
            .await?;
        if entries == 1 {
            Ok(())
        } else {
            Err(format!("(uid={user_id}) answered {entries} entries"))
        }
    }

    /// The next page of a walk of every user (`(objectClass=inetOrgPerson)`, Simple Paged
    /// Results); back at the start after the last page. Answers the entries of the page.
    pub async fn walk_page(&mut self) -> Result<usize, String> {
        let filter = LdapFilter::Equality("objectClass".into(), "inetOrgPerson".into());
        let control = LdapControl::SimplePagedResults {
            size: WALK_PAGE,
            cookie: std::mem::take(&mut self.cookie),
        };
        let (entries, cookie) = self
            .search(filter, LdapSearchScope::OneLevel, vec![control])
            .await?;
        self.cookie = cookie.ok_or("no paged-results control in the answer")?;
        Ok(entries)
    }
}
