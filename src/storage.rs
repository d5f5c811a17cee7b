//! File storage behind one interface: a directory on the embedded default, any S3-compatible
//! object store in production (`object_store`'s small signed HTTP client, not an SDK).
//!
//! Owns only the bytes: which key holds what, and who may read it, is decided by the areas
//! that store files (resources). Files are written and read as streams, in parts, so a large
//! file is never held in memory whole.

use std::{ops::Range, sync::Arc};

use bytes::Bytes;
use futures::{StreamExt, stream::BoxStream};
use object_store::{
    GetOptions, GetRange, ObjectStore, PutPayload, WriteMultipart, aws::AmazonS3Builder,
    local::LocalFileSystem, path::Path, prefix::PrefixStore,
};
use secrecy::ExposeSecret;

use crate::config::{StorageBackend, StorageSettings};

/// Size of the parts a file is sent in (S3's smallest part but the last is 5 MiB).
const PART_BYTES: usize = 5 * 1024 * 1024;

/// The instance's object store.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// `directory` or `s3`, for logs and `/readyz`.
    pub kind: &'static str,
}

/// A stored object being read: its size and a stream of its (possibly ranged) bytes.
pub struct Download {
    pub size: u64,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

impl Storage {
    /// Opens the configured store (creating the directory of the embedded default).
    pub fn open(settings: &StorageSettings) -> anyhow::Result<Self> {
        match &settings.backend {
            StorageBackend::Directory(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("ZYGO_STORAGE_URL: cannot create {}: {e}", dir.display()))?;
                let store = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
                Ok(Self { store: Arc::new(store), kind: "directory" })
            }
            StorageBackend::S3(s3) => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_virtual_hosted_style_request(!s3.path_style);
                if let Some(endpoint) = &s3.endpoint {
                    // An S3-compatible service on plain HTTP (a local MinIO or emulator) is
                    // allowed only when it is named explicitly.
                    b = b.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    b = b.with_access_key_id(id).with_secret_access_key(secret.expose_secret());
                }
                let store = b.build().map_err(|e| anyhow::anyhow!("ZYGO_STORAGE_URL: {e}"))?;
                let store: Arc<dyn ObjectStore> = if s3.prefix.is_empty() {
                    Arc::new(store)
                } else {
                    Arc::new(PrefixStore::new(store, s3.prefix.as_str()))
                };
                Ok(Self { store, kind: "s3" })
            }
        }
    }

    /// Starts writing `key`: feed it with [`Upload::write`], then [`Upload::finish`] (or
    /// [`Upload::abort`]). Parts go out as they fill.
    pub async fn upload(&self, key: &str) -> object_store::Result<Upload> {
        let multipart = self.store.put_multipart(&Path::from(key)).await?;
        Ok(Upload { inner: WriteMultipart::new_with_chunk_size(multipart, PART_BYTES) })
    }

    /// Stores small `bytes` under `key` at once.
    pub async fn put(&self, key: &str, bytes: Bytes) -> object_store::Result<()> {
        self.store.put(&Path::from(key), PutPayload::from(bytes)).await.map(|_| ())
    }

    /// Reads `key`, or the bytes `range` of it.
    pub async fn get(&self, key: &str, range: Option<Range<u64>>) -> object_store::Result<Download> {
        let opts = GetOptions { range: range.map(GetRange::Bounded), ..Default::default() };
        let got = self.store.get_opts(&Path::from(key), opts).await?;
        let size = got.meta.size;
        let body = got.into_stream().map(|r| r.map_err(std::io::Error::other)).boxed();
        Ok(Download { size, body })
    }

    /// Removes every object whose key starts with `prefix/` (an organisation's files once it
    /// is purged); returns how many went. Removing what is already gone is not an error, so a
    /// retry finishes what a failed run began.
    pub async fn delete_prefix(&self, prefix: &str) -> object_store::Result<usize> {
        let mut listed = self.store.list(Some(&Path::from(prefix)));
        let mut removed = 0;
        while let Some(meta) = listed.next().await {
            match self.store.delete(&meta?.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => removed += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    /// Removes `key` (nothing happens when it does not exist).
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }
}

/// A file being written to the store part by part.
pub struct Upload {
    inner: WriteMultipart,
}

impl Upload {
    /// Appends `buf`, waiting while too many parts are still in flight.
    pub async fn write(&mut self, buf: &[u8]) -> object_store::Result<()> {
        self.inner.wait_for_capacity(2).await?;
        self.inner.write(buf);
        Ok(())
    }

    /// Completes the object.
    pub async fn finish(self) -> object_store::Result<()> {
        self.inner.finish().await.map(|_| ())
    }

    /// Drops what was written (nothing becomes visible).
    pub async fn abort(self) -> object_store::Result<()> {
        self.inner.abort().await
    }
}
