use serde_json::json;

use crate::{doc, gql::*, helpers::*};

/// Renames the tenant until the subscription (registered asynchronously) reports an event.
pub async fn mutate_until_event(
    app: &TestApp,
    s: &Session,
    id: &str,
    name: &str,
    ws: &mut WsClient,
) -> serde_json::Value {
    for _ in 0..30 {
        app.gql(
            Some(&s.access),
            doc!("tenancy/UpdateTenant"),
            json!({ "input": { "id": id, "name": name } }),
        )
        .await
        .data();
        if let Ok(Some(v)) = tokio::time::timeout(std::time::Duration::from_millis(300), ws.next_json()).await
        {
            return v;
        }
    }
    panic!("no event within 30 attempts");
}

#[tokio::test]
async fn tenant_events_reach_members_over_graphql_transport_ws() {
    let app = spawn_app().await;
    let s = app.verified_user("live@example.com").await;
    let id = app.create_tenant(&s, "live-org").await;

    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&s.access)).await.unwrap()["type"], "connection_ack");
    ws.subscribe("1", doc!("tenancy/TenantEvents"), json!({ "tenantId": id })).await;
    // Keep renaming until the subscription (registered asynchronously) sees one.
    let event = mutate_until_event(&app, &s, &id, "Renamed", &mut ws).await;
    assert_eq!(event["type"], "next", "{event}");
    assert_eq!(event["id"], "1");
    let payload =
        event_data::<TenantEvents>(&event).unwrap_or_else(|| panic!("an event: {event}")).tenant_events;
    assert_eq!(enum_name(&payload.kind), "TENANT_UPDATED");
    assert_eq!(payload.tenant_id, id);
    assert_eq!(payload.tenant.as_ref().map(|t| t.name.as_str()), Some("Renamed"));
    assert_eq!(payload.actor_id.as_deref(), Some(s.user_id.as_str()));

    ws.send(json!({ "id": "1", "type": "complete" })).await;
    eventually(5, || async { (app.metric("zygo_subscriptions_active").await == 0.0).then_some(()) }).await;
}

#[tokio::test]
async fn a_subscription_ends_cleanly_when_its_client_leaves() {
    let app = spawn_app().await;
    let s = app.verified_user("leaver@example.com").await;
    let id = app.create_tenant(&s, "leaver-org").await;
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.init(Some(&s.access)).await.unwrap();
    ws.subscribe("1", doc!("tenancy/TenantEvents"), json!({ "tenantId": id })).await;
    mutate_until_event(&app, &s, &id, "Seen", &mut ws).await;
    assert_eq!(app.metric("zygo_subscriptions_active").await, 1.0);
    drop(ws); // no complete, no close frame: the TCP connection just goes away
    eventually(5, || async {
        let subs = app.metric("zygo_subscriptions_active").await;
        let sockets = app.metric("zygo_websockets_open").await;
        (subs == 0.0 && sockets == 0.0).then_some(())
    })
    .await;
    // The server is still fine.
    app.gql(Some(&s.access), doc!("tenancy/UpdateTenant"), json!({ "input": { "id": id, "name": "After" } }))
        .await
        .data();
}

