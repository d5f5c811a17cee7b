//! A mutation fuzzer over the whole request path — body parsing, GraphQL parsing, validation,
//! the limits, variable coercion and execution — against the real server over HTTP.
//!
//! Inputs start from the shipped documents (`graphql/`) and the kept corpus
//! (`tests/fuzz/corpus/`, one JSON request per file) and are mutated: spans cut, doubled and
//! swapped, tokens and schema names spliced in, selections nested and aliased, variables
//! replaced by hostile JSON, bodies sent raw with odd content types, as a signed-in user or
//! anonymously. Every answer must come in time (no hang), must not be a 5xx other than the
//! documented `REQUEST_TIMEOUT`, and must be JSON whose errors carry `extensions.code`. An
//! input that produced an outcome not seen before (status and error code) joins the corpus.
//!
//! `cargo test` runs it for `ZYGO_FUZZ_SECONDS` (default 15). The long run:
//! `ZYGO_FUZZ_SECONDS=600 ZYGO_FUZZ_SAVE=1 cargo test --test api fuzz -- --nocapture`, which also
//! writes the new corpus entries to `tests/fuzz/corpus/`. `ZYGO_FUZZ_SEED` replays a run.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use serde_json::{Value, json};

use crate::helpers::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Tokens spliced into documents: syntax, directives, introspection, hostile literals.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    "$",
    "@",
    "!",
    "=",
    "...",
    "|",
    "&",
    "\"",
    "\"\"\"",
    "#",
    ",",
    "query",
    "mutation",
    "subscription",
    "fragment",
    "on",
    "__typename",
    "__schema { types { name } }",
    "__type(name: \"Query\") { fields { name } }",
    "@include(if: true)",
    "@skip(if: $x)",
    "@deprecated",
    "null",
    "true",
    "0",
    "-1",
    "2147483648",
    "1e999",
    "-0.0",
    "\"\\u0000\"",
    "\"\\uD800\"",
    "\"é✓𝄞\"",
    "$first",
    "$id",
    "$input",
    "first: 100",
    "first: -5",
    "last: 1000000",
    "after: \"!!\"",
    "id: \"\"",
    "a: ",
    "b: ",
    "x: viewer { id }",
    "node(id: \"VXNlcjox\") { id }",
    "viewer { id tenants { totalCount } }",
];

/// Hostile variable values.
fn hostile(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..14) {
        0 => Value::Null,
        1 => json!(rng.random::<i64>()),
        2 => json!(rng.random::<f64>() * 1e300),
        3 => json!(""),
        4 => json!("x".repeat(rng.random_range(0..12_000))),
        5 => json!("\u{0000}\u{202e}<script>'\"; DROP TABLE users; --"),
        6 => json!("VGVuYW50OjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA"),
        7 => json!(uuid::Uuid::new_v4().to_string()),
        8 => json!(rng.random::<bool>()),
        9 => json!("not-an-email@@"),
        10 if depth < 40 => json!([hostile(rng, depth + 1), hostile(rng, depth + 1)]),
        11 if depth < 40 => json!({ "a": hostile(rng, depth + 1), "input": hostile(rng, depth + 1) }),
        12 => {
            // Very deep nesting, built iteratively.
            let mut v = json!(1);
            for _ in 0..rng.random_range(1..300) {
                v = json!([v]);
            }
            v
        }
        _ => json!({ "tenantId": "x", "id": 1, "email": "a@b.c", "name": "n", "first": 5 }),
    }
}

fn char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn span(rng: &mut StdRng, s: &str) -> (usize, usize) {
    if s.is_empty() {
        return (0, 0);
    }
    let a = char_boundary(s, rng.random_range(0..s.len()));
    let b = char_boundary(s, (a + rng.random_range(0..64)).min(s.len()));
    (a, b.max(a))
}

