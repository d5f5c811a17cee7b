//! Settings of organisation addresses (`modules::domains`): the base domain of their
//! subdomains, how custom domains are proven, and the DNS resolver that checks them.

use std::{net::SocketAddr, time::Duration};

use super::{ConfigError, Lookup, parse, secs};

/// `ZYGO_BASE_DOMAIN`, `ZYGO_DOMAIN_*`, `ZYGO_DNS_RESOLVER`.
#[derive(Clone, Debug)]
pub struct DomainSettings {
    /// `ZYGO_BASE_DOMAIN` (e.g. `zygo.example.com`): each organisation is reachable at
    /// `{slug}.{base}`. Unset: no subdomains.
    pub base_domain: Option<String>,
    /// `ZYGO_DOMAIN_CHALLENGE_PREFIX` (default `_zygo-challenge`): the label in front of a
    /// custom domain whose TXT record proves it.
    pub challenge_prefix: String,
    /// `ZYGO_DNS_RESOLVER` (`host:port`): the DNS server asked for verification records;
    /// unset, the system's resolvers (`/etc/resolv.conf`).
    pub resolver: Option<SocketAddr>,
    /// `ZYGO_DOMAIN_RECHECK_INTERVAL` (seconds, default 3600): how often verified domains are
    /// checked again.
    pub recheck_interval: Duration,
    /// `ZYGO_DOMAIN_GRACE_HOURS` (default 72): how long a verified domain may miss its record
    /// before it goes back to pending.
    pub grace_hours: i64,
}

pub(super) fn read(get: Lookup<'_>) -> Result<DomainSettings, ConfigError> {
    let base_domain = get("ZYGO_BASE_DOMAIN")
        .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|d| !d.is_empty());
    if let Some(d) = &base_domain
        && (!d.contains('.') || d.contains(char::is_whitespace) || d.contains('/'))
    {
        return Err(ConfigError::new("ZYGO_BASE_DOMAIN", "a domain name such as zygo.example.com"));
    }
    let prefix = get("ZYGO_DOMAIN_CHALLENGE_PREFIX").unwrap_or_else(|| "_zygo-challenge".into());
    if prefix.is_empty() || prefix.contains('.') || prefix.len() > 63 {
        return Err(ConfigError::new("ZYGO_DOMAIN_CHALLENGE_PREFIX", "one DNS label (no dots)"));
    }
    let resolver = match get("ZYGO_DNS_RESOLVER").filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(s.trim().parse::<SocketAddr>().map_err(|_| {
            ConfigError::new("ZYGO_DNS_RESOLVER", "an address as host:port, e.g. 127.0.0.1:53")
        })?),
        None => None,
    };
    Ok(DomainSettings {
        base_domain,
        challenge_prefix: prefix,
        resolver,
        recheck_interval: secs(get, "ZYGO_DOMAIN_RECHECK_INTERVAL", 3600)?.max(Duration::from_secs(60)),
        grace_hours: parse("ZYGO_DOMAIN_GRACE_HOURS", get("ZYGO_DOMAIN_GRACE_HOURS"), "72")?,
    })
}
