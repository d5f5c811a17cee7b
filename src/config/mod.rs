//! Typed configuration, parsed once from `ZYGO_*` environment variables.
//!
//! Every setting has a documented default (see the README's configuration table). A bad
//! value stops start-up with one line naming the variable. Secrets are wrapped in
//! [`SecretString`] so they never reach a log line or a `Debug` print.

use std::{net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use secrecy::SecretString;

mod billing;
mod collection;
mod domains;
mod infrastructure;
mod jobs;
mod notifications;
mod oauth;
mod privacy;
mod retention;
mod storage;
mod webhooks;
mod workflows;

pub use billing::{Billing, PaypalConfig, PaypalMode, RevolutConfig, StripeConfig};
pub use collection::CollectionSettings;
pub use domains::DomainSettings;
pub use infrastructure::InfrastructureSettings;
pub use jobs::JobSettings;
pub use notifications::NotificationSettings;
use oauth::oauth_providers;
pub use oauth::{OAuthKind, OAuthProvider};
pub use privacy::{PolicyKind, PolicyVersion};
pub use retention::RetentionSettings;
pub use storage::{S3Settings, StorageBackend, StorageSettings};
pub use webhooks::WebhookSettings;
pub use workflows::WorkflowSettings;

/// How settings are looked up: the process environment, or a test's map.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Where the process runs: development gets generated secrets and friendly defaults,
/// production refuses to start without explicit secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A configuration problem: the variable and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(var: &'static str, message: impl Into<String>) -> Self {
        Self { var, message: message.into() }
    }
}