/// One mutation of a query text.
fn mutate_query(rng: &mut StdRng, q: &str, names: &[String]) -> String {
    let mut q = q.to_string();
    for _ in 0..rng.random_range(1..5) {
        let (a, b) = span(rng, &q);
        q = match rng.random_range(0..9) {
            0 => format!("{}{}", &q[..a], &q[b..]),
            1 => format!("{}{}{}", &q[..b], &q[a..b], &q[b..]),
            2 => format!("{} {} {}", &q[..a], TOKENS.choose(rng).unwrap(), &q[a..]),
            3 => format!("{} {} {}", &q[..a], names.choose(rng).map(String::as_str).unwrap_or("id"), &q[a..]),
            4 => {
                // Nest the whole selection under aliases.
                let n = rng.random_range(1..30);
                format!("{}{q}{}", "{ a: viewer ".repeat(n), " }".repeat(n))
            }
            5 => {
                let n = rng.random_range(1..60);
                let alias: String = (0..n).map(|i| format!("f{i}: __typename ")).collect();
                format!("{}{alias}{}", &q[..a], &q[a..])
            }
            6 => {
                let (c, d) = span(rng, &q);
                let (lo, hi) = if a <= c { ((a, b), (c, d)) } else { ((c, d), (a, b)) };
                if lo.1 <= hi.0 {
                    format!(
                        "{}{}{}{}{}",
                        &q[..lo.0],
                        &q[hi.0..hi.1],
                        &q[lo.1..hi.0],
                        &q[lo.0..lo.1],
                        &q[hi.1..]
                    )
                } else {
                    q
                }
            }
            7 => format!("{}{}", &q[..a], "{".repeat(rng.random_range(1..2000))),
            _ => {
                let bytes: String = (0..rng.random_range(1..16)).map(|_| rng.random::<char>()).collect();
                format!("{}{bytes}{}", &q[..a], &q[b..])
            }
        };
    }
    q
}

/// Variable names declared in a document (`$name:`).
fn variable_names(q: &str) -> Vec<String> {
    q.split('$')
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

fn corpus_dir() -> PathBuf {
    Path::new(ROOT).join("tests/fuzz/corpus")
}

/// Seeds: every shipped document, then the kept corpus.
fn seeds() -> Vec<Value> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(ROOT).join("graphql")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "graphql") {
                out.push(json!({ "query": std::fs::read_to_string(&p).unwrap(), "variables": {} }));
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(corpus_dir()) {
        for e in entries.flatten() {
            if let Ok(v) =
                serde_json::from_str::<Value>(&std::fs::read_to_string(e.path()).unwrap_or_default())
            {
                out.push(v);
            }
        }
    }
    out
}

/// Schema names (fields, types, arguments) to splice in.
fn schema_names() -> Vec<String> {
    let sdl = std::fs::read_to_string(Path::new(ROOT).join("schema/schema.graphql")).unwrap();
    let mut names: Vec<String> = sdl
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.len() > 2)
        .map(str::to_string)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    names.sort();
    names
}

