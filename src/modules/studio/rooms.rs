//! Presence rooms: how this instance serves the `documentPresence` subscribers that arrive over
//! a WebSocket (the transport hands them over; see `http/graphql/light.rs`), so that an idle
//! participant costs an entry, not a running operation (issue 18: < 16 KiB each).
//!
//! One task per document with subscribers here holds what every subscriber of the document
//! would otherwise hold on its own: the bus subscriptions (the document's presence events, its
//! deletion, access changes) and the access decisions (one [`Watch`] per user). A subscriber
//! is a [`Watcher`] in its room: what it selected (shared by those who ask the same), its
//! participant and where its answers go. For each event the room decides access once per user
//! and projects the event once per distinct selection ([`Projection`]), so what a subscriber
//! receives is what the schema answers for its document. The semantics are those of the
//! subscription's own stream (`presence.rs`): listen, join, PRESENT first, then every JOINED,
//! LEFT and UPDATED while the user may read the document; the subscription ends when access is
//! lost or the document is deleted, and the participant leaves when its [`Ticket`] drops.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

use async_graphql::{ID, Response, Variables};
use futures::{StreamExt, stream::BoxStream};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    presence::{PresenceAnswer, Projected, Projection},
    schema::subscribed_document,
    service::{
        self,
        presence::{self as svc, PresenceEvent, PresenceEventKind},
    },
};
use crate::{
    access::AccessChanged,
    auth::{Permission, Viewer},
    graphql::{answer, live::Watch},
    pubsub::Event,
    startup::AppState,
    telemetry::GaugeGuard,
};

/// What a room hands a subscriber's connection.
pub enum Delivery {
    /// An answer (a GraphQL response, serialised) for operation `id`.
    Next { id: Arc<str>, payload: Arc<str> },
    /// Operation `id` ended on the server's side (access lost, document deleted).
    End { id: Arc<str> },
}

/// Where a connection takes its deliveries (it must not block).
pub type Deliver = Arc<dyn Fn(Delivery) + Send + Sync>;

/// A subscriber's selection: the operation it sent.
#[derive(PartialEq)]
pub struct Selection {
    pub query: String,
    pub variables: Variables,
    pub operation_name: Option<String>,
}

/// One subscriber in a room.
struct Watcher {
    key: u64,
    /// The operation's id on its connection.
    id: Arc<str>,
    user: Uuid,
    /// Its participant, once joined.
    participant: OnceLock<String>,
    selection: Arc<Selection>,
    request_id: String,
    deliver: Deliver,
}

/// The subscribers of one document on this instance, served by one task.
struct Room {
    watchers: Mutex<Vec<Arc<Watcher>>>,
    stop: CancellationToken,
    /// Counts the room in `zygo_presence_rooms` while it is open.
    _open: GaugeGuard,
}

/// This instance's presence rooms.
pub struct Rooms {
    rooms: Mutex<HashMap<(Uuid, Uuid), Arc<Room>>>,
    next: AtomicU64,
    projection: Projection,
}

impl Rooms {
    pub fn new(config: &crate::config::Config) -> Self {
        Self { rooms: Mutex::default(), next: AtomicU64::new(1), projection: Projection::new(config) }
    }

    /// Adds a watcher to the document's room, made (and its task started, listening at once)
    /// for the first. Its selection is shared with an equal one already there.
    fn enter(&self, app: &AppState, tenant: Uuid, document: Uuid, mut watcher: Watcher) -> Arc<Watcher> {
        let mut rooms = self.rooms.lock().expect("rooms lock");
        let room = rooms
            .entry((tenant, document))
            .or_insert_with(|| {
                let room = Arc::new(Room {
                    watchers: Mutex::default(),
                    stop: CancellationToken::new(),
                    _open: GaugeGuard::new(&app.metrics.presence_rooms),
                });
                let streams = Streams {
                    events: app.bus.subscribe(&svc::presence_topic(tenant, document)),
                    document: app.bus.subscribe(&service::document_topic(tenant, document)),
                    access: app.bus.subscribe(&crate::access::cache::topic()),
                };
                tokio::spawn(serve(app.clone(), tenant, document, room.clone(), streams));
                room
            })
            .clone();
        let mut watchers = room.watchers.lock().expect("room lock");
        if let Some(same) = watchers.iter().find(|w| w.selection == watcher.selection) {
            watcher.selection = same.selection.clone();
        }
        let watcher = Arc::new(watcher);
        watchers.push(watcher.clone());
        watcher
    }

    /// The answer `selection` gives for `answer`.
    async fn project(&self, selection: &Selection, answer: Projected) -> Response {
        let s = selection;
        self.projection.project(&s.query, &s.variables, s.operation_name.as_deref(), answer).await
    }

    /// Forgets `room` if it is still the document's (its task ended: the next subscriber opens
    /// a new one).
    fn closed(&self, tenant: Uuid, document: Uuid, room: &Arc<Room>) {
        let mut rooms = self.rooms.lock().expect("rooms lock");
        if rooms.get(&(tenant, document)).is_some_and(|r| Arc::ptr_eq(r, room)) {
            rooms.remove(&(tenant, document));
        }
    }

