//! The Redis event bus: events cross instances through Redis pub/sub.
//!
//! One background task per instance holds a pattern subscription on `{prefix}:*` and hands
//! every message to the local [`Hub`]; publishing goes through a queue drained by a second
//! task, what queued up meanwhile in one pipeline. When Redis goes away both tasks retry with exponential back-off, queries and
//! mutations keep working, `/readyz` reports Redis down, and local subscribers simply
//! resume receiving once the subscription is back. Events published meanwhile wait in the
//! queue (bounded; the oldest are dropped with a log line if it fills up).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures::{StreamExt, stream::BoxStream};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Event, EventBus, Topic, hub::Hub};

const QUEUE_CAPACITY: usize = 10_000;
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Event bus over Redis pub/sub.
pub struct RedisBus {
    hub: Hub,
    queue: mpsc::Sender<Event>,
    subscribed: Arc<AtomicBool>,
    manager: ConnectionManager,
}

impl RedisBus {
    /// Starts the subscriber and publisher tasks. Does not wait for Redis: an instance can
    /// start while Redis is still coming up and reports it through `/readyz`.
    pub fn start(url: &str, prefix: &str, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let manager = client.get_connection_manager_lazy(
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(Duration::from_secs(2)))
                .set_number_of_retries(1)
                .set_max_delay(MAX_BACKOFF),
        )?;
        let hub = Hub::default();
        let subscribed = Arc::new(AtomicBool::new(false));
        let (queue, rx) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(subscriber_task(
            client,
            format!("{prefix}:"),
            hub.clone(),
            subscribed.clone(),
            shutdown.clone(),
        ));
        tokio::spawn(publisher_task(manager.clone(), format!("{prefix}:"), rx, shutdown));
        Ok(Self { hub, queue, subscribed, manager })
    }
}

#[async_trait::async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, topic: &Topic, payload: serde_json::Value) {
        let event = Event { topic: topic.as_str().to_string(), payload };
        if let Err(mpsc::error::TrySendError::Full(event)) = self.queue.try_send(event) {
            tracing::error!(topic = %event.topic, "event queue full while Redis is unreachable; event dropped");
        }
    }

    fn subscribe(&self, topic: &Topic) -> BoxStream<'static, Arc<Event>> {
        self.hub.subscribe(topic.as_str())
    }

    async fn check(&self) -> Result<(), String> {
        if !self.subscribed.load(Ordering::Relaxed) {
            return Err("redis: subscription not connected".into());
        }
        let mut conn = self.manager.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        match tokio::time::timeout(Duration::from_secs(2), ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("redis: {e}")),
            Err(_) => Err("redis: ping timed out".into()),
        }
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}

fn next_backoff(current: Duration) -> Duration {
    (current * 2).min(MAX_BACKOFF)
}

async fn subscriber_task(
    client: redis::Client,
    prefix: String,
    hub: Hub,
    subscribed: Arc<AtomicBool>,
    shutdown: CancellationToken,
) {
    let mut backoff = MIN_BACKOFF;
    let pattern = format!("{prefix}*");
    loop {
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.psubscribe(&pattern).await?;
            redis::RedisResult::Ok(pubsub)
        };
        let connected = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = tokio::time::timeout(Duration::from_secs(3), attempt) => r,
        };
        match connected {
            Ok(Ok(pubsub)) => {
                if backoff > MIN_BACKOFF {
                    tracing::info!("redis event subscription restored");
                }
                backoff = MIN_BACKOFF;
                subscribed.store(true, Ordering::Relaxed);
                hub.deliver(Event {
                    topic: Topic::bus_resumed().as_str().into(),
                    payload: serde_json::Value::Null,
                });
                let mut messages = pubsub.into_on_message();
                loop {
                    let msg = tokio::select! {
                        _ = shutdown.cancelled() => return,
                        m = messages.next() => m,
                    };
                    let Some(msg) = msg else { break };
                    let channel = msg.get_channel_name();
                    let Some(topic) = channel.strip_prefix(&prefix).and_then(Topic::from_wire) else {
                        continue;
                    };
                    // Every instance hears every event; most have nobody listening here.
                    if !hub.listens(topic.as_str()) {
                        continue;
                    }
                    match msg.get_payload::<String>().map(|p| serde_json::from_str(&p)) {
                        Ok(Ok(payload)) => hub.deliver(Event { topic: topic.as_str().into(), payload }),
                        _ => tracing::warn!(channel, "undecodable event on the bus ignored"),
                    }
                }
                subscribed.store(false, Ordering::Relaxed);
                tracing::warn!("redis event subscription lost; reconnecting");
            }
            Ok(Err(e)) => tracing::warn!(error = %e, retry_in = ?backoff, "redis subscribe failed"),
            Err(_) => tracing::warn!(retry_in = ?backoff, "redis subscribe timed out"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = next_backoff(backoff);
    }
}

/// Events sent to Redis in one pipeline at most: what queued up while the previous pipeline
/// was on its way goes together, in order.
const PIPELINE: usize = 256;

async fn publisher_task(
    mut conn: ConnectionManager,
    prefix: String,
    mut rx: mpsc::Receiver<Event>,
    shutdown: CancellationToken,
) {
    let mut batch = Vec::with_capacity(PIPELINE);
    // One round trip per pipeline instead of per event: a busy engine publishes thousands
    // of events a second, which one at a time kept Redis and this task busy with the
    // round trips alone.
    while rx.recv_many(&mut batch, PIPELINE).await > 0 {
        let mut pipe = redis::pipe();
        for event in batch.drain(..) {
            pipe.cmd("PUBLISH")
                .arg(format!("{prefix}{}", event.topic))
                .arg(event.payload.to_string())
                .ignore();
        }
        let mut backoff = MIN_BACKOFF;
        loop {
            let sent: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
            match sent {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "redis publish failed; will retry");
                    tokio::select! {
                        // On shutdown, stop retrying: the process is going away.
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = next_backoff(backoff);
                }
            }
        }
    }
}

/// One lazily opened Redis connection (multiplexed, reconnecting) for the features that
/// keep shared state in Redis — rate limits, persisted queries. Connecting waits until
/// first use, so an instance starts while Redis is still coming up; an unreachable Redis
/// is logged and reported as `None`, and each caller decides how to carry on without it.
#[derive(Clone)]
pub struct SharedRedis {
    client: redis::Client,
    conn: std::sync::Arc<tokio::sync::OnceCell<redis::aio::ConnectionManager>>,
    /// The deployment's key prefix (`ZYGO_REDIS_PREFIX`).
    pub prefix: String,
    /// Counters this instance adds to by group commit ([`super::tally`]).
    pub tally: super::tally::Tally,
}

impl SharedRedis {
    pub fn open(url: &str, prefix: &str) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            conn: Default::default(),
            prefix: prefix.to_string(),
            tally: Default::default(),
        })
    }

    /// The connection, or `None` (logged for `what`) while Redis cannot be reached.
    pub async fn connection(&self, what: &str) -> Option<redis::aio::ConnectionManager> {
        match self.conn.get_or_try_init(|| self.client.get_connection_manager()).await {
            Ok(c) => Some(c.clone()),
            Err(e) => {
                tracing::warn!(error = %e, "{what}: Redis unreachable");
                None
            }
        }
    }
}
