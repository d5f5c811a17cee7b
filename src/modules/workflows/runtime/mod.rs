//! The execution engine: a durable queue in the `executions` table and the workers that
//! run it.
//!
//! * **Claim.** A worker claims due queued runs, parked runs whose wake-up time came, and
//!   running ones whose lease expired, with one `UPDATE … WHERE id IN (SELECT … FOR UPDATE
//!   SKIP LOCKED) RETURNING *` (SQLite has one writer, so the same statement without the
//!   lock clause is atomic there). Which runs it asks for is decided fairly: every waiting
//!   tenant's oldest runs are read and no tenant gets more than its share of this instance's
//!   workers while another one waits ([`crate::jobs::fair_pick`]). Claims over the tenant's concurrency
//!   cap are handed back at once; runs of a suspended organisation or an archived workflow
//!   fail at claim, and so does a run whose worker was lost [`MAX_CLAIMS`] times
//!   (quarantined: a node that kills its process does not take down one worker after
//!   another).
//! * **Park.** Waiting does not hold a worker: a Delay longer than [`PARK_AFTER`] writes its
//!   `running` row, then parks the run — still `running` for clients, with no lease owner and
//!   `run_after` at its wake-up time — and frees the slot. The claim that wakes it resumes it
//!   like a crashed run (finished nodes are rows), without counting as a lost worker.
//! * **Lease.** While it runs, the worker renews the lease (a heartbeat every third of it).
//!   If the instance dies, another one — or the restarted one — claims the run when the
//!   lease has expired and continues from the last completed node: finished nodes are rows
//!   and are not run again. A node that was interrupted while running runs again only if it
//!   is safe to repeat; otherwise it fails with a clear error.
//! * **Compare-and-set.** Every write of the runner is conditional on the run still being
//!   `running` under this worker's lease, so a cancelled run stays `cancelled`: a late
//!   success finds nothing to update and is dropped.
//! * **Group commit.** Node results are written with the next durability point — before a
//!   node that is not safe to repeat, every second, and with the run's final state — so a
//!   run of fast nodes costs one transaction, and a crash at worst reruns safe nodes.
//! * **Cancel.** The runner listens on its execution's event topic (local or Redis) and
//!   stops the node in flight at once when the run is cancelled; HTTP, Delay, Code, LLM and
//!   agent nodes are interrupted, not waited for.
//!
//! Files: `events` (statuses, events and topics), `queue` (workers, fair claims, refusals at
//! claim), `runner` (one run's state, durability points, leases, parking), `finish` (succeeded
//! runs' last writes, committed in groups), `interpreter` (the graph's flows, loops and
//! branches, one node's attempts).

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use entity::{
    execution::{self, ExecutionTrigger},
    execution_log::{self, LogLevel},
    node_execution,
};
use futures::StreamExt;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, Func, LockBehavior, LockType, OnConflict, Query},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    definition::graph::{Backoff, Graph, Layout, NodeSpec, Settings},
    nodes::{self, NodeError},
};
use crate::{ctx::Ctx, db::TenantScope, pubsub::Topic, startup::AppState};

/// Claims of one run (its first one included) after which a lost worker quarantines it: a
/// run whose lease expired again is failed with [`WORKER_LOST`] at its next claim instead of
/// being run once more. Waking a parked run is not a claim of a lost run and does not count.
pub const MAX_CLAIMS: i32 = 3;

/// The error of a quarantined run.
pub const WORKER_LOST: &str = "worker lost repeatedly";

/// A Delay whose rest of the wait is longer than this parks the run instead of holding its
/// worker; a shorter one waits in place (a park costs two writes and a claim).
pub const PARK_AFTER: Duration = Duration::from_secs(1);

/// Process-wide handle of the engine: wakes this instance's workers.
#[derive(Clone)]
pub struct Engine {
    wake: Arc<Notify>,
    /// Writes succeeded runs' last writes in groups ([`finish`]).
    finisher: Arc<finish::Finisher>,
    /// The runs in progress on this instance, for a cancel heard on [`cancels_topic`].
    running: InProgress,
    /// This instance's name in `lease_owner`.
    pub instance: Arc<str>,
    /// For URLs a tenant's graph names: public hosts only unless the operator allows more.
    pub http: reqwest::Client,
    /// For URLs the operator configured (`ZYGO_LLM_BASE_URL`, often a local model server):
    /// unrestricted, and through the environment's proxy if one is set.
    pub operator_http: reqwest::Client,
}

impl Engine {
    pub fn new(allow_private: bool) -> Self {
        Self {
            wake: Arc::new(Notify::new()),
            finisher: Default::default(),
            running: Default::default(),
            instance: format!("{}-{}", std::process::id(), Uuid::new_v4().simple()).into(),
            http: nodes::http_client(allow_private),
            operator_http: nodes::http_client(true),
        }
    }

    /// Tells the local workers that runs are waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Makes the run `id` in progress here stoppable by a cancel until the guard drops.
    fn register(&self, id: Uuid, cancel: CancellationToken) -> Registered {
        self.running.lock().expect("lock").insert(id, cancel);
        Registered { running: self.running.clone(), id }
    }

    /// Stops the run `id` if it is in progress on this instance.
    fn cancel(&self, id: Uuid) {
        if let Some(token) = self.running.lock().expect("lock").get(&id) {
            token.cancel();
        }
    }
}

/// The runs in progress on an instance, each with what stops it.
type InProgress = Arc<std::sync::Mutex<HashMap<Uuid, CancellationToken>>>;

/// A run's entry among the runs in progress here; removed when dropped.
struct Registered {
    running: InProgress,
    id: Uuid,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.running.lock().expect("lock").remove(&self.id);
    }
}

pub mod budget;
mod events;
pub mod executions;
pub mod expr;
mod finish;
mod interpreter;
mod queue;
mod runner;

pub use events::*;
#[allow(unused_imports)]
pub(crate) use interpreter::*;
pub use queue::*;
pub(crate) use runner::*;
