//! Building and running one `zygo` instance: shared state, background workers, the HTTP
//! server and graceful shutdown. Used by `main.rs` and by the integration tests alike.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    auth::tokens::JwtKeys,
    config::Config,
    ctx::{Clock, Ctx},
    db, graphql,
    mail::{self, MailSignal, Mailer},
    pubsub::{EventBus, memory::MemoryBus, redis::RedisBus},
    telemetry::Metrics,
};

/// Process-wide state shared by resolvers, handlers and workers. Cheap to clone. It
/// dereferences to the services' narrow [`Ctx`] (database, bus, configuration, clock, …);
/// the fields here belong to the layers above the services.
#[derive(Clone)]
pub struct AppState(Arc<AppStateParts>);

impl std::ops::Deref for AppState {
    type Target = AppStateParts;

    fn deref(&self) -> &AppStateParts {
        &self.0
    }
}

/// What an [`AppState`] holds (one reference count to clone per request, not a dozen).
pub struct AppStateParts {
    pub ctx: Ctx,
    pub jwt: JwtKeys,
    pub rate_limiter: crate::ratelimit::RateLimiter,
    pub persisted: crate::http::persisted::PersistedQueries,
    /// The bound on concurrent Argon2 work (`ZYGO_PASSWORD_HASH_*`).
    pub passwords: crate::auth::password::Gate,
    /// Cancelled when the instance starts shutting down: WebSockets close, workers stop.
    pub shutdown: CancellationToken,
    /// The workflow engine of this instance.
    pub engine: crate::modules::workflows::runtime::Engine,
    /// Sessions this instance recently found open (see `auth::session_cache`).
    pub sessions: Arc<crate::auth::session_cache::SessionCache>,
    /// The documents whose presence this instance serves to WebSocket subscribers.
    pub rooms: crate::modules::studio::rooms::Rooms,
    /// GraphQL documents this instance admitted recently, parsed (see `graphql::limits`).
    pub documents: crate::graphql::limits::Documents,
}

