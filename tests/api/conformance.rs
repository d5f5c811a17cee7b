//! Conformance with the GraphQL ecosystem's own tools, run against the live server: the
//! GraphQL-over-HTTP audit of `graphql-http`, and graphql-js building, validating and
//! printing our schema from introspection.

use serde_json::{Value, json};

use crate::{doc, gql::*, helpers::*};

/// Runs a script of `tests/clients` without blocking the runtime the server runs on.
async fn node_json(args: &[&str]) -> Value {
    let out = tokio::process::Command::new("node")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"))
        .args(args)
        .output()
        .await
        .expect("node runs (npm ci --prefix tests/clients; the README's test command does)");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

#[tokio::test]
async fn the_graphql_over_http_audit_passes_every_must_and_the_readme_lists_any_failing_should() {
    let app = spawn_app().await;
    let results = node_json(&["graphql-http-audit.mjs", &app.url("/graphql")]).await;
    let results = results.as_array().unwrap();
    assert!(results.len() > 40, "the audit ran: {results:?}");
    let readme = include_str!("../../README.md");
    for r in results {
        let name = r["name"].as_str().unwrap();
        if r["status"] == "ok" {
            continue;
        }
        assert!(!name.starts_with("MUST"), "failed: {r}");
        if name.starts_with("SHOULD") {
            let id = r["id"].as_str().unwrap();
            assert!(readme.contains(id), "SHOULD audit {id} fails and is not explained in the README: {r}");
        }
    }
}

#[tokio::test]
async fn graphql_js_builds_and_validates_the_introspected_schema_and_it_matches_the_committed_sdl() {
    let app = spawn_app().await;
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/schema.graphql");
    let r = node_json(&["schema-check.mjs", &app.url("/graphql"), schema]).await;
    assert_eq!(r["errors"], serde_json::json!([]), "{r}");
    assert_eq!(r["equal"], true, "{r}");
}

/// GraphQL §6.4.4: a field that fails is present and null, with its error at its path.
#[tokio::test]
async fn denied_fields_are_present_as_null_with_their_errors() {
    let app = spawn_app().await;
    let owner = app.verified_user("nulls-own@example.com").await;
    let tenant = app.create_tenant(&owner, "nulls-org").await;
    let (viewer, _) = app.join_as(&owner, &tenant, "nulls-view@example.com", "viewer").await;
    let query = "query($id: ID!) { tenant(id: $id) { name auditLog(first: 1) { totalCount } \
                 invitations(first: 1) { totalCount } apiKeys(first: 1) { totalCount } slug \
                 members(first: 5) { edges { node { user { name email } } } } } }";
    let r = app.gql(Some(&viewer.access), query, json!({ "id": tenant })).await;
    let t = r.0["data"]["tenant"].as_object().unwrap_or_else(|| panic!("{:?}", r.0));
    for denied in ["auditLog", "invitations", "apiKeys"] {
        assert!(
            t.contains_key(denied) && t[denied].is_null(),
            "{denied} must be present and null: {:?}",
            r.0
        );
    }
    assert_eq!(t["name"], "Org nulls-org");
    assert_eq!(t["slug"], "nulls-org");
    // Others' addresses are hidden from a viewer (their own is not): present and null.
    let users: Vec<_> =
        t["members"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["user"].clone()).collect();
    assert!(users.iter().all(|u| u.as_object().unwrap().contains_key("email")), "{:?}", r.0);
    assert!(users.iter().any(|u| u["email"].is_null()), "{:?}", r.0);
    assert!(users.iter().any(|u| u["email"] == "nulls-view@example.com"), "{:?}", r.0);
    let errors = r.0["errors"].as_array().unwrap();
    let paths: Vec<String> = errors.iter().map(|e| e["path"].to_string()).collect();
    for path in [r#"["tenant","auditLog"]"#, r#"["tenant","invitations"]"#, r#"["tenant","apiKeys"]"#] {
        assert!(paths.iter().any(|p| p == path), "no error at {path}: {paths:?}");
    }
    assert!(errors.iter().all(|e| e["extensions"]["code"] == "FORBIDDEN"), "{errors:?}");
    assert!(errors.iter().all(|e| e["extensions"]["requestId"].is_string()), "{errors:?}");
}

/// A failed non-null field makes its nearest nullable parent null (here the root, so
/// `data` is null), instead of leaving an object with a key missing.
#[tokio::test]
async fn a_failed_non_null_field_nulls_its_nearest_nullable_parent() {
    let app = spawn_app().await;
    let owner = app.verified_user("bubble-own@example.com").await;
    let tenant = app.create_tenant(&owner, "bubble-org").await;
    let (member, membership) = app.join_as(&owner, &tenant, "bubble-mem@example.com", "viewer").await;
    let r = app
        .gql(
            Some(&owner.access),
            doc!("roles/CreateRole"),
            json!({ "input": { "tenantId": tenant, "key": "reader", "name": "Reader", "permissions": ["TENANT_READ"] } }),
        )
        .await;
    let role = r.typed::<CreateRole>().into_data().create_role.role.id;
    app.gql(
        Some(&owner.access),
        doc!("members/ChangeMemberRole"),
        json!({ "input": { "membershipId": membership, "roleId": role } }),
    )
    .await
    .data();
    // `Tenant.secrets` is non-null and needs WORKFLOW_READ; `tenant` is non-null too.
    let r = app
        .gql(
            Some(&member.access),
            "query($id: ID!) { tenant(id: $id) { name secrets(first: 1) { totalCount } } }",
            json!({ "id": tenant }),
        )
        .await;
    assert!(r.0.as_object().unwrap().contains_key("data") && r.0["data"].is_null(), "{:?}", r.0);
    assert_eq!(r.0["errors"][0]["path"], json!(["tenant", "secrets"]));
    assert_eq!(r.0["errors"][0]["extensions"]["code"], "FORBIDDEN");
    // Without the denied field the same query answers.
    let r = app
        .gql(Some(&member.access), "query($id: ID!) { tenant(id: $id) { name } }", json!({ "id": tenant }))
        .await;
    // Not one of graphql/'s documents: its answer is typed here.
    #[derive(serde::Deserialize)]
    struct Answer {
        tenant: Named,
    }
    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }
    let answer: Answer = serde_json::from_value(r.data().clone()).expect("the answer's shape");
    assert_eq!(answer.tenant.name, "Org bubble-org");
}
