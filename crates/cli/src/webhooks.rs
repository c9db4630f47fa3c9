//! `roster webhook ...`: the domain's webhooks (admin), their test call, dead letters,
//! redelivery and delivery log.

use clap::Subcommand;
use roster_client::api::webhooks::{self, DeadLetter, DeliveryAttempt, Webhook, WebhookIdRequest};
use roster_client::Client;

use crate::remote::{client, keep_renewed, print_items};

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Register a webhook; prints its signing secret (whsec_...), shown only this once.
    #[command(
        after_help = "Examples:\n  roster webhook create --url https://drive.example.com/roster-events\n  roster webhook create --url https://hooks.example.com/x --event-type user.created --event-type user.deleted"
    )]
    Create {
        #[arg(long)]
        url: String,
        /// An event type to deliver (repeat it); none: every type.
        #[arg(long = "event-type")]
        event_types: Vec<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// List the domain's webhooks.
    #[command(after_help = "Example:\n  roster webhook list --json")]
    List,
    /// Show a webhook (never its secret).
    #[command(after_help = "Example:\n  roster webhook get <webhook_id>")]
    Get { webhook_id: String },
    /// Change a webhook's URL, event types or description; enable or disable it.
    #[command(
        after_help = "Examples:\n  roster webhook update <webhook_id> --event-type user.created\n  roster webhook update <webhook_id> --all-types\n  roster webhook update <webhook_id> --enable"
    )]
    Update {
        webhook_id: String,
        #[arg(long)]
        url: Option<String>,
        /// The event types to deliver from now on (repeat it).
        #[arg(long = "event-type", conflicts_with = "all_types")]
        event_types: Vec<String>,
        /// Deliver every event type.
        #[arg(long)]
        all_types: bool,
        #[arg(long)]
        description: Option<String>,
        /// Enable it (also one Roster disabled after failures).
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        #[arg(long)]
        disable: bool,
    },
    /// Delete a webhook.
    #[command(after_help = "Example:\n  roster webhook delete <webhook_id>")]
    Delete { webhook_id: String },
    /// Send one signed webhook.test event now and show how it went.
    #[command(after_help = "Example:\n  roster webhook test <webhook_id>")]
    Test { webhook_id: String },
    /// The deliveries given up after the retry window.
    #[command(after_help = "Example:\n  roster webhook dead-letters <webhook_id>")]
    DeadLetters { webhook_id: String },
    /// Queue dead letters again: all of them, or the events named.
    #[command(
        after_help = "Examples:\n  roster webhook redeliver <webhook_id>\n  roster webhook redeliver <webhook_id> --event-id <event_id>"
    )]
    Redeliver {
        webhook_id: String,
        #[arg(long = "event-id")]
        event_ids: Vec<String>,
    },
    /// The delivery log, newest first.
    #[command(after_help = "Example:\n  roster webhook deliveries <webhook_id> --limit 20")]
    Deliveries {
        webhook_id: String,
        /// 1..100.
        #[arg(long)]
        limit: Option<i64>,
    },
}

fn print_webhooks(items: &[Webhook], json: bool) -> anyhow::Result<()> {
    print_items(
        items,
        json,
        &["WEBHOOK_ID", "URL", "EVENT_TYPES", "ENABLED", "DESCRIPTION"],
        |w: &Webhook| {
            let types = if w.event_types.is_empty() {
                "*".to_owned()
            } else {
                w.event_types.join(",")
            };
            vec![
                w.webhook_id.clone(),
                w.url.clone(),
                types,
                w.enabled.to_string(),
                w.description.clone(),
            ]
        },
    )
}

/// Runs a `roster webhook` command.
pub async fn webhook(command: WebhookCommand, json: bool) -> anyhow::Result<()> {
    let (client, session) = client()?;
    run(&client, command, json).await?;
    keep_renewed(&client, session)
}

