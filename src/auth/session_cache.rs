//! Which sessions this instance recently found open, so an authenticated request does not
//! read its session row every time (the hot path of every request).
//!
//! An entry is trusted for a short time (`ZYGO_SESSION_CACHE_TTL`) and dropped at once when
//! a session ends: the service that ends sessions evicts them here on its own instance and
//! publishes the end on the bus, whose platform topic [`TOPIC`] every instance's
//! [`SessionCache::follow`] task listens to. What the cache owns is only "session X of user U
//! was open until T as of a moment ago"; it never decides anything else.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::pubsub::{EventBus, Topic};

/// Entries kept at most; past that the cache starts afresh (a burst of sign-ins cannot grow
/// it without bound).
const MAX_ENTRIES: usize = 100_000;

/// The platform topic on which ended sessions are announced to every instance.
pub fn topic() -> Topic {
    Topic::platform("sessions-ended")
}

/// Sessions that ended, as announced on [`topic`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ended {
    pub user_id: Uuid,
    /// `None`: every session of the user.
    pub sessions: Option<Vec<Uuid>>,
    /// A session that stays open.
    pub except: Option<Uuid>,
}

impl Ended {
    fn covers(&self, user_id: Uuid, session: Uuid) -> bool {
        user_id == self.user_id
            && self.except != Some(session)
            && self.sessions.as_ref().is_none_or(|ids| ids.contains(&session))
    }
}

struct Entry {
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    checked: Instant,
}

/// How long an end is remembered, to refuse entries from reads that began before it. Reads
/// are bounded by the request timeout; this outlasts any of them.
const TOMBSTONE: Duration = Duration::from_secs(300);

/// The cache of one instance.
pub struct SessionCache {
    ttl: Duration,
    entries: Mutex<HashMap<Uuid, Entry>>,
    /// Recent ends with the moment they were applied: a read of the session row that began
    /// before an end must not put the session back (it may have read it still open).
    ended: Mutex<Vec<(Instant, Ended)>>,
}

impl SessionCache {
    /// A cache trusting entries for `ttl`; zero turns it off.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::default(), ended: Mutex::default() }
    }

    /// Whether session `session` of `user_id` was found open within the TTL and has not
    /// expired since.
    pub fn is_open(&self, session: Uuid, user_id: Uuid, now: DateTime<Utc>) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let entries = self.entries.lock().unwrap();
        entries
            .get(&session)
            .is_some_and(|e| e.user_id == user_id && e.expires_at > now && e.checked.elapsed() < self.ttl)
    }

    /// Records that a read of the database begun at `read_at` found `session` open until
    /// `expires_at` — unless the session ended since that read began.
    pub fn remember(&self, session: Uuid, user_id: Uuid, expires_at: DateTime<Utc>, read_at: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap();
        // Checked under the entries' lock, which `forget` holds too: an end applied after
        // this check also removes what is inserted here.
        if self.ended.lock().unwrap().iter().any(|(at, e)| *at >= read_at && e.covers(user_id, session)) {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(session, Entry { user_id, expires_at, checked: Instant::now() });
    }

    /// Drops the sessions `ended` covers, and keeps refusing them to reads begun earlier.
    pub fn forget(&self, ended: &Ended) {
        let mut entries = self.entries.lock().unwrap();
        {
            let mut recent = self.ended.lock().unwrap();
            recent.retain(|(at, _)| at.elapsed() < TOMBSTONE);
            recent.push((Instant::now(), ended.clone()));
        }
        match (&ended.sessions, ended.except) {
            (Some(ids), None) => ids.iter().for_each(|id| {
                entries.remove(id);
            }),
            _ => entries.retain(|id, e| !ended.covers(e.user_id, *id)),
        }
    }

    /// Applies every end announced on the bus (by any instance) until the bus stops, and
    /// starts afresh whenever the bus reconnects (ends may have been missed meanwhile).
    pub async fn follow(&self, bus: &dyn EventBus) {
        let mut events =
            futures::stream::select(bus.subscribe(&topic()), bus.subscribe(&Topic::bus_resumed()));
        while let Some(event) = events.next().await {
            if event.topic == Topic::bus_resumed().as_str() {
                self.entries.lock().unwrap().clear();
                continue;
            }
            match serde_json::from_value::<Ended>(event.payload.clone()) {
                Ok(ended) => self.forget(&ended),
                Err(e) => tracing::warn!(error = %e, "undecodable session end ignored"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_begun_before_an_end_does_not_bring_the_session_back() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let (user, s) = (Uuid::now_v7(), Uuid::now_v7());
        let read_at = Instant::now();
        cache.forget(&Ended { user_id: user, sessions: Some(vec![s]), except: None });
        cache.remember(s, user, Utc::now() + chrono::Duration::hours(1), read_at);
        assert!(!cache.is_open(s, user, Utc::now()), "the stale read was refused");
        let after = Instant::now() + Duration::from_millis(1);
        cache.remember(s, user, Utc::now() + chrono::Duration::hours(1), after);
        assert!(cache.is_open(s, user, Utc::now()), "a read begun after the end counts");
    }

    #[test]
    fn an_ended_session_is_forgotten_and_others_stay() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let (user, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let later = Utc::now() + chrono::Duration::hours(1);
        cache.remember(a, user, later, Instant::now());
        cache.remember(b, user, later, Instant::now());
        cache.remember(c, other, later, Instant::now());
        let now = Utc::now();
        assert!(cache.is_open(a, user, now) && !cache.is_open(a, other, now), "bound to its user");
        cache.forget(&Ended { user_id: user, sessions: None, except: Some(b) });
        assert!(!cache.is_open(a, user, now));
        assert!(cache.is_open(b, user, now), "the session that stays open");
        assert!(cache.is_open(c, other, now), "another user's session");
        cache.forget(&Ended { user_id: user, sessions: Some(vec![b]), except: None });
        assert!(!cache.is_open(b, user, now));
        assert!(!cache.is_open(c, other, later), "expired by then");
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = SessionCache::new(Duration::ZERO);
        let (user, s) = (Uuid::now_v7(), Uuid::now_v7());
        cache.remember(s, user, Utc::now() + chrono::Duration::hours(1), Instant::now());
        assert!(!cache.is_open(s, user, Utc::now()));
    }
}
