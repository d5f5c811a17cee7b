//! Data collection end to end: the catalog administered by platform administrators and what
//! organisations are granted, projects with project roles, the sample collector filling a
//! folder (and a re-collection updating metrics instead of duplicating), per-line input
//! errors, jobs through the BrightData fake (tests/clients/brightdata-fake.mjs) finished by
//! the authenticated notification (forged refused, replay ignored) or by polling when none
//! comes, PARTIAL and FAILED outcomes, folder moves with the cycle check, and record filters.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use zygo::{ctx::Clock, jobs::drain};

use crate::{doc, helpers::*};

const ADMIN: &str = "platform@example.com";
const TOKEN: &str = "bd-test-token";
const HOOK_SECRET: &str = "notify-secret-0123456789";

pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) clock: Clock,
    pub(crate) admin: Session,
    pub(crate) owner: Session,
    pub(crate) tenant: String,
}

pub(crate) async fn world() -> World {
    world_with(vec![]).await
}

pub(crate) async fn world_with(env: Vec<(&'static str, String)>) -> World {
    let clock = Clock::manual(Utc::now());
    let opts = Options { clock: Some(clock.clone()), env, ..Default::default() };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let admin = app.platform_operator(ADMIN, "super-admin").await.0;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    World { app, clock, admin, owner, tenant }
}

impl World {
    pub(crate) async fn gql(&self, who: &Session, path: &str, vars: Value) -> Gql {
        self.app.gql(Some(&who.access), path, vars).await
    }

    pub(crate) async fn project(&self, who: &Session, name: &str) -> String {
        let r = self
            .gql(
                who,
                doc!("collection/CreateProject"),
                json!({ "input": { "tenantId": self.tenant, "name": name } }),
            )
            .await;
        r.data()["createProject"]["project"]["id"].as_str().unwrap().to_string()
    }

    pub(crate) async fn collector(&self, who: &Session, name: &str) -> String {
        let r = self.gql(who, doc!("collection/AvailableCollectors"), json!({ "id": self.tenant })).await;
        r.data()["tenant"]["availableCollectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no collector {name} in {}", r.0))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub(crate) async fn start(&self, who: &Session, project: &str, collector: &str, urls: &str) -> Gql {
        self.gql(
            who,
            doc!("collection/StartCollectionJob"),
            json!({ "input": { "projectId": project, "collectorId": collector, "urls": urls } }),
        )
        .await
    }

    pub(crate) async fn job(&self, who: &Session, id: &str) -> Value {
        self.gql(who, doc!("collection/CollectionJob"), json!({ "id": id })).await.data()["collectionJob"]
            .clone()
    }

    pub(crate) async fn records(&self, who: &Session, folder: &str, filter: Value) -> Value {
        self.gql(
            who,
            doc!("collection/FolderRecords"),
            json!({ "id": folder, "filter": filter, "first": 100 }),
        )
        .await
        .data()["collectionFolder"]
            .clone()
    }

    pub(crate) async fn drain(&self) {
        drain(&self.app.ctx).await.unwrap();
    }

    /// A BrightData Instagram reels service granted to every organisation, credentials set,
    /// and the fake told where the app listens.
    pub(crate) async fn brightdata(&self, base: &str) -> reqwest::Client {
        let http = reqwest::Client::new();
        http.post(format!("{base}/_config"))
            .json(&json!({ "notifyBase": self.app.url("") .trim_end_matches('/') }))
            .send()
            .await
            .unwrap();
        let svc = self.brightdata_service().await;
        self.gql(
            &self.admin,
            doc!("collection/SetCollectorGrant"),
            json!({ "input": { "serviceId": svc, "plan": "*", "allowed": true } }),
        )
        .await
        .data();
        self.gql(
            &self.admin,
            doc!("collection/SetBrightDataCredentials"),
            json!({ "input": { "environment": "development", "apiToken": TOKEN, "webhookSecret": HOOK_SECRET } }),
        )
        .await
        .data();
        http
    }

    async fn brightdata_service(&self) -> String {
        let r = self.gql(&self.admin, doc!("collection/CollectionCatalog"), json!({})).await;
        let instagram = r.data()["collectionPlatforms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == "instagram")
            .unwrap()["id"]
            .clone();
        let r = self
            .gql(
                &self.admin,
                doc!("collection/CreatePlatformService"),
                json!({ "input": {
                    "platformId": instagram, "serviceType": "reels", "name": "Instagram reels",
                    "provider": "BRIGHTDATA", "datasetId": "gd_lk5ns7kz21pck8jpis",
                    "inputSchema": { "type": "object", "properties": { "num_of_posts": { "type": "integer", "maximum": 50 } } },
                    "outputMapping": { "author": "user_posted", "text": "description" }
                } }),
            )
            .await;
        r.data()["createPlatformService"]["id"].as_str().unwrap().to_string()
    }
}

/// An app using the BrightData fake (started first: the app reads its URL at start).
pub(crate) async fn brightdata_world() -> (World, NodeService, String) {
    let fake = NodeService::start("brightdata-fake.mjs", &[], &[("TOKEN", TOKEN)]);
    let base = format!("http://127.0.0.1:{}", fake.info["port"]);
    let w = world_with(vec![("ZYGO_BRIGHTDATA_API_URL", base.clone())]).await;
    (w, fake, base)
}

async fn fake_state(http: &reqwest::Client, base: &str) -> Vec<Value> {
    let r: Value = http.get(format!("{base}/_state")).send().await.unwrap().json().await.unwrap();
    r["triggers"].as_array().unwrap().clone()
}

pub(crate) async fn fake_post(http: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    http.post(format!("{base}{path}")).json(&body).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn the_catalog_is_administered_by_platform_admins_and_organisations_see_only_their_grants() {
    let w = world().await;
    // Not a platform administrator: refused, whatever they own.
    let r = w.gql(&w.owner, doc!("collection/CollectionCatalog"), json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN");
    let svc = w.brightdata_service().await;
    // A bad JSON Schema and an unknown record field are named.
    let platform =
        w.gql(&w.admin, doc!("collection/CollectionCatalog"), json!({})).await.data()["collectionPlatforms"]
            [0]["id"]
            .clone();
    let bad = w
        .gql(
            &w.admin,
            doc!("collection/CreatePlatformService"),
            json!({ "input": { "platformId": platform, "serviceType": "profiles", "name": "x", "provider": "SAMPLE",
                "datasetId": "s", "inputSchema": { "type": "nonsense" } } }),
        )
        .await;
    assert_eq!((bad.code().as_str(), bad.field().as_str()), ("BAD_USER_INPUT", "input.inputSchema"));
    let bad = w
        .gql(
            &w.admin,
            doc!("collection/CreatePlatformService"),
            json!({ "input": { "platformId": platform, "serviceType": "profiles", "name": "x", "provider": "SAMPLE",
                "datasetId": "s", "inputSchema": {}, "outputMapping": { "colour": "c" } } }),
        )
        .await;
    assert_eq!(bad.field(), "input.outputMapping");

    let names = |r: &Gql| -> Vec<String> {
        r.data()["tenant"]["availableCollectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    let seen = w.gql(&w.owner, doc!("collection/AvailableCollectors"), json!({ "id": w.tenant })).await;
    assert_eq!(names(&seen), vec!["Instagram posts (sample)", "TikTok posts (sample)"], "not granted yet");
    // Granted to the organisation's plan (the default plan is `free`).
    w.gql(
        &w.admin,
        doc!("collection/SetCollectorGrant"),
        json!({ "input": { "serviceId": svc, "plan": "free", "allowed": true } }),
    )
    .await
    .data();
    let seen = w.gql(&w.owner, doc!("collection/AvailableCollectors"), json!({ "id": w.tenant })).await;
    assert!(names(&seen).contains(&"Instagram reels".to_string()));
    // An override for this organisation refuses it although its plan has it.
    w.gql(
        &w.admin,
        doc!("collection/SetCollectorGrant"),
        json!({ "input": { "serviceId": svc, "organisationId": w.tenant, "allowed": false } }),
    )
    .await
    .data();
    let seen = w.gql(&w.owner, doc!("collection/AvailableCollectors"), json!({ "id": w.tenant })).await;
    assert!(!names(&seen).contains(&"Instagram reels".to_string()));
    // Switched off in bulk: gone for everyone.
    let sample = w.collector(&w.owner, "TikTok posts (sample)").await;
    w.gql(
        &w.admin,
        doc!("collection/SetPlatformServicesEnabled"),
        json!({ "input": { "serviceIds": [sample], "enabled": false } }),
    )
    .await
    .data();
    let seen = w.gql(&w.owner, doc!("collection/AvailableCollectors"), json!({ "id": w.tenant })).await;
    assert_eq!(names(&seen), vec!["Instagram posts (sample)"]);
}

#[tokio::test]
async fn a_sample_collection_fills_a_folder_and_collecting_again_updates_metrics_without_duplicates() {
    let w = world().await;
    let project = w.project(&w.owner, "Summer campaign").await;
    let sample = w.collector(&w.owner, "Instagram posts (sample)").await;
    let urls = "https://www.instagram.com/p/AAA/\nhttp://m.instagram.com/p/BBB?utm_source=x\nhttps://instagram.com/p/AAA";
    let r = w.start(&w.owner, &project, &sample, urls).await;
    let job = r.data()["startCollectionJob"]["job"].clone();
    assert_eq!(job["status"], "PENDING");
    assert_eq!(job["inputCount"], 2, "normalised and de-duplicated");
    w.drain().await;
    let done = w.job(&w.owner, job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["recordCount"], 6);
    assert!(done["inputs"].as_array().unwrap().iter().all(|i| i["status"] == "collected"));
    // Whoever started it is told.
    let told = crate::notifications::inbox(&w.app, &w.owner).await;
    assert!(
        told.iter().any(|n| n["kind"] == "COLLECTION_FINISHED"
            && n["title"].as_str().unwrap().ends_with("finished")
            && n["body"] == "6 records collected."),
        "{told:?}"
    );
    let folder = done["folderId"].as_str().unwrap().to_string();
    let first = w.records(&w.owner, &folder, json!(null)).await;
    assert_eq!(first["records"]["totalCount"], 6);
    assert_eq!(first["recordCount"], 6);
    let likes_before = first["records"]["edges"][0]["node"]["likes"].as_i64().unwrap();
    let id_before = first["records"]["edges"][0]["node"]["id"].clone();
    // The job's folder sits under the service type's folder.
    let p = w.gql(&w.owner, doc!("collection/Project"), json!({ "id": project })).await;
    let folders = p.data()["project"]["folders"].as_array().unwrap().clone();
    let parent = folders.iter().find(|f| f["name"] == "Posts").expect("the service type's folder");
    assert!(folders.iter().any(|f| f["id"] == folder.as_str() && f["parentId"] == parent["id"]));

    // Hours later the same posts are collected again into the same folder.
    w.clock.advance(Duration::hours(6));
    let r = w
        .gql(
            &w.owner,
            doc!("collection/StartCollectionJob"),
            json!({ "input": { "projectId": project, "collectorId": sample, "urls": "https://www.instagram.com/p/AAA", "folderId": folder } }),
        )
        .await;
    let again = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    assert_eq!(w.job(&w.owner, &again).await["recordCount"], 3);
    let after = w.records(&w.owner, &folder, json!(null)).await;
    assert_eq!(after["records"]["totalCount"], 6, "seen again, not duplicated");
    let same =
        after["records"]["edges"].as_array().unwrap().iter().find(|e| e["node"]["id"] == id_before).unwrap();
    assert!(same["node"]["likes"].as_i64().unwrap() > likes_before, "metrics updated");
    // New records are metered; seen-again ones are not.
    let billing = w.gql(&w.owner, doc!("billing/TenantBilling"), json!({ "id": w.tenant })).await;
    let usage = billing.data()["tenant"]["usage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["limit"] == "COLLECTED_RECORDS_PER_MONTH")
        .unwrap()
        .clone();
    assert_eq!((usage["used"].as_i64(), usage["metered"].as_bool()), (Some(6), Some(true)), "{usage}");
}

#[tokio::test]
async fn bad_urls_are_reported_by_line_and_nothing_is_created() {
    let w = world().await;
    let project = w.project(&w.owner, "P").await;
    let sample = w.collector(&w.owner, "Instagram posts (sample)").await;
    let r = w
        .start(
            &w.owner,
            &project,
            &sample,
            "https://www.instagram.com/p/OK\nnot a url\nhttps://www.tiktok.com/@x/video/1",
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.urls"));
    assert!(
        r.message().contains("line 2: not a URL")
            && r.message().contains("line 3: not an address of Instagram"),
        "{}",
        r.message()
    );
    let bad = w
        .gql(
            &w.owner,
            doc!("collection/StartCollectionJob"),
            json!({ "input": { "projectId": project, "collectorId": sample, "urls": "https://www.instagram.com/p/OK", "parameters": { "num_of_posts": 0 } } }),
        )
        .await;
    assert_eq!(bad.field(), "input.parameters.num_of_posts");
    let p = w.gql(&w.owner, doc!("collection/Project"), json!({ "id": project })).await;
    assert_eq!(p.data()["project"]["collectionJobs"].as_array().unwrap().len(), 0);
    assert_eq!(p.data()["project"]["folders"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_brightdata_job_ends_through_its_authenticated_notification_and_a_replay_or_forgery_changes_nothing()
 {
    let (w, _fake, base) = brightdata_world().await;
    let http = w.brightdata(&base).await;
    let project = w.project(&w.owner, "P").await;
    let reels = w.collector(&w.owner, "Instagram reels").await;
    let r = w
        .gql(
            &w.owner,
            doc!("collection/StartCollectionJob"),
            json!({ "input": { "projectId": project, "collectorId": reels,
                "urls": "https://www.instagram.com/reel/R1\nhttps://www.instagram.com/reel/R2",
                "parameters": { "num_of_posts": 10 } } }),
        )
        .await;
    let job = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    let triggered = w.job(&w.owner, &job).await;
    assert_eq!(triggered["status"], "TRIGGERED");
    let snapshot = triggered["snapshotId"].as_str().unwrap().to_string();
    let trig = fake_state(&http, &base).await.remove(0);
    assert_eq!(trig["dataset_id"], "gd_lk5ns7kz21pck8jpis");
    assert_eq!(trig["auth_header"], HOOK_SECRET);
    assert_eq!(trig["include_errors"], "true");
    assert_eq!(
        trig["inputs"],
        json!([
            { "url": "https://www.instagram.com/reel/R1", "num_of_posts": 10 },
            { "url": "https://www.instagram.com/reel/R2", "num_of_posts": 10 }
        ])
    );
    assert!(
        trig["notify"].as_str().unwrap().starts_with("http://zygo.test/collection/brightdata/notify?job=")
    );

    // A forged notification (another secret) is refused and queues nothing.
    let forged =
        fake_post(&http, &base, "/_notify", json!({ "snapshot_id": snapshot, "authorization": "guess" }))
            .await;
    assert_eq!(forged["status"], 401);
    w.drain().await;
    assert_eq!(w.job(&w.owner, &job).await["status"], "TRIGGERED");

    let fin = fake_post(
        &http,
        &base,
        "/_finish",
        json!({ "snapshot_id": snapshot, "status": "ready", "notify": true }),
    )
    .await;
    assert_eq!(fin["notifyStatus"], 200, "{fin}");
    w.drain().await;
    let done = w.job(&w.owner, &job).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["recordCount"], 2);
    let recs = w.records(&w.owner, done["folderId"].as_str().unwrap(), json!(null)).await;
    let node = &recs["records"]["edges"][0]["node"];
    assert_eq!((node["author"].as_str(), node["serviceType"].as_str()), (Some("natgeo"), Some("reels")));
    assert_eq!(node["hashtags"], json!(["nature", "travel"]));
    assert_eq!(node["raw"]["post_id"].as_str().map(|s| s.starts_with('3')), Some(true));

    // The same notification again: acknowledged, nothing downloaded or saved twice.
    let replay = fake_post(&http, &base, "/_notify", json!({ "snapshot_id": snapshot })).await;
    assert_eq!(replay["status"], 200);
    assert!(replay["body"].as_str().unwrap().contains("duplicate"));
    w.drain().await;
    assert_eq!(fake_state(&http, &base).await[0]["downloads"], 1);
    assert_eq!(w.job(&w.owner, &job).await["recordCount"], 2);
}

#[tokio::test]
async fn a_brightdata_job_without_a_notification_ends_by_polling_and_dead_inputs_make_it_partial() {
    let (w, _fake, base) = brightdata_world().await;
    let http = w.brightdata(&base).await;
    let project = w.project(&w.owner, "P").await;
    let reels = w.collector(&w.owner, "Instagram reels").await;
    let r = w
        .start(
            &w.owner,
            &project,
            &reels,
            "https://www.instagram.com/reel/OK1\nhttps://www.instagram.com/reel/dead",
        )
        .await;
    let job = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    let snapshot = w.job(&w.owner, &job).await["snapshotId"].as_str().unwrap().to_string();
    // The first poll finds it running.
    w.clock.advance(Duration::seconds(61));
    w.drain().await;
    assert_eq!(w.job(&w.owner, &job).await["status"], "RUNNING");
    // It ends, but no notification comes: the next poll finds it ready.
    fake_post(
        &http,
        &base,
        "/_finish",
        json!({ "snapshot_id": snapshot, "status": "ready", "notify": false }),
    )
    .await;
    w.clock.advance(Duration::seconds(61));
    w.drain().await;
    let done = w.job(&w.owner, &job).await;
    assert_eq!(done["status"], "PARTIAL", "{done}");
    assert_eq!((done["recordCount"].as_i64(), done["errorCount"].as_i64()), (Some(1), Some(1)));
    let dead = done["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["url"].as_str().unwrap().ends_with("dead"))
        .unwrap();
    assert_eq!((dead["status"].as_str(), dead["error"].as_str()), (Some("failed"), Some("Page not found")));
}

#[tokio::test]
async fn a_failed_brightdata_collection_fails_the_job_with_its_message() {
    let (w, _fake, base) = brightdata_world().await;
    let http = w.brightdata(&base).await;
    let project = w.project(&w.owner, "P").await;
    let reels = w.collector(&w.owner, "Instagram reels").await;
    let r = w.start(&w.owner, &project, &reels, "https://www.instagram.com/reel/X").await;
    let job = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    let snapshot = w.job(&w.owner, &job).await["snapshotId"].as_str().unwrap().to_string();
    fake_post(
        &http,
        &base,
        "/_finish",
        json!({ "snapshot_id": snapshot, "status": "failed", "notify": true }),
    )
    .await;
    w.drain().await;
    let done = w.job(&w.owner, &job).await;
    assert_eq!(done["status"], "FAILED");
    assert!(done["error"].as_str().unwrap().contains("target blocked"), "{done}");
    let told = crate::notifications::inbox(&w.app, &w.owner).await;
    assert!(
        told.iter()
            .any(|n| n["kind"] == "COLLECTION_FINISHED" && n["title"].as_str().unwrap().ends_with("failed")),
        "{told:?}"
    );
}

#[tokio::test]
async fn projects_are_seen_only_by_their_members_and_the_project_role_decides_changes() {
    let w = world().await;
    let project = w.project(&w.owner, "Secret launch").await;
    let (member, _) = w.app.join_as(&w.owner, &w.tenant, "member@example.com", "member").await;
    // Not in the project: it does not exist for them.
    let r = w.gql(&member, doc!("collection/Project"), json!({ "id": project })).await;
    assert_eq!(r.code(), "NOT_FOUND");
    let list = w.gql(&member, doc!("collection/TenantProjects"), json!({ "id": w.tenant })).await;
    assert_eq!(list.data()["tenant"]["projects"], json!([]));
    // A viewer of the project reads it but cannot collect into it.
    w.gql(
        &w.owner,
        doc!("collection/SetProjectMember"),
        json!({ "input": { "projectId": project, "userId": member.user_id, "role": "VIEWER" } }),
    )
    .await
    .data();
    let r = w.gql(&member, doc!("collection/Project"), json!({ "id": project })).await;
    assert_eq!(r.data()["project"]["viewerRole"], "VIEWER");
    let sample = w.collector(&member, "Instagram posts (sample)").await;
    assert_eq!(
        w.start(&member, &project, &sample, "https://www.instagram.com/p/A").await.code(),
        "FORBIDDEN"
    );
    // As an editor they can.
    w.gql(
        &w.owner,
        doc!("collection/SetProjectMember"),
        json!({ "input": { "projectId": project, "userId": member.user_id, "role": "EDITOR" } }),
    )
    .await
    .data();
    w.start(&member, &project, &sample, "https://www.instagram.com/p/A").await.data();
    // Only an owner manages members; the last owner stays.
    let r = w
        .gql(
            &member,
            doc!("collection/RemoveProjectMember"),
            json!({ "input": { "projectId": project, "userId": w.owner.user_id } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w
        .gql(
            &w.owner,
            doc!("collection/RemoveProjectMember"),
            json!({ "input": { "projectId": project, "userId": w.owner.user_id } }),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    // Another organisation's owner reaches nothing.
    let stranger = w.app.verified_user("stranger@example.com").await;
    w.app.create_tenant(&stranger, "other").await;
    assert_eq!(
        w.gql(&stranger, doc!("collection/Project"), json!({ "id": project })).await.code(),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn folders_move_without_cycles_and_a_non_empty_folder_is_deleted_only_with_its_contents() {
    let w = world().await;
    let project = w.project(&w.owner, "P").await;
    let mk = |name: &'static str, parent: Option<String>| {
        let w = &w;
        let project = project.clone();
        async move {
            let r = w
                .gql(
                    &w.owner,
                    doc!("collection/CreateCollectionFolder"),
                    json!({ "input": { "projectId": project, "parentFolderId": parent, "name": name } }),
                )
                .await;
            r.data()["createCollectionFolder"]["folder"]["id"].as_str().unwrap().to_string()
        }
    };
    let a = mk("A", None).await;
    let b = mk("B", Some(a.clone())).await;
    let c = mk("C", Some(b.clone())).await;
    let r = w
        .gql(
            &w.owner,
            doc!("collection/UpdateCollectionFolder"),
            json!({ "input": { "folderId": a, "parentFolderId": c } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.parentFolderId"));
    let r = w
        .gql(
            &w.owner,
            doc!("collection/UpdateCollectionFolder"),
            json!({ "input": { "folderId": c, "toTop": true, "name": "C2" } }),
        )
        .await;
    assert_eq!(r.data()["updateCollectionFolder"]["folder"]["parentId"], Value::Null);
    // Records into B, then moved to C2.
    let sample = w.collector(&w.owner, "Instagram posts (sample)").await;
    let r = w
        .gql(&w.owner, doc!("collection/StartCollectionJob"), json!({ "input": { "projectId": project, "collectorId": sample, "urls": "https://www.instagram.com/p/Z", "folderId": b } }))
        .await;
    r.data();
    w.drain().await;
    let recs = w.records(&w.owner, &b, json!(null)).await;
    let ids: Vec<Value> = recs["records"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .take(2)
        .collect();
    let r = w
        .gql(
            &w.owner,
            doc!("collection/MoveCollectedRecords"),
            json!({ "input": { "recordIds": ids, "folderId": c } }),
        )
        .await;
    assert_eq!(r.data()["moveCollectedRecords"]["moved"], 2);
    assert_eq!(w.records(&w.owner, &c, json!(null)).await["recordCount"], 2);
    // A holds B: refused without `withContents`, everything goes with it.
    let r = w.gql(&w.owner, doc!("collection/DeleteCollectionFolder"), json!({ "id": a })).await;
    assert_eq!(r.code(), "CONFLICT");
    w.gql(&w.owner, doc!("collection/DeleteCollectionFolder"), json!({ "id": a, "withContents": true }))
        .await
        .data();
    let p = w.gql(&w.owner, doc!("collection/Project"), json!({ "id": project })).await;
    let names: Vec<&str> = p.data()["project"]["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["C2"]);
}

#[tokio::test]
async fn records_are_filtered_by_words_hashtag_engagement_and_author() {
    let w = world().await;
    let project = w.project(&w.owner, "P").await;
    let sample = w.collector(&w.owner, "Instagram posts (sample)").await;
    let r = w.start(&w.owner, &project, &sample, "https://www.instagram.com/p/one\nhttps://www.instagram.com/p/two\nhttps://www.instagram.com/p/three").await;
    let job = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    let folder = w.job(&w.owner, &job).await["folderId"].as_str().unwrap().to_string();
    let all = w.records(&w.owner, &folder, json!(null)).await;
    let nodes: Vec<Value> =
        all["records"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect();
    assert_eq!(nodes.len(), 9);
    let count = |f: &dyn Fn(&Value) -> bool| nodes.iter().filter(|n| f(n)).count() as i64;
    let tag = nodes[0]["hashtags"][0].as_str().unwrap().to_string();
    let r = w.records(&w.owner, &folder, json!({ "hashtag": format!("#{tag}") })).await;
    assert_eq!(
        r["records"]["totalCount"],
        count(&|n| n["hashtags"].as_array().unwrap().iter().any(|h| h == tag.as_str()))
    );
    let word = tag.to_uppercase();
    let r = w.records(&w.owner, &folder, json!({ "search": word })).await;
    assert_eq!(
        r["records"]["totalCount"],
        count(&|n| n["text"].as_str().unwrap().to_lowercase().contains(&tag)
            || n["author"].as_str().unwrap().contains(&tag))
    );
    let median = {
        let mut l: Vec<i64> = nodes.iter().map(|n| n["likes"].as_i64().unwrap()).collect();
        l.sort();
        l[4]
    };
    let r = w.records(&w.owner, &folder, json!({ "minLikes": median })).await;
    assert_eq!(r["records"]["totalCount"], count(&|n| n["likes"].as_i64().unwrap() >= median));
    let r = w.records(&w.owner, &folder, json!({ "author": "two", "maxLikes": 1_000_000 })).await;
    assert_eq!(r["records"]["totalCount"], 3);
    let r = w.records(&w.owner, &folder, json!({ "search": "100%_nothing" })).await;
    assert_eq!(r["records"]["totalCount"], 0, "LIKE wildcards are matched literally");
}

#[tokio::test]
async fn collection_job_updated_streams_a_projects_job_through_its_states() {
    const GAUGE: &str = "zygo_subscriptions_active";
    let w = world().await;
    let project = w.project(&w.owner, "Live").await;
    let other = w.project(&w.owner, "Elsewhere").await;
    let sample = w.collector(&w.owner, "Instagram posts (sample)").await;
    let base = w.app.metric(GAUGE).await;
    let mut ws = WsClient::connect(&w.app, "graphql-transport-ws").await;
    ws.init(Some(&w.owner.access)).await.expect("ack");
    ws.subscribe("1", doc!("collection/CollectionJobUpdated"), json!({ "projectId": project })).await;
    eventually(10, || async { (w.app.metric(GAUGE).await > base).then_some(()) }).await;
    // Another project's job is not this stream's.
    w.start(&w.owner, &other, &sample, "https://www.instagram.com/p/else").await.data();
    let r = w.start(&w.owner, &project, &sample, "https://www.instagram.com/p/live").await;
    let id = r.data()["startCollectionJob"]["job"]["id"].clone();
    let mut next = async || {
        let msg = ws.next_json().await.expect("an event");
        assert_eq!(msg["type"], "next", "{msg}");
        msg["payload"]["data"]["collectionJobUpdated"]["job"].clone()
    };
    // Nothing runs until the test drains the jobs: the start is seen as it is.
    let started = next().await;
    assert_eq!(
        (&started["id"], started["status"].as_str()),
        (&id, Some("PENDING")),
        "only this project's jobs"
    );
    w.drain().await;
    let done = next().await;
    assert_eq!((&done["id"], done["status"].as_str()), (&id, Some("SUCCEEDED")));
    assert_eq!(done["recordCount"], 3);
}

#[tokio::test]
async fn project_settings_and_folder_metadata_are_json_objects_their_editors_set() {
    let w = world().await;
    let project = w.project(&w.owner, "Settings").await;
    let r = w
        .gql(
            &w.owner,
            doc!("collection/UpdateProject"),
            json!({ "input": { "projectId": project, "settings": { "defaultExport": "XLSX", "language": "en" } } }),
        )
        .await;
    assert_eq!(r.data()["updateProject"]["project"]["settings"]["defaultExport"], "XLSX");
    let r = w
        .gql(
            &w.owner,
            doc!("collection/UpdateProject"),
            json!({ "input": { "projectId": project, "settings": [1, 2] } }),
        )
        .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT".to_string(), "input.settings".to_string()));
    let r = w
        .gql(
            &w.owner,
            doc!("collection/CreateCollectionFolder"),
            json!({ "input": { "projectId": project, "name": "Briefs" } }),
        )
        .await;
    let folder = r.data()["createCollectionFolder"]["folder"]["id"].clone();
    // Over 16 KiB in all, each string short enough for the request's own limits.
    let big: serde_json::Map<String, Value> =
        (0..300).map(|i| (format!("k{i}"), json!("y".repeat(60)))).collect();
    let r = w
        .gql(
            &w.owner,
            doc!("collection/UpdateCollectionFolder"),
            json!({ "input": { "folderId": folder, "metadata": big } }),
        )
        .await;
    assert_eq!(r.field(), "input.metadata");
    let r = w
        .gql(
            &w.owner,
            doc!("collection/UpdateCollectionFolder"),
            json!({ "input": { "folderId": folder, "metadata": { "client": "Acme", "budget": 1200 } } }),
        )
        .await;
    assert_eq!(r.data()["updateCollectionFolder"]["folder"]["metadata"]["client"], "Acme");
    let p = w.gql(&w.owner, doc!("collection/Project"), json!({ "id": project })).await;
    let d = p.data();
    assert_eq!(d["project"]["settings"]["language"], "en", "the refused change changed nothing");
    assert_eq!(d["project"]["folders"][0]["metadata"]["budget"], 1200);
}
