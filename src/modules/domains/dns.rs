//! TXT lookups for domain verification, through the configured resolver
//! (`ZYGO_DNS_RESOLVER`, else the system's), never cached: a re-check must see a record that
//! was just added or removed.

use std::{net::SocketAddr, time::Duration};

use hickory_resolver::{
    Resolver, TokioResolver,
    config::{NameServerConfig, ResolverConfig, ResolverOpts},
    name_server::TokioConnectionProvider,
    proto::xfer::Protocol,
};

use crate::config::DomainSettings;

fn options(attempts: usize) -> ResolverOpts {
    let mut opts = ResolverOpts::default();
    opts.cache_size = 0;
    opts.timeout = Duration::from_secs(3);
    opts.attempts = attempts;
    opts
}

/// A resolver asking only the DNS server at `addr` (UDP, then TCP), without a cache.
pub fn resolver_at(addr: SocketAddr, attempts: usize) -> TokioResolver {
    let mut config = ResolverConfig::new();
    config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
    config.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
    Resolver::builder_with_config(config, TokioConnectionProvider::default())
        .with_options(options(attempts))
        .build()
}

/// The configured resolver (`ZYGO_DNS_RESOLVER`, else the system's), without a cache.
pub fn configured(settings: &DomainSettings) -> Result<TokioResolver, String> {
    match settings.resolver {
        Some(addr) => Ok(resolver_at(addr, 2)),
        None => Ok(Resolver::builder_tokio()
            .map_err(|e| format!("no system resolver: {e}"))?
            .with_options(options(2))
            .build()),
    }
}

/// The TXT strings at `name` (each record's character strings joined); empty when the name
/// or its TXT records do not exist. `Err` when the lookup itself failed.
pub async fn txt_records(settings: &DomainSettings, name: &str) -> Result<Vec<String>, String> {
    let resolver = configured(settings)?;
    // Fully qualified: the search domains of the system must not be tried.
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    match resolver.txt_lookup(fqdn).await {
        Ok(found) => Ok(found
            .iter()
            .map(|txt| txt.txt_data().iter().map(|part| String::from_utf8_lossy(part)).collect::<String>())
            .collect()),
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}
