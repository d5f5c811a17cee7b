//! Which access checks this instance recently made, so a request or a subscription event
//! does not read memberships, roles and the organisation's state every time (the hot path
//! of every tenant field).
//!
//! An entry is trusted for a short time (`ZYGO_ACCESS_CACHE_TTL`) and dropped at once when
//! access may have changed: a committed audit entry of a membership, role or organisation
//! change ([`changes_access`]), a deleted organisation, or a member's two-factor setting.
//! The instance that made the change forgets at once, before answering, and announces it on
//! the bus ([`topic`]) so every other instance's [`AccessCache::follow`] forgets too. A read
//! that began before a change is never stored (the generation check), so a stale answer
//! cannot come back. What the cache owns is only "user U's access to tenant T as read a
//! moment ago"; it never decides anything itself.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::TenantCtx;
use crate::pubsub::{EventBus, Topic};

/// Entries kept at most; past that the cache starts afresh.
const MAX_ENTRIES: usize = 50_000;

/// The platform topic on which access changes are announced to every instance.
pub fn topic() -> Topic {
    Topic::platform("access-changed")
}

/// Whether a committed audit entry of `action` may change who reaches the tenant or with
/// which permissions: memberships (`member.*`: joined, left, removed, role changed,
/// suspended, reactivated), roles and their grants (`role.*`), and the organisation itself
/// (`tenant.*`: status, settings such as the MFA rule, deletion), support sessions
/// (`support_session.*`: started, approved, ended — not the entry of each request made in
/// one) — except a rename
/// (`tenant.updated`: name and slug, which no access check reads), so renaming an
/// organisation does not make every member's next read, and every subscriber's next event,
/// go back to the database. A new action that changes access must be named under one of
/// these nouns.
pub fn changes_access(action: &str) -> bool {
    action != "tenant.updated"
        && action != "support_session.request"
        && ["member.", "role.", "tenant.", "support_session."].iter().any(|p| action.starts_with(p))
}

/// What may have changed, as announced on [`topic`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AccessChanged {
    /// Anyone's access to this tenant.
    Tenant(Uuid),
    /// This user's access to any tenant (their two-factor setting, their account).
    User(Uuid),
}

impl AccessChanged {
    fn covers(&self, user: Uuid, tenant: Uuid) -> bool {
        match *self {
            AccessChanged::Tenant(t) => t == tenant,
            AccessChanged::User(u) => u == user,
        }
    }
}

struct Entry {
    /// `None`: not an active member.
    access: Option<TenantCtx>,
    checked: Instant,
}

#[derive(Default)]
struct State {
    /// Moves on every change: a read begun under an older generation is not stored.
    generation: u64,
    entries: HashMap<(Uuid, Uuid), Entry>,
}

/// The cache of one instance, keyed by `(user, tenant)`.
pub struct AccessCache {
    ttl: Duration,
    state: Mutex<State>,
}

/// A read in progress: what [`AccessCache::store`] needs to refuse it if access changed
/// while it ran.
#[derive(Clone, Copy, Debug)]
pub struct ReadTicket(u64);

