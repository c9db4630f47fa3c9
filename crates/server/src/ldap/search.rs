//! Search: the entries a base and scope cover, read in pages through the services and
//! streamed to the client; the Simple Paged Results cookie is the phase and Roster marker
//! to continue from.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::{Sink, SinkExt};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapMsg, LdapOp, LdapPartialAttribute, LdapResultCode, LdapSearchRequest,
    LdapSearchResultEntry, LdapSearchScope,
};

use super::entries::{normalize_dn, Entry, GroupFacts, Members, Node, GROUPS, PEOPLE};
use super::filter::{self, UserHints};
use super::session::{done, result_of, Session};
use crate::error::Error;
use crate::model::MemberListing;
use crate::service::directory::{directory_marker_after, DirectoryQuery};
use crate::service::groups::{group_marker_after, DirectoryScope};
use crate::service::{Actor, Page};

/// Users read per store page (one statement: the users with their numbers and groups): a
/// whole page of the largest paged search.
const USER_CHUNK: i64 = 1000;
/// Groups (and members) read per page (the API's largest).
const GROUP_CHUNK: i64 = 100;
/// Largest page a paged search answers.
const MAX_PAGE: usize = 1000;
/// Longest a search runs without a time limit of its own.
const MAX_SEARCH_TIME: Duration = Duration::from_secs(120);
/// Deepest group tree the in-chain rule follows.
const MAX_GROUP_DEPTH: usize = 64;
/// Most users a search reads when its filter has a substring term no index serves (on
/// `mobile`, `description`, a display-name piece under 3 characters...) and nothing else
/// narrows it: past this it ends with adminLimitExceeded rather than test a whole large
/// directory entry by entry.
pub const MAX_UNINDEXED_USERS: usize = 10_000;

/// What a search covers, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Base,
    People,
    Groups,
    /// Every user (of the one given).
    Users(Option<String>),
    /// Every group (or the one given).
    AllGroups(Option<String>),
}

fn phases(node: &Node, scope: &LdapSearchScope) -> Vec<Phase> {
    use LdapSearchScope::*;
    match (node, scope) {
        (Node::Base(_), Base) => vec![Phase::Base],
        (Node::Base(_), OneLevel) => vec![Phase::People, Phase::Groups],
        (Node::Base(_), _) => vec![
            Phase::Base,
            Phase::People,
            Phase::Groups,
            Phase::Users(None),
            Phase::AllGroups(None),
        ],
        (Node::People(_), Base) => vec![Phase::People],
        (Node::People(_), OneLevel) => vec![Phase::Users(None)],
        (Node::People(_), _) => vec![Phase::People, Phase::Users(None)],
        (Node::Groups(_), Base) => vec![Phase::Groups],
        (Node::Groups(_), OneLevel) => vec![Phase::AllGroups(None)],
        (Node::Groups(_), _) => vec![Phase::Groups, Phase::AllGroups(None)],
        (Node::User(_, user), Base | Subtree | Children) => vec![Phase::Users(Some(user.clone()))],
        (Node::Group(_, group), Base | Subtree | Children) => {
            vec![Phase::AllGroups(Some(group.clone()))]
        }
        _ => Vec::new(),
    }
}

/// Where a paged search stands: the phase to continue and the marker within it.
fn encode_cookie(phase: usize, marker: &str) -> Vec<u8> {
    format!("{phase}|{marker}").into_bytes()
}

fn decode_cookie(cookie: &[u8]) -> Option<(usize, String)> {
    let text = std::str::from_utf8(cookie).ok()?;
    let (phase, marker) = text.split_once('|')?;
    Some((phase.parse().ok()?, marker.to_owned()))
}

/// How a search stopped before its end.
enum Stop {
    /// The page is full; continue at this phase and marker.
    PageFull(usize, String),
    SizeLimit,
    TimeLimit,
    /// An unindexed filter read [`MAX_UNINDEXED_USERS`] users.
    Unindexed,
    Failed(Error),
    Io(std::io::Error),
}

struct Run<'a, W> {
    session: &'a Session,
    actor: &'a Actor,
    /// What part of the directory the caller reads (the services' rule).
    scope: DirectoryScope,
    msgid: i32,
    request: &'a LdapSearchRequest,
    out: &'a mut W,
    sent: usize,
    /// The page size, when paged.
    page: Option<usize>,
    deadline: Instant,
    /// Group parents read so far (for the in-chain rule).
    parents: HashMap<String, String>,
}

