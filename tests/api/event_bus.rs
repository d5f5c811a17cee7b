//! The event bus across instances and through a Redis outage. These tests always use
//! Redis (`ZYGO_TEST_CROSS_INSTANCE_REDIS_URL`, else `ZYGO_TEST_REDIS_URL`, else
//! `redis://127.0.0.1:6379`), whatever the database: crossing instances is what the Redis
//! bus is for.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::{doc, gql::*, helpers::*, subscriptions::mutate_until_event};

pub(crate) fn redis_url() -> String {
    ["ZYGO_TEST_CROSS_INSTANCE_REDIS_URL", "ZYGO_TEST_REDIS_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into())
}

fn redis_addr() -> SocketAddr {
    let url = redis_url();
    let host_port =
        url.trim_start_matches("redis://").split('/').next().unwrap().rsplit('@').next().unwrap().to_string();
    let host_port = if host_port.contains(':') { host_port } else { format!("{host_port}:6379") };
    host_port.replace("localhost", "127.0.0.1").parse().expect("redis address")
}

#[tokio::test]
async fn a_subscriber_on_one_instance_sees_a_mutation_made_on_another() {
    let mut backend = Backend::fresh().await;
    backend.redis_url = Some(redis_url());
    let data_dir = std::env::temp_dir().join(format!("zygo-test-shared-{}", uuid::Uuid::new_v4().simple()));
    let opts = Options { data_dir: Some(data_dir), ..Default::default() };
    let a = spawn_app_on(backend.clone(), opts.clone()).await;
    let b = spawn_app_on(backend, opts).await;

    let s = a.verified_user("multi@example.com").await;
    let id = a.create_tenant(&s, "multi-org").await;
    let mut ws = WsClient::connect(&b, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&s.access)).await.unwrap()["type"], "connection_ack", "B accepts A's token");
    ws.subscribe("1", doc!("tenancy/TenantEvents"), json!({ "tenantId": id })).await;
    let event = mutate_until_event(&a, &s, &id, "Made on A", &mut ws).await;
    let event =
        event_data::<TenantEvents>(&event).unwrap_or_else(|| panic!("an event: {event}")).tenant_events;
    assert_eq!(event.tenant.map(|t| t.name).as_deref(), Some("Made on A"));
}

#[tokio::test]
async fn when_redis_goes_away_the_api_keeps_serving_and_subscribers_resume() {
    let proxy = FlakyProxy::start(redis_addr()).await;
    let mut backend = Backend::fresh().await;
    backend.redis_url = Some(format!("redis://127.0.0.1:{}", proxy.port));
    let app = spawn_app_on(backend, Options::default()).await;
    let s = app.verified_user("outage@example.com").await;
    let id = app.create_tenant(&s, "outage-org").await;
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.init(Some(&s.access)).await.unwrap();
    ws.subscribe("1", doc!("tenancy/TenantEvents"), json!({ "tenantId": id })).await;
    mutate_until_event(&app, &s, &id, "Before", &mut ws).await;

    proxy.cut();
    let body: Value = eventually(10, || async {
        let r = app.http.get(app.url("/readyz")).send().await.ok()?;
        (r.status() == 503).then_some(())?;
        r.json().await.ok()
    })
    .await;
    assert!(body["down"].as_array().unwrap().contains(&json!("redis")), "{body}");
    // Queries and mutations go on.
    let r = app
        .op_json::<UpdateTenant>(Some(&s.access), json!({ "input": { "id": id, "name": "During" } }))
        .await;
    assert_eq!(r.data().update_tenant.tenant.name, "During");

    proxy.restore();
    app.wait_ready().await;
    let event = mutate_until_event(&app, &s, &id, "After", &mut ws).await;
    assert_eq!(event["type"], "next", "the same subscription resumed: {event}");
}
