//! Outbound webhooks against a receiver that verifies every delivery with the `standardwebhooks`
//! package (tests/clients/webhook-receiver.mjs): what is sent and signed, the retry schedule on a
//! moving clock, the delivery log, replay and test events, secret rotation, switching off an
//! endpoint that keeps failing, deliveries that survive the instance that committed them, and
//! bad input.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use zygo::{ctx::Clock, jobs::drain};

use crate::{
    doc,
    gql::{tenant_webhook_endpoints::TenantWebhookEndpointsTenantWebhookEndpointsEdgesNode as Endpoint, *},
    helpers::*,
};

struct Receiver {
    _node: NodeService,
    base: String,
    http: reqwest::Client,
}

impl Receiver {
    fn start() -> Self {
        let node = NodeService::start("webhook-receiver.mjs", &[], &[]);
        let base = format!("http://127.0.0.1:{}", node.info["port"]);
        Self { _node: node, base, http: reqwest::Client::new() }
    }

    async fn control(&self, path: &str, body: Value) {
        self.http.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
    }

    async fn received(&self) -> Vec<Value> {
        let r = self.http.get(format!("{}/_received", self.base)).send().await.unwrap();
        r.json::<Value>().await.unwrap().as_array().unwrap().clone()
    }
}

/// An app on a manual clock (standing at now, so receivers' 5-minute timestamp check holds
/// while the tests move it by seconds) that may deliver to the local receiver.
async fn hook_app(extra: &[(&'static str, &str)]) -> (TestApp, Clock) {
    let clock = Clock::manual(Utc::now());
    let mut env = vec![("ZYGO_WEBHOOK_ALLOW_PRIVATE", "true".to_string())];
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let opts = Options { clock: Some(clock.clone()), env, ..Default::default() };
    (spawn_app_on(Backend::fresh().await, opts).await, clock)
}

async fn create_endpoint(
    app: &TestApp,
    owner: &Session,
    tenant: &str,
    url: &str,
    types: &[&str],
) -> (String, String) {
    let r = app
        .op_json::<CreateWebhookEndpoint>(
            Some(&owner.access),
            json!({ "input": { "tenantId": tenant, "url": url, "description": "CRM sync", "eventTypes": types } }),
        )
        .await
        .into_data()
        .create_webhook_endpoint;
    assert!(r.secret.starts_with("whsec_"));
    (r.endpoint.id, r.secret)
}

async fn endpoint(app: &TestApp, owner: &Session, tenant: &str) -> Endpoint {
    app.op_json::<TenantWebhookEndpoints>(Some(&owner.access), json!({ "id": tenant, "deliveries": 30 }))
        .await
        .into_data()
        .tenant
        .webhook_endpoints
        .expect("the endpoints")
        .edges
        .remove(0)
        .node
}

async fn create_team(app: &TestApp, owner: &Session, tenant: &str, name: &str) {
    app.gql(
        Some(&owner.access),
        doc!("teams/CreateTeam"),
        json!({ "input": { "tenantId": tenant, "name": name } }),
    )
    .await
    .data();
}

#[tokio::test]
async fn a_subscribed_event_arrives_signed_so_that_the_reference_library_verifies_it() {
    let (app, _clock) = hook_app(&[]).await;
    let receiver = Receiver::start();
    let owner = app.verified_user("hooks@example.com").await;
    let tenant = app.create_tenant(&owner, "hooks").await;
    let types = app.op_json::<WebhookEventTypes>(None, json!({})).await.into_data().webhook_event_types;
    assert!(types.iter().any(|t| t.name == "team.created" && !t.description.is_empty()));
    let (_, secret) =
        create_endpoint(&app, &owner, &tenant, &format!("{}/hooks", receiver.base), &["team.created"]).await;
    receiver
        .control("/_config", json!({ "secrets": [secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] }))
        .await;

    create_team(&app, &owner, &tenant, "Sales").await;
    // Not subscribed: a rename is not sent.
    drain(&app.ctx).await.unwrap();
    let got = receiver.received().await;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["type"], "team.created");
    assert_eq!(got[0]["verified"], json!([true, false]), "valid for the endpoint's secret only");
    assert!(got[0]["id"].as_str().unwrap().starts_with("msg_"));
    let data = &got[0]["body"]["data"];
    assert_eq!(data["organisationId"], tenant);
    assert_eq!(data["after"]["name"], "Sales");
    assert_eq!(data["actor"]["type"], "user");

    let ep = endpoint(&app, &owner, &tenant).await;
    let log = &ep.deliveries.edges;
    assert_eq!(log.len(), 1);
    let d = &log[0].node;
    assert_eq!(
        (d.event_type.as_str(), d.attempt, d.response_status, d.succeeded),
        ("team.created", 1, Some(200), true)
    );
    assert_eq!(d.message_id, got[0]["id"].as_str().unwrap());

    // Another organisation's owner sees neither the endpoint nor its deliveries.
    let other = app.verified_user("hooks-other@example.com").await;
    app.create_tenant(&other, "hooks-other").await;
    let r =
        app.gql(Some(&other.access), doc!("webhooks/TenantWebhookEndpoints"), json!({ "id": tenant })).await;
    assert_eq!(r.code(), "NOT_FOUND");
}

#[tokio::test]
async fn a_failed_delivery_is_retried_on_its_schedule_with_the_same_message_and_can_be_replayed() {
    let (app, clock) = hook_app(&[]).await;
    let receiver = Receiver::start();
    let owner = app.verified_user("hooks-retry@example.com").await;
    let tenant = app.create_tenant(&owner, "hooks-retry").await;
    let (endpoint_id, secret) =
        create_endpoint(&app, &owner, &tenant, &format!("{}/in", receiver.base), &["team.created"]).await;
    receiver.control("/_config", json!({ "secrets": [secret] })).await;
    receiver.control("/_fail", json!({ "requests": 1, "status": 503 })).await;

    create_team(&app, &owner, &tenant, "Ops").await;
    drain(&app.ctx).await.unwrap();
    assert_eq!(receiver.received().await.len(), 1, "the first attempt, refused");
    let ep = endpoint(&app, &owner, &tenant).await;
    let first = &ep.deliveries.edges[0].node;
    assert_eq!((first.attempt, first.response_status, first.succeeded), (1, Some(503), false));
    assert!(first.response_excerpt.as_deref().unwrap_or("").contains("failing on purpose"));

    // Four seconds later nothing is due; five is the schedule's first wait.
    clock.advance(Duration::seconds(4));
    drain(&app.ctx).await.unwrap();
    assert_eq!(receiver.received().await.len(), 1);
    clock.advance(Duration::seconds(2));
    drain(&app.ctx).await.unwrap();
    let got = receiver.received().await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["id"], got[1]["id"], "one message id for every attempt");
    assert_eq!(got[1]["verified"], json!([true]));
    let ep = endpoint(&app, &owner, &tenant).await;
    let second = &ep.deliveries.edges[1].node;
    assert_eq!((second.attempt, second.succeeded), (2, true));

    // A replay sends the same message again; a test event is sent whatever the event types.
    let replayed = app
        .op_json::<ReplayWebhookDelivery>(Some(&owner.access), json!({ "id": second.id }))
        .await
        .into_data()
        .replay_webhook_delivery;
    app.op_json::<SendTestWebhookEvent>(Some(&owner.access), json!({ "id": endpoint_id })).await.data();
    drain(&app.ctx).await.unwrap();
    let got = receiver.received().await;
    assert_eq!(got.len(), 4);
    // Both were queued at the same instant: either may go first.
    let (replay, test): (Vec<&Value>, Vec<&Value>) =
        got[2..].iter().partition(|g| g["type"] == "team.created");
    assert_eq!(replay[0]["id"].as_str().unwrap(), replayed.delivery.message_id);
    assert_eq!(test[0]["type"], "webhook.test");
    assert_eq!(test[0]["verified"], json!([true]));
}

