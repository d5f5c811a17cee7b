//! Coalescing of a member's updates: at most one send per interval per key, the latest
//! pending one winning, and the last of a burst always sent when its interval ends (nothing
//! is lost at the end of a burst). Timing here is the process's monotonic time: it paces
//! traffic and decides nothing that a test asserts on the clock.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::future::BoxFuture;
use tokio::time::Instant;

/// Keys kept without a pending send before stale ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

struct Slot {
    last_sent: Instant,
    /// The latest send held back, run when the interval ends.
    pending: Option<BoxFuture<'static, ()>>,
    /// A task waits to run `pending`.
    armed: bool,
}

/// Per-key pacing of sends.
pub struct Throttle {
    interval: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

impl Throttle {
    /// At most one send per `interval` per key.
    pub fn new(interval: Duration) -> Self {
        Self { interval, slots: Mutex::default() }
    }

    /// Runs `send` now (awaited here) when `key` sent nothing within the interval; otherwise
    /// keeps it in place of any earlier held one, to run when the interval ends.
    pub async fn submit(self: &Arc<Self>, key: &str, send: BoxFuture<'static, ()>) {
        let now = Instant::now();
        let run_now = {
            let mut slots = self.slots.lock().expect("throttle lock");
            if slots.len() > PRUNE_ABOVE {
                let interval = self.interval;
                slots.retain(|_, s| s.armed || now.duration_since(s.last_sent) < interval);
            }
            match slots.get_mut(key) {
                Some(slot) if now.duration_since(slot.last_sent) < self.interval || slot.armed => {
                    slot.pending = Some(send);
                    if !slot.armed {
                        slot.armed = true;
                        let at = slot.last_sent + self.interval;
                        let (me, key) = (self.clone(), key.to_string());
                        tokio::spawn(async move {
                            tokio::time::sleep_until(at).await;
                            me.flush(&key).await;
                        });
                    }
                    None
                }
                Some(slot) => {
                    slot.last_sent = now;
                    Some(send)
                }
                None => {
                    slots.insert(key.to_string(), Slot { last_sent: now, pending: None, armed: false });
                    Some(send)
                }
            }
        };
        if let Some(send) = run_now {
            send.await;
        }
    }

    async fn flush(&self, key: &str) {
        let send = {
            let mut slots = self.slots.lock().expect("throttle lock");
            let Some(slot) = slots.get_mut(key) else { return };
            slot.armed = false;
            let send = slot.pending.take();
            if send.is_some() {
                slot.last_sent = Instant::now();
            }
            send
        };
        if let Some(send) = send {
            send.await;
        }
    }

    /// Forgets `key` and drops its held send (the member left: nothing of it may follow).
    pub fn forget(&self, key: &str) {
        self.slots.lock().expect("throttle lock").remove(key);
    }

    /// Keys currently tracked (for tests and the benchmark's memory figure).
    pub fn len(&self) -> usize {
        self.slots.lock().expect("throttle lock").len()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    #[tokio::test]
    async fn a_burst_sends_its_first_and_its_last() {
        let t = Arc::new(Throttle::new(Duration::from_millis(50)));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (last_tx, last_rx) = tokio::sync::oneshot::channel();
        let mut last_tx = Some(last_tx);
        for i in 0..100 {
            let sent = sent.clone();
            let done = if i == 99 { last_tx.take() } else { None };
            t.submit(
                "k",
                async move {
                    sent.lock().unwrap().push(i);
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                }
                .boxed(),
            )
            .await;
        }
        assert_eq!(sent.lock().unwrap()[0], 0, "the first goes at once");
        // Wait for the held one to run (the event, not a guess at the time it takes).
        last_rx.await.expect("the last of the burst is sent");
        let sent = sent.lock().unwrap().clone();
        // Within one interval only the first and the last go; a stall of the loop past an
        // interval may let one more through, never all.
        assert_eq!(sent.last(), Some(&99), "the latest of the burst wins: {sent:?}");
        assert!(sent.len() < 10, "a burst of 100 was sent as {} sends", sent.len());
        t.forget("k");
        assert!(t.is_empty());
    }
}
