//! Keyset pagination: `limit` checks and opaque markers.
//!
//! A marker is base64url of the JSON array `[domain, order tag, sort value, id]`: the sort key
//! of the last row returned, and the domain it was made in (a marker of one domain is refused
//! in another). The next page starts strictly after it, so rows added or removed between pages
//! never shift what follows. Markers are opaque to clients but not secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::{Error, ParamProblem, Result};
use crate::model::ListedBothWays;

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    /// `(order tag, sort value, id)` of the last row already seen.
    pub after: Option<(String, String, String)>,
}

impl Page {
    /// Checks `limit` (1..=100, default 100) and decodes `marker` (empty = first page), which
    /// must have been made in `domain_id`.
    pub fn parse(domain_id: &str, limit: Option<i64>, marker: Option<&str>) -> Result<Page> {
        let max = roster_api::MAX_LIMIT;
        Page::parse_limited(domain_id, limit, marker, ("limit", max, max))
    }

    /// As [`Page::parse`], for dialects with their own limits: `(parameter name, largest,
    /// default)`.
    pub fn parse_limited(
        domain_id: &str,
        limit: Option<i64>,
        marker: Option<&str>,
        (name, max, default): (&str, u32, u32),
    ) -> Result<Page> {
        let limit = match limit {
            None => default,
            Some(n) if (1..=i64::from(max)).contains(&n) => n as u32,
            Some(_) => {
                return Err(Error::out_of_range(name)
                    .with_rule(format!("{name} must be between 1 and {max}")))
            }
        };
        let after = match marker {
            None | Some("") => None,
            Some(m) => match decode_marker(m) {
                Some((domain, tag, value, id)) if domain == domain_id => Some((tag, value, id)),
                _ => return Err(invalid_marker()),
            },
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

/// The offset of page `number` (from 1) of `size` (1..=100) rows, for the few APIs that page
/// by number over small sets (eds-user user groups and resource groups).
pub fn numbered_page_offset(number: i64, size: i64) -> Result<i64> {
    if number < 1 {
        return Err(Error::out_of_range("PageNumber"));
    }
    if !(1..=i64::from(roster_api::MAX_LIMIT)).contains(&size) {
        return Err(Error::out_of_range("PageSize"));
    }
    Ok((number - 1).saturating_mul(size))
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

/// Finishes a forward page of a list paged both ways, read as `limit + 1` rows after
/// `page`'s marker (or from the start): as [`finish_page`], and the marker that reads the
/// page before it backwards from its first row (`""` on the first page, which no marker
/// reaches).
pub fn finish_forward_page<T>(
    rows: Vec<T>,
    page: &Page,
    marker_of: impl Fn(&T) -> String,
) -> ListedBothWays<T> {
    let (items, next_marker) = finish_page(rows, page.limit, &marker_of);
    let previous_marker = match items.first() {
        Some(first) if page.after.is_some() => marker_of(first),
        _ => String::new(),
    };
    ListedBothWays {
        items,
        next_marker,
        previous_marker,
    }
}

/// Finishes a backward page, read as `limit + 1` rows before a marker, last first: the rows
/// in the list's order, the marker of the next page (from its last row, which the marker's
/// page follows) and of the previous one (`""` when no row lies before it). `None` when fewer
/// than `limit` rows lie before the marker (rows went since it was made): then the page
/// before it is the first page, read forwards.
pub fn finish_backward_page<T>(
    mut rows: Vec<T>,
    limit: u32,
    marker_of: impl Fn(&T) -> String,
) -> Option<ListedBothWays<T>> {
    let limit = limit as usize;
    if rows.len() < limit {
        return None;
    }
    let more_before = rows.len() > limit;
    rows.truncate(limit);
    rows.reverse();
    let previous_marker = match rows.first() {
        Some(first) if more_before => marker_of(first),
        _ => String::new(),
    };
    let next_marker = rows.last().map_or_else(String::new, &marker_of);
    Some(ListedBothWays {
        items: rows,
        next_marker,
        previous_marker,
    })
}

/// The marker that continues after a row with this sort key, in this domain.
pub fn encode_marker(domain_id: &str, order_tag: &str, value: &str, id: &str) -> String {
    let key = serde_json::json!([domain_id, order_tag, value, id]);
    URL_SAFE_NO_PAD.encode(key.to_string())
}

fn decode_marker(marker: &str) -> Option<(String, String, String, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(marker.trim_end_matches('=')).ok()?;
    let (domain, tag, value, id): (String, String, String, String) =
        serde_json::from_slice(&bytes).ok()?;
    // A NUL cannot be a sort key (PostgreSQL refuses it): such a marker was never made here.
    let has_nul = [&domain, &tag, &value, &id]
        .iter()
        .any(|s| s.contains('\0'));
    (!id.is_empty() && !has_nul).then_some((domain, tag, value, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_even_with_newlines_in_the_id() {
        let m = encode_marker("d", "nn", "alice", "u\n1");
        let page = Page::parse("d", Some(5), Some(&m)).unwrap();
        assert_eq!(
            page.after_for("nn").unwrap(),
            Some(("alice".into(), "u\n1".into()))
        );
        assert!(page.after_for("id").is_err());
        assert!(
            Page::parse("other", Some(5), Some(&m)).is_err(),
            "domain-bound"
        );
    }

    #[test]
    fn limit_outside_1_to_100_is_refused() {
        for bad in [0, -1, 101, i64::MAX] {
            assert!(Page::parse("d", Some(bad), None).is_err(), "{bad}");
        }
        assert_eq!(Page::parse("d", None, Some("")).unwrap().limit, 100);
    }

    #[test]
    fn markers_with_a_nul_are_refused() {
        let m = encode_marker("d", "id", "", "u\u{0}1");
        assert!(Page::parse("d", None, Some(&m)).is_err());
    }

    #[test]
    fn dialects_set_their_own_limits() {
        let page = Page::parse_limited("d", None, None, ("MaxResults", 500, 200)).unwrap();
        assert_eq!(page.limit, 200);
        assert!(Page::parse_limited("d", Some(501), None, ("MaxResults", 500, 200)).is_err());
        assert_eq!(numbered_page_offset(3, 10).unwrap(), 20);
        assert!(numbered_page_offset(0, 10).is_err());
        assert!(numbered_page_offset(1, 101).is_err());
    }

    #[test]
    fn pages_finish_both_ways_with_one_marker_each() {
        let key = |n: &u32| format!("k{n}");
        let first = Page::parse("d", Some(3), None).unwrap();
        let page = finish_forward_page(vec![1, 2, 3, 4], &first, key);
        assert_eq!(page.items, [1, 2, 3]);
        assert_eq!(
            (page.next_marker.as_str(), page.previous_marker.as_str()),
            ("k3", "")
        );
        let m = encode_marker("d", "id", "", "3");
        let later = Page::parse("d", Some(3), Some(&m)).unwrap();
        let last = finish_forward_page(vec![4, 5], &later, key);
        assert_eq!(
            (last.next_marker.as_str(), last.previous_marker.as_str()),
            ("", "k4")
        );
        // Read back from 7: 6, 5, 4 and one more, so a page lies before 4.
        let back = finish_backward_page(vec![6, 5, 4, 3], 3, key).unwrap();
        assert_eq!(back.items, [4, 5, 6]);
        assert_eq!(
            (back.next_marker.as_str(), back.previous_marker.as_str()),
            ("k6", "k4")
        );
        let start = finish_backward_page(vec![3, 2, 1], 3, key).unwrap();
        assert_eq!(start.items, [1, 2, 3]);
        assert_eq!(start.previous_marker, "", "the first page");
        assert!(finish_backward_page(vec![2, 1], 3, key).is_none());
    }

    #[test]
    fn garbage_markers_are_refused() {
        for bad in ["!!", "YWJj", "%%%"] {
            assert!(Page::parse("d", None, Some(bad)).is_err(), "{bad}");
        }
    }
}
