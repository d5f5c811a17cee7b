//! `spawn_app()` and typed helpers: a real zygo instance on port 0 with a fresh database,
//! spoken to over real HTTP and WebSocket with the documents under `graphql/`.
//!
//! Backend: SQLite + in-process bus by default; PostgreSQL and/or Redis when
//! `ZYGO_TEST_DATABASE_URL` / `ZYGO_TEST_REDIS_URL` are set (each app gets its own fresh
//! PostgreSQL database and its own Redis channel prefix).

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::{SinkExt, StreamExt};
use graphql_client::GraphQLQuery;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use zygo::{config::Config, startup::Application};

use crate::gql::*;

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const PASSWORD: &str = "correct horse battery staple";

/// Loads a document from `graphql/`, the same file the frontend uses.
#[macro_export]
macro_rules! doc {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/graphql/", $path, ".graphql"))
    };
}

/// Where an app keeps its data: a fresh database URL (or a shared one) and a Redis prefix.
#[derive(Clone, Debug)]
pub struct Backend {
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
}

impl Backend {
    /// A fresh backend as chosen by the environment.
    pub async fn fresh() -> Self {
        let database_url = match std::env::var("ZYGO_TEST_DATABASE_URL").ok().filter(|s| !s.is_empty()) {
            Some(admin) => Some(create_postgres_db(&admin).await),
            None => None,
        };
        Self {
            database_url,
            redis_url: std::env::var("ZYGO_TEST_REDIS_URL").ok().filter(|s| !s.is_empty()),
            redis_prefix: format!("zygo-test-{}", Uuid::new_v4().simple()),
        }
    }
}

static CLEANED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// Creates `zygo_test_<uuid>` on the server of `admin_url` and returns its URL. The first
/// call of a run drops databases left behind by earlier runs.
async fn create_postgres_db(admin_url: &str) -> String {
    let admin = Database::connect(admin_url).await.expect("ZYGO_TEST_DATABASE_URL: PostgreSQL unreachable");
    CLEANED
        .get_or_init(|| async {
            let rows = admin
                .query_all_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT datname FROM pg_database WHERE datname LIKE 'zygo_test_%' \
                     AND (pg_stat_file('base/'||oid||'/PG_VERSION')).modification < now() - interval '2 hours'",
                ))
                .await
                .unwrap_or_default();
            for row in rows {
                if let Ok(name) = row.try_get::<String>("", "datname") {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                }
            }
        })
        .await;
    let name = format!("zygo_test_{}", Uuid::new_v4().simple());
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin_url);
    format!("{base}/{name}")
}

/// A running instance.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    pub backend: Backend,
    /// The instance's service context (its workers' entry points take it).
    pub ctx: zygo::ctx::Ctx,
    stop: CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// `ZYGO_BILLING_PLANS_FILE` for the shipped plan catalog.
pub const SHIPPED_PLANS: (&str, &str) = ("ZYGO_BILLING_PLANS_FILE", "");

