//! Persisted queries: the automatic persisted queries protocol (a client sends
//! `extensions.persistedQuery.sha256Hash`, and the query text only when the server answers
//! `PersistedQueryNotFound`), with the texts kept in Redis when configured (shared by all
//! instances) or in memory. With `ZYGO_PERSISTED_QUERIES_ONLY=true` only the operation
//! documents shipped in `graphql/` run — the frontend's and the documented ones — by hash or
//! by text; anything else is refused.
//!
//! The store is bounded: in memory an LRU capped in entries and bytes, in Redis a TTL and a
//! budget of new texts per owner (user, API key's tenant, or all anonymous callers). A text
//! is stored only after its request was admitted (size, parse, limits, rate limit).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use crate::pubsub::redis::SharedRedis;
use async_graphql::Request;
use sha2::{Digest, Sha256};

static DOCUMENTS: include_dir::Dir<'_> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/graphql");

/// Hash → text of every document under `graphql/`.
fn known() -> &'static HashMap<String, String> {
    static KNOWN: OnceLock<HashMap<String, String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let mut out = HashMap::new();
        let mut stack = vec![&DOCUMENTS];
        while let Some(dir) = stack.pop() {
            for entry in dir.entries() {
                match entry {
                    include_dir::DirEntry::Dir(d) => stack.push(d),
                    include_dir::DirEntry::File(f) => {
                        if let Some(text) = f.contents_utf8() {
                            out.insert(sha256(text), text.to_string());
                        }
                    }
                }
            }
        }
        out
    })
}

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Adds a text to Redis unless its owner's budget for this TTL window is spent. A text that is
/// already there only gets its TTL renewed (and costs no budget).
/// KEYS: text key, budget key. ARGV: text, TTL seconds, budget. Returns 1 when stored.
const REDIS_STORE: &str = r#"
if redis.call('EXPIRE', KEYS[1], ARGV[2]) == 1 then return 1 end
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
if n > tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"#;

/// The in-memory store: least recently used texts go first once either bound is reached.
struct Memory {
    texts: lru::LruCache<String, Arc<str>>,
    bytes: usize,
}

enum Store {
    Memory(Mutex<Memory>),
    Redis(SharedRedis),
}

/// The persisted-query registry of one instance. Cheap to clone.
///
/// Lookups happen at admission; a new text is stored only by [`PersistedQueries::store`],
/// which admission calls once the request passed every limit and the rate limiter — so a
/// refused or oversized text never takes memory here.
#[derive(Clone)]
pub struct PersistedQueries {
    store: Arc<Store>,
    only: bool,
    settings: crate::config::PersistedSettings,
}

