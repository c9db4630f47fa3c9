//! The parameters of an eds-user RPC call, merged from the query string and the form body
//! as the SDK splits them, with the SDK's encodings: lists as `Key.N`, lists of objects as
//! `Key.N.Field`, "shrunk" parameters as one JSON string, and Python's
//! `True`/`False` for booleans.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::error::{Error, ParamProblem, Result};

/// Parameters of the signature and the gateway, never an action's own.
const PROTOCOL_PARAMS: [&str; 13] = [
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "BearerToken",
    "SecurityToken",
    "RegionId",
];

/// An action's parameters by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Merges query and body pairs (a body value wins over a query value of the same name),
    /// leaving out the protocol's own parameters. A NUL character is refused: no parameter
    /// can hold one, and PostgreSQL cannot store one.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = &'a (String, String)>) -> Result<Params> {
        let mut params = BTreeMap::new();
        for (k, v) in pairs {
            if k.contains('\0') || v.contains('\0') {
                return Err(Error::invalid(k.replace('\0', "")));
            }
            if !PROTOCOL_PARAMS.contains(&k.as_str()) {
                params.insert(k.clone(), v.clone());
            }
        }
        Ok(Params(params))
    }

    /// A value as sent; empty values read as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    pub fn required(&self, name: &str) -> Result<&str> {
        self.get(name).ok_or_else(|| Error::missing(name))
    }

    /// `True`/`False` in any case (Python's `str(bool)`), or `1`/`0`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(Some(false)),
            Some(_) => Err(Error::invalid(name)),
        }
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>> {
        self.get(name)
            .map(|v| v.trim().parse().map_err(|_| Error::invalid(name)))
            .transpose()
    }

    pub fn required_int(&self, name: &str) -> Result<i64> {
        self.int(name)?.ok_or_else(|| Error::missing(name))
    }

    /// `Key.1=a&Key.2=b` in index order, at most `max` items; empty items are dropped.
    pub fn list(&self, name: &str, max: usize) -> Result<Vec<String>> {
        let mut items: Vec<(u32, &str)> = Vec::new();
        for (key, value) in self.prefixed(name) {
            let index = list_index(key).ok_or_else(|| Error::invalid(name))?;
            if !value.is_empty() {
                items.push((index, value));
            }
        }
        items.sort_unstable_by_key(|(index, _)| *index);
        if items.len() > max {
            return Err(Error::out_of_range(name));
        }
        Ok(items.into_iter().map(|(_, v)| v.to_owned()).collect())
    }

    /// `Key.N.Field=v` as one `Params` per `N` (fields keep their nesting: `GroupIdList.1`),
    /// in index order, at most `max`.
    pub fn objects(&self, name: &str, max: usize) -> Result<Vec<Params>> {
        let mut objects: BTreeMap<u32, Params> = BTreeMap::new();
        for (key, value) in self.prefixed(name) {
            let (index, field) = key.split_once('.').ok_or_else(|| Error::invalid(name))?;
            let index = list_index(index).ok_or_else(|| Error::invalid(name))?;
            objects
                .entry(index)
                .or_default()
                .0
                .insert(field.to_owned(), value.to_owned());
        }
        if objects.len() > max {
            return Err(Error::out_of_range(name));
        }
        Ok(objects.into_values().collect())
    }

    /// A "shrunk" parameter: one JSON string decoded as `T`.
    pub fn json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        self.get(name)
            .map(|v| {
                serde_json::from_str(v).map_err(|_| Error::param(ParamProblem::WrongFormat, name))
            })
            .transpose()
    }

    /// `(rest, value)` of every `name.rest` parameter.
    fn prefixed<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.0.iter().filter_map(move |(k, v)| {
            let rest = k.strip_prefix(name)?.strip_prefix('.')?;
            Some((rest, v.as_str()))
        })
    }
}