/// Extra settings for one app.
#[derive(Default, Clone)]
pub struct Options {
    pub env: Vec<(&'static str, String)>,
    pub data_dir: Option<PathBuf>,
    /// Keep PostgreSQL's row-level security as shipped: a statement that skips the tenant
    /// setting sees no row. By default tests make such a statement fail instead (see
    /// [`STRICT_WALL`]), so a code path that forgot the wall cannot pass on empty results.
    pub shipped_wall: bool,
    /// A manual clock the test moves (billing periods, expiries); the system clock if none.
    pub clock: Option<zygo::ctx::Clock>,
}

/// Replaces the policies' `zygo_tenant_ids()` in a test database by one that raises when a
/// statement on a tenant table runs with neither the tenant setting nor the across-tenants
/// one: the whole PostgreSQL suite then proves every statement it causes is walled.
const STRICT_WALL: &str = r#"CREATE OR REPLACE FUNCTION zygo_tenant_ids() RETURNS uuid[]
    LANGUAGE plpgsql STABLE AS $$
    BEGIN
        IF NULLIF(current_setting('zygo.tenant_ids', true), '') IS NULL
           AND coalesce(current_setting('zygo.across_tenants', true), '') <> 'on' THEN
            RAISE EXCEPTION 'unwalled statement: a tenant table was read or written without the tenant setting (see src/db/scoped.rs)';
        END IF;
        RETURN string_to_array(NULLIF(current_setting('zygo.tenant_ids', true), ''), ',')::uuid[];
    END $$"#;

pub async fn spawn_app() -> TestApp {
    spawn_app_on(Backend::fresh().await, Options::default()).await
}

pub async fn spawn_app_on(backend: Backend, opts: Options) -> TestApp {
    let data_dir = opts
        .data_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("zygo-test-{}", Uuid::new_v4().simple())));
    let mut vars: HashMap<String, String> = HashMap::from([
        ("ZYGO_LISTEN".into(), "127.0.0.1:0".into()),
        ("ZYGO_DATA_DIR".into(), data_dir.display().to_string()),
        ("ZYGO_JWT_SECRET".into(), JWT_SECRET.into()),
        ("ZYGO_PUBLIC_URL".into(), "http://zygo.test".into()),
        ("ZYGO_LOG".into(), std::env::var("ZYGO_TEST_LOG").unwrap_or_else(|_| "error".into())),
        ("ZYGO_SHUTDOWN_GRACE".into(), "2".into()),
        ("ZYGO_REDIS_PREFIX".into(), backend.redis_prefix.clone()),
        ("ZYGO_FRONTEND_DIR".into(), concat!(env!("CARGO_MANIFEST_DIR"), "/frontend/dist").into()),
        // Plans without limits, so tests of other areas never meet a quota; the billing
        // tests run the shipped catalog (`SHIPPED_PLANS`).
        (
            "ZYGO_BILLING_PLANS_FILE".into(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/plans-roomy.json").into(),
        ),
    ]);
    // On a manual clock the test decides when background jobs run (`zygo::jobs::drain` after
    // moving the clock): workers polling beside it would race the test's own steps.
    if opts.clock.is_some() {
        vars.insert("ZYGO_JOB_WORKERS".into(), "0".into());
    }
    if let Some(url) = &backend.database_url {
        vars.insert("ZYGO_DATABASE_URL".into(), url.clone());
    }
    if let Some(url) = &backend.redis_url {
        vars.insert("ZYGO_REDIS_URL".into(), url.clone());
    }
    for (k, v) in &opts.env {
        vars.insert((*k).into(), v.clone());
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("valid test configuration");
    zygo::telemetry::init(&config);
    let app = match opts.clock.clone() {
        Some(clock) => Application::build_with_clock(config, clock).await,
        None => Application::build(config).await,
    }
    .expect("app builds");
    let ctx = app.state().ctx.clone();
    if let Some(url) = backend.database_url.as_ref().filter(|_| !opts.shipped_wall) {
        let admin = Database::connect(url.as_str()).await.expect("test database connection");
        admin.execute_unprepared(STRICT_WALL).await.expect("strict wall installed");
        admin.close().await.ok();
    }
    let addr = app.local_addr();
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let handle = tokio::spawn(app.run(async move { stopped.cancelled().await }));
    let app =
        TestApp { addr, http: reqwest::Client::new(), data_dir, backend, ctx, stop, handle: Some(handle) };
    if app.backend.redis_url.is_some() {
        app.wait_ready().await;
    }
    app
}

/// A GraphQL response.
#[derive(Debug, Clone)]
pub struct Gql(pub Value);

impl Gql {
    pub fn data(&self) -> &Value {
        assert!(self.0.get("errors").is_none(), "unexpected errors: {}", self.0);
        &self.0["data"]
    }
    /// `extensions.code` of the first error (panics when there is none).
    pub fn code(&self) -> String {
        self.0["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.0))
            .to_string()
    }
    pub fn field(&self) -> String {
        self.0["errors"][0]["extensions"]["field"].as_str().unwrap_or_default().to_string()
    }
    pub fn message(&self) -> String {
        self.0["errors"][0]["message"].as_str().unwrap_or_default().to_string()
    }
}

/// A GraphQL response decoded into the typed `ResponseData` of a document (see `gql`).
/// `data()` panics with the errors when there are any; `code()`, `field()` and `message()`
/// read the first error as [`Gql`] does.
#[derive(Debug, Clone)]
pub struct Op<D> {
    pub raw: Gql,
    data: Result<D, String>,
}

impl<D: DeserializeOwned> Op<D> {
    pub fn new(raw: Gql) -> Self {
        let data = match raw.0.get("data") {
            None | Some(Value::Null) => Err("no data".to_string()),
            Some(d) => D::deserialize(d).map_err(|e| format!("data does not decode: {e}")),
        };
        Self { raw, data }
    }
}

#[allow(dead_code)] // not every test file uses every reader
impl<D> Op<D> {
    /// The typed data of an answer without errors.
    pub fn data(&self) -> &D {
        assert!(self.raw.0.get("errors").is_none(), "unexpected errors: {}", self.raw.0);
        self.data.as_ref().unwrap_or_else(|e| panic!("{e}: {}", self.raw.0))
    }
    pub fn into_data(self) -> D {
        self.data();
        self.data.unwrap_or_else(|_| unreachable!())
    }
    /// The typed data of an answer with or without errors (a refused field is `None`).
    pub fn partial(&self) -> &D {
        self.data.as_ref().unwrap_or_else(|e| panic!("{e}: {}", self.raw.0))
    }
    pub fn has_errors(&self) -> bool {
        self.raw.0.get("errors").is_some()
    }
    pub fn code(&self) -> String {
        self.raw.code()
    }
    pub fn field(&self) -> String {
        self.raw.field()
    }
    pub fn message(&self) -> String {
        self.raw.message()
    }
}

impl Gql {
    /// This answer decoded as `Q`'s response.
    pub fn typed<Q: GraphQLQuery>(self) -> Op<Q::ResponseData> {
        Op::new(self)
    }
}

impl TestApp {
    /// Sends the document of `Q` with typed variables, as the viewer behind `token` if
    /// given, and decodes the answer: `app.op::<CreateTeam>(Some(&t), create_team::Variables
    /// { … }).await.data().create_team.team.id`.
    pub async fn op<Q: GraphQLQuery>(
        &self,
        token: Option<&str>,
        variables: Q::Variables,
    ) -> Op<Q::ResponseData> {
        let body = Q::build_query(variables);
        let variables = serde_json::to_value(&body.variables).expect("variables serialise");
        self.gql(token, body.query, variables).await.typed::<Q>()
    }

    /// `Q`'s document with variables given as JSON (values its typed `Variables` cannot
    /// express, such as a malformed input or an explicit `null`), decoded as `Q`'s response.
    #[allow(dead_code)]
    pub async fn op_json<Q: crate::gql::Document>(
        &self,
        token: Option<&str>,
        variables: Value,
    ) -> Op<Q::ResponseData> {
        self.gql(token, Q::TEXT, variables).await.typed::<Q>()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql/ws", self.addr)
    }

    /// POSTs `query` with `variables`, as the viewer behind `token` if given.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Gql {
        let mut req =
            self.http.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request sent");
        assert!(!resp.status().is_server_error(), "server error {}", resp.status());
        Gql(resp.json().await.expect("JSON body"))
    }

    pub async fn sign_up(&self, email: &str) -> Op<sign_up::ResponseData> {
        let input =
            sign_up::SignUpInput { email: email.into(), password: PASSWORD.into(), name: "Test User".into() };
        self.op::<SignUp>(None, sign_up::Variables { input }).await
    }

    /// Signs up, verifies through the mailed token, logs in: returns the access token.
    pub async fn verified_user(&self, email: &str) -> Session {
        self.sign_up(email).await.data();
        let token = self.mailed_token_about(email, "Confirm your e-mail", 1).await;
        self.op::<VerifyEmail>(None, verify_email::Variables { token }).await.data();
        self.log_in(email).await
    }

    pub async fn log_in(&self, email: &str) -> Session {
        let input = log_in::LogInInput { email: email.into(), password: PASSWORD.into() };
        let tokens = self.op::<LogIn>(None, log_in::Variables { input }).await.into_data().log_in.tokens;
        let tokens = tokens.unwrap_or_else(|| panic!("{email} logs in without a second factor"));
        Session { access: tokens.access_token, refresh: tokens.refresh_token, user_id: tokens.viewer.id }
    }

    /// Turns two-factor authentication on for `s` through the API (with the code of the
    /// previous time step, so the current and next stay free); returns the backup codes, one
    /// per later sign-in ([`Self::log_in_with_backup_code`]).
    pub async fn enable_mfa(&self, s: &Session) -> Vec<String> {
        let e = self.gql(Some(&s.access), doc!("security/StartTotpEnrollment"), json!({})).await;
        let secret = e.data()["startTotpEnrollment"]["secret"].as_str().expect("a TOTP secret").to_string();
        let r = self
            .gql(
                Some(&s.access),
                doc!("security/ConfirmTotpEnrollment"),
                json!({ "code": totp_code(&secret, -30).await }),
            )
            .await;
        serde_json::from_value(r.data()["confirmTotpEnrollment"]["backupCodes"].clone())
            .expect("backup codes")
    }

    /// Gives the account `email` the platform role `role` (`super-admin` or `support`)
    /// through the service `zygo admin grant` runs.
    pub async fn grant_platform_role(&self, email: &str, role: &str) {
        let kind = zygo::modules::admin::roles::parse_role(role).expect("a platform role");
        zygo::modules::admin::roles::grant(&self.ctx.db, email, kind, None, self.ctx.now())
            .await
            .expect("platform role granted");
    }

    /// A verified user holding the platform role `role`, granted like `zygo admin grant`
    /// does, with two-factor authentication on (a platform role is used with it only).
    /// Returns the session and the backup codes for later sign-ins.
    pub async fn platform_operator(&self, email: &str, role: &str) -> (Session, Vec<String>) {
        let s = self.verified_user(email).await;
        let codes = self.enable_mfa(&s).await;
        self.grant_platform_role(email, role).await;
        (s, codes)
    }

    /// Signs in an account with two-factor authentication on, passing the challenge with
    /// one of its backup codes.
    pub async fn log_in_with_backup_code(&self, email: &str, backup_code: &str) -> Session {
        let r = self.log_in_as(email, PASSWORD, "test").await;
        let challenge =
            r.data()["logIn"]["mfaChallenge"]["challenge"].as_str().expect("an MFA challenge").to_string();
        let t = self
            .gql(
                None,
                doc!("security/CompleteMfaChallenge"),
                json!({ "challenge": challenge, "backupCode": backup_code }),
            )
            .await;
        let t = &t.data()["completeMfaChallenge"];
        Session {
            access: t["accessToken"].as_str().unwrap().into(),
            refresh: t["refreshToken"].as_str().unwrap().into(),
            user_id: t["viewer"]["id"].as_str().unwrap().into(),
        }
    }

    /// Creates an organisation as `session`; returns its global ID.
    pub async fn create_tenant(&self, session: &Session, slug: &str) -> String {
        let input = create_tenant::CreateTenantInput { name: format!("Org {slug}"), slug: slug.into() };
        let r = self.op::<CreateTenant>(Some(&session.access), create_tenant::Variables { input }).await;
        r.into_data().create_tenant.tenant.id
    }

    /// All mails written to the mail directory for `to`, oldest first.
    pub fn mails_to(&self, to: &str) -> Vec<String> {
        let dir = self.data_dir.join("mail");
        let mut mails: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .filter_map(|e| {
                        let body = std::fs::read_to_string(e.path()).ok()?;
                        let modified = e.metadata().ok()?.modified().ok()?;
                        body.lines()
                            .any(|l| l.eq_ignore_ascii_case(&format!("To: {to}")))
                            .then_some((modified, body))
                    })
                    .collect()
            })
            .unwrap_or_default();
        mails.sort_by_key(|m| m.0);
        mails.into_iter().map(|m| m.1).collect()
    }

    /// Waits for the `n`-th mail to `to` and returns the token in it.
    pub async fn mailed_token_n(&self, to: &str, n: usize) -> String {
        self.mailed_token_about(to, "", n).await
    }

    /// Waits for the `n`-th mail to `to` whose subject contains `subject` and returns the
    /// token in it.
    pub async fn mailed_token_about(&self, to: &str, subject: &str, n: usize) -> String {
        for _ in 0..100 {
            let mails: Vec<String> = self
                .mails_to(to)
                .into_iter()
                .filter(|m| m.lines().any(|l| l.starts_with("Subject: ") && l.contains(subject)))
                .collect();
            // A mail file may still be being written: wait until its token is complete.
            if mails.len() >= n
                && let Some(token) = extract_token(&mails[n - 1])
            {
                return token;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no mail #{n} to {to} arrived in 5 s");
    }

    /// Waits until the mails to `to` hold a token other than `seen`, and returns it. (File
    /// times do not order two mails written in the same instant; the new token does.)
    pub async fn mailed_token_other_than(&self, to: &str, seen: &str) -> String {
        for _ in 0..100 {
            if let Some(t) = self.mails_to(to).iter().filter_map(|m| extract_token(m)).find(|t| t != seen) {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no second token mailed to {to} within 5 s");
    }

    pub async fn mailed_token(&self, to: &str) -> String {
        self.mailed_token_n(to, 1).await
    }

    /// The value of a Prometheus sample (sum over matching label sets).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.http.get(self.url("/metrics")).send().await.unwrap().text().await.unwrap();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| l.split([' ', '{']).next() == Some(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    pub async fn wait_ready(&self) {
        for _ in 0..100 {
            if let Ok(r) = self.http.get(self.url("/readyz")).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("app not ready within 5 s");
    }

    /// A separate connection to the app's database, for arranging state a test cannot
    /// reach through the API (expired tokens). Not counted in the app's metrics.
    pub async fn db(&self) -> DatabaseConnection {
        let url = self
            .backend
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("zygo.db").display()));
        Database::connect(url).await.expect("test database connection")
    }

    /// Stops the app the way SIGTERM does and waits for it to finish.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(10), h)
                .await
                .expect("stopped in time")
                .unwrap()
                .unwrap();
        }
    }
}

