//! Conformance with the GraphQL ecosystem's own tools, run against the live server: the
//! GraphQL-over-HTTP audit of `graphql-http`, and graphql-js building, validating and
//! printing our schema from introspection.

use serde_json::Value;

use crate::helpers::*;

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
