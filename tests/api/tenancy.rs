use serde_json::json;

use crate::{doc, gql::*, helpers::*};

#[tokio::test]
async fn unverified_users_cannot_create_a_tenant() {
    let app = spawn_app().await;
    app.sign_up("unverified@example.com").await.data();
    let s = app.log_in("unverified@example.com").await;
    let r = app
        .gql(
            Some(&s.access),
            doc!("tenancy/CreateTenant"),
            json!({ "input": { "name": "Acme", "slug": "acme" } }),
        )
        .await;
    assert_eq!(r.code(), "EMAIL_NOT_VERIFIED");
    assert!(r.message().contains("verified"));
}

#[tokio::test]
async fn creating_a_tenant_makes_the_creator_its_owner() {
    let app = spawn_app().await;
    let s = app.verified_user("owner@example.com").await;
    let input = create_tenant::CreateTenantInput { name: "Acme Inc".into(), slug: "acme".into() };
    let r = app.op::<CreateTenant>(Some(&s.access), create_tenant::Variables { input }).await;
    let tenant = r.into_data().create_tenant.tenant;
    assert_eq!(tenant.slug, "acme");
    assert_eq!(tenant.status, "active");
    assert!(tenant.viewer_permissions.contains(&create_tenant::Permission::TENANT_DELETE));

    let tenants = app.viewer(&s.access).await.tenants;
    assert_eq!(tenants.total_count, 1);
    assert_eq!(tenants.edges[0].node.viewer_role.key, "owner");

    let vars = tenant::Variables { id: None, slug: Some("acme".into()) };
    let t = app.op::<Tenant>(Some(&s.access), vars).await.into_data().tenant;
    assert_eq!(t.id, tenant.id);
    let members = t.members.expect("members");
    assert_eq!(members.total_count, 1);
    let member = &members.edges[0].node;
    assert_eq!(member.user.email.as_deref(), Some("owner@example.com"));
    assert_eq!(member.role.key, "owner");
    let roles = t.roles;
    assert_eq!(roles.total_count, 4);
    let keys: Vec<&str> = roles.edges.iter().map(|e| e.node.key.as_str()).collect();
    assert_eq!(keys, ["owner", "admin", "member", "viewer"]);
}

