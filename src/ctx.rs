//! [`Ctx`]: what services need of the instance — database, event bus, configuration, clock,
//! and the other layers below the modules (mail signal, master key, metrics) — and nothing
//! of the layers above them (GraphQL schema, rate limiter, query cache, workflow engine).
//! `AppState` holds one and dereferences to it, so a resolver hands `app` to a service that
//! takes `&Ctx`.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;
use serde::Serialize;

use crate::{
    config::Config,
    mail::MailSignal,
    pubsub::{EventBus, Topic},
    telemetry::Metrics,
};

/// The narrow context of services. Cheap to clone: one reference count (every request
/// clones it, and cloning eight shared handles on every request showed in the profile).
#[derive(Clone)]
pub struct Ctx(Arc<CtxParts>);

impl Ctx {
    pub fn new(parts: CtxParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for Ctx {
    type Target = CtxParts;

    fn deref(&self) -> &CtxParts {
        &self.0
    }
}

/// What a [`Ctx`] holds.
pub struct CtxParts {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub bus: Arc<dyn EventBus>,
    pub clock: Clock,
    pub metrics: Metrics,
    /// Wakes the mail worker after an outbox row is committed.
    pub mail: MailSignal,
    /// The master key tenant secrets are encrypted under.
    pub keys: Arc<crate::crypto::MasterKey>,
    /// Recent access checks of this instance (see [`crate::access::cache`]).
    pub access: Arc<crate::access::AccessCache>,
    /// The background job machinery's handlers and this instance's wake-up signal.
    pub jobs: Arc<crate::jobs::Jobs>,
    /// The shared Redis connection when `ZYGO_REDIS_URL` is set (usage counters).
    pub redis: Option<crate::pubsub::redis::SharedRedis>,
    /// Who is present where (documents' participants): Redis when configured, else memory.
    pub presence: Arc<crate::pubsub::presence::Presence>,
    /// Where uploaded files are kept (`ZYGO_STORAGE_URL`).
    pub storage: crate::storage::Storage,
    /// The platform's feature flags, as the access check and the feature gate ask for them
    /// (`modules::flags`, plugged in by the composition root).
    pub features: Arc<dyn crate::access::features::FeatureFlags>,
}

impl CtxParts {
    /// Now, by this instance's [`Clock`]. Services ask here, never `Utc::now()`, for anything
    /// with a period, an expiry or a schedule.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Publishes `payload` on `topic`. Call after the transaction has committed (a
    /// [`crate::access::TenantTx`] does it for you).
    pub async fn publish<T: Serialize>(&self, topic: &Topic, payload: &T) {
        match serde_json::to_value(payload) {
            Ok(value) => self.publish_value(topic, value).await,
            Err(e) => tracing::error!(error = %e, topic = topic.as_str(), "event not serialisable"),
        }
    }

    /// Forgets cached access that `change` may affect, here at once and on every other
    /// instance through the bus. Call after the change has committed.
    pub async fn access_changed(&self, change: crate::access::AccessChanged) {
        self.access.forget(change);
        self.publish(&crate::access::cache::topic(), &change).await;
    }

    /// Publishes an already serialised payload.
    pub async fn publish_value(&self, topic: &Topic, value: serde_json::Value) {
        self.metrics.events_published.inc();
        self.bus.publish(topic, value).await;
    }
}

/// Where "now" comes from: the system clock, or, in tests, a manual clock that only moves
/// when told to (billing periods, expiries and schedules are tested by moving it).
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock standing at `start` until [`Clock::advance`] or [`Clock::set`] moves it.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self { manual: Some(Arc::new(Mutex::new(start))) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.manual {
            None => Utc::now(),
            Some(t) => *t.lock().expect("clock lock"),
        }
    }

    /// Moves a manual clock forward by `by` (no effect on the system clock).
    pub fn advance(&self, by: Duration) {
        if let Some(t) = &self.manual {
            *t.lock().expect("clock lock") += by;
        }
    }

    /// Sets a manual clock to `at` (no effect on the system clock).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(t) = &self.manual {
            *t.lock().expect("clock lock") = at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = Utc::now() - Duration::days(40);
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::days(31));
        assert_eq!(clock.now(), start + Duration::days(31));
        let copy = clock.clone();
        copy.set(start);
        assert_eq!(clock.now(), start, "clones share the same time");
    }

    #[test]
    fn the_system_clock_follows_the_system() {
        let before = Utc::now();
        let now = Clock::system().now();
        assert!(now >= before && now <= Utc::now());
    }
}
