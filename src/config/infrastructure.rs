//! Settings of infrastructure (`modules::infrastructure`): the Hetzner and AWS endpoints and
//! how the provider-action jobs wait for a provider's own actions.

use super::{ConfigError, Lookup, parse};

/// `ZYGO_HETZNER_*` and `ZYGO_INFRASTRUCTURE_*`.
#[derive(Clone, Debug)]
pub struct InfrastructureSettings {
    /// `ZYGO_HETZNER_API_URL`: the Hetzner Cloud API (default `https://api.hetzner.cloud/v1`;
    /// tests point it at the local fake).
    pub hetzner_api_url: String,
    /// `ZYGO_HETZNER_DNS_API_URL`: the Hetzner DNS API (default
    /// `https://dns.hetzner.com/api/v1`).
    pub hetzner_dns_api_url: String,
    /// `ZYGO_AWS_ENDPOINT`: one endpoint for every AWS service the AWS driver calls (EC2,
    /// Route 53, CloudWatch, STS), e.g. moto or LocalStack; plain `http://` is allowed only
    /// here. Unset: AWS's own regional endpoints over HTTPS.
    pub aws_endpoint: Option<String>,
    /// `ZYGO_INFRASTRUCTURE_POLL_MS`: between two looks at a provider action still running
    /// (default 1000).
    pub poll_ms: u64,
    /// `ZYGO_INFRASTRUCTURE_ACTION_TIMEOUT_SECONDS`: how long one attempt waits for a provider
    /// action before trying again (default 600).
    pub action_timeout_seconds: u64,
    /// `ZYGO_INFRASTRUCTURE_RECONCILE_INTERVAL`: seconds between two looks of the drift
    /// reconciler at every provider account (default 300, at least 1).
    pub reconcile_interval: std::time::Duration,
    /// `ZYGO_DNS_AUTHORITY_PORT`: the port the DNS propagation check asks authoritative name
    /// servers on (default 53; tests use a local DNS server's).
    pub dns_authority_port: u16,
    /// `ZYGO_INFRASTRUCTURE_SHUTDOWN_TIMEOUT_SECONDS`: how long a stop waits for the system to
    /// shut down gracefully before the power is cut (default 120).
    pub shutdown_timeout_seconds: u64,
}

fn url(get: Lookup<'_>, var: &'static str, default: &str) -> Result<String, ConfigError> {
    let v = get(var).unwrap_or_else(|| default.into());
    if !(v.starts_with("http://") || v.starts_with("https://")) {
        return Err(ConfigError::new(var, "an http:// or https:// URL"));
    }
    Ok(v.trim_end_matches('/').to_string())
}

pub(super) fn read(get: Lookup<'_>) -> Result<InfrastructureSettings, ConfigError> {
    Ok(InfrastructureSettings {
        hetzner_api_url: url(get, "ZYGO_HETZNER_API_URL", "https://api.hetzner.cloud/v1")?,
        hetzner_dns_api_url: url(get, "ZYGO_HETZNER_DNS_API_URL", "https://dns.hetzner.com/api/v1")?,
        aws_endpoint: match get("ZYGO_AWS_ENDPOINT").filter(|v| !v.trim().is_empty()) {
            Some(_) => Some(url(get, "ZYGO_AWS_ENDPOINT", "")?),
            None => None,
        },
        poll_ms: parse("ZYGO_INFRASTRUCTURE_POLL_MS", get("ZYGO_INFRASTRUCTURE_POLL_MS"), "1000")?,
        action_timeout_seconds: parse(
            "ZYGO_INFRASTRUCTURE_ACTION_TIMEOUT_SECONDS",
            get("ZYGO_INFRASTRUCTURE_ACTION_TIMEOUT_SECONDS"),
            "600",
        )?,
        reconcile_interval: std::time::Duration::from_secs(
            parse::<u64>(
                "ZYGO_INFRASTRUCTURE_RECONCILE_INTERVAL",
                get("ZYGO_INFRASTRUCTURE_RECONCILE_INTERVAL"),
                "300",
            )?
            .max(1),
        ),
        dns_authority_port: parse("ZYGO_DNS_AUTHORITY_PORT", get("ZYGO_DNS_AUTHORITY_PORT"), "53")?,
        shutdown_timeout_seconds: parse(
            "ZYGO_INFRASTRUCTURE_SHUTDOWN_TIMEOUT_SECONDS",
            get("ZYGO_INFRASTRUCTURE_SHUTDOWN_TIMEOUT_SECONDS"),
            "120",
        )?,
    })
}