#[tokio::test]
async fn after_a_rotation_both_secrets_sign_until_the_grace_period_ends() {
    let (app, clock) = hook_app(&[("ZYGO_WEBHOOK_SECRET_GRACE_HOURS", "1")]).await;
    let receiver = Receiver::start();
    let owner = app.verified_user("hooks-rotate@example.com").await;
    let tenant = app.create_tenant(&owner, "hooks-rotate").await;
    let (id, old) = create_endpoint(&app, &owner, &tenant, &format!("{}/in", receiver.base), &[]).await;
    let rotated = app
        .op_json::<RotateWebhookEndpointSecret>(Some(&owner.access), json!({ "id": id }))
        .await
        .into_data()
        .rotate_webhook_endpoint_secret;
    assert_ne!(rotated.secret, old);
    assert!(rotated.endpoint.previous_secret_expires_at.is_some());
    receiver.control("/_config", json!({ "secrets": [old, rotated.secret] })).await;
    app.op_json::<SendTestWebhookEvent>(Some(&owner.access), json!({ "id": id })).await.data();
    drain(&app.ctx).await.unwrap();
    let got = receiver.received().await;
    assert_eq!(got[0]["verified"], json!([true, true]), "receivers on either secret accept it");
    assert_eq!(got[0]["signature"].as_str().unwrap().split(' ').count(), 2);

    // After the grace period only the new secret signs (the receiver's own clock is not moved,
    // so its timestamp check is left out here: the signatures are counted).
    clock.advance(Duration::minutes(61));
    app.op_json::<SendTestWebhookEvent>(Some(&owner.access), json!({ "id": id })).await.data();
    drain(&app.ctx).await.unwrap();
    let got = receiver.received().await;
    assert_eq!(got[1]["signature"].as_str().unwrap().split(' ').count(), 1);
}

