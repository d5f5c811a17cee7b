//! Searching collected records: full-text search (SQLite FTS5 `collection_records_fts`,
//! PostgreSQL `search_vector` — see migration `m20261204_000055`) with highlighted snippets,
//! filters (dates, engagement ranges, platform, service, author, hashtag, URL, job), sort by
//! date, each metric or relevance in either direction, and keyset paging whose cursor carries
//! the sort key, so a page never skips or repeats a row whatever the sort.
//!
//! One statement for the page, one for the total, one for the page's snippets. Owns no
//! table; reads `collection_records` of one project (optionally one folder).

use chrono::{DateTime, TimeZone, Utc};
use entity::collection_record;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, Statement, Value,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use super::search_page::{Cursor, SearchWindow};
pub use super::search_snippets::parts;
use super::search_snippets::snippets;
use crate::error::{AppError, AppResult};

/// Marks around a matched term inside a snippet (private-use characters: never shown).
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';

/// Filters of a records query (all given ones apply).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RecordFilter {
    /// Words that must all appear in the text, author or hashtags (`word*`: a prefix).
    pub search: Option<String>,
    pub platform: Option<String>,
    pub service_type: Option<String>,
    pub author: Option<String>,
    pub hashtag: Option<String>,
    /// Records whose URL contains this.
    pub url: Option<String>,
    pub job: Option<Uuid>,
    pub posted_from: Option<DateTime<Utc>>,
    pub posted_to: Option<DateTime<Utc>>,
    pub min_likes: Option<i64>,
    pub max_likes: Option<i64>,
    pub min_comments: Option<i64>,
    pub max_comments: Option<i64>,
    pub min_shares: Option<i64>,
    pub max_shares: Option<i64>,
    pub min_views: Option<i64>,
    pub max_views: Option<i64>,
}

/// What records are ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SortField {
    /// Collection order (oldest first ascending).
    #[default]
    Collected,
    PostedAt,
    Likes,
    Comments,
    Shares,
    Views,
    /// Best match first descending; needs search words.
    Relevance,
}

/// A sort: field and direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl SortField {
    pub(super) fn tag(self) -> &'static str {
        match self {
            Self::Collected => "c",
            Self::PostedAt => "p",
            Self::Likes => "l",
            Self::Comments => "m",
            Self::Shares => "s",
            Self::Views => "v",
            Self::Relevance => "r",
        }
    }
}

/// One record found, with its cursor and (when searching words) its highlighted snippet.
#[derive(Clone, Debug)]
pub struct Hit {
    pub record: collection_record::Model,
    pub cursor: Cursor,
    pub snippet: Option<String>,
}

/// One page of hits.
#[derive(Clone, Debug)]
pub struct Hits {
    pub hits: Vec<Hit>,
    pub total: u64,
    pub has_previous: bool,
    pub has_next: bool,
}

/// Which records a search reads: one project's, or one folder's.
#[derive(Clone, Copy, Debug)]
pub enum Within {
    Project(Uuid),
    Folder(Uuid),
}

/// A search term: lower-case letters and digits, maybe a prefix.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub word: String,
    pub prefix: bool,
}

/// The words of `q` as the index sees them (split on anything but letters and digits, lower
/// case); a word ending in `*` is a prefix. At most 10.
pub fn terms(q: &str) -> Vec<Term> {
    let mut out = Vec::new();
    for w in q.split_whitespace() {
        let prefix = w.ends_with('*');
        let parts: Vec<String> = w
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| !p.is_empty())
            .map(str::to_lowercase)
            .collect();
        let n = parts.len();
        for (i, p) in parts.into_iter().enumerate() {
            out.push(Term { word: p, prefix: prefix && i + 1 == n });
        }
    }
    out.truncate(10);
    out
}

