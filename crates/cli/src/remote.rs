//! The session of the commands that talk to a running server through `roster-client`
//! (`login`, `logout`, and what `user`, `group`, `member`, `drive` and `import` share). The
//! session (server, tokens) is kept in `<config dir>/credentials.json`, readable by its owner
//! only.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use roster_client::api;
use roster_client::Client;
use serde::{Deserialize, Serialize};

/// A drive size (`10G`, `-1`): read as the import file reads it.
pub use roster_server::users_csv::parse_size;

/// What `roster login` stores.
#[derive(Serialize, Deserialize)]
pub struct Session {
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
pub fn client() -> anyhow::Result<(Client, Session)> {
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
pub fn keep_renewed(client: &Client, mut session: Session) -> anyhow::Result<()> {
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
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        anyhow::bail!("the server URL needs http:// or https:// (got {server})");
    }
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

/// Prints items as an aligned table, or with `--json` as JSON (one document a line).
pub fn print_items<T: Serialize>(
    items: &[T],
    json: bool,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<()> {
    if json {
        for item in items {
            println!("{}", serde_json::to_string(item)?);
        }
    } else {
        print_table(header, items.iter().map(row));
    }
    Ok(())
}

/// Prints rows under a header, each column as wide as its widest cell.
pub fn print_table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) {
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

/// An enum argument by its wire name (`enabled`, `group`, ...).
pub fn wire_enum<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> anyhow::Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| anyhow!("{text:?} is not a valid {what}"))
}
