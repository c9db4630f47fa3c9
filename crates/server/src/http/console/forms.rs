//! The console's wire ↔ service translation: form and query fields to the services' requests,
//! and the paging links of a marker-paged list. Nothing here decides a rule.

use serde::Deserialize;

use crate::error::{Error, ParamProblem};
use crate::model::{
    DriveChanges, DriveSearch, GroupChanges, Member, NewGroupSpec, NewUserSpec, PageDirection,
    Role, UserChanges, UserSearch, UserStatus,
};

/// Users shown on one page of the list.
pub const PAGE_SIZE: i64 = 50;

/// The users list's query: one search box, what it matches, filters, the page.
#[derive(Debug, Default, Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    pub q: String,
    /// `name`, `nick`, `email`, `phone`; empty: guessed from `q`.
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub status: String,
    /// One sort key, whatever the depth: the page starts after it, or with `dir=before` ends
    /// before it.
    #[serde(default)]
    pub marker: String,
    /// `before`: the page before `marker` (a "previous" link); empty: the page after it.
    #[serde(default)]
    pub dir: String,
}

/// `dir`'s value in a "previous" link.
const BEFORE: &str = "before";

/// What the box matches when the operator does not say: an e-mail prefix for a value with
/// `@`, a phone prefix for digits, else a name prefix.
pub fn guessed_field(q: &str) -> &'static str {
    if q.contains('@') {
        "email"
    } else if !q.is_empty() && q.chars().all(|c| c.is_ascii_digit() || c == '+') {
        "phone"
    } else {
        "name"
    }
}

/// A query string of the pairs with a value.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<_> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

fn non_empty(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

impl UsersQuery {
    /// The `user/search` request this query is (prefix on name, e-mail, phone; substring on
    /// nick name; role and status filters).
    pub fn search(&self) -> Result<UserSearch, Error> {
        let q = non_empty(&self.q);
        let field = if self.field.is_empty() {
            guessed_field(self.q.trim())
        } else {
            self.field.as_str()
        };
        let mut req = UserSearch {
            limit: Some(PAGE_SIZE),
            marker: non_empty(&self.marker),
            direction: match self.dir.as_str() {
                "" => PageDirection::Forward,
                BEFORE => PageDirection::Backward,
                _ => return Err(Error::param(ParamProblem::Invalid, "dir")),
            },
            role: match self.role.as_str() {
                "" => None,
                r => Some(parse_role(r)?),
            },
            status: match self.status.as_str() {
                "" => None,
                s => Some(
                    UserStatus::from_stored(s)
                        .map_err(|_| Error::param(ParamProblem::Invalid, "status"))?,
                ),
            },
            ..UserSearch::default()
        };
        match field {
            "name" => req.user_name = q,
            "nick" => req.nick_name_contains = q,
            "email" => req.email = q,
            "phone" => req.phone = q,
            _ => return Err(Error::param(ParamProblem::Invalid, "field")),
        }
        Ok(req)
    }

    fn filters(&self) -> [(&'static str, &str); 4] {
        [
            ("q", self.q.as_str()),
            ("field", self.field.as_str()),
            ("role", self.role.as_str()),
            ("status", self.status.as_str()),
        ]
    }

    /// The query string of this search at another page: one marker and its direction.
    fn at(&self, marker: &str, dir: &str) -> String {
        let mut pairs = self.filters().to_vec();
        pairs.extend([("marker", marker), ("dir", dir)]);
        query_string(&pairs)
    }

    /// The query string of this search without a page (for the CSV export).
    pub fn filters_only(&self) -> String {
        query_string(&self.filters())
    }

    /// The link to the next page, given the marker the search answered (`""`: the last).
    pub fn next_link(&self, next_marker: &str) -> Option<String> {
        (!next_marker.is_empty()).then(|| self.at(next_marker, ""))
    }

    /// The link to the previous page, given the marker the search answered (`""`: the
    /// first).
    pub fn previous_link(&self, previous_marker: &str) -> Option<String> {
        (!previous_marker.is_empty()).then(|| self.at(previous_marker, BEFORE))
    }
}

/// A list paged by marker both ways: the marker of the page shown and those of the pages
/// before it (`back`), and the query string of the same list at another page. The lists
/// whose service reads only forwards (the audit log, the outbox, drives) page so; the users
/// list reads backwards from one marker instead ([`UsersQuery::previous_link`]).
pub trait Paged {
    fn marker_and_back(&self) -> (&str, &str);
    fn link_at(&self, marker: &str, back: &str) -> String;

    /// The link to the next page, given the marker the list answered (`""`: none).
    fn next_link(&self, next_marker: &str) -> Option<String> {
        let (here, back) = self.marker_and_back();
        let (marker, back) = page_after(here, back, next_marker)?;
        Some(self.link_at(&marker, &back))
    }

    /// The link to the previous page (none on the first).
    fn previous_link(&self) -> Option<String> {
        let (marker, back) = page_before(self.marker_and_back().1)?;
        Some(self.link_at(&marker, &back))
    }
}

macro_rules! paged {
    ($($t:ty),*) => {$(
        impl Paged for $t {
            fn marker_and_back(&self) -> (&str, &str) {
                (&self.marker, &self.back)
            }

            fn link_at(&self, marker: &str, back: &str) -> String {
                self.at(marker, back)
            }
        }
    )*};
}

paged!(AuditQuery, PageQuery, DrivesQuery);

/// Marker paging both ways without a count or an offset: the `(marker, back)` of the page
/// after the one at `marker` (whose earlier pages' markers are `back`), given the marker its
/// list answered (`""`: it was the last page).
pub fn page_after(marker: &str, back: &str, next_marker: &str) -> Option<(String, String)> {
    if next_marker.is_empty() {
        return None;
    }
    let here = if marker.is_empty() { "-" } else { marker };
    let back = if back.is_empty() {
        here.to_owned()
    } else {
        format!("{back} {here}")
    };
    Some((next_marker.to_owned(), back))
}

/// The `(marker, back)` of the page before, from this page's `back` (none on the first).
pub fn page_before(back: &str) -> Option<(String, String)> {
    let back = back.trim();
    if back.is_empty() {
        return None;
    }
    let (rest, last) = match back.rsplit_once(' ') {
        Some((rest, last)) => (rest, last),
        None => ("", back),
    };
    let marker = if last == "-" { "" } else { last };
    Some((marker.to_owned(), rest.to_owned()))
}

/// The new-user form.
#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub nick_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub password: String,
}

impl NewUserForm {
    pub fn spec(&self) -> NewUserSpec {
        NewUserSpec {
            user_id: self.user_id.trim().to_owned(),
            user_name: non_empty(&self.user_id),
            nick_name: non_empty(&self.nick_name),
            email: non_empty(&self.email),
            phone: non_empty(&self.phone),
            plain_password: (!self.password.is_empty()).then(|| self.password.clone()),
            ..NewUserSpec::default()
        }
    }
}

/// The user page's profile form.
#[derive(Debug, Default, Deserialize)]
pub struct EditUserForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub nick_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub description: String,
}

