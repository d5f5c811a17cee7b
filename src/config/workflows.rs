//! Workflow engine settings: the master key for secrets, workers, leases, limits and the
//! language model endpoint.

use std::time::Duration;

use secrecy::SecretString;

use super::{ConfigError, Environment, Lookup, flag, parse, positive, secs};

/// Settings of the workflow engine (`ZYGO_WORKFLOW_*`, `ZYGO_MASTER_KEY`, `ZYGO_LLM_*`).
#[derive(Clone, Debug)]
pub struct WorkflowSettings {
    /// `ZYGO_MASTER_KEY`: 32 bytes as 64 hex digits or base64; each tenant's secret key is
    /// derived from it. `None` in development means "generate once and keep in the data dir".
    pub master_key: Option<SecretString>,
    /// `ZYGO_WORKFLOW_WORKERS`: executions one instance runs at once; 0 runs none here. A
    /// worker is a task, not a thread: a run mostly waits (on its nodes' calls, on the
    /// database), so the pool is sized for waiting runs, not for cores.
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

/// Reads the `ZYGO_WORKFLOW_*`, `ZYGO_MASTER_KEY` and `ZYGO_LLM_*` variables.
pub(super) fn read(get: Lookup<'_>, environment: Environment) -> Result<WorkflowSettings, ConfigError> {
    Ok(WorkflowSettings {
        master_key: {
            let key = get("ZYGO_MASTER_KEY");
            match (&key, environment) {
                (None, Environment::Production) => {
                    return Err(ConfigError::new("ZYGO_MASTER_KEY", "is required when ZYGO_ENV=production"));
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
        workers: parse("ZYGO_WORKFLOW_WORKERS", get("ZYGO_WORKFLOW_WORKERS"), "32")?,
        tenant_concurrency: positive(
            "ZYGO_WORKFLOW_TENANT_CONCURRENCY",
            get("ZYGO_WORKFLOW_TENANT_CONCURRENCY"),
            "32",
        )?,
        lease: secs(get, "ZYGO_WORKFLOW_LEASE", 30)?,
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
    })
}
