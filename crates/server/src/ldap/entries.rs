//! The one translation between LDAP and Roster's types: the tree's DNs, and the entries of
//! users, groups and the fixed containers. Everything else of the gateway speaks `Entry`.

use sha1::{Digest, Sha1};

use crate::model::GroupKind;
use crate::service::directory::DirectoryEntry;

pub const PEOPLE: &str = "people";
pub const GROUPS: &str = "groups";

/// Object classes of a user entry.
pub const USER_CLASSES: [&str; 4] = ["top", "person", "organizationalPerson", "inetOrgPerson"];
/// The object class POSIX attributes add to users (`--ldap-posix`).
pub const POSIX_CLASS: &str = "posixAccount";
/// Where POSIX ids start: `uidNumber` is this plus the user's number.
pub const POSIX_ID_BASE: i64 = 10_000;

/// Object classes of a group entry.
pub const GROUP_CLASSES: [&str; 3] = ["top", "groupOfUniqueNames", "groupOfNames"];
/// The object class POSIX attributes add to groups (`--ldap-posix`).
pub const POSIX_GROUP_CLASS: &str = "posixGroup";
/// Where POSIX group ids start: `gidNumber` is this plus the group's number, far above the
/// users' own ids (`POSIX_ID_BASE` plus a user number), so the two never meet.
pub const POSIX_GROUP_ID_BASE: i64 = 1_000_000_000;

/// A group's members as its entry shows them.
#[derive(Debug, Clone, Default)]
pub struct Members {
    /// DNs of its subgroups and users (`member`, `uniqueMember`).
    pub dns: Vec<String>,
    /// Ids of its users (`memberUid`, with POSIX attributes).
    pub user_ids: Vec<String>,
}

/// An entry as the gateway answers it: its DN and attributes in answer order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub dn: String,
    pub attrs: Vec<(&'static str, Vec<String>)>,
}

impl Entry {
    /// The values of `name` (any case); none when the entry lacks it.
    pub fn values(&self, name: &str) -> Option<&[String]> {
        self.attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// What a DN names in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// The root DSE (`""`).
    Root,
    /// A domain's base entry.
    Base(String),
    People(String),
    Groups(String),
    User(String, String),
    Group(String, String),
}

impl Node {
    pub fn domain(&self) -> Option<&str> {
        match self {
            Node::Root => None,
            Node::Base(d) | Node::People(d) | Node::Groups(d) => Some(d),
            Node::User(d, _) | Node::Group(d, _) => Some(d),
        }
    }
}

/// The tree's naming: the default domain may have its own base DN; every other domain is
/// `dc=<domain_id>`.
#[derive(Debug, Clone)]
pub struct Tree {
    default_domain: String,
    /// The default domain's base, normalised (see [`normalize_dn`]).
    default_base: String,
    /// Users carry POSIX attributes.
    posix: bool,
}

impl Tree {
    pub fn new(default_domain: &str, base_dn: Option<&str>, posix: bool) -> Tree {
        let base = base_dn
            .map(normalize_dn)
            .unwrap_or_else(|| format!("dc={}", default_domain.to_lowercase()));
        Tree {
            default_domain: default_domain.to_owned(),
            default_base: base,
            posix,
        }
    }

    /// The object classes of a user entry.
    pub fn user_classes(&self) -> Vec<&'static str> {
        let mut classes = USER_CLASSES.to_vec();
        if self.posix {
            classes.push(POSIX_CLASS);
        }
        classes
    }