    /// Removes watcher `key`; the room closes with its last.
    fn leave(&self, tenant: Uuid, document: Uuid, key: u64) {
        let mut rooms = self.rooms.lock().expect("rooms lock");
        let Some(room) = rooms.get(&(tenant, document)) else { return };
        let empty = {
            let mut watchers = room.watchers.lock().expect("room lock");
            watchers.retain(|w| w.key != key);
            watchers.is_empty()
        };
        if empty && let Some(room) = rooms.remove(&(tenant, document)) {
            room.stop.cancel();
        }
    }
}

/// A subscriber's place in a room: dropped (unsubscribed, connection closed, ended by the
/// room), the watcher goes and the participant leaves.
pub struct Ticket {
    app: AppState,
    tenant: Uuid,
    document: Uuid,
    key: u64,
    /// The connection, once its participant joined.
    joined: Option<String>,
    _alive: GaugeGuard,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.app.rooms.leave(self.tenant, self.document, self.key);
        if let Some(connection) = &self.joined {
            svc::detach(&self.app, self.tenant, self.document, connection);
        }
    }
}

/// What a `documentPresence` subscription asked: its operation `id` on the connection, the
/// document and the selection.
pub struct Subscribe {
    pub id: Arc<str>,
    pub document_id: ID,
    pub selection: Selection,
}

/// Starts a subscriber of `viewer` on `connection`: the first answer (PRESENT, or the error
/// the subscription ends with) and, when it runs, its ticket. Nothing happens for a selection
/// the schema refuses or a document the viewer may not read.
pub async fn subscribe(
    app: &AppState,
    viewer: &Viewer,
    connection: &str,
    request_id: &str,
    asked: Subscribe,
    deliver: Deliver,
) -> (Response, Option<Ticket>) {
    let Subscribe { id, document_id, selection } = asked;
    let project = |answer: Projected| app.rooms.project(&selection, answer);
    // The selection first, against an empty answer: a refused one changes nothing.
    let empty = PresenceAnswer {
        kind: PresenceEventKind::Present,
        document: Uuid::nil(),
        participant: None,
        participants: vec![],
        you: None,
    };
    let checked = project(Projected::Event(Arc::new(empty))).await;
    if checked.is_err() {
        return (checked, None);
    }
    let (tenant, document) = match Box::pin(subscribed_document(app, viewer, &document_id)).await {
        Ok(found) => found,
        Err(e) => return (project(Projected::Failed(e.into())).await, None),
    };
    let key = app.rooms.next.fetch_add(1, Ordering::Relaxed);
    let mut ticket = Ticket {
        app: app.clone(),
        tenant,
        document,
        key,
        joined: None,
        _alive: GaugeGuard::new(&app.metrics.subscriptions_active),
    };
    // Listening (the room's task subscribed) before joining and reading who is there, so
    // nothing falls in between.
    let watcher = Watcher {
        key,
        id,
        user: viewer.user_id,
        participant: OnceLock::new(),
        selection: Arc::new(selection),
        request_id: request_id.to_string(),
        deliver,
    };
    let watcher = app.rooms.enter(app, tenant, document, watcher);
    let present = async {
        let me = svc::join(app, tenant, document, viewer.user_id, connection).await?;
        ticket.joined = Some(connection.to_string());
        let _ = watcher.participant.set(me.clone());
        let present = svc::present(app, tenant, document).await?;
        crate::error::AppResult::Ok(PresenceAnswer {
            kind: PresenceEventKind::Present,
            document,
            participant: None,
            participants: present,
            you: Some(me),
        })
    };
    let answer = match Box::pin(present).await {
        Ok(answer) => Projected::Event(Arc::new(answer)),
        Err(e) => {
            return (app.rooms.project(&watcher.selection, Projected::Failed(e.into())).await, None);
        }
    };
    (app.rooms.project(&watcher.selection, answer).await, Some(ticket))
}

/// The bus subscriptions a room's task serves its watchers from.
struct Streams {
    events: BoxStream<'static, Arc<Event>>,
    document: BoxStream<'static, Arc<Event>>,
    access: BoxStream<'static, Arc<Event>>,
}

/// A room's task: until its last watcher leaves (or the instance stops).
async fn serve(app: AppState, tenant: Uuid, document: Uuid, room: Arc<Room>, mut streams: Streams) {
    let mut watches: HashMap<Uuid, Watch> = HashMap::new();
    let shutdown = app.shutdown.clone();
    loop {
        tokio::select! {
            _ = room.stop.cancelled() => break,
            _ = shutdown.cancelled() => break,
            e = streams.events.next() => match e {
                Some(e) => {
                    if let Ok(event) = serde_json::from_value::<PresenceEvent>(e.payload.clone()) {
                        Box::pin(deliver(&app, tenant, &room, &mut watches, event)).await;
                    }
                }
                None => { end(&room, |_| true); break; }
            },
            e = streams.document.next() => match e {
                Some(e) => {
                    let deleted = serde_json::from_value::<service::DocumentEvent>(e.payload.clone())
                        .is_ok_and(|e| e.kind == service::DocumentEventKind::Deleted);
                    if deleted {
                        end(&room, |_| true);
                    }
                }
                None => { end(&room, |_| true); break; }
            },
            e = streams.access.next() => match e {
                Some(e) => {
                    if let Ok(change) = serde_json::from_value::<AccessChanged>(e.payload.clone()) {
                        Box::pin(recheck(&app, tenant, &room, &mut watches, change)).await;
                    }
                }
                None => { end(&room, |_| true); break; }
            },
        }
    }
    app.rooms.closed(tenant, document, &room);
}