enum Body {
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

fn make_input(rng: &mut StdRng, seeds: &[Value], names: &[String]) -> Body {
    let seed = seeds.choose(rng).unwrap();
    let q = seed["query"].as_str().unwrap_or_default();
    let query = if rng.random_bool(0.9) { mutate_query(rng, q, names) } else { q.to_string() };
    let mut vars = serde_json::Map::new();
    for name in variable_names(&query) {
        if rng.random_bool(0.7) {
            vars.insert(name, hostile(rng, 0));
        }
    }
    let mut body = json!({ "query": query, "variables": vars });
    match rng.random_range(0..20) {
        0 => body["variables"] = hostile(rng, 0),
        1 => body["operationName"] = json!(names.choose(rng)),
        2 => body["extensions"] = json!({ "persistedQuery": { "version": 1, "sha256Hash": "00" } }),
        3 => body = Value::Array(vec![body.clone(); rng.random_range(0..8)]),
        4 => body = hostile(rng, 0),
        5 => {
            let text = serde_json::to_vec(&body).unwrap();
            let cut = rng.random_range(0..text.len().max(1));
            return Body::Raw("application/json", text[..cut].to_vec());
        }
        6 => return Body::Raw("application/graphql-response+json", query.into_bytes()),
        7 => return Body::Raw("text/plain", serde_json::to_vec(&body).unwrap()),
        _ => {}
    }
    Body::Json(body)
}

#[tokio::test]
async fn fuzzed_requests_never_crash_hang_or_fail_the_server() {
    let seconds: u64 = std::env::var("ZYGO_FUZZ_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(15);
    let seed: u64 =
        std::env::var("ZYGO_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(rand::random);
    let app = spawn_app_on(
        Backend::fresh().await,
        Options {
            env: vec![
                ("ZYGO_RATE_LIMIT_PER_MINUTE", "100000000".into()),
                ("ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE", "100000000".into()),
                ("ZYGO_REQUEST_TIMEOUT", "5".into()),
                ("ZYGO_WORKFLOW_WORKERS", "0".into()),
            ],
            ..Default::default()
        },
    )
    .await;
    let mut owner = app.verified_user("fuzz@example.com").await;
    app.create_tenant(&owner, "fuzz-org").await;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seeds = seeds();
    let names = schema_names();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let mut seen: HashSet<(u16, String)> = HashSet::new();
    let mut outcomes: HashMap<u16, usize> = HashMap::new();
    let mut new_corpus: Vec<Value> = Vec::new();
    let started = Instant::now();
    let mut runs = 0usize;
    while started.elapsed() < Duration::from_secs(seconds) {
        let input = make_input(&mut rng, &seeds, &names);
        let mut req = http.post(app.url("/graphql"));
        let authed = rng.random_bool(0.6);
        if authed {
            req = req.bearer_auth(&owner.access);
        }
        let (req, shown) = match &input {
            Body::Json(v) => (req.json(v), v.to_string()),
            Body::Raw(ct, bytes) => (
                req.header("content-type", *ct).body(bytes.clone()),
                format!("{ct}: {}", String::from_utf8_lossy(bytes)),
            ),
        };
        let shown: String = shown.chars().take(2000).collect();
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => panic!(
                "no answer (hang or dropped connection) after {runs} inputs, seed {seed}: {e}\ninput: {shown}"
            ),
        };
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("not JSON ({status}), seed {seed}: {text}\ninput: {shown}"));
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .or_else(|| body[0]["errors"][0]["extensions"]["code"].as_str())
            .unwrap_or("")
            .to_string();
        assert!(status < 500 || code == "REQUEST_TIMEOUT", "{status} seed {seed}: {text}\ninput: {shown}");
        for err in body["errors"].as_array().into_iter().flatten() {
            assert!(
                err["extensions"]["code"].is_string(),
                "error without a code, seed {seed}: {err}\ninput: {shown}"
            );
        }
        *outcomes.entry(status).or_default() += 1;
        if authed && code == "UNAUTHENTICATED" {
            // A fuzzed logOut or revokeSession ended the session: sign in again.
            owner = app.log_in("fuzz@example.com").await;
        }
        if seen.insert((status, code))
            && let Body::Json(v) = input
        {
            seeds.push(v.clone());
            new_corpus.push(v);
        }
        runs += 1;
    }
    // The instance still answers normally after all of it. A fresh sign-in: the last input may
    // have been a fuzzed logOut that succeeded (no error to notice), ending the session in hand.
    let owner = app.log_in("fuzz@example.com").await;
    app.gql(Some(&owner.access), "{ viewer { id } }", json!({})).await.data();
    println!(
        "fuzz: {runs} inputs in {:.0} s (seed {seed}), statuses {outcomes:?}, {} distinct outcomes",
        started.elapsed().as_secs_f64(),
        seen.len()
    );
    assert!(runs > 10, "the fuzzer ran");
    if std::env::var("ZYGO_FUZZ_SAVE").is_ok() {
        let dir = corpus_dir();
        std::fs::create_dir_all(&dir).unwrap();
        for v in new_corpus {
            let text = serde_json::to_string_pretty(&v).unwrap();
            if text.len() > 16 * 1024 {
                continue;
            }
            let name = format!("{:016x}.json", {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                text.hash(&mut h);
                h.finish()
            });
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
}
