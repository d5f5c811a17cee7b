//! Data collection at scale (a bench binary, not a timed test).
//!
//! `cargo bench --bench collection_scale` ingests `BENCH_RECORDS` (default 1,000,000) records
//! into one folder of one organisation, on SQLite (default) or on PostgreSQL
//! (`ZYGO_BENCH_DATABASE_URL`), and reports:
//!
//! 1. **Ingest rate**: records per second through the ingestion path of a collection job
//!    (`records::save` — normalised records de-duplicated and written with their search index
//!    — in walled transactions of 1,000, as a snapshot download is saved).
//! 2. **Search latency** on the full folder: `BENCH_SAMPLES` (default 100) `recordSearch`
//!    calls over HTTP of each kind (words; words and filters; a hashtag sorted by likes; the
//!    first page unsorted), p50 and p99.
//! 3. **Export memory**: the growth of the process's resident memory while a full CSV export
//!    runs (sampled every 10 ms, peak minus before), at a tenth of the records and at all of
//!    them. A constant-memory export gives about the same figure at both sizes: the ratio is
//!    printed.
//!
//! Under `cargo test` (no `--bench` argument) it runs a small smoke version, so CI proves it
//! works; the figures come from `cargo bench`.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use zygo::{
    access::{TenantCtx, TenantTx},
    config::Config,
    graphql::relay,
    modules::collection::records::{self, Normalised},
    startup::Application,
};

mod support;
use support::{gql, gql_answer, log_in, owner_with_tenant};

const SEARCH: &str = include_str!("../graphql/collection/SearchRecords.graphql");
const WORDS: &[&str] = &[
    "sunset", "harbour", "coffee", "launch", "summer", "city", "mountain", "design", "travel", "music",
    "festival", "recipe", "garden", "market", "review", "football", "studio", "morning", "ocean", "story",
];
const TAGS: &[&str] = &["travel", "food", "fashion", "tech", "sport", "art", "music", "nature"];

/// A deterministic stream of numbers (no need for randomness of quality here).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() as usize) % from.len()]
    }
}

/// Record `i`: text of 12 words (one in ten from `WORDS`, the rest from 2,000 others, so a
/// word of `WORDS` is in about 6% of the records), two hashtags, one of 5,000 authors,
/// engagement.
fn record(i: u64, rng: &mut Lcg) -> Normalised {
    let text: Vec<String> = (0..12)
        .map(|_| {
            if rng.next() % 10 == 0 {
                rng.pick(WORDS).to_string()
            } else {
                format!("word{}", rng.next() % 2000)
            }
        })
        .collect();
    let tags = vec![rng.pick(TAGS).to_string(), rng.pick(TAGS).to_string()];
    let author = format!("author{}", rng.next() % 5000);
    Normalised {
        external_id: format!("post-{i}"),
        url: format!("https://www.instagram.com/p/bench{i}"),
        author: author.clone(),
        text: format!("{} #{} #{}", text.join(" "), tags[0], tags[1]),
        hashtags: tags,
        mentions: vec![],
        posted_at: Some(Utc::now() - chrono::Duration::minutes((i % 100_000) as i64)),
        likes: (rng.next() % 50_000) as i64,
        comments: (rng.next() % 2_000) as i64,
        shares: (rng.next() % 500) as i64,
        views: (rng.next() % 500_000) as i64,
        raw: json!({ "id": i, "user_posted": author }),
    }
}

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Ingests records `from..to` into `folder`, 1,000 a transaction.
async fn ingest(ctx: &zygo::ctx::Ctx, tenant: Uuid, folder: Uuid, from: u64, to: u64, rng: &mut Lcg) {
    let tctx = TenantCtx::system(tenant);
    let mut i = from;
    while i < to {
        let end = (i + 1000).min(to);
        let batch: Vec<Normalised> = (i..end).map(|n| record(n, rng)).collect();
        let tx = TenantTx::open(ctx, &tctx).await.expect("transaction");
        records::save(&tx, folder, None, "instagram", "posts", batch, Utc::now()).await.expect("saved");
        tx.commit().await.expect("committed");
        i = end;
    }
}

