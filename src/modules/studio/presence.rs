//! The GraphQL face of presence (thin; `service/presence.rs` decides): the
//! `documentPresence` subscription, the `updatePresence` mutation and their types.
//!
//! `updatePresence` is also the "light message on the open WebSocket": sent as a graphql-ws
//! `subscribe` frame of the mutation on the socket that runs `documentPresence`, it moves
//! that socket's own participant with no HTTP request (the connection id ties them).

use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use serde_json::Value;
use uuid::Uuid;

use super::{
    schema::{document_ctx, subscribed_document},
    service::{
        self,
        presence::{self as svc, PresenceEventKind, PresenceState, PresenceStatus, Range},
    },
};
use crate::{
    access::AccessChanged,
    auth::Permission,
    error::AppError,
    graphql::{
        app, rctx,
        relay::{self, kind},
    },
};

/// Someone in a document: who, where their cursor is, what they are doing.
pub struct Participant {
    p: svc::Participant,
    you: bool,
}

#[Object]
impl Participant {
    /// The participant: one connection's presence in the document (two tabs are two).
    async fn id(&self) -> ID {
        ID(self.p.id.clone())
    }
    /// The user's ID.
    async fn user_id(&self) -> ID {
        relay::to_global_id(kind::USER, self.p.user_id)
    }
    async fn display_name(&self) -> &str {
        &self.p.display_name
    }
    async fn avatar_url(&self) -> Option<&str> {
        self.p.avatar_url.as_deref()
    }
    /// The user's colour (`#rrggbb`), the same wherever they appear.
    async fn colour(&self) -> &str {
        &self.p.colour
    }
    /// The instance the participant is connected to.
    async fn instance_id(&self) -> &str {
        &self.p.instance_id
    }
    /// The section the cursor is in.
    async fn section_id(&self) -> Option<ID> {
        self.p.state.section_id.map(|s| relay::to_global_id(kind::DOCUMENT_SECTION, s))
    }
    /// The cursor (or selection) in the section's text.
    async fn cursor(&self) -> Option<PresenceRange> {
        self.p.state.cursor.map(|c| PresenceRange { anchor: c.anchor, head: c.head })
    }
    /// The client's own description of a wider selection, as it sent it.
    async fn selection(&self) -> Option<Json<Value>> {
        self.p.state.selection.clone().map(Json)
    }
    async fn status(&self) -> PresenceStatus {
        self.p.state.status
    }
    /// When the participant last moved or sent a heartbeat.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.p.updated_at
    }
    /// Whether this is the subscriber's own participant (the same connection).
    async fn is_you(&self) -> bool {
        self.you
    }
}

/// A range in a section's text, in characters: the caret is at `head`; `anchor` is where the
/// selection started (equal to `head` for a bare caret).
#[derive(SimpleObject)]
pub struct PresenceRange {
    pub anchor: i32,
    pub head: i32,
}

/// A range in a section's text (see `PresenceRange`).
#[derive(InputObject)]
pub struct PresenceRangeInput {
    pub anchor: i32,
    pub head: i32,
}

/// Where you are in a document and what you are doing; send it again (at least every
/// `ZYGO_PRESENCE_TTL`) as the heartbeat.
#[derive(InputObject)]
pub struct UpdatePresenceInput {
    /// The section the cursor is in (a section of this document).
    pub section_id: Option<ID>,
    pub cursor: Option<PresenceRangeInput>,
    /// Anything else the client wants others to see of its selection (at most 2 KiB).
    pub selection: Option<Json<Value>>,
    #[graphql(default)]
    pub status: PresenceStatus,
}

/// The participants `updatePresence` moved.
#[derive(SimpleObject)]
pub struct UpdatePresencePayload {
    pub participants: Vec<Participant>,
}

/// One change of a document's presence.
#[derive(SimpleObject)]
pub struct DocumentPresenceEvent {
    /// PRESENT first (everyone present, you included), then JOINED, LEFT and UPDATED.
    pub kind: PresenceEventKind,
    pub document_id: ID,
    /// Who joined, left or moved (null for PRESENT).
    pub participant: Option<Participant>,
    /// PRESENT: everyone present; otherwise the one participant.
    pub participants: Vec<Participant>,
}

#[derive(Default)]
pub struct PresenceMutation;

