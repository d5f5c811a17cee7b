//! Who is in a document right now and where their cursor is (issue 18, "Presence and
//! cursors"). Ephemeral: kept in the instance's [`crate::pubsub::presence`] store (Redis when
//! configured, memory otherwise), never in the database, so nothing here opens a transaction
//! and events are published straight on the bus (there is no commit to wait for).
//!
//! A participant is one connection's presence in one document (two tabs are two
//! participants); it joins when its `documentPresence` subscription starts, moves with
//! `updatePresence` (coalesced to `ZYGO_PRESENCE_MAX_RATE`, 20 a second), and leaves when its last subscription on
//! the connection ends (unsubscribe, socket closed, access lost, session revoked) or when
//! `ZYGO_PRESENCE_TTL` passes without a heartbeat — noticed by the presence sweep (a job every
//! third of the TTL), which announces each departure once whichever instance runs it.

use chrono::{DateTime, Utc};
use futures::FutureExt;
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    ctx::Ctx,
    error::{AppError, AppResult},
    pubsub::Topic,
};

/// What a participant is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PresenceStatus {
    /// Looking at the document.
    #[default]
    Active,
    /// Typing in a section.
    Typing,
    /// The tab is in the background or the user stepped away.
    Idle,
}

/// A range in a section's text, in characters: `anchor` where it started, `head` where the
/// caret is (equal for a bare caret).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub anchor: i32,
    pub head: i32,
}

/// Where a participant is and what they are doing (what `updatePresence` sets).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceState {
    pub section_id: Option<Uuid>,
    pub cursor: Option<Range>,
    /// The client's own description of a selection beyond the cursor (opaque, ≤ 2 KiB).
    pub selection: Option<Value>,
    pub status: PresenceStatus,
}

/// One participant as stored and as it travels on the bus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    /// The participant (one connection in one document).
    pub id: String,
    pub user_id: Uuid,
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// A colour derived from the user id: the same person has the same colour everywhere.
    pub colour: String,
    /// The instance the participant is connected to.
    pub instance_id: String,
    #[serde(flatten)]
    pub state: PresenceState,
    pub updated_at: DateTime<Utc>,
}

/// What happened to a document's presence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PresenceEventKind {
    /// Everyone present when the subscription started (its first event).
    Present,
    Joined,
    Left,
    Updated,
}

/// One presence event as it travels on the bus.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceEvent {
    pub kind: PresenceEventKind,
    pub document_id: Uuid,
    pub participant: Participant,
}

/// `t:{tenant}:presence:{document}`.
pub fn presence_topic(tenant_id: Uuid, document_id: Uuid) -> Topic {
    Topic::tenant(tenant_id, &format!("presence:{document_id}"))
}

/// The store's room of a document: `doc:{tenant}:{document}`.
pub fn room(tenant_id: Uuid, document_id: Uuid) -> String {
    format!("doc:{tenant_id}:{document_id}")
}

fn parse_room(room: &str) -> Option<(Uuid, Uuid)> {
    let rest = room.strip_prefix("doc:")?;
    let (t, d) = rest.split_once(':')?;
    Some((t.parse().ok()?, d.parse().ok()?))
}

/// Twelve colours readable on white, far enough apart to tell cursors apart.
const PALETTE: [&str; 12] = [
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#1a9e9e", "#f032e6", "#8a6d00", "#d12f6f",
    "#000075", "#2f7d3a", "#9a6324",
];

/// The stable colour of `user` (FNV-1a over its bytes, into [`PALETTE`]).
pub fn colour_of(user: Uuid) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in user.as_bytes() {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    PALETTE[(h as usize) % PALETTE.len()].to_string()
}

/// Largest serialised `selection`.
const MAX_SELECTION_BYTES: usize = 2048;

/// Checks a presence state from a client; errors name the input field.
pub fn validate(state: &PresenceState) -> AppResult<()> {
    if let Some(c) = state.cursor {
        if c.anchor < 0 {
            return Err(AppError::validation("input.cursor.anchor", "must be 0 or more"));
        }
        if c.head < 0 {
            return Err(AppError::validation("input.cursor.head", "must be 0 or more"));
        }
        if state.section_id.is_none() {
            return Err(AppError::validation("input.sectionId", "is required with a cursor"));
        }
    }
    if let Some(s) = &state.selection
        && s.to_string().len() > MAX_SELECTION_BYTES
    {
        return Err(AppError::validation(
            "input.selection",
            format!("must be at most {MAX_SELECTION_BYTES} bytes"),
        ));
    }
    Ok(())
}

