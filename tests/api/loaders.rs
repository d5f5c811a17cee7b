use serde_json::json;

use crate::{doc, helpers::*};

/// Statements the nested `viewer.tenants { viewerRole, members { user role }, roles }` query
/// costs for a user in `n` organisations.
async fn statements_for(n: usize) -> f64 {
    // No background polling while counting: mail is sent on wake-up only.
    let app = spawn_app_on(
        Backend::fresh().await,
        Options {
            env: vec![("ZYGO_MAIL_POLL_INTERVAL", "3600".into())],
            ..Default::default()
        },
    )
    .await;
    let s = app.verified_user(&format!("n{n}@example.com")).await;
    for i in 0..n {
        app.create_tenant(&s, &format!("org-{n}-{i}")).await;
    }
    // Let the mail worker settle (it only wakes on sign-up/resend).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = app.metric("zygo_db_statements_total").await;
    let r = app
        .gql(
            Some(&s.access),
            doc!("identity/Viewer"),
            json!({ "first": 50 }),
        )
        .await;
    let after = app.metric("zygo_db_statements_total").await;
    let edges = r.data()["viewer"]["tenants"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), n);
    assert!(edges.iter().all(|e| {
        e["node"]["viewerRole"]["permissions"]
            .as_array()
            .unwrap()
            .len()
            == 6
    }));
    after - before
}

#[tokio::test]
async fn a_nested_list_costs_the_same_statements_whatever_its_length() {
    let small = statements_for(2).await;
    let large = statements_for(9).await;
    assert_eq!(
        small, large,
        "statement count grew with the list: {small} for 2, {large} for 9"
    );
    assert!(small <= 16.0, "unexpectedly many statements: {small}");
}
