//! Search filters: how an entry matches one, and what a filter lets the directory narrow
//! before entries are built (a superset, re-checked entry by entry).

use std::collections::HashSet;

use ldap3_proto::proto::{LdapFilter, LdapSubstringFilter};

use super::entries::{normalize_dn, Entry};

/// Active Directory's "in chain" matching rule: transitive membership.
pub const IN_CHAIN_OID: &str = "1.2.840.113556.1.4.1941";

/// Most filter nodes a search may carry.
pub const MAX_FILTER_NODES: usize = 512;
/// Deepest nesting of a search filter.
pub const MAX_FILTER_DEPTH: usize = 32;

/// Whether a filter is within the gateway's bounds (node count, depth).
pub fn within_bounds(filter: &LdapFilter) -> bool {
    fn walk(f: &LdapFilter, depth: usize, nodes: &mut usize) -> bool {
        *nodes += 1;
        if depth > MAX_FILTER_DEPTH || *nodes > MAX_FILTER_NODES {
            return false;
        }
        match f {
            LdapFilter::And(items) | LdapFilter::Or(items) => {
                items.iter().all(|i| walk(i, depth + 1, nodes))
            }
            LdapFilter::Not(inner) => walk(inner, depth + 1, nodes),
            _ => true,
        }
    }
    let mut nodes = 0;
    walk(filter, 0, &mut nodes)
}

/// Whether `entry` matches `filter`. `chain` holds, for the in-chain rule, the normalised DNs
/// of every group the entry is in transitively (direct groups and their ancestors).
pub fn matches(filter: &LdapFilter, entry: &Entry, chain: &HashSet<String>) -> bool {
    match filter {
        LdapFilter::And(items) => items.iter().all(|f| matches(f, entry, chain)),
        LdapFilter::Or(items) => items.iter().any(|f| matches(f, entry, chain)),
        LdapFilter::Not(inner) => !matches(inner, entry, chain),
        LdapFilter::Present(attr) => {
            attr.eq_ignore_ascii_case("objectClass") || entry.values(attr).is_some()
        }
        LdapFilter::Equality(attr, value) | LdapFilter::Approx(attr, value) => {
            any_value(entry, attr, |v| equal(attr, v, value))
        }
        LdapFilter::Substring(attr, sub) => any_value(entry, attr, |v| substring(v, sub)),
        LdapFilter::GreaterOrEqual(attr, value) => {
            any_value(entry, attr, |v| ordered(attr, v) >= ordered(attr, value))
        }
        LdapFilter::LessOrEqual(attr, value) => {
            any_value(entry, attr, |v| ordered(attr, v) <= ordered(attr, value))
        }
        LdapFilter::Extensible(rule) => {
            let attr = rule.type_.as_deref().unwrap_or("");
            match rule.matching_rule.as_deref() {
                Some(IN_CHAIN_OID) if is_member_attr(attr) => {
                    chain.contains(&normalize_dn(&rule.match_value))
                }
                None => any_value(entry, attr, |v| equal(attr, v, &rule.match_value)),
                Some(_) => false,
            }
        }
    }
}

fn is_member_attr(attr: &str) -> bool {
    attr.eq_ignore_ascii_case("memberOf")
        || attr.eq_ignore_ascii_case("member")
        || attr.eq_ignore_ascii_case("uniqueMember")
}

fn any_value(entry: &Entry, attr: &str, test: impl Fn(&str) -> bool) -> bool {
    entry
        .values(attr)
        .is_some_and(|values| values.iter().any(|v| test(v)))
}

fn is_dn_attr(attr: &str) -> bool {
    is_member_attr(attr)
}

fn equal(attr: &str, value: &str, asserted: &str) -> bool {
    if is_dn_attr(attr) {
        normalize_dn(value) == normalize_dn(asserted)
    } else {
        value.to_lowercase() == asserted.to_lowercase()
    }
}

/// The ordering key of a value: timestamps by their digits (so `20260101000000.0Z` and
/// `20260101000000Z` compare), everything else by its lower-case text.
fn ordered(attr: &str, value: &str) -> String {
    if attr.to_ascii_lowercase().ends_with("timestamp") {
        let digits: String = value
            .chars()
            .filter(char::is_ascii_digit)
            .take(14)
            .collect();
        format!("{digits:0<14}")
    } else {
        value.to_lowercase()
    }
}

