//! Records: normalising a provider's item into the one record shape (through the service's
//! output mapping), saving a batch with de-duplication on (organisation, platform, service
//! type, external id) — a record seen again gets its new metrics — and reading a folder's
//! records (through `search`), and moving records between folders.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{collection_record, collection_record_copy, project_member::ProjectRole};
use sea_orm::{ColumnTrait, QueryFilter, Set, sea_query::OnConflict};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    access::require_project,
    folders::folder_in,
    search::{self, Hits, SearchWindow, Sort, Within},
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// The record fields an output mapping may name.
pub const MAPPABLE: &[&str] = &[
    "externalId",
    "url",
    "author",
    "text",
    "hashtags",
    "mentions",
    "postedAt",
    "likes",
    "comments",
    "shares",
    "views",
];

/// One item in the record shape, before it is saved.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalised {
    pub external_id: String,
    pub url: String,
    pub author: String,
    pub text: String,
    pub hashtags: Vec<String>,
    pub mentions: Vec<String>,
    pub posted_at: Option<DateTime<Utc>>,
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    pub views: i64,
    pub raw: Value,
}

/// The provider field for record field `field`: the mapping's, else the field's own name
/// in snake case.
fn pick<'a>(item: &'a Value, mapping: &Value, field: &str, default: &str) -> Option<&'a Value> {
    let key = mapping.get(field).and_then(Value::as_str).unwrap_or(default);
    // Dotted paths reach into nested objects (`author.username`).
    key.split('.').try_fold(item, |v, k| v.get(k)).filter(|v| !v.is_null())
}

fn as_count(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)).unwrap_or(0).max(0),
        Some(Value::String(s)) => s.replace([',', ' '], "").parse::<i64>().unwrap_or(0).max(0),
        _ => 0,
    }
}

fn as_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn as_list(v: Option<&Value>, text: &str, sigil: char) -> Vec<String> {
    let mut out: Vec<String> = match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .or_else(|| x.get("name").and_then(Value::as_str).map(str::to_string))
            })
            .collect(),
        // Read off the text when the provider gives none.
        _ => text
            .split(|c: char| c.is_whitespace())
            .filter_map(|w| w.strip_prefix(sigil))
            .map(|w| w.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_').to_string())
            .filter(|w| !w.is_empty())
            .collect(),
    };
    for t in &mut out {
        *t = t.trim_start_matches(sigil).to_lowercase();
    }
    out.sort();
    out.dedup();
    out
}

/// Normalises one provider item; `Err` says why it cannot be a record (an error entry, or no
/// identity).
pub fn normalise(item: &Value, mapping: &Value) -> Result<Normalised, String> {
    if let Some(e) = item.get("error").and_then(Value::as_str) {
        return Err(e.to_string());
    }
    let url = as_text(pick(item, mapping, "url", "url"));
    let external_id = {
        let id = as_text(pick(item, mapping, "externalId", "post_id"));
        if id.is_empty() { as_text(item.get("id")) } else { id }
    };
    let external_id = if external_id.is_empty() { url.clone() } else { external_id };
    if external_id.is_empty() {
        return Err("the item has neither an id nor a URL".into());
    }
    let text = as_text(pick(item, mapping, "text", "description"));
    let posted_at = as_text(pick(item, mapping, "postedAt", "date_posted"));
    Ok(Normalised {
        external_id: external_id.chars().take(300).collect(),
        url,
        author: as_text(pick(item, mapping, "author", "user_posted")).chars().take(300).collect(),
        hashtags: as_list(pick(item, mapping, "hashtags", "hashtags"), &text, '#'),
        mentions: as_list(pick(item, mapping, "mentions", "tagged_users"), &text, '@'),
        posted_at: DateTime::parse_from_rfc3339(&posted_at).ok().map(|d| d.with_timezone(&Utc)),
        likes: as_count(pick(item, mapping, "likes", "likes")),
        comments: as_count(pick(item, mapping, "comments", "num_comments")),
        shares: as_count(pick(item, mapping, "shares", "shares")),
        views: as_count(pick(item, mapping, "views", "views")),
        text,
        raw: item.clone(),
    })
}

/// What saving a batch did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Saved {
    pub inserted: usize,
    pub updated: usize,
}

