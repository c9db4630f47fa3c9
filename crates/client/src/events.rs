//! The change-event feed.

use super::*;

impl Client {
    /// One page of the domain's change events in commit order (`/v2/event/list`, admin).
    /// Continue with its `next_marker`; an empty page means caught up (poll again later
    /// with the same marker).
    pub async fn list_events(&self, request: &ListEventsRequest) -> Result<ListEventsResponse> {
        self.call("/v2/event/list", request).await
    }
}
