//! Typed configuration, parsed once from `ZYGO_*` environment variables.
//!
//! Every setting has a documented default (see the README's configuration table). A bad
//! value stops start-up with one line naming the variable. Secrets are wrapped in
//! [`SecretString`] so they never reach a log line or a `Debug` print.

use std::{net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use secrecy::SecretString;

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
    /// `ZYGO_PLATFORM_ADMINS`: e-mail addresses (comma-separated) of the platform's
    /// administrators (mark invoices paid).
    pub platform_admins: Vec<String>,
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
}

/// Settings of the workflow engine (`ZYGO_WORKFLOW_*`, `ZYGO_MASTER_KEY`, `ZYGO_LLM_*`).
#[derive(Clone, Debug)]
pub struct WorkflowSettings {
    /// `ZYGO_MASTER_KEY`: 32 bytes as 64 hex digits or base64; each tenant's secret key is
    /// derived from it. `None` in development means "generate once and keep in the data dir".
    pub master_key: Option<SecretString>,
    /// `ZYGO_WORKFLOW_WORKERS`: executions one instance runs at once; 0 runs none here.
    pub workers: usize,
    /// `ZYGO_WORKFLOW_TENANT_CONCURRENCY`: running executions of one tenant, all instances.
    pub tenant_concurrency: usize,
    /// `ZYGO_WORKFLOW_LEASE`: seconds a claimed execution stays with its worker without a
    /// heartbeat before another instance takes it over.
    pub lease: Duration,
    /// `ZYGO_WORKFLOW_POLL_INTERVAL_MS`: how often an idle worker looks for queued runs
    /// (runs queued on the same instance start at once).
    pub poll_interval: Duration,
    /// `ZYGO_WORKFLOW_HTTP_ALLOW_PRIVATE`: let HTTP Request nodes reach loopback, private and
    /// link-local addresses (off: only public addresses).
    pub http_allow_private: bool,
    /// `ZYGO_LLM_BASE_URL`: an OpenAI-compatible API (`…/v1`); `None` means no model.
    pub llm_base_url: Option<String>,
    /// `ZYGO_LLM_MODEL`: the default model of LLM and AI Agent nodes.
    pub llm_model: Option<String>,
    /// `ZYGO_LLM_API_KEY`: the default key (a node may use a secret instead). Sent only to
    /// `llm_base_url`, never to a node's own base URL.
    pub llm_api_key: Option<SecretString>,
    /// `ZYGO_WORKFLOW_MAX_VALUE_BYTES`: the longest string an expression or a Code node may
    /// build, and the most text one node's expressions may render.
    pub max_value_bytes: usize,
    /// `ZYGO_WORKFLOW_MAX_ITEMS`: the most entries of a list or map an expression or a Code
    /// node may build.
    pub max_items: usize,
    /// `ZYGO_WORKFLOW_MAX_OUTPUT_BYTES`: the largest node output (as JSON) a run keeps.
    pub max_output_bytes: usize,
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

/// Billing settings (`modules::billing`).
#[derive(Clone, Debug)]
pub struct Billing {
    /// `ZYGO_BILLING_PLANS_FILE`: a JSON array of plans replacing the shipped catalog (unset
    /// or empty: the shipped plans).
    pub plans_file: Option<PathBuf>,
    /// `ZYGO_BILLING_CURRENCY`: an organisation's currency until it picks one (ISO 4217).
    pub currency: String,
    /// `ZYGO_INVOICE_PREFIX`: the issuer part of invoice numbers (`ZYG-2026-000042`).
    pub invoice_prefix: String,
    /// `ZYGO_BILLING_INTERVAL`: seconds between the billing worker's looks for due renewals.
    pub worker_interval: Duration,
    /// `ZYGO_DUNNING_RETRY_DAYS`: days after a failed renewal at which it is tried again
    /// (comma-separated, e.g. `1,3,7`); after the last failure the subscription is canceled.
    pub retry_days: Vec<u32>,
    /// `ZYGO_BILLING_GRACE_DAYS`: days a PAST_DUE organisation keeps its paid plan's limits and
    /// features; after them it has Free's (its data stays) until it pays or is canceled.
    pub grace_days: u32,
    /// Stripe, when `ZYGO_STRIPE_SECRET_KEY` and `ZYGO_STRIPE_WEBHOOK_SECRET` are set.
    pub stripe: Option<StripeConfig>,
    /// Revolut, when `ZYGO_REVOLUT_SECRET_KEY` and `ZYGO_REVOLUT_WEBHOOK_SECRET` are set.
    pub revolut: Option<RevolutConfig>,
    /// PayPal, when `ZYGO_PAYPAL_CLIENT_ID`, `ZYGO_PAYPAL_CLIENT_SECRET` and
    /// `ZYGO_PAYPAL_WEBHOOK_ID` are set.
    pub paypal: Option<PaypalConfig>,
}

/// PayPal REST API settings.
#[derive(Clone, Debug)]
pub struct PaypalConfig {
    /// `ZYGO_PAYPAL_API_BASE` (default `https://api-m.paypal.com`; the sandbox is
    /// `https://api-m.sandbox.paypal.com`).
    pub api_base: String,
    /// `ZYGO_PAYPAL_CLIENT_ID`.
    pub client_id: String,
    /// `ZYGO_PAYPAL_CLIENT_SECRET`.
    pub client_secret: SecretString,
    /// `ZYGO_PAYPAL_WEBHOOK_ID`: the webhook's id, which PayPal's signature check names.
    pub webhook_id: String,
}

/// Revolut Merchant API settings.
#[derive(Clone, Debug)]
pub struct RevolutConfig {
    /// `ZYGO_REVOLUT_API_BASE` (default `https://merchant.revolut.com`; the sandbox is
    /// `https://sandbox-merchant.revolut.com`).
    pub api_base: String,
    /// `ZYGO_REVOLUT_SECRET_KEY`: the Merchant API secret key.
    pub secret_key: SecretString,
    /// `ZYGO_REVOLUT_WEBHOOK_SECRET`: the webhook's signing secret (`wsk_…`).
    pub webhook_secret: SecretString,
}

/// Stripe's API and webhook settings.
#[derive(Clone, Debug)]
pub struct StripeConfig {
    /// `ZYGO_STRIPE_API_BASE` (default `https://api.stripe.com`).
    pub api_base: String,
    /// `ZYGO_STRIPE_SECRET_KEY`: `sk_live_…` or `sk_test_…`.
    pub secret_key: SecretString,
    /// `ZYGO_STRIPE_WEBHOOK_SECRET`: the endpoint's signing secret (`whsec_…`).
    pub webhook_secret: SecretString,
}

/// How much mail one tenant may send through the platform's sender.
#[derive(Clone, Copy, Debug)]
pub struct MailBudget {
    /// `ZYGO_TENANT_MAIL_PER_HOUR`.
    pub per_hour: u32,
    /// `ZYGO_TENANT_MAIL_PER_DAY`.
    pub per_day: u32,
}

/// How a provider signs users in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthKind {
    /// OpenID Connect: discovery document, ID token checked against the provider's keys.
    Oidc,
    /// GitHub's OAuth 2 flow: the user and their verified e-mails come from its REST API.
    Github,
}