    /// The object classes of a group entry.
    pub fn group_classes(&self) -> Vec<&'static str> {
        let mut classes = GROUP_CLASSES.to_vec();
        if self.posix {
            classes.push(POSIX_GROUP_CLASS);
        }
        classes
    }

    /// Whether entries carry POSIX attributes.
    pub fn posix(&self) -> bool {
        self.posix
    }

    pub fn default_domain(&self) -> &str {
        &self.default_domain
    }

    /// A domain's base DN.
    pub fn base(&self, domain_id: &str) -> String {
        if domain_id == self.default_domain {
            self.default_base.clone()
        } else {
            format!("dc={domain_id}")
        }
    }

    pub fn people(&self, domain_id: &str) -> String {
        format!("ou={PEOPLE},{}", self.base(domain_id))
    }

    pub fn groups(&self, domain_id: &str) -> String {
        format!("ou={GROUPS},{}", self.base(domain_id))
    }

    pub fn user_dn(&self, domain_id: &str, user_id: &str) -> String {
        format!("uid={},{}", escape_value(user_id), self.people(domain_id))
    }

    pub fn group_dn(&self, domain_id: &str, group_id: &str) -> String {
        format!("cn={},{}", escape_value(group_id), self.groups(domain_id))
    }

    /// What `dn` names, if it is in the tree (the domain may still not exist).
    pub fn parse(&self, dn: &str) -> Option<Node> {
        let rdns = split_dn(dn)?;
        if rdns.is_empty() {
            return Some(Node::Root);
        }
        // The longest suffix that is a domain's base.
        for cut in 0..rdns.len() {
            let suffix = rdns[cut..]
                .iter()
                .map(|(t, v)| format!("{t}={}", v.to_lowercase()))
                .collect::<Vec<_>>()
                .join(",");
            let domain = if suffix == self.default_base {
                self.default_domain.clone()
            } else if cut + 1 == rdns.len() && rdns[cut].0 == "dc" {
                rdns[cut].1.clone()
            } else {
                continue;
            };
            let below: Vec<(&str, &str)> = rdns[..cut]
                .iter()
                .map(|(t, v)| (t.as_str(), v.as_str()))
                .collect();
            return match below.as_slice() {
                [] => Some(Node::Base(domain)),
                [("ou", ou)] if ou.eq_ignore_ascii_case(PEOPLE) => Some(Node::People(domain)),
                [("ou", ou)] if ou.eq_ignore_ascii_case(GROUPS) => Some(Node::Groups(domain)),
                [("uid", user), ("ou", ou)] if ou.eq_ignore_ascii_case(PEOPLE) => {
                    Some(Node::User(domain, (*user).to_owned()))
                }
                [("cn", group), ("ou", ou)] if ou.eq_ignore_ascii_case(GROUPS) => {
                    Some(Node::Group(domain, (*group).to_owned()))
                }
                _ => None,
            };
        }
        None
    }

    pub fn root_dse(&self, domain_id: Option<&str>) -> Entry {
        let domain = domain_id.unwrap_or(&self.default_domain);
        Entry {
            dn: String::new(),
            attrs: vec![
                ("objectClass", strings(&["top"])),
                ("namingContexts", vec![self.base(domain)]),
                ("supportedLDAPVersion", strings(&["3"])),
                ("supportedControl", strings(&[super::PAGED_RESULTS_OID])),
                (
                    "supportedExtension",
                    strings(&[
                        super::WHOAMI_OID,
                        super::PASSWORD_MODIFY_OID,
                        super::START_TLS_OID,
                    ]),
                ),
                (
                    "supportedFeatures",
                    strings(&["1.3.6.1.4.1.4203.1.5.1"]), // all operational attributes: `+`
                ),
                ("vendorName", strings(&["Roster"])),
                ("vendorVersion", vec![env!("CARGO_PKG_VERSION").to_owned()]),
            ],
        }
    }

    pub fn base_entry(&self, domain_id: &str) -> Entry {
        let base = self.base(domain_id);
        let dc = split_dn(&base)
            .and_then(|rdns| rdns.first().map(|(_, v)| v.clone()))
            .unwrap_or_default();
        Entry {
            attrs: vec![
                ("objectClass", strings(&["top", "domain"])),
                ("dc", vec![dc]),
            ],
            dn: base,
        }
    }

    pub fn container(&self, domain_id: &str, ou: &str) -> Entry {
        Entry {
            dn: format!("ou={ou},{}", self.base(domain_id)),
            attrs: vec![
                ("objectClass", strings(&["top", "organizationalUnit"])),
                ("ou", vec![ou.to_owned()]),
            ],
        }
    }

    /// A user's entry; `details` holds its groups (organizations and user groups).
    pub fn user_entry(&self, entry: &DirectoryEntry) -> Entry {
        let user = &entry.user;
        let display = if user.nick_name.is_empty() {
            user.user_id.clone()
        } else {
            user.nick_name.clone()
        };
        // Organizations first, then user groups, each by id.
        let member_of: Vec<String> = [GroupKind::Org, GroupKind::UserGroup]
            .into_iter()
            .flat_map(|kind| entry.groups.iter().filter(move |g| g.kind == kind))
            .map(|g| self.group_dn(&user.domain_id, &g.group_id))
            .collect();
        let locked = entry.locked;
        let mut attrs = vec![
            ("objectClass", strings(&self.user_classes())),
            ("uid", vec![user.user_id.clone()]),
            ("cn", vec![display.clone()]),
            ("sn", vec![display.clone()]),
            ("displayName", vec![display]),
            ("mail", non_empty(&user.email)),
            ("mobile", non_empty(&user.phone)),
            ("telephoneNumber", non_empty(&user.phone)),
            ("description", non_empty(&user.description)),
            ("memberOf", member_of),
            ("rosterStatus", vec![user.status.clone()]),
            ("rosterRole", vec![user.role.clone()]),
            (
                "nsAccountLock",
                vec![if locked { "TRUE" } else { "FALSE" }.to_owned()],
            ),
            (
                "entryUUID",
                vec![entry_uuid(&user.domain_id, "user", &user.user_id)],
            ),
            ("createTimestamp", vec![generalized_time(user.created_at)]),
            ("modifyTimestamp", vec![generalized_time(user.updated_at)]),
        ];
        if self.posix {
            let id = (POSIX_ID_BASE + entry.number).to_string();
            attrs.push(("uidNumber", vec![id.clone()]));
            attrs.push(("gidNumber", vec![id]));
            attrs.push(("homeDirectory", vec![format!("/home/{}", user.user_id)]));
            attrs.push(("loginShell", strings(&["/bin/sh"])));
            attrs.push(("gecos", vec![user.nick_name.clone()]));
        }
        attrs.retain(|(_, values)| !values.is_empty());
        Entry {
            dn: self.user_dn(&user.domain_id, &user.user_id),
            attrs,
        }
    }

    /// A group's entry; `members` are its users and subgroups (none when they were not read),
    /// `number` its stable number (POSIX attributes only with one).
    pub fn group_entry(
        &self,
        group: &GroupFacts,
        members: Option<Members>,
        number: Option<i64>,
    ) -> Entry {
        let mut attrs = vec![
            ("objectClass", strings(&self.group_classes())),
            ("cn", vec![group.group_id.clone()]),
            ("displayName", non_empty(&group.group_name)),
            ("description", non_empty(&group.description)),
        ];
        if let Some(members) = members {
            attrs.push(("member", members.dns.clone()));
            attrs.push(("uniqueMember", members.dns));
            if self.posix {
                attrs.push(("memberUid", members.user_ids));
            }
        }
        if let Some(number) = number.filter(|_| self.posix) {
            attrs.push((
                "gidNumber",
                vec![(POSIX_GROUP_ID_BASE + number).to_string()],
            ));
        }
        if !group.parent_group_id.is_empty() {
            attrs.push((
                "memberOf",
                vec![self.group_dn(&group.domain_id, &group.parent_group_id)],
            ));
        }
        attrs.push((
            "entryUUID",
            vec![entry_uuid(&group.domain_id, "group", &group.group_id)],
        ));
        attrs.push(("createTimestamp", vec![generalized_time(group.created_at)]));
        attrs.push(("modifyTimestamp", vec![generalized_time(group.updated_at)]));
        attrs.retain(|(_, values)| !values.is_empty());
        Entry {
            dn: self.group_dn(&group.domain_id, &group.group_id),
            attrs,
        }
    }
}

