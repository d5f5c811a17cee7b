//! Settings of file storage (`crate::storage`) and of resources (`modules::resources`).

use std::path::Path;

use secrecy::SecretString;

use super::{ConfigError, Lookup, flag, parse};

/// Where uploaded files are kept.
#[derive(Clone, Debug)]
pub enum StorageBackend {
    /// A directory (the embedded default: `<ZYGO_DATA_DIR>/files`).
    Directory(std::path::PathBuf),
    /// An S3-compatible object store.
    S3(S3Settings),
}

/// An S3-compatible bucket (`ZYGO_STORAGE_URL=s3://bucket[/prefix]`).
#[derive(Clone, Debug)]
pub struct S3Settings {
    pub bucket: String,
    /// Keys are stored under this prefix (no leading or trailing `/`).
    pub prefix: String,
    /// `ZYGO_STORAGE_ENDPOINT`: another S3-compatible service (MinIO, moto, R2…); AWS when unset.
    pub endpoint: Option<String>,
    /// `ZYGO_STORAGE_REGION` (default `us-east-1`).
    pub region: String,
    /// `ZYGO_STORAGE_ACCESS_KEY_ID` / `ZYGO_STORAGE_SECRET_ACCESS_KEY`; without them the
    /// store's own environment (instance role, `AWS_*` variables) is used.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    /// `ZYGO_STORAGE_PATH_STYLE`: path-style requests (`endpoint/bucket/key`), as most
    /// S3-compatible services want (default true when an endpoint is set).
    pub path_style: bool,
}

/// `ZYGO_STORAGE_*` and `ZYGO_RESOURCE_*`.
#[derive(Clone, Debug)]
pub struct StorageSettings {
    pub backend: StorageBackend,
    /// `ZYGO_RESOURCE_MAX_BYTES`: largest file one upload may carry (default 100 MiB).
    pub max_bytes: u64,
    /// `ZYGO_RESOURCE_SHARE_LINK_MAX_DAYS`: longest life of a share link (default 365).
    pub share_link_max_days: i64,
}

pub(super) fn read(get: Lookup<'_>, data_dir: &Path) -> Result<StorageSettings, ConfigError> {
    let url = get("ZYGO_STORAGE_URL").filter(|s| !s.trim().is_empty());
    let backend = match url.as_deref().map(str::trim) {
        None => StorageBackend::Directory(data_dir.join("files")),
        Some(u) if u.starts_with("file://") => {
            StorageBackend::Directory(std::path::PathBuf::from(&u["file://".len()..]))
        }
        Some(u) if u.starts_with("s3://") => {
            let rest = u["s3://".len()..].trim_matches('/');
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(ConfigError::new(
                    "ZYGO_STORAGE_URL",
                    "s3:// needs a bucket: s3://bucket[/prefix]",
                ));
            }
            let endpoint = get("ZYGO_STORAGE_ENDPOINT").filter(|s| !s.trim().is_empty());
            if let Some(e) = &endpoint {
                url::Url::parse(e)
                    .map_err(|err| ConfigError::new("ZYGO_STORAGE_ENDPOINT", format!("not a URL: {err}")))?;
            }
            let access_key_id = get("ZYGO_STORAGE_ACCESS_KEY_ID").filter(|s| !s.is_empty());
            let secret = get("ZYGO_STORAGE_SECRET_ACCESS_KEY").filter(|s| !s.is_empty());
            if access_key_id.is_some() != secret.is_some() {
                return Err(ConfigError::new(
                    "ZYGO_STORAGE_SECRET_ACCESS_KEY",
                    "set both ZYGO_STORAGE_ACCESS_KEY_ID and ZYGO_STORAGE_SECRET_ACCESS_KEY, or neither",
                ));
            }
            StorageBackend::S3(S3Settings {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
                path_style: flag(
                    "ZYGO_STORAGE_PATH_STYLE",
                    get("ZYGO_STORAGE_PATH_STYLE"),
                    endpoint.is_some(),
                )?,
                endpoint,
                region: get("ZYGO_STORAGE_REGION").unwrap_or_else(|| "us-east-1".into()),
                access_key_id,
                secret_access_key: secret.map(SecretString::from),
            })
        }
        Some(_) => {
            return Err(ConfigError::new(
                "ZYGO_STORAGE_URL",
                "expected file:///path or s3://bucket[/prefix]",
            ));
        }
    };
    let max_bytes: u64 = parse("ZYGO_RESOURCE_MAX_BYTES", get("ZYGO_RESOURCE_MAX_BYTES"), "104857600")?;
    if max_bytes == 0 {
        return Err(ConfigError::new("ZYGO_RESOURCE_MAX_BYTES", "must be at least 1"));
    }
    let share_link_max_days: i64 =
        parse("ZYGO_RESOURCE_SHARE_LINK_MAX_DAYS", get("ZYGO_RESOURCE_SHARE_LINK_MAX_DAYS"), "365")?;
    if share_link_max_days < 1 {
        return Err(ConfigError::new("ZYGO_RESOURCE_SHARE_LINK_MAX_DAYS", "must be at least 1"));
    }
    Ok(StorageSettings { backend, max_bytes, share_link_max_days })
}