/// One configured sign-in provider.
#[derive(Clone, Debug)]
pub struct OAuthProvider {
    /// Lower-case name used in URLs (`/auth/oauth/{name}`) and the API.
    pub name: String,
    /// Shown on buttons.
    pub display_name: String,
    pub kind: OAuthKind,
    pub client_id: String,
    pub client_secret: SecretString,
    /// OpenID Connect issuer (the discovery document is `{issuer}/.well-known/openid-configuration`).
    pub issuer: Option<String>,
    /// GitHub endpoints (overridable for GitHub Enterprise).
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub api_url: Option<String>,
    pub scopes: String,
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
        let secs = |var: &'static str, default: u64| -> Result<Duration, ConfigError> {
            let v: u64 = parse(var, get(var), &default.to_string())?;
            if v == 0 {
                return Err(ConfigError::new(var, "must be greater than 0"));
            }
            Ok(Duration::from_secs(v))
        };
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
            platform_admins: get("ZYGO_PLATFORM_ADMINS")
                .map(|v| v.split(',').map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()).collect())
                .unwrap_or_default(),
            billing: Billing {
                plans_file: get("ZYGO_BILLING_PLANS_FILE").filter(|v| !v.is_empty()).map(PathBuf::from),
                currency: {
                    let c = get("ZYGO_BILLING_CURRENCY").unwrap_or_else(|| "EUR".into());
                    if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
                        return Err(ConfigError::new(
                            "ZYGO_BILLING_CURRENCY",
                            "must be an ISO 4217 code such as EUR",
                        ));
                    }
                    c
                },
                invoice_prefix: {
                    let p = get("ZYGO_INVOICE_PREFIX").unwrap_or_else(|| "ZYG".into());
                    if p.is_empty() || p.len() > 10 || !p.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                        return Err(ConfigError::new(
                            "ZYGO_INVOICE_PREFIX",
                            "must be 1 to 10 letters or digits",
                        ));
                    }
                    p
                },
                worker_interval: secs("ZYGO_BILLING_INTERVAL", 60)?,
                grace_days: parse("ZYGO_BILLING_GRACE_DAYS", get("ZYGO_BILLING_GRACE_DAYS"), "7")?,
                paypal: match (
                    get("ZYGO_PAYPAL_CLIENT_ID"),
                    get("ZYGO_PAYPAL_CLIENT_SECRET"),
                    get("ZYGO_PAYPAL_WEBHOOK_ID"),
                ) {
                    (None, None, None) => None,
                    (Some(id), Some(secret), Some(hook))
                        if !id.is_empty() && !secret.is_empty() && !hook.is_empty() =>
                    {
                        Some(PaypalConfig {
                            api_base: get("ZYGO_PAYPAL_API_BASE")
                                .unwrap_or_else(|| "https://api-m.paypal.com".into())
                                .trim_end_matches('/')
                                .to_string(),
                            client_id: id,
                            client_secret: SecretString::from(secret),
                            webhook_id: hook,
                        })
                    }
                    _ => {
                        return Err(ConfigError::new(
                            "ZYGO_PAYPAL_CLIENT_ID",
                            "PayPal needs ZYGO_PAYPAL_CLIENT_ID, ZYGO_PAYPAL_CLIENT_SECRET and ZYGO_PAYPAL_WEBHOOK_ID",
                        ));
                    }
                },
                revolut: match (get("ZYGO_REVOLUT_SECRET_KEY"), get("ZYGO_REVOLUT_WEBHOOK_SECRET")) {
                    (None, None) => None,
                    (Some(key), Some(hook)) if !key.is_empty() && !hook.is_empty() => Some(RevolutConfig {
                        api_base: get("ZYGO_REVOLUT_API_BASE")
                            .unwrap_or_else(|| "https://merchant.revolut.com".into())
                            .trim_end_matches('/')
                            .to_string(),
                        secret_key: SecretString::from(key),
                        webhook_secret: SecretString::from(hook),
                    }),
                    _ => {
                        return Err(ConfigError::new(
                            "ZYGO_REVOLUT_SECRET_KEY",
                            "Revolut needs both ZYGO_REVOLUT_SECRET_KEY and ZYGO_REVOLUT_WEBHOOK_SECRET",
                        ));
                    }
                },
                stripe: match (get("ZYGO_STRIPE_SECRET_KEY"), get("ZYGO_STRIPE_WEBHOOK_SECRET")) {
                    (None, None) => None,
                    (Some(key), Some(hook)) if !key.is_empty() && !hook.is_empty() => Some(StripeConfig {
                        api_base: get("ZYGO_STRIPE_API_BASE")
                            .unwrap_or_else(|| "https://api.stripe.com".into())
                            .trim_end_matches('/')
                            .to_string(),
                        secret_key: SecretString::from(key),
                        webhook_secret: SecretString::from(hook),
                    }),
                    (None, _) | (Some(_), _) => {
                        return Err(ConfigError::new(
                            "ZYGO_STRIPE_SECRET_KEY",
                            "Stripe needs both ZYGO_STRIPE_SECRET_KEY and ZYGO_STRIPE_WEBHOOK_SECRET",
                        ));
                    }
                },
                retry_days: {
                    let raw = get("ZYGO_DUNNING_RETRY_DAYS").unwrap_or_else(|| "1,3,7".into());
                    let days: Result<Vec<u32>, _> = raw.split(',').map(|d| d.trim().parse::<u32>()).collect();
                    match days {
                        Ok(d) if !d.is_empty() && d.windows(2).all(|w| w[0] < w[1]) => d,
                        _ => {
                            return Err(ConfigError::new(
                                "ZYGO_DUNNING_RETRY_DAYS",
                                "must be increasing whole days, comma-separated (e.g. 1,3,7)",
                            ));
                        }
                    }
                },
            },
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
            workflows: WorkflowSettings {
                master_key: {
                    let key = get("ZYGO_MASTER_KEY");
                    match (&key, environment) {
                        (None, Environment::Production) => {
                            return Err(ConfigError::new(
                                "ZYGO_MASTER_KEY",
                                "is required when ZYGO_ENV=production",
                            ));
                        }
                        (Some(k), _) if crate::crypto::parse_key(k).is_none() => {
                            return Err(ConfigError::new(
                                "ZYGO_MASTER_KEY",
                                "must be 32 bytes as 64 hex digits or base64",
                            ));
                        }
                        _ => {}
                    }
                    key.map(SecretString::from)
                },
                workers: parse("ZYGO_WORKFLOW_WORKERS", get("ZYGO_WORKFLOW_WORKERS"), "16")?,
                tenant_concurrency: positive(
                    "ZYGO_WORKFLOW_TENANT_CONCURRENCY",
                    get("ZYGO_WORKFLOW_TENANT_CONCURRENCY"),
                    "32",
                )?,
                lease: secs("ZYGO_WORKFLOW_LEASE", 30)?,
                poll_interval: Duration::from_millis(positive(
                    "ZYGO_WORKFLOW_POLL_INTERVAL_MS",
                    get("ZYGO_WORKFLOW_POLL_INTERVAL_MS"),
                    "1000",
                )? as u64),
                http_allow_private: flag(
                    "ZYGO_WORKFLOW_HTTP_ALLOW_PRIVATE",
                    get("ZYGO_WORKFLOW_HTTP_ALLOW_PRIVATE"),
                    false,
                )?,
                llm_base_url: get("ZYGO_LLM_BASE_URL").map(|u| u.trim_end_matches('/').to_string()),
                llm_model: get("ZYGO_LLM_MODEL"),
                llm_api_key: get("ZYGO_LLM_API_KEY").map(SecretString::from),
                max_value_bytes: positive(
                    "ZYGO_WORKFLOW_MAX_VALUE_BYTES",
                    get("ZYGO_WORKFLOW_MAX_VALUE_BYTES"),
                    "5242880",
                )?,
                max_items: positive("ZYGO_WORKFLOW_MAX_ITEMS", get("ZYGO_WORKFLOW_MAX_ITEMS"), "100000")?,
                max_output_bytes: positive(
                    "ZYGO_WORKFLOW_MAX_OUTPUT_BYTES",
                    get("ZYGO_WORKFLOW_MAX_OUTPUT_BYTES"),
                    "16777216",
                )?,
            },
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

