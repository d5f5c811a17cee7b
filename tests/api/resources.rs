//! Resources (files) over the real API: GraphQL multipart uploads behind the CSRF preflight
//! header, immutable versions with SHA-256 and detected MIME types, streamed downloads with
//! ranges, share links (expiry, password, revocation), the download log, the plan's storage
//! quota, the size limit, soft delete and restore, visibility — on the local directory and on
//! an S3 bucket served by `moto` (started by the test; a missing moto fails the test).

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zygo::ctx::Clock;

use crate::{doc, helpers::*};

/// The first bytes of a PNG (enough for detection).
pub const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0,
    0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
];

const BOUNDARY: &str = "zygo-test-boundary-7f3a";

/// Sends `query` with `variables` as a GraphQL multipart request whose one file (at
/// `variables.input.file`) holds `bytes`; `preflight` adds `apollo-require-preflight`.
pub async fn multipart(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    variables: Value,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
    preflight: bool,
) -> (reqwest::StatusCode, Value) {
    let mut variables = variables;
    variables["input"]["file"] = Value::Null;
    let operations = json!({ "query": query, "variables": variables });
    let mut body = Vec::new();
    let part = |body: &mut Vec<u8>, head: String, content: &[u8]| {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n{head}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part(
        &mut body,
        "Content-Disposition: form-data; name=\"operations\"".into(),
        operations.to_string().as_bytes(),
    );
    part(
        &mut body,
        "Content-Disposition: form-data; name=\"map\"".into(),
        br#"{"0":["variables.input.file"]}"#,
    );
    part(
        &mut body,
        format!(
            "Content-Disposition: form-data; name=\"0\"; filename=\"{filename}\"\r\nContent-Type: {content_type}"
        ),
        bytes,
    );
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let mut req = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body);
    if preflight {
        req = req.header("apollo-require-preflight", "true");
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status();
    (status, resp.json().await.expect("JSON body"))
}

/// Uploads `bytes` as a new resource of `tenant`; the `uploadResource` payload.
pub async fn upload(app: &TestApp, token: &str, tenant: &str, extra: Value, name: &str, bytes: &[u8]) -> Gql {
    let mut input = json!({ "tenantId": tenant });
    if let Value::Object(m) = extra {
        for (k, v) in m {
            input[k] = v;
        }
    }
    let (_, body) = multipart(
        app,
        Some(token),
        doc!("resources/UploadResource"),
        json!({ "input": input }),
        name,
        "text/plain",
        bytes,
        true,
    )
    .await;
    Gql(body)
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

struct Files {
    app: TestApp,
    clock: Clock,
    owner: Session,
    member: Session,
    viewer: Session,
    tenant: String,
}

async fn files(slug: &str, env: Vec<(&'static str, String)>) -> Files {
    let clock = Clock::manual(Utc::now());
    let opts = Options { clock: Some(clock.clone()), env, ..Default::default() };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let owner = app.verified_user(&format!("{slug}-owner@example.com")).await;
    let tenant = app.create_tenant(&owner, slug).await;
    let (member, _) = app.join_as(&owner, &tenant, &format!("{slug}-member@example.com"), "member").await;
    let (viewer, _) = app.join_as(&owner, &tenant, &format!("{slug}-viewer@example.com"), "viewer").await;
    Files { app, clock, owner, member, viewer, tenant }
}

impl Files {
    async fn resource(&self, who: &Session, id: &str) -> Gql {
        self.app
            .gql(Some(&who.access), doc!("resources/Resource"), json!({ "id": id, "withShareLinks": true }))
            .await
    }
    async fn list(&self, who: &Session, deleted: bool) -> Value {
        let r = self
            .app
            .gql(
                Some(&who.access),
                doc!("resources/Resources"),
                json!({ "tenantId": self.tenant, "deleted": deleted }),
            )
            .await;
        r.data()["tenant"]["resources"].clone()
    }
    async fn get(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.app.http.get(self.app.url(path)).header("user-agent", "resource-test/1");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }
}

/// Every file stored under `dir`.
fn stored_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.filter_map(Result::ok).map(|e| if e.path().is_dir() { stored_files(&e.path()) } else { 1 }).sum()
}

/// Upload, a second version, downloads (signed address and bearer, whole and ranged) and
/// the log; on whatever storage `f` was configured with.
async fn upload_version_download_roundtrip(f: &Files) {
    let a = f.owner.access.clone();
    let r = upload(
        &f.app,
        &a,
        &f.tenant,
        json!({ "folder": "reports/2026/", "tags": ["Q4", "q4", "logo"] }),
        "../logo.png",
        PNG,
    )
    .await;
    let payload = &r.data()["uploadResource"];
    let (resource, v1) =
        (payload["resource"]["id"].as_str().unwrap().to_string(), payload["version"].clone());
    assert_eq!(payload["resource"]["folder"], "/reports/2026");
    assert_eq!(payload["resource"]["tags"], json!(["q4", "logo"]));
    assert_eq!(payload["resource"]["name"], "logo.png");
    assert_eq!(v1["number"], 1);
    assert_eq!(v1["filename"], "logo.png");
    assert_eq!(v1["mimeType"], "image/png", "detected from the bytes, not the claimed text/plain");
    assert_eq!(v1["sizeBytes"], PNG.len());
    assert_eq!(v1["sha256"], sha256(PNG));

    // The same bytes again: a second, separate version (nothing is deduplicated away).
    let (status, body) = multipart(
        &f.app,
        Some(&a),
        doc!("resources/UploadResourceVersion"),
        json!({ "input": { "resourceId": resource } }),
        "logo-v2.png",
        "image/png",
        PNG,
        true,
    )
    .await;
    assert_eq!(status, 200);
    let v2 = Gql(body).data()["uploadResourceVersion"].clone();
    assert_eq!(v2["version"]["number"], 2);
    assert_eq!(v2["resource"]["versionCount"], 2);
    assert_eq!(v2["version"]["sha256"], v1["sha256"]);
    assert_ne!(v2["version"]["id"], v1["id"]);

    // The first version by its signed address (as an <img src> would), the second by bearer.
    let resp = f.get(v1["downloadUrl"].as_str().unwrap(), None, &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.headers()["content-length"], PNG.len().to_string().as_str());
    assert!(resp.headers()["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''logo.png"));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);
    let v2_uuid = zygo_uuid(v2["version"]["id"].as_str().unwrap());
    let path = format!("/resources/versions/{v2_uuid}/download");
    let resp = f.get(&path, Some(&a), &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);
    let resp = f.get(&path, Some(&a), &[("range", "bytes=1-3")]).await;
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.headers()["content-range"], format!("bytes 1-3/{}", PNG.len()).as_str());
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &PNG[1..4]);
    assert_eq!(f.get(&path, None, &[]).await.status(), 401);
    // An altered signature is refused.
    let forged = v1["downloadUrl"].as_str().unwrap().replace("sig=", "sig=x");
    assert_eq!(f.get(&forged, None, &[]).await.status(), 403);

    // Two whole downloads are logged (the ranged one started past the first byte).
    let r = f.resource(&f.owner, &resource).await;
    let res = &r.data()["resource"];
    assert_eq!(res["downloadCount"], 2);
    assert_eq!(res["downloads"]["totalCount"], 2);
    let log = &res["downloads"]["edges"][0]["node"];
    assert_eq!(log["versionId"], v1["id"]);
    assert_eq!(log["user"]["id"].as_str().is_some(), true);
    assert_eq!(log["userAgent"], "resource-test/1");
    assert_eq!(log["ip"], "127.0.0.1");
    assert_eq!(res["versions"]["totalCount"], 2);
}