impl Drop for TestApp {
    /// Stops the app and removes what it left: its data directory and, on PostgreSQL, its
    /// database.
    fn drop(&mut self) {
        self.stop.cancel();
        let _ = std::fs::remove_dir_all(&self.data_dir);
        let (Some(url), Ok(admin)) =
            (self.backend.database_url.clone(), std::env::var("ZYGO_TEST_DATABASE_URL"))
        else {
            return;
        };
        let Some(name) = url.rsplit('/').next().map(str::to_string) else {
            return;
        };
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(db) = Database::connect(&admin).await {
                    let _ = db
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

fn extract_token(mail: &str) -> Option<String> {
    let text = decoded_text(mail);
    let start = text.find("token=")? + "token=".len();
    let rest = &text[start..];
    let token: String =
        rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    // A token that ends the text may be cut off (a file still being written; the mail
    // writer renames whole files into place, so this is only a guard).
    let cut = rest.len() == token.len();
    (token.len() >= 40 && !cut).then_some(token)
}

/// The mail with each quoted-printable part decoded (soft line breaks joined, `=XX` escapes
/// replaced) and every other part as it is. Decoding only what is declared quoted-printable
/// matters: a 7bit link `token=3Dab…` is a token that starts with `3D`, which a blanket
/// `=3D` → `=` replacement would cut (one token in 4096).
fn decoded_text(mail: &str) -> String {
    let boundaries: Vec<String> = mail
        .lines()
        .filter_map(|l| l.split_once("boundary=").map(|(_, b)| b.trim().trim_matches('"').to_string()))
        .collect();
    let mut out = String::new();
    let mut qp = false;
    let lines: Vec<&str> = mail.split('\n').collect();
    for (n, line) in lines.iter().enumerate() {
        // No newline after the last line: a file still being written ends mid-line.
        let newline = if n + 1 < lines.len() { "\n" } else { "" };
        let line = line.strip_suffix('\r').unwrap_or(line);
        let lower = line.to_ascii_lowercase();
        if let Some(encoding) = lower.strip_prefix("content-transfer-encoding:") {
            qp = encoding.trim() == "quoted-printable";
        } else if boundaries
            .iter()
            .any(|b| line.strip_prefix("--").is_some_and(|r| r.trim_end_matches('-') == b))
        {
            // The next part declares its own encoding.
            qp = false;
        } else if qp {
            match line.strip_suffix('=') {
                Some(soft) => out.push_str(&quoted_printable(soft)),
                None => {
                    out.push_str(&quoted_printable(line));
                    out.push_str(newline);
                }
            }
            continue;
        }
        out.push_str(line);
        out.push_str(newline);
    }
    out
}

/// `=XX` escapes of one quoted-printable line replaced by their bytes.
fn quoted_printable(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn mailed_tokens_are_read_whole_from_7bit_and_quoted_printable_parts() {
    let token = format!("3D{}", "a".repeat(41));
    let seven_bit = format!(
        "To: a@example.com\r\nContent-Transfer-Encoding: 7bit\r\n\r\nhttp://zygo.test/x?token={token}\r\n"
    );
    assert_eq!(extract_token(&seven_bit).as_deref(), Some(token.as_str()), "a token starting with 3D");
    let qp = format!(
        "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\nhttp://zygo.test/x?token=3D{}=\r\n{}\r\n--b1--\r\n",
        &token[..20],
        &token[20..]
    );
    assert_eq!(extract_token(&qp).as_deref(), Some(token.as_str()), "soft line break and =3D decoded");
    assert_eq!(
        extract_token(&seven_bit[..seven_bit.len() - 5]),
        None,
        "a token cut off by a write in progress"
    );
}

/// Tokens of a logged-in test user.
#[derive(Clone, Debug)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
}

/// A GraphQL WebSocket client speaking `graphql-transport-ws` (or the legacy protocol).
pub struct WsClient {
    pub socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    pub legacy: bool,
}

impl WsClient {
    pub async fn connect(app: &TestApp, protocol: &str) -> Self {
        let mut req = app.ws_url().into_client_request().unwrap();
        req.headers_mut().insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        let (socket, resp) = tokio_tungstenite::connect_async(req).await.expect("ws connects");
        assert_eq!(resp.headers()["sec-websocket-protocol"], protocol);
        Self { socket, legacy: protocol == "graphql-ws" }
    }

    pub async fn send(&mut self, v: Value) {
        self.socket.send(Message::Text(v.to_string().into())).await.unwrap();
    }

    /// The next JSON message, skipping pings/keep-alives; `None` when the socket closed.
    pub async fn next_json(&mut self) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("ws message within 10 s")?;
            match msg.ok()? {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if matches!(v["type"].as_str(), Some("ping" | "ka")) {
                        continue;
                    }
                    return Some(v);
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Waits for the close frame and returns its code.
    pub async fn close_code(&mut self) -> Option<u16> {
        self.close_frame().await.map(|(code, _)| code)
    }

    /// The close frame's code and reason (waits up to 10 s).
    pub async fn close_frame(&mut self) -> Option<(u16, String)> {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("close within 10 s");
            match msg {
                Some(Ok(Message::Close(frame))) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                }
                Some(Ok(_)) => continue,
                Some(Err(tungstenite::Error::ConnectionClosed)) | None => return None,
                Some(Err(e)) => panic!("ws error: {e}"),
            }
        }
    }

    /// `connection_init` with an optional token; returns the server's answer.
    pub async fn init(&mut self, token: Option<&str>) -> Option<Value> {
        let payload = match token {
            Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        self.send(json!({ "type": "connection_init", "payload": payload })).await;
        self.next_json().await
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let ty = if self.legacy { "start" } else { "subscribe" };
        self.send(json!({ "id": id, "type": ty, "payload": { "query": query, "variables": variables } }))
            .await;
    }
}

/// An enum value's API name (`PAID`), for any document's enum types.
pub fn enum_name<E: serde::Serialize>(e: &E) -> String {
    serde_json::to_value(e).ok().and_then(|v| v.as_str().map(str::to_string)).expect("an enum value")
}

/// The data of a subscription message (`next`, or the legacy protocol's `data`) decoded as
/// `Q`'s response; `None` for any other message and for one whose data is null.
pub fn event_data<Q: GraphQLQuery>(msg: &Value) -> Option<Q::ResponseData> {
    if !matches!(msg["type"].as_str(), Some("next" | "data")) || msg["payload"]["data"].is_null() {
        return None;
    }
    let data = Q::ResponseData::deserialize(&msg["payload"]["data"]);
    Some(data.unwrap_or_else(|e| panic!("the event does not decode: {e}: {msg}")))
}

/// A TCP forwarder to Redis that a test can cut and restore, to play "Redis went away".
pub struct FlakyProxy {
    pub port: u16,
    up: Arc<Mutex<bool>>,
    cut: Arc<tokio::sync::Notify>,
}

impl FlakyProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(Mutex::new(true));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (up2, cut2) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !*up2.lock().unwrap() {
                    drop(inbound);
                    continue;
                }
                let cut = cut2.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.notified() => {}
                    }
                });
            }
        });
        Self { port, up, cut }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        *self.up.lock().unwrap() = false;
        self.cut.notify_waiters();
    }

    pub fn restore(&self) {
        *self.up.lock().unwrap() = true;
    }
}