fn substring(value: &str, sub: &LdapSubstringFilter) -> bool {
    let value = value.to_lowercase();
    let mut rest = value.as_str();
    if let Some(initial) = &sub.initial {
        let initial = initial.to_lowercase();
        match rest.strip_prefix(initial.as_str()) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    for any in &sub.any {
        let any = any.to_lowercase();
        match rest.find(any.as_str()) {
            Some(at) => rest = &rest[at + any.len()..],
            None => return false,
        }
    }
    match &sub.final_ {
        Some(fin) => rest.ends_with(fin.to_lowercase().as_str()),
        None => true,
    }
}

/// Whether a filter can match an entry of these object classes at all: decided on the
/// object class alone (`Some(false)`: never), so a search skips a kind of entry it cannot
/// match without reading any.
pub fn may_match_class(filter: &LdapFilter, classes: &[&str]) -> bool {
    class_verdict(filter, classes) != Some(false)
}

fn class_verdict(filter: &LdapFilter, classes: &[&str]) -> Option<bool> {
    match filter {
        LdapFilter::And(items) => {
            let verdicts: Vec<_> = items.iter().map(|f| class_verdict(f, classes)).collect();
            if verdicts.contains(&Some(false)) {
                Some(false)
            } else if verdicts.iter().all(|v| *v == Some(true)) {
                Some(true)
            } else {
                None
            }
        }
        LdapFilter::Or(items) => {
            let verdicts: Vec<_> = items.iter().map(|f| class_verdict(f, classes)).collect();
            if verdicts.contains(&Some(true)) {
                Some(true)
            } else if verdicts.iter().all(|v| *v == Some(false)) {
                Some(false)
            } else {
                None
            }
        }
        LdapFilter::Not(inner) => class_verdict(inner, classes).map(|v| !v),
        LdapFilter::Equality(attr, value) if attr.eq_ignore_ascii_case("objectClass") => {
            Some(classes.iter().any(|c| c.eq_ignore_ascii_case(value)))
        }
        LdapFilter::Present(attr) if attr.eq_ignore_ascii_case("objectClass") => Some(true),
        _ => None,
    }
}

/// What a filter lets the user listing narrow: a superset of the matching users.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UserHints {
    /// Only these user ids.
    pub user_ids: Option<Vec<String>>,
    /// A wildcard search (`*` any run) on the user id or e-mail.
    pub id_or_email: Option<String>,
    /// A piece every matching display name contains (of 3 characters or more, so the
    /// trigram index serves it).
    pub display_name_contains: Option<String>,
    /// Direct members of this group DN.
    pub member_of: Option<String>,
    /// Members of this group DN or of groups below it.
    pub member_of_chain: Option<String>,
}

/// The narrowing a filter allows: from the filter itself, or any one term of a top-level
/// `and` (each term must hold, so any one narrows).
pub fn user_hints(filter: &LdapFilter) -> UserHints {
    let mut hints = UserHints::default();
    let terms: Vec<&LdapFilter> = match filter {
        LdapFilter::And(items) => items.iter().collect(),
        other => vec![other],
    };
    for term in terms {
        if let Some(ids) = uid_values(term) {
            hints.user_ids.get_or_insert(ids);
        } else if let Some(pattern) = id_or_email_pattern(term) {
            hints.id_or_email.get_or_insert(pattern);
        } else if let Some(piece) = display_name_piece(term) {
            hints.display_name_contains.get_or_insert(piece);
        }
        match term {
            LdapFilter::Equality(attr, dn) if attr.eq_ignore_ascii_case("memberOf") => {
                hints.member_of.get_or_insert(dn.clone());
            }
            LdapFilter::Extensible(rule)
                if rule.matching_rule.as_deref() == Some(IN_CHAIN_OID)
                    && rule
                        .type_
                        .as_deref()
                        .is_some_and(|t| t.eq_ignore_ascii_case("memberOf")) =>
            {
                hints
                    .member_of_chain
                    .get_or_insert(rule.match_value.clone());
            }
            LdapFilter::And(_) => {
                let inner = user_hints(term);
                hints.user_ids = hints.user_ids.or(inner.user_ids);
                hints.id_or_email = hints.id_or_email.or(inner.id_or_email);
                hints.display_name_contains =
                    hints.display_name_contains.or(inner.display_name_contains);
                hints.member_of = hints.member_of.or(inner.member_of);
                hints.member_of_chain = hints.member_of_chain.or(inner.member_of_chain);
            }
            _ => {}
        }
    }
    hints
}