fn unavailable(e: String) -> AppError {
    AppError::Internal(anyhow::anyhow!(e))
}

/// The participant `user` starts as, on this instance, in no section yet.
async fn fresh(ctx: &Ctx, id: String, user: Uuid) -> AppResult<Participant> {
    // Users are not tenant rows: by id, the caller's own.
    let row = entity::user::Entity::find_by_id(user).one(&ctx.db).await?.ok_or(AppError::NotFound("user"))?;
    Ok(Participant {
        id,
        user_id: user,
        display_name: row.name,
        avatar_url: row.avatar_url,
        colour: colour_of(user),
        instance_id: ctx.presence.instance_id.clone(),
        state: PresenceState::default(),
        updated_at: ctx.now(),
    })
}

async fn announce(
    ctx: &Ctx,
    tenant: Uuid,
    document: Uuid,
    kind: PresenceEventKind,
    participant: Participant,
) {
    let event = PresenceEvent { kind, document_id: document, participant };
    ctx.publish(&presence_topic(tenant, document), &event).await;
}

/// Stores `p` (moving its expiry) and tells the document's viewers: JOINED when it was not
/// present, UPDATED otherwise.
async fn store(ctx: &Ctx, tenant: Uuid, document: Uuid, p: Participant) -> AppResult<()> {
    let value = serde_json::to_string(&p).map_err(|e| AppError::Internal(e.into()))?;
    let now = ctx.now();
    let until = now + ctx.config.presence_ttl;
    let joined = ctx
        .presence
        .store
        .put(&room(tenant, document), &p.id, &value, now, until)
        .await
        .map_err(unavailable)?;
    let kind = if joined { PresenceEventKind::Joined } else { PresenceEventKind::Updated };
    announce(ctx, tenant, document, kind, p).await;
    Ok(())
}

/// Joins `user`'s `connection` to the document (a second subscription of the same
/// connection is the same participant). Returns the participant's id.
pub async fn join(
    ctx: &Ctx,
    tenant: Uuid,
    document: Uuid,
    user: Uuid,
    connection: &str,
) -> AppResult<String> {
    let room = room(tenant, document);
    let (id, first) = ctx.presence.attach(connection, &room, || Uuid::now_v7().simple().to_string());
    if first {
        let p = match fresh(ctx, id.clone(), user).await {
            Ok(p) => p,
            Err(e) => {
                ctx.presence.detach(connection, &room);
                return Err(e);
            }
        };
        ctx.presence.remember(connection, &room, serde_json::to_string(&p).unwrap_or_default());
        if let Err(e) = store(ctx, tenant, document, p).await {
            ctx.presence.detach(connection, &room);
            return Err(e);
        }
    }
    Ok(id)
}

/// Everyone present in the document now.
pub async fn present(ctx: &Ctx, tenant: Uuid, document: Uuid) -> AppResult<Vec<Participant>> {
    let members =
        ctx.presence.store.members(&room(tenant, document), ctx.now()).await.map_err(unavailable)?;
    Ok(members.iter().filter_map(|m| serde_json::from_str(&m.value).ok()).collect())
}

/// One operation of `connection` in the document ended; the participant leaves with the
/// last one. Called from a subscription's drop (so it runs in its own task).
pub fn detach(ctx: &Ctx, tenant: Uuid, document: Uuid, connection: &str) {
    let Some(id) = ctx.presence.detach(connection, &room(tenant, document)) else { return };
    let ctx = ctx.clone();
    tokio::spawn(async move { leave(&ctx, tenant, document, &id).await });
}

/// Removes participant `id` and tells the others (once, whoever else removes it too).
pub async fn leave(ctx: &Ctx, tenant: Uuid, document: Uuid, id: &str) {
    let room = room(tenant, document);
    ctx.presence.throttle.forget(&format!("{room}/{id}"));
    match ctx.presence.store.remove(&room, id).await {
        Ok(Some(value)) => {
            if let Ok(p) = serde_json::from_str::<Participant>(&value) {
                let user = p.user_id;
                announce(ctx, tenant, document, PresenceEventKind::Left, p).await;
                release_if_gone(ctx, tenant, document, user).await;
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, room, "a participant's departure could not be recorded; it expires")
        }
    }
}