/// Polls `f` until it returns `Some`, for up to `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "condition not met within {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl TestApp {
    /// The organisation `id` as `tenancy/Tenant` shows it to the viewer behind `token`.
    pub async fn tenant(&self, token: &str, id: &str) -> tenant::TenantTenant {
        let vars = tenant::Variables { id: Some(id.into()), slug: None };
        self.op::<Tenant>(Some(token), vars).await.into_data().tenant
    }

    /// The signed-in viewer behind `token` (`identity/Viewer`, first page of organisations).
    pub async fn viewer(&self, token: &str) -> viewer::ViewerViewer {
        let vars = viewer::Variables { first: None, after: None, last: None, before: None };
        self.op::<Viewer>(Some(token), vars).await.into_data().viewer.expect("a signed-in viewer")
    }

    /// Global ID of the built-in role `key` of tenant `tenant_id`.
    pub async fn role_id(&self, session: &Session, tenant_id: &str, key: &str) -> String {
        let vars = permission_matrix::Variables { tenant_id: tenant_id.into() };
        let r = self.op::<PermissionMatrix>(Some(&session.access), vars).await.into_data();
        r.tenant
            .permission_matrix
            .rows
            .into_iter()
            .find(|row| row.role.key == key)
            .map(|row| row.role.id)
            .unwrap_or_else(|| panic!("no role {key}"))
    }

    /// Invites `email` as `role` (sent by `owner`), signs the invitee up and accepts: returns
    /// the invitee's session and membership ID.
    pub async fn join_as(
        &self,
        owner: &Session,
        tenant_id: &str,
        email: &str,
        role: &str,
    ) -> (Session, String) {
        let role_id = self.role_id(owner, tenant_id, role).await;
        let input = invite_member::InviteMemberInput {
            tenant_id: tenant_id.into(),
            email: email.into(),
            role_id,
            teams: vec![],
        };
        self.op::<InviteMember>(Some(&owner.access), invite_member::Variables { input }).await.data();
        let token = self.mailed_token_about(email, "invited", 1).await;
        self.sign_up(email).await.data();
        let session = self.log_in(email).await;
        let r =
            self.op::<AcceptInvitation>(Some(&session.access), accept_invitation::Variables { token }).await;
        (session, r.into_data().accept_invitation.membership.id)
    }
}