/// The UUID inside a global ID.
fn zygo_uuid(global: &str) -> String {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(global).unwrap();
    String::from_utf8(raw).unwrap().split_once(':').unwrap().1.to_string()
}

#[tokio::test]
async fn uploads_keep_immutable_versions_and_downloads_stream_them_with_a_log() {
    let f = files("res-local", vec![]).await;
    upload_version_download_roundtrip(&f).await;
    assert_eq!(stored_files(&f.app.data_dir.join("files")), 2, "one stored object per version");
}

#[tokio::test]
async fn a_multipart_request_without_the_preflight_header_is_refused_and_stores_nothing() {
    let f = files("res-csrf", vec![]).await;
    let vars = json!({ "input": { "tenantId": f.tenant } });
    let (status, body) = multipart(
        &f.app,
        Some(&f.owner.access),
        doc!("resources/UploadResource"),
        vars,
        "a.txt",
        "text/plain",
        b"hi",
        false,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["extensions"]["code"], "PREFLIGHT_REQUIRED");
    assert_eq!(f.list(&f.owner, false).await["totalCount"], 0);
    assert_eq!(stored_files(&f.app.data_dir.join("files")), 0);
}

#[tokio::test]
async fn who_may_upload_follows_permissions_and_membership() {
    let f = files("res-perm", vec![]).await;
    let r = upload(&f.app, &f.viewer.access, &f.tenant, json!({}), "a.txt", b"hello").await;
    assert_eq!(r.code(), "FORBIDDEN");
    let outsider = f.app.verified_user("res-perm-outsider@example.com").await;
    let r = upload(&f.app, &outsider.access, &f.tenant, json!({}), "a.txt", b"hello").await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r =
        upload(&f.app, &f.member.access, &f.tenant, json!({ "folder": "a/../b" }), "a.txt", b"hello").await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.folder"));
    let r =
        upload(&f.app, &f.member.access, &f.tenant, json!({ "visibility": "TEAM" }), "a.txt", b"hello").await;
    assert_eq!(r.field(), "input.visibility");
    assert_eq!(stored_files(&f.app.data_dir.join("files")), 0, "refused before anything was stored");
}

