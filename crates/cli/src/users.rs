//! `roster user ...`: the users of the server you are logged in to.

use anyhow::anyhow;
use clap::Subcommand;
use roster_client::api::{self, Role, User, UserStatus};

use crate::remote::{client, keep_renewed, print_items};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Show a user (yourself without an id).
    #[command(after_help = "Examples:\n  roster user get\n  roster user get bob --json")]
    Get { user_id: Option<String> },
    /// List every user, in user_id order.
    #[command(after_help = "Examples:\n  roster user list\n  roster user list --json | jq .email")]
    List,
    /// Search users: prefix of nick name, or a piece of it with `--fuzzy`.
    #[command(
        after_help = "Examples:\n  roster user search Bob\n  roster user search tabl --fuzzy"
    )]
    Search {
        text: String,
        #[arg(long)]
        fuzzy: bool,
    },
    /// Create a user.
    #[command(
        after_help = "Examples:\n  roster user create bob --nick-name 'Bobby Tables' --email bob@example.com\n  roster user create carol --role admin"
    )]
    Create {
        user_id: String,
        #[arg(long)]
        nick_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// user, admin or superadmin.
        #[arg(long)]
        role: Option<String>,
    },
    /// Change a user: only the options given change.
    #[command(
        after_help = "Examples:\n  roster user update bob --nick-name Robert\n  roster user update bob --status disabled"
    )]
    Update {
        user_id: String,
        #[arg(long)]
        nick_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// user, admin or superadmin.
        #[arg(long)]
        role: Option<String>,
        /// enabled or disabled.
        #[arg(long)]
        status: Option<String>,
    },
    /// Delete a user (with its accounts, memberships and personal drives).
    #[command(after_help = "Example:\n  roster user delete bob")]
    Delete { user_id: String },
}

fn role(text: Option<String>) -> anyhow::Result<Option<Role>> {
    text.map(|r| {
        Role::parse(&r).ok_or_else(|| anyhow!("unknown role {r} (user, admin, superadmin)"))
    })
    .transpose()
}

fn status(text: Option<String>) -> anyhow::Result<Option<UserStatus>> {
    text.map(|s| match s.as_str() {
        "enabled" => Ok(UserStatus::Enabled),
        "disabled" => Ok(UserStatus::Disabled),
        _ => Err(anyhow!("unknown status {s} (enabled, disabled)")),
    })
    .transpose()
}

/// Runs a `roster user` command; prints a table, or JSON (`--json`: one document a line).
pub async fn user(command: UserCommand, json: bool) -> anyhow::Result<()> {
    let (client, session) = client()?;
    let users = match command {
        UserCommand::Get { user_id } => {
            vec![client.get_user(&api::GetUserRequest { user_id }).await?]
        }
        UserCommand::List => client.list_all_users().await?,
        UserCommand::Search { text, fuzzy } => {
            let mut request = api::SearchUserRequest::default();
            if fuzzy {
                request.nick_name_for_fuzzy = Some(text);
            } else {
                request.nick_name = Some(text);
            }
            client.search_all_users(&request).await?
        }
        UserCommand::Create {
            user_id,
            nick_name,
            email,
            role: role_name,
        } => {
            let request = api::CreateUserRequest {
                user_id,
                nick_name,
                email,
                role: role(role_name)?,
                ..Default::default()
            };
            vec![client.create_user(&request).await?]
        }
        UserCommand::Update {
            user_id,
            nick_name,
            email,
            phone,
            description,
            role: role_name,
            status: status_name,
        } => {
            let request = api::UpdateUserRequest {
                user_id,
                nick_name,
                email,
                phone,
                description,
                role: role(role_name)?,
                status: status(status_name)?,
                ..Default::default()
            };
            vec![client.update_user(&request).await?]
        }
        UserCommand::Delete { user_id } => {
            let request = api::DeleteUserRequest {
                user_id: user_id.clone(),
            };
            client.delete_user(&request).await?;
            keep_renewed(&client, session)?;
            println!("deleted user {user_id}");
            return Ok(());
        }
    };
    keep_renewed(&client, session)?;
    print_items(
        &users,
        json,
        &["USER_ID", "NICK_NAME", "ROLE", "STATUS", "EMAIL"],
        |u: &User| {
            vec![
                u.user_id.clone(),
                u.nick_name.clone(),
                u.role.as_str().to_owned(),
                u.status.as_str().to_owned(),
                u.email.clone(),
            ]
        },
    )
}