impl AccessCache {
    /// A cache trusting entries for `ttl`; zero turns it off.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, state: Mutex::default() }
    }

    /// What is known of `user`'s access to `tenant`: `Some(None)` for "not an active member",
    /// `None` when it must be read.
    pub fn get(&self, user: Uuid, tenant: Uuid) -> Option<Option<TenantCtx>> {
        if self.ttl.is_zero() {
            return None;
        }
        let state = self.state.lock().unwrap();
        state
            .entries
            .get(&(user, tenant))
            .filter(|e| e.checked.elapsed() < self.ttl)
            .map(|e| e.access.clone())
    }

    /// Call before reading the database.
    pub fn ticket(&self) -> ReadTicket {
        ReadTicket(self.state.lock().unwrap().generation)
    }

    /// Whether an access decided from a read begun at `ticket`, as of `checked`, still holds
    /// without reading again: nothing changed access on this instance since (no change
    /// announced, no reconnection of the bus) and it is younger than an entry may be. A
    /// subscriber keeps its decision while this holds instead of asking for every event.
    pub fn unchanged_since(&self, ticket: ReadTicket, checked: Instant) -> bool {
        !self.ttl.is_zero()
            && checked.elapsed() < self.ttl
            && self.state.lock().unwrap().generation == ticket.0
    }

    /// When the entry of `user`'s access to `tenant` was read from the database, if cached.
    pub fn checked_at(&self, user: Uuid, tenant: Uuid) -> Option<Instant> {
        self.state.lock().unwrap().entries.get(&(user, tenant)).map(|e| e.checked)
    }

    /// Stores what a read begun at `ticket` found for `user` — unless access changed since.
    pub fn store(
        &self,
        ticket: ReadTicket,
        user: Uuid,
        found: impl IntoIterator<Item = (Uuid, Option<TenantCtx>)>,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        let mut state = self.state.lock().unwrap();
        if state.generation != ticket.0 {
            return;
        }
        if state.entries.len() >= MAX_ENTRIES {
            state.entries.clear();
        }
        let checked = Instant::now();
        for (tenant, access) in found {
            state.entries.insert((user, tenant), Entry { access, checked });
        }
    }

    /// Drops what `change` covers, and refuses reads begun before it.
    pub fn forget(&self, change: AccessChanged) {
        let mut state = self.state.lock().unwrap();
        state.generation += 1;
        state.entries.retain(|(user, tenant), _| !change.covers(*user, *tenant));
    }

    /// Forgets everything (the bus may have lost announcements).
    pub fn clear(&self) {
        let mut state = self.state.lock().unwrap();
        state.generation += 1;
        state.entries.clear();
    }

    /// Applies every change announced on the bus (by any instance) until the bus stops, and
    /// starts afresh whenever the bus reconnects.
    pub async fn follow(&self, bus: &dyn EventBus) {
        let mut events =
            futures::stream::select(bus.subscribe(&topic()), bus.subscribe(&Topic::bus_resumed()));
        while let Some(event) = events.next().await {
            if event.topic == Topic::bus_resumed().as_str() {
                self.clear();
                continue;
            }
            match serde_json::from_value::<AccessChanged>(event.payload.clone()) {
                Ok(change) => self.forget(change),
                Err(e) => tracing::warn!(error = %e, "undecodable access change ignored"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(user: Uuid, tenant: Uuid) -> TenantCtx {
        TenantCtx {
            user_id: user,
            tenant_id: tenant,
            membership_id: Uuid::now_v7(),
            role_id: Uuid::now_v7(),
            role_key: "member".into(),
            permissions: Default::default(),
            suspended: false,
            pending_deletion: false,
            roles: Default::default(),
            mfa_missing: false,
            switched_off: Default::default(),
            actor: std::sync::Arc::new(crate::access::Actor::user(user)),
            reads: Default::default(),
            support: None,
        }
    }

    #[test]
    fn a_read_begun_before_a_change_is_not_stored() {
        let cache = AccessCache::new(Duration::from_secs(60));
        let (user, tenant) = (Uuid::now_v7(), Uuid::now_v7());
        let ticket = cache.ticket();
        cache.forget(AccessChanged::Tenant(Uuid::now_v7()));
        cache.store(ticket, user, [(tenant, Some(member(user, tenant)))]);
        assert!(cache.get(user, tenant).is_none(), "the read may have seen the old state");
        cache.store(cache.ticket(), user, [(tenant, Some(member(user, tenant)))]);
        assert!(matches!(cache.get(user, tenant), Some(Some(_))));
    }

    #[test]
    fn a_change_drops_what_it_covers_and_nothing_else() {
        let cache = AccessCache::new(Duration::from_secs(60));
        let (u1, u2, t1, t2) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        for (u, t) in [(u1, t1), (u1, t2), (u2, t1), (u2, t2)] {
            cache.store(cache.ticket(), u, [(t, Some(member(u, t)))]);
        }
        cache.store(cache.ticket(), u1, [(Uuid::nil(), None)]);
        assert!(matches!(cache.get(u1, Uuid::nil()), Some(None)), "a known non-member");
        cache.forget(AccessChanged::Tenant(t1));
        assert!(cache.get(u1, t1).is_none() && cache.get(u2, t1).is_none());
        assert!(cache.get(u1, t2).is_some() && cache.get(u2, t2).is_some());
        cache.forget(AccessChanged::User(u2));
        assert!(cache.get(u2, t2).is_none());
        assert!(cache.get(u1, t2).is_some());
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = AccessCache::new(Duration::ZERO);
        let (user, tenant) = (Uuid::now_v7(), Uuid::now_v7());
        cache.store(cache.ticket(), user, [(tenant, Some(member(user, tenant)))]);
        assert!(cache.get(user, tenant).is_none());
    }

    #[test]
    fn access_changing_actions_are_recognised() {
        for a in [
            "member.joined",
            "member.role_changed",
            "role.permissions_set",
            "tenant.suspended",
            "support_session.started",
            "support_session.ended",
        ] {
            assert!(changes_access(a), "{a}");
        }
        for a in [
            "team.created",
            "workflow.updated",
            "secret.deleted",
            "tenant.updated",
            "support_session.request",
        ] {
            assert!(!changes_access(a), "{a}");
        }
    }
}
