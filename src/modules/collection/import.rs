//! CSV import into a folder (project editors). The first line names the columns (any case,
//! `serviceType` or `service_type`; the columns an export writes are all understood, so an
//! exported file imports back); then one record a line: `platform` (a platform of the
//! catalog) and `serviceType` (`posts`, `comments`, `reels`, `profiles`) are required, and
//! an `externalId` or a `url`; `author`, `text`, `hashtags` and `mentions` (separated by
//! spaces or commas, `#`/`@` optional), `postedAt` (RFC 3339, `YYYY-MM-DD HH:MM:SS` or
//! `YYYY-MM-DD`, UTC) and the counts `likes`, `comments`, `shares`, `views` (whole numbers,
//! empty is 0) are optional.
//!
//! Every row is checked before anything is written; errors name their line (the line the
//! record starts on) and column. With any error nothing is imported, unless `skip_invalid`:
//! then the good rows land and the bad ones are reported. Rows are saved like collected
//! records ([`super::records::save`]): one already known in the organisation (same platform,
//! service type and external id) gets its metrics and text updated where it is; new records
//! count towards the plan's monthly allowance of collected records (past it, nothing lands).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use entity::{collection_folder, project_member::ProjectRole};
use sea_orm::{ColumnTrait, QueryFilter};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    access::require_project,
    catalog,
    folders::folder_in,
    records::{self, Normalised},
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// Most records one import may hold.
pub const MAX_ROWS: usize = 50_000;

/// Largest file an import may be, in bytes.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// Errors listed in a refusal's message at most (the rest are counted).
const LISTED: usize = 20;

/// One bad row.
#[derive(Clone, Debug, PartialEq)]
pub struct LineError {
    pub line: u64,
    /// The column at fault, when one is.
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(c) => write!(f, "line {}: {c}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    /// New records.
    pub imported: u64,
    /// Records already known, updated.
    pub updated: u64,
    /// Bad rows left out (`skip_invalid`).
    pub skipped: u64,
    pub errors: Vec<LineError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Platform,
    ServiceType,
    ExternalId,
    Url,
    Author,
    Text,
    Hashtags,
    Mentions,
    PostedAt,
    Likes,
    Comments,
    Shares,
    Views,
    /// Written by exports, not imported (the record's id, its dates in Zygo, its payload).
    Ignored,
}

fn column(name: &str) -> Option<Col> {
    let key: String = name.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    Some(match key.as_str() {
        "platform" => Col::Platform,
        "servicetype" | "service" => Col::ServiceType,
        "externalid" => Col::ExternalId,
        "url" => Col::Url,
        "author" => Col::Author,
        "text" => Col::Text,
        "hashtags" => Col::Hashtags,
        "mentions" => Col::Mentions,
        "postedat" => Col::PostedAt,
        "likes" => Col::Likes,
        "comments" => Col::Comments,
        "shares" => Col::Shares,
        "views" => Col::Views,
        "id" | "collectedat" | "updatedat" | "raw" => Col::Ignored,
        _ => return None,
    })
}

fn count(v: &str) -> Result<i64, String> {
    if v.is_empty() {
        return Ok(0);
    }
    v.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("`{v}` is not a whole number of at least 0"))
}