pub(super) fn fts5_query(t: &[Term]) -> String {
    t.iter()
        .map(|t| format!("\"{}\"{}", t.word, if t.prefix { "*" } else { "" }))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn tsquery(t: &[Term]) -> String {
    t.iter()
        .map(|t| format!("{}{}", t.word, if t.prefix { ":*" } else { "" }))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// Checks a filter: each range in order, no negative count, sizes; errors name the field
/// under `prefix` (`filter`, `input.filter`).
pub fn validate(prefix: &str, f: &RecordFilter) -> AppResult<()> {
    let field = |n: &str| format!("{prefix}.{n}");
    if let Some(q) = &f.search
        && q.chars().count() > 200
    {
        return Err(AppError::validation(field("search"), "at most 200 characters"));
    }
    for (name, v) in [
        ("platform", &f.platform),
        ("serviceType", &f.service_type),
        ("author", &f.author),
        ("hashtag", &f.hashtag),
        ("url", &f.url),
    ] {
        if v.as_ref().is_some_and(|s| s.chars().count() > 300) {
            return Err(AppError::validation(field(name), "at most 300 characters"));
        }
    }
    let ranges = [
        ("Likes", f.min_likes, f.max_likes),
        ("Comments", f.min_comments, f.max_comments),
        ("Shares", f.min_shares, f.max_shares),
        ("Views", f.min_views, f.max_views),
    ];
    for (name, min, max) in ranges {
        if min.is_some_and(|n| n < 0) {
            return Err(AppError::validation(field(&format!("min{name}")), "must not be negative"));
        }
        if max.is_some_and(|n| n < 0) {
            return Err(AppError::validation(field(&format!("max{name}")), "must not be negative"));
        }
        if let (Some(a), Some(b)) = (min, max)
            && a > b
        {
            return Err(AppError::validation(field(&format!("max{name}")), format!("below min{name}")));
        }
    }
    if let (Some(a), Some(b)) = (f.posted_from, f.posted_to)
        && a >= b
    {
        return Err(AppError::validation(field("postedTo"), "must be after postedFrom"));
    }
    Ok(())
}

/// A statement under construction: SQL text and its values, placeholders per backend.
pub(super) struct Sql {
    pub(super) backend: DbBackend,
    pub(super) text: String,
    pub(super) values: Vec<Value>,
}

impl Sql {
    pub(super) fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_string(),
        }
    }
    pub(super) fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }
}