pub(crate) async fn run<W>(
    session: &Session,
    msgid: i32,
    request: &LdapSearchRequest,
    controls: &[LdapControl],
    out: &mut W,
) -> Result<(), std::io::Error>
where
    W: Sink<LdapMsg, Error = std::io::Error> + Unpin,
{
    let op = LdapOp::SearchRequest(request.clone());
    let fail = |code, text: &str| done(msgid, &op, code, text);
    if !filter::within_bounds(&request.filter) {
        return out
            .send(fail(LdapResultCode::AdminLimitExceeded, "filter too large"))
            .await;
    }
    let tree = &session.shared.tree;
    let Some(node) = tree.parse(&request.base) else {
        return out
            .send(fail(LdapResultCode::NoSuchObject, "no such object"))
            .await;
    };
    if node == Node::Root {
        if request.scope != LdapSearchScope::Base {
            return out.send(fail(LdapResultCode::Success, "")).await;
        }
        let entry = tree.root_dse(session.actor.as_ref().map(|a| a.domain_id.as_str()));
        if filter::matches(&request.filter, &entry, &HashSet::new()) {
            out.send(entry_message(
                msgid,
                entry,
                &request.attrs,
                request.typesonly,
            ))
            .await?;
        }
        return out.send(fail(LdapResultCode::Success, "")).await;
    }
    let Some(actor) = session.actor.as_ref() else {
        return out
            .send(fail(
                LdapResultCode::InsufficentAccessRights,
                "anonymous searches are refused: bind first",
            ))
            .await;
    };
    // Another domain's tree does not exist for this caller.
    if node.domain() != Some(actor.domain_id.as_str()) {
        return out
            .send(fail(LdapResultCode::NoSuchObject, "no such object"))
            .await;
    }
    let scope = match session.shared.services.directory_scope(actor).await {
        Ok(scope) => scope,
        Err(e) => {
            let (code, text) = result_of(&e);
            return out.send(fail(code, &text)).await;
        }
    };
    match entry_exists(session, actor, &scope, &node).await {
        Ok(true) => {}
        Ok(false) => {
            let matched = parent_dn(tree, &node);
            return out.send(no_such_object(msgid, matched)).await;
        }
        Err(e) => {
            let (code, text) = result_of(&e);
            return out.send(fail(code, &text)).await;
        }
    }
    let paged = controls.iter().find_map(|c| match c {
        LdapControl::SimplePagedResults { size, cookie } => Some((*size, cookie.clone())),
        _ => None,
    });
    let (start_phase, start_marker) = match &paged {
        Some((_, cookie)) if !cookie.is_empty() => match decode_cookie(cookie) {
            Some(position) => position,
            None => {
                return out
                    .send(fail(LdapResultCode::UnwillingToPerform, "invalid cookie"))
                    .await
            }
        },
        _ => (0, String::new()),
    };
    let page = match paged {
        // Size 0 abandons a paged search.
        Some((0, _)) => return out.send(paged_done(msgid, Vec::new())).await,
        Some((size, _)) => Some(usize::try_from(size).unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE)),
        None => None,
    };
    let time_limit = u64::try_from(request.timelimit)
        .ok()
        .filter(|t| *t > 0)
        .map_or(MAX_SEARCH_TIME, |t| {
            Duration::from_secs(t).min(MAX_SEARCH_TIME)
        });
    let mut run = Run {
        session,
        actor,
        scope,
        msgid,
        request,
        out,
        sent: 0,
        page,
        deadline: Instant::now() + time_limit,
        parents: HashMap::new(),
    };
    let phases = phases(&node, &request.scope);
    let mut stop = None;
    for (index, phase) in phases.iter().enumerate().skip(start_phase) {
        let marker = if index == start_phase {
            start_marker.as_str()
        } else {
            ""
        };
        if let Err(s) = run.phase(index, phase, marker).await {
            stop = Some(s);
            break;
        }
    }
    let message = match stop {
        None if page.is_some() => paged_done(msgid, Vec::new()),
        None => fail(LdapResultCode::Success, ""),
        Some(Stop::PageFull(phase, marker)) => paged_done(msgid, encode_cookie(phase, &marker)),
        Some(Stop::SizeLimit) => fail(LdapResultCode::SizeLimitExceeded, "size limit exceeded"),
        Some(Stop::TimeLimit) => fail(LdapResultCode::TimeLimitExceeded, "time limit exceeded"),
        Some(Stop::Unindexed) => fail(
            LdapResultCode::AdminLimitExceeded,
            "no index serves this substring filter: narrow it (uid, mail, cn or displayName \
             pieces of 3 characters or more, memberOf)",
        ),
        Some(Stop::Failed(e)) => {
            let (code, text) = result_of(&e);
            fail(code, &text)
        }
        Some(Stop::Io(e)) => return Err(e),
    };
    run.out.send(message).await
}

