//! Logs and metrics.
//!
//! Logs: `tracing` with an env-filter (`ZYGO_LOG`) and text or JSON output
//! (`ZYGO_LOG_FORMAT`); request spans carry the request id, operation, tenant and user.
//! Metrics: one Prometheus [`Registry`] per application instance (not a process-global
//! recorder), so several instances in one process — as in the tests — keep their own counts.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{Config, LogFormat};

/// Installs the global tracing subscriber. Safe to call more than once (later calls no-op).
pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match config.log_format {
        LogFormat::Json => {
            registry.with(fmt::layer().json().with_current_span(true).with_span_list(false)).try_init()
        }
        LogFormat::Text => registry.with(fmt::layer().compact()).try_init(),
    };
}

/// The Prometheus metrics of one application instance. Cheap to clone (one reference count).
#[derive(Clone)]
pub struct Metrics(std::sync::Arc<MetricSet>);

impl std::ops::Deref for Metrics {
    type Target = MetricSet;

    fn deref(&self) -> &MetricSet {
        &self.0
    }
}

/// The metrics a [`Metrics`] holds.
pub struct MetricSet {
    registry: Registry,
    /// GraphQL operations by `operation_type` (query, mutation, subscription) and `outcome`
    /// (ok, error).
    pub graphql_requests: IntCounterVec,
    /// GraphQL operation latency in seconds, by `operation_type`.
    pub graphql_latency: HistogramVec,
    /// Open WebSocket connections.
    pub websockets_open: IntGauge,
    /// Active GraphQL subscriptions (streams currently running).
    pub subscriptions_active: IntGauge,
    /// Documents whose presence this instance serves to WebSocket subscribers (its rooms).
    pub presence_rooms: IntGauge,
    /// SQL statements sent to the database.
    pub db_statements: IntCounter,
    /// Failed SQL statements.
    pub db_statement_errors: IntCounter,
    /// Database pool: connections in use and idle (refreshed on scrape).
    pub db_pool_connections: prometheus::IntGaugeVec,
    /// Events published on the event bus.
    pub events_published: IntCounter,
    /// Workflow runs' last writes by `path`: `group` (committed with the other runs finishing
    /// meanwhile) or `alone` (failed runs, and a group that failed).
    pub workflow_finishes: IntCounterVec,
    /// Groups of runs' last writes committed together (see `workflows::runtime::finish`).
    pub workflow_finish_groups: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("zygo".into()), None).expect("valid registry");
        let graphql_requests = IntCounterVec::new(
            Opts::new("graphql_requests_total", "GraphQL operations by type and outcome"),
            &["operation_type", "outcome"],
        )
        .unwrap();
        let graphql_latency = HistogramVec::new(
            HistogramOpts::new("graphql_request_duration_seconds", "GraphQL operation latency")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["operation_type"],
        )
        .unwrap();
        let websockets_open = IntGauge::new("websockets_open", "Open WebSocket connections").unwrap();
        let subscriptions_active =
            IntGauge::new("subscriptions_active", "Active GraphQL subscriptions").unwrap();
        let presence_rooms =
            IntGauge::new("presence_rooms", "Documents whose presence this instance serves").unwrap();
        let db_statements = IntCounter::new("db_statements_total", "SQL statements executed").unwrap();
        let db_statement_errors =
            IntCounter::new("db_statement_errors_total", "SQL statements that failed").unwrap();
        let db_pool_connections = prometheus::IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )
        .unwrap();
        let events_published =
            IntCounter::new("events_published_total", "Events published on the event bus").unwrap();
        let workflow_finishes = IntCounterVec::new(
            Opts::new("workflow_finishes_total", "Workflow runs' last writes by how they were committed"),
            &["path"],
        )
        .unwrap();
        let workflow_finish_groups = IntCounter::new(
            "workflow_finish_groups_total",
            "Groups of workflow runs' last writes committed in one transaction",
        )
        .unwrap();
        for c in [
            Box::new(workflow_finishes.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(workflow_finish_groups.clone()),
            Box::new(graphql_requests.clone()),
            Box::new(graphql_latency.clone()),
            Box::new(websockets_open.clone()),
            Box::new(subscriptions_active.clone()),
            Box::new(presence_rooms.clone()),
            Box::new(db_statements.clone()),
            Box::new(db_statement_errors.clone()),
            Box::new(db_pool_connections.clone()),
            Box::new(events_published.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Self(std::sync::Arc::new(MetricSet {
            registry,
            graphql_requests,
            graphql_latency,
            websockets_open,
            subscriptions_active,
            presence_rooms,
            db_statements,
            db_statement_errors,
            db_pool_connections,
            events_published,
            workflow_finishes,
            workflow_finish_groups,
        }))
    }

    /// Renders all metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf).expect("text encoding cannot fail");
        String::from_utf8(buf).expect("prometheus text is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Keeps a gauge incremented while alive: open WebSockets, active subscriptions.
pub struct GaugeGuard(IntGauge);

impl GaugeGuard {
    pub fn new(gauge: &IntGauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}
