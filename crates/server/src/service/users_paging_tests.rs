//! The users list paged both ways by one marker (issue 20), without HTTP and on each backend:
//! forward to the last page and back again gives exactly the same pages, for every search the
//! console offers (each reads in its own order) and within a group admin's subtrees; the
//! first page has no previous marker, the last no next one.

use super::console::ConsoleScope;
use super::testing::{scratch_services_on_each_backend, superadmin};
use super::users::UserCreation;
use super::Services;
use crate::model::{
    ListedBothWays, NewGroupSpec, NewUserSpec, PageDirection, Role, UserSearch, UserStatus,
    UserWithExtras,
};

/// A page size that leaves a short last page for most searches.
const LIMIT: i64 = 7;

/// Users whose names, nick names, e-mails and phones sort in orders unlike their ids' (and
/// nick names repeat, so the id breaks ties); every fifth disabled, every seventh an admin;
/// the first 40 in the group `east` (below `sales`), the next 10 in `sales` itself.
async fn seed(services: &Services) -> (String, String) {
    let admin = superadmin();
    let group = |name: &str, parent: Option<String>| NewGroupSpec {
        name: name.into(),
        description: None,
        parent_group_id: parent,
        is_root: None,
    };
    let sales = services
        .create_group(&admin, group("sales", None))
        .await
        .unwrap()
        .group_id;
    let east = services
        .create_group(&admin, group("east", Some(sales.clone())))
        .await
        .unwrap()
        .group_id;
    let users = (0..100u32)
        .map(|i| {
            let shuffled = (i * 37) % 100;
            let group_ids = match i {
                0..40 => vec![east.clone()],
                40..50 => vec![sales.clone()],
                _ => Vec::new(),
            };
            UserCreation::Create(NewUserSpec {
                user_id: format!("u{i:03}"),
                user_name: Some(format!("name{shuffled:03}")),
                nick_name: Some(format!("Nick {}", i % 9)),
                email: Some(format!("e{:03}@example.com", (i * 53) % 100)),
                phone: Some(format!("+86 138 {:04}", (i * 71) % 100)),
                status: (i % 5 == 0).then_some(UserStatus::Disabled),
                role: (i % 7 == 0).then_some(Role::Admin),
                group_ids: Some(group_ids),
                ..NewUserSpec::default()
            })
        })
        .collect();
    for created in services.create_users(&admin, users).await.unwrap() {
        created.unwrap();
    }
    (sales, east)
}

/// One page of the console's users list.
async fn page(
    services: &Services,
    scope: &ConsoleScope,
    search: &UserSearch,
    marker: &str,
    direction: PageDirection,
) -> ListedBothWays<UserWithExtras> {
    let search = UserSearch {
        limit: Some(LIMIT),
        marker: (!marker.is_empty()).then(|| marker.to_owned()),
        direction,
        ..search.clone()
    };
    services
        .console_users(&superadmin(), scope, search)
        .await
        .unwrap()
}

fn ids(page: &ListedBothWays<UserWithExtras>) -> Vec<String> {
    page.items.iter().map(|i| i.user.user_id.clone()).collect()
}

/// Pages forward to the end, then back to the start by the previous markers: each page read
/// back holds the rows it held forward, with the same markers; answers the forward pages.
async fn forward_and_back(
    services: &Services,
    scope: &ConsoleScope,
    search: &UserSearch,
) -> Vec<Vec<String>> {
    let mut forward = vec![page(services, scope, search, "", PageDirection::Forward).await];
    assert_eq!(forward[0].previous_marker, "", "{search:?}: the first page");
    while let Some(next) =
        Some(forward.last().unwrap().next_marker.clone()).filter(|m| !m.is_empty())
    {
        forward.push(page(services, scope, search, &next, PageDirection::Forward).await);
    }
    let last = forward.last().unwrap();
    assert_eq!(last.next_marker, "", "{search:?}: the last page");
    let mut shown = forward.len() - 1;
    let mut previous = last.previous_marker.clone();
    while !previous.is_empty() {
        let back = page(services, scope, search, &previous, PageDirection::Backward).await;
        shown -= 1;
        assert_eq!(
            ids(&back),
            ids(&forward[shown]),
            "{search:?}: page {}",
            shown + 1
        );
        assert_eq!(back.next_marker, forward[shown].next_marker, "{search:?}");
        assert_eq!(
            back.previous_marker, forward[shown].previous_marker,
            "{search:?}"
        );
        previous = back.previous_marker;
    }
    assert_eq!(shown, 0, "{search:?}: back at the first page");
    forward.iter().map(ids).collect()
}

