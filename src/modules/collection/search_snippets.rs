//! Highlighted extracts of matching records' text (FTS5's `snippet`, PostgreSQL's
//! `ts_headline`), marked with [`MARK_START`] / [`MARK_END`], and their split into plain and
//! highlighted parts for the API.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use super::search::{MARK_END, MARK_START, Sql, Term, fts5_query, tsquery};
use crate::error::AppResult;

/// Highlighted extracts of the text of `ids` for `words`, in one statement.
pub(super) async fn snippets(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    words: &[Term],
    ids: Vec<Uuid>,
) -> AppResult<std::collections::HashMap<Uuid, String>> {
    let backend = db.get_database_backend();
    let mut q = Sql { backend, text: String::new(), values: Vec::new() };
    if backend == DbBackend::Postgres {
        let w = q.bind(tsquery(words));
        let opts = q.bind(format!(
            "StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=24, MinWords=8, ShortWord=1, MaxFragments=2, FragmentDelimiter=\" … \""
        ));
        let t = q.bind(tenant);
        q.push(&format!(
            "SELECT r.id, ts_headline('simple', r.text, to_tsquery('simple', {w}), {opts}) AS snippet \
             FROM collection_records r WHERE r.tenant_id = {t} AND r.id IN ("
        ));
    } else {
        let (a, b) = (q.bind(MARK_START.to_string()), q.bind(MARK_END.to_string()));
        let w = q.bind(fts5_query(words));
        let t = q.bind(tenant);
        q.push(&format!(
            "SELECT r.id, snippet(collection_records_fts, 0, {a}, {b}, '…', 16) AS snippet \
             FROM collection_records_fts JOIN collection_records r ON r.rowid = collection_records_fts.rowid \
             WHERE collection_records_fts MATCH {w} AND r.tenant_id = {t} AND r.id IN ("
        ));
    }
    let placeholders: Vec<String> = ids.into_iter().map(|i| q.bind(i)).collect();
    q.push(&placeholders.join(", "));
    q.push(")");
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, q.text, q.values)).await?;
    let mut out = std::collections::HashMap::new();
    for r in rows {
        out.insert(r.try_get::<Uuid>("", "id")?, r.try_get::<String>("", "snippet")?);
    }
    Ok(out)
}

/// A snippet split into plain and highlighted parts, in order.
pub fn parts(snippet: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut marked = false;
    for ch in snippet.chars() {
        if ch == MARK_START || ch == MARK_END {
            if !cur.is_empty() {
                out.push((std::mem::take(&mut cur), marked));
            }
            marked = ch == MARK_START;
        } else {
            cur.push(ch);
        }
    }
    if !cur.is_empty() {
        out.push((cur, marked));
    }
    out
}
