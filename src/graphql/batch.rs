//! Batching of an operation's loads by the executor's turns instead of by a timer.
//!
//! async-graphql's `DataLoader` gathers keys for a fixed delay (1 ms) after the first one and
//! then loads what it has. Resolving a long list takes longer than that on a busy machine,
//! so the 1,000 memberships of "50 teams × 20 members" arrived in six batches, the users in
//! seven, and the statement count of a request grew with its length and with the load.
//!
//! Here an HTTP operation's execution is [`Driven`]: the batches its resolvers fill are sent
//! only when its future waits *and* none of its loads is still running or answering. A
//! load answers its waiters one by one, and on a multi-threaded runtime the execution may
//! already run between two answers; waiting for the last answer means that every key the
//! answers lead to (all items of a list reach their next field) shares one batch, however
//! many there are and however slow the machine. WebSocket operations, whose execution
//! async-graphql drives itself, keep the timer ([`TIMER`]).
//!
//! A load's answers come through channels outside tokio's cooperative budget, which would
//! otherwise make the execution wait after 128 answers in one poll, as if it had run out
//! of work, and send a partial batch.

use std::{
    future::Future,
    hash::Hash,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Duration,
};

use futures::task::AtomicWaker;

use crate::db::{FastMap, FastSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
// Not tokio's: its channels count against a task's cooperative budget (128 per poll), so the
// execution would stop taking answers after the 128th and send a partial batch.
use futures::channel::oneshot;

/// How long a batch of an operation that is not [`Driven`] gathers keys.
pub const TIMER: Duration = Duration::from_millis(1);

/// Keys per load at most; a larger batch is loaded in parts of this size (bound parameters
/// stay far below PostgreSQL's and SQLite's limits).
pub const MAX_BATCH: usize = 5_000;

/// Loads the values of many keys at once, for [`Batched`] (async-graphql's `Loader`, with
/// a [`FastMap`]).
pub trait Loader<K: Send + Sync + Hash + Eq + Clone + 'static>: Send + Sync + 'static {
    type Value: Send + Sync + Clone + 'static;
    type Error: Send + Clone + 'static;

    /// The values of `keys` that exist (a key missing from the map has none).
    fn load(&self, keys: &[K]) -> impl Future<Output = Result<FastMap<K, Self::Value>, Self::Error>> + Send;
}

type Dispatch = Box<dyn FnOnce() + Send>;

/// The batches of one operation waiting to be sent, and its loads under way. It is also the
/// waker the execution runs with, so it knows whether anything woke the execution during (or
/// just after) a poll: a poll that ends Pending but was woken meanwhile has not run out of
/// work — a `FuturesUnordered` yielding after a run of ready items, or an answer coming in —
/// and is polled again at once; sending the batches then would split them.
#[derive(Default)]
pub struct Dispatcher {
    ready: Mutex<Vec<Dispatch>>,
    /// Loads sent and not yet done answering.
    running: AtomicUsize,
    /// Something woke the execution since its last poll began.
    woken: AtomicBool,
    /// The execution's own waker.
    execution: AtomicWaker,
}

impl Dispatcher {
    fn schedule(&self, send: Dispatch) {
        self.ready.lock().unwrap().push(send);
    }

    fn send_all(&self) {
        let ready = std::mem::take(&mut *self.ready.lock().unwrap());
        self.running.fetch_add(ready.len(), Ordering::SeqCst);
        for send in ready {
            send();
        }
    }

    /// A load has answered every waiter: when it was the last one running, the execution's
    /// next wait sends what the answers asked for.
    fn done(&self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.wake_execution();
    }

    fn wake_execution(&self) {
        self.woken.store(true, Ordering::SeqCst);
        self.execution.wake();
    }
}

impl std::task::Wake for Dispatcher {
    fn wake(self: Arc<Self>) {
        self.wake_execution();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_execution();
    }
}

/// An operation's execution that sends its batches whenever it waits.
pub struct Driven<F> {
    execution: Pin<Box<F>>,
    dispatcher: Arc<Dispatcher>,
}

impl<F: Future> Driven<F> {
    pub fn new(dispatcher: Arc<Dispatcher>, execution: F) -> Self {
        Self { execution: Box::pin(execution), dispatcher }
    }
}

impl<F: Future> Future for Driven<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let dispatcher = &this.dispatcher;
        dispatcher.execution.register(cx.waker());
        dispatcher.woken.store(false, Ordering::SeqCst);
        let waker = std::task::Waker::from(dispatcher.clone());
        let polled = this.execution.as_mut().poll(&mut Context::from_waker(&waker));
        if polled.is_pending()
            && !dispatcher.woken.load(Ordering::SeqCst)
            && dispatcher.running.load(Ordering::SeqCst) == 0
        {
            // The loads run as their own tasks and wake the execution when they answer.
            dispatcher.send_all();
        }
        polled
    }
}

type Answer<K, V, E> = Result<Arc<FastMap<K, V>>, E>;

struct Waiting<K, V, E> {
    keys: FastSet<K>,
    waiters: Vec<oneshot::Sender<Answer<K, V, E>>>,
}