/// A helper program from `tests/clients` (Node) that announces itself with one JSON line
/// on stdout; killed when dropped (and it exits by itself when its stdin closes).
pub struct NodeService {
    child: std::process::Child,
    pub info: Value,
}

impl NodeService {
    pub fn start(script: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        use std::io::BufRead;
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");
        assert!(
            std::path::Path::new(dir).join("node_modules").exists(),
            "tests/clients has no node_modules: run `npm ci --prefix tests/clients` (the README's test command does)"
        );
        let mut cmd = std::process::Command::new("node");
        cmd.current_dir(dir)
            .arg(script)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("node runs");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("announcement");
        let info = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{script} announced {line:?}"));
        Self { child, info }
    }
}

impl Drop for NodeService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The TOTP code of `secret` at now + `offset_secs`, computed by an independent
/// implementation (otplib, Node).
///
/// The server judges a code by its own clock a moment later, allowing one 30 s step either
/// side; a code taken in the last seconds of a step, with an offset, could be judged in the
/// next step and fall outside that window. So near the end of a step this first waits for
/// the next one to begin (a clock event, not a guess at how long something takes).
///
/// Awaited, never blocking: the servers under test run on the test's own runtime.
pub async fn totp_code(secret: &str, offset_secs: i64) -> String {
    const STEP_MS: u128 = 30_000;
    const MARGIN_MS: u128 = 5_000;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let into_step = now % STEP_MS;
    if into_step > STEP_MS - MARGIN_MS {
        tokio::time::sleep(std::time::Duration::from_millis((STEP_MS - into_step + 50) as u64)).await;
    }
    let out = tokio::process::Command::new("node")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"))
        .args(["totp.mjs", secret, &offset_secs.to_string()])
        .output()
        .await
        .expect("node runs");
    assert!(out.status.success(), "totp.mjs failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl TestApp {
    /// Logs in with a user agent; returns the raw response.
    pub async fn log_in_as(&self, email: &str, password: &str, user_agent: &str) -> Gql {
        let resp = self
            .http
            .post(self.url("/graphql"))
            .header("User-Agent", user_agent)
            .json(&json!({
                "query": crate::doc!("identity/LogIn"),
                "variables": { "input": { "email": email, "password": password } }
            }))
            .send()
            .await
            .expect("request sent");
        assert!(!resp.status().is_server_error(), "server error {}", resp.status());
        Gql(resp.json().await.unwrap())
    }

    /// The `n`-th mail to `to` whose subject contains `subject`, waiting up to 5 s.
    pub async fn mail_about(&self, to: &str, subject: &str, n: usize) -> String {
        eventually(5, || async {
            let mails: Vec<String> = self
                .mails_to(to)
                .into_iter()
                .filter(|m| m.lines().any(|l| l.starts_with("Subject: ") && l.contains(subject)))
                .collect();
            mails.get(n - 1).cloned()
        })
        .await
    }
}
