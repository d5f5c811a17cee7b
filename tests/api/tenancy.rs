use serde_json::json;

use crate::{doc, helpers::*};

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
    let r = app
        .gql(
            Some(&s.access),
            doc!("tenancy/CreateTenant"),
            json!({ "input": { "name": "Acme Inc", "slug": "acme" } }),
        )
        .await;
    let tenant = &r.data()["createTenant"]["tenant"];
    assert_eq!(tenant["slug"], "acme");
    assert_eq!(tenant["status"], "active");
    assert!(tenant["viewerPermissions"].as_array().unwrap().contains(&json!("TENANT_DELETE")));

    let viewer = app.gql(Some(&s.access), doc!("identity/Viewer"), json!({})).await;
    let tenants = &viewer.data()["viewer"]["tenants"];
    assert_eq!(tenants["totalCount"], 1);
    assert_eq!(tenants["edges"][0]["node"]["viewerRole"]["key"], "owner");

    let by_slug = app.gql(Some(&s.access), doc!("tenancy/Tenant"), json!({ "slug": "acme" })).await;
    let t = &by_slug.data()["tenant"];
    assert_eq!(t["id"], tenant["id"]);
    assert_eq!(t["members"]["totalCount"], 1);
    let member = &t["members"]["edges"][0]["node"];
    assert_eq!(member["user"]["email"], "owner@example.com");
    assert_eq!(member["role"]["key"], "owner");
    assert_eq!(t["roles"]["totalCount"], 4);
    let keys: Vec<&str> =
        t["roles"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["key"].as_str().unwrap()).collect();
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
    let viewer = app.gql(Some(&s.access), doc!("identity/Viewer"), json!({})).await;
    assert_eq!(viewer.data()["viewer"]["tenants"]["totalCount"], 1, "failed attempts created nothing");
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

    let t = app.gql(Some(&owner.access), doc!("tenancy/Tenant"), json!({ "id": id })).await;
    assert_eq!(t.data()["tenant"]["name"], "Org secret-org", "the failed update changed nothing");
}

