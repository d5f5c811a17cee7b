//! Keyword search in a memory store, for Memory Search and RAG Context nodes.

use std::collections::BTreeSet;

use entity::memory_record;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::{acting_access, require};
use crate::modules::workflows::{
    nodes::{NodeError, config},
    runtime::Runner,
};

/// The configuration of Memory Search and RAG Context nodes.
#[derive(Deserialize)]
pub(crate) struct SearchConfig {
    #[serde(deserialize_with = "config::string")]
    pub store: String,
    #[serde(deserialize_with = "config::string")]
    pub query: String,
    #[serde(default, deserialize_with = "config::lenient")]
    pub limit: Option<u64>,
}

fn keywords(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Records of a store ranked by how many of the query's keywords they contain (then by
/// how often), newest first on ties.
pub(crate) async fn search(runner: &Runner, config: &SearchConfig) -> Result<Vec<Value>, NodeError> {
    use sea_orm::sea_query::ExprTrait;
    require(&acting_access(runner).await?, crate::auth::Permission::WorkflowRead, "memory")?;
    let (store, query) = (config.store.as_str(), config.query.as_str());
    let limit = Ord::min(config.limit.unwrap_or(5), 100) as usize;
    let words = keywords(query);
    if words.is_empty() {
        return Ok(vec![]);
    }
    let mut cond = sea_orm::Condition::any();
    for w in &words {
        cond = cond.add(memory_record::Column::Content.like(format!("%{w}%")));
    }
    // LIKE is case-insensitive for ASCII on SQLite but not on PostgreSQL: compare lower-cased.
    let mut lower_cond = sea_orm::Condition::any();
    for w in &words {
        lower_cond = lower_cond.add(
            sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::lower(sea_orm::sea_query::Expr::col(
                memory_record::Column::Content,
            )))
            .like(format!("%{w}%")),
        );
    }
    let _ = cond;
    let rows = runner
        .scope
        .find::<memory_record::Entity>()
        .filter(memory_record::Column::Store.eq(store))
        .filter(lower_cond)
        .order_by_desc(memory_record::Column::Id)
        .limit(2000)
        .all(&runner.scope.on(&runner.app.db))
        .await?;
    let mut scored: Vec<(usize, usize, memory_record::Model)> = rows
        .into_iter()
        .map(|r| {
            let text = r.content.to_lowercase();
            let hits = words.iter().filter(|w| text.contains(w.as_str())).count();
            let count = words.iter().map(|w| text.matches(w.as_str()).count()).sum();
            (hits, count, r)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(b.2.id.cmp(&a.2.id)));
    Ok(scored
        .into_iter()
        .take(limit)
        .map(|(hits, _, r)| {
            json!({
                "id": r.id,
                "content": r.content,
                "metadata": r.metadata,
                "score": hits as f64 / words.len() as f64,
            })
        })
        .collect())
}
