//! Counters in Redis, added to by group commit: an operation adds to a local tally and goes
//! on; what was added within [`DELAY`] reaches Redis as one script call (`INCRBY` and
//! `EXPIRE` per key) instead of one round trip per addition.
//!
//! For counts nobody is refused on (an organisation's API operations under a plan without a
//! hard limit, see `modules::billing::metering`). A reader calls [`Tally::flush`] first, so
//! what this instance added is in Redis before it reads; what other instances added arrives
//! within their `DELAY`. Each batch carries an id that the script records, so a batch whose
//! sending failed is kept as it is and sent again without counting twice: nothing is lost
//! while the process lives, and a graceful shutdown flushes. A crash loses at most the last
//! `DELAY` of additions.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use super::redis::SharedRedis;

/// How long additions gather before they are sent.
pub const DELAY: Duration = Duration::from_millis(100);

/// What is waiting to be added per key: the amount and the key's time to live (seconds).
type Counts = HashMap<String, (i64, i64)>;

/// Counts sent together, once: the script adds them only if their id was not seen before,
/// so a batch whose answer was lost can be sent again without counting twice.
struct Batch {
    id: uuid::Uuid,
    counts: Counts,
}

/// Marks the batch `KEYS[1]` as added (for `ARGV[1]` seconds) and adds `ARGV[2i]` to
/// `KEYS[i+1]` with the time to live `ARGV[2i+1]`, unless the batch was added before.
/// A script runs whole or not at all.
const ADD_ONCE: &str = r#"
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) then return 0 end
for i = 2, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[2 * i - 2])
  redis.call('EXPIRE', KEYS[i], ARGV[2 * i - 1])
end
return 1
"#;

static SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| redis::Script::new(ADD_ONCE));

/// How long a batch's id is remembered: far longer than any retry.
const BATCH_MEMORY_SECS: i64 = 24 * 3600;

/// This instance's additions not yet in Redis. Cheap to clone.
#[derive(Clone, Default)]
pub struct Tally(Arc<Parts>);

#[derive(Default)]
struct Parts {
    pending: Mutex<Counts>,
    /// A flush is scheduled (a task waits out [`DELAY`]).
    scheduled: AtomicBool,
    /// Held while a batch is on its way, so a reader's flush waits for it; holds a batch
    /// whose sending failed, to be sent again as it is.
    sending: tokio::sync::Mutex<Option<Batch>>,
}

impl Tally {
    /// Adds `n` to `key` (kept `ttl_secs` after the last addition) within [`DELAY`].
    pub fn add(&self, redis: &SharedRedis, key: String, n: i64, ttl_secs: i64) {
        {
            let mut pending = self.0.pending.lock().expect("tally");
            let entry = pending.entry(key).or_insert((0, ttl_secs));
            entry.0 += n;
            entry.1 = entry.1.max(ttl_secs);
        }
        self.schedule(redis);
    }

    fn schedule(&self, redis: &SharedRedis) {
        if self.0.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let (tally, redis) = (self.clone(), redis.clone());
        tokio::spawn(async move {
            tokio::time::sleep(DELAY).await;
            tally.0.scheduled.store(false, Ordering::Release);
            if !tally.flush(&redis).await {
                tally.schedule(&redis);
            }
        });
    }

    /// Sends a batch that failed before, then everything added so far, and waits until it
    /// is in Redis (a flush already on its way included). `false` when Redis failed: the
    /// batch is kept and sent again, as it is, by the next flush.
    pub async fn flush(&self, redis: &SharedRedis) -> bool {
        let mut unsent = self.0.sending.lock().await;
        if let Some(batch) = unsent.take()
            && let Err(batch) = send(redis, batch).await
        {
            *unsent = Some(batch);
            return false;
        }
        let counts = std::mem::take(&mut *self.0.pending.lock().expect("tally"));
        if counts.is_empty() {
            return true;
        }
        match send(redis, Batch { id: uuid::Uuid::now_v7(), counts }).await {
            Ok(()) => true,
            Err(batch) => {
                *unsent = Some(batch);
                false
            }
        }
    }
}

/// Adds `batch` once; gives it back when Redis failed.
async fn send(redis: &SharedRedis, batch: Batch) -> Result<(), Batch> {
    let Some(mut conn) = redis.connection("tally").await else { return Err(batch) };
    let mut invocation = SCRIPT.key(format!("{}:tally:{}", redis.prefix, batch.id));
    invocation.arg(BATCH_MEMORY_SECS);
    for (key, (n, ttl)) in &batch.counts {
        invocation.key(key).arg(*n).arg(*ttl);
    }
    match invocation.invoke_async::<i64>(&mut conn).await {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, keys = batch.counts.len(), "tally: Redis failed; the batch is sent again");
            Err(batch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test Redis (as `scripts/test.sh` passes it); unreachable, the test fails.
    fn redis_url() -> String {
        std::env::var("ZYGO_TEST_REDIS_URL")
            .or_else(|_| std::env::var("ZYGO_TEST_CROSS_INSTANCE_REDIS_URL"))
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }

    async fn get(redis: &SharedRedis, key: &str) -> i64 {
        let mut conn = redis.connection("test").await.expect("the test needs Redis");
        redis::cmd("GET").arg(key).query_async::<Option<i64>>(&mut conn).await.unwrap().unwrap_or(0)
    }

    #[tokio::test]
    async fn additions_arrive_once_whether_flushed_sent_again_or_kept_through_a_failure() {
        let prefix = format!("zygo-test-tally-{}", uuid::Uuid::new_v4().simple());
        let redis = SharedRedis::open(&redis_url(), &prefix).unwrap();
        let key = format!("{prefix}:counter");
        let tally = Tally::default();

        tally.add(&redis, key.clone(), 2, 60);
        tally.add(&redis, key.clone(), 3, 60);
        assert!(tally.flush(&redis).await);
        assert_eq!(get(&redis, &key).await, 5, "a reader's flush puts everything added in");

        // A batch whose answer was lost is sent again as it is: counted once.
        let batch = || Batch { id: uuid::Uuid::from_u128(7), counts: [(key.clone(), (7, 60))].into() };
        assert!(send(&redis, batch()).await.is_ok());
        assert!(send(&redis, batch()).await.is_ok());
        assert_eq!(get(&redis, &key).await, 12);

        // Redis unreachable: the counts are kept and reach Redis with the next flush.
        let down = SharedRedis::open("redis://127.0.0.1:1", &prefix).unwrap();
        tally.add(&down, key.clone(), 4, 60);
        assert!(!tally.flush(&down).await);
        assert!(tally.flush(&redis).await);
        assert_eq!(get(&redis, &key).await, 16);

        // Nobody flushing: the scheduled flush sends it (waited for by reading, not a sleep).
        tally.add(&redis, key.clone(), 1, 60);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while get(&redis, &key).await != 17 {
            assert!(tokio::time::Instant::now() < deadline, "the scheduled flush never came");
            tokio::task::yield_now().await;
        }
        let mut conn = redis.connection("test").await.unwrap();
        let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut conn).await.unwrap();
        assert!(ttl > 0 && ttl <= 60, "the counter keeps its time to live: {ttl}");
    }
}