fn date(v: &str) -> Result<Option<DateTime<Utc>>, String> {
    if v.is_empty() {
        return Ok(None);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(v) {
        return Ok(Some(d.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S") {
        return Ok(Some(d.and_utc()));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map(|d| d.and_utc()));
    }
    Err(format!("`{v}` is not a date (e.g. 2026-11-30T10:00:00Z or 2026-11-30 10:00:00)"))
}

fn words(v: &str, sigil: char) -> Vec<String> {
    let mut out: Vec<String> = v
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_start_matches(sigil).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn capped(v: &str, max: usize) -> Result<String, String> {
    if v.chars().count() > max { Err(format!("at most {max} characters")) } else { Ok(v.to_string()) }
}

/// One row checked: its (platform, service type) and record, or what is wrong with it.
fn row(
    line: u64,
    cols: &[Option<Col>],
    headers: &[String],
    fields: &csv::StringRecord,
    platforms: &[String],
) -> Result<(String, String, Normalised), Vec<LineError>> {
    let mut got: BTreeMap<u8, &str> = BTreeMap::new();
    let mut raw = Map::new();
    for ((c, h), v) in cols.iter().zip(headers).zip(fields.iter()) {
        if let Some(c) = c.filter(|c| *c != Col::Ignored) {
            got.insert(c as u8, v.trim());
            raw.insert(h.clone(), Value::String(v.to_string()));
        }
    }
    let get = |c: Col| got.get(&(c as u8)).copied().unwrap_or("");
    let mut errors = Vec::new();
    let mut err = |field: &str, message: String| {
        errors.push(LineError { line, field: Some(field.to_string()), message })
    };
    let platform = get(Col::Platform).to_lowercase();
    if platform.is_empty() {
        err("platform", "required".into());
    } else if !platforms.contains(&platform) {
        err("platform", format!("`{platform}` is not a platform of the catalog ({})", platforms.join(", ")));
    }
    let service = get(Col::ServiceType).to_lowercase();
    if !catalog::SERVICE_TYPES.iter().any(|(k, _)| *k == service) {
        let known: Vec<&str> = catalog::SERVICE_TYPES.iter().map(|(k, _)| *k).collect();
        err("serviceType", format!("`{service}` is not one of {}", known.join(", ")));
    }
    let url = get(Col::Url).to_string();
    if !url.is_empty()
        && (url.len() > 2000 || !url::Url::parse(&url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
    {
        err("url", format!("`{url}` is not an http(s) URL of at most 2000 characters"));
    }
    let external_id = match get(Col::ExternalId) {
        "" => url.clone(),
        id => id.to_string(),
    };
    if external_id.is_empty() {
        err("externalId", "give an external id or a URL".into());
    } else if external_id.chars().count() > 300 {
        err("externalId", "at most 300 characters".into());
    }
    let author = capped(get(Col::Author), 300).unwrap_or_else(|m| {
        err("author", m);
        String::new()
    });
    let text = capped(get(Col::Text), 50_000).unwrap_or_else(|m| {
        err("text", m);
        String::new()
    });
    let posted_at = date(get(Col::PostedAt)).unwrap_or_else(|m| {
        err("postedAt", m);
        None
    });
    let mut metric = |name: &str, c: Col| {
        count(get(c)).unwrap_or_else(|m| {
            err(name, m);
            0
        })
    };
    let (likes, comments, shares, views) = (
        metric("likes", Col::Likes),
        metric("comments", Col::Comments),
        metric("shares", Col::Shares),
        metric("views", Col::Views),
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut hashtags = words(get(Col::Hashtags), '#');
    if hashtags.is_empty() {
        hashtags =
            words(&text.split_whitespace().filter(|w| w.starts_with('#')).collect::<Vec<_>>().join(" "), '#');
    }
    raw.insert("source".into(), json!("csv import"));
    Ok((
        platform,
        service,
        Normalised {
            external_id,
            url,
            author,
            hashtags,
            mentions: words(get(Col::Mentions), '@'),
            posted_at,
            likes,
            comments,
            shares,
            views,
            text,
            raw: Value::Object(raw),
        },
    ))
}

/// The rows of `csv` checked: the good ones by (platform, service type), and the errors.
fn parse(
    csv: &[u8],
    platforms: &[String],
) -> Result<(BTreeMap<(String, String), Vec<Normalised>>, u64, Vec<LineError>), String> {
    let csv = csv.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(csv);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(csv);
    let headers: Vec<String> =
        reader.headers().map_err(|e| format!("line 1: {e}"))?.iter().map(|h| h.trim().to_string()).collect();
    let cols: Vec<Option<Col>> = headers.iter().map(|h| column(h)).collect();
    if let Some((h, _)) = headers.iter().zip(&cols).find(|(_, c)| c.is_none()) {
        return Err(format!("line 1: unknown column `{h}`"));
    }
    for (need, name) in [(Col::Platform, "platform"), (Col::ServiceType, "serviceType")] {
        if !cols.contains(&Some(need)) {
            return Err(format!("line 1: no `{name}` column"));
        }
    }
    if !cols.contains(&Some(Col::ExternalId)) && !cols.contains(&Some(Col::Url)) {
        return Err("line 1: an `externalId` or a `url` column is needed".into());
    }
    let mut good: BTreeMap<(String, String), Vec<Normalised>> = BTreeMap::new();
    let mut valid = 0u64;
    let mut errors = Vec::new();
    let mut seen = 0usize;
    for result in reader.records() {
        seen += 1;
        if seen > MAX_ROWS {
            return Err(format!("more than {MAX_ROWS} records: split the file"));
        }
        match result {
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!("{len} fields where the first line names {expected_len}")
                    }
                    _ => e.to_string(),
                };
                errors.push(LineError { line, field: None, message });
            }
            Ok(fields) => {
                let line = fields.position().map(|p| p.line()).unwrap_or(0);
                match row(line, &cols, &headers, &fields, platforms) {
                    Ok((p, s, n)) => {
                        valid += 1;
                        good.entry((p, s)).or_default().push(n);
                    }
                    Err(mut e) => errors.append(&mut e),
                }
            }
        }
    }
    if seen == 0 {
        return Err("no records: the first line names the columns, then one record a line".into());
    }
    Ok((good, valid, errors))
}

/// Refuses unless the caller may import into `folder` (an editor of its project): decided
/// before the file is looked at.
pub async fn require_editor(ctx: &Ctx, tctx: &TenantCtx, folder: Uuid) -> AppResult<()> {
    let db = tctx.on(&ctx.db);
    let f = folder_in(&db, tctx.scope(), folder).await?;
    require_project(&db, tctx, f.project_id, ProjectRole::Editor).await?;
    tctx.reads.release().await;
    Ok(())
}

/// Imports the records of `csv` into `folder` (project editors); `field` names the input
/// the file came in (`input.csv`, `input.file`).
pub async fn import_records(
    ctx: &Ctx,
    tctx: &TenantCtx,
    folder: Uuid,
    field: &str,
    csv: &[u8],
    skip_invalid: bool,
) -> AppResult<ImportReport> {
    require_editor(ctx, tctx, folder).await?;
    if csv.len() > MAX_BYTES {
        return Err(AppError::validation(field, format!("at most {MAX_BYTES} bytes")));
    }
    let platforms: Vec<String> = catalog::platforms(ctx).await?.into_iter().map(|p| p.key).collect();
    let (good, valid, errors) = parse(csv, &platforms).map_err(|m| AppError::validation(field, m))?;
    if !errors.is_empty() && !skip_invalid {
        let mut listed: Vec<String> = errors.iter().take(LISTED).map(ToString::to_string).collect();
        if errors.len() > LISTED {
            listed.push(format!("and {} more errors", errors.len() - LISTED));
        }
        return Err(AppError::validation(field, format!("nothing imported; {}", listed.join("; "))));
    }
    let bad_lines: std::collections::HashSet<u64> = errors.iter().map(|e| e.line).collect();
    let mut report = ImportReport { skipped: bad_lines.len() as u64, errors, ..Default::default() };
    if valid == 0 {
        return Ok(report);
    }
    let now = ctx.now();
    let tx = TenantTx::open(ctx, tctx).await?;
    let f = folder_in(&tx, tx.scope(), folder).await?;
    require_project(&tx, tctx, f.project_id, ProjectRole::Editor).await?;
    for ((platform, service), items) in good {
        let saved = records::save(&tx, folder, None, &platform, &service, items, now).await?;
        report.imported += saved.inserted as u64;
        report.updated += saved.updated as u64;
    }
    // New records count towards the plan's monthly allowance like collected ones: past it,
    // nothing is imported.
    crate::modules::billing::usage::record(
        &tx,
        &ctx.config,
        tx.scope(),
        crate::modules::billing::plans::Limit::CollectedRecordsPerMonth,
        report.imported as i64,
        now,
    )
    .await?
    .map_err(|exceeded| exceeded.error())?;
    // The folder shows when it last changed.
    tx.scope()
        .update_many::<collection_folder::Entity>()
        .col_expr(collection_folder::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
        .filter(collection_folder::Column::Id.eq(folder))
        .exec(&tx)
        .await?;
    tx.commit_with(Change {
        action: "records.imported",
        target_type: "Folder",
        target_id: Some(folder),
        before: None,
        after: Some(json!({
            "imported": report.imported, "updated": report.updated, "skipped": report.skipped
        })),
    })
    .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platforms() -> Vec<String> {
        vec!["instagram".into(), "tiktok".into()]
    }

    #[test]
    fn rows_are_checked_and_errors_name_line_and_column() {
        let csv = "Platform,service_type,externalId,url,likes,postedAt,hashtags\n\
                   instagram,posts,A1,https://x.test/a,12,2026-11-30T10:00:00Z,#Sun beach\n\
                   myspace,posts,A2,,1,,\n\
                   tiktok,reels,,,x,,\n\
                   instagram,posts,\"A\n3\",,0,2026-11-30,\n";
        let (good, valid, errors) = parse(csv.as_bytes(), &platforms()).unwrap();
        assert_eq!(valid, 2);
        let first = &good[&("instagram".to_string(), "posts".to_string())][0];
        assert_eq!((first.likes, first.hashtags.clone()), (12, vec!["beach".to_string(), "sun".to_string()]));
        let named: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.field.as_deref())).collect();
        assert_eq!(
            named,
            vec![(3, Some("platform")), (4, Some("externalId")), (4, Some("likes"))],
            "{errors:?}"
        );
    }

    #[test]
    fn headers_must_name_known_columns_and_identities() {
        assert!(parse(b"platform,serviceType,colour\n", &platforms()).unwrap_err().contains("`colour`"));
        assert!(
            parse(b"platform,serviceType,text\nx,posts,a\n", &platforms())
                .unwrap_err()
                .contains("externalId")
        );
        assert!(parse(b"platform,serviceType,url\n", &platforms()).unwrap_err().contains("no records"));
        let (_, _, errors) = parse(b"platform,serviceType,url\ninstagram,posts\n", &platforms()).unwrap();
        assert_eq!(errors[0].line, 2);
    }
}
