//! Presence and cursors over the real API (issue 18): `documentPresence` delivers everyone
//! present, then joins, moves and leaves; `updatePresence` over HTTP and as a light message on
//! the subscription's own socket; leaving on unsubscribe, on a closed socket, on lost access
//! and on a revoked session; expiry without a heartbeat (moving the test clock and draining
//! the sweep); coalescing of a burst; two instances over Redis; and a section lock's expiry
//! announcing itself.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use zygo::{ctx::Clock, jobs::drain};

use crate::{
    doc,
    event_bus::redis_url,
    gql::{
        DocumentPresence, UpdatePresence,
        document_presence::{
            DocumentPresenceDocumentPresence as Event, ParticipantFields as Participant,
            PresenceEventKind as Kind,
        },
    },
    helpers::*,
};

/// An organisation with a document of one section; `reader` is a member (read only).
struct Room {
    app: TestApp,
    clock: Clock,
    owner: Session,
    reader: Session,
    reader_membership: String,
    tenant: String,
    document: String,
    section: String,
}

async fn room_on(app: TestApp, clock: Clock, slug: &str) -> Room {
    let owner = app.verified_user(&format!("{slug}-owner@example.com")).await;
    let tenant = app.create_tenant(&owner, slug).await;
    let (reader, reader_membership) =
        app.join_as(&owner, &tenant, &format!("{slug}-reader@example.com"), "member").await;
    let team = app
        .gql(
            Some(&owner.access),
            doc!("teams/CreateTeam"),
            json!({ "input": { "tenantId": tenant, "name": "Writers" } }),
        )
        .await
        .data()["createTeam"]["team"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let created = app
        .gql(
            Some(&owner.access),
            doc!("studio/CreateDocument"),
            json!({ "input": { "teamId": team, "title": "Together" } }),
        )
        .await;
    let d = created.data()["createDocument"]["document"].clone();
    let (document, page) = (d["id"].as_str().unwrap().to_string(), d["pages"][0]["id"].as_str().unwrap());
    let added = app
        .gql(
            Some(&owner.access),
            doc!("studio/AddSection"),
            json!({ "input": { "pageId": page, "baseRevision": 1, "kind": "TEXT",
                "content": { "type": "doc", "text": "hello" } } }),
        )
        .await;
    let section = added.data()["addSection"]["section"]["id"].as_str().unwrap().to_string();
    Room { app, clock, owner, reader, reader_membership, tenant, document, section }
}

/// A room on a fresh app on a manual clock (background jobs run when the test drains them).
async fn room(slug: &str, env: Vec<(&'static str, String)>) -> Room {
    let clock = Clock::manual(Utc::now());
    let opts = Options { clock: Some(clock.clone()), env, ..Default::default() };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    room_on(app, clock, slug).await
}

/// A socket of `who` subscribed to the document's presence; returns it and the first
/// event's participants (PRESENT).
async fn present(app: &TestApp, who: &Session, document: &str) -> (WsClient, Vec<Participant>) {
    let mut ws = WsClient::connect(app, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&who.access)).await.unwrap()["type"], "connection_ack");
    ws.subscribe("p", doc!("studio/DocumentPresence"), json!({ "documentId": document })).await;
    let first = next_presence(&mut ws).await.expect("the first event");
    assert_eq!(first.kind, Kind::PRESENT);
    (ws, first.participants)
}

/// The next presence event on `ws` (other operations' answers skipped); `None` when the
/// subscription completed or the socket closed.
async fn next_presence(ws: &mut WsClient) -> Option<Event> {
    loop {
        let msg = ws.next_json().await?;
        if msg["id"] != "p" {
            continue;
        }
        match msg["type"].as_str() {
            Some("next") => {
                assert!(msg["payload"]["errors"].is_null(), "{msg}");
                return Some(event_data::<DocumentPresence>(&msg).expect("presence data").document_presence);
            }
            Some("complete") => return None,
            _ => panic!("unexpected message: {msg}"),
        }
    }
}