#[tokio::test]
async fn owner_updates_the_tenant_and_node_resolves_it() {
    let app = spawn_app().await;
    let s = app.verified_user("upd@example.com").await;
    let id = app.create_tenant(&s, "renamed").await;
    let r = app
        .gql(
            Some(&s.access),
            doc!("tenancy/UpdateTenant"),
            json!({ "input": { "id": id, "name": "New Name" } }),
        )
        .await;
    assert_eq!(r.data()["updateTenant"]["tenant"]["name"], "New Name");
    let r = app
        .gql(Some(&s.access), doc!("tenancy/UpdateTenant"), json!({ "input": { "id": id, "name": "" } }))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert_eq!(r.field(), "input.name");

    let node = app.gql(Some(&s.access), doc!("relay/Node"), json!({ "id": id })).await;
    assert_eq!(node.data()["node"]["__typename"], "Tenant");
    assert_eq!(node.data()["node"]["name"], "New Name");
    let me = app.gql(Some(&s.access), doc!("relay/Node"), json!({ "id": s.user_id })).await;
    assert_eq!(me.data()["node"]["__typename"], "User");
    let nodes =
        app.gql(Some(&s.access), doc!("relay/Nodes"), json!({ "ids": [id, "bm9wZQ", s.user_id] })).await;
    let list = nodes.data()["nodes"].as_array().unwrap().clone();
    assert_eq!(list[0]["__typename"], "Tenant");
    assert!(list[1].is_null());
    assert_eq!(list[2]["__typename"], "User");
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
        async move { app.gql(Some(&token), doc!("identity/Viewer"), vars).await }
    };
    let p1 = page(json!({ "first": 2 })).await;
    let conn = p1.data()["viewer"]["tenants"].clone();
    assert_eq!(conn["totalCount"], 3);
    assert_eq!(conn["edges"].as_array().unwrap().len(), 2);
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    assert_eq!(conn["edges"][0]["node"]["slug"], "org-one");

    let p2 = page(json!({ "first": 2, "after": conn["pageInfo"]["endCursor"] })).await;
    let conn2 = p2.data()["viewer"]["tenants"].clone();
    assert_eq!(conn2["edges"].as_array().unwrap().len(), 1);
    assert_eq!(conn2["edges"][0]["node"]["slug"], "org-three");
    assert_eq!(conn2["pageInfo"]["hasNextPage"], false);
    assert_eq!(conn2["pageInfo"]["hasPreviousPage"], true);

    let last = page(json!({ "last": 1 })).await;
    assert_eq!(last.data()["viewer"]["tenants"]["edges"][0]["node"]["slug"], "org-three");
    let before = page(json!({ "last": 5, "before": conn2["edges"][0]["cursor"] })).await;
    let slugs: Vec<_> = before.data()["viewer"]["tenants"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].clone())
        .collect();
    assert_eq!(slugs, [json!("org-one"), json!("org-two")]);

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
    let keys = |conn: &serde_json::Value| -> Vec<String> {
        conn["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["key"].as_str().unwrap().to_string())
            .collect()
    };
    let r = app.gql(Some(&s.access), query, json!({})).await;
    let tenants = r.data()["viewer"]["tenants"]["edges"].as_array().unwrap().clone();
    assert_eq!(tenants.len(), 2);
    for t in &tenants {
        let head = &t["node"]["head"];
        assert_eq!(keys(head), ["owner", "admin"], "each organisation gets its own first page");
        assert_eq!(head["totalCount"], 4);
        assert_eq!(head["pageInfo"]["hasNextPage"], true);
        assert_eq!(head["pageInfo"]["hasPreviousPage"], false);
        let tail = &t["node"]["tail"];
        assert_eq!(keys(tail), ["viewer"]);
        assert_eq!(tail["pageInfo"]["hasPreviousPage"], true);
    }
    // The second page of the first organisation, by its cursor.
    let cursor = tenants[0]["node"]["head"]["pageInfo"]["endCursor"].clone();
    let r = app.gql(Some(&s.access), query, json!({ "after": cursor })).await;
    let next = r.data()["viewer"]["tenants"]["edges"][0]["node"]["head"].clone();
    assert_eq!(keys(&next), ["member", "viewer"]);
    assert_eq!(next["pageInfo"]["hasNextPage"], false);
    assert_eq!(next["pageInfo"]["hasPreviousPage"], true);
}

