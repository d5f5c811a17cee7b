//! Uploads: a new resource with its first version, or a new version of one. The file (a
//! temporary file the HTTP layer wrote as the request arrived) is streamed to storage in
//! parts, hashed (SHA-256) on the way, its MIME type detected from its first bytes; the plan's
//! storage quota is checked before anything is sent and again, under the organisation's lock,
//! in the transaction that records the version. Whatever fails after the bytes were stored
//! removes them again: a refused or failed upload leaves nothing behind.

use entity::{
    resource::{self, Visibility},
    resource_version,
};
use sea_orm::Set;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use super::{
    access::visible_resource,
    service::{self, ResourceFields},
};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
    modules::billing::{plans::Limit, usage},
};

/// Read size while streaming a file on.
const CHUNK: usize = 64 * 1024;

/// A file as received: its name and claimed type, and the open temporary file.
pub struct IncomingFile {
    pub filename: String,
    pub content_type: Option<String>,
    pub file: std::fs::File,
}

/// What was stored of one file.
struct Stored {
    key: String,
    size: i64,
    sha256: String,
    mime: String,
}

fn storage_key(tenant: Uuid, resource: Uuid, version: Uuid) -> String {
    format!("{tenant}/{resource}/{version}")
}

/// The type of the first bytes, else the client's claim, else `application/octet-stream`.
fn detect_mime(head: &[u8], claimed: Option<&str>) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_string();
    }
    match claimed.map(str::trim).filter(|c| !c.is_empty() && c.len() <= 255 && c.contains('/')) {
        Some(c) => c.to_ascii_lowercase(),
        None => "application/octet-stream".into(),
    }
}