/// The next presence event about someone else than the socket's own participant: its kind
/// and the participant.
async fn next_other(ws: &mut WsClient) -> (Kind, Participant) {
    loop {
        let mut e = next_presence(ws).await.expect("a presence event");
        assert_eq!(e.participants.len(), 1, "one participant per change");
        let p = e.participants.remove(0);
        if !p.is_you {
            return (e.kind, p);
        }
    }
}

fn head(p: &Participant) -> Option<i64> {
    p.cursor.as_ref().map(|c| c.head)
}

/// Sends `updatePresence` as a light message on the socket itself.
async fn move_on_socket(ws: &mut WsClient, op: &str, document: &str, section: &str, head: i64) {
    ws.subscribe(
        op,
        doc!("studio/UpdatePresence"),
        json!({ "documentId": document,
            "input": { "sectionId": section, "cursor": { "anchor": 0, "head": head }, "status": "TYPING" } }),
    )
    .await;
}

async fn move_over_http(app: &TestApp, who: &Session, document: &str, section: &str, head: i64) -> Gql {
    app.gql(
        Some(&who.access),
        doc!("studio/UpdatePresence"),
        json!({ "documentId": document,
            "input": { "sectionId": section, "cursor": { "anchor": head, "head": head } } }),
    )
    .await
}

#[tokio::test]
async fn a_subscriber_sees_who_is_present_then_joins_moves_and_leaves() {
    let r = room("presence-basics", vec![]).await;
    let (mut a, present_a) = present(&r.app, &r.owner, &r.document).await;
    assert_eq!(present_a.len(), 1, "alone: {present_a:?}");
    let me = &present_a[0];
    assert!(me.is_you);
    assert_eq!(me.user_id, r.owner.user_id);
    assert!(me.colour.starts_with('#') && me.colour.len() == 7, "{}", me.colour);
    assert!(me.instance_id.starts_with("zygo-"));

    let (mut b, present_b) = present(&r.app, &r.reader, &r.document).await;
    assert_eq!(present_b.len(), 2, "both: {present_b:?}");
    let (kind, joined) = next_other(&mut a).await;
    assert_eq!(kind, Kind::JOINED);
    assert_eq!(joined.user_id, r.reader.user_id);
    assert!(!joined.display_name.is_empty());
    assert_ne!(joined.id, me.id, "a participant of its own");

    // A light message on B's own socket moves B's own participant.
    move_on_socket(&mut b, "m1", &r.document, &r.section, 3).await;
    let (kind, moved) = next_other(&mut a).await;
    assert_eq!(kind, Kind::UPDATED);
    assert_eq!(moved.id, joined.id, "the socket's participant, not a new one");
    assert_eq!(moved.section_id.as_deref(), Some(r.section.as_str()));
    assert_eq!(moved.cursor.as_ref().map(|c| (c.anchor, c.head)), Some((0, 3)));
    assert_eq!(enum_name(&moved.status), "TYPING");

    // Over HTTP it moves the user's participant too.
    let set = move_over_http(&r.app, &r.reader, &r.document, &r.section, 5).await;
    assert_eq!(set.data()["updatePresence"]["participants"][0]["id"], joined.id.as_str());
    let (kind, moved) = next_other(&mut a).await;
    assert_eq!((kind, head(&moved)), (Kind::UPDATED, Some(5)));

    // Unsubscribing leaves.
    b.send(json!({ "id": "p", "type": "complete" })).await;
    let (kind, left) = next_other(&mut a).await;
    assert_eq!((kind, left.id), (Kind::LEFT, joined.id));

    // So does a socket that just goes away.
    let (c, _) = present(&r.app, &r.reader, &r.document).await;
    let (kind, joined) = next_other(&mut a).await;
    assert_eq!(kind, Kind::JOINED);
    drop(c);
    let (kind, left) = next_other(&mut a).await;
    assert_eq!((kind, left.id), (Kind::LEFT, joined.id));
}