fn like_pattern(s: &str) -> String {
    format!("%{}%", s.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// The date NULL `posted_at` sorts as (before every real one).
fn no_date() -> DateTime<Utc> {
    Utc.timestamp_opt(0, 0).single().expect("epoch")
}

const COLUMNS: &str = "r.id, r.tenant_id, r.folder_id, r.job_id, r.platform, r.service_type, r.external_id, \
                       r.url, r.author, r.text, r.hashtags, r.mentions, r.posted_at, r.likes, r.comments, \
                       r.shares, r.views, r.raw, r.created_at, r.updated_at";

/// The inner statement: `columns` of the matching records with their sort key `zkey`.
fn matching(
    columns: &str,
    backend: DbBackend,
    tenant: Uuid,
    within: Within,
    f: &RecordFilter,
    sort: Sort,
    words: &[Term],
) -> AppResult<Sql> {
    let mut q = Sql { backend, text: String::new(), values: Vec::new() };
    let pg = backend == DbBackend::Postgres;
    let key = match sort.field {
        SortField::Collected => "0".to_string(),
        SortField::PostedAt => format!("COALESCE(r.posted_at, {})", q.bind(no_date())),
        SortField::Likes => "r.likes".into(),
        SortField::Comments => "r.comments".into(),
        SortField::Shares => "r.shares".into(),
        SortField::Views => "r.views".into(),
        SortField::Relevance if words.is_empty() => {
            return Err(AppError::validation("sort.field", "RELEVANCE needs search words"));
        }
        // Higher is better on both: bm25 is negative-better, ts_rank positive-better.
        SortField::Relevance if pg => {
            let v = q.bind(tsquery(words));
            format!("CAST(ts_rank(r.search_vector, to_tsquery('simple', {v})) AS DOUBLE PRECISION)")
        }
        SortField::Relevance => "(0.0 - bm25(collection_records_fts))".into(),
    };
    if !words.is_empty() && !pg {
        // The index drives: CROSS JOIN keeps SQLite from walking every record of the
        // organisation and asking the index about each (1M records: 110 s against 20 ms).
        q.push(&format!(
            "SELECT {columns}, {key} AS zkey FROM collection_records_fts \
             CROSS JOIN collection_records r ON collection_records_fts.rowid = r.rowid"
        ));
    } else {
        q.push(&format!("SELECT {columns}, {key} AS zkey FROM collection_records r"));
    }
    let t = q.bind(tenant);
    q.push(&format!(" WHERE r.tenant_id = {t}"));
    match within {
        Within::Folder(id) => {
            // Its own records and those copied into it.
            let (v, t2, v2) = (q.bind(id), q.bind(tenant), q.bind(id));
            q.push(&format!(
                " AND (r.folder_id = {v} OR r.id IN (SELECT record_id FROM collection_record_copies \
                 WHERE tenant_id = {t2} AND folder_id = {v2}))"
            ));
        }
        Within::Project(id) => {
            // Placeholders are positional on SQLite: bind the tenant again.
            let (t2, v) = (q.bind(tenant), q.bind(id));
            q.push(&format!(
                " AND r.folder_id IN (SELECT id FROM collection_folders WHERE tenant_id = {t2} AND project_id = {v})"
            ));
        }
    }
    if !words.is_empty() {
        if pg {
            let v = q.bind(tsquery(words));
            q.push(&format!(" AND r.search_vector @@ to_tsquery('simple', {v})"));
        } else {
            let v = q.bind(fts5_query(words));
            q.push(&format!(" AND collection_records_fts MATCH {v}"));
        }
    }
    for (col, v) in [("platform", &f.platform), ("service_type", &f.service_type), ("author", &f.author)] {
        if let Some(v) = v {
            let p = q.bind(v.clone());
            q.push(&format!(" AND r.{col} = {p}"));
        }
    }
    if let Some(h) = &f.hashtag {
        let tag = h.trim_start_matches('#').to_lowercase();
        // Tags are a JSON array of strings: match the quoted tag in its text.
        let pat = format!("%\"{}\"%", tag.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let p = q.bind(pat);
        let cast = if pg { "CAST(r.hashtags AS TEXT)" } else { "r.hashtags" };
        q.push(&format!(" AND {cast} LIKE {p} ESCAPE '\\'"));
    }
    if let Some(u) = &f.url {
        let p = q.bind(like_pattern(u));
        q.push(&format!(" AND LOWER(r.url) LIKE {p} ESCAPE '\\'"));
    }
    if let Some(j) = f.job {
        let p = q.bind(j);
        q.push(&format!(" AND r.job_id = {p}"));
    }
    if let Some(d) = f.posted_from {
        let p = q.bind(d);
        q.push(&format!(" AND r.posted_at >= {p}"));
    }
    if let Some(d) = f.posted_to {
        let p = q.bind(d);
        q.push(&format!(" AND r.posted_at < {p}"));
    }
    let ranges = [
        ("likes", f.min_likes, f.max_likes),
        ("comments", f.min_comments, f.max_comments),
        ("shares", f.min_shares, f.max_shares),
        ("views", f.min_views, f.max_views),
    ];
    for (col, min, max) in ranges {
        if let Some(n) = min {
            let p = q.bind(n);
            q.push(&format!(" AND r.{col} >= {p}"));
        }
        if let Some(n) = max {
            let p = q.bind(n);
            q.push(&format!(" AND r.{col} <= {p}"));
        }
    }
    Ok(q)
}

fn key_value(field: SortField, k: &serde_json::Value) -> Option<Value> {
    match field {
        SortField::Collected => Some(Value::BigInt(Some(0))),
        SortField::PostedAt => k
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| Value::from(d.with_timezone(&Utc))),
        SortField::Relevance => k.as_f64().map(Value::from),
        _ => k.as_i64().map(Value::from),
    }
}

/// `(key, id)` beyond `c` in direction `greater`.
fn beyond(q: &mut Sql, field: SortField, c: &Cursor, greater: bool, name: &str) -> AppResult<()> {
    let op = if greater { ">" } else { "<" };
    if field == SortField::Collected {
        let id = q.bind(c.id());
        q.push(&format!(" AND q.id {op} {id}"));
        return Ok(());
    }
    let v = key_value(field, c.key()).ok_or_else(|| AppError::validation(name, "not a valid cursor"))?;
    // Bound in the order they appear: SQLite's placeholders are positional.
    let (a, b, id) = (q.bind(v.clone()), q.bind(v), q.bind(c.id()));
    q.push(&format!(" AND (q.zkey {op} {a} OR (q.zkey = {b} AND q.id {op} {id}))"));
    Ok(())
}

/// A page of the records of `within` matching `filter`, ordered by `sort`.
pub async fn search(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    within: Within,
    filter: &RecordFilter,
    sort: Sort,
    window: &SearchWindow,
) -> AppResult<Hits> {
    validate("filter", filter)?;
    let backend = db.get_database_backend();
    let words = terms(filter.search.as_deref().unwrap_or(""));
    // Only ids and keys are sorted; the page's rows are read afterwards (late
    // materialisation: a common word matching half the records sorts ids, not payloads).
    let inner = matching("r.id", backend, tenant, within, filter, sort, &words)?;

    let count = Statement::from_sql_and_values(
        backend,
        format!("SELECT COUNT(*) AS n FROM ({}) q", inner.text),
        inner.values.clone(),
    );
    let total =
        db.query_one_raw(count).await?.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0) as u64;

    let mut q =
        Sql { backend, text: format!("SELECT * FROM ({}) q WHERE 1 = 1", inner.text), values: inner.values };
    // Reading forward in the sort's direction means "greater" when ascending.
    let asc = !sort.descending;
    if let Some(c) = &window.after {
        beyond(&mut q, sort.field, c, asc, "after")?;
    }
    if let Some(c) = &window.before {
        beyond(&mut q, sort.field, c, !asc, "before")?;
    }
    let forward = asc != window.backward;
    let dir = if forward { "ASC" } else { "DESC" };
    // A number of ours, not the caller's text.
    let limit = window.limit + 1;
    q.push(&format!(" ORDER BY q.zkey {dir}, q.id {dir} LIMIT {limit}"));
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, q.text, q.values)).await?;

    let keyed: Vec<(Uuid, Option<f64>)> = rows
        .iter()
        .map(|row| {
            let id = row.try_get::<Uuid>("", "id")?;
            let rank =
                if sort.field == SortField::Relevance { Some(row.try_get::<f64>("", "zkey")?) } else { None };
            Ok((id, rank))
        })
        .collect::<Result<_, sea_orm::DbErr>>()?;
    let mut found: std::collections::HashMap<Uuid, collection_record::Model> =
        collection_record::Entity::find()
            .filter(collection_record::Column::TenantId.eq(tenant))
            .filter(collection_record::Column::Id.is_in(keyed.iter().map(|(id, _)| *id)))
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
    let mut hits = Vec::with_capacity(keyed.len());
    for (id, rank) in keyed {
        let Some(record) = found.remove(&id) else { continue };
        let k = match sort.field {
            SortField::Collected => serde_json::Value::Null,
            SortField::PostedAt => serde_json::json!(record.posted_at.unwrap_or_else(no_date).to_rfc3339()),
            SortField::Likes => record.likes.into(),
            SortField::Comments => record.comments.into(),
            SortField::Shares => record.shares.into(),
            SortField::Views => record.views.into(),
            SortField::Relevance => serde_json::json!(rank.unwrap_or_default()),
        };
        let cursor = Cursor::new(sort.field, k, record.id);
        hits.push(Hit { record, cursor, snippet: None });
    }
    let has_more = hits.len() > window.limit;
    hits.truncate(window.limit);
    if window.backward {
        hits.reverse();
    }
    let (has_previous, has_next) = if window.backward {
        (has_more, window.before.is_some())
    } else {
        (window.after.is_some(), has_more)
    };
    if !words.is_empty() && !hits.is_empty() {
        let snippets = snippets(db, tenant, &words, hits.iter().map(|h| h.record.id).collect()).await?;
        for h in &mut hits {
            h.snippet = snippets.get(&h.record.id).cloned();
        }
    }
    Ok(Hits { hits, total, has_previous, has_next })
}