/// Why a request cannot run: an error code and message.
pub type Refusal = (&'static str, String);

/// A text to register once its request is admitted: its hash and the text.
#[derive(Clone, Debug)]
pub struct Registration {
    pub hash: String,
    pub text: Arc<str>,
}

impl PersistedQueries {
    pub fn new(config: &crate::config::Config, redis: Option<SharedRedis>) -> Self {
        let settings = config.persisted;
        let store = match redis {
            Some(r) => Store::Redis(r),
            None => Store::Memory(Mutex::new(Memory { texts: lru::LruCache::unbounded(), bytes: 0 })),
        };
        Self { store: Arc::new(store), only: config.persisted_queries_only, settings }
    }

    /// Whether anonymous callers may register new texts (`ZYGO_PERSISTED_QUERIES_ANONYMOUS`).
    pub fn anonymous_may_register(&self) -> bool {
        self.settings.anonymous
    }

    async fn redis(&self) -> Option<(redis::aio::ConnectionManager, String)> {
        let Store::Redis(redis) = &*self.store else { return None };
        Some((redis.connection("persisted queries").await?, format!("{}:apq:", redis.prefix)))
    }

    async fn get(&self, hash: &str) -> Option<String> {
        if let Some(text) = known().get(hash) {
            return Some(text.clone());
        }
        if self.only {
            return None;
        }
        match &*self.store {
            // `get` marks the entry as recently used.
            Store::Memory(m) => m.lock().unwrap().texts.get(hash).map(|t| t.to_string()),
            Store::Redis { .. } => {
                let (mut conn, prefix) = self.redis().await?;
                redis::cmd("GET").arg(format!("{prefix}{hash}")).query_async(&mut conn).await.ok().flatten()
            }
        }
    }

    /// Keeps an admitted text. `owner` names whose budget a new Redis entry draws from
    /// (`user:…`, `tenant:…` or `anonymous`). Texts shipped in `graphql/` are never stored.
    pub async fn store(&self, registration: &Registration, owner: &str) {
        if self.only || known().contains_key(&registration.hash) {
            return;
        }
        match &*self.store {
            Store::Memory(m) => {
                let mut m = m.lock().unwrap();
                let size = registration.text.len();
                if size > self.settings.max_bytes {
                    return;
                }
                if let Some(old) = m.texts.put(registration.hash.clone(), registration.text.clone()) {
                    m.bytes -= old.len();
                }
                m.bytes += size;
                while m.texts.len() > self.settings.max_entries || m.bytes > self.settings.max_bytes {
                    match m.texts.pop_lru() {
                        Some((_, old)) => m.bytes -= old.len(),
                        None => break,
                    }
                }
            }
            Store::Redis { .. } => {
                if let Some((mut conn, prefix)) = self.redis().await {
                    let r: redis::RedisResult<i64> = redis::Script::new(REDIS_STORE)
                        .key(format!("{prefix}{}", registration.hash))
                        .key(format!("{prefix}budget:{owner}"))
                        .arg(&*registration.text)
                        .arg(self.settings.ttl.as_secs())
                        .arg(self.settings.budget)
                        .invoke_async(&mut conn)
                        .await;
                    match r {
                        Ok(1) => {}
                        Ok(_) => tracing::info!(owner, "persisted queries: budget spent; text not stored"),
                        Err(e) => tracing::warn!(error = %e, "persisted queries: not stored"),
                    }
                }
            }
        }
    }

    /// Resolves `extensions.persistedQuery` into the query text, and in persisted-only mode
    /// refuses anything but the shipped documents. Nothing is stored here: a hash sent with
    /// its text comes back as a [`Registration`] for admission to store once the request
    /// passed every limit.
    pub async fn resolve(&self, req: &mut Request) -> Result<Option<Registration>, Refusal> {
        let pq = req.extensions.remove("persistedQuery");
        let mut registration = None;
        if let Some(pq) = pq {
            let value = pq.into_json().unwrap_or_default();
            let hash = value.get("sha256Hash").and_then(|h| h.as_str()).map(str::to_ascii_lowercase);
            let version = value.get("version").and_then(|v| v.as_i64());
            let Some(hash) = hash.filter(|_| version == Some(1)) else {
                return Err((
                    "BAD_REQUEST",
                    "extensions.persistedQuery needs version 1 and a sha256Hash".into(),
                ));
            };
            if req.query.trim().is_empty() {
                // Apollo clients look for this exact message to send the text.
                req.query = self
                    .get(&hash)
                    .await
                    .ok_or(("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound".into()))?;
                return Ok(None);
            }
            if sha256(&req.query) != hash {
                return Err((
                    "BAD_REQUEST",
                    "extensions.persistedQuery.sha256Hash does not match the query".into(),
                ));
            }
            if !self.only && !known().contains_key(&hash) {
                registration = Some(Registration { hash, text: Arc::from(req.query.as_str()) });
            }
        }
        if self.only && !known().contains_key(&sha256(&req.query)) {
            return Err((
                "PERSISTED_QUERY_NOT_ALLOWED",
                "only the operations shipped with this deployment run here (ZYGO_PERSISTED_QUERIES_ONLY)"
                    .into(),
            ));
        }
        Ok(registration)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_documents_are_known() {
        let known = super::known();
        assert!(known.len() > 50, "{}", known.len());
        assert!(known.values().any(|t| t.contains("mutation LogIn(")));
    }
}