#[tokio::test]
async fn bad_presence_input_is_refused_naming_the_field_and_outsiders_see_nothing() {
    let r = room("presence-input", vec![]).await;
    let update = |input: Value| {
        let (app, reader, document) = (&r.app, &r.reader, &r.document);
        async move {
            app.gql(
                Some(&reader.access),
                doc!("studio/UpdatePresence"),
                json!({ "documentId": document, "input": input }),
            )
            .await
        }
    };
    let bad = update(json!({ "sectionId": r.section, "cursor": { "anchor": -1, "head": 0 } })).await;
    assert_eq!((bad.code(), bad.field()), ("BAD_USER_INPUT".to_string(), "input.cursor.anchor".to_string()));
    let bad = update(json!({ "cursor": { "anchor": 1, "head": 1 } })).await;
    assert_eq!(bad.field(), "input.sectionId", "a cursor needs its section");
    let bad = update(json!({ "sectionId": r.document })).await;
    assert_eq!(bad.field(), "input.sectionId", "a document's ID is no section's");
    let big = "x".repeat(3000);
    let bad = update(json!({ "selection": { "text": big } })).await;
    assert_eq!(bad.field(), "input.selection");
    let (_a, present_a) = present(&r.app, &r.owner, &r.document).await;
    assert_eq!(present_a.len(), 1, "a refused update made nobody present");

    let stranger = r.app.verified_user("presence-input-stranger@example.com").await;
    let refused = move_over_http(&r.app, &stranger, &r.document, &r.section, 1).await;
    assert_eq!(refused.code(), "NOT_FOUND");
    let mut ws = WsClient::connect(&r.app, "graphql-transport-ws").await;
    ws.init(Some(&stranger.access)).await.unwrap();
    ws.subscribe("p", doc!("studio/DocumentPresence"), json!({ "documentId": r.document })).await;
    let msg = ws.next_json().await.unwrap();
    assert_eq!(msg["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND", "{msg}");
    assert!(msg["payload"]["data"].is_null());
}

#[tokio::test]
async fn a_participant_without_a_heartbeat_expires_and_the_sweep_tells_the_others() {
    let r = room("presence-expiry", vec![("ZYGO_PRESENCE_TTL", "10".into())]).await;
    let (mut a, _) = present(&r.app, &r.owner, &r.document).await;
    let (mut b, _) = present(&r.app, &r.reader, &r.document).await;
    let (_, reader) = next_other(&mut a).await;

    r.clock.advance(Duration::seconds(6));
    // A's heartbeat (over HTTP: it finds A's participant by user).
    move_over_http(&r.app, &r.owner, &r.document, &r.section, 1).await.data();
    assert_eq!(next_other(&mut b).await.0, Kind::UPDATED);
    r.clock.advance(Duration::seconds(5));
    drain(&r.app.ctx).await.unwrap();
    let (kind, left) = next_other(&mut a).await;
    assert_eq!((kind, left.id), (Kind::LEFT, reader.id.clone()));

    // A heartbeat on B's still open socket brings B back.
    move_on_socket(&mut b, "m1", &r.document, &r.section, 2).await;
    let (kind, back) = next_other(&mut a).await;
    assert_eq!((kind, back.id), (Kind::JOINED, reader.id));
    // A is still there for a newcomer, and so is B.
    let (_c, present_c) = present(&r.app, &r.reader, &r.document).await;
    assert_eq!(present_c.len(), 3, "A, B and the newcomer: {present_c:?}");
}

#[tokio::test]
async fn losing_access_ends_the_subscription_and_the_participant_leaves() {
    let r = room("presence-access", vec![]).await;
    let (mut a, _) = present(&r.app, &r.owner, &r.document).await;
    let (mut b, _) = present(&r.app, &r.reader, &r.document).await;
    let (_, reader) = next_other(&mut a).await;

    r.app
        .gql(
            Some(&r.owner.access),
            doc!("members/RemoveMember"),
            json!({ "membershipId": r.reader_membership }),
        )
        .await
        .data();
    // B's stream ends (any presence events it still got are before the end)…
    while next_presence(&mut b).await.is_some() {}
    // …and A sees B leave.
    let (kind, left) = next_other(&mut a).await;
    assert_eq!((kind, left.id), (Kind::LEFT, reader.id));
}

#[tokio::test]
async fn deleting_the_document_ends_everyones_presence() {
    let r = room("presence-deleted", vec![]).await;
    let (mut a, _) = present(&r.app, &r.owner, &r.document).await;
    let (mut b, _) = present(&r.app, &r.reader, &r.document).await;
    assert_eq!(next_other(&mut a).await.0, Kind::JOINED);
    r.app.gql(Some(&r.owner.access), doc!("studio/DeleteDocument"), json!({ "id": r.document })).await.data();
    while next_presence(&mut a).await.is_some() {}
    while next_presence(&mut b).await.is_some() {}
    // Both left with their subscriptions: a newcomer cannot even open it.
    let refused = move_over_http(&r.app, &r.owner, &r.document, &r.section, 1).await;
    assert_eq!(refused.code(), "NOT_FOUND");
    // And nothing of them stays in the store (Redis or memory).
    let uuid = |id: &str| {
        zygo::graphql::relay::from_global_id(&async_graphql::ID(id.into())).expect("a global ID").1
    };
    let room = zygo::modules::studio::service::presence::room(uuid(&r.tenant), uuid(&r.document));
    eventually(10, || async {
        r.app.ctx.presence.store.members(&room, r.clock.now()).await.unwrap().is_empty().then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_revoked_session_closes_the_socket_and_its_participant_leaves() {
    let r = room("presence-session", vec![]).await;
    let (mut a, _) = present(&r.app, &r.owner, &r.document).await;
    let (mut b, _) = present(&r.app, &r.reader, &r.document).await;
    let (_, reader) = next_other(&mut a).await;

    let other = r.app.log_in("presence-session-reader@example.com").await;
    r.app.gql(Some(&other.access), doc!("security/RevokeOtherSessions"), json!({})).await.data();
    assert_eq!(b.close_code().await, Some(4401));
    let (kind, left) = next_other(&mut a).await;
    assert_eq!((kind, left.id), (Kind::LEFT, reader.id));
}

#[tokio::test]
async fn a_burst_of_moves_reaches_the_others_coalesced_and_ends_on_the_last() {
    // One update a second: however slowly this machine answers, a burst of sequential moves
    // falls within a few intervals.
    let r = room("presence-burst", vec![("ZYGO_PRESENCE_MAX_RATE", "1".into())]).await;
    let (mut a, _) = present(&r.app, &r.owner, &r.document).await;
    let (_b, _) = present(&r.app, &r.reader, &r.document).await;
    assert_eq!(next_other(&mut a).await.0, Kind::JOINED);

    const MOVES: i64 = 60;
    for h in 1..=MOVES {
        let set = r.app.op_json::<UpdatePresence>(
            Some(&r.reader.access),
            json!({ "documentId": r.document, "input": { "sectionId": r.section, "cursor": { "anchor": h, "head": h } } }),
        );
        assert_eq!(set.await.data().update_presence.participants[0].cursor.as_ref().map(|c| c.head), Some(h));
    }
    let mut seen = 0;
    loop {
        let (kind, p) = next_other(&mut a).await;
        assert_eq!(kind, Kind::UPDATED);
        seen += 1;
        if head(&p) == Some(MOVES) {
            break;
        }
    }
    assert!(seen < MOVES, "{MOVES} moves in a burst reached the others as {seen} updates");
    // Nothing is left over after the last: a fresh move is the very next event.
    move_over_http(&r.app, &r.reader, &r.document, &r.section, 1000).await.data();
    assert_eq!(head(&next_other(&mut a).await.1), Some(1000));
}

#[tokio::test]
async fn a_lock_expiry_announces_itself_at_its_instant_unless_renewed() {
    let r = room("presence-lock-expiry", vec![]).await;
    const GAUGE: &str = "zygo_subscriptions_active";
    let base = r.app.metric(GAUGE).await;
    let mut ws = WsClient::connect(&r.app, "graphql-transport-ws").await;
    ws.init(Some(&r.reader.access)).await.unwrap();
    ws.subscribe("e", doc!("studio/DocumentEvents"), json!({ "documentId": r.document })).await;
    eventually(10, || async { (r.app.metric(GAUGE).await > base).then_some(()) }).await;
    let lock = |op: &'static str| {
        let (app, owner, section) = (&r.app, &r.owner, &r.section);
        async move {
            let q = if op == "acquire" {
                doc!("studio/AcquireSectionLock")
            } else {
                doc!("studio/RenewSectionLock")
            };
            app.gql(Some(&owner.access), q, json!({ "sectionId": section })).await.data();
        }
    };
    lock("acquire").await;
    let first = ws.next_json().await.unwrap();
    assert_eq!(first["payload"]["data"]["documentEvents"]["kind"], "LOCK_ACQUIRED", "{first}");

    r.clock.advance(Duration::seconds(50));
    lock("renew").await;
    r.clock.advance(Duration::seconds(11));
    drain(&r.app.ctx).await.unwrap();
    let doc = r.app.gql(Some(&r.owner.access), doc!("studio/Document"), json!({ "id": r.document })).await;
    assert!(
        !doc.data()["document"]["pages"][0]["sections"][0]["lock"].is_null(),
        "renewed: the first expiry's job left it alone"
    );
    r.clock.advance(Duration::seconds(50));
    drain(&r.app.ctx).await.unwrap();
    let expired = ws.next_json().await.unwrap();
    let e = &expired["payload"]["data"]["documentEvents"];
    assert_eq!(
        (e["kind"].as_str(), e["sectionId"].as_str()),
        (Some("LOCK_EXPIRED"), Some(r.section.as_str()))
    );
    assert_eq!(e["userId"], r.owner.user_id.as_str());
}

#[tokio::test]
async fn a_participant_on_one_instance_sees_one_on_another_join_move_and_leave() {
    let mut backend = Backend::fresh().await;
    backend.redis_url = Some(redis_url());
    let data_dir = std::env::temp_dir().join(format!("zygo-test-shared-{}", uuid::Uuid::new_v4().simple()));
    let opts = Options { data_dir: Some(data_dir), ..Default::default() };
    let first = spawn_app_on(backend.clone(), opts.clone()).await;
    let second = spawn_app_on(backend, opts).await;
    let r = room_on(first, Clock::system(), "presence-cross").await;

    let (mut a, present_a) = present(&r.app, &r.owner, &r.document).await;
    let (mut b, present_b) = present(&second, &r.reader, &r.document).await;
    assert_eq!(present_b.len(), 2, "B on the other instance sees A: {present_b:?}");
    let (kind, joined) = next_other(&mut a).await;
    assert_eq!(kind, Kind::JOINED);
    assert_ne!(joined.instance_id, present_a[0].instance_id, "B is connected elsewhere");

    move_on_socket(&mut b, "m1", &r.document, &r.section, 4).await;
    let (kind, moved) = next_other(&mut a).await;
    assert_eq!((kind, head(&moved)), (Kind::UPDATED, Some(4)));
    // And the other way round.
    move_on_socket(&mut a, "m1", &r.document, &r.section, 7).await;
    let (kind, moved) = next_other(&mut b).await;
    assert_eq!((kind, head(&moved)), (Kind::UPDATED, Some(7)));

    drop(b);
    let (kind, left) = next_other(&mut a).await;
    assert_eq!((kind, left.id), (Kind::LEFT, joined.id));
}

#[tokio::test]
async fn leaving_a_document_releases_ones_section_locks_unless_another_tab_stays() {
    let r = room("presence-locks", vec![]).await;
    let lock = || {
        let (app, token, section) = (&r.app, r.owner.access.clone(), r.section.clone());
        async move {
            app.gql(Some(&token), doc!("studio/AcquireSectionLock"), json!({ "sectionId": section })).await
        }
    };
    let holder = || {
        let (app, token, document) = (&r.app, r.reader.access.clone(), r.document.clone());
        async move {
            let d = app.gql(Some(&token), doc!("studio/Document"), json!({ "id": document })).await;
            d.data()["document"]["pages"][0]["sections"][0]["lock"]["holderId"].as_str().map(str::to_string)
        }
    };
    let (mut watcher, _) = present(&r.app, &r.reader, &r.document).await;
    let (first_tab, _) = present(&r.app, &r.owner, &r.document).await;
    let (second_tab, _) = present(&r.app, &r.owner, &r.document).await;
    lock().await.data();
    assert_eq!(holder().await.as_deref(), Some(r.owner.user_id.as_str()));

    // One tab closes: the other keeps the owner here, and the lock stays.
    let (kind, _) = next_other(&mut watcher).await;
    assert_eq!(kind, Kind::JOINED);
    let (kind, _) = next_other(&mut watcher).await;
    assert_eq!(kind, Kind::JOINED);
    drop(first_tab);
    assert_eq!(next_other(&mut watcher).await.0, Kind::LEFT);
    assert_eq!(holder().await.as_deref(), Some(r.owner.user_id.as_str()));

    // The last one closes: the lock goes at once, not when it would expire.
    drop(second_tab);
    assert_eq!(next_other(&mut watcher).await.0, Kind::LEFT);
    eventually(10, || async { holder().await.is_none().then_some(()) }).await;
}

/// A selection with an alias, `__typename`, a variable's `@include` and an inline fragment.
const SHAPED: &str = "subscription Shaped($d: ID!, $cursors: Boolean!) {
  seen: documentPresence(documentId: $d) {
    __typename kind
    who: participants { userId name: displayName isYou cursor @include(if: $cursors) { head } ... on Participant { colour } }
  }
}";

/// The next answer to operation `id` on `ws` (`next`, or the legacy protocol's `data`), its
/// payload as sent; `None` once it completed.
async fn next_answer(ws: &mut WsClient, id: &str) -> Option<Value> {
    loop {
        let msg = ws.next_json().await?;
        if msg["id"] != id {
            continue;
        }
        match msg["type"].as_str() {
            Some("next" | "data") => return Some(msg["payload"].clone()),
            Some("complete") => return None,
            _ => panic!("unexpected message: {msg}"),
        }
    }
}

/// A `graphql-transport-ws` socket's presence subscription is served by the document's room,
/// the legacy protocol's by a running operation of the schema; both answer alike, whatever the
/// selection, and a selection the schema refuses is refused alike without anyone joining.
#[tokio::test]
async fn presence_answers_the_same_selection_alike_over_either_protocol() {
    let r = room("presence-shapes", vec![]).await;
    let vars = json!({ "d": r.document, "cursors": true });
    let mut sockets = vec![];
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let mut ws = WsClient::connect(&r.app, protocol).await;
        assert!(ws.init(Some(&r.reader.access)).await.is_some());
        ws.subscribe("s", SHAPED, vars.clone()).await;
        let first = next_answer(&mut ws, "s").await.expect("PRESENT");
        let seen = &first["data"]["seen"];
        assert_eq!(
            (seen["__typename"].as_str(), seen["kind"].as_str()),
            (Some("DocumentPresenceEvent"), Some("PRESENT"))
        );
        assert!(seen["who"].as_array().unwrap().iter().any(|p| p["isYou"] == true), "{first}");
        sockets.push(ws);
    }
    // The owner joins and moves: each socket gets the same answers.
    let (_owner, ps) = present(&r.app, &r.owner, &r.document).await;
    assert!(ps.iter().any(|p| p.is_you));
    let owner = r.owner.user_id.clone();
    let mut joined = vec![];
    for ws in &mut sockets {
        loop {
            let a = next_answer(ws, "s").await.unwrap();
            if a["data"]["seen"]["kind"] == "JOINED"
                && a["data"]["seen"]["who"][0]["userId"] == owner.as_str()
            {
                joined.push(a);
                break;
            }
        }
    }
    assert_eq!(joined[0], joined[1]);
    assert_eq!(joined[0]["data"]["seen"]["who"][0]["isYou"], false);
    move_over_http(&r.app, &r.owner, &r.document, &r.section, 7).await;
    let a = next_answer(&mut sockets[0], "s").await.unwrap();
    let b = next_answer(&mut sockets[1], "s").await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a["data"]["seen"]["kind"], "UPDATED");
    assert_eq!(a["data"]["seen"]["who"][0]["cursor"]["head"], 7, "{a}");
    assert!(a["data"]["seen"]["who"][0]["colour"].is_string(), "{a}");

    // A field the schema does not have: the same refusal, and nobody joined.
    let bad = SHAPED.replace("name: displayName", "name: nickname");
    let mut refusals = vec![];
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let mut ws = WsClient::connect(&r.app, protocol).await;
        assert!(ws.init(Some(&r.reader.access)).await.is_some());
        ws.subscribe("bad", &bad, vars.clone()).await;
        let refused = next_answer(&mut ws, "bad").await.expect("the refusal");
        assert!(next_answer(&mut ws, "bad").await.is_none(), "then complete");
        let e = &refused["errors"][0];
        assert_eq!(e["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{refused}");
        refusals.push(e["message"].clone());
    }
    assert_eq!(refusals[0], refusals[1]);
    let (_third, present) = present(&r.app, &r.owner, &r.document).await;
    assert_eq!(present.len(), 4, "two readers' sockets and the owner's two: {present:?}");

    // A document the caller may not read: NOT_FOUND alike, with the field's path.
    let outsider = r.app.verified_user("presence-shapes-outsider@example.com").await;
    let mut answers = vec![];
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let mut ws = WsClient::connect(&r.app, protocol).await;
        assert!(ws.init(Some(&outsider.access)).await.is_some());
        ws.subscribe("x", SHAPED, vars.clone()).await;
        let mut refused = next_answer(&mut ws, "x").await.expect("the refusal");
        assert_eq!(refused["errors"][0]["extensions"]["code"], "NOT_FOUND", "{refused}");
        assert_eq!(refused["errors"][0]["path"], json!(["seen"]), "{refused}");
        refused["errors"][0]["extensions"]["requestId"] = Value::Null;
        answers.push(refused);
    }
    assert_eq!(answers[0], answers[1]);
}

