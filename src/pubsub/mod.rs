//! The event bus: how a committed change reaches live subscribers, on this instance and on
//! every other one.
//!
//! [`EventBus`] has two implementations chosen by configuration: [`memory::MemoryBus`]
//! (in-process, the embedded default) and [`redis::RedisBus`] (Redis pub/sub, for many
//! instances). Both deliver to local subscribers through the same [`hub::Hub`]. Topics are
//! built only by [`Topic`]'s constructors, which always put the tenant (or the user, for
//! personal streams) into the name, so a subscriber can never receive another tenant's event.
//! Publishing never fails the caller: publish after commit and the bus takes it from there.

pub mod hub;
pub mod memory;
pub mod presence;
pub mod redis;
pub mod tally;

use std::sync::Arc;

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A topic name. Always scoped to a tenant (`t:{tenant}:…`) or a user (`u:{user}:…`), or
/// the platform's own (`p:…`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Topic(String);

impl Topic {
    /// A tenant-scoped topic, e.g. `t:{tenant}:events`.
    pub fn tenant(tenant_id: Uuid, name: &str) -> Self {
        Self(format!("t:{tenant_id}:{name}"))
    }

    /// A user-scoped topic, e.g. `u:{user}:sessions`.
    pub fn user(user_id: Uuid, name: &str) -> Self {
        Self(format!("u:{user_id}:{name}"))
    }

    /// A topic of the platform itself (`p:{name}`), for the server's own coordination
    /// between instances (e.g. ended sessions); no tenant data travels on it and no client
    /// subscription can name it.
    pub fn platform(name: &str) -> Self {
        Self(format!("p:{name}"))
    }

    /// Delivered on this instance (never published) each time the bus (re)connects: events
    /// may have been missed meanwhile, so whatever keeps a cache by following the bus starts
    /// afresh when it hears this.
    pub fn bus_resumed() -> Self {
        Self::platform("bus-resumed")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a topic received from another instance. Only names of the three shapes
    /// are accepted.
    pub(crate) fn from_wire(name: &str) -> Option<Self> {
        (name.starts_with("t:") || name.starts_with("u:") || name.starts_with("p:"))
            .then(|| Self(name.to_string()))
    }
}

/// One event as it travels on the bus.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    pub topic: String,
    pub payload: serde_json::Value,
}

/// Publishes events and hands out streams of them.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Queues `payload` for every subscriber of `topic`, on all instances. Call it after the
    /// transaction that made the change has committed. Never fails: a bus that is down keeps
    /// the event and delivers it when it is back.
    async fn publish(&self, topic: &Topic, payload: serde_json::Value);

    /// A stream of the events of `topic`, from now on. Ends when dropped.
    fn subscribe(&self, topic: &Topic) -> BoxStream<'static, Arc<Event>>;

    /// `Ok` when the bus can deliver across instances; `Err` names what is down.
    async fn check(&self) -> Result<(), String>;

    /// Short name for logs and `/readyz`.
    fn kind(&self) -> &'static str;
}