/// The attributes that show the display name (`cn`, `displayName`, `sn`).
fn is_display_name_attr(attr: &str) -> bool {
    ["cn", "displayName", "sn"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(attr))
}

/// The longest literal piece of a substring (or equality) term on the display name, when it
/// is long enough for the trigram index: every matching display name contains it.
fn display_name_piece(filter: &LdapFilter) -> Option<String> {
    let pieces: Vec<&str> = match filter {
        LdapFilter::Substring(attr, sub) if is_display_name_attr(attr) => sub
            .initial
            .iter()
            .chain(sub.any.iter())
            .chain(sub.final_.iter())
            .map(String::as_str)
            .collect(),
        LdapFilter::Equality(attr, value) if is_display_name_attr(attr) => vec![value.as_str()],
        _ => return None,
    };
    pieces
        .into_iter()
        .max_by_key(|p| p.chars().count())
        .filter(|p| p.chars().count() >= 3)
        .map(str::to_owned)
}

/// Whether a filter tests any attribute by substring (`(attr=a*b)`): without an index to
/// serve it, such a search reads users only up to a bound.
pub fn has_substring(filter: &LdapFilter) -> bool {
    match filter {
        LdapFilter::And(items) | LdapFilter::Or(items) => items.iter().any(has_substring),
        LdapFilter::Not(inner) => has_substring(inner),
        LdapFilter::Substring(..) => true,
        _ => false,
    }
}

/// `(uid=a)` or `(|(uid=a)(uid=b))`: the ids named.
fn uid_values(filter: &LdapFilter) -> Option<Vec<String>> {
    match filter {
        LdapFilter::Equality(attr, v) if attr.eq_ignore_ascii_case("uid") => Some(vec![v.clone()]),
        LdapFilter::Or(items) if !items.is_empty() => {
            let mut ids = Vec::new();
            for item in items {
                ids.extend(uid_values(item)?);
            }
            Some(ids)
        }
        _ => None,
    }
}