/// Two presence subscriptions on one socket are one participant: completing one keeps it
/// present, completing the other makes it leave, and the document's room closes with its last
/// subscriber.
#[tokio::test]
async fn two_subscriptions_on_one_socket_are_one_participant_and_the_room_closes_after_them() {
    const ROOMS: &str = "zygo_presence_rooms";
    let r = room("presence-two-ops", vec![]).await;
    let (mut owner, _) = present(&r.app, &r.owner, &r.document).await;
    let mut ws = WsClient::connect(&r.app, "graphql-transport-ws").await;
    assert!(ws.init(Some(&r.reader.access)).await.is_some());
    let vars = json!({ "d": r.document, "cursors": false });
    let mut mine = vec![];
    for id in ["s1", "s2"] {
        ws.subscribe(id, SHAPED, vars.clone()).await;
        let first = next_answer(&mut ws, id).await.expect("PRESENT");
        let who = first["data"]["seen"]["who"].as_array().unwrap().clone();
        mine.push(who.into_iter().filter(|p| p["isYou"] == true).collect::<Vec<_>>());
    }
    assert_eq!(mine[0].len(), 1, "{mine:?}");
    assert_eq!(mine[0], mine[1], "the same participant");
    assert_eq!(r.app.metric(ROOMS).await, 1.0, "one room for the document");
    let (kind, joined) = next_other(&mut owner).await;
    assert_eq!(kind, Kind::JOINED);

    // One completed: still present (the next thing the owner hears is a move, not a leave).
    ws.send(json!({ "id": "s1", "type": "complete" })).await;
    // Events already on their way (the reader's own arrival) may come before the completion.
    while next_answer(&mut ws, "s1").await.is_some() {}
    move_on_socket(&mut ws, "m1", &r.document, &r.section, 4).await;
    let (kind, moved) = next_other(&mut owner).await;
    assert_eq!((kind, moved.id.as_str(), head(&moved)), (Kind::UPDATED, joined.id.as_str(), Some(4)));

    // Both completed: it leaves.
    ws.send(json!({ "id": "s2", "type": "complete" })).await;
    let (kind, left) = next_other(&mut owner).await;
    assert_eq!((kind, left.id), (Kind::LEFT, joined.id));
    drop(owner);
    eventually(10, || async { (r.app.metric(ROOMS).await == 0.0).then_some(()) }).await;
}
