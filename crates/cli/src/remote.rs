//! Commands that talk to a running server through `roster-client`: `login`, `logout` and the
//! `user` commands. The session (server, tokens) is kept in `<config dir>/credentials.json`,
//! readable by its owner only.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::Subcommand;
use roster_client::api::{self, Role};
use roster_client::Client;
use serde::{Deserialize, Serialize};

/// What `roster login` stores.
#[derive(Serialize, Deserialize)]
struct Session {
    server: String,
    access_token: String,
    refresh_token: String,
}

/// `$ROSTER_CONFIG_DIR`, else `$XDG_CONFIG_HOME/roster`, else `~/.config/roster`.
fn config_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("ROSTER_CONFIG_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(dir).join("roster"));
    }
    let home = std::env::var_os("HOME").ok_or_else(|| anyhow!("no HOME to keep the session in"))?;
    Ok(PathBuf::from(home).join(".config").join("roster"))
}

fn session_path() -> anyhow::Result<PathBuf> {
    Ok(config_dir()?.join("credentials.json"))
}

fn save(session: &Session) -> anyhow::Result<()> {
    let path = session_path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(serde_json::to_string(session)?.as_bytes())?;
    Ok(())
}

/// The client of the saved session.
fn client() -> anyhow::Result<(Client, Session)> {
    let path = session_path()?;
    let text = std::fs::read_to_string(&path)
        .map_err(|_| anyhow!("not logged in: run `roster login --server URL` first"))?;
    let session: Session = serde_json::from_str(&text).context("reading the saved session")?;
    let client = Client::new(&session.server);
    client.set_access_token(Some(session.access_token.clone()));
    client.set_refresh_token(Some(session.refresh_token.clone()));
    Ok((client, session))
}

/// Saves tokens the client renewed on its own during a command.
fn keep_renewed(client: &Client, mut session: Session) -> anyhow::Result<()> {
    if let (Some(access), Some(refresh)) = (client.access_token(), client.refresh_token()) {
        if access != session.access_token {
            session.access_token = access;
            session.refresh_token = refresh;
            save(&session)?;
        }
    }
    Ok(())
}

/// Logs in (password from `ROSTER_PASSWORD`, else read from standard input) and saves the
/// session.
pub async fn login(server: String, username: String) -> anyhow::Result<()> {
    let password = match std::env::var("ROSTER_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            eprint!("password for {username}: ");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let client = Client::new(&server);
    let token = client
        .login(&username, &password)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    save(&Session {
        server,
        access_token: token.access_token,
        refresh_token: token.refresh_token,
    })?;
    println!(
        "logged in as {} ({}) in domain {}",
        token.user_id, token.role, token.domain_id
    );
    Ok(())
}

/// Revokes the saved refresh token and forgets the session.
pub async fn logout() -> anyhow::Result<()> {
    if let Ok((client, session)) = client() {
        let revoke = api::RevokeRequest {
            app_id: None,
            refresh_token: session.refresh_token,
        };
        // The session is forgotten even if the server cannot be reached.
        let _ = client.revoke(&revoke).await;
    }
    let path = session_path()?;
    if path.exists() {
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    }
    println!("logged out");
    Ok(())
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Show a user (yourself without an id).
    Get { user_id: Option<String> },
    /// List every user, in user_id order.
    List,
    /// Search users: prefix of nick name, or a piece of it with `--fuzzy`.
    Search {
        text: String,
        #[arg(long)]
        fuzzy: bool,
    },
    /// Create a user.
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
    /// Delete a user.
    Delete { user_id: String },
}

/// Runs a `roster user` command; prints a table, or JSON (`--json`: one document, or one a
/// line for lists).
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
            role,
        } => {
            let role = match role.as_deref() {
                None => None,
                Some(r) => Some(Role::parse(r).ok_or_else(|| anyhow!("unknown role {r}"))?),
            };
            let request = api::CreateUserRequest {
                user_id,
                nick_name,
                email,
                role,
                ..Default::default()
            };
            vec![client.create_user(&request).await?]
        }
        UserCommand::Delete { user_id } => {
            client
                .delete_user(&api::DeleteUserRequest {
                    user_id: user_id.clone(),
                })
                .await?;
            keep_renewed(&client, session)?;
            println!("deleted user {user_id}");
            return Ok(());
        }
    };
    keep_renewed(&client, session)?;
    if json {
        for user in &users {
            println!("{}", serde_json::to_string(user)?);
        }
    } else {
        print_table(
            &["USER_ID", "NICK_NAME", "ROLE", "STATUS", "EMAIL"],
            users.iter().map(|u| {
                vec![
                    u.user_id.clone(),
                    u.nick_name.clone(),
                    u.role.as_str().to_owned(),
                    u.status.as_str().to_owned(),
                    u.email.clone(),
                ]
            }),
        );
    }
    Ok(())
}

/// Prints rows under a header, each column as wide as its widest cell.
fn print_table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let rows: Vec<Vec<String>> = rows.collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row);
    }
}