impl EditUserForm {
    pub fn update(&self) -> UserChanges {
        UserChanges {
            nick_name: Some(self.nick_name.trim().to_owned()),
            email: Some(self.email.trim().to_owned()),
            phone: Some(self.phone.trim().to_owned()),
            description: Some(self.description.clone()),
            ..UserChanges::default()
        }
    }
}

/// One of the user page's action buttons.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub csrf: String,
    /// `lock`, `unlock`, `role`, `reset`, `require_new_password`.
    #[serde(default)]
    pub action: String,
    /// For `lock`: the operator ticked the confirmation.
    #[serde(default)]
    pub confirm: String,
    #[serde(default)]
    pub role: String,
}

impl ActionForm {
    pub fn role(&self) -> Result<Role, Error> {
        parse_role(&self.role)
    }
}

/// A role the operator chose (an unknown one is refused as the `role` parameter).
fn parse_role(role: &str) -> Result<Role, Error> {
    Role::from_stored(role).map_err(|_| Error::param(ParamProblem::Invalid, "role"))
}

/// A level of the groups tree.
#[derive(Debug, Default, Deserialize)]
pub struct GroupsQuery {
    #[serde(default)]
    pub group_id: String,
    #[serde(default)]
    pub marker: String,
}

impl GroupsQuery {
    pub fn group(&self) -> Option<&str> {
        (!self.group_id.is_empty()).then_some(self.group_id.as_str())
    }

    pub fn marker(&self) -> Option<String> {
        non_empty(&self.marker)
    }

    /// The link to this level's next page (`""`: none).
    pub fn next_link(&self, next_marker: &str) -> Option<String> {
        if next_marker.is_empty() {
            return None;
        }
        let pairs = [
            ("group_id", self.group_id.as_str()),
            ("marker", next_marker),
        ];
        let kept: Vec<_> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        Some(serde_urlencoded::to_string(kept).unwrap_or_default())
    }
}

/// The groups page at a group (`""`: the top).
pub fn group_url(group_id: &str) -> String {
    if group_id.is_empty() {
        "/console/groups".into()
    } else {
        let q = serde_urlencoded::to_string([("group_id", group_id)]).unwrap_or_default();
        format!("/console/groups?{q}")
    }
}