#[tokio::test]
async fn an_endpoint_whose_events_keep_failing_is_switched_off_and_its_owners_are_mailed() {
    let (app, clock) = hook_app(&[("ZYGO_WEBHOOK_DISABLE_AFTER", "2")]).await;
    let receiver = Receiver::start();
    let owner = app.verified_user("hooks-off@example.com").await;
    let tenant = app.create_tenant(&owner, "hooks-off").await;
    let (id, _) =
        create_endpoint(&app, &owner, &tenant, &format!("{}/in", receiver.base), &["team.created"]).await;
    receiver.control("/_fail", json!({ "requests": 1000 })).await;
    create_team(&app, &owner, &tenant, "A").await;
    create_team(&app, &owner, &tenant, "B").await;
    // Every attempt of both events, over the schedule (about a day).
    for _ in 0..8 {
        drain(&app.ctx).await.unwrap();
        clock.advance(Duration::hours(10));
    }
    drain(&app.ctx).await.unwrap();
    assert_eq!(receiver.received().await.len(), 16, "eight attempts of each event");
    let ep = endpoint(&app, &owner, &tenant).await;
    assert!(!ep.enabled);
    assert_eq!(ep.consecutive_failures, 2);
    assert!(ep.disabled_reason.unwrap().contains("2 events"));
    let mail = app.mail_about("hooks-off@example.com", "webhook endpoint", 1).await;
    assert!(mail.contains(&receiver.base));

    // Switched off, it gets nothing; enabled again, it starts afresh.
    create_team(&app, &owner, &tenant, "C").await;
    drain(&app.ctx).await.unwrap();
    assert_eq!(receiver.received().await.len(), 16);
    let r = app
        .op_json::<UpdateWebhookEndpoint>(
            Some(&owner.access),
            json!({ "input": { "endpointId": id, "enabled": true } }),
        )
        .await
        .into_data()
        .update_webhook_endpoint
        .endpoint;
    assert!(r.enabled);
    assert_eq!((r.consecutive_failures, r.disabled_reason), (0, None));
}