#[tokio::test]
async fn pages_read_back_are_the_pages_read_forward_for_every_search() {
    for (_dir, services) in scratch_services_on_each_backend().await {
        let (sales, _) = seed(&services).await;
        let searches = [
            UserSearch::default(),
            UserSearch {
                user_name: Some("name0".into()),
                ..UserSearch::default()
            },
            UserSearch {
                nick_name_contains: Some("ick 3".into()),
                ..UserSearch::default()
            },
            UserSearch {
                email: Some("E0".into()),
                status: Some(UserStatus::Enabled),
                ..UserSearch::default()
            },
            UserSearch {
                phone: Some("+86 138".into()),
                ..UserSearch::default()
            },
            UserSearch {
                role: Some(Role::Admin),
                ..UserSearch::default()
            },
            UserSearch {
                status: Some(UserStatus::Disabled),
                ..UserSearch::default()
            },
        ];
        for search in &searches {
            let pages = forward_and_back(&services, &ConsoleScope::Domain, search).await;
            let flat: Vec<_> = pages.concat();
            let mut distinct = flat.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), flat.len(), "{search:?}: no row twice");
            assert!(pages.len() > 1, "{search:?}: {pages:?}");
        }
        // Every user (and the admin) is shown once; 101 rows leave a last page of three.
        let all = forward_and_back(&services, &ConsoleScope::Domain, &searches[0]).await;
        assert_eq!(all.concat().len(), 101);
        assert_eq!(all.last().unwrap().len(), 3);
        // A group admin's pages hold its subtree's 50 users only, both ways.
        let scope = ConsoleScope::Subtrees(vec![sales]);
        let subtree = forward_and_back(&services, &scope, &UserSearch::default()).await;
        let expected: Vec<String> = (0..50).map(|i| format!("u{i:03}")).collect();
        assert_eq!(subtree.concat(), expected);
        let admins = UserSearch {
            role: Some(Role::Admin),
            ..UserSearch::default()
        };
        let subtree_admins = forward_and_back(&services, &scope, &admins).await;
        assert!(subtree_admins
            .concat()
            .iter()
            .all(|id| id.as_str() < "u050"));
    }
}

#[tokio::test]
async fn a_page_read_back_to_a_shrunk_start_is_the_first_page() {
    for (_dir, services) in scratch_services_on_each_backend().await {
        seed(&services).await;
        let scope = ConsoleScope::Domain;
        let search = UserSearch::default();
        let first = page(&services, &scope, &search, "", PageDirection::Forward).await;
        // Without a marker either direction is the first page.
        let unmarked = page(&services, &scope, &search, "", PageDirection::Backward).await;
        assert_eq!(ids(&unmarked), ids(&first));
        let second = page(
            &services,
            &scope,
            &search,
            &first.next_marker,
            PageDirection::Forward,
        )
        .await;
        // Two of the first page's users go: fewer than a page lie before the second page,
        // so "previous" shows the first page as it is now, full, with no previous link.
        for gone in &ids(&first)[1..3] {
            services.delete_user(&superadmin(), gone).await.unwrap();
        }
        let back = page(
            &services,
            &scope,
            &search,
            &second.previous_marker,
            PageDirection::Backward,
        )
        .await;
        let now_first = page(&services, &scope, &search, "", PageDirection::Forward).await;
        assert_eq!(ids(&back), ids(&now_first));
        assert_eq!(back.items.len(), LIMIT as usize);
        assert_eq!(back.previous_marker, "");
        assert_eq!(back.next_marker, now_first.next_marker);
    }
}