/// The room's watchers now (the lock is not held across an await).
fn snapshot(room: &Room) -> Vec<Arc<Watcher>> {
    room.watchers.lock().expect("room lock").clone()
}

/// Ends the subscriptions of the watchers `which` picks (their connections drop the tickets).
fn end(room: &Room, which: impl Fn(&Watcher) -> bool) {
    for w in snapshot(room).iter().filter(|w| which(w)) {
        (w.deliver)(Delivery::End { id: w.id.clone() });
    }
}

/// Whether `user` may still read the room's document: decided at their first event, then again
/// only when access may have changed (see [`Watch`]).
async fn may_read(app: &AppState, tenant: Uuid, watches: &mut HashMap<Uuid, Watch>, user: Uuid) -> bool {
    let ok = match watches.get_mut(&user) {
        Some(watch) => watch.current().await.is_ok_and(|t| t.has(Permission::DocumentsRead)),
        None => match Watch::start(app.clone(), user, tenant).await {
            Ok(watch) => {
                let ok = watch.tctx().has(Permission::DocumentsRead);
                watches.insert(user, watch);
                ok
            }
            Err(_) => false,
        },
    };
    if !ok {
        watches.remove(&user);
    }
    ok
}

/// Hands `event` to every watcher that may still read the document, projected once per
/// selection (and per whether the event is the watcher's own participant).
async fn deliver(
    app: &AppState,
    tenant: Uuid,
    room: &Room,
    watches: &mut HashMap<Uuid, Watch>,
    event: PresenceEvent,
) {
    let watchers = snapshot(room);
    let users: HashSet<Uuid> = watchers.iter().map(|w| w.user).collect();
    watches.retain(|u, _| users.contains(u));
    let mut lost = HashSet::new();
    for user in users {
        if !may_read(app, tenant, watches, user).await {
            lost.insert(user);
        }
    }
    let mut answers: HashMap<(usize, bool), (Response, Option<Arc<str>>)> = HashMap::new();
    let theirs = answer_of(&event, None);
    let own = answer_of(&event, Some(event.participant.id.clone()));
    for w in &watchers {
        if lost.contains(&w.user) {
            (w.deliver)(Delivery::End { id: w.id.clone() });
            continue;
        }
        let you = w.participant.get() == Some(&event.participant.id);
        let key = (Arc::as_ptr(&w.selection) as usize, you);
        if !answers.contains_key(&key) {
            let answer = if you { own.clone() } else { theirs.clone() };
            let resp = app.rooms.project(&w.selection, Projected::Event(answer)).await;
            // An answer without errors is the same for everyone who asked the same.
            let text =
                resp.errors.is_empty().then(|| serde_json::to_string(&resp).unwrap_or_default().into());
            answers.insert(key, (resp, text));
        }
        let (resp, text) = &answers[&key];
        let payload = match text {
            Some(text) => text.clone(),
            None => {
                let errors = resp.errors.clone();
                let mut resp = Response::new(resp.data.clone());
                resp.errors = errors;
                answer::shape_errors(&mut resp, Some(&w.request_id));
                serde_json::to_string(&resp).unwrap_or_default().into()
            }
        };
        (w.deliver)(Delivery::Next { id: w.id.clone(), payload });
    }
}

/// The answer of `event`: the one participant it is about.
fn answer_of(event: &PresenceEvent, you: Option<String>) -> Arc<PresenceAnswer> {
    Arc::new(PresenceAnswer {
        kind: event.kind,
        document: event.document_id,
        participant: Some(event.participant.clone()),
        participants: vec![event.participant.clone()],
        you,
    })
}

/// Access changed for the organisation or a user: those of the room it covers are decided
/// again now, and whoever lost the document is ended (the participant leaves at once).
async fn recheck(
    app: &AppState,
    tenant: Uuid,
    room: &Room,
    watches: &mut HashMap<Uuid, Watch>,
    change: AccessChanged,
) {
    let users: HashSet<Uuid> = snapshot(room)
        .iter()
        .map(|w| w.user)
        .filter(|u| match change {
            AccessChanged::Tenant(t) => t == tenant,
            AccessChanged::User(changed) => changed == *u,
        })
        .collect();
    for user in users {
        // This instance's cache may not have heard the change yet.
        app.access.forget(AccessChanged::User(user));
        watches.remove(&user);
        if !may_read(app, tenant, watches, user).await {
            end(room, |w| w.user == user);
        }
    }
}