#[tokio::test]
async fn tenant_input_is_validated_and_slugs_are_unique() {
    let app = spawn_app().await;
    let s = app.verified_user("slugs@example.com").await;
    for (input, field) in [
        (json!({ "name": "X", "slug": "Bad Slug" }), "input.slug"),
        (json!({ "name": "X", "slug": "-edge" }), "input.slug"),
        (json!({ "name": "X", "slug": "ab" }), "input.slug"),
        (json!({ "name": " ", "slug": "fine-slug" }), "input.name"),
    ] {
        let r = app.gql(Some(&s.access), doc!("tenancy/CreateTenant"), json!({ "input": input })).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{input}");
        assert_eq!(r.field(), field);
    }
    app.create_tenant(&s, "taken").await;
    let r = app
        .gql(
            Some(&s.access),
            doc!("tenancy/CreateTenant"),
            json!({ "input": { "name": "Again", "slug": "taken" } }),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    assert_eq!(r.field(), "input.slug");
    assert_eq!(app.viewer(&s.access).await.tenants.total_count, 1, "failed attempts created nothing");
}

#[tokio::test]
async fn a_non_member_gets_not_found_for_another_tenant() {
    let app = spawn_app().await;
    let owner = app.verified_user("a@example.com").await;
    let outsider = app.verified_user("b@example.com").await;
    let id = app.create_tenant(&owner, "secret-org").await;

    for vars in [json!({ "id": id }), json!({ "slug": "secret-org" }), json!({ "slug": "does-not-exist" })] {
        let r = app.gql(Some(&outsider.access), doc!("tenancy/Tenant"), vars.clone()).await;
        assert_eq!(r.code(), "NOT_FOUND", "{vars}");
        assert!(r.0["data"].is_null() || r.0["data"]["tenant"].is_null());
    }
    let r = app.gql(Some(&outsider.access), doc!("relay/Node"), json!({ "id": id })).await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = app
        .gql(
            Some(&outsider.access),
            doc!("tenancy/UpdateTenant"),
            json!({ "input": { "id": id, "name": "Pwned" } }),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = app.gql(None, doc!("tenancy/Tenant"), json!({ "id": id })).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");

    let t = app.tenant(&owner.access, &id).await;
    assert_eq!(t.name, "Org secret-org", "the failed update changed nothing");
}

#[tokio::test]
async fn owner_updates_the_tenant_and_node_resolves_it() {
    let app = spawn_app().await;
    let s = app.verified_user("upd@example.com").await;
    let id = app.create_tenant(&s, "renamed").await;
    let r = app
        .op_json::<UpdateTenant>(Some(&s.access), json!({ "input": { "id": id, "name": "New Name" } }))
        .await;
    assert_eq!(r.data().update_tenant.tenant.name, "New Name");
    let r = app
        .gql(Some(&s.access), doc!("tenancy/UpdateTenant"), json!({ "input": { "id": id, "name": "" } }))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert_eq!(r.field(), "input.name");

    let node = app.op::<Node>(Some(&s.access), node::Variables { id: id.clone() }).await.into_data().node;
    let node::NodeNodeOn::Tenant(t) = node.on else { panic!("not a tenant: {node:?}") };
    assert_eq!(t.name, "New Name");
    let me =
        app.op::<Node>(Some(&s.access), node::Variables { id: s.user_id.clone() }).await.into_data().node;
    assert!(matches!(me.on, node::NodeNodeOn::User(_)), "{me:?}");
    let ids = vec![id.clone(), "bm9wZQ".into(), s.user_id.clone()];
    let list = app.op::<Nodes>(Some(&s.access), nodes::Variables { ids }).await.into_data().nodes;
    assert!(matches!(list[0].as_ref().map(|n| &n.on), Some(nodes::NodesNodesOn::Tenant)), "{list:?}");
    assert!(list[1].is_none());
    assert!(matches!(list[2].as_ref().map(|n| &n.on), Some(nodes::NodesNodesOn::User)), "{list:?}");
}

#[tokio::test]
async fn viewer_tenants_is_a_cursor_connection_with_a_maximum_page_size() {
    let app = spawn_app().await;
    let s = app.verified_user("pages@example.com").await;
    for slug in ["org-one", "org-two", "org-three"] {
        app.create_tenant(&s, slug).await;
    }
    let page = |vars| {
        let app = &app;
        let token = s.access.clone();
        async move { app.op_json::<Viewer>(Some(&token), vars).await }
    };
    let tenants = |r: Op<viewer::ResponseData>| r.into_data().viewer.expect("a viewer").tenants;
    let conn = tenants(page(json!({ "first": 2 })).await);
    assert_eq!(conn.total_count, 3);
    assert_eq!(conn.edges.len(), 2);
    assert!(conn.page_info.has_next_page);
    assert_eq!(conn.edges[0].node.slug, "org-one");

    let conn2 = tenants(page(json!({ "first": 2, "after": conn.page_info.end_cursor })).await);
    assert_eq!(conn2.edges.len(), 1);
    assert_eq!(conn2.edges[0].node.slug, "org-three");
    assert!(!conn2.page_info.has_next_page);
    assert!(conn2.page_info.has_previous_page);

    let last = tenants(page(json!({ "last": 1 })).await);
    assert_eq!(last.edges[0].node.slug, "org-three");
    let before = tenants(page(json!({ "last": 5, "before": conn2.edges[0].cursor })).await);
    let slugs: Vec<_> = before.edges.iter().map(|e| e.node.slug.as_str()).collect();
    assert_eq!(slugs, ["org-one", "org-two"]);

    let too_big = page(json!({ "first": 101 })).await;
    assert_eq!(too_big.code(), "BAD_USER_INPUT");
    assert_eq!(too_big.field(), "first");
    let bad_cursor = page(json!({ "first": 1, "after": "%%%" })).await;
    assert_eq!(bad_cursor.code(), "BAD_USER_INPUT");
    assert_eq!(bad_cursor.field(), "after");
}

#[tokio::test]
async fn nested_connections_page_each_parent_separately() {
    let app = spawn_app().await;
    let s = app.verified_user("nested@example.com").await;
    app.create_tenant(&s, "first-org").await;
    app.create_tenant(&s, "second-org").await;
    let query = "query($after: String) { viewer { tenants { edges { node { slug \
        head: roles(first: 2, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { key } } } \
        tail: roles(last: 1) { pageInfo { hasPreviousPage hasNextPage } edges { node { key } } } } } } } }";
    // The query is not one of graphql/'s documents: its answer is typed here by hand.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        viewer: ViewerTenants,
    }
    #[derive(serde::Deserialize)]
    struct ViewerTenants {
        tenants: Connection<Org>,
    }
    #[derive(serde::Deserialize)]
    struct Connection<N> {
        #[serde(rename = "totalCount")]
        total_count: Option<i64>,
        #[serde(rename = "pageInfo")]
        page_info: Option<PageInfo>,
        edges: Vec<Edge<N>>,
    }
    #[derive(serde::Deserialize)]
    struct Edge<N> {
        node: N,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PageInfo {
        has_next_page: bool,
        has_previous_page: bool,
        end_cursor: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Org {
        head: Connection<Key>,
        tail: Connection<Key>,
    }
    #[derive(serde::Deserialize)]
    struct Key {
        key: String,
    }
    let keys =
        |conn: &Connection<Key>| -> Vec<String> { conn.edges.iter().map(|e| e.node.key.clone()).collect() };
    let answer = |r: Gql| -> Answer { serde_json::from_value(r.data().clone()).expect("the answer's shape") };
    let tenants = answer(app.gql(Some(&s.access), query, json!({})).await).viewer.tenants.edges;
    assert_eq!(tenants.len(), 2);
    for t in &tenants {
        let head = &t.node.head;
        assert_eq!(keys(head), ["owner", "admin"], "each organisation gets its own first page");
        assert_eq!(head.total_count, Some(4));
        let info = head.page_info.as_ref().unwrap();
        assert!(info.has_next_page);
        assert!(!info.has_previous_page);
        let tail = &t.node.tail;
        assert_eq!(keys(tail), ["viewer"]);
        assert!(tail.page_info.as_ref().unwrap().has_previous_page);
    }
    // The second page of the first organisation, by its cursor.
    let cursor = tenants[0].node.head.page_info.as_ref().unwrap().end_cursor.clone();
    let r = app.gql(Some(&s.access), query, json!({ "after": cursor })).await;
    let next = answer(r).viewer.tenants.edges.remove(0).node.head;
    assert_eq!(keys(&next), ["member", "viewer"]);
    let info = next.page_info.unwrap();
    assert!(!info.has_next_page);
    assert!(info.has_previous_page);
}

#[tokio::test]
async fn settings_are_validated_and_kept_per_part() {
    let app = spawn_app().await;
    let s = app.verified_user("set@example.com").await;
    let id = app.create_tenant(&s, "settings-org").await;
    let update = |input: serde_json::Value| {
        let (app, token) = (&app, s.access.clone());
        async move { app.op_json::<UpdateTenantSettings>(Some(&token), json!({ "input": input })).await }
    };
    let r = update(json!({ "tenantId": id, "branding": { "logoUrl": "https://cdn.example.com/logo.svg", "primaryColor": "#FF6600" } })).await;
    assert_eq!(
        r.data().update_tenant_settings.tenant.settings.branding.primary_color.as_deref(),
        Some("#ff6600")
    );
    let r = update(json!({ "tenantId": id, "general": { "website": "https://acme.example", "defaultTimeZone": "America/New_York" } })).await;
    let settings = &r.data().update_tenant_settings.tenant.settings;
    assert_eq!(settings.general.default_time_zone.as_deref(), Some("America/New_York"));
    assert_eq!(
        settings.branding.logo_url.as_deref(),
        Some("https://cdn.example.com/logo.svg"),
        "other parts stay"
    );
    for (input, field) in [
        (json!({ "tenantId": id, "branding": { "accentColor": "blue" } }), "input.branding.accentColor"),
        (json!({ "tenantId": id, "general": { "website": "javascript:alert(1)" } }), "input.general.website"),
        (
            json!({ "tenantId": id, "general": { "defaultTimeZone": "Nowhere/Town" } }),
            "input.general.defaultTimeZone",
        ),
        (json!({ "tenantId": id, "notificationDefaults": "loud" }), "input.notificationDefaults"),
    ] {
        let r = update(input.clone()).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{input}");
        assert_eq!(r.field(), field);
    }
    let t = app.op::<TenantSettings>(Some(&s.access), tenant_settings::Variables { id: id.clone() }).await;
    let t = t.into_data().tenant;
    assert_eq!(
        t.settings.general.website.as_deref(),
        Some("https://acme.example"),
        "bad input changed nothing"
    );
    // The plan's features (the tests' Free plan, tests/api/plans-roomy.json), set by billing.
    assert_eq!(t.features, json!({ "apiKeys": true, "customRoles": true, "webhooks": true }));
}

#[tokio::test]
async fn the_slug_can_be_changed_but_not_to_a_taken_one() {
    let app = spawn_app().await;
    let s = app.verified_user("set@example.com").await;
    let id = app.create_tenant(&s, "settings-org").await;
    let r = app
        .op_json::<UpdateTenant>(Some(&s.access), json!({ "input": { "id": id, "slug": "renamed-org" } }))
        .await;
    assert_eq!(r.data().update_tenant.tenant.slug, "renamed-org");
    app.create_tenant(&s, "taken-org").await;
    let r = app
        .gql(
            Some(&s.access),
            doc!("tenancy/UpdateTenant"),
            json!({ "input": { "id": id, "slug": "taken-org" } }),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
}

#[tokio::test]
async fn only_an_owner_typing_the_slug_suspends_reactivates_or_deletes() {
    let app = spawn_app().await;
    let owner = app.verified_user("life@example.com").await;
    let id = app.create_tenant(&owner, "life-org").await;
    let (admin, _) = app.join_as(&owner, &id, "life-admin@example.com", "admin").await;

    let r = app
        .gql(
            Some(&admin.access),
            doc!("tenancy/SuspendTenant"),
            json!({ "id": id, "confirmSlug": "life-org" }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = app
        .gql(Some(&owner.access), doc!("tenancy/SuspendTenant"), json!({ "id": id, "confirmSlug": "life" }))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert_eq!(r.field(), "confirmSlug");
    let vars = suspend_tenant::Variables { id: id.clone(), confirm_slug: "life-org".into() };
    let r = app.op::<SuspendTenant>(Some(&owner.access), vars).await;
    assert_eq!(r.data().suspend_tenant.tenant.status, "suspended");

    // Suspended: reading works, changing does not.
    app.gql(Some(&admin.access), doc!("tenancy/TenantSettings"), json!({ "id": id })).await.data();
    let r = app
        .gql(
            Some(&admin.access),
            doc!("tenancy/UpdateTenant"),
            json!({ "input": { "id": id, "name": "Nope" } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert!(r.message().contains("suspended"));

    app.gql(
        Some(&owner.access),
        doc!("tenancy/ReactivateTenant"),
        json!({ "id": id, "confirmSlug": "life-org" }),
    )
    .await
    .data();
    app.gql(
        Some(&admin.access),
        doc!("tenancy/UpdateTenant"),
        json!({ "input": { "id": id, "name": "Yes" } }),
    )
    .await
    .data();

    let r = app
        .gql(
            Some(&admin.access),
            doc!("tenancy/DeleteTenant"),
            json!({ "id": id, "confirmSlug": "life-org" }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let vars = delete_tenant::Variables { id: id.clone(), confirm_slug: "life-org".into() };
    let r = app.op::<DeleteTenant>(Some(&owner.access), vars).await;
    assert_eq!(r.data().delete_tenant.deleted_tenant_id, id);
    // Deleted: read-only for its grace period (tenant_deletion.rs follows it to the end).
    assert!(r.data().delete_tenant.tenant.deletion_due_at.is_some());
    let r = app
        .gql(
            Some(&admin.access),
            doc!("tenancy/UpdateTenant"),
            json!({ "input": { "id": id, "name": "No" } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert!(r.message().contains("scheduled for deletion"), "{}", r.message());
}

#[tokio::test]
async fn an_id_of_the_wrong_type_is_bad_user_input_naming_the_argument() {
    let app = spawn_app().await;
    let s = app.verified_user("types@example.com").await;
    let tenant = app.create_tenant(&s, "types-org").await;

    // A User's ID where a Tenant's belongs.
    let r = app.gql(Some(&s.access), doc!("tenancy/Tenant"), json!({ "id": s.user_id })).await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{:?}", r.0);
    assert_eq!(r.field(), "id");
    assert!(r.message().contains("User") && r.message().contains("Tenant"), "{}", r.message());

    // A Tenant's ID where a Workflow's belongs.
    let r = app.gql(Some(&s.access), doc!("workflows/Workflow"), json!({ "id": tenant })).await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{:?}", r.0);
    assert_eq!(r.field(), "id");

    // An ID of the right type that names nothing stays NOT_FOUND.
    let missing = zygo::graphql::relay::to_global_id("Tenant", uuid::Uuid::now_v7()).0;
    let r = app.gql(Some(&s.access), doc!("tenancy/Tenant"), json!({ "id": missing })).await;
    assert_eq!(r.code(), "NOT_FOUND", "{:?}", r.0);
}

/// Teams, API keys, secrets and workflow versions are nodes: `node(id:)` finds each for a
/// member with the permission its list needs, answers FORBIDDEN naming the permission to a
/// member without it, and NOT_FOUND to anyone outside the organisation.
#[tokio::test]
async fn every_organisation_object_is_a_node_within_its_lists_permission() {
    let app = spawn_app().await;
    let owner = app.verified_user("nodes@example.com").await;
    let tenant = app.create_tenant(&owner, "nodes").await;
    let (viewer, _) = app.join_as(&owner, &tenant, "nodes-viewer@example.com", "viewer").await;
    let outsider = app.verified_user("nodes-outsider@example.com").await;
    app.create_tenant(&outsider, "elsewhere").await;
    let o = Some(owner.access.as_str());
    let team = app.op_json::<CreateTeam>(o, json!({ "input": { "tenantId": tenant, "name": "Ops" } })).await;
    let team = team.into_data().create_team.team.id;
    let key = app
        .op_json::<CreateApiKey>(
            o,
            json!({ "input": { "tenantId": tenant, "name": "Deploy", "permissions": ["TENANT_READ"] } }),
        )
        .await;
    let key = key.into_data().create_api_key.api_key.id;
    let secret = app
        .op_json::<CreateSecret>(
            o,
            json!({ "input": { "tenantId": tenant, "name": "TOKEN", "value": "s3cret" } }),
        )
        .await;
    let secret = secret.into_data().create_secret.secret.id;
    let graph = json!({
        "nodes": [{ "id": "start", "type": "trigger.manual", "name": "start", "config": {} }],
        "edges": [],
    });
    let workflow = app
        .op_json::<CreateWorkflow>(
            o,
            json!({ "input": { "tenantId": tenant, "name": "Nodes", "graph": graph } }),
        )
        .await;
    let workflow = workflow.into_data().create_workflow.workflow.id;
    let version =
        app.op_json::<PublishWorkflowVersion>(o, json!({ "input": { "workflowId": workflow } })).await;
    let version = version.into_data().publish_workflow_version.version.id;
    let node = |s: &Session, id: &str| {
        let (token, id) = (s.access.clone(), id.to_string());
        let app = &app;
        async move { app.op::<Node>(Some(&token), node::Variables { id }).await }
    };
    for (id, ty, value) in [
        (&team, "Team", json!("Ops")),
        (&key, "ApiKey", json!("Deploy")),
        (&secret, "Secret", json!("TOKEN")),
        (&version, "WorkflowVersion", json!(1)),
    ] {
        let r = node(&owner, id).await;
        let n = &r.data().node;
        // The type, and its `name` (a version's `version`).
        let got = match &n.on {
            node::NodeNodeOn::Team(t) => ("Team", json!(t.name)),
            node::NodeNodeOn::ApiKey(k) => ("ApiKey", json!(k.name)),
            node::NodeNodeOn::Secret(s) => ("Secret", json!(s.name)),
            node::NodeNodeOn::WorkflowVersion(v) => ("WorkflowVersion", json!(v.version)),
            other => panic!("a {ty} expected: {other:?}"),
        };
        assert_eq!(got, (ty, value), "{r:?}");
        assert_eq!(&n.id, id);
        let r = node(&outsider, id).await;
        assert_eq!(r.code(), "NOT_FOUND", "an outsider looks up a {ty}: {r:?}");
    }
    // The viewer role reads teams, secret names and versions, but not API keys.
    for id in [&team, &secret, &version] {
        node(&viewer, id).await.data();
    }
    let r = node(&viewer, &key).await;
    assert_eq!(r.code(), "FORBIDDEN", "{r:?}");
    assert!(r.message().contains("API_KEYS_MANAGE") || r.message().contains("api_keys.manage"), "{r:?}");
}
