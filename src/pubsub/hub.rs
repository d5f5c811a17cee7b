//! Local fan-out: topic name → broadcast channel of this process's subscribers.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use futures::{StreamExt, stream::BoxStream};
use tokio::sync::broadcast;

use super::Event;

/// How many events a slow subscriber may fall behind before it skips some.
const CHANNEL_CAPACITY: usize = 256;

/// The subscribers of this process, by topic. Channels are removed when their last
/// subscriber leaves, so idle topics cost nothing.
#[derive(Clone, Default)]
pub struct Hub {
    topics: Arc<Mutex<HashMap<String, broadcast::Sender<Arc<Event>>>>>,
}

impl Hub {
    /// Delivers `event` to this process's subscribers of its topic.
    pub fn deliver(&self, event: Event) {
        let topics = self.topics.lock().expect("hub lock");
        if let Some(tx) = topics.get(&event.topic) {
            let _ = tx.send(Arc::new(event));
        }
    }

    /// Whether this process has a subscriber of `topic` (an event nobody here listens to
    /// need not be decoded).
    pub fn listens(&self, topic: &str) -> bool {
        self.topics.lock().expect("hub lock").contains_key(topic)
    }

    /// A stream of the events of `topic`. When it is dropped and no other subscriber is left,
    /// the topic's channel is removed.
    pub fn subscribe(&self, topic: &str) -> BoxStream<'static, Arc<Event>> {
        let rx = {
            let mut topics = self.topics.lock().expect("hub lock");
            topics
                .entry(topic.to_string())
                .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
                .subscribe()
        };
        let sub = Subscription { rx: Some(rx), topic: topic.to_string(), hub: self.clone() };
        futures::stream::unfold(sub, |mut sub| async move {
            loop {
                match sub.rx.as_mut()?.recv().await {
                    Ok(event) => return Some((event, sub)),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(topic = %sub.topic, skipped = n, "slow subscriber skipped events");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .boxed()
    }

    /// Number of topics with at least one local subscriber.
    pub fn topic_count(&self) -> usize {
        self.topics.lock().expect("hub lock").len()
    }
}

struct Subscription {
    rx: Option<broadcast::Receiver<Arc<Event>>>,
    topic: String,
    hub: Hub,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.rx.take());
        let mut topics = self.hub.topics.lock().expect("hub lock");
        if topics.get(&self.topic).is_some_and(|tx| tx.receiver_count() == 0) {
            topics.remove(&self.topic);
        }
    }
}