/// A loader whose keys are gathered per turn of a [`Driven`] operation (or for [`TIMER`]
/// otherwise) and loaded together. Nothing is cached: each batch reads afresh.
pub struct Batched<K, L: Loader<K>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    loader: Arc<L>,
    waiting: Arc<Mutex<Waiting<K, L::Value, L::Error>>>,
    dispatcher: Option<Arc<Dispatcher>>,
}

impl<K, L> Batched<K, L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    pub fn new(loader: L, dispatcher: Option<Arc<Dispatcher>>) -> Self {
        Self {
            loader: Arc::new(loader),
            waiting: Arc::new(Mutex::new(Waiting { keys: FastSet::default(), waiters: Vec::new() })),
            dispatcher,
        }
    }

    /// The value of `key`, loaded with every other key asked for in the same turn.
    pub async fn load_one(&self, key: K) -> Result<Option<L::Value>, L::Error> {
        let (tx, rx) = oneshot::channel();
        let first = {
            let mut waiting = self.waiting.lock().unwrap();
            waiting.keys.insert(key.clone());
            waiting.waiters.push(tx);
            waiting.waiters.len() == 1
        };
        if first {
            let (loader, waiting) = (self.loader.clone(), self.waiting.clone());
            match &self.dispatcher {
                Some(dispatcher) => {
                    // Weak: a batch never sent (the operation was cancelled) must not keep
                    // its dispatcher alive through the dispatcher's own list.
                    let weak = Arc::downgrade(dispatcher);
                    dispatcher.schedule(Box::new(move || {
                        tokio::spawn(async move {
                            load(loader, waiting).await;
                            if let Some(dispatcher) = weak.upgrade() {
                                dispatcher.done();
                            }
                        });
                    }))
                }
                None => {
                    tokio::spawn(async move {
                        tokio::time::sleep(TIMER).await;
                        load(loader, waiting).await;
                    });
                }
            }
        }
        let answer = rx.await.expect("a batch answers each of its waiters, or its task panicked")?;
        Ok(answer.get(&key).cloned())
    }
}

/// Loads the keys waiting now and answers their waiters.
async fn load<K, L>(loader: Arc<L>, waiting: Arc<Mutex<Waiting<K, L::Value, L::Error>>>)
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    let (keys, waiters) = {
        let mut w = waiting.lock().unwrap();
        (std::mem::take(&mut w.keys), std::mem::take(&mut w.waiters))
    };
    if waiters.is_empty() {
        return;
    }
    let keys: Vec<K> = keys.into_iter().collect();
    let answer = load_parts(&*loader, &keys).await.map(Arc::new);
    for waiter in waiters {
        let _ = waiter.send(answer.clone());
    }
}

/// The values of `keys`, loaded in parts of at most [`MAX_BATCH`] (the loader's own map when
/// one part holds them all, as it nearly always does).
async fn load_parts<K, L>(loader: &L, keys: &[K]) -> Result<FastMap<K, L::Value>, L::Error>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    let mut parts = keys.chunks(MAX_BATCH);
    let mut found = match parts.next() {
        Some(part) => loader.load(part).await?,
        None => FastMap::default(),
    };
    for part in parts {
        found.extend(loader.load(part).await?);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Doubling {
        loads: Arc<AtomicUsize>,
    }

    impl Loader<u32> for Doubling {
        type Value = u32;
        type Error = Arc<String>;

        async fn load(&self, keys: &[u32]) -> Result<FastMap<u32, u32>, Self::Error> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            // Slow enough that a 1 ms timer would have split the batch.
            std::thread::sleep(Duration::from_millis(2));
            Ok(keys.iter().filter(|k| **k != 7).map(|k| (*k, k * 2)).collect())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keys_asked_for_in_one_turn_are_one_load_whatever_their_number_and_speed() {
        let loads = Arc::new(AtomicUsize::new(0));
        let dispatcher = Arc::new(Dispatcher::default());
        let batched = Arc::new(Batched::new(Doubling { loads: loads.clone() }, Some(dispatcher.clone())));
        let work = {
            let batched = batched.clone();
            async move {
                // Each item burns CPU before asking, as resolving a list's fields does.
                let first = futures::future::join_all((0..3_000u32).map(|k| {
                    let b = batched.clone();
                    async move {
                        std::thread::sleep(Duration::from_micros(2));
                        b.load_one(k).await.unwrap()
                    }
                }))
                .await;
                // A second level, asked for by each item once the first answered (with work
                // in between, so the execution runs while answers are still being sent): a
                // second load.
                let second = futures::future::join_all(first.iter().map(|v| {
                    let b = batched.clone();
                    async move {
                        std::thread::sleep(Duration::from_micros(2));
                        b.load_one(v.unwrap_or(0) + 1).await.unwrap()
                    }
                }))
                .await;
                (first, second.len())
            }
        };
        let (first, n) = Driven::new(dispatcher, work).await;
        assert_eq!(first[3], Some(6));
        assert_eq!(first[7], None, "a key the loader does not find answers None");
        assert_eq!(n, 3_000);
        assert_eq!(loads.load(Ordering::SeqCst), 2, "one load per turn");
    }
}
