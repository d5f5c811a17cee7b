//! Feature flags through the API: rules evaluated in order (organisation override, plan,
//! rollout, platform role) and merged over the plan's features, rollouts stable across reads
//! and instances, bad rules refused naming the field with nothing changed, only platform
//! operators seeing flags (super admins changing them), a module switched off refusing its
//! operations until switched back on (on one instance and, through Redis, on another), live
//! FEATURES_CHANGED events and the platform audit entries.

use base64::Engine;
use serde_json::{Value, json};

use crate::{doc, gql::*, helpers::*, subscriptions::mutate_until_event};

/// The organisation id behind a `Tenant` global ID.
fn tenant_uuid(gid: &str) -> uuid::Uuid {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(gid).expect("a global ID");
    let text = String::from_utf8(raw).unwrap();
    text.strip_prefix("Tenant:").expect("a Tenant ID").parse().unwrap()
}

async fn create_flag(app: &TestApp, op: &Session, input: Value) -> Op<create_feature_flag::ResponseData> {
    app.op_json::<CreateFeatureFlag>(Some(&op.access), json!({ "input": input })).await
}

/// Creates a flag that must be accepted; returns its ID.
async fn created(app: &TestApp, op: &Session, input: Value) -> String {
    create_flag(app, op, input).await.into_data().create_feature_flag.flag.id
}

async fn update_flag(app: &TestApp, op: &Session, input: Value) -> Op<update_feature_flag::ResponseData> {
    app.op_json::<UpdateFeatureFlag>(Some(&op.access), json!({ "input": input })).await
}

async fn features(app: &TestApp, s: &Session, tenant: &str) -> tenant_features::TenantFeaturesTenant {
    app.op_json::<TenantFeatures>(Some(&s.access), json!({ "id": tenant })).await.into_data().tenant
}

/// The value of flag `key` for the organisation and viewer: `enabled` or `variant`.
async fn flag_value(app: &TestApp, s: &Session, tenant: &str, key: &str) -> Value {
    let t = features(app, s, tenant).await;
    let f = t.feature_flags.iter().find(|f| f.key == key).unwrap_or_else(|| panic!("no flag {key}"));
    match (&f.enabled, &f.variant) {
        (Some(b), None) => json!(b),
        (None, Some(v)) => json!(v),
        other => panic!("{key}: {other:?}"),
    }
}

async fn flag_list(app: &TestApp, s: &Session) -> Vec<feature_flags::FeatureFlagsFeatureFlags> {
    app.op_json::<FeatureFlags>(Some(&s.access), json!({})).await.into_data().feature_flags
}