/// The whole typed configuration of one `zygo` process.
#[derive(Clone, Debug)]
pub struct Config {
    /// `ZYGO_LISTEN`: socket address to bind.
    pub listen: SocketAddr,
    /// `ZYGO_DATA_DIR`: SQLite file, generated secrets and mail files live here.
    pub data_dir: PathBuf,
    /// `ZYGO_DATABASE_URL`: `sqlite://…` or `postgres://…`; `None` means the SQLite file in
    /// the data directory.
    pub database_url: Option<SecretString>,
    /// `ZYGO_REDIS_URL`: `None` means the in-process event bus.
    pub redis_url: Option<SecretString>,
    /// `ZYGO_ENV`.
    pub environment: Environment,
    /// `ZYGO_JWT_SECRET`: `None` in development means "generate once and keep in the data dir".
    pub jwt_secret: Option<SecretString>,
    /// `ZYGO_MAIL_URL`: `smtp://…`, `smtps://…` or `file://DIR`; `None` means
    /// `file://<data dir>/mail`.
    pub mail_url: Option<SecretString>,
    /// `ZYGO_MAIL_CA_FILE`: PEM certificate of a private CA the SMTP relay's certificate is
    /// checked against (besides the public roots).
    pub mail_ca_file: Option<PathBuf>,
    /// `ZYGO_MAIL_FROM`: sender address of outgoing mail.
    pub mail_from: String,
    /// `ZYGO_PUBLIC_URL`: base URL used in links inside mails.
    pub public_url: String,
    /// `ZYGO_LOG`: tracing filter directive.
    pub log: String,
    /// `ZYGO_LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
    /// `ZYGO_ACCESS_TOKEN_TTL`: lifetime of an access JWT, in seconds.
    pub access_token_ttl: Duration,
    /// `ZYGO_REFRESH_TOKEN_TTL`: lifetime of a session's refresh token, in seconds.
    pub refresh_token_ttl: Duration,
    /// `ZYGO_SESSION_CACHE_TTL`: seconds an instance trusts a session it found open without
    /// reading it again (ended sessions are dropped at once through the event bus); 0 reads
    /// it on every request.
    pub session_cache_ttl: Duration,
    /// `ZYGO_ACCESS_CACHE_TTL`: seconds an instance trusts an access check (membership, role,
    /// permissions, organisation state) without reading it again (changes are dropped at once
    /// through the event bus); 0 reads it on every request.
    pub access_cache_ttl: Duration,
    /// `ZYGO_MAX_PAGE_SIZE`: the largest `first`/`last` a connection accepts.
    pub max_page_size: usize,
    /// `ZYGO_DB_MAX_CONNECTIONS`: database pool size.
    pub db_max_connections: u32,
    /// `ZYGO_REDIS_PREFIX`: prefix of every Redis channel this deployment uses.
    pub redis_prefix: String,
    /// `ZYGO_SHUTDOWN_GRACE`: seconds to wait for in-flight requests on SIGTERM/SIGINT.
    pub shutdown_grace: Duration,
    /// `ZYGO_MAIL_POLL_INTERVAL`: seconds between outbox polls (mail queued by this instance
    /// is sent at once; the poll picks up retries and other instances' mail).
    pub mail_poll_interval: Duration,
    /// Limits every document must keep, checked before execution.
    pub limits: Limits,
    /// `ZYGO_INTROSPECTION`: schema introspection (and field suggestions in errors); default
    /// on in development, off in production.
    pub introspection: bool,
    /// `ZYGO_GRAPHIQL`: serve GraphiQL at `/graphiql`; default on in development, off in
    /// production.
    pub graphiql: bool,
    /// `ZYGO_FRONTEND_DIR`: the built single-page app served at `/` (default `frontend/dist`,
    /// the output of `npm run build` in `frontend/`).
    pub frontend_dir: PathBuf,
    /// Lockout and throttling of sign-in, MFA codes and mail-sending requests.
    pub security: Security,
    /// Plans, invoices and dunning.
    pub billing: Billing,
    /// `ZYGO_STUDIO_LOCK_SECONDS`: how long a studio section lock is held without a heartbeat
    /// (`renewSectionLock`); default 60.
    pub studio_lock_ttl: Duration,
    /// `ZYGO_PRESENCE_TTL`: seconds a document's participant stays present without a heartbeat
    /// (`updatePresence`); default 30. The presence sweep runs every third of it.
    pub presence_ttl: Duration,
    /// `ZYGO_PRESENCE_MAX_RATE`: at most this many updates a second of one participant reach
    /// the others (the latest of a burst always does); default 20.
    pub presence_max_rate: u32,
    /// `ZYGO_CORS_ORIGINS`: comma-separated origins allowed to call the API from a browser;
    /// empty means same-origin only.
    pub cors_origins: Vec<String>,
    /// `ZYGO_RATE_LIMIT_PER_MINUTE`: operations (root fields) per minute per user, API key
    /// and tenant of an API key; also the burst.
    pub rate_limit_per_minute: u32,
    /// `ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE`: the same per IP address for anonymous calls.
    pub rate_limit_anonymous_per_minute: u32,
    /// `ZYGO_MAX_STRING_LENGTH`: the longest string any variable may hold.
    pub max_string_length: usize,
    /// `ZYGO_PERSISTED_QUERIES_ONLY`: run only the operation documents shipped in `graphql/`.
    pub persisted_queries_only: bool,
    /// Bounds of the automatic-persisted-query store (`ZYGO_PERSISTED_QUERIES_*`).
    pub persisted: PersistedSettings,
    /// `ZYGO_METRICS_LISTEN`: serve `/metrics` on this address only (not on `ZYGO_LISTEN`).
    pub metrics_listen: Option<SocketAddr>,
    /// `ZYGO_METRICS_TOKEN`: `/metrics` answers only requests bearing this token. Without it
    /// (and without `ZYGO_METRICS_LISTEN`) production serves no metrics on the public port.
    pub metrics_token: Option<SecretString>,
    /// `ZYGO_PASSWORD_HASH_CONCURRENCY`: Argon2 hashes and checks running at once.
    pub password_hash_concurrency: usize,
    /// `ZYGO_PASSWORD_HASH_QUEUE`: Argon2 jobs that may wait for a slot; beyond that a
    /// sign-in, sign-up or password change is refused with RATE_LIMITED.
    pub password_hash_queue: usize,
    /// `ZYGO_REQUEST_TIMEOUT`: seconds one HTTP GraphQL request may run.
    pub request_timeout: Duration,
    /// `ZYGO_WS_INIT_TIMEOUT`: seconds a WebSocket may take to send `connection_init`.
    pub ws_init_timeout: Duration,
    /// `ZYGO_WS_MAX_SUBSCRIPTIONS`: operations one WebSocket may run at once.
    pub ws_max_subscriptions: usize,
    /// `ZYGO_WS_PING_INTERVAL`: seconds between the server's keep-alive pings.
    pub ws_ping_interval: Duration,
    /// OAuth / OpenID Connect providers (`ZYGO_OAUTH_PROVIDERS`), in the order listed.
    pub oauth: Vec<OAuthProvider>,
    /// The workflow engine, its secrets and its model endpoint.
    pub workflows: WorkflowSettings,
    /// The background job machinery.
    pub jobs: JobSettings,
    /// Outbound webhooks.
    pub webhooks: WebhookSettings,
    /// Notifications.
    pub notifications: NotificationSettings,
    /// The policy documents people accept, current versions (none: nothing to accept).
    pub policies: Vec<PolicyVersion>,
    /// Data retention maxima.
    pub retention: RetentionSettings,
    /// File storage and resources' limits.
    pub storage: StorageSettings,
    /// Data collection (BrightData, polling).
    pub collection: CollectionSettings,
    /// Organisation addresses: subdomains and custom domains.
    pub domains: DomainSettings,
    /// Infrastructure (Hetzner endpoints, provider action polling).
    pub infrastructure: InfrastructureSettings,
}