#[tokio::test]
async fn settings_are_validated_and_kept_per_part() {
    let app = spawn_app().await;
    let s = app.verified_user("set@example.com").await;
    let id = app.create_tenant(&s, "settings-org").await;
    let update = |input: serde_json::Value| {
        let (app, token) = (&app, s.access.clone());
        async move { app.gql(Some(&token), doc!("tenancy/UpdateTenantSettings"), json!({ "input": input })).await }
    };
    let r = update(json!({ "tenantId": id, "branding": { "logoUrl": "https://cdn.example.com/logo.svg", "primaryColor": "#FF6600" } })).await;
    assert_eq!(r.data()["updateTenantSettings"]["tenant"]["settings"]["branding"]["primaryColor"], "#ff6600");
    let r = update(json!({ "tenantId": id, "general": { "website": "https://acme.example", "defaultTimeZone": "America/New_York" } })).await;
    let settings = &r.data()["updateTenantSettings"]["tenant"]["settings"];
    assert_eq!(settings["general"]["defaultTimeZone"], "America/New_York");
    assert_eq!(settings["branding"]["logoUrl"], "https://cdn.example.com/logo.svg", "other parts stay");
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
    let t = app.gql(Some(&s.access), doc!("tenancy/TenantSettings"), json!({ "id": id })).await;
    assert_eq!(
        t.data()["tenant"]["settings"]["general"]["website"],
        "https://acme.example",
        "bad input changed nothing"
    );
    // The plan's features (the tests' Free plan, tests/api/plans-roomy.json), set by billing.
    assert_eq!(
        t.data()["tenant"]["features"],
        json!({ "apiKeys": true, "customRoles": true, "webhooks": true })
    );

    let r = app
        .gql(
            Some(&s.access),
            doc!("tenancy/UpdateTenant"),
            json!({ "input": { "id": id, "slug": "renamed-org" } }),
        )
        .await;
    assert_eq!(r.data()["updateTenant"]["tenant"]["slug"], "renamed-org");
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
    let r = app
        .gql(
            Some(&owner.access),
            doc!("tenancy/SuspendTenant"),
            json!({ "id": id, "confirmSlug": "life-org" }),
        )
        .await;
    assert_eq!(r.data()["suspendTenant"]["tenant"]["status"], "suspended");

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
    let r = app
        .gql(
            Some(&owner.access),
            doc!("tenancy/DeleteTenant"),
            json!({ "id": id, "confirmSlug": "life-org" }),
        )
        .await;
    assert_eq!(r.data()["deleteTenant"]["deletedTenantId"], id.as_str());
    assert_eq!(
        app.gql(Some(&owner.access), doc!("tenancy/Tenant"), json!({ "id": id })).await.code(),
        "NOT_FOUND"
    );
    let v = app.gql(Some(&admin.access), doc!("identity/Viewer"), json!({})).await;
    assert_eq!(v.data()["viewer"]["tenants"]["totalCount"], 0);
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
    let made = |r: Gql, path: &[&str]| {
        let mut v = r.data().clone();
        for p in path {
            v = v[*p].clone();
        }
        v.as_str().unwrap().to_string()
    };
    let o = Some(owner.access.as_str());
    let team = made(
        app.gql(o, doc!("teams/CreateTeam"), json!({ "input": { "tenantId": tenant, "name": "Ops" } })).await,
        &["createTeam", "team", "id"],
    );
    let key = made(
        app.gql(
            o,
            doc!("api_keys/CreateApiKey"),
            json!({ "input": { "tenantId": tenant, "name": "Deploy", "permissions": ["TENANT_READ"] } }),
        )
        .await,
        &["createApiKey", "apiKey", "id"],
    );
    let secret = made(
        app.gql(
            o,
            doc!("secrets/CreateSecret"),
            json!({ "input": { "tenantId": tenant, "name": "TOKEN", "value": "s3cret" } }),
        )
        .await,
        &["createSecret", "secret", "id"],
    );
    let graph = json!({
        "nodes": [{ "id": "start", "type": "trigger.manual", "name": "start", "config": {} }],
        "edges": [],
    });
    let workflow = made(
        app.gql(
            o,
            doc!("workflows/CreateWorkflow"),
            json!({ "input": { "tenantId": tenant, "name": "Nodes", "graph": graph } }),
        )
        .await,
        &["createWorkflow", "workflow", "id"],
    );
    let version = made(
        app.gql(o, doc!("workflows/PublishWorkflowVersion"), json!({ "input": { "workflowId": workflow } }))
            .await,
        &["publishWorkflowVersion", "version", "id"],
    );
    let node = |s: &Session, id: &str| {
        let (token, id) = (s.access.clone(), id.to_string());
        let app = &app;
        async move { app.gql(Some(&token), doc!("relay/Node"), json!({ "id": id })).await }
    };
    for (id, ty, field, value) in [
        (&team, "Team", "name", json!("Ops")),
        (&key, "ApiKey", "name", json!("Deploy")),
        (&secret, "Secret", "name", json!("TOKEN")),
        (&version, "WorkflowVersion", "version", json!(1)),
    ] {
        let r = node(&owner, id).await;
        assert_eq!(r.data()["node"]["__typename"], ty, "{r:?}");
        assert_eq!(r.data()["node"]["id"], json!(id));
        assert_eq!(r.data()["node"][field], value, "{ty}");
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
