//! The in-process event bus of the embedded default: one process, no services.

use std::sync::Arc;

use futures::stream::BoxStream;

use super::{Event, EventBus, Topic, hub::Hub};

/// Delivers events to subscribers of this process only.
#[derive(Clone, Default)]
pub struct MemoryBus {
    hub: Hub,
}

#[async_trait::async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, topic: &Topic, payload: serde_json::Value) {
        self.hub.deliver(Event { topic: topic.as_str().to_string(), payload });
    }

    fn subscribe(&self, topic: &Topic) -> BoxStream<'static, Arc<Event>> {
        self.hub.subscribe(topic.as_str())
    }

    async fn check(&self) -> Result<(), String> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