/// Bounds of the automatic-persisted-query store: a text is kept only after its request
/// passed every limit, and the store cannot grow without bound.
#[derive(Clone, Copy, Debug)]
pub struct PersistedSettings {
    /// `ZYGO_PERSISTED_QUERIES_MAX_ENTRIES`: texts the in-memory store keeps (least recently
    /// used ones go first).
    pub max_entries: usize,
    /// `ZYGO_PERSISTED_QUERIES_MAX_BYTES`: bytes of text the in-memory store keeps.
    pub max_bytes: usize,
    /// `ZYGO_PERSISTED_QUERIES_TTL`: seconds Redis keeps a text after its last registration.
    pub ttl: Duration,
    /// `ZYGO_PERSISTED_QUERIES_BUDGET`: new texts one owner (a user, an API key's tenant, or
    /// all anonymous callers together) may add to Redis per TTL window.
    pub budget: usize,
    /// `ZYGO_PERSISTED_QUERIES_ANONYMOUS`: anonymous callers may register new texts (off:
    /// their hash-and-text requests still run, but nothing is stored).
    pub anonymous: bool,
}

/// Thresholds of the throttles in `modules::security::throttle`.
#[derive(Clone, Copy, Debug)]
pub struct Security {
    /// `ZYGO_LOGIN_MAX_FAILURES`: failed sign-ins of one account within the window before it
    /// locks.
    pub login_max_failures: u32,
    /// `ZYGO_LOGIN_IP_MAX_FAILURES`: failed sign-ins from one IP address within the window.
    pub login_ip_max_failures: u32,
    /// `ZYGO_LOGIN_WINDOW`: seconds over which failures count.
    pub login_window: Duration,
    /// `ZYGO_LOCKOUT`: seconds of the first lockout; each further one doubles, up to a day.
    pub lockout: Duration,
    /// `ZYGO_MAIL_REQUESTS_PER_HOUR`: password-reset and verification mails one address can
    /// ask for per hour.
    pub mail_requests_per_hour: u32,
    /// `ZYGO_TENANT_MAIL_PER_HOUR` / `ZYGO_TENANT_MAIL_PER_DAY`: mails one organisation's
    /// workflows may send through the platform's sender.
    pub tenant_mail: MailBudget,
}

/// How much mail one tenant may send through the platform's sender.
#[derive(Clone, Copy, Debug)]
pub struct MailBudget {
    /// `ZYGO_TENANT_MAIL_PER_HOUR`.
    pub per_hour: u32,
    /// `ZYGO_TENANT_MAIL_PER_DAY`.
    pub per_day: u32,
}