/// How many records of `folder` match `filter` (exports count once, then page).
pub async fn count(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    folder: Uuid,
    filter: &RecordFilter,
) -> AppResult<u64> {
    let backend = db.get_database_backend();
    let words = terms(filter.search.as_deref().unwrap_or(""));
    let inner = matching("r.id", backend, tenant, Within::Folder(folder), filter, Sort::default(), &words)?;
    let sql = format!("SELECT COUNT(*) AS n FROM ({}) q", inner.text);
    let row = db.query_one_raw(Statement::from_sql_and_values(backend, sql, inner.values)).await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0) as u64)
}

/// Up to `limit` records of `folder` matching `filter` in collection order after the record
/// `after` (keyset paging without a total: what an export reads page by page).
pub async fn page_after(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    folder: Uuid,
    filter: &RecordFilter,
    after: Option<Uuid>,
    limit: usize,
) -> AppResult<Vec<collection_record::Model>> {
    let backend = db.get_database_backend();
    let words = terms(filter.search.as_deref().unwrap_or(""));
    let inner = matching(COLUMNS, backend, tenant, Within::Folder(folder), filter, Sort::default(), &words)?;
    let mut q =
        Sql { backend, text: format!("SELECT * FROM ({}) q WHERE 1 = 1", inner.text), values: inner.values };
    if let Some(id) = after {
        let p = q.bind(id);
        q.push(&format!(" AND q.id > {p}"));
    }
    q.push(&format!(" ORDER BY q.id LIMIT {limit}"));
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, q.text, q.values)).await?;
    rows.iter().map(|r| Ok(collection_record::Model::from_query_result(r, "")?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_words_of_letters_and_digits_and_a_star_makes_a_prefix() {
        let t = terms("Sun-set  beach* 100%_nothing \"x");
        let words: Vec<(&str, bool)> = t.iter().map(|t| (t.word.as_str(), t.prefix)).collect();
        assert_eq!(
            words,
            vec![
                ("sun", false),
                ("set", false),
                ("beach", true),
                ("100", false),
                ("nothing", false),
                ("x", false)
            ]
        );
        assert_eq!(fts5_query(&t[..3]), "\"sun\" \"set\" \"beach\"*");
        assert_eq!(tsquery(&t[..3]), "sun & set & beach:*");
    }

    #[test]
    fn a_snippet_splits_into_highlighted_parts() {
        let s = format!("a {MARK_START}beach{MARK_END} day");
        assert_eq!(
            parts(&s),
            vec![("a ".to_string(), false), ("beach".to_string(), true), (" day".to_string(), false)]
        );
    }

    #[test]
    fn ranges_out_of_order_name_the_field() {
        let f = RecordFilter { min_likes: Some(5), max_likes: Some(2), ..Default::default() };
        let e = validate("filter", &f).unwrap_err();
        assert!(format!("{e:?}").contains("filter.maxLikes"), "{e:?}");
        let f = RecordFilter { min_views: Some(-1), ..Default::default() };
        assert!(format!("{:?}", validate("filter", &f).unwrap_err()).contains("filter.minViews"));
    }

    #[test]
    fn a_cursor_of_another_sort_is_refused() {
        let c = Cursor::new(SortField::Likes, 5.into(), Uuid::nil());
        let s = Sort { field: SortField::Likes, descending: true };
        assert_eq!(Cursor::decode("after", &c.encode(), s).unwrap(), c);
        assert!(
            Cursor::decode("after", &c.encode(), Sort { field: SortField::Views, descending: true }).is_err()
        );
    }
}