#[tokio::test]
async fn outsiders_and_anonymous_clients_cannot_subscribe_to_a_tenant() {
    let app = spawn_app().await;
    let owner = app.verified_user("o@example.com").await;
    let outsider = app.verified_user("x@example.com").await;
    let id = app.create_tenant(&owner, "closed-org").await;

    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.init(Some(&outsider.access)).await.unwrap();
    ws.subscribe("1", doc!("tenancy/TenantEvents"), json!({ "tenantId": id })).await;
    let msg = ws.next_json().await.unwrap();
    assert_eq!(msg["type"], "next", "{msg}");
    assert_eq!(msg["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert!(msg["payload"]["data"].is_null());
    assert_eq!(ws.next_json().await.unwrap()["type"], "complete");

    let mut anon = WsClient::connect(&app, "graphql-transport-ws").await;
    anon.init(None).await.unwrap();
    anon.subscribe("1", doc!("tenancy/TenantEvents"), json!({ "tenantId": id })).await;
    let msg = anon.next_json().await.unwrap();
    assert_eq!(msg["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_bad_token_in_connection_init_closes_the_socket_with_4403() {
    let app = spawn_app().await;
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.send(json!({ "type": "connection_init", "payload": { "Authorization": "Bearer nonsense" } })).await;
    assert_eq!(ws.close_code().await, Some(4403));
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_works() {
    let app = spawn_app().await;
    let s = app.verified_user("legacy@example.com").await;
    let id = app.create_tenant(&s, "legacy-org").await;
    let mut ws = WsClient::connect(&app, "graphql-ws").await;
    assert_eq!(ws.init(Some(&s.access)).await.unwrap()["type"], "connection_ack");
    ws.subscribe("a", doc!("tenancy/TenantEvents"), json!({ "tenantId": id })).await;
    let event = mutate_until_event(&app, &s, &id, "Old School", &mut ws).await;
    assert_eq!(event["type"], "data", "{event}");
    let payload =
        event_data::<TenantEvents>(&event).unwrap_or_else(|| panic!("an event: {event}")).tenant_events;
    assert_eq!(enum_name(&payload.kind), "TENANT_UPDATED");
}

#[tokio::test]
async fn shutdown_closes_websockets_with_going_away() {
    let app = spawn_app().await;
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(ws.init(None).await.unwrap()["type"], "connection_ack");
    assert_eq!(app.metric("zygo_websockets_open").await, 1.0);
    let closing = tokio::spawn(async move { ws.close_code().await });
    app.shutdown().await;
    assert_eq!(closing.await.unwrap(), Some(1001));
}

#[tokio::test]
async fn a_removed_member_stops_receiving_and_an_ended_session_cannot_start_operations() {
    let app = spawn_app().await;
    let owner = app.verified_user("sub-own@example.com").await;
    let id = app.create_tenant(&owner, "sub-org").await;
    let (member, membership) = app.join_as(&owner, &id, "sub-mem@example.com", "member").await;
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&member.access)).await.unwrap()["type"], "connection_ack");
    ws.subscribe("1", doc!("tenancy/TenantEvents"), json!({ "tenantId": id })).await;
    // The member sees events while a member (renames by the owner)...
    mutate_until_event(&app, &owner, &id, "Still yours", &mut ws).await;
    // ...and nothing once removed: the member's sockets are closed (4401) by the removal itself,
    // as its reason says (the only other 4401 is the token's expiry, 15 minutes away).
    app.gql(Some(&owner.access), doc!("members/RemoveMember"), json!({ "membershipId": membership }))
        .await
        .data();
    assert_eq!(ws.close_frame().await, Some((4401, "access to an organisation ended".to_string())));

    // Reconnected, the member can no longer subscribe to the organisation.
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&member.access)).await.unwrap()["type"], "connection_ack");
    ws.subscribe("1", doc!("tenancy/TenantEvents"), json!({ "tenantId": id })).await;
    let msg = ws.next_json().await.unwrap();
    assert_eq!(msg["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND", "{msg}");

    // The session ends: its socket closes, and its token opens no new one (4403).
    app.gql(Some(&member.access), doc!("identity/LogOut"), json!({})).await.data();
    assert_eq!(ws.close_code().await, Some(4401));
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", member.access) } }))
        .await;
    assert_eq!(ws.close_code().await, Some(4403));
}

#[tokio::test]
async fn members_watching_an_organisation_receive_its_deletion_and_then_the_stream_completes() {
    let clock = zygo::ctx::Clock::manual(chrono::Utc::now());
    let opts = Options { clock: Some(clock.clone()), ..Default::default() };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let s = app.verified_user("deleter@example.com").await;
    let id = app.create_tenant(&s, "doomed-org").await;
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.init(Some(&s.access)).await.unwrap();
    ws.subscribe("1", doc!("tenancy/TenantEvents"), json!({ "tenantId": id })).await;
    mutate_until_event(&app, &s, &id, "Doomed", &mut ws).await;

    app.gql(Some(&s.access), doc!("tenancy/DeleteTenant"), json!({ "id": id, "confirmSlug": "doomed-org" }))
        .await
        .data();
    // The owner's deletion starts the grace period: an update (the organisation now shows its
    // deletion date), then, once its data is removed, the deletion.
    let event = ws.next_json().await.expect("the scheduling event");
    assert_eq!(event["payload"]["data"]["tenantEvents"]["kind"], "TENANT_UPDATED", "{event}");
    clock.advance(chrono::Duration::days(31));
    zygo::jobs::drain(&app.ctx).await.unwrap();
    let event = ws.next_json().await.expect("the deletion event");
    assert_eq!(event["type"], "next", "{event}");
    let payload = &event["payload"];
    assert!(payload.get("errors").is_none(), "{event}");
    let deleted = &payload["data"]["tenantEvents"];
    assert_eq!(deleted["kind"], "TENANT_DELETED", "{event}");
    assert_eq!(deleted["tenantId"], id);
    assert_eq!(deleted["actorId"], serde_json::Value::Null, "the platform removed it: {event}");
    assert!(deleted.as_object().unwrap().contains_key("tenant") && deleted["tenant"].is_null(), "{event}");
    let end = ws.next_json().await.expect("the end of the stream");
    assert_eq!(end, json!({ "id": "1", "type": "complete" }));
}
