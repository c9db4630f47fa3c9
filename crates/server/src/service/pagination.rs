//! Keyset pagination: `limit` checks and opaque markers.
//!
//! A marker is base64url of `<order tag>\n<sort value>\n<user_id>`: the sort key of the last row
//! returned. The next page starts strictly after it, so rows added or removed between pages
//! never shift what follows. Markers are opaque to clients but not secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::{Error, ParamProblem, Result};

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    /// `(order tag, sort value, id)` of the last row already seen.
    pub after: Option<(String, String, String)>,
}

impl Page {
    /// Checks `limit` (1..=100, default 100) and decodes `marker` (empty = first page).
    pub fn parse(limit: Option<i64>, marker: Option<&str>) -> Result<Page> {
        let limit = match limit {
            None => roster_api::MAX_LIMIT,
            Some(n) if (1..=i64::from(roster_api::MAX_LIMIT)).contains(&n) => n as u32,
            Some(_) => return Err(Error::out_of_range("limit")),
        };
        let after = match marker {
            None | Some("") => None,
            Some(m) => Some(decode_marker(m).ok_or_else(invalid_marker)?),
        };
        Ok(Page { limit, after })
    }

    /// The sort value and id to continue after, if the marker was made for `order_tag`.
    pub fn after_for(&self, order_tag: &str) -> Result<Option<(String, String)>> {
        match &self.after {
            None => Ok(None),
            Some((tag, value, id)) if tag == order_tag => Ok(Some((value.clone(), id.clone()))),
            Some(_) => Err(invalid_marker()),
        }
    }
}

fn invalid_marker() -> Error {
    Error::param(ParamProblem::Invalid, "marker")
}

/// Finishes a page read as `limit + 1` rows: keeps the first `limit`, and answers the marker
/// that continues after the last one kept (`marker_of` it), or `""` when nothing followed.
pub fn finish_page<T>(
    mut rows: Vec<T>,
    limit: u32,
    marker_of: impl FnOnce(&T) -> String,
) -> (Vec<T>, String) {
    let limit = limit as usize;
    if rows.len() <= limit {
        return (rows, String::new());
    }
    rows.truncate(limit);
    let marker = rows.last().map_or_else(String::new, marker_of);
    (rows, marker)
}

/// The marker that continues after a row with this sort key.
pub fn encode_marker(order_tag: &str, value: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{order_tag}\n{value}\n{id}"))
}

fn decode_marker(marker: &str) -> Option<(String, String, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(marker.trim_end_matches('=')).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.splitn(3, '\n');
    let (tag, value, id) = (parts.next()?, parts.next()?, parts.next()?);
    if id.is_empty() {
        return None;
    }
    Some((tag.to_owned(), value.to_owned(), id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_even_with_newlines_in_the_id() {
        let m = encode_marker("nn", "alice", "u\n1");
        let page = Page::parse(Some(5), Some(&m)).unwrap();
        assert_eq!(
            page.after_for("nn").unwrap(),
            Some(("alice".into(), "u\n1".into()))
        );
        assert!(page.after_for("id").is_err());
    }

    #[test]
    fn limit_outside_1_to_100_is_refused() {
        for bad in [0, -1, 101, i64::MAX] {
            assert!(Page::parse(Some(bad), None).is_err(), "{bad}");
        }
        assert_eq!(Page::parse(None, Some("")).unwrap().limit, 100);
    }

    #[test]
    fn garbage_markers_are_refused() {
        for bad in ["!!", "YWJj", "%%%"] {
            assert!(Page::parse(None, Some(bad)).is_err(), "{bad}");
        }
    }
}