#[tokio::test]
async fn an_event_committed_on_one_instance_is_delivered_by_another() {
    let backend = Backend::fresh().await;
    let data_dir = std::env::temp_dir().join(format!("zygo-test-hooks-{}", uuid::Uuid::new_v4().simple()));
    // Neither instance runs job workers: the event waits in the database, not in a process.
    let opts = Options {
        data_dir: Some(data_dir),
        env: vec![("ZYGO_WEBHOOK_ALLOW_PRIVATE", "true".into()), ("ZYGO_JOB_WORKERS", "0".into())],
        ..Default::default()
    };
    let a = spawn_app_on(backend.clone(), opts.clone()).await;
    let receiver = Receiver::start();
    let owner = a.verified_user("hooks-two@example.com").await;
    let tenant = a.create_tenant(&owner, "hooks-two").await;
    create_endpoint(&a, &owner, &tenant, &format!("{}/in", receiver.base), &["team.created"]).await;
    create_team(&a, &owner, &tenant, "Kept").await;
    assert!(receiver.received().await.is_empty());
    let b = spawn_app_on(backend, opts).await;
    drain(&b.ctx).await.unwrap();
    let got = receiver.received().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["body"]["data"]["after"]["name"], "Kept");
}

#[tokio::test]
async fn bad_endpoints_are_refused_naming_the_field_and_private_addresses_are_not_called_by_default() {
    let app = spawn_app().await;
    let owner = app.verified_user("hooks-bad@example.com").await;
    let tenant = app.create_tenant(&owner, "hooks-bad").await;
    for (input, field) in [
        (json!({ "url": "ftp://example.com/x", "eventTypes": [] }), "input.url"),
        (json!({ "url": "https://user:pw@example.com/x", "eventTypes": [] }), "input.url"),
        (json!({ "url": "https://example.com/x", "eventTypes": ["team.exploded"] }), "input.eventTypes"),
    ] {
        let mut input = input;
        input["tenantId"] = json!(tenant);
        let r = app
            .gql(Some(&owner.access), doc!("webhooks/CreateWebhookEndpoint"), json!({ "input": input }))
            .await;
        assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", field), "{r:?}");
    }
    let r =
        app.gql(Some(&owner.access), doc!("webhooks/TenantWebhookEndpoints"), json!({ "id": tenant })).await;
    assert_eq!(r.data()["tenant"]["webhookEndpoints"]["totalCount"], 0, "nothing was created");

    // Without ZYGO_WEBHOOK_ALLOW_PRIVATE a local receiver is never called.
    let receiver = Receiver::start();
    let (id, _) = create_endpoint(&app, &owner, &tenant, &format!("{}/in", receiver.base), &[]).await;
    app.op_json::<SendTestWebhookEvent>(Some(&owner.access), json!({ "id": id })).await.data();
    drain(&app.ctx).await.unwrap();
    assert!(receiver.received().await.is_empty());
    let ep = endpoint(&app, &owner, &tenant).await;
    let d = &ep.deliveries.edges[0].node;
    assert!(!d.succeeded);
    assert!(d.error.as_deref().unwrap().contains("private"), "{:?}", d.error);
}

#[tokio::test]
async fn the_background_workers_deliver_without_being_asked() {
    let app = spawn_app_on(
        Backend::fresh().await,
        Options { env: vec![("ZYGO_WEBHOOK_ALLOW_PRIVATE", "true".into())], ..Default::default() },
    )
    .await;
    let receiver = Receiver::start();
    let owner = app.verified_user("hooks-bg@example.com").await;
    let tenant = app.create_tenant(&owner, "hooks-bg").await;
    let (id, _) = create_endpoint(&app, &owner, &tenant, &format!("{}/in", receiver.base), &[]).await;
    app.op_json::<SendTestWebhookEvent>(Some(&owner.access), json!({ "id": id })).await.data();
    // Woken by the enqueue, not by a poll: the event is there well before the poll interval.
    let got = eventually(4, || async { receiver.received().await.into_iter().next() }).await;
    assert_eq!(got["type"], "webhook.test");
}