/// Streams `incoming` to storage under `key`.
async fn store(ctx: &Ctx, key: String, incoming: IncomingFile) -> AppResult<Stored> {
    let mut file = tokio::fs::File::from_std(incoming.file);
    let mut upload = ctx.storage.upload(&key).await.map_err(storage_err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut head: Vec<u8> = Vec::new();
    let mut size: u64 = 0;
    let written: AppResult<()> = async {
        loop {
            let n = file.read(&mut buf).await.map_err(|e| AppError::Internal(e.into()))?;
            if n == 0 {
                break;
            }
            if head.len() < 8192 {
                head.extend_from_slice(&buf[..n.min(8192 - head.len())]);
            }
            hasher.update(&buf[..n]);
            size += n as u64;
            upload.write(&buf[..n]).await.map_err(storage_err)?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = written {
        let _ = upload.abort().await;
        return Err(e);
    }
    upload.finish().await.map_err(storage_err)?;
    Ok(Stored {
        key,
        size: size as i64,
        sha256: crate::crypto::to_hex(&hasher.finalize()),
        mime: detect_mime(&head, incoming.content_type.as_deref()),
    })
}

fn storage_err(e: object_store::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("storage: {e}"))
}

/// The file's size, refused when beyond `ZYGO_RESOURCE_MAX_BYTES`.
fn checked_size(ctx: &Ctx, field: &str, incoming: &IncomingFile) -> AppResult<i64> {
    let size = incoming.file.metadata().map_err(|e| AppError::Internal(e.into()))?.len();
    let max = ctx.config.storage.max_bytes;
    if size > max {
        return Err(AppError::rejected(
            "FILE_TOO_LARGE",
            field,
            format!("a file may hold at most {max} bytes (ZYGO_RESOURCE_MAX_BYTES); this one has {size}"),
        ));
    }
    Ok(size as i64)
}

/// Stores the file, then records it with `record` in one transaction; removes the stored
/// bytes when anything fails after they were written.
async fn store_then_record<T>(
    ctx: &Ctx,
    tctx: &TenantCtx,
    key: String,
    incoming: IncomingFile,
    record: impl AsyncFnOnce(&mut TenantTx<'_>, &Stored) -> AppResult<T>,
) -> AppResult<T> {
    let stored = store(ctx, key, incoming).await?;
    let recorded = async {
        let mut tx = TenantTx::begin(ctx, tctx, Permission::ResourcesWrite).await?;
        // Under the organisation's lock: two uploads at once cannot both take the last bytes.
        usage::require_room(&mut tx, Limit::StorageBytes, stored.size).await?;
        let out = record(&mut tx, &stored).await?;
        Ok::<_, AppError>((tx, out))
    }
    .await;
    let (tx, out) = match recorded {
        Ok(v) => v,
        Err(e) => {
            remove(ctx, &stored.key).await;
            return Err(e);
        }
    };
    match tx.commit().await {
        Ok(()) => Ok(out),
        Err(e) => {
            remove(ctx, &stored.key).await;
            Err(e)
        }
    }
}

async fn remove(ctx: &Ctx, key: &str) {
    if let Err(e) = ctx.storage.delete(key).await {
        tracing::warn!(error = %e, key, "could not remove the bytes of a failed upload");
    }
}

fn version_model(
    tctx: &TenantCtx,
    id: Uuid,
    resource: Uuid,
    number: i32,
    filename: &str,
    s: &Stored,
    now: chrono::DateTime<chrono::Utc>,
) -> resource_version::ActiveModel {
    resource_version::ActiveModel {
        id: Set(id),
        tenant_id: Set(tctx.tenant_id),
        resource_id: Set(resource),
        number: Set(number),
        filename: Set(filename.to_string()),
        size_bytes: Set(s.size),
        sha256: Set(s.sha256.clone()),
        mime_type: Set(s.mime.clone()),
        storage_key: Set(s.key.clone()),
        uploaded_by: Set(tctx.acting_user()),
        uploaded_at: Set(now),
    }
}

fn checked_filename(name: &str) -> String {
    // Only the last path segment, without control characters (it ends up in headers).
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(255).collect();
    if clean.trim().is_empty() { "file".into() } else { clean }
}

/// Creates a resource from `fields` with `incoming` as its first version.
pub async fn create(
    ctx: &Ctx,
    tctx: &TenantCtx,
    fields: ResourceFields,
    incoming: IncomingFile,
) -> AppResult<(resource::Model, resource_version::Model)> {
    tctx.require(Permission::ResourcesWrite)?;
    let filename = checked_filename(&incoming.filename);
    let checked = service::check_fields(fields)?;
    let size = checked_size(ctx, "input.file", &incoming)?;
    {
        let db = tctx.on(&ctx.db);
        if let Some(team) = checked.team_id {
            service::require_team(&db, tctx, team).await?;
        }
        usage::check_room(&db, ctx, tctx.scope(), Limit::StorageBytes, size).await?;
    }
    let (resource_id, version_id) = (Uuid::now_v7(), Uuid::now_v7());
    let key = storage_key(tctx.tenant_id, resource_id, version_id);
    store_then_record(ctx, tctx, key, incoming, async |tx, stored| {
        let now = ctx.now();
        let scope = tx.scope();
        let r = scope
            .insert(
                &*tx,
                resource::ActiveModel {
                    id: Set(resource_id),
                    tenant_id: Set(tctx.tenant_id),
                    team_id: Set(checked.team_id),
                    name: Set(checked.name.clone().unwrap_or_else(|| filename.clone())),
                    folder: Set(checked.folder.clone().unwrap_or_else(|| "/".into())),
                    tags: Set(json!(checked.tags.clone().unwrap_or_default())),
                    visibility: Set(checked.visibility.unwrap_or(Visibility::Organisation)),
                    current_version_id: Set(Some(version_id)),
                    version_count: Set(1),
                    download_count: Set(0),
                    created_by: Set(tctx.acting_user()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    deleted_at: Set(None),
                },
            )
            .await?;
        let v = scope
            .insert(&*tx, version_model(tctx, version_id, resource_id, 1, &filename, stored, now))
            .await?;
        tx.audit(Change {
            action: "resource.created",
            target_type: "Resource",
            target_id: Some(resource_id),
            before: None,
            after: Some(service::summary(&r, Some(&v))),
        })
        .await?;
        Ok((r, v))
    })
    .await
}

/// Adds `incoming` as the newest version of resource `id` (not in the bin).
pub async fn add_version(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
    incoming: IncomingFile,
) -> AppResult<(resource::Model, resource_version::Model)> {
    tctx.require(Permission::ResourcesWrite)?;
    let filename = checked_filename(&incoming.filename);
    let size = checked_size(ctx, "input.file", &incoming)?;
    {
        let db = tctx.on(&ctx.db);
        visible_resource(&db, tctx, id, false).await?;
        usage::check_room(&db, ctx, tctx.scope(), Limit::StorageBytes, size).await?;
    }
    let version_id = Uuid::now_v7();
    let key = storage_key(tctx.tenant_id, id, version_id);
    store_then_record(ctx, tctx, key, incoming, async |tx, stored| {
        let now = ctx.now();
        // Read again in the transaction: the number must follow the newest committed version
        // (the unique index refuses a racing duplicate).
        let before = visible_resource(&*tx, tctx, id, false).await?;
        let number = before.version_count + 1;
        let scope = tx.scope();
        let v =
            scope.insert(&*tx, version_model(tctx, version_id, id, number, &filename, stored, now)).await?;
        let mut am: resource::ActiveModel = before.clone().into();
        am.current_version_id = Set(Some(version_id));
        am.version_count = Set(number);
        am.updated_at = Set(now);
        let r = scope.update(&*tx, am).await?;
        tx.audit(Change {
            action: "resource.version_added",
            target_type: "Resource",
            target_id: Some(id),
            before: Some(service::summary(&before, None)),
            after: Some(service::summary(&r, Some(&v))),
        })
        .await?;
        Ok((r, v))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_comes_from_the_bytes_before_the_claim() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
        assert_eq!(detect_mime(&png, Some("text/plain")), "image/png");
        assert_eq!(detect_mime(b"hello", Some("text/plain")), "text/plain");
        assert_eq!(detect_mime(b"hello", Some("nonsense")), "application/octet-stream");
        assert_eq!(detect_mime(b"hello", None), "application/octet-stream");
    }

    #[test]
    fn a_file_name_keeps_its_last_segment_only() {
        assert_eq!(checked_filename("../../etc/passwd"), "passwd");
        assert_eq!(checked_filename("C:\\x\\report \"q\".pdf"), "report q.pdf");
        assert_eq!(checked_filename("/"), "file");
    }
}