/// Whether the entry a search starts from exists for this caller: a user or group it may not
/// read does not (as another domain's tree does not).
async fn entry_exists(
    session: &Session,
    actor: &Actor,
    scope: &DirectoryScope,
    node: &Node,
) -> Result<bool, Error> {
    let services = &session.shared.services;
    let found = match (node, scope) {
        (Node::User(_, user), _) if user == &actor.user_id => {
            services.get_user(actor, Some(user)).await.map(|_| ())
        }
        (Node::User(_, user), DirectoryScope::Whole) => {
            services.get_user(actor, Some(user)).await.map(|_| ())
        }
        (Node::User(_, user), DirectoryScope::Subtrees(_)) => {
            let query = DirectoryQuery {
                user_ids: vec![user.clone()],
                ..DirectoryQuery::default()
            };
            let page = Page::parse(&actor.domain_id, Some(1), None)?;
            let (rows, _) = services
                .scoped_directory_entries(actor, query, &page)
                .await?;
            return Ok(!rows.is_empty());
        }
        (Node::Group(_, group), DirectoryScope::Whole) => {
            services.get_group(actor, group).await.map(|_| ())
        }
        (Node::Group(_, group), DirectoryScope::Subtrees(_)) => {
            return services.manages_group(actor, group).await;
        }
        (Node::User(..) | Node::Group(..), DirectoryScope::Own) => return Ok(false),
        _ => return Ok(true),
    };
    match found {
        Ok(()) => Ok(true),
        Err(Error::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The DN of the container above a user or group entry: the part of a missing DN that exists.
fn parent_dn(tree: &super::Tree, node: &Node) -> String {
    match node {
        Node::User(domain, _) => tree.people(domain),
        Node::Group(domain, _) => tree.groups(domain),
        _ => String::new(),
    }
}

/// `noSuchObject` (32) naming the closest entry that exists (RFC 4511 §4.1.9).
fn no_such_object(msgid: i32, matched: String) -> LdapMsg {
    LdapMsg {
        msgid,
        op: LdapOp::SearchResultDone(ldap3_proto::proto::LdapResult {
            code: LdapResultCode::NoSuchObject,
            matcheddn: matched,
            message: "no such object".to_owned(),
            referral: Vec::new(),
        }),
        ctrl: Vec::new(),
    }
}

fn paged_done(msgid: i32, cookie: Vec<u8>) -> LdapMsg {
    let mut message = LdapMsg {
        msgid,
        op: LdapOp::SearchResultDone(ldap3_proto::proto::LdapResult {
            code: LdapResultCode::Success,
            matcheddn: String::new(),
            message: String::new(),
            referral: Vec::new(),
        }),
        ctrl: Vec::new(),
    };
    message
        .ctrl
        .push(LdapControl::SimplePagedResults { size: 0, cookie });
    message
}

/// The answer's attributes: all user attributes for none or `*` (and `+`), none for `1.1`.
/// The entry's strings move into the message (no copy of its values).
fn entry_message(msgid: i32, entry: Entry, wanted: &[String], types_only: bool) -> LdapMsg {
    let all = wanted.is_empty() || wanted.iter().any(|a| a == "*" || a == "+");
    let attributes = entry
        .attrs
        .into_iter()
        .filter(|(name, _)| all || wanted.iter().any(|w| w.eq_ignore_ascii_case(name)))
        .map(|(name, values)| LdapPartialAttribute {
            atype: name.to_owned(),
            vals: if types_only {
                Vec::new()
            } else {
                values.into_iter().map(String::into_bytes).collect()
            },
        })
        .collect();
    LdapMsg {
        msgid,
        op: LdapOp::SearchResultEntry(LdapSearchResultEntry {
            dn: entry.dn,
            attributes,
        }),
        ctrl: Vec::new(),
    }
}

/// Whether the store narrows a user query by more than the domain: ids, a pattern on the id
/// or e-mail, a display-name piece (trigram index), a group.
fn is_narrowed(query: &DirectoryQuery) -> bool {
    !query.user_ids.is_empty()
        || query.id_or_email_like.is_some()
        || query.nick_name_contains.is_some()
        || query.direct_member_of.is_some()
        || !query.in_subtrees_of.is_empty()
}

/// Whether a search needs group members (asked for, or tested by the filter).
fn wants_members(request: &LdapSearchRequest) -> bool {
    let asked = request.attrs.is_empty()
        || request.attrs.iter().any(|a| {
            a == "*"
                || a.eq_ignore_ascii_case("member")
                || a.eq_ignore_ascii_case("uniqueMember")
                || a.eq_ignore_ascii_case("memberUid")
        });
    asked || {
        let text = format!("{:?}", request.filter).to_lowercase();
        text.contains("member\"") || text.contains("uniquemember") || text.contains("memberuid")
    }
}

impl<W> Run<'_, W>
where
    W: Sink<LdapMsg, Error = std::io::Error> + Unpin,
{
    fn tree(&self) -> &super::Tree {
        &self.session.shared.tree
    }

    fn services(&self) -> &crate::service::Services {
        &self.session.shared.services
    }

    /// Sends `entry` if it matches; stops at the size and time limits.
    async fn offer(&mut self, entry: Entry, chain: &HashSet<String>) -> Result<bool, Stop> {
        if Instant::now() > self.deadline {
            return Err(Stop::TimeLimit);
        }
        if !filter::matches(&self.request.filter, &entry, chain) {
            return Ok(false);
        }
        let size_limit = usize::try_from(self.request.sizelimit).unwrap_or(0);
        if size_limit > 0 && self.sent >= size_limit {
            return Err(Stop::SizeLimit);
        }
        let message = entry_message(
            self.msgid,
            entry,
            &self.request.attrs,
            self.request.typesonly,
        );
        // Buffered, not flushed: the codec writes out whenever its buffer fills, and the
        // search's final answer (always sent with `send`) flushes the rest. A flush per entry
        // was one write system call per entry.
        self.out.feed(message).await.map_err(Stop::Io)?;
        self.sent += 1;
        Ok(true)
    }

    fn page_full(&self) -> bool {
        self.page.is_some_and(|p| self.sent >= p)
    }

    async fn phase(&mut self, index: usize, phase: &Phase, marker: &str) -> Result<(), Stop> {
        let domain_id = self.actor.domain_id.clone();
        let none = HashSet::new();
        match phase {
            Phase::Base => {
                let entry = self.tree().base_entry(&domain_id);
                self.offer(entry, &none).await?;
            }
            Phase::People => {
                let entry = self.tree().container(&domain_id, PEOPLE);
                self.offer(entry, &none).await?;
            }
            Phase::Groups => {
                let entry = self.tree().container(&domain_id, GROUPS);
                self.offer(entry, &none).await?;
            }
            Phase::Users(only) => {
                let classes = self.tree().user_classes();
                if filter::may_match_class(&self.request.filter, &classes) {
                    return self.users(index, only.as_deref(), marker).await;
                }
            }
            Phase::AllGroups(only) => {
                let classes = self.tree().group_classes();
                if filter::may_match_class(&self.request.filter, &classes) {
                    return self.groups(index, only.as_deref(), marker).await;
                }
            }
        }
        // A paged search ends a page after a whole fixed entry, continuing with the next phase.
        if self.page_full() {
            return Err(Stop::PageFull(index + 1, String::new()));
        }
        Ok(())
    }

    /// The directory query for the users a filter can match, or `None` when it matches none.
    fn user_query(&self, only: Option<&str>) -> Option<DirectoryQuery> {
        let hints: UserHints = filter::user_hints(&self.request.filter);
        let mut query = DirectoryQuery::default();
        let domain_id = &self.actor.domain_id;
        let mut ids: Option<Vec<String>> = hints.user_ids;
        if let Some(user) = only {
            ids = match ids {
                Some(ids) if !ids.iter().any(|i| i == user) => return None,
                _ => Some(vec![user.to_owned()]),
            };
        }
        // An ordinary user reads its own entry only.
        if self.scope == DirectoryScope::Own {
            ids = match ids {
                Some(ids) if !ids.iter().any(|i| *i == self.actor.user_id) => return None,
                _ => Some(vec![self.actor.user_id.to_string()]),
            };
        }
        if let Some(ids) = ids {
            query.user_ids = ids;
        } else if let Some(pattern) = hints.id_or_email {
            query.id_or_email_like = Some(crate::service::directory::wildcard_pattern(&pattern));
        }
        if query.user_ids.is_empty() {
            query.nick_name_contains = hints.display_name_contains;
        }
        let group_of = |dn: &str| match self.tree().parse(dn) {
            Some(Node::Group(d, g)) if &d == domain_id => Some(g),
            _ => None,
        };
        if let Some(dn) = hints.member_of {
            query.direct_member_of = Some(group_of(&dn)?);
        }
        if let Some(dn) = hints.member_of_chain {
            query.in_subtrees_of = vec![group_of(&dn)?];
        }
        Some(query)
    }

    async fn users(&mut self, index: usize, only: Option<&str>, marker: &str) -> Result<(), Stop> {
        let Some(query) = self.user_query(only) else {
            return Ok(());
        };
        let services = self.services().clone();
        let own = only == Some(self.actor.user_id.as_str());
        if self.scope == DirectoryScope::Own || own {
            // An ordinary user reads its own entry only; anyone reads its own entry.
            if only.is_some_and(|user| user != self.actor.user_id) {
                return Ok(());
            }
            let own = services
                .own_directory_entry(self.actor)
                .await
                .map_err(Stop::Failed)?;
            let entry = self.tree().user_entry(&own);
            let chain = self.chain_of(&entry).await?;
            self.offer(entry, &chain).await?;
            return Ok(());
        }
        let reader = self.actor.clone();
        let needs_chain = format!("{:?}", self.request.filter).contains(filter::IN_CHAIN_OID);
        let bounded = filter::has_substring(&self.request.filter) && !is_narrowed(&query);
        let mut read = 0;
        let mut marker = marker.to_owned();
        loop {
            let page = Page::parse_limited(
                &self.actor.domain_id,
                Some(USER_CHUNK),
                Some(&marker),
                ("cookie", USER_CHUNK as u32, USER_CHUNK as u32),
            )
            .map_err(Stop::Failed)?;
            let (rows, next) = services
                .scoped_directory_entries(&reader, query.clone(), &page)
                .await
                .map_err(Stop::Failed)?;
            read += rows.len();
            if bounded && read > MAX_UNINDEXED_USERS {
                return Err(Stop::Unindexed);
            }
            for row in &rows {
                let entry = self.tree().user_entry(row);
                let chain = if needs_chain {
                    self.chain_of(&entry).await?
                } else {
                    HashSet::new()
                };
                self.offer(entry, &chain).await?;
                if self.page_full() {
                    let resume = directory_marker_after(&self.actor.domain_id, &row.user.user_id);
                    return Err(Stop::PageFull(index, resume));
                }
            }
            if next.is_empty() {
                return Ok(());
            }
            marker = next;
        }
    }

    /// The normalised DNs of every group an entry is in, directly or through the tree.
    async fn chain_of(&mut self, entry: &Entry) -> Result<HashSet<String>, Stop> {
        let mut chain = HashSet::new();
        let direct: Vec<String> = entry.values("memberOf").unwrap_or_default().to_vec();
        for dn in direct {
            let Some(Node::Group(_, mut group)) = self.tree().parse(&dn) else {
                continue;
            };
            for _ in 0..MAX_GROUP_DEPTH {
                if group.is_empty() {
                    break;
                }
                let dn = self.tree().group_dn(&self.actor.domain_id, &group);
                if !chain.insert(normalize_dn(&dn)) {
                    break;
                }
                group = self.parent_of(&group).await?;
            }
        }
        Ok(chain)
    }

    async fn parent_of(&mut self, group_id: &str) -> Result<String, Stop> {
        if let Some(parent) = self.parents.get(group_id) {
            return Ok(parent.clone());
        }
        let parent = match self.services().get_group(self.actor, group_id).await {
            Ok(group) => group.parent_group_id,
            Err(Error::NotFound(_)) => String::new(),
            Err(e) => return Err(Stop::Failed(e)),
        };
        self.parents.insert(group_id.to_owned(), parent.clone());
        Ok(parent)
    }

    async fn groups(&mut self, index: usize, only: Option<&str>, marker: &str) -> Result<(), Stop> {
        // Groups are the directory's structure: admins read them all, a group admin the
        // groups it manages.
        let subtree_only = match &self.scope {
            DirectoryScope::Whole => false,
            DirectoryScope::Subtrees(_) => true,
            DirectoryScope::Own => return Ok(()),
        };
        let services = self.services().clone();
        let with_members = wants_members(self.request);
        let needs_chain = format!("{:?}", self.request.filter).contains(filter::IN_CHAIN_OID);
        if let Some(group_id) = only {
            let group = match services.get_group(self.actor, group_id).await {
                Ok(g) => GroupFacts::from(g),
                Err(Error::NotFound(_)) => return Ok(()),
                Err(e) => return Err(Stop::Failed(e)),
            };
            let numbers = self.group_numbers(std::slice::from_ref(&group)).await?;
            return self
                .offer_group(&group, with_members, needs_chain, &numbers)
                .await;
        }
        let mut marker = marker.to_owned();
        loop {
            let request = crate::model::GroupSearch {
                limit: Some(GROUP_CHUNK),
                marker: Some(marker.clone()),
                ..Default::default()
            };
            let answer = services
                .search_groups(self.actor, request)
                .await
                .map_err(Stop::Failed)?;
            let mut groups: Vec<GroupFacts> =
                answer.items.into_iter().map(GroupFacts::from).collect();
            if subtree_only {
                // One statement for the page, not one check a group.
                let ids: Vec<String> = groups.iter().map(|g| g.group_id.clone()).collect();
                let managed = services
                    .managed_among(self.actor, &ids)
                    .await
                    .map_err(Stop::Failed)?;
                groups.retain(|g| managed.contains(&g.group_id));
            }
            let numbers = self.group_numbers(&groups).await?;
            for group in groups {
                self.offer_group(&group, with_members, needs_chain, &numbers)
                    .await?;
                if self.page_full() {
                    let resume = group_marker_after(&self.actor.domain_id, &group.group_id);
                    return Err(Stop::PageFull(index, resume));
                }
            }
            if answer.next_marker.is_empty() {
                return Ok(());
            }
            marker = answer.next_marker;
        }
    }

    /// The POSIX numbers of a page of groups; none read without POSIX attributes.
    async fn group_numbers(&self, groups: &[GroupFacts]) -> Result<HashMap<String, i64>, Stop> {
        if !self.tree().posix() {
            return Ok(HashMap::new());
        }
        let ids: Vec<String> = groups.iter().map(|g| g.group_id.clone()).collect();
        self.services()
            .group_numbers(self.actor, &ids)
            .await
            .map_err(Stop::Failed)
    }

    async fn offer_group(
        &mut self,
        group: &GroupFacts,
        with_members: bool,
        needs_chain: bool,
        numbers: &HashMap<String, i64>,
    ) -> Result<(), Stop> {
        let members = if with_members {
            Some(self.members_of(&group.group_id).await?)
        } else {
            None
        };
        let number = numbers.get(&group.group_id).copied();
        let entry = self.tree().group_entry(group, members, number);
        let chain = if needs_chain {
            self.chain_of(&entry).await?
        } else {
            HashSet::new()
        };
        self.offer(entry, &chain).await.map(|_| ())
    }

    /// A group's members: subgroups and users.
    async fn members_of(&mut self, group_id: &str) -> Result<Members, Stop> {
        let services = self.services().clone();
        let domain_id = self.actor.domain_id.clone();
        let mut members = Members::default();
        let mut marker = String::new();
        loop {
            if Instant::now() > self.deadline {
                return Err(Stop::TimeLimit);
            }
            let request = MemberListing {
                group_id: group_id.to_owned(),
                kind: None,
                limit: Some(GROUP_CHUNK),
                marker: Some(marker.clone()),
            };
            let answer = services
                .list_members(self.actor, request)
                .await
                .map_err(Stop::Failed)?;
            for sub in &answer.groups {
                let dn = self.tree().group_dn(&domain_id, &sub.group_id);
                members.dns.push(dn);
            }
            for user in &answer.users {
                let dn = self.tree().user_dn(&domain_id, &user.user.user_id);
                members.dns.push(dn);
                members.user_ids.push(user.user.user_id.clone());
            }
            if answer.next_marker.is_empty() {
                return Ok(members);
            }
            marker = answer.next_marker;
        }
    }
}
