//! `roster group ...` and `roster member ...`: the group tree and its members.

use clap::{Args, Subcommand};
use roster_client::api::{self, Group, MemberType};

use crate::remote::{client, keep_renewed, print_items, print_table};

#[derive(Subcommand)]
pub enum GroupCommand {
    /// Create a group, at the top or under `--parent`.
    #[command(
        after_help = "Examples:\n  roster group create Engineering\n  roster group create Backend --parent <group_id> --description 'API team'"
    )]
    Create {
        name: String,
        #[arg(long)]
        parent: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// A root group, never placed under another.
        #[arg(long)]
        root: bool,
    },
    /// Show a group.
    #[command(after_help = "Example:\n  roster group get <group_id> --json")]
    Get { group_id: String },
    /// Rename, describe or move a group (`--parent ''` moves it to the top).
    #[command(
        after_help = "Examples:\n  roster group update <group_id> --name Platform\n  roster group update <group_id> --parent <other_group_id>"
    )]
    Update {
        group_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        parent: Option<String>,
    },
    /// Delete a group (refused while it has subgroups).
    #[command(after_help = "Example:\n  roster group delete <group_id>")]
    Delete { group_id: String },
    /// List every group.
    #[command(after_help = "Examples:\n  roster group list\n  roster group list --json")]
    List,
    /// Search groups: prefix of the name, or a piece of it with `--fuzzy`.
    #[command(
        after_help = "Examples:\n  roster group search Eng\n  roster group search ineer --fuzzy"
    )]
    Search {
        text: String,
        #[arg(long)]
        fuzzy: bool,
    },
}

#[derive(Subcommand)]
pub enum MemberCommand {
    /// Add a user to a group (or, with `--group`, place a group under it).
    #[command(
        after_help = "Examples:\n  roster member add <group_id> bob\n  roster member add <group_id> <subgroup_id> --group"
    )]
    Add(Membership),
    /// Remove a user from a group (or, with `--group`, take a subgroup out).
    #[command(after_help = "Example:\n  roster member remove <group_id> bob")]
    Remove(Membership),
    /// List a group's direct members: subgroups, then users.
    #[command(
        after_help = "Examples:\n  roster member list <group_id>\n  roster member list <group_id> --json"
    )]
    List { group_id: String },
}

/// A group and one of its members.
#[derive(Args)]
pub struct Membership {
    group_id: String,
    member_id: String,
    /// The member is a group, not a user.
    #[arg(long)]
    group: bool,
}

impl Membership {
    fn request(&self) -> api::GroupMemberRequest {
        let member_type = if self.group {
            MemberType::Group
        } else {
            MemberType::User
        };
        api::GroupMemberRequest {
            group_id: self.group_id.clone(),
            member_type,
            member_id: self.member_id.clone(),
        }
    }
}

/// Runs a `roster group` command.
pub async fn group(command: GroupCommand, json: bool) -> anyhow::Result<()> {
    let (client, session) = client()?;
    let groups = match command {
        GroupCommand::Create {
            name,
            parent,
            description,
            root,
        } => {
            let request = api::CreateGroupRequest {
                group_name: name,
                parent_group_id: parent,
                description,
                is_root: root.then_some(true),
            };
            vec![client.create_group(&request).await?]
        }
        GroupCommand::Get { group_id } => {
            vec![client.get_group(&api::GroupIdRequest { group_id }).await?]
        }
        GroupCommand::Update {
            group_id,
            name,
            description,
            parent,
        } => {
            let request = api::UpdateGroupRequest {
                group_id,
                group_name: name,
                description,
                parent_group_id: parent,
            };
            vec![client.update_group(&request).await?]
        }
        GroupCommand::Delete { group_id } => {
            let request = api::GroupIdRequest {
                group_id: group_id.clone(),
            };
            client.delete_group(&request).await?;
            keep_renewed(&client, session)?;
            println!("deleted group {group_id}");
            return Ok(());
        }
        GroupCommand::List => client.all_groups(&Default::default()).await?,
        GroupCommand::Search { text, fuzzy } => {
            let mut request = api::SearchGroupRequest::default();
            if fuzzy {
                request.group_name_for_fuzzy = Some(text);
            } else {
                request.group_name = Some(text);
            }
            client.search_all_groups(&request).await?
        }
    };
    keep_renewed(&client, session)?;
    print_items(
        &groups,
        json,
        &["GROUP_ID", "NAME", "PARENT", "DESCRIPTION"],
        |g: &Group| {
            vec![
                g.group_id.clone(),
                g.group_name.clone(),
                g.parent_group_id.clone(),
                g.description.clone(),
            ]
        },
    )
}

/// Runs a `roster member` command.
pub async fn member(command: MemberCommand, json: bool) -> anyhow::Result<()> {
    let (client, session) = client()?;
    match command {
        MemberCommand::Add(member) => {
            client.add_group_member(&member.request()).await?;
            println!("added {} to {}", member.member_id, member.group_id);
        }
        MemberCommand::Remove(member) => {
            client.remove_group_member(&member.request()).await?;
            println!("removed {} from {}", member.member_id, member.group_id);
        }
        MemberCommand::List { group_id } => {
            let request = api::ListGroupMemberRequest {
                group_id,
                ..Default::default()
            };
            let members = client.all_group_members(&request).await?;
            if json {
                for group in &members.groups {
                    let line = serde_json::json!({"member_type": "group", "group": group});
                    println!("{line}");
                }
                for user in &members.users {
                    let line = serde_json::json!({"member_type": "user", "user": user});
                    println!("{line}");
                }
            } else {
                let groups = members
                    .groups
                    .iter()
                    .map(|g| vec!["group".into(), g.group_id.clone(), g.group_name.clone()]);
                let users = members.users.iter().map(|u| {
                    let u = &u.user;
                    vec!["user".into(), u.user_id.clone(), u.nick_name.clone()]
                });
                print_table(&["TYPE", "ID", "NAME"], groups.chain(users));
            }
        }
    }
    keep_renewed(&client, session)
}