/// Saves `items` of (platform, service type) into `folder` inside the caller's transaction:
/// new identities are inserted, known ones get their metrics, text and raw payload updated
/// (they stay in the folder they were first collected into).
pub async fn save(
    tx: &TenantTx<'_>,
    folder: Uuid,
    job: Option<Uuid>,
    platform: &str,
    service_type: &str,
    items: Vec<Normalised>,
    now: DateTime<Utc>,
) -> AppResult<Saved> {
    let scope = tx.scope();
    let mut saved = Saved::default();
    // The batch itself may repeat an item: the last one wins.
    let mut unique: Vec<Normalised> = Vec::with_capacity(items.len());
    let mut at: HashMap<String, usize> = HashMap::new();
    for it in items {
        match at.get(&it.external_id) {
            Some(&i) => unique[i] = it,
            None => {
                at.insert(it.external_id.clone(), unique.len());
                unique.push(it);
            }
        }
    }
    for chunk in unique.chunks(200) {
        let ids: Vec<String> = chunk.iter().map(|n| n.external_id.clone()).collect();
        let known: HashMap<String, collection_record::Model> = scope
            .find::<collection_record::Entity>()
            .filter(collection_record::Column::Platform.eq(platform))
            .filter(collection_record::Column::ServiceType.eq(service_type))
            .filter(collection_record::Column::ExternalId.is_in(ids))
            .all(tx)
            .await?
            .into_iter()
            .map(|r| (r.external_id.clone(), r))
            .collect();
        let mut fresh = Vec::new();
        for n in chunk {
            if let Some(r) = known.get(&n.external_id) {
                let mut am: collection_record::ActiveModel = r.clone().into();
                am.likes = Set(n.likes);
                am.comments = Set(n.comments);
                am.shares = Set(n.shares);
                am.views = Set(n.views);
                am.text = Set(n.text.clone());
                am.raw = Set(n.raw.clone());
                am.updated_at = Set(now);
                scope.update(tx, am).await?;
                saved.updated += 1;
            } else {
                fresh.push(collection_record::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(scope.tenant_id()),
                    folder_id: Set(folder),
                    job_id: Set(job),
                    platform: Set(platform.to_string()),
                    service_type: Set(service_type.to_string()),
                    external_id: Set(n.external_id.clone()),
                    url: Set(n.url.clone()),
                    author: Set(n.author.clone()),
                    text: Set(n.text.clone()),
                    hashtags: Set(json!(n.hashtags)),
                    mentions: Set(json!(n.mentions)),
                    posted_at: Set(n.posted_at),
                    likes: Set(n.likes),
                    comments: Set(n.comments),
                    shares: Set(n.shares),
                    views: Set(n.views),
                    raw: Set(n.raw.clone()),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
            }
        }
        if !fresh.is_empty() {
            saved.inserted += fresh.len();
            scope.insert_many::<collection_record::Entity, _>(fresh).exec_without_returning(tx).await?;
        }
    }
    Ok(saved)
}

pub use super::search::RecordFilter;

/// A page of a folder's records matching `filter`, in `sort` order (project viewers).
pub async fn list(
    ctx: &Ctx,
    tctx: &TenantCtx,
    folder: Uuid,
    filter: &RecordFilter,
    sort: Sort,
    window: &SearchWindow,
) -> AppResult<Hits> {
    let db = tctx.on(&ctx.db);
    let f = folder_in(&db, tctx.scope(), folder).await?;
    require_project(&db, tctx, f.project_id, ProjectRole::Viewer).await?;
    search::search(&db, tctx.tenant_id, Within::Folder(folder), filter, sort, window).await
}

/// A page of a project's records (optionally one folder's) matching `filter` (project
/// viewers). Searching words is remembered in the caller's history for suggestions.
pub async fn search_project(
    ctx: &Ctx,
    tctx: &TenantCtx,
    project: Uuid,
    folder: Option<Uuid>,
    filter: &RecordFilter,
    sort: Sort,
    window: &SearchWindow,
) -> AppResult<Hits> {
    let db = tctx.on(&ctx.db);
    require_project(&db, tctx, project, ProjectRole::Viewer).await?;
    let within = match folder {
        Some(id) => {
            let f = folder_in(&db, tctx.scope(), id)
                .await
                .map_err(|_| AppError::validation("folderId", "no such folder"))?;
            if f.project_id != project {
                return Err(AppError::validation("folderId", "a folder of another project"));
            }
            Within::Folder(id)
        }
        None => Within::Project(project),
    };
    let hits = search::search(&db, tctx.tenant_id, within, filter, sort, window).await?;
    drop(db);
    if window.after.is_none() && window.before.is_none() {
        super::saved::remember(ctx, tctx, project, filter.search.as_deref().unwrap_or("")).await?;
    }
    Ok(hits)
}

/// Moves records into `target` (a folder of the same project; editors of it).
pub async fn move_records(ctx: &Ctx, tctx: &TenantCtx, ids: &[Uuid], target: Uuid) -> AppResult<u64> {
    if ids.is_empty() || ids.len() > 1000 {
        return Err(AppError::validation("input.recordIds", "1 to 1000 records"));
    }
    let tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let to = folder_in(&tx, scope, target)
        .await
        .map_err(|_| AppError::validation("input.folderId", "no such folder"))?;
    require_project(&tx, tctx, to.project_id, ProjectRole::Editor).await?;
    let rows = scope
        .find::<collection_record::Entity>()
        .filter(collection_record::Column::Id.is_in(ids.iter().copied()))
        .all(&tx)
        .await?;
    if rows.len() != ids.len() {
        return Err(AppError::validation("input.recordIds", "some records do not exist"));
    }
    let sources: std::collections::HashSet<Uuid> = rows.iter().map(|r| r.folder_id).collect();
    for s in sources {
        let f = folder_in(&tx, scope, s).await?;
        if f.project_id != to.project_id {
            return Err(AppError::validation("input.recordIds", "records move within their project only"));
        }
    }
    // A record moved home to a folder it was copied into is no longer a copy there.
    scope
        .delete_many::<collection_record_copy::Entity>()
        .filter(collection_record_copy::Column::FolderId.eq(target))
        .filter(collection_record_copy::Column::RecordId.is_in(ids.iter().copied()))
        .exec(&tx)
        .await?;
    let moved = scope
        .update_many::<collection_record::Entity>()
        .col_expr(collection_record::Column::FolderId, sea_orm::sea_query::Expr::value(target))
        .col_expr(collection_record::Column::UpdatedAt, sea_orm::sea_query::Expr::value(ctx.now()))
        .filter(collection_record::Column::Id.is_in(ids.iter().copied()))
        .exec(&tx)
        .await?
        .rows_affected;
    tx.commit_with(Change {
        action: "records.moved",
        target_type: "Folder",
        target_id: Some(target),
        before: None,
        after: Some(json!({ "records": moved })),
    })
    .await?;
    Ok(moved)
}

/// Copies records into `target`, a further folder of their project, where they show besides
/// their home folder (project editors of it). Records already there are left as they are;
/// how many were added.
pub async fn copy_records(ctx: &Ctx, tctx: &TenantCtx, ids: &[Uuid], target: Uuid) -> AppResult<u64> {
    if ids.is_empty() || ids.len() > 1000 {
        return Err(AppError::validation("input.recordIds", "1 to 1000 records"));
    }
    let tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    let to = folder_in(&tx, scope, target)
        .await
        .map_err(|_| AppError::validation("input.folderId", "no such folder"))?;
    require_project(&tx, tctx, to.project_id, ProjectRole::Editor).await?;
    let rows = scope
        .find::<collection_record::Entity>()
        .filter(collection_record::Column::Id.is_in(ids.iter().copied()))
        .all(&tx)
        .await?;
    if rows.len() != ids.len() {
        return Err(AppError::validation("input.recordIds", "some records do not exist"));
    }
    let sources: std::collections::HashSet<Uuid> = rows.iter().map(|r| r.folder_id).collect();
    for s in sources {
        if folder_in(&tx, scope, s).await?.project_id != to.project_id {
            return Err(AppError::validation(
                "input.recordIds",
                "records are copied within their project only",
            ));
        }
    }
    let now = ctx.now();
    let copies: Vec<collection_record_copy::ActiveModel> = rows
        .iter()
        .filter(|r| r.folder_id != target)
        .map(|r| collection_record_copy::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(scope.tenant_id()),
            record_id: Set(r.id),
            folder_id: Set(target),
            created_at: Set(now),
        })
        .collect();
    let mut added = 0;
    if !copies.is_empty() {
        use collection_record_copy::Column as C;
        added = scope
            .insert_many::<collection_record_copy::Entity, _>(copies)
            .on_conflict(OnConflict::columns([C::FolderId, C::RecordId]).do_nothing().to_owned())
            .exec_without_returning(&tx)
            .await?;
    }
    tx.commit_with(Change {
        action: "records.copied",
        target_type: "Folder",
        target_id: Some(target),
        before: None,
        after: Some(json!({ "records": added })),
    })
    .await?;
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_normalised_through_the_mapping_and_reads_hashtags_off_its_text() {
        let item = json!({
            "post_id": "C1", "url": "https://www.instagram.com/p/C1/", "owner": {"username": "ana"},
            "description": "Sunset #Beach #travel with @bob", "likes": "1,204", "num_comments": 7,
            "date_posted": "2026-11-30T10:00:00Z"
        });
        let n = normalise(&item, &json!({ "author": "owner.username" })).unwrap();
        assert_eq!(n.external_id, "C1");
        assert_eq!(n.author, "ana");
        assert_eq!(n.hashtags, vec!["beach", "travel"]);
        assert_eq!(n.mentions, vec!["bob"]);
        assert_eq!((n.likes, n.comments), (1204, 7));
        assert!(n.posted_at.is_some());
        assert_eq!(
            normalise(&json!({"error": "dead page", "url": "x"}), &json!({})).unwrap_err(),
            "dead page"
        );
        assert!(normalise(&json!({"likes": 1}), &json!({})).is_err());
    }
}
