//! `roster drive ...`: drives of users and groups, with their size quotas.

use clap::Subcommand;
use roster_client::api::drives::{self, Drive};

use crate::remote::{client, keep_renewed, parse_size, print_items, wire_enum};

#[derive(Subcommand)]
pub enum DriveCommand {
    /// Create a drive for a user (or, with `--owner-type group`, a group).
    #[command(
        after_help = "Examples:\n  roster drive create --owner bob --name 'Bob drive' --size 10G --default\n  roster drive create --owner <group_id> --owner-type group --name Team --size 1T"
    )]
    Create {
        #[arg(long)]
        owner: String,
        /// user or group.
        #[arg(long, default_value = "user")]
        owner_type: String,
        #[arg(long)]
        name: String,
        /// Bytes, or with K, M, G, T (powers of 1024); -1 for unlimited (the default).
        #[arg(long, allow_hyphen_values = true)]
        size: Option<String>,
        /// Make it the owner's default drive.
        #[arg(long)]
        default: bool,
        #[arg(long)]
        description: Option<String>,
    },
    /// Show a drive.
    #[command(after_help = "Example:\n  roster drive get <drive_id>")]
    Get { drive_id: String },
    /// Show a user's default drive (yours without an id).
    #[command(
        name = "default",
        after_help = "Examples:\n  roster drive default\n  roster drive default bob"
    )]
    DefaultOf { user_id: Option<String> },
    /// Change a drive's name, quota, status or description.
    #[command(
        after_help = "Examples:\n  roster drive update <drive_id> --size 20G\n  roster drive update <drive_id> --status disabled"
    )]
    Update {
        drive_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, allow_hyphen_values = true)]
        size: Option<String>,
        /// enabled or disabled.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a drive.
    #[command(after_help = "Example:\n  roster drive delete <drive_id>")]
    Delete { drive_id: String },
    /// List drives: all of the domain, or those of `--owner`.
    #[command(
        after_help = "Examples:\n  roster drive list\n  roster drive list --owner bob --json"
    )]
    List {
        #[arg(long)]
        owner: Option<String>,
        /// user or group (with `--owner`).
        #[arg(long)]
        owner_type: Option<String>,
    },
}

fn size(text: Option<String>) -> anyhow::Result<Option<i64>> {
    text.map(|s| parse_size(&s).map_err(anyhow::Error::msg))
        .transpose()
}

/// Runs a `roster drive` command.
pub async fn drive(command: DriveCommand, json: bool) -> anyhow::Result<()> {
    let (client, session) = client()?;
    let found = match command {
        DriveCommand::Create {
            owner,
            owner_type,
            name,
            size: total_size,
            default,
            description,
        } => {
            let request = drives::CreateDriveRequest {
                drive_name: name,
                owner,
                owner_type: wire_enum("owner type (user, group)", &owner_type)?,
                default: default.then_some(true),
                description,
                total_size: size(total_size)?,
                drive_type: None,
                status: None,
                subdomain_id: None,
            };
            vec![client.create_drive(&request).await?]
        }
        DriveCommand::Get { drive_id } => {
            vec![
                client
                    .get_drive(&drives::GetDriveRequest { drive_id })
                    .await?,
            ]
        }
        DriveCommand::DefaultOf { user_id } => {
            let request = drives::GetDefaultDriveRequest { user_id };
            vec![client.get_default_drive(&request).await?]
        }
        DriveCommand::Update {
            drive_id,
            name,
            size: total_size,
            status,
            description,
        } => {
            let request = drives::UpdateDriveRequest {
                drive_id,
                drive_name: name,
                total_size: size(total_size)?,
                status: status
                    .map(|s| wire_enum("drive status (enabled, disabled)", &s))
                    .transpose()?,
                description,
                owner: None,
            };
            vec![client.update_drive(&request).await?]
        }
        DriveCommand::Delete { drive_id } => {
            let request = drives::DeleteDriveRequest {
                drive_id: drive_id.clone(),
                force: None,
            };
            client.delete_drive(&request).await?;
            keep_renewed(&client, session)?;
            println!("deleted drive {drive_id}");
            return Ok(());
        }
        DriveCommand::List { owner, owner_type } => {
            let request = drives::ListDriveRequest {
                owner,
                owner_type: owner_type
                    .map(|t| wire_enum("owner type (user, group)", &t))
                    .transpose()?,
                ..Default::default()
            };
            client.all_drives(&request).await?
        }
    };
    keep_renewed(&client, session)?;
    print_items(
        &found,
        json,
        &[
            "DRIVE_ID",
            "NAME",
            "OWNER",
            "OWNER_TYPE",
            "TOTAL_SIZE",
            "STATUS",
        ],
        |d: &Drive| {
            vec![
                d.drive_id.clone(),
                d.drive_name.clone(),
                d.owner.clone(),
                d.owner_type.clone(),
                d.total_size.to_string(),
                d.status.clone(),
            ]
        },
    )
}
