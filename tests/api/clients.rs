//! Real third-party clients against the live server: the official `graphql-ws` client
//! (Node, from `tests/clients`, installed by the test command).

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use serde_json::{Value, json};

use crate::{doc, helpers::*};

fn spawn_node_subscriber(
    app: &TestApp,
    token: &str,
    variables: Value,
) -> (std::process::Child, mpsc::Receiver<Value>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");
    assert!(
        std::path::Path::new(dir).join("node_modules/graphql-ws").exists(),
        "tests/clients has no node_modules: run `npm ci --prefix tests/clients` (the README's test command does)"
    );
    let mut child = Command::new("node")
        .current_dir(dir)
        .args([
            "graphql-ws-subscribe.mjs",
            &app.ws_url(),
            token,
            concat!(env!("CARGO_MANIFEST_DIR"), "/graphql/tenancy/TenantEvents.graphql"),
            &variables.to_string(),
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });
    (child, rx)
}

#[tokio::test]
async fn the_official_graphql_ws_client_subscribes_and_receives() {
    let app = spawn_app().await;
    let s = app.verified_user("node@example.com").await;
    let id = app.create_tenant(&s, "node-org").await;
    let (mut child, rx) = spawn_node_subscriber(&app, &s.access, json!({ "tenantId": id }));

    let mut event = None;
    for _ in 0..60 {
        app.gql(
            Some(&s.access),
            doc!("tenancy/UpdateTenant"),
            json!({ "input": { "id": id, "name": "From Node" } }),
        )
        .await
        .data();
        tokio::time::sleep(Duration::from_millis(250)).await;
        while let Ok(v) = rx.try_recv() {
            if v.get("data").is_some() || v.get("error").is_some() {
                event = Some(v);
            }
        }
        if event.is_some() {
            break;
        }
    }
    let event = event.expect("the graphql-ws client received an event");
    assert_eq!(event["data"]["tenantEvents"]["kind"], "TENANT_UPDATED", "{event}");
    assert_eq!(event["data"]["tenantEvents"]["tenant"]["name"], "From Node");
    let status = child.wait().unwrap();
    assert!(status.success(), "client exited cleanly after completing");
}

#[tokio::test]
async fn the_official_graphql_ws_client_receives_errors() {
    let app = spawn_app().await;
    let owner = app.verified_user("own@example.com").await;
    let outsider = app.verified_user("out@example.com").await;
    let id = app.create_tenant(&owner, "private-org").await;
    let (mut child, rx) = spawn_node_subscriber(&app, &outsider.access, json!({ "tenantId": id }));
    // Poll without blocking: the server runs on this test's runtime.
    let msg = eventually(20, || {
        let found = std::iter::from_fn(|| rx.try_recv().ok())
            .find(|v| v.get("errors").is_some() || v.get("error").is_some());
        async move { found }
    })
    .await;
    // graphql-ws hands a field error of the subscription root to `next`, as the protocol's
    // `next` message carries it.
    assert_eq!(msg["errors"][0]["extensions"]["code"], "NOT_FOUND", "{msg}");
    assert!(child.wait().unwrap().success());
}
