//! Sending mail: through SMTP when `ROSTER_SMTP_URL` is set, else into the outbox table,
//! which admins read (`/v2/outbox/list`, `roster outbox`). Message bodies may carry secrets
//! (reset tokens): they are never logged.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::random_hex;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::store::mail::OutboxRow;
use crate::store::Store;

/// Where mail goes.
#[derive(Clone)]
pub struct Mailer {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    /// Dates the messages kept in the outbox.
    clock: Clock,
}

impl Mailer {
    /// A mailer for `smtp_url` (`smtp://`, `smtps://` or `smtp://...?tls=required`, with
    /// optional `user:password@`), or the outbox when there is none. `from` defaults to
    /// `roster@localhost`.
    pub fn new(smtp_url: Option<&str>, from: Option<&str>, clock: Clock) -> anyhow::Result<Mailer> {
        let smtp = smtp_url
            .map(|url| AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map(|b| b.build()))
            .transpose()
            .map_err(|e| anyhow::anyhow!("ROSTER_SMTP_URL is not a usable SMTP URL: {e}"))?;
        let from = from
            .unwrap_or("Roster <roster@localhost>")
            .parse()
            .map_err(|e| anyhow::anyhow!("ROSTER_SMTP_FROM is not a mailbox: {e}"))?;
        Ok(Mailer { smtp, from, clock })
    }

    /// Sends a message, or keeps it in the domain's outbox without SMTP or when the SMTP
    /// server refuses it (so that an admin can still pass it on). `superadmins_only` mail
    /// (to a superadmin) shows its body in the outbox to superadmins only.
    pub async fn send(
        &self,
        store: &dyn Store,
        domain_id: &str,
        to: &str,
        subject: &str,
        body: &str,
        superadmins_only: bool,
    ) -> Result<()> {
        if let Some(smtp) = &self.smtp {
            let recipient: Mailbox = to.parse().map_err(|_| Error::invalid("Email"))?;
            let message = Message::builder()
                .from(self.from.clone())
                .to(recipient)
                .subject(subject)
                .body(body.to_owned())
                .map_err(Error::internal)?;
            match smtp.send(message).await {
                Ok(_) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, "SMTP refused a message; it goes to the outbox")
                }
            }
        }
        store
            .push_outbox(OutboxRow {
                domain_id: domain_id.to_owned(),
                message_id: random_hex(16),
                recipient: to.to_owned(),
                subject: subject.to_owned(),
                body: body.to_owned(),
                created_at: self.clock.now_ms(),
                superadmins_only,
            })
            .await
    }
}