impl std::ops::Deref for AppStateParts {
    type Target = Ctx;

    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

/// A built instance, bound to its port and ready to serve.
pub struct Application {
    listener: TcpListener,
    /// `ZYGO_METRICS_LISTEN`: the separate listener serving `/metrics`.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    router: axum::Router,
}

impl Application {
    /// Prepares everything: data dir, secrets, database (migrated), event bus, mail worker,
    /// schema and router, and binds the listening socket (port 0 picks a free one).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// [`Application::build`] with the given clock (tests pass a manual one to move time).
    pub async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("ZYGO_DATA_DIR: cannot create {}", config.data_dir.display()))?;
        let jwt_secret = resolve_jwt_secret(&config)?;
        let keys = Arc::new(crate::crypto::MasterKey::resolve(&config)?);
        let metrics = Metrics::new();
        let db = db::connect_and_migrate(&config, &metrics).await?;
        let shutdown = CancellationToken::new();
        let bus: Arc<dyn EventBus> = match &config.redis_url {
            Some(url) => Arc::new(
                RedisBus::start(url.expose_secret(), &config.redis_prefix, shutdown.clone())
                    .context("ZYGO_REDIS_URL: invalid Redis URL")?,
            ),
            None => Arc::new(MemoryBus::default()),
        };
        let mailer = Mailer::from_config(&config)?;
        tracing::info!(
            database = db_kind(&db),
            event_bus = bus.kind(),
            mail = %mailer.describe(),
            "zygo configured"
        );
        let shared_redis = config
            .redis_url
            .as_ref()
            .map(|url| crate::pubsub::redis::SharedRedis::open(url.expose_secret(), &config.redis_prefix))
            .transpose()
            .context("ZYGO_REDIS_URL: invalid Redis URL")?;
        let rate_limiter = crate::ratelimit::RateLimiter::new(&config, shared_redis.clone());
        let persisted = crate::http::persisted::PersistedQueries::new(&config, shared_redis.clone());
        let engine = crate::modules::workflows::runtime::Engine::new(config.workflows.http_allow_private);
        let config_session_ttl = config.session_cache_ttl;
        let config_access_ttl = config.access_cache_ttl;
        let passwords =
            crate::auth::password::Gate::new(config.password_hash_concurrency, config.password_hash_queue);
        let jobs = Arc::new(crate::jobs::Jobs::new(crate::modules::jobs(&config)));
        // Presence goes where the events go: Redis when configured, this process otherwise.
        let presence_store: Arc<dyn crate::pubsub::presence::PresenceStore> = match &shared_redis {
            Some(redis) => Arc::new(crate::pubsub::presence::redis::RedisPresence::new(redis.clone())),
            None => Arc::new(crate::pubsub::presence::memory::MemoryPresence::default()),
        };
        let presence = Arc::new(crate::pubsub::presence::Presence::new(
            presence_store,
            format!("zygo-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            // At most `ZYGO_PRESENCE_MAX_RATE` updates a second per participant reach the others.
            std::time::Duration::from_secs(1) / config.presence_max_rate.max(1),
        ));
        let storage = crate::storage::Storage::open(&config.storage)?;
        let rooms = crate::modules::studio::rooms::Rooms::new(&config);
        // The platform's feature flags: what the access check and the feature gate ask, read
        // once here and again on every announced change (never inside a request).
        let flags = crate::modules::flags::store::Flags::new();
        flags.load(&db).await.context("reading the feature flags")?;
        let features: Arc<dyn crate::access::features::FeatureFlags> = Arc::new(flags);
        let state = AppState(Arc::new(AppStateParts {
            ctx: Ctx::new(crate::ctx::CtxParts {
                config: Arc::new(config),
                db,
                bus,
                clock,
                metrics,
                mail: MailSignal::default(),
                keys,
                access: Arc::new(crate::access::AccessCache::new(config_access_ttl)),
                jobs,
                redis: shared_redis,
                presence,
                storage,
                features: features.clone(),
            }),
            passwords,
            engine,
            persisted,
            rate_limiter,
            jwt: JwtKeys::new(jwt_secret.expose_secret().as_bytes()),
            sessions: Arc::new(crate::auth::session_cache::SessionCache::new(config_session_ttl)),
            rooms,
            shutdown,
            documents: Default::default(),
        }));
        // Ended sessions, announced by any instance, leave this one's cache at once.
        {
            let (sessions, bus, stop) = (state.sessions.clone(), state.bus.clone(), state.shutdown.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = sessions.follow(bus.as_ref()) => {}
                    _ = stop.cancelled() => {}
                }
            });
        }
        // Access changes, announced by any instance, leave this one's cache at once.
        {
            let (access, bus, stop) = (state.access.clone(), state.bus.clone(), state.shutdown.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = access.follow(bus.as_ref()) => {}
                    _ = stop.cancelled() => {}
                }
            });
        }
        crate::modules::security::mfa::seal_stored_seeds(&state).await?;
        tokio::spawn(mail::run_worker(
            state.db.clone(),
            mailer,
            state.config.mail_from.clone(),
            state.mail.clone(),
            state.config.mail_poll_interval,
            state.shutdown.clone(),
        ));
        tokio::spawn(crate::modules::workflows::runtime::run_workers(state.clone()));
        tokio::spawn(crate::modules::workflows::triggers::schedule::run_scheduler(state.clone()));
        // A bad plan catalog stops start-up here, naming the file.
        crate::modules::billing::plans::catalog(&state.config)
            .map_err(|e| anyhow::anyhow!("ZYGO_BILLING_PLANS_FILE: {e}"))?;
        // Subscription changes, announced by any instance, leave the metering's plan cache.
        {
            let (bus, stop) = (state.bus.clone(), state.shutdown.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = crate::modules::billing::metering::follow_plan_changes(bus) => {}
                    _ = stop.cancelled() => {}
                }
            });
        }
        // Flag changes (and plan changes, which plan rules may turn into module gates),
        // announced by any instance, leave this one's caches.
        {
            let (ctx, bus, stop) = (state.ctx.clone(), state.bus.clone(), state.shutdown.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = crate::modules::flags::store::follow(ctx, bus) => {}
                    _ = stop.cancelled() => {}
                }
            });
        }
        tokio::spawn(crate::jobs::run_workers(state.ctx.clone(), state.shutdown.clone()));
        let schema = graphql::build_schema(state.clone());
        let router = crate::http::router(state.clone(), schema);
        let listener = TcpListener::bind(state.config.listen)
            .await
            .with_context(|| format!("ZYGO_LISTEN: cannot listen on {}", state.config.listen))?;
        let metrics_listener = match state.config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("ZYGO_METRICS_LISTEN: cannot listen on {addr}"))?,
            ),
            None => None,
        };
        Ok(Self { listener, metrics_listener, state, router })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound socket has an address")
    }

    /// Where `/metrics` is served when it has its own listener.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `stop` resolves, then drains: new connections are refused, WebSockets
    /// close with 1001 (going away), in-flight requests get `ZYGO_SHUTDOWN_GRACE` to finish.
    pub async fn run(self, stop: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let shutdown = self.state.shutdown.clone();
        let grace = self.state.config.shutdown_grace;
        let drained = shutdown.clone();
        let server =
            axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move {
                    stop.await;
                    tracing::info!("shutting down: draining in-flight requests");
                    drained.cancel();
                });
        let server = tokio::spawn(async move { server.await });
        if let Some(listener) = self.metrics_listener {
            let stopped = shutdown.clone();
            let metrics = axum::serve(listener, crate::http::metrics_router(self.state.clone()))
                .with_graceful_shutdown(async move { stopped.cancelled().await });
            tokio::spawn(async move {
                if let Err(e) = metrics.await {
                    tracing::error!(error = %e, "metrics listener failed");
                }
            });
        }
        shutdown.cancelled().await;
        match tokio::time::timeout(grace, server).await {
            Ok(joined) => joined.context("server task failed")?.context("server failed")?,
            Err(_) => tracing::warn!(?grace, "grace period over; closing remaining connections"),
        }
        if let Some(redis) = &self.state.ctx.redis
            && !redis.tally.flush(redis).await
        {
            tracing::error!("counters added since the last flush could not reach Redis");
        }
        self.state.db.clone().close().await.ok();
        tracing::info!("stopped");
        Ok(())
    }
}

fn db_kind(db: &DatabaseConnection) -> &'static str {
    if db::is_postgres(db) { "postgres" } else { "sqlite" }
}

/// `ZYGO_JWT_SECRET`, or in development a secret generated once and kept in the data dir.
fn resolve_jwt_secret(config: &Config) -> anyhow::Result<SecretString> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.clone());
    }
    let path = config.data_dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if existing.len() >= 32 {
            return Ok(existing.into());
        }
    }
    let secret = format!("{}{}", crate::auth::tokens::random_token(), crate::auth::tokens::random_token());
    write_private(&path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "ZYGO_JWT_SECRET not set: generated one and kept it in the data dir");
    Ok(secret.into())
}

pub(crate) fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(content.as_bytes())
}
