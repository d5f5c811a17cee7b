//! Persisted queries: the automatic persisted queries protocol (a client sends
//! `extensions.persistedQuery.sha256Hash`, and the query text only when the server answers
//! `PersistedQueryNotFound`), with the texts kept in Redis when configured (shared by all
//! instances) or in memory. With `ZYGO_PERSISTED_QUERIES_ONLY=true` only the operation
//! documents shipped in `graphql/` run — the frontend's and the documented ones — by hash or
//! by text; anything else is refused.

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

/// Texts registered by clients, most recent ones kept.
const MEMORY_ENTRIES: usize = 10_000;
/// How long Redis keeps a registered text.
const REDIS_TTL_SECS: u64 = 7 * 24 * 3600;

enum Store {
    Memory(Mutex<HashMap<String, String>>),
    Redis(SharedRedis),
}

/// The persisted-query registry of one instance. Cheap to clone.
#[derive(Clone)]
pub struct PersistedQueries {
    store: Arc<Store>,
    only: bool,
}

/// Why a request cannot run: an error code and message.
pub type Refusal = (&'static str, String);

impl PersistedQueries {
    pub fn new(config: &crate::config::Config, redis: Option<SharedRedis>) -> Self {
        let store = match redis {
            Some(r) => Store::Redis(r),
            None => Store::Memory(Mutex::default()),
        };
        Self { store: Arc::new(store), only: config.persisted_queries_only }
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
            Store::Memory(m) => m.lock().unwrap().get(hash).cloned(),
            Store::Redis { .. } => {
                let (mut conn, prefix) = self.redis().await?;
                redis::cmd("GET").arg(format!("{prefix}{hash}")).query_async(&mut conn).await.ok().flatten()
            }
        }
    }

    async fn put(&self, hash: String, text: &str) {
        match &*self.store {
            Store::Memory(m) => {
                let mut m = m.lock().unwrap();
                if m.len() >= MEMORY_ENTRIES {
                    m.clear();
                }
                m.insert(hash, text.to_string());
            }
            Store::Redis { .. } => {
                if let Some((mut conn, prefix)) = self.redis().await {
                    let r: redis::RedisResult<()> = redis::cmd("SET")
                        .arg(format!("{prefix}{hash}"))
                        .arg(text)
                        .arg("EX")
                        .arg(REDIS_TTL_SECS)
                        .query_async(&mut conn)
                        .await;
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "persisted queries: not stored");
                    }
                }
            }
        }
    }

    /// Resolves `extensions.persistedQuery` into the query text (registering a new text),
    /// and in persisted-only mode refuses anything but the shipped documents.
    pub async fn resolve(&self, req: &mut Request) -> Result<(), Refusal> {
        let pq = req.extensions.remove("persistedQuery");
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
                return Ok(());
            }
            if sha256(&req.query) != hash {
                return Err((
                    "BAD_REQUEST",
                    "extensions.persistedQuery.sha256Hash does not match the query".into(),
                ));
            }
            if !self.only {
                self.put(hash, &req.query.clone()).await;
            }
        }
        if self.only && !known().contains_key(&sha256(&req.query)) {
            return Err((
                "PERSISTED_QUERY_NOT_ALLOWED",
                "only the operations shipped with this deployment run here (ZYGO_PERSISTED_QUERIES_ONLY)"
                    .into(),
            ));
        }
        Ok(())
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