#[Object]
impl PresenceMutation {
    /// Sets your cursor and status in a document and keeps you present (needs
    /// `DOCUMENTS_READ`; signed-in users only). Coalesced: the others see at most `ZYGO_PRESENCE_MAX_RATE` (20)
    /// updates a second of one participant, the latest always.
    async fn update_presence(
        &self,
        ctx: &Context<'_>,
        document_id: ID,
        input: UpdatePresenceInput,
    ) -> Result<UpdatePresencePayload> {
        let (id, tctx) = document_ctx(ctx, "documentId", &document_id).await?;
        let rc = rctx(ctx);
        let viewer = rc
            .viewer
            .clone()
            .ok_or_else(|| AppError::ForbiddenWith("presence is for signed-in users, not API keys".into()))?;
        let a = app(ctx);
        let doc = service::get_document(a, &tctx, id).await?;
        let state = PresenceState {
            section_id: input
                .section_id
                .as_ref()
                .map(|s| relay::decode_id("input.sectionId", s, kind::DOCUMENT_SECTION))
                .transpose()?,
            cursor: input.cursor.map(|c| Range { anchor: c.anchor, head: c.head }),
            selection: input.selection.map(|j| j.0),
            status: input.status,
        };
        let set =
            svc::update(a, doc.tenant_id, doc.id, viewer.user_id, rc.connection_id.as_deref(), state).await?;
        Ok(UpdatePresencePayload {
            participants: set.into_iter().map(|p| Participant { p, you: true }).collect(),
        })
    }
}

#[derive(Default)]
pub struct PresenceSubscription;

/// Leaves the document when the subscription's stream is dropped (unsubscribed, socket
/// closed, access lost, instance shutting down).
struct Leave {
    app: crate::startup::AppState,
    tenant: Uuid,
    document: Uuid,
    connection: String,
}

impl Drop for Leave {
    fn drop(&mut self) {
        svc::detach(&self.app, self.tenant, self.document, &self.connection);
    }
}

/// What the merged streams of a presence subscription carry.
enum Signal {
    Event(service::presence::PresenceEvent),
    /// Access may have changed: decide again.
    Recheck,
    /// The document was deleted.
    End,
}

#[Subscription]
impl PresenceSubscription {
    /// Who is in a document and where their cursors are: first everyone present (PRESENT),
    /// then each JOINED, LEFT and UPDATED. Subscribing makes you present; ending it (or
    /// closing the socket) makes you leave. Needs `DOCUMENTS_READ`, checked when it starts,
    /// with every event and whenever access changes; the stream ends when it is lost.
    async fn document_presence(
        &self,
        ctx: &Context<'_>,
        document_id: ID,
    ) -> Result<impl Stream<Item = DocumentPresenceEvent> + use<>> {
        // Boxed: async-graphql keeps the resolver's future beside the stream for the
        // subscription's life; boxed, an idle participant holds a pointer instead of room for
        // every read and store call made while joining.
        Box::pin(open_presence(ctx, document_id)).await
    }
}

/// Opens a `documentPresence` stream (see [`PresenceSubscription::document_presence`]).
async fn open_presence(
    ctx: &Context<'_>,
    document_id: ID,
) -> Result<impl Stream<Item = DocumentPresenceEvent> + use<>> {
    {
        let rc = rctx(ctx);
        let viewer = rc.viewer()?.clone();
        let app = app(ctx).clone();
        let (tenant, id) = subscribed_document(&app, &viewer, &document_id).await?;
        let connection = rc.connection_id.clone().unwrap_or_else(|| format!("req-{}", rc.request_id));
        // Listen before joining and reading who is there, so nothing falls in between.
        let events = crate::graphql::live::guarded(
            app.clone(),
            viewer.clone(),
            tenant,
            Permission::DocumentsRead,
            svc::presence_topic(tenant, id),
        )
        .filter_map(|(e, _)| async move {
            serde_json::from_value::<service::presence::PresenceEvent>(e.payload.clone())
                .ok()
                .map(Signal::Event)
        });
        let me = viewer.user_id;
        let access = app.bus.subscribe(&crate::access::cache::topic()).filter_map(move |e| async move {
            let change = serde_json::from_value::<AccessChanged>(e.payload.clone()).ok()?;
            let covers = match change {
                AccessChanged::Tenant(t) => t == tenant,
                AccessChanged::User(u) => u == me,
            };
            covers.then_some(Signal::Recheck)
        });
        let deleted = app.bus.subscribe(&service::document_topic(tenant, id)).filter_map(|e| async move {
            let e = serde_json::from_value::<service::DocumentEvent>(e.payload.clone()).ok()?;
            (e.kind == service::DocumentEventKind::Deleted).then_some(Signal::End)
        });
        let merged = futures::stream::select(events, futures::stream::select(access, deleted));
        let participant = svc::join(&app, tenant, id, me, &connection).await?;
        let leave = Leave { app: app.clone(), tenant, document: id, connection };
        let present = svc::present(&app, tenant, id).await?;
        let first = DocumentPresenceEvent {
            kind: PresenceEventKind::Present,
            document_id: relay::to_global_id(kind::DOCUMENT, id),
            participant: None,
            participants: present
                .into_iter()
                .map(|p| {
                    let you = p.id == participant;
                    Participant { p, you }
                })
                .collect(),
        };
        let check_app = app.clone();
        let live = merged
            .then(move |signal| {
                let app = check_app.clone();
                // Boxed: idle, the stream holds a pointer instead of room for the access check.
                Box::pin(async move {
                    match signal {
                        Signal::Event(e) => Some(Some(e)),
                        Signal::End => None,
                        Signal::Recheck => {
                            // This instance's cache may not have heard the change yet.
                            app.access.forget(AccessChanged::User(me));
                            match crate::access::access_one(&app, me, tenant).await {
                                Ok(t) if t.has(Permission::DocumentsRead) => Some(None),
                                _ => None,
                            }
                        }
                    }
                })
            })
            .take_while(|s| futures::future::ready(s.is_some()))
            .filter_map(|s| futures::future::ready(s.flatten()))
            .map(move |e| {
                // The stream owns the departure: dropped, the participant leaves.
                let _owned = &leave;
                let you = e.participant.id == participant;
                let p = Participant { p: e.participant, you };
                DocumentPresenceEvent {
                    kind: e.kind,
                    document_id: relay::to_global_id(kind::DOCUMENT, e.document_id),
                    participants: vec![Participant { p: p.p.clone(), you }],
                    participant: Some(p),
                }
            });
        Ok(futures::stream::once(async move { first }).chain(live))
    }
}