async fn run(client: &Client, command: WebhookCommand, json: bool) -> anyhow::Result<()> {
    let id = |webhook_id: String| WebhookIdRequest { webhook_id };
    match command {
        WebhookCommand::Create {
            url,
            event_types,
            description,
        } => {
            let request = webhooks::CreateWebhookRequest {
                url,
                event_types: (!event_types.is_empty()).then_some(event_types),
                description,
            };
            let created = client.create_webhook(&request).await?;
            if json {
                println!("{}", serde_json::to_string(&created)?);
            } else {
                print_webhooks(std::slice::from_ref(&created.webhook), false)?;
                println!("secret: {}", created.secret);
                println!("(shown only now: keep it to verify the deliveries' signatures)");
            }
        }
        WebhookCommand::List => print_webhooks(&client.list_webhooks().await?.items, json)?,
        WebhookCommand::Get { webhook_id } => {
            print_webhooks(&[client.get_webhook(&id(webhook_id)).await?], json)?
        }
        WebhookCommand::Update {
            webhook_id,
            url,
            event_types,
            all_types,
            description,
            enable,
            disable,
        } => {
            let event_types = match (all_types, event_types.is_empty()) {
                (true, _) => Some(Vec::new()),
                (false, false) => Some(event_types),
                (false, true) => None,
            };
            let request = webhooks::UpdateWebhookRequest {
                webhook_id,
                url,
                event_types,
                description,
                enabled: (enable || disable).then_some(enable),
            };
            print_webhooks(&[client.update_webhook(&request).await?], json)?
        }
        WebhookCommand::Delete { webhook_id } => {
            client.delete_webhook(&id(webhook_id.clone())).await?;
            println!("deleted webhook {webhook_id}");
        }
        WebhookCommand::Test { webhook_id } => {
            let outcome = client.test_webhook(&id(webhook_id)).await?;
            if json {
                println!("{}", serde_json::to_string(&outcome)?);
            } else if outcome.delivered {
                println!(
                    "delivered: answered {} in {} ms",
                    outcome.status_code, outcome.latency_ms
                );
            } else {
                println!(
                    "not delivered: {} (status {}, {} ms)",
                    outcome.error, outcome.status_code, outcome.latency_ms
                );
            }
        }
        WebhookCommand::DeadLetters { webhook_id } => print_items(
            &client.list_dead_letters(&id(webhook_id)).await?.items,
            json,
            &[
                "EVENT_ID",
                "OBJECT_ID",
                "ATTEMPTS",
                "LAST_STATUS",
                "LAST_ERROR",
            ],
            |d: &DeadLetter| {
                vec![
                    d.event_id.clone(),
                    d.object_id.clone(),
                    d.attempts.to_string(),
                    d.last_status.to_string(),
                    d.last_error.clone(),
                ]
            },
        )?,
        WebhookCommand::Redeliver {
            webhook_id,
            event_ids,
        } => {
            let request = webhooks::RedeliverRequest {
                webhook_id,
                event_ids: (!event_ids.is_empty()).then_some(event_ids),
            };
            let answer = client.redeliver(&request).await?;
            if json {
                println!("{}", serde_json::to_string(&answer)?);
            } else {
                println!("queued {} dead letters again", answer.redelivered);
            }
        }
        WebhookCommand::Deliveries { webhook_id, limit } => {
            let request = webhooks::ListDeliveriesRequest { webhook_id, limit };
            print_items(
                &client.list_deliveries(&request).await?.items,
                json,
                &[
                    "TIME",
                    "EVENT_ID",
                    "ATTEMPT",
                    "STATUS",
                    "LATENCY_MS",
                    "ERROR",
                ],
                |a: &DeliveryAttempt| {
                    vec![
                        a.time.clone(),
                        a.event_id.clone(),
                        a.attempt.to_string(),
                        a.status_code.to_string(),
                        a.latency_ms.to_string(),
                        a.error.clone(),
                    ]
                },
            )?
        }
    }
    Ok(())
}