async fn platform_actions(app: &TestApp, op: &Session) -> Vec<Value> {
    let r = app.gql(Some(&op.access), doc!("admin/AdminAuditLog"), json!({ "last": 50 })).await;
    r.data()["admin"]["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

async fn go_pro(app: &TestApp, s: &Session, tenant: &str) {
    app.op_json::<ChangePlan>(
        Some(&s.access),
        json!({ "input": { "tenantId": tenant, "plan": "pro", "interval": "MONTH" } }),
    )
    .await
    .into_data();
}

fn value(v: Value) -> Value {
    match v {
        Value::Bool(b) => json!({ "enabled": b }),
        Value::String(s) => json!({ "variant": s }),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn rules_decide_in_order_override_plan_rollout_then_platform_role() {
    let app = spawn_app().await;
    let (op, _) = app.platform_operator("flags-op@example.com", "super-admin").await;
    let owner = app.verified_user("flags-owner@example.com").await;
    let a = app.create_tenant(&owner, "flags-a").await; // pro, overridden
    let b = app.create_tenant(&owner, "flags-b").await; // pro
    let c = app.create_tenant(&owner, "flags-c").await; // free
    let d = app.create_tenant(&op, "flags-d").await; // free, its owner a super admin
    go_pro(&app, &owner, &a).await;
    go_pro(&app, &owner, &b).await;

    let variants = ["off", "override", "plan", "rollout", "role"];
    created(
        &app,
        &op,
        json!({
            "key": "beta", "kind": "VARIANT", "variants": variants,
            "default": value(json!("off")),
            "rules": [
                { "kind": "ORGANISATION", "organisationId": a, "value": value(json!("override")) },
                { "kind": "PLAN", "plan": "pro", "value": value(json!("plan")) },
                { "kind": "ROLLOUT", "percent": 100, "value": value(json!("rollout")) },
                { "kind": "PLATFORM_ROLE", "role": "SUPER_ADMIN", "value": value(json!("role")) },
            ],
        }),
    )
    .await;
    // The platform role decides when nothing before it matches.
    created(
        &app,
        &op,
        json!({
            "key": "staffPreview", "kind": "BOOLEAN", "default": value(json!(false)),
            "rules": [{ "kind": "PLATFORM_ROLE", "role": "SUPER_ADMIN", "value": value(json!(true)) }],
        }),
    )
    .await;
    // A boolean flag wins over the plan's feature of the same key.
    created(
        &app,
        &op,
        json!({
            "key": "apiKeys", "kind": "BOOLEAN", "default": value(json!(true)),
            "rules": [{ "kind": "ORGANISATION", "organisationId": c, "value": value(json!(false)) }],
        }),
    )
    .await;

    let cases: &[(&Session, &str, &str, Value)] = &[
        (&owner, &a, "beta", json!("override")), // the override beats its plan
        (&owner, &b, "beta", json!("plan")),     // the plan beats the rollout
        (&owner, &c, "beta", json!("rollout")),  // the rollout beats the default
        (&op, &d, "beta", json!("rollout")),     // the rollout beats the platform role
        (&op, &d, "staffPreview", json!(true)),  // the platform role of the viewer
        (&owner, &c, "staffPreview", json!(false)), // no role: the default
        (&owner, &c, "apiKeys", json!(false)),
        (&owner, &b, "apiKeys", json!(true)),
    ];
    for (who, tenant, key, want) in cases {
        assert_eq!(&flag_value(&app, who, tenant, key).await, want, "{key} of {tenant}");
    }
    // `Tenant.features`: the plan's features with the boolean flags on top.
    let fc = features(&app, &owner, &c).await.features;
    assert_eq!(fc["apiKeys"], false, "the flag wins over the plan: {fc}");
    assert_eq!(fc["webhooks"], true, "the plan's other features stay: {fc}");
    assert_eq!(fc["staffPreview"], false);
    assert!(fc.get("beta").is_none(), "variant flags are not features: {fc}");
    assert_eq!(features(&app, &op, &d).await.features["staffPreview"], true);
    // The feature gate reads the same set: API keys are refused where the flag is off.
    let r = app
        .gql(
            Some(&owner.access),
            doc!("api_keys/CreateApiKey"),
            json!({ "input": { "tenantId": c, "name": "k", "permissions": ["TENANT_READ"] } }),
        )
        .await;
    assert_eq!(r.code(), "PLAN_REQUIRED", "{:?}", r.0);
}

/// The value of boolean flag `key` in each of the viewer's organisations, by organisation ID.
async fn flag_everywhere(app: &TestApp, s: &Session, key: &str) -> std::collections::BTreeMap<String, bool> {
    let mut out = std::collections::BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let r = app
            .op_json::<MyOrganisationsFlags>(Some(&s.access), json!({ "first": 100, "after": after }))
            .await
            .into_data();
        let tenants = r.viewer.expect("a viewer").tenants;
        for e in tenants.edges {
            let f = e.node.feature_flags.iter().find(|f| f.key == key).expect("the flag");
            out.insert(e.node.id, f.enabled.expect("a boolean flag"));
        }
        if !tenants.page_info.has_next_page {
            return out;
        }
        after = tenants.page_info.end_cursor;
    }
}

#[tokio::test]
async fn a_rollout_gives_about_its_share_the_same_answer_on_every_read_and_instance() {
    let backend = Backend::fresh().await;
    let data_dir = std::env::temp_dir().join(format!("zygo-test-shared-{}", uuid::Uuid::new_v4().simple()));
    let opts = Options { data_dir: Some(data_dir), ..Default::default() };
    let a = spawn_app_on(backend.clone(), opts.clone()).await;
    let (op, _) = a.platform_operator("rollout-op@example.com", "super-admin").await;
    let owner = a.verified_user("rollout-owner@example.com").await;
    let n = 200;
    for i in 0..n {
        a.create_tenant(&owner, &format!("rollout-{i}")).await;
    }
    created(
        &a,
        &op,
        json!({
            "key": "quarter", "kind": "BOOLEAN", "default": value(json!(false)),
            "rules": [{ "kind": "ROLLOUT", "percent": 25, "value": value(json!(true)) }],
        }),
    )
    .await;
    let b = spawn_app_on(backend, opts).await;
    let first = flag_everywhere(&a, &owner, "quarter").await;
    assert_eq!(first.len(), n);
    // Stable: the same answers on a second read and on another instance, and each is the
    // pure function's (whose unit test spreads 2000 organisations).
    assert_eq!(flag_everywhere(&a, &owner, "quarter").await, first, "a second read");
    assert_eq!(flag_everywhere(&b, &owner, "quarter").await, first, "another instance");
    for (org, on) in &first {
        let want = zygo::modules::flags::evaluate::bucket("quarter", tenant_uuid(org)) < 25;
        assert_eq!(*on, want, "{org}");
    }
    // About a quarter of 200: 50 expected, a standard deviation of about 6.
    let on = first.values().filter(|v| **v).count();
    assert!((26..=74).contains(&on), "{on} of {n} in a 25 % rollout");
}

#[tokio::test]
async fn bad_flags_are_refused_naming_the_field_and_nothing_changes() {
    let app = spawn_app().await;
    let (op, _) = app.platform_operator("bad-flags@example.com", "super-admin").await;
    let owner = app.verified_user("bad-owner@example.com").await;
    let org = app.create_tenant(&owner, "bad-flags-org").await;
    let id = created(
        &app,
        &op,
        json!({ "key": "colour", "kind": "VARIANT", "variants": ["red", "blue"], "default": value(json!("red")) }),
    )
    .await;
    let before = flag_list(&app, &op).await;
    let audit_before = platform_actions(&app, &op).await.len();
    let gone = "VGVuYW50OjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA"; // Tenant:<no such org>
    let creates: &[(Value, &str)] = &[
        (json!({ "key": "9lives", "kind": "BOOLEAN", "default": value(json!(true)) }), "input.key"),
        (json!({ "key": "module.nothing", "kind": "BOOLEAN", "default": value(json!(true)) }), "input.key"),
        (
            json!({ "key": "module.studio", "kind": "VARIANT", "variants": ["a", "b"], "default": value(json!("a")) }),
            "input.kind",
        ),
        (json!({ "key": "colour", "kind": "BOOLEAN", "default": value(json!(true)) }), "input.key"),
        (
            json!({ "key": "v", "kind": "VARIANT", "variants": ["a"], "default": value(json!("a")) }),
            "input.variants",
        ),
        (json!({ "key": "b", "kind": "BOOLEAN", "default": value(json!("a")) }), "input.default"),
        (
            json!({ "key": "p", "kind": "BOOLEAN", "default": value(json!(true)),
                    "rules": [{ "kind": "ROLLOUT", "percent": 101, "value": value(json!(true)) }] }),
            "input.rules[0].percent",
        ),
        (
            json!({ "key": "p", "kind": "BOOLEAN", "default": value(json!(true)),
                    "rules": [{ "kind": "PLAN", "plan": "pro", "value": value(json!(true)) },
                              { "kind": "PLAN", "plan": "platinum", "value": value(json!(true)) }] }),
            "input.rules[1].plan",
        ),
        (
            json!({ "key": "o", "kind": "BOOLEAN", "default": value(json!(true)),
                    "rules": [{ "kind": "ORGANISATION", "organisationId": gone, "value": value(json!(true)) }] }),
            "input.rules[0].organisationId",
        ),
        (
            json!({ "key": "r", "kind": "BOOLEAN", "default": value(json!(true)),
                    "rules": [{ "kind": "PLATFORM_ROLE", "value": value(json!(true)) }] }),
            "input.rules[0].role",
        ),
    ];
    for (input, field) in creates {
        let r = create_flag(&app, &op, input.clone()).await;
        let want = if input["key"] == "colour" { "CONFLICT" } else { "BAD_USER_INPUT" };
        assert_eq!((r.code().as_str(), r.field().as_str()), (want, *field), "{input}");
    }
    let updates: &[(Value, &str)] = &[
        (json!({ "id": id, "default": value(json!("green")) }), "input.default.variant"),
        (
            json!({ "id": id, "rules": [{ "kind": "ORGANISATION", "organisationId": org, "value": value(json!(true)) }] }),
            "input.rules[0].value",
        ),
        (json!({ "id": id, "variants": ["blue", "green"] }), "input.default"),
        (json!({ "id": id, "description": "x".repeat(501) }), "input.description"),
    ];
    for (input, field) in updates {
        let r = update_flag(&app, &op, input.clone()).await;
        assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", *field), "{input}");
    }
    assert_eq!(flag_list(&app, &op).await, before, "nothing changed");
    assert_eq!(platform_actions(&app, &op).await.len(), audit_before, "nothing audited");
}

#[tokio::test]
async fn only_platform_operators_see_flags_and_only_super_admins_change_them() {
    let app = spawn_app().await;
    let (admin, _) = app.platform_operator("flags-super@example.com", "super-admin").await;
    let (support, _) = app.platform_operator("flags-support@example.com", "support").await;
    let owner = app.verified_user("flags-plain@example.com").await;
    app.enable_mfa(&owner).await;
    app.create_tenant(&owner, "flags-plain").await;
    let id =
        created(&app, &admin, json!({ "key": "seen", "kind": "BOOLEAN", "default": value(json!(true)) }))
            .await;
    let attempts = |who: &Session| {
        let (app, token, id) = (&app, who.access.clone(), id.clone());
        async move {
            let create =
                json!({ "input": { "key": "x", "kind": "BOOLEAN", "default": { "enabled": true } } });
            let update = json!({ "input": { "id": id, "description": "changed" } });
            vec![
                app.gql(Some(&token), doc!("flags/FeatureFlags"), json!({})).await,
                app.gql(Some(&token), doc!("flags/CreateFeatureFlag"), create).await,
                app.gql(Some(&token), doc!("flags/UpdateFeatureFlag"), update).await,
                app.gql(Some(&token), doc!("flags/DeleteFeatureFlag"), json!({ "id": id })).await,
            ]
        }
    };
    for r in attempts(&owner).await {
        assert_eq!(r.code(), "FORBIDDEN", "an organisation owner is no operator: {:?}", r.0);
    }
    let r = attempts(&support).await;
    assert_eq!(r[0].data()["featureFlags"][0]["key"], "seen", "support reads the flags");
    for r in &r[1..] {
        assert_eq!(r.code(), "FORBIDDEN", "support changes nothing: {:?}", r.0);
    }
    let list = flag_list(&app, &admin).await;
    assert_eq!((list.len(), list[0].description.as_str()), (1, ""), "unchanged");
    let r = app.gql(None, doc!("flags/FeatureFlags"), json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_module_switched_off_refuses_its_operations_live_and_audited_until_switched_back_on() {
    let app = spawn_app().await;
    let (op, _) = app.platform_operator("module-op@example.com", "super-admin").await;
    let owner = app.verified_user("module-owner@example.com").await;
    let off = app.create_tenant(&owner, "module-off").await;
    let other = app.create_tenant(&owner, "module-other").await;
    let workflows = |tenant: &str| {
        let (app, token, tenant) = (&app, owner.access.clone(), tenant.to_string());
        async move { app.gql(Some(&token), doc!("workflows/Workflows"), json!({ "tenantId": tenant })).await }
    };
    assert_eq!(workflows(&off).await.data()["tenant"]["workflows"]["totalCount"], 0, "on by default");

    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.init(Some(&owner.access)).await.unwrap();
    ws.subscribe("1", doc!("tenancy/TenantEvents"), json!({ "tenantId": off })).await;
    mutate_until_event(&app, &owner, &off, "Module org", &mut ws).await;

    let id = created(
        &app,
        &op,
        json!({
            "key": "module.workflows", "description": "Workflows per organisation", "kind": "BOOLEAN",
            "default": value(json!(true)),
            "rules": [{ "kind": "ORGANISATION", "organisationId": off, "value": value(json!(false)) }],
        }),
    )
    .await;
    let event = loop {
        let msg = ws.next_json().await.expect("an event");
        let Some(e) = event_data::<TenantEvents>(&msg) else { continue };
        if e.tenant_events.kind == tenant_events::TenantEventKind::FEATURES_CHANGED {
            break e.tenant_events;
        }
    };
    assert_eq!(event.tenant_id, off);

    let r = workflows(&off).await;
    assert_eq!(r.code(), "FEATURE_DISABLED", "{:?}", r.0);
    assert_eq!(r.0["errors"][0]["extensions"]["module"], "workflows");
    assert_eq!(r.0["errors"][0]["extensions"]["flag"], "module.workflows");
    let create = app
        .gql(
            Some(&owner.access),
            doc!("workflows/CreateWorkflow"),
            json!({ "input": { "tenantId": off, "name": "Refused" } }),
        )
        .await;
    assert_eq!(create.code(), "FEATURE_DISABLED", "{:?}", create.0);
    assert_eq!(features(&app, &owner, &off).await.features["module.workflows"], false);
    assert_eq!(workflows(&other).await.data()["tenant"]["workflows"]["totalCount"], 0, "others keep it");

    update_flag(&app, &op, json!({ "id": id, "rules": [] })).await.into_data();
    let event = loop {
        let msg = ws.next_json().await.expect("an event");
        let Some(e) = event_data::<TenantEvents>(&msg) else { continue };
        if e.tenant_events.kind == tenant_events::TenantEventKind::FEATURES_CHANGED {
            break e.tenant_events;
        }
    };
    assert_eq!(event.tenant_id, off);
    assert_eq!(workflows(&off).await.data()["tenant"]["workflows"]["totalCount"], 0, "back on");
    app.gql(
        Some(&owner.access),
        doc!("workflows/CreateWorkflow"),
        json!({ "input": { "tenantId": off, "name": "Allowed again" } }),
    )
    .await
    .data();

    let r = app.op_json::<DeleteFeatureFlag>(Some(&op.access), json!({ "id": id })).await.into_data();
    assert_eq!(r.delete_feature_flag.key, "module.workflows");
    let log = platform_actions(&app, &op).await;
    let actions: Vec<&str> = log
        .iter()
        .filter(|e| e["targetType"] == "FeatureFlag")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["admin.flag_created", "admin.flag_updated", "admin.flag_deleted"]);
    let updated = log.iter().find(|e| e["action"] == "admin.flag_updated").unwrap();
    assert_eq!(updated["metadata"]["key"], "module.workflows");
    assert_eq!(updated["metadata"]["before"]["rules"][0]["kind"], "organisation");
    assert_eq!(updated["metadata"]["after"]["rules"], json!([]));
    assert_eq!(updated["actorId"], op.user_id);

    // The organisation's own log: its override given, then taken, by a platform operator; the
    // other organisation, which no rule named, has no such entry.
    let own = |tenant: &str| {
        let (app, token, tenant) = (&app, owner.access.clone(), tenant.to_string());
        async move {
            let log = app
                .gql(Some(&token), doc!("audit/TenantAuditLog"), json!({ "id": tenant, "first": 50 }))
                .await;
            log.data()["tenant"]["auditLog"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone())
                .filter(|e| e["action"] == "tenant.features_changed")
                .collect::<Vec<Value>>()
        }
    };
    let entries = own(&off).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries.iter().all(|e| e["actorType"] == "platform_admin"), "{entries:?}");
    let given = entries.iter().find(|e| e["before"].is_null()).expect("the override given");
    assert_eq!(given["after"], json!({ "key": "module.workflows", "value": false }));
    assert!(entries.iter().any(|e| e["after"].is_null()), "the override taken: {entries:?}");
    assert!(own(&other).await.is_empty());
}

#[tokio::test]
async fn a_module_switched_off_on_one_instance_is_refused_at_once_on_another() {
    let mut backend = Backend::fresh().await;
    backend.redis_url = Some(crate::event_bus::redis_url());
    let data_dir = std::env::temp_dir().join(format!("zygo-test-shared-{}", uuid::Uuid::new_v4().simple()));
    // Access decisions trusted for an hour: only the announcement can change B's mind.
    let opts = Options {
        data_dir: Some(data_dir),
        env: vec![("ZYGO_ACCESS_CACHE_TTL", "3600".into())],
        ..Default::default()
    };
    let a = spawn_app_on(backend.clone(), opts.clone()).await;
    let b = spawn_app_on(backend, opts).await;
    let (op, _) = a.platform_operator("cross-op@example.com", "super-admin").await;
    let owner = a.verified_user("cross-owner@example.com").await;
    let org = a.create_tenant(&owner, "cross-module").await;
    let documents = || {
        let (b, token, org) = (&b, owner.access.clone(), org.clone());
        async move { b.gql(Some(&token), doc!("studio/Documents"), json!({ "tenantId": org })).await }
    };
    assert!(documents().await.0["errors"].is_null(), "B caches the owner's access");
    created(
        &a,
        &op,
        json!({
            "key": "module.studio", "kind": "BOOLEAN", "default": value(json!(true)),
            "rules": [{ "kind": "ORGANISATION", "organisationId": org, "value": value(json!(false)) }],
        }),
    )
    .await;
    let code = eventually(10, || async {
        let r = documents().await;
        (!r.0["errors"].is_null()).then(|| r.code())
    })
    .await;
    assert_eq!(code, "FEATURE_DISABLED");
}

#[tokio::test]
async fn a_plan_rule_switches_a_module_off_when_the_organisation_changes_plan() {
    // Access decisions trusted for an hour: only the plan change's announcement can make the
    // instance look at the gate again.
    let opts = Options { env: vec![("ZYGO_ACCESS_CACHE_TTL", "3600".into())], ..Default::default() };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let (op, _) = app.platform_operator("plan-gate-op@example.com", "super-admin").await;
    let owner = app.verified_user("plan-gate-owner@example.com").await;
    let org = app.create_tenant(&owner, "plan-gate").await;
    created(
        &app,
        &op,
        json!({
            "key": "module.infrastructure", "kind": "BOOLEAN", "default": value(json!(true)),
            "rules": [{ "kind": "PLAN", "plan": "pro", "value": value(json!(false)) }],
        }),
    )
    .await;
    let providers = || {
        let (app, token, org) = (&app, owner.access.clone(), org.clone());
        async move { app.gql(Some(&token), doc!("infrastructure/CloudProviders"), json!({ "id": org })).await }
    };
    assert!(providers().await.0["errors"].is_null(), "on Free the module is on");
    go_pro(&app, &owner, &org).await;
    let code = eventually(10, || async {
        let r = providers().await;
        (!r.0["errors"].is_null()).then(|| r.code())
    })
    .await;
    assert_eq!(code, "FEATURE_DISABLED");
    assert_eq!(features(&app, &owner, &org).await.features["module.infrastructure"], false);
}