/// Releases `user`'s section locks in the document once they have no participant left in it
/// (another tab of theirs keeps them).
async fn release_if_gone(ctx: &Ctx, tenant: Uuid, document: Uuid, user: Uuid) {
    match present(ctx, tenant, document).await {
        Ok(others) if others.iter().any(|p| p.user_id == user) => {}
        Ok(_) => {
            if let Err(e) = super::locks::release_departed(ctx, tenant, document, user).await {
                tracing::warn!(error = %e, %document, "the locks of a departed participant were left to expire");
            }
        }
        Err(e) => tracing::warn!(error = %e, %document, "presence unreadable; locks are left to expire"),
    }
}

/// Sets `user`'s presence in the document to `state`: over a WebSocket with a
/// `documentPresence` subscription of the document, that connection's participant; otherwise
/// every participant of the user in the document, or — none being present — a participant of
/// the user alone, which lives as long as its heartbeats. The change reaches the others
/// coalesced (by default at most one update per 50 ms per participant, the latest winning). Returns the
/// participants as set.
pub async fn update(
    ctx: &Ctx,
    tenant: Uuid,
    document: Uuid,
    user: Uuid,
    connection: Option<&str>,
    state: PresenceState,
) -> AppResult<Vec<Participant>> {
    validate(&state)?;
    let room = room(tenant, document);
    let attached = connection.and_then(|c| ctx.presence.attached(c, &room).map(|a| (c, a)));
    let via = attached.as_ref().map(|(c, _)| *c);
    let targets: Vec<Participant> = match attached {
        Some((_, (id, value))) => match value.and_then(|v| serde_json::from_str::<Participant>(&v).ok()) {
            Some(p) => vec![p],
            None => vec![fresh(ctx, id, user).await?],
        },
        None => {
            let mine: Vec<Participant> =
                present(ctx, tenant, document).await?.into_iter().filter(|p| p.user_id == user).collect();
            if mine.is_empty() { vec![fresh(ctx, format!("u{}", user.simple()), user).await?] } else { mine }
        }
    };
    let now = ctx.now();
    let mut out = Vec::with_capacity(targets.len());
    for mut p in targets {
        p.state = state.clone();
        p.updated_at = now;
        if let Some(c) = via {
            ctx.presence.remember(c, &room, serde_json::to_string(&p).unwrap_or_default());
        }
        let (c2, p2) = (ctx.clone(), p.clone());
        let send = async move {
            if let Err(e) = store(&c2, tenant, document, p2).await {
                tracing::warn!(error = %e, "a presence update was not stored");
            }
        }
        .boxed();
        ctx.presence.throttle.submit(&format!("{room}/{}", p.id), send).await;
        out.push(p);
    }
    Ok(out)
}

/// Removes the participants whose heartbeat stopped more than `ZYGO_PRESENCE_TTL` ago, on
/// every document, and tells each document's viewers. Returns how many left.
pub async fn sweep(ctx: &Ctx) -> AppResult<usize> {
    let gone = ctx.presence.store.expire(ctx.now()).await.map_err(unavailable)?;
    for e in &gone {
        let Some((tenant, document)) = parse_room(&e.room) else { continue };
        ctx.presence.throttle.forget(&format!("{}/{}", e.room, e.member.id));
        if let Ok(p) = serde_json::from_str::<Participant>(&e.member.value) {
            announce(ctx, tenant, document, PresenceEventKind::Left, p).await;
        }
    }
    Ok(gone.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_colour_is_stable_and_from_the_palette() {
        let u = Uuid::now_v7();
        assert_eq!(colour_of(u), colour_of(u));
        assert!(PALETTE.contains(&colour_of(u).as_str()));
    }

    #[test]
    fn rooms_read_back() {
        let (t, d) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(parse_room(&room(t, d)), Some((t, d)));
    }

    #[test]
    fn a_cursor_needs_a_section_and_positive_offsets() {
        let mut s = PresenceState { cursor: Some(Range { anchor: 1, head: 2 }), ..Default::default() };
        assert!(validate(&s).is_err());
        s.section_id = Some(Uuid::now_v7());
        assert!(validate(&s).is_ok());
        s.cursor = Some(Range { anchor: -1, head: 0 });
        assert!(validate(&s).is_err());
    }
}