#[tokio::test]
async fn private_files_are_seen_by_their_uploader_only() {
    let f = files("res-private", vec![]).await;
    let r =
        upload(&f.app, &f.member.access, &f.tenant, json!({ "visibility": "PRIVATE" }), "notes.txt", b"mine")
            .await;
    let id = r.data()["uploadResource"]["resource"]["id"].as_str().unwrap().to_string();
    let version = r.data()["uploadResource"]["version"]["id"].as_str().unwrap().to_string();
    assert_eq!(f.list(&f.member, false).await["totalCount"], 1);
    assert_eq!(f.list(&f.owner, false).await["totalCount"], 0);
    assert_eq!(f.resource(&f.owner, &id).await.code(), "NOT_FOUND");
    let path = format!("/resources/versions/{}/download", zygo_uuid(&version));
    assert_eq!(f.get(&path, Some(&f.owner.access), &[]).await.status(), 404);
    assert_eq!(f.get(&path, Some(&f.member.access), &[]).await.status(), 200);
}

#[tokio::test]
async fn share_links_expire_ask_for_their_password_can_be_revoked_and_are_logged() {
    let f = files("res-share", vec![]).await;
    let a = f.owner.access.clone();
    let r = upload(&f.app, &a, &f.tenant, json!({}), "plan.txt", b"the plan").await;
    let id = r.data()["uploadResource"]["resource"]["id"].as_str().unwrap().to_string();
    let create = |input: Value| {
        let app = &f.app;
        let a = a.clone();
        async move {
            app.gql(Some(&a), doc!("resources/CreateResourceShareLink"), json!({ "input": input })).await
        }
    };
    // Only a LINK-visible file is shared.
    let r = create(json!({ "resourceId": id })).await;
    assert_eq!(r.code(), "NOT_SHAREABLE");
    f.app
        .gql(
            Some(&a),
            doc!("resources/UpdateResource"),
            json!({ "input": { "resourceId": id, "visibility": "LINK" } }),
        )
        .await
        .data();
    let r = create(json!({ "resourceId": id, "password": "x" })).await;
    assert_eq!(r.field(), "input.password");
    let r = create(json!({ "resourceId": id, "expiresAt": (Utc::now() - Duration::hours(1)).to_rfc3339() }))
        .await;
    assert_eq!(r.field(), "input.expiresAt");
    let expires = f.clock.now() + Duration::hours(2);
    let r = create(json!({ "resourceId": id, "password": "open sesame", "expiresAt": expires.to_rfc3339() }))
        .await;
    let link = r.data()["createResourceShareLink"]["shareLink"].clone();
    assert_eq!(link["passwordProtected"], true);
    assert!(link["url"].as_str().unwrap().starts_with("http://zygo.test/share/"));
    let token = link["token"].as_str().unwrap().to_string();
    let shared = f.app.gql(None, doc!("resources/SharedResource"), json!({ "token": token })).await;
    let shared = &shared.data()["sharedResource"];
    assert_eq!(shared["passwordRequired"], true);
    assert_eq!(shared["filename"], "plan.txt");
    let path = shared["downloadPath"].as_str().unwrap().to_string();
    assert_eq!(f.get(&path, None, &[]).await.status(), 401);
    assert_eq!(f.get(&path, None, &[("x-share-password", "wrong")]).await.status(), 401);
    let resp = f.get(&path, None, &[("x-share-password", "open sesame")]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"the plan");
    // A forged token opens nothing.
    let forged = format!("{}x", &token);
    assert_eq!(f.get(&format!("/resources/share/{forged}"), None, &[]).await.status(), 404);

    let r = f.resource(&f.owner, &id).await;
    let res = &r.data()["resource"];
    assert_eq!(res["downloads"]["totalCount"], 1);
    assert_eq!(res["downloads"]["edges"][0]["node"]["shareLinkId"], link["id"]);
    assert_eq!(res["downloads"]["edges"][0]["node"]["user"], Value::Null);
    assert_eq!(res["shareLinks"]["edges"][0]["node"]["downloadCount"], 1);

    // Past its expiry the link opens nothing.
    f.clock.advance(Duration::hours(3));
    assert_eq!(f.get(&path, None, &[("x-share-password", "open sesame")]).await.status(), 404);
    let gone = f.app.gql(None, doc!("resources/SharedResource"), json!({ "token": token })).await;
    assert_eq!(gone.data()["sharedResource"], Value::Null);

    // A revoked link neither.
    let r = create(json!({ "resourceId": id })).await;
    let link = r.data()["createResourceShareLink"]["shareLink"].clone();
    let path = format!("/resources/share/{}", link["token"].as_str().unwrap());
    assert_eq!(f.get(&path, None, &[]).await.status(), 200);
    let r = f.app.gql(Some(&a), doc!("resources/RevokeResourceShareLink"), json!({ "id": link["id"] })).await;
    assert_eq!(r.data()["revokeResourceShareLink"]["shareLink"]["active"], false);
    assert_eq!(f.get(&path, None, &[]).await.status(), 404);
    // The viewer may not share.
    let r = f
        .app
        .gql(
            Some(&f.viewer.access),
            doc!("resources/CreateResourceShareLink"),
            json!({ "input": { "resourceId": id } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}

#[tokio::test]
async fn an_upload_beyond_the_storage_quota_is_refused_and_stores_nothing() {
    let plans = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/plans-storage.json").to_string();
    let f = files("res-quota", vec![("ZYGO_BILLING_PLANS_FILE", plans)]).await;
    let a = f.owner.access.clone();
    upload(&f.app, &a, &f.tenant, json!({}), "a.bin", &[7u8; 600]).await.data();
    let r = upload(&f.app, &a, &f.tenant, json!({}), "b.bin", &[7u8; 600]).await;
    assert_eq!(r.code(), "QUOTA_EXCEEDED");
    assert_eq!(r.0["errors"][0]["extensions"]["limit"], "storageBytes");
    assert_eq!(r.0["errors"][0]["extensions"]["used"], 600);
    assert_eq!(f.list(&f.owner, false).await["totalCount"], 1);
    assert_eq!(stored_files(&f.app.data_dir.join("files")), 1, "the refused file was not kept");
    // Billing meters the bytes stored.
    let usage = f.app.gql(Some(&a), doc!("billing/TenantBilling"), json!({ "id": f.tenant })).await;
    let rows = usage.data()["tenant"]["usage"].as_array().unwrap().clone();
    let storage = rows.iter().find(|u| u["limit"] == "STORAGE_BYTES").expect("storage in the usage");
    assert_eq!((storage["used"].clone(), storage["metered"].clone()), (json!(600), json!(true)));
    // What fits still goes in.
    upload(&f.app, &a, &f.tenant, json!({}), "c.bin", &[7u8; 400]).await.data();
}

#[tokio::test]
async fn a_file_beyond_the_size_limit_is_refused() {
    let f = files("res-size", vec![("ZYGO_RESOURCE_MAX_BYTES", "100".into())]).await;
    let a = f.owner.access.clone();
    upload(&f.app, &a, &f.tenant, json!({}), "ok.bin", &[1u8; 100]).await.data();
    let vars = json!({ "input": { "tenantId": f.tenant } });
    let (status, body) = multipart(
        &f.app,
        Some(&a),
        doc!("resources/UploadResource"),
        vars,
        "big.bin",
        "application/octet-stream",
        &vec![1u8; 2 << 20],
        true,
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(body["errors"][0]["extensions"]["code"], "FILE_TOO_LARGE");
    let r = upload(&f.app, &a, &f.tenant, json!({}), "big.bin", &[1u8; 101]).await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("FILE_TOO_LARGE", "input.file"));
    assert_eq!(f.list(&f.owner, false).await["totalCount"], 1);
}

#[tokio::test]
async fn a_deleted_file_goes_to_the_bin_and_comes_back() {
    let f = files("res-bin", vec![]).await;
    let a = f.owner.access.clone();
    let r = upload(&f.app, &a, &f.tenant, json!({}), "old.txt", b"old").await;
    let id = r.data()["uploadResource"]["resource"]["id"].as_str().unwrap().to_string();
    let version = r.data()["uploadResource"]["version"]["id"].as_str().unwrap().to_string();
    let r = f.app.gql(Some(&f.member.access), doc!("resources/DeleteResource"), json!({ "id": id })).await;
    assert_eq!(r.code(), "FORBIDDEN", "members may not delete");
    let r = f.app.gql(Some(&a), doc!("resources/DeleteResource"), json!({ "id": id })).await;
    assert!(r.data()["deleteResource"]["resource"]["deletedAt"].is_string());
    assert_eq!(f.list(&f.owner, false).await["totalCount"], 0);
    assert_eq!(f.list(&f.owner, true).await["totalCount"], 1);
    let path = format!("/resources/versions/{}/download", zygo_uuid(&version));
    assert_eq!(f.get(&path, Some(&a), &[]).await.status(), 404, "a file in the bin is not served");
    let r = f.app.gql(Some(&a), doc!("resources/DeleteResource"), json!({ "id": id })).await;
    assert_eq!(r.code(), "ALREADY_DELETED");
    let r = f.app.gql(Some(&a), doc!("resources/RestoreResource"), json!({ "id": id })).await;
    assert_eq!(r.data()["restoreResource"]["resource"]["deletedAt"], Value::Null);
    assert_eq!(f.list(&f.owner, false).await["totalCount"], 1);
    assert_eq!(f.get(&path, Some(&a), &[]).await.status(), 200);
}

#[tokio::test]
async fn purging_a_file_from_the_bin_removes_its_bytes_and_frees_the_quota() {
    let plans = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/plans-storage.json").to_string();
    let f = files("res-purge", vec![("ZYGO_BILLING_PLANS_FILE", plans)]).await;
    let a = f.owner.access.clone();
    let r = upload(&f.app, &a, &f.tenant, json!({}), "big.bin", &[3u8; 900]).await;
    let id = r.data()["uploadResource"]["resource"]["id"].as_str().unwrap().to_string();
    let dir = f.app.data_dir.join("files");
    let purge = |id: String| {
        let (app, a) = (&f.app, a.clone());
        async move { app.gql(Some(&a), doc!("resources/PurgeResource"), json!({ "id": id })).await }
    };
    assert_eq!(purge(id.clone()).await.code(), "NOT_DELETED", "only from the bin");
    f.app.gql(Some(&a), doc!("resources/DeleteResource"), json!({ "id": id })).await.data();
    // In the bin it still counts: restorable.
    assert_eq!(
        upload(&f.app, &a, &f.tenant, json!({}), "more.bin", &[3u8; 200]).await.code(),
        "QUOTA_EXCEEDED"
    );
    let r = f.app.gql(Some(&f.member.access), doc!("resources/PurgeResource"), json!({ "id": id })).await;
    assert_eq!(r.code(), "FORBIDDEN");
    purge(id.clone()).await.data();
    assert_eq!(f.resource(&f.owner, &id).await.code(), "NOT_FOUND");
    // The bytes leave storage through the job queued with the purge.
    assert_eq!(stored_files(&dir), 1);
    zygo::jobs::drain(&f.app.ctx).await.unwrap();
    assert_eq!(stored_files(&dir), 0);
    upload(&f.app, &a, &f.tenant, json!({}), "more.bin", &[3u8; 200]).await.data();
}

/// `moto_server` with a bucket; killed when dropped.
async fn moto(bucket: &str) -> crate::moto::Moto {
    let moto = crate::moto::start(
        std::process::Command::new("moto_server"),
        "moto_server must be installed (pip install 'moto[server]'; scripts/test.sh does)",
    )
    .await;
    let r = reqwest::Client::new().put(format!("{}/{bucket}", moto.endpoint)).send().await.unwrap();
    assert!(r.status().is_success(), "bucket created: {}", r.status());
    moto
}

#[tokio::test]
async fn files_live_in_an_s3_bucket_when_one_is_configured() {
    let s3 = moto("zygo-files").await;
    let env = vec![
        ("ZYGO_STORAGE_URL", "s3://zygo-files/tenants".to_string()),
        ("ZYGO_STORAGE_ENDPOINT", s3.endpoint.clone()),
        ("ZYGO_STORAGE_ACCESS_KEY_ID", "testing".into()),
        ("ZYGO_STORAGE_SECRET_ACCESS_KEY", "testing".into()),
    ];
    let f = files("res-s3", env).await;
    upload_version_download_roundtrip(&f).await;
    assert_eq!(stored_files(&f.app.data_dir.join("files")), 0, "nothing on the local disk");
    let listing =
        reqwest::get(format!("{}/zygo-files?list-type=2", s3.endpoint)).await.unwrap().text().await.unwrap();
    assert_eq!(listing.matches("<Key>tenants/").count(), 2, "both versions in the bucket: {listing}");
}

#[tokio::test]
async fn studio_image_and_embed_sections_reference_versions_the_editor_may_see() {
    let f = files("res-studio", vec![]).await;
    let a = f.owner.access.clone();
    let team = f
        .app
        .gql(
            Some(&a),
            doc!("teams/CreateTeam"),
            json!({ "input": { "tenantId": f.tenant, "name": "Design" } }),
        )
        .await
        .data()["createTeam"]["team"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let created = f
        .app
        .gql(
            Some(&a),
            doc!("studio/CreateDocument"),
            json!({ "input": { "teamId": team, "title": "Brand" } }),
        )
        .await;
    let page = created.data()["createDocument"]["document"]["pages"][0]["id"].as_str().unwrap().to_string();
    let mut revision = created.data()["createDocument"]["document"]["revision"].as_i64().unwrap();
    let png = upload(&f.app, &a, &f.tenant, json!({}), "logo.png", PNG).await;
    let png_version = png.data()["uploadResource"]["version"]["id"].as_str().unwrap().to_string();
    let text = upload(&f.app, &a, &f.tenant, json!({}), "notes.txt", b"plain words").await;
    let text_version = text.data()["uploadResource"]["version"]["id"].as_str().unwrap().to_string();
    let private =
        upload(&f.app, &f.member.access, &f.tenant, json!({ "visibility": "PRIVATE" }), "p.png", PNG).await;
    let private_version = private.data()["uploadResource"]["version"]["id"].as_str().unwrap().to_string();
    let mut add = async |kind: &str, version: &str| {
        let input = json!({ "pageId": page, "baseRevision": revision, "kind": kind,
            "content": { "resourceVersionId": version, "alt": "logo" } });
        let r = f.app.gql(Some(&a), doc!("studio/AddSection"), json!({ "input": input })).await;
        if r.0.get("errors").is_none() {
            revision = r.data()["addSection"]["document"]["revision"].as_i64().unwrap();
        }
        r
    };
    let r = add("IMAGE", &png_version).await;
    assert_eq!(r.data()["addSection"]["section"]["content"]["resourceVersionId"], png_version.as_str());
    add("EMBED", &text_version).await.data();
    let r = add("IMAGE", &text_version).await;
    assert_eq!(r.field(), "input.content.resourceVersionId", "an IMAGE shows images only");
    let r = add("EMBED", &private_version).await;
    assert_eq!(r.field(), "input.content.resourceVersionId", "another's private file is not embedded");
    let r = add("EMBED", &png.data()["uploadResource"]["resource"]["id"].as_str().unwrap().to_string()).await;
    assert_eq!(r.field(), "input.content.resourceVersionId", "a resource is not a version");
    // Another organisation's version is unknown here.
    let other = f.app.create_tenant(&f.owner, "res-studio-b").await;
    let foreign = upload(&f.app, &a, &other, json!({}), "x.png", PNG).await;
    let foreign_version = foreign.data()["uploadResource"]["version"]["id"].as_str().unwrap().to_string();
    assert_eq!(add("IMAGE", &foreign_version).await.field(), "input.content.resourceVersionId");
}