/// One of the groups page's forms.
#[derive(Debug, Default, Deserialize)]
pub struct GroupAction {
    #[serde(default)]
    pub csrf: String,
    /// `create`, `rename`, `move`, `delete`, `add_user`, `remove_user`.
    #[serde(default)]
    pub action: String,
    /// The group acted on (for `create`: the parent, `""` for the top).
    #[serde(default)]
    pub group_id: String,
    #[serde(default)]
    pub group_name: String,
    /// For `move`: the new parent (`""`: the top).
    #[serde(default)]
    pub parent_group_id: String,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub confirm: String,
}

impl GroupAction {
    pub fn create(&self) -> NewGroupSpec {
        NewGroupSpec {
            name: self.group_name.trim().to_owned(),
            parent_group_id: non_empty(&self.group_id),
            ..NewGroupSpec::default()
        }
    }

    /// The change a `rename` or `move` asks for (of the group `group_id`).
    pub fn update(&self) -> Result<GroupChanges, Error> {
        let mut req = GroupChanges::default();
        match self.action.as_str() {
            "rename" => req.name = Some(self.group_name.trim().to_owned()),
            _ => req.parent_group_id = Some(self.parent_group_id.trim().to_owned()),
        }
        Ok(req)
    }

    /// The user the form adds to (or removes from) its group.
    pub fn member(&self) -> Member {
        Member::User(self.user_id.trim().to_owned())
    }
}

/// The audit log's filters and page.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    /// `<object>.<verb>`, e.g. `user.update`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub object: String,
    /// `success` or `failure`.
    #[serde(default)]
    pub outcome: String,
    /// From and to (UTC, `yyyy-mm-ddThh:mm`, as a `datetime-local` input sends it).
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub marker: String,
    #[serde(default)]
    pub back: String,
}

/// A value inside the query language's single quotes.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

/// A `datetime-local` value (no seconds) as the time the query language reads.
fn utc_time(value: &str) -> String {
    let value = value.trim();
    if value.len() == 16 {
        format!("{value}:00Z")
    } else {
        value.to_owned()
    }
}

impl AuditQuery {
    /// The `audit_log/list` query (PDS's query language) these filters are; a time that is
    /// not one is refused as its own field.
    pub fn query(&self) -> Result<String, Error> {
        let mut conditions = Vec::new();
        for (field, value) in [
            ("actor_id", &self.actor),
            ("action_type", &self.action),
            ("object_id", &self.object),
            ("outcome", &self.outcome),
        ] {
            if !value.trim().is_empty() {
                conditions.push(format!("{field} = {}", quoted(value.trim())));
            }
        }
        for (name, op, value) in [("from", ">=", &self.from), ("to", "<=", &self.to)] {
            if value.trim().is_empty() {
                continue;
            }
            let at = utc_time(value);
            if crate::time_format::parse_utc_ms(&at).is_none() {
                return Err(Error::param(ParamProblem::Invalid, name));
            }
            conditions.push(format!("acted_at {op} {}", quoted(&at)));
        }
        Ok(conditions.join(" and "))
    }

    fn filters(&self) -> [(&'static str, &str); 6] {
        [
            ("actor", self.actor.as_str()),
            ("action", self.action.as_str()),
            ("object", self.object.as_str()),
            ("outcome", self.outcome.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ]
    }

    fn at(&self, marker: &str, back: &str) -> String {
        let mut pairs = self.filters().to_vec();
        pairs.extend([("marker", marker), ("back", back)]);
        query_string(&pairs)
    }

    /// The query string of these filters without a page (for the CSV export).
    pub fn filters_only(&self) -> String {
        query_string(&self.filters())
    }
}

/// A marker-paged list with nothing to filter (the outbox).
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    pub marker: String,
    #[serde(default)]
    pub back: String,
}

impl PageQuery {
    fn at(&self, marker: &str, back: &str) -> String {
        query_string(&[("marker", marker), ("back", back)])
    }
}

/// The drives page's search: owner and a substring of the name.
#[derive(Debug, Default, Deserialize)]
pub struct DrivesQuery {
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub marker: String,
    #[serde(default)]
    pub back: String,
}

impl DrivesQuery {
    pub fn search(&self) -> DriveSearch {
        DriveSearch {
            owner: non_empty(&self.owner),
            name_contains: non_empty(&self.name),
            limit: Some(PAGE_SIZE),
            marker: non_empty(&self.marker),
            ..DriveSearch::default()
        }
    }

