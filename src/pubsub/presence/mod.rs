//! Presence: who is in a room right now (a document's viewers, their cursors), ephemeral and
//! never in the database (DESIGN §1: "events, presence and rate limits go through Redis").
//!
//! A room holds members, each with an opaque value (the area's JSON) and an expiry read from
//! the injectable clock: a member whose heartbeat stops is removed by [`Presence::expire`]
//! (run by whichever instance's sweep comes first) and every removal is handed to exactly one
//! caller, so a departure is announced once however many instances sweep. [`PresenceStore`]
//! has two implementations chosen by configuration: [`memory::MemoryPresence`] (one process)
//! and [`redis::RedisPresence`] (a hash per room, with a sorted set of expiries beside it, and
//! an index of rooms for the sweep), reusing the instance's shared Redis connection.
//!
//! [`Presence`] adds what stays on one instance: which connection is which member (a socket's
//! own entry leaves when the socket does) and the [`throttle::Throttle`] that coalesces a
//! member's updates. Areas give meaning to rooms and values; this layer knows neither.

pub mod memory;
pub mod redis;
pub mod throttle;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};

/// A member of a room and its value (as stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub value: String,
}

/// A member removed by [`PresenceStore::expire`], with its room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expired {
    pub room: String,
    pub member: Member,
}

/// Where presence is kept. Every method is one atomic step of the store, so two instances
/// acting on the same member at once never both see it leave.
#[async_trait::async_trait]
pub trait PresenceStore: Send + Sync + 'static {
    /// Sets member `id` of `room` to `value`, present until `expires_at`. `Ok(true)` when it
    /// was not present before (or only expired and not yet swept): a join.
    async fn put(
        &self,
        room: &str,
        id: &str,
        value: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, String>;

    /// Removes member `id` of `room`; its value when this call removed it (`None`: it was
    /// already gone, someone else announces it).
    async fn remove(&self, room: &str, id: &str) -> Result<Option<String>, String>;

    /// The members of `room` present at `now`.
    async fn members(&self, room: &str, now: DateTime<Utc>) -> Result<Vec<Member>, String>;

    /// Removes every member, of every room, whose expiry is at or before `now`, and returns
    /// them; each removal is returned to one caller only.
    async fn expire(&self, now: DateTime<Utc>) -> Result<Vec<Expired>, String>;

    /// Short name for logs.
    fn kind(&self) -> &'static str;
}

/// One connection's member in one room, on this instance.
struct Attached {
    id: String,
    /// Operations of the connection in the room (the member leaves with the last).
    count: usize,
    /// The member's value as this instance last stored it (an update over the same
    /// connection starts from it instead of reading the store).
    value: Option<String>,
}

/// This instance's presence: the shared store, the instance's name (participants say where
/// they are connected), the connections' members and the update throttle.
pub struct Presence {
    pub store: Arc<dyn PresenceStore>,
    /// The name of this instance, as participants carry it (`zygo-<hex>`).
    pub instance_id: String,
    attached: Mutex<HashMap<(String, String), Attached>>,
    /// Coalesces each member's updates.
    pub throttle: Arc<throttle::Throttle>,
}

impl Presence {
    pub fn new(
        store: Arc<dyn PresenceStore>,
        instance_id: String,
        min_interval: std::time::Duration,
    ) -> Self {
        Self {
            store,
            instance_id,
            attached: Mutex::default(),
            throttle: Arc::new(throttle::Throttle::new(min_interval)),
        }
    }

    /// Attaches one more operation of `connection` to `room`: the member it is (made by
    /// `new_id` for the connection's first) and whether it is the first.
    pub fn attach(&self, connection: &str, room: &str, new_id: impl FnOnce() -> String) -> (String, bool) {
        let mut attached = self.attached.lock().expect("presence lock");
        match attached.entry((connection.to_string(), room.to_string())) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                e.get_mut().count += 1;
                (e.get().id.clone(), false)
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                let id = new_id();
                v.insert(Attached { id: id.clone(), count: 1, value: None });
                (id, true)
            }
        }
    }

    /// Detaches one operation of `connection` from `room`; the member when it was the last
    /// (the member leaves).
    pub fn detach(&self, connection: &str, room: &str) -> Option<String> {
        let mut attached = self.attached.lock().expect("presence lock");
        let key = (connection.to_string(), room.to_string());
        let entry = attached.get_mut(&key)?;
        entry.count -= 1;
        if entry.count > 0 {
            return None;
        }
        attached.remove(&key).map(|a| a.id)
    }

    /// The member `connection` is in `room` and its last stored value, if it is attached.
    pub fn attached(&self, connection: &str, room: &str) -> Option<(String, Option<String>)> {
        let attached = self.attached.lock().expect("presence lock");
        attached.get(&(connection.to_string(), room.to_string())).map(|a| (a.id.clone(), a.value.clone()))
    }

    /// Remembers the value stored for `connection`'s member in `room` (if still attached).
    pub fn remember(&self, connection: &str, room: &str, value: String) {
        let mut attached = self.attached.lock().expect("presence lock");
        if let Some(a) = attached.get_mut(&(connection.to_string(), room.to_string())) {
            a.value = Some(value);
        }
    }

    /// Members attached on this instance (the benchmark's memory figure divides by it).
    pub fn attached_count(&self) -> usize {
        self.attached.lock().expect("presence lock").len()
    }
}