/// `N` of `Key.N`: 1 or more.
fn list_index(s: &str) -> Option<u32> {
    s.parse().ok().filter(|n| *n >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Params::from_pairs(&owned).unwrap()
    }

    #[test]
    fn nul_characters_are_refused() {
        let owned = vec![("OrgName".to_owned(), "a\0b".to_owned())];
        assert!(matches!(
            Params::from_pairs(&owned),
            Err(Error::InvalidParameter { problem: ParamProblem::Invalid, name, .. }) if name == "OrgName"
        ));
    }

    #[test]
    fn lists_come_in_index_order() {
        let p = params(&[
            ("Users.2", "bob"),
            ("Users.10", "zed"),
            ("Users.1", "alice"),
        ]);
        assert_eq!(p.list("Users", 100).unwrap(), ["alice", "bob", "zed"]);
        assert!(p.list("Missing", 100).unwrap().is_empty());
        assert!(matches!(
            p.list("Users", 2),
            Err(Error::InvalidParameter {
                problem: ParamProblem::OutOfRange,
                ..
            })
        ));
        assert!(params(&[("Users.x", "a")]).list("Users", 5).is_err());
        assert!(params(&[("Users.0", "a")]).list("Users", 5).is_err());
    }

    #[test]
    fn a_prefix_is_not_a_list() {
        let p = params(&[("UsersX.1", "a"), ("Users", "b")]);
        assert!(p.list("Users", 5).unwrap().is_empty());
    }

    #[test]
    fn objects_keep_nested_lists() {
        let p = params(&[
            ("Users.1.EndUserId", "alice"),
            ("Users.1.GroupIdList.1", "ug-1"),
            ("Users.1.GroupIdList.2", "ug-2"),
            ("Users.2.EndUserId", "bob"),
        ]);
        let users = p.objects("Users", 20).unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].get("EndUserId"), Some("alice"));
        assert_eq!(users[0].list("GroupIdList", 10).unwrap(), ["ug-1", "ug-2"]);
        assert_eq!(users[1].get("EndUserId"), Some("bob"));
        assert!(params(&[("Users.1", "x")]).objects("Users", 5).is_err());
    }

    #[test]
    fn booleans_are_case_insensitive() {
        let p = params(&[("A", "True"), ("B", "false"), ("C", "yes"), ("D", "")]);
        assert_eq!(p.bool("A").unwrap(), Some(true));
        assert_eq!(p.bool("B").unwrap(), Some(false));
        assert!(p.bool("C").is_err());
        assert_eq!(p.bool("D").unwrap(), None);
        assert_eq!(p.bool("E").unwrap(), None);
    }

    #[test]
    fn json_strings_decode() {
        let p = params(&[
            (
                "OrderParam",
                r#"{"OrderField":"EndUserId","OrderType":"ASC"}"#,
            ),
            ("Bad", "{"),
        ]);
        let order: BTreeMap<String, String> = p.json("OrderParam").unwrap().unwrap();
        assert_eq!(order["OrderType"], "ASC");
        assert!(matches!(
            p.json::<BTreeMap<String, String>>("Bad"),
            Err(Error::InvalidParameter {
                problem: ParamProblem::WrongFormat,
                ..
            })
        ));
        assert_eq!(p.json::<BTreeMap<String, String>>("None").unwrap(), None);
    }

    #[test]
    fn integers_and_required_values() {
        let p = params(&[("MaxResults", "50"), ("Bad", "5x")]);
        assert_eq!(p.int("MaxResults").unwrap(), Some(50));
        assert!(p.int("Bad").is_err());
        assert!(matches!(
            p.required("OrgId"),
            Err(Error::InvalidParameter {
                problem: ParamProblem::Missing,
                ..
            })
        ));
    }

    #[test]
    fn protocol_parameters_are_left_out() {
        let p = params(&[
            ("Action", "CreateUsers"),
            ("SignatureType", "BEARERTOKEN"),
            ("ShowExtras.Org", "True"),
        ]);
        assert_eq!(p.get("Action"), None);
        assert_eq!(p.get("SignatureType"), None);
        assert_eq!(p.get("ShowExtras.Org"), Some("True"));
    }
}