#[tokio::test]
async fn the_background_workers_log_a_refused_private_address() {
    let app = spawn_app().await;
    let owner = app.verified_user("hooks-bg2@example.com").await;
    let tenant = app.create_tenant(&owner, "hooks-bg2").await;
    let (id, _) = create_endpoint(&app, &owner, &tenant, "http://127.0.0.1:9/x", &[]).await;
    app.op_json::<SendTestWebhookEvent>(Some(&owner.access), json!({ "id": id })).await.data();
    let d = eventually(4, || async {
        let ep = endpoint(&app, &owner, &tenant).await;
        ep.deliveries.edges.into_iter().next()
    })
    .await;
    assert!(d.node.error.unwrap().contains("private"));
}

#[tokio::test]
async fn an_ordered_endpoint_gets_one_event_at_a_time_in_order_and_an_unordered_one_does_not_wait() {
    let (app, clock) = hook_app(&[]).await;
    let ordered = Receiver::start();
    let parallel = Receiver::start();
    let owner = app.verified_user("hooks-order@example.com").await;
    let tenant = app.create_tenant(&owner, "hooks-order").await;
    let mut ids = Vec::new();
    for (receiver, in_order) in [(&ordered, true), (&parallel, false)] {
        let r = app
            .op_json::<CreateWebhookEndpoint>(
                Some(&owner.access),
                json!({ "input": { "tenantId": tenant, "url": format!("{}/in", receiver.base), "eventTypes": ["team.created"], "ordered": in_order } }),
            )
            .await
            .into_data()
            .create_webhook_endpoint;
        assert_eq!(r.endpoint.ordered, in_order);
        receiver.control("/_config", json!({ "secrets": [r.secret] })).await;
        // The first event's first attempt is refused by both.
        receiver.control("/_fail", json!({ "requests": 1, "status": 503 })).await;
        ids.push(r.endpoint.id);
    }
    for name in ["First", "Second", "Third"] {
        create_team(&app, &owner, &tenant, name).await;
    }
    drain(&app.ctx).await.unwrap();
    let names = |got: Vec<Value>| -> Vec<String> {
        got.iter()
            .map(|g| g["body"]["data"]["after"]["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // In order: nothing after the refused first event until it is delivered.
    assert_eq!(names(ordered.received().await), ["First"]);
    // Not in order: the others went meanwhile.
    assert_eq!(parallel.received().await.len(), 3);

    clock.advance(Duration::seconds(6));
    drain(&app.ctx).await.unwrap();
    assert_eq!(names(ordered.received().await), ["First", "First", "Second", "Third"]);
    // Not in order: whichever event the receiver refused (deliveries run side by side) is
    // retried after the others went.
    let got = parallel.received().await;
    assert_eq!(got.len(), 4);
    let refused = got.iter().find(|g| g["answered"] == 503).expect("a refused delivery")["body"]["data"]["after"]
        ["name"]
        .clone();
    assert_eq!(got[3]["body"]["data"]["after"]["name"], refused, "the unordered endpoint's retry comes last");

    // Turning order off lets whatever waits go at once.
    ordered.control("/_fail", json!({ "requests": 1, "status": 503 })).await;
    create_team(&app, &owner, &tenant, "Fourth").await;
    create_team(&app, &owner, &tenant, "Fifth").await;
    drain(&app.ctx).await.unwrap();
    assert_eq!(ordered.received().await.len(), 5, "Fifth waits for Fourth");
    app.op_json::<UpdateWebhookEndpoint>(
        Some(&owner.access),
        json!({ "input": { "endpointId": ids[0], "ordered": false } }),
    )
    .await
    .data();
    drain(&app.ctx).await.unwrap();
    assert_eq!(names(ordered.received().await).last().map(String::as_str), Some("Fifth"));
}