/// Reads `ZYGO_OAUTH_PROVIDERS` (comma-separated names) and, for each name,
/// `ZYGO_OAUTH_{NAME}_CLIENT_ID`, `_CLIENT_SECRET`, `_ISSUER`, `_TYPE` (`oidc` or `github`),
/// `_DISPLAY_NAME`, `_SCOPES` and, for GitHub, `_AUTHORIZE_URL`, `_TOKEN_URL`, `_API_URL`.
/// `google`, `microsoft`, `apple` and `github` come with their issuers and endpoints preset.
fn oauth_providers(get: &impl Fn(&str) -> Option<String>) -> Result<Vec<OAuthProvider>, ConfigError> {
    const VAR: &str = "ZYGO_OAUTH_PROVIDERS";
    let Some(list) = get(VAR) else { return Ok(vec![]) };
    let mut out: Vec<OAuthProvider> = vec![];
    for name in list.split(',').map(|n| n.trim().to_ascii_lowercase()).filter(|n| !n.is_empty()) {
        if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') || name.len() > 32
        {
            return Err(ConfigError::new(VAR, format!("`{name}`: names are up to 32 of a-z, 0-9 and -")));
        }
        if out.iter().any(|p| p.name == name) {
            return Err(ConfigError::new(VAR, format!("`{name}` is listed twice")));
        }
        let key =
            |suffix: &str| format!("ZYGO_OAUTH_{}_{suffix}", name.to_ascii_uppercase().replace('-', "_"));
        let need = |suffix: &str| {
            get(&key(suffix)).ok_or_else(|| ConfigError::new(VAR, format!("`{name}` needs {}", key(suffix))))
        };
        let (preset_kind, preset_issuer, preset_display) = match name.as_str() {
            "google" => (OAuthKind::Oidc, Some("https://accounts.google.com"), "Google"),
            "microsoft" => {
                (OAuthKind::Oidc, Some("https://login.microsoftonline.com/common/v2.0"), "Microsoft")
            }
            "apple" => (OAuthKind::Oidc, Some("https://appleid.apple.com"), "Apple"),
            "github" => (OAuthKind::Github, None, "GitHub"),
            _ => (OAuthKind::Oidc, None, ""),
        };
        let kind = match get(&key("TYPE")).as_deref() {
            None => preset_kind,
            Some("oidc") => OAuthKind::Oidc,
            Some("github") => OAuthKind::Github,
            Some(other) => {
                return Err(ConfigError::new(
                    VAR,
                    format!("{}: `{other}` is not oidc or github", key("TYPE")),
                ));
            }
        };
        let issuer = get(&key("ISSUER")).or(preset_issuer.map(str::to_string));
        if kind == OAuthKind::Oidc && issuer.is_none() {
            need("ISSUER")?;
        }
        let github = |suffix: &str, default: &str| {
            (kind == OAuthKind::Github).then(|| get(&key(suffix)).unwrap_or_else(|| default.to_string()))
        };
        out.push(OAuthProvider {
            display_name: get(&key("DISPLAY_NAME")).unwrap_or_else(|| {
                if preset_display.is_empty() { name.clone() } else { preset_display.to_string() }
            }),
            kind,
            client_id: need("CLIENT_ID")?,
            client_secret: SecretString::from(need("CLIENT_SECRET")?),
            issuer: issuer.map(|i| i.trim_end_matches('/').to_string()),
            authorize_url: github("AUTHORIZE_URL", "https://github.com/login/oauth/authorize"),
            token_url: github("TOKEN_URL", "https://github.com/login/oauth/access_token"),
            api_url: github("API_URL", "https://api.github.com").map(|u| u.trim_end_matches('/').to_string()),
            scopes: get(&key("SCOPES")).unwrap_or_else(|| match kind {
                // Apple knows no `profile` scope.
                OAuthKind::Oidc if name == "apple" => "openid email name".into(),
                OAuthKind::Oidc => "openid email profile".into(),
                OAuthKind::Github => "read:user user:email".into(),
            }),
            name,
        });
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_embedded_development_setup() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.environment, Environment::Development);
        assert!(c.database_url.is_none() && c.redis_url.is_none() && c.jwt_secret.is_none());
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn production_requires_a_jwt_secret() {
        let e = cfg(&[("ZYGO_ENV", "production"), ("ZYGO_MAIL_URL", "smtp://mail")]).unwrap_err();
        assert_eq!(e.var, "ZYGO_JWT_SECRET");
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(cfg(&[("ZYGO_LISTEN", "nope")]).unwrap_err().var, "ZYGO_LISTEN");
        assert_eq!(cfg(&[("ZYGO_ENV", "staging")]).unwrap_err().var, "ZYGO_ENV");
        assert_eq!(cfg(&[("ZYGO_DATABASE_URL", "mysql://x")]).unwrap_err().var, "ZYGO_DATABASE_URL");
        assert_eq!(cfg(&[("ZYGO_JWT_SECRET", "short")]).unwrap_err().var, "ZYGO_JWT_SECRET");
        assert_eq!(
            cfg(&[("ZYGO_WORKFLOW_MAX_VALUE_BYTES", "0")]).unwrap_err().var,
            "ZYGO_WORKFLOW_MAX_VALUE_BYTES"
        );
        assert_eq!(cfg(&[("ZYGO_WORKFLOW_MAX_ITEMS", "many")]).unwrap_err().var, "ZYGO_WORKFLOW_MAX_ITEMS");
        assert_eq!(
            cfg(&[("ZYGO_WORKFLOW_MAX_OUTPUT_BYTES", "-1")]).unwrap_err().var,
            "ZYGO_WORKFLOW_MAX_OUTPUT_BYTES"
        );
        assert_eq!(cfg(&[("ZYGO_METRICS_LISTEN", "nope")]).unwrap_err().var, "ZYGO_METRICS_LISTEN");
        assert_eq!(cfg(&[("ZYGO_METRICS_TOKEN", "short")]).unwrap_err().var, "ZYGO_METRICS_TOKEN");
        assert_eq!(
            cfg(&[("ZYGO_PERSISTED_QUERIES_MAX_ENTRIES", "0")]).unwrap_err().var,
            "ZYGO_PERSISTED_QUERIES_MAX_ENTRIES"
        );
        assert_eq!(
            cfg(&[("ZYGO_PERSISTED_QUERIES_ANONYMOUS", "maybe")]).unwrap_err().var,
            "ZYGO_PERSISTED_QUERIES_ANONYMOUS"
        );
        assert_eq!(
            cfg(&[("ZYGO_PASSWORD_HASH_CONCURRENCY", "0")]).unwrap_err().var,
            "ZYGO_PASSWORD_HASH_CONCURRENCY"
        );
    }
}