    fn at(&self, marker: &str, back: &str) -> String {
        query_string(&[
            ("owner", self.owner.as_str()),
            ("name", self.name.as_str()),
            ("marker", marker),
            ("back", back),
        ])
    }
}

/// One of the drives page's forms: a new quota, or a delete.
#[derive(Debug, Default, Deserialize)]
pub struct DriveAction {
    #[serde(default)]
    pub csrf: String,
    /// `quota` or `delete`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub drive_id: String,
    /// For `quota`: MiB, `-1` for unlimited.
    #[serde(default)]
    pub total_mib: String,
    #[serde(default)]
    pub confirm: String,
    /// The search the form was on, to return to.
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub name: String,
}

impl DriveAction {
    /// The `drive/update` a new quota is (in bytes, as the API takes it).
    pub fn quota(&self) -> Result<DriveChanges, Error> {
        let bad = || Error::param(ParamProblem::Invalid, "total_mib");
        let mib: i64 = self.total_mib.trim().parse().map_err(|_| bad())?;
        let total_size = match mib {
            -1 => -1,
            n if n >= 0 => n.checked_mul(1 << 20).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        Ok(DriveChanges {
            total_size: Some(total_size),
            ..DriveChanges::default()
        })
    }

    /// The search to show after the change.
    pub fn query(&self) -> DrivesQuery {
        DrivesQuery {
            owner: self.owner.clone(),
            name: self.name.clone(),
            ..DrivesQuery::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_guesses_what_it_matches() {
        assert_eq!(guessed_field("ann@example.com"), "email");
        assert_eq!(guessed_field("+86138"), "phone");
        assert_eq!(guessed_field("ann"), "name");
        let q = UsersQuery {
            q: "a@b".into(),
            ..UsersQuery::default()
        };
        assert_eq!(q.search().unwrap().email.as_deref(), Some("a@b"));
        let q = UsersQuery {
            q: "nn".into(),
            field: "nick".into(),
            ..UsersQuery::default()
        };
        assert_eq!(
            q.search().unwrap().nick_name_contains.as_deref(),
            Some("nn")
        );
    }

    #[test]
    fn bad_filters_name_their_field() {
        let q = UsersQuery {
            role: "king".into(),
            ..UsersQuery::default()
        };
        assert!(matches!(q.search(), Err(Error::InvalidParameter { name, .. }) if name == "role"));
    }

    #[test]
    fn pages_go_forward_and_back_without_offsets() {
        let drives = DrivesQuery {
            owner: "u".into(),
            ..DrivesQuery::default()
        };
        assert_eq!(drives.previous_link(), None);
        let second = drives.next_link("M2").unwrap();
        assert_eq!(second, "owner=u&marker=M2&back=-");
        let second: DrivesQuery = serde_urlencoded::from_str(&second).unwrap();
        let third: DrivesQuery =
            serde_urlencoded::from_str(&second.next_link("M3").unwrap()).unwrap();
        assert_eq!(third.back, "- M2");
        let back: DrivesQuery =
            serde_urlencoded::from_str(&third.previous_link().unwrap()).unwrap();
        assert_eq!((back.marker.as_str(), back.back.as_str()), ("M2", "-"));
        assert_eq!(back.previous_link().unwrap(), "owner=u");
        assert_eq!(drives.next_link(""), None);
    }

    #[test]
    fn users_pages_carry_one_marker_and_its_direction() {
        let search = UsersQuery {
            q: "u".into(),
            marker: "M9".into(),
            ..UsersQuery::default()
        };
        assert_eq!(search.next_link("M10").unwrap(), "q=u&marker=M10");
        let previous = search.previous_link("M8").unwrap();
        assert_eq!(previous, "q=u&marker=M8&dir=before");
        let previous: UsersQuery = serde_urlencoded::from_str(&previous).unwrap();
        let read = previous.search().unwrap();
        assert_eq!(read.direction, PageDirection::Backward);
        assert_eq!(read.marker.as_deref(), Some("M8"));
        assert_eq!(search.search().unwrap().direction, PageDirection::Forward);
        assert_eq!(
            (search.next_link(""), search.previous_link("")),
            (None, None)
        );
        let sideways = UsersQuery {
            dir: "sideways".into(),
            ..UsersQuery::default()
        };
        assert!(
            matches!(sideways.search(), Err(Error::InvalidParameter { name, .. }) if name == "dir")
        );
    }

    #[test]
    fn audit_filters_become_the_query_language_with_quotes_doubled() {
        let q = AuditQuery {
            actor: "o'neil".into(),
            outcome: "failure".into(),
            from: "2026-12-06T10:00".into(),
            ..AuditQuery::default()
        };
        assert_eq!(
            q.query().unwrap(),
            "actor_id = 'o''neil' and outcome = 'failure' and acted_at >= '2026-12-06T10:00:00Z'"
        );
        assert!(crate::service::audit_log::parse_query(&q.query().unwrap()).is_ok());
        assert_eq!(AuditQuery::default().query().unwrap(), "");
        let bad = AuditQuery {
            to: "yesterday".into(),
            ..AuditQuery::default()
        };
        assert!(matches!(bad.query(), Err(Error::InvalidParameter { name, .. }) if name == "to"));
    }
}