/// One answer to a `documentPresence` subscriber served by a presence room (`rooms.rs`): an
/// event as the subscriber sees it, or the error its start failed with.
#[derive(Clone)]
pub enum Projected {
    Event(std::sync::Arc<PresenceAnswer>),
    Failed(async_graphql::Error),
}

/// An event of a document's presence, before a subscriber's selection is applied.
pub struct PresenceAnswer {
    pub kind: PresenceEventKind,
    pub document: Uuid,
    /// Who joined, left or moved (none for PRESENT).
    pub participant: Option<svc::Participant>,
    pub participants: Vec<svc::Participant>,
    /// The subscriber's own participant, if it is among them.
    pub you: Option<String>,
}

impl PresenceAnswer {
    fn event(&self) -> DocumentPresenceEvent {
        let of = |p: &svc::Participant| Participant { p: p.clone(), you: self.you.as_ref() == Some(&p.id) };
        DocumentPresenceEvent {
            kind: self.kind,
            document_id: relay::to_global_id(kind::DOCUMENT, self.document),
            participant: self.participant.as_ref().map(of),
            participants: self.participants.iter().map(of).collect(),
        }
    }
}

/// A schema of `documentPresence`'s types alone. It executes a subscriber's selection against
/// one [`Projected`] answer, so what a presence room hands out is exactly what the serving
/// schema would answer for the same document (aliases, fragments, `@skip`, errors and all),
/// without a running operation per subscriber.
pub struct Projection(async_graphql::Schema<ProjectionQuery, async_graphql::EmptyMutation, ProjectionRoot>);

impl Projection {
    /// Built with the serving schema's settings (`graphql::build_schema`).
    pub fn new(config: &crate::config::Config) -> Self {
        let mut builder =
            async_graphql::Schema::build(ProjectionQuery, async_graphql::EmptyMutation, ProjectionRoot);
        if !config.introspection {
            builder = builder.disable_introspection().disable_suggestions();
        }
        Self(builder.limit_directives(config.limits.directives_per_field).finish())
    }

    /// The answer `selection` gives for `answer` (validated as the serving schema would).
    pub async fn project(
        &self,
        query: &str,
        variables: &async_graphql::Variables,
        operation_name: Option<&str>,
        answer: Projected,
    ) -> async_graphql::Response {
        let mut request = async_graphql::Request::new(query).variables(variables.clone()).data(answer);
        if let Some(name) = operation_name {
            request = request.operation_name(name);
        }
        self.0.execute_stream(request).next().await.unwrap_or_default()
    }
}

/// The query root a schema must have; never asked.
pub struct ProjectionQuery;

#[Object]
impl ProjectionQuery {
    async fn projection(&self) -> bool {
        true
    }
}

pub struct ProjectionRoot;

#[Subscription]
impl ProjectionRoot {
    /// The same field as [`PresenceSubscription::document_presence`], answering one event.
    async fn document_presence(
        &self,
        ctx: &Context<'_>,
        document_id: ID,
    ) -> Result<impl Stream<Item = DocumentPresenceEvent> + use<>> {
        let _ = document_id;
        match ctx.data::<Projected>()? {
            Projected::Event(answer) => Ok(futures::stream::once(futures::future::ready(answer.event()))),
            Projected::Failed(e) => Err(e.clone()),
        }
    }
}