/// Query limits (`ZYGO_MAX_*`), each rejected before execution with its own error code.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `ZYGO_MAX_QUERY_DEPTH`: deepest selection nesting.
    pub depth: usize,
    /// `ZYGO_MAX_QUERY_COMPLEXITY`: fields counted over the whole document.
    pub complexity: usize,
    /// `ZYGO_MAX_ALIASES`: aliased fields per document.
    pub aliases: usize,
    /// `ZYGO_MAX_DIRECTIVES_PER_FIELD`.
    pub directives_per_field: usize,
    /// `ZYGO_MAX_DOCUMENT_BYTES`: size of the query text.
    pub document_bytes: usize,
    /// `ZYGO_MAX_BATCH`: operations in one JSON-array batch; 0 turns batching off.
    pub batch: usize,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get`, so tests can pass their own values.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let environment = match get("ZYGO_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(ConfigError::new(
                    "ZYGO_ENV",
                    format!("must be `development` or `production`, got `{other}`"),
                ));
            }
        };
        let listen = parse("ZYGO_LISTEN", get("ZYGO_LISTEN"), "127.0.0.1:8080")?;
        let data_dir = PathBuf::from(get("ZYGO_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let storage = storage::read(&get, &data_dir)?;
        let database_url = get("ZYGO_DATABASE_URL");
        if let Some(url) = &database_url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::new(
                "ZYGO_DATABASE_URL",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        let redis_url = get("ZYGO_REDIS_URL");
        if let Some(url) = &redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(ConfigError::new("ZYGO_REDIS_URL", "must start with redis:// or rediss://"));
        }
        let jwt_secret = get("ZYGO_JWT_SECRET");
        match (&jwt_secret, environment) {
            (None, Environment::Production) => {
                return Err(ConfigError::new("ZYGO_JWT_SECRET", "is required when ZYGO_ENV=production"));
            }
            (Some(s), _) if s.len() < 32 => {
                return Err(ConfigError::new("ZYGO_JWT_SECRET", "must be at least 32 characters long"));
            }
            _ => {}
        }
        let mail_url = get("ZYGO_MAIL_URL");
        if let Some(url) = &mail_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://") || url.starts_with("file://"))
        {
            return Err(ConfigError::new("ZYGO_MAIL_URL", "must start with smtp://, smtps:// or file://"));
        }
        if mail_url.is_none() && environment == Environment::Production {
            return Err(ConfigError::new("ZYGO_MAIL_URL", "is required when ZYGO_ENV=production"));
        }
        let public_url = get("ZYGO_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::new("ZYGO_PUBLIC_URL", "must start with http:// or https://"));
        }
        let log_format = match get("ZYGO_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(
                    "ZYGO_LOG_FORMAT",
                    format!("must be `text` or `json`, got `{other}`"),
                ));
            }
        };
        let secs = |var: &'static str, default: u64| secs(&get, var, default);
        let max_page_size: usize = parse("ZYGO_MAX_PAGE_SIZE", get("ZYGO_MAX_PAGE_SIZE"), "100")?;
        if max_page_size == 0 {
            return Err(ConfigError::new("ZYGO_MAX_PAGE_SIZE", "must be greater than 0"));
        }
        let oauth = oauth_providers(&get)?;
        let cors_origins: Vec<String> = get("ZYGO_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(bad) = cors_origins.iter().find(|o| {
            !(o.starts_with("http://") || o.starts_with("https://"))
                || o.contains('*')
                || o.matches('/').count() > 2
        }) {
            return Err(ConfigError::new(
                "ZYGO_CORS_ORIGINS",
                format!("`{bad}` is not an origin like https://app.example.com (no paths, no wildcards)"),
            ));
        }
        Ok(Self {
            cors_origins,
            request_timeout: secs("ZYGO_REQUEST_TIMEOUT", 30)?,
            session_cache_ttl: Duration::from_secs(parse(
                "ZYGO_SESSION_CACHE_TTL",
                get("ZYGO_SESSION_CACHE_TTL"),
                "30",
            )?),
            access_cache_ttl: Duration::from_secs(parse(
                "ZYGO_ACCESS_CACHE_TTL",
                get("ZYGO_ACCESS_CACHE_TTL"),
                "30",
            )?),
            max_string_length: positive("ZYGO_MAX_STRING_LENGTH", get("ZYGO_MAX_STRING_LENGTH"), "10000")?,
            persisted_queries_only: flag(
                "ZYGO_PERSISTED_QUERIES_ONLY",
                get("ZYGO_PERSISTED_QUERIES_ONLY"),
                false,
            )?,
            persisted: PersistedSettings {
                max_entries: positive(
                    "ZYGO_PERSISTED_QUERIES_MAX_ENTRIES",
                    get("ZYGO_PERSISTED_QUERIES_MAX_ENTRIES"),
                    "5000",
                )?,
                max_bytes: positive(
                    "ZYGO_PERSISTED_QUERIES_MAX_BYTES",
                    get("ZYGO_PERSISTED_QUERIES_MAX_BYTES"),
                    "33554432",
                )?,
                ttl: secs("ZYGO_PERSISTED_QUERIES_TTL", 24 * 3600)?,
                budget: positive(
                    "ZYGO_PERSISTED_QUERIES_BUDGET",
                    get("ZYGO_PERSISTED_QUERIES_BUDGET"),
                    "1000",
                )?,
                anonymous: flag(
                    "ZYGO_PERSISTED_QUERIES_ANONYMOUS",
                    get("ZYGO_PERSISTED_QUERIES_ANONYMOUS"),
                    true,
                )?,
            },
            metrics_listen: get("ZYGO_METRICS_LISTEN")
                .map(|v| parse("ZYGO_METRICS_LISTEN", Some(v), ""))
                .transpose()?,
            metrics_token: match get("ZYGO_METRICS_TOKEN") {
                Some(t) if t.trim().len() < 16 => {
                    return Err(ConfigError::new(
                        "ZYGO_METRICS_TOKEN",
                        "must be at least 16 characters long",
                    ));
                }
                t => t.map(|t| SecretString::from(t.trim().to_string())),
            },
            password_hash_concurrency: positive(
                "ZYGO_PASSWORD_HASH_CONCURRENCY",
                get("ZYGO_PASSWORD_HASH_CONCURRENCY"),
                "4",
            )?,
            password_hash_queue: parse("ZYGO_PASSWORD_HASH_QUEUE", get("ZYGO_PASSWORD_HASH_QUEUE"), "32")?,
            rate_limit_per_minute: positive(
                "ZYGO_RATE_LIMIT_PER_MINUTE",
                get("ZYGO_RATE_LIMIT_PER_MINUTE"),
                "600",
            )? as u32,
            rate_limit_anonymous_per_minute: positive(
                "ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE",
                get("ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE"),
                "300",
            )? as u32,
            ws_init_timeout: secs("ZYGO_WS_INIT_TIMEOUT", 10)?,
            ws_max_subscriptions: positive(
                "ZYGO_WS_MAX_SUBSCRIPTIONS",
                get("ZYGO_WS_MAX_SUBSCRIPTIONS"),
                "100",
            )?,
            ws_ping_interval: secs("ZYGO_WS_PING_INTERVAL", 30)?,
            oauth,
            mail_ca_file: get("ZYGO_MAIL_CA_FILE").map(PathBuf::from),
            security: Security {
                login_max_failures: positive("ZYGO_LOGIN_MAX_FAILURES", get("ZYGO_LOGIN_MAX_FAILURES"), "10")?
                    as u32,
                login_ip_max_failures: positive(
                    "ZYGO_LOGIN_IP_MAX_FAILURES",
                    get("ZYGO_LOGIN_IP_MAX_FAILURES"),
                    "100",
                )? as u32,
                login_window: secs("ZYGO_LOGIN_WINDOW", 15 * 60)?,
                lockout: secs("ZYGO_LOCKOUT", 15 * 60)?,
                mail_requests_per_hour: positive(
                    "ZYGO_MAIL_REQUESTS_PER_HOUR",
                    get("ZYGO_MAIL_REQUESTS_PER_HOUR"),
                    "5",
                )? as u32,
                tenant_mail: MailBudget {
                    per_hour: positive("ZYGO_TENANT_MAIL_PER_HOUR", get("ZYGO_TENANT_MAIL_PER_HOUR"), "100")?
                        as u32,
                    per_day: positive("ZYGO_TENANT_MAIL_PER_DAY", get("ZYGO_TENANT_MAIL_PER_DAY"), "1000")?
                        as u32,
                },
            },
            billing: billing::read(&get)?,
            studio_lock_ttl: secs("ZYGO_STUDIO_LOCK_SECONDS", 60)?,
            presence_ttl: secs("ZYGO_PRESENCE_TTL", 30)?,
            presence_max_rate: positive("ZYGO_PRESENCE_MAX_RATE", get("ZYGO_PRESENCE_MAX_RATE"), "20")?
                as u32,
            listen,
            data_dir,
            database_url: database_url.map(SecretString::from),
            redis_url: redis_url.map(SecretString::from),
            environment,
            jwt_secret: jwt_secret.map(SecretString::from),
            mail_url: mail_url.map(SecretString::from),
            mail_from: get("ZYGO_MAIL_FROM").unwrap_or_else(|| "Zygo <no-reply@zygo.localhost>".into()),
            public_url,
            log: get("ZYGO_LOG").unwrap_or_else(|| "info,sqlx=warn,sea_orm=warn".into()),
            log_format,
            access_token_ttl: secs("ZYGO_ACCESS_TOKEN_TTL", 900)?,
            refresh_token_ttl: secs("ZYGO_REFRESH_TOKEN_TTL", 30 * 24 * 3600)?,
            max_page_size,
            db_max_connections: parse("ZYGO_DB_MAX_CONNECTIONS", get("ZYGO_DB_MAX_CONNECTIONS"), "10")?,
            redis_prefix: get("ZYGO_REDIS_PREFIX").unwrap_or_else(|| "zygo".into()),
            shutdown_grace: secs("ZYGO_SHUTDOWN_GRACE", 10)?,
            mail_poll_interval: secs("ZYGO_MAIL_POLL_INTERVAL", 5)?,
            introspection: flag(
                "ZYGO_INTROSPECTION",
                get("ZYGO_INTROSPECTION"),
                environment == Environment::Development,
            )?,
            graphiql: flag("ZYGO_GRAPHIQL", get("ZYGO_GRAPHIQL"), environment == Environment::Development)?,
            frontend_dir: PathBuf::from(get("ZYGO_FRONTEND_DIR").unwrap_or_else(|| "frontend/dist".into())),
            workflows: workflows::read(&get, environment)?,
            jobs: jobs::read(&get)?,
            webhooks: webhooks::read(&get)?,
            notifications: notifications::read(&get)?,
            policies: privacy::read(&get)?,
            collection: collection::read(&get)?,
            domains: domains::read(&get)?,
            infrastructure: infrastructure::read(&get)?,
            retention: retention::read(&get)?,
            storage,
            limits: Limits {
                depth: positive("ZYGO_MAX_QUERY_DEPTH", get("ZYGO_MAX_QUERY_DEPTH"), "15")?,
                complexity: positive("ZYGO_MAX_QUERY_COMPLEXITY", get("ZYGO_MAX_QUERY_COMPLEXITY"), "5000")?,
                aliases: parse("ZYGO_MAX_ALIASES", get("ZYGO_MAX_ALIASES"), "15")?,
                directives_per_field: parse(
                    "ZYGO_MAX_DIRECTIVES_PER_FIELD",
                    get("ZYGO_MAX_DIRECTIVES_PER_FIELD"),
                    "10",
                )?,
                document_bytes: positive("ZYGO_MAX_DOCUMENT_BYTES", get("ZYGO_MAX_DOCUMENT_BYTES"), "65536")?,
                batch: parse("ZYGO_MAX_BATCH", get("ZYGO_MAX_BATCH"), "5")?,
            },
        })
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

fn flag(var: &'static str, value: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None => Ok(default),
        Some("true" | "1" | "on") => Ok(true),
        Some("false" | "0" | "off") => Ok(false),
        Some(other) => Err(ConfigError::new(var, format!("must be true or false, got `{other}`"))),
    }
}

fn positive(var: &'static str, value: Option<String>, default: &str) -> Result<usize, ConfigError> {
    let v: usize = parse(var, value, default)?;
    if v == 0 {
        return Err(ConfigError::new(var, "must be greater than 0"));
    }
    Ok(v)
}

fn parse<T: FromStr>(var: &'static str, value: Option<String>, default: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    let raw = value.unwrap_or_else(|| default.to_string());
    raw.trim().parse().map_err(|e| ConfigError::new(var, format!("invalid value `{raw}`: {e}")))
}

/// A duration in whole seconds, greater than 0.
fn secs(get: Lookup<'_>, var: &'static str, default: u64) -> Result<Duration, ConfigError> {
    let v: u64 = parse(var, get(var), &default.to_string())?;
    if v == 0 {
        return Err(ConfigError::new(var, "must be greater than 0"));
    }
    Ok(Duration::from_secs(v))
}

#[cfg(test)]
mod tests;