/// What a group entry shows of a group.
#[derive(Debug, Clone)]
pub struct GroupFacts {
    pub domain_id: String,
    pub group_id: String,
    pub group_name: String,
    pub description: String,
    pub parent_group_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<crate::model::Group> for GroupFacts {
    fn from(g: crate::model::Group) -> Self {
        GroupFacts {
            domain_id: g.domain_id,
            group_id: g.group_id,
            group_name: g.group_name,
            description: g.description,
            parent_group_id: g.parent_group_id,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn non_empty(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        vec![value.to_owned()]
    }
}

/// A stable UUID (RFC 4122 layout, version 5 bits) for an object of a domain.
pub fn entry_uuid(domain_id: &str, kind: &str, id: &str) -> String {
    let digest = Sha1::digest(format!("{domain_id}\0{kind}\0{id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// LDAP's GeneralizedTime (`20260102030405Z`) of milliseconds since the epoch.
pub fn generalized_time(ms: i64) -> String {
    let format = time::macros::format_description!("[year][month][day][hour][minute][second]Z");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "19700101000000Z".to_owned())
}

/// A DN's RDNs, attribute types in lower case, values unescaped; `None` when malformed.
/// Multi-valued RDNs (`+`) are not part of Roster's tree and are refused.
pub fn split_dn(dn: &str) -> Option<Vec<(String, String)>> {
    let dn = dn.trim();
    if dn.is_empty() {
        return Some(Vec::new());
    }
    let mut rdns = Vec::new();
    let mut current = String::new();
    let mut chars = dn.chars();
    let mut parts = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next()?;
                current.push('\\');
                current.push(next);
            }
            ',' | ';' => parts.push(std::mem::take(&mut current)),
            '+' => return None,
            c => current.push(c),
        }
    }
    parts.push(current);
    for part in parts {
        let (attr, value) = part.split_once('=')?;
        let attr = attr.trim().to_ascii_lowercase();
        if attr.is_empty() {
            return None;
        }
        rdns.push((attr, unescape_value(value.trim())?));
    }
    Some(rdns)
}

fn unescape_value(value: &str) -> Option<String> {
    let mut out = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let next = *bytes.get(i + 1)?;
            if next.is_ascii_hexdigit() && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit) {
                out.push(u8::from_str_radix(value.get(i + 1..i + 3)?, 16).ok()?);
                i += 3;
            } else {
                out.push(next);
                i += 2;
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && (c == ' ' || c == '#'));
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A DN in one spelling for comparisons: lower case, no spaces around separators.
pub fn normalize_dn(dn: &str) -> String {
    match split_dn(dn) {
        Some(rdns) => rdns
            .iter()
            .map(|(t, v)| format!("{t}={}", escape_value(&v.to_lowercase())))
            .collect::<Vec<_>>()
            .join(","),
        None => dn.trim().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_name_the_tree() {
        let tree = Tree::new("default", Some("DC=Example, dc=com"), false);
        assert_eq!(tree.base("default"), "dc=example,dc=com");
        assert_eq!(tree.base("acme"), "dc=acme");
        assert_eq!(
            tree.parse("uid=alice, ou=People,dc=example,dc=com"),
            Some(Node::User("default".into(), "alice".into()))
        );
        assert_eq!(
            tree.parse("cn=g1,ou=groups,dc=acme"),
            Some(Node::Group("acme".into(), "g1".into()))
        );
        assert_eq!(tree.parse("dc=acme"), Some(Node::Base("acme".into())));
        assert_eq!(tree.parse(""), Some(Node::Root));
        assert_eq!(tree.parse("ou=other,dc=acme"), None);
        assert_eq!(tree.parse("uid=a+cn=b,ou=people,dc=acme"), None);
        assert_eq!(tree.parse("no equals sign"), None);
        assert_eq!(tree.parse("uid=a\\,b,ou=people,dc=x"), {
            Some(Node::User("x".into(), "a,b".into()))
        });
    }

    #[test]
    fn uuids_and_times_are_stable() {
        let a = entry_uuid("d", "user", "alice");
        assert_eq!(a, entry_uuid("d", "user", "alice"));
        assert_ne!(a, entry_uuid("d", "group", "alice"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "5");
        assert_eq!(generalized_time(0), "19700101000000Z");
        assert_eq!(generalized_time(1_700_000_000_123), "20231114221320Z");
    }
}
