//! Groups, memberships and role assignments.

use super::*;

impl Client {
    /// Creates a group (`/v2/group/create`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// let sales = client
    ///     .create_group(&api::CreateGroupRequest {
    ///         group_name: "Sales".into(),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_group(&self, request: &CreateGroupRequest) -> Result<Group> {
        self.call("/v2/group/create", request).await
    }

    /// Gets a group (`/v2/group/get`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// let group = client
    ///     .get_group(&api::GroupIdRequest { group_id: "g1".into() })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_group(&self, request: &GroupIdRequest) -> Result<Group> {
        self.call("/v2/group/get", request).await
    }

    /// Updates or moves a group (`/v2/group/update`): only the fields given change.
    pub async fn update_group(&self, request: &UpdateGroupRequest) -> Result<Group> {
        self.call("/v2/group/update", request).await
    }

    /// Renames a group (`/v2/group/update_name`, deprecated in PDS).
    pub async fn update_group_name(&self, request: &UpdateGroupNameRequest) -> Result<()> {
        self.call_without_answer("/v2/group/update_name", request)
            .await
    }

    /// Deletes a group (`/v2/group/delete`).
    pub async fn delete_group(&self, request: &GroupIdRequest) -> Result<()> {
        self.call_without_answer("/v2/group/delete", request).await
    }

    /// One page of groups (`/v2/group/list`); see [`Client::all_groups`] for every page.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// let page = client.list_groups(&Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_groups(&self, request: &ListGroupRequest) -> Result<ListGroupResponse> {
        self.call("/v2/group/list", request).await
    }

    /// One page of a group search (`/v2/group/search`).
    pub async fn search_groups(&self, request: &SearchGroupRequest) -> Result<ListGroupResponse> {
        self.call("/v2/group/search", request).await
    }

    /// Adds a user or a subgroup to a group (`/v2/group/add_member`).
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// use roster_client::api;
    /// client
    ///     .add_group_member(&api::GroupMemberRequest {
    ///         group_id: "g1".into(),
    ///         member_type: api::MemberType::User,
    ///         member_id: "alice".into(),
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn add_group_member(&self, request: &GroupMemberRequest) -> Result<()> {
        self.call_without_answer("/v2/group/add_member", request)
            .await
    }

    /// Removes a member from a group (`/v2/group/remove_member`).
    pub async fn remove_group_member(&self, request: &GroupMemberRequest) -> Result<()> {
        self.call_without_answer("/v2/group/remove_member", request)
            .await
    }

    /// One page of a group's members (`/v2/group/list_member`).
    pub async fn list_group_members(
        &self,
        request: &ListGroupMemberRequest,
    ) -> Result<ListGroupMemberResponse> {
        self.call("/v2/group/list_member", request).await
    }

    /// One page of a group's members with extra information (`/v2/user/list_group_user`).
    pub async fn list_group_users(
        &self,
        request: &ListGroupUserRequest,
    ) -> Result<ListGroupMemberResponse> {
        self.call("/v2/user/list_group_user", request).await
    }

    /// Gives an identity a role on a resource (`/v2/role/assign`).
    pub async fn assign_role(&self, request: &AssignRoleRequest) -> Result<()> {
        self.call_without_answer("/v2/role/assign", request).await
    }

    /// Takes a role back (`/v2/role/cancel_assign`).
    pub async fn cancel_assign_role(&self, request: &AssignRoleRequest) -> Result<()> {
        self.call_without_answer("/v2/role/cancel_assign", request)
            .await
    }

    /// One page of the role assignments on a resource (`/v2/role/list_assignment`).
    pub async fn list_assignments(
        &self,
        request: &ListAssignmentRequest,
    ) -> Result<ListAssignmentResponse> {
        self.call("/v2/role/list_assignment", request).await
    }

    /// The roles an identity holds (`/v2/role/list_identity_role`).
    pub async fn list_identity_roles(
        &self,
        request: &ListIdentityRoleRequest,
    ) -> Result<ListIdentityRoleResponse> {
        self.call("/v2/role/list_identity_role", request).await
    }

    /// Every group `/v2/group/list` answers, following `next_marker` to the last page.
    ///
    /// ```no_run
    /// # async fn demo(client: &roster_client::Client) -> roster_client::Result<()> {
    /// let groups = client.all_groups(&Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn all_groups(&self, request: &ListGroupRequest) -> Result<Vec<Group>> {
        self.groups_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_groups`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn groups_stream<'a>(
        &'a self,
        request: &ListGroupRequest,
    ) -> impl Stream<Item = Result<Group>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListGroupRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_groups(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Every group a `/v2/group/search` matches, following `next_marker` to the last page.
    pub async fn search_all_groups(&self, request: &SearchGroupRequest) -> Result<Vec<Group>> {
        self.search_groups_stream(request).try_collect().await
    }

    /// The stream form of [`Client::search_all_groups`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn search_groups_stream<'a>(
        &'a self,
        request: &SearchGroupRequest,
    ) -> impl Stream<Item = Result<Group>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = SearchGroupRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.search_groups(&page).await }
            },
            |page| (page.items, page.next_marker),
        )
    }

    /// Every member of a group (`/v2/group/list_member`), following `next_marker` to the last
    /// page.
    pub async fn all_group_members(
        &self,
        request: &ListGroupMemberRequest,
    ) -> Result<GroupMembers> {
        collect_pages(
            request.marker.clone(),
            |marker| {
                let page = ListGroupMemberRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_group_members(&page).await }
            },
            absorb_members,
        )
        .await
    }

    /// Every member `/v2/user/list_group_user` answers, following `next_marker` to the last
    /// page.
    pub async fn all_group_users(&self, request: &ListGroupUserRequest) -> Result<GroupMembers> {
        collect_pages(
            request.marker.clone(),
            |marker| {
                let page = ListGroupUserRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_group_users(&page).await }
            },
            absorb_members,
        )
        .await
    }

    /// Every role assignment on a resource, following `next_marker` to the last page.
    pub async fn all_assignments(
        &self,
        request: &ListAssignmentRequest,
    ) -> Result<Vec<Assignment>> {
        self.assignments_stream(request).try_collect().await
    }

    /// The stream form of [`Client::all_assignments`]: items as their pages arrive, the next page
    /// fetched only when the stream is read that far.
    pub fn assignments_stream<'a>(
        &'a self,
        request: &ListAssignmentRequest,
    ) -> impl Stream<Item = Result<Assignment>> + 'a {
        let request = request.clone();
        item_stream(
            request.marker.clone(),
            move |marker| {
                let page = ListAssignmentRequest {
                    marker,
                    ..request.clone()
                };
                async move { self.list_assignments(&page).await }
            },
            |page| (page.assignment_list, page.next_marker),
        )
    }
}