/// A wildcard pattern every user matching `filter` matches on its id or e-mail: an
/// equality or substring on `uid`/`mail`, or an `or` of such with one pattern.
fn id_or_email_pattern(filter: &LdapFilter) -> Option<String> {
    let id_or_mail = |a: &str| a.eq_ignore_ascii_case("uid") || a.eq_ignore_ascii_case("mail");
    match filter {
        LdapFilter::Equality(attr, v) if id_or_mail(attr) && !v.contains('*') => Some(v.clone()),
        LdapFilter::Substring(attr, sub) if id_or_mail(attr) => {
            let parts = [
                sub.initial.clone().unwrap_or_default(),
                sub.any.join("*"),
                sub.final_.clone().unwrap_or_default(),
            ];
            if parts.iter().any(|p| p.contains('*')) {
                return None;
            }
            let pattern = parts.join("*").replace("**", "*");
            (pattern != "*").then_some(pattern)
        }
        LdapFilter::Or(items) if !items.is_empty() => {
            let first = id_or_email_pattern(&items[0])?;
            items[1..]
                .iter()
                .all(|i| id_or_email_pattern(i).as_deref() == Some(first.as_str()))
                .then_some(first)
        }
        LdapFilter::And(items) => items.iter().find_map(id_or_email_pattern),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            dn: "uid=alice,ou=people,dc=d".into(),
            attrs: vec![
                ("objectClass", vec!["top".into(), "inetOrgPerson".into()]),
                ("uid", vec!["alice".into()]),
                ("mail", vec!["Alice@Example.com".into()]),
                ("memberOf", vec!["cn=g1,ou=groups,dc=d".into()]),
                ("createTimestamp", vec!["20260102030405Z".into()]),
            ],
        }
    }

    fn eq(a: &str, v: &str) -> LdapFilter {
        LdapFilter::Equality(a.into(), v.into())
    }

    #[test]
    fn every_filter_kind_matches() {
        let e = entry();
        let chain: HashSet<String> = ["cn=top,ou=groups,dc=d".to_owned()].into();
        assert!(matches(&eq("UID", "ALICE"), &e, &chain));
        assert!(!matches(&eq("uid", "bob"), &e, &chain));
        assert!(matches(
            &eq("memberOf", "CN=g1, ou=groups,dc=d"),
            &e,
            &chain
        ));
        assert!(matches(&LdapFilter::Present("mail".into()), &e, &chain));
        assert!(!matches(&LdapFilter::Present("mobile".into()), &e, &chain));
        let sub = LdapSubstringFilter {
            initial: Some("ali".into()),
            any: vec!["@ex".into()],
            final_: Some(".COM".into()),
        };
        assert!(matches(
            &LdapFilter::Substring("mail".into(), sub),
            &e,
            &chain
        ));
        let not = LdapFilter::Not(Box::new(eq("uid", "alice")));
        assert!(!matches(&not, &e, &chain));
        let or = LdapFilter::Or(vec![eq("uid", "x"), eq("mail", "alice@example.com")]);
        assert!(matches(&or, &e, &chain));
        let ge = LdapFilter::GreaterOrEqual("createTimestamp".into(), "20260101000000.0Z".into());
        assert!(matches(&ge, &e, &chain));
        let le = LdapFilter::LessOrEqual("createTimestamp".into(), "20260101000000Z".into());
        assert!(!matches(&le, &e, &chain));
        let in_chain = LdapFilter::Extensible(ldap3_proto::proto::LdapMatchingRuleAssertion {
            matching_rule: Some(IN_CHAIN_OID.into()),
            type_: Some("memberOf".into()),
            match_value: "cn=TOP,ou=groups,dc=d".into(),
            dn_attributes: false,
        });
        assert!(matches(&in_chain, &e, &chain));
    }

    #[test]
    fn object_classes_rule_out_kinds() {
        let groups = LdapFilter::And(vec![eq("objectClass", "groupOfNames"), eq("cn", "x")]);
        assert!(!may_match_class(&groups, &["top", "inetOrgPerson"]));
        assert!(may_match_class(&groups, &["groupOfNames"]));
        let either = LdapFilter::Or(vec![eq("objectclass", "person"), eq("cn", "x")]);
        assert!(may_match_class(&either, &["groupOfNames"]));
    }

    #[test]
    fn hints_narrow_to_a_superset() {
        let f = LdapFilter::And(vec![
            eq("objectClass", "inetOrgPerson"),
            LdapFilter::Or(vec![eq("uid", "a"), eq("mail", "a")]),
        ]);
        let hints = user_hints(&f);
        assert_eq!(hints.id_or_email.as_deref(), Some("a"));
        assert_eq!(hints.user_ids, None);
        let f = LdapFilter::Or(vec![eq("uid", "a"), eq("uid", "b")]);
        assert_eq!(user_hints(&f).user_ids, Some(vec!["a".into(), "b".into()]));
        let cn = LdapFilter::Substring(
            "cn".into(),
            LdapSubstringFilter {
                initial: Some("jo".into()),
                any: vec!["smith".into()],
                final_: None,
            },
        );
        let f = LdapFilter::And(vec![eq("objectClass", "person"), cn.clone()]);
        assert_eq!(
            user_hints(&f).display_name_contains.as_deref(),
            Some("smith")
        );
        assert!(has_substring(&f) && !has_substring(&eq("cn", "x")));
        let short = LdapFilter::Substring(
            "displayName".into(),
            LdapSubstringFilter {
                initial: Some("jo".into()),
                any: Vec::new(),
                final_: None,
            },
        );
        assert_eq!(user_hints(&short).display_name_contains, None);
        let deep = (0..40).fold(eq("uid", "a"), |f, _| LdapFilter::Not(Box::new(f)));
        assert!(!within_bounds(&deep));
    }
}