/// Exports the whole folder to CSV through the API and the export job; the growth of resident
/// memory while it ran. Logs in afresh now and then: a long export outlives an access token.
async fn export_growth(http: &reqwest::Client, base: &str, folder: &str) -> u64 {
    let mut token = log_in(http, base).await;
    let mut since = Instant::now();
    let before = rss();
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let d = gql(
        http,
        base,
        Some(&token),
        "mutation($i: StartRecordExportInput!) { startRecordExport(input: $i) { export { id } } }",
        json!({ "i": { "folderId": folder, "format": "CSV" } }),
    )
    .await;
    let id = d["startRecordExport"]["export"]["id"].as_str().unwrap().to_string();
    let mut failed_polls = 0u32;
    loop {
        // An access token lives 15 minutes; an export of a million records may take longer.
        if since.elapsed() > Duration::from_secs(300) {
            token = log_in(http, base).await;
            since = Instant::now();
        }
        let answer = gql_answer(
            http,
            base,
            Some(&token),
            "query($id: ID!) { recordExport(id: $id) { state error } }",
            json!({ "id": id }),
        )
        .await;
        // A poll refused while the export keeps the server busy (INTERNAL: the database busy)
        // is counted and tried again; any other error ends the bench.
        if let Some(errors) = answer.get("errors") {
            assert_eq!(errors[0]["extensions"]["code"], "INTERNAL", "{answer}");
            failed_polls += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let d = &answer["data"];
        match d["recordExport"]["state"].as_str() {
            Some("SUCCEEDED") => break,
            Some("FAILED") => panic!("export failed: {}", d["recordExport"]),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    if failed_polls > 0 {
        println!("(export: {failed_polls} status polls answered INTERNAL while it ran)");
    }
    peak.load(Ordering::Relaxed).saturating_sub(before)
}

#[tokio::main]
async fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let env_n = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let (total, samples) =
        if bench { (env_n("BENCH_RECORDS", 1_000_000), env_n("BENCH_SAMPLES", 100)) } else { (3_000, 5) };
    let data_dir: PathBuf = std::env::temp_dir().join(format!("zygo-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let db_url = match std::env::var("ZYGO_BENCH_DATABASE_URL").ok().filter(|s| !s.is_empty()) {
        Some(admin) => {
            let name = format!("zygo_bench_{}", Uuid::new_v4().simple());
            let admin_db = Database::connect(&admin).await.expect("PostgreSQL reachable");
            admin_db.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            let (prefix, _) = admin.rsplit_once('/').unwrap();
            Some(format!("{prefix}/{name}"))
        }
        None => None,
    };
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("ZYGO_LISTEN", "127.0.0.1:0".to_string()),
        ("ZYGO_DATA_DIR", data_dir.display().to_string()),
        ("ZYGO_JWT_SECRET", "bench-secret-bench-secret-bench-secret-00".into()),
        ("ZYGO_LOG", "error".into()),
        ("ZYGO_RATE_LIMIT_PER_MINUTE", "100000000".into()),
    ]);
    if let Some(u) = &db_url {
        vars.insert("ZYGO_DATABASE_URL", u.clone());
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("bench configuration");
    let app = Application::build(config).await.expect("zygo builds");
    let base = format!("http://{}", app.local_addr());
    let ctx = app.state().ctx.clone();
    let stop = CancellationToken::new();
    let s = stop.clone();
    let server = tokio::spawn(app.run(async move { s.cancelled().await }));
    let http = reqwest::Client::new();

    let (token, tenant) = owner_with_tenant(&http, &base, &data_dir).await;
    let d = gql(
        &http,
        &base,
        Some(&token),
        "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
        json!({ "i": { "tenantId": tenant, "name": "Scale" } }),
    )
    .await;
    let project = d["createProject"]["project"]["id"].as_str().unwrap().to_string();
    let d = gql(
        &http,
        &base,
        Some(&token),
        "mutation($i: CreateCollectionFolderInput!) { createCollectionFolder(input: $i) { folder { id } } }",
        json!({ "i": { "projectId": project, "name": "Posts" } }),
    )
    .await;
    let folder = d["createCollectionFolder"]["folder"]["id"].as_str().unwrap().to_string();
    let tenant_id = relay::decode_id("tenant", &tenant.clone().into(), relay::kind::TENANT).unwrap();
    let folder_id =
        relay::decode_id("folder", &folder.clone().into(), relay::kind::COLLECTION_FOLDER).unwrap();
    let backend = if db_url.is_some() { "PostgreSQL" } else { "SQLite" };
    println!("collection_scale: {total} records into one folder on {backend}");

    let mut rng = Lcg(42);
    let tenth = total / 10;
    let started = Instant::now();
    ingest(&ctx, tenant_id, folder_id, 0, tenth, &mut rng).await;
    let small_export = export_growth(&http, &base, &folder).await;
    let t0 = started.elapsed();
    let resumed = Instant::now();
    ingest(&ctx, tenant_id, folder_id, tenth, total, &mut rng).await;
    let ingest_secs = t0.as_secs_f64() + resumed.elapsed().as_secs_f64();
    println!("ingest: {:.0} records/s ({total} records in {ingest_secs:.1} s)", total as f64 / ingest_secs);

    let kinds: [(&str, Value); 4] = [
        ("words", json!({ "filter": { "search": "harbour sunset" }, "first": 20 })),
        (
            "words + filters",
            json!({ "filter": { "search": "coffee", "minLikes": 40000, "platform": "instagram" }, "first": 20 }),
        ),
        (
            "hashtag by likes",
            json!({ "filter": { "hashtag": "travel" }, "sort": { "field": "LIKES", "direction": "DESC" }, "first": 20 }),
        ),
        ("first page", json!({ "first": 50 })),
    ];
    for (name, vars) in kinds {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..samples {
            let mut v = vars.clone();
            v["projectId"] = json!(project);
            v["folderId"] = json!(folder);
            let t = Instant::now();
            let d = gql(&http, &base, Some(&token), SEARCH, v).await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            found = d["project"]["recordSearch"]["totalCount"].as_i64().unwrap_or(0);
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "search {name}: p50 {:.1} ms, p99 {:.1} ms ({found} matching)",
            pct(&times, 0.5),
            pct(&times, 0.99)
        );
    }

    let full_export = export_growth(&http, &base, &folder).await;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "CSV export, resident memory growth: {:.1} MiB at {tenth} records, {:.1} MiB at {total} records ({:.2}x for {}x the records)",
        mib(small_export),
        mib(full_export),
        full_export as f64 / small_export.max(1) as f64,
        total / tenth.max(1)
    );
    stop.cancel();
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&data_dir);
}
