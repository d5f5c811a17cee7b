//! The DNS propagation check: asks each authoritative name server of a record's zone (the
//! provider's, and those the zone's own apex NS records name) for the record directly and
//! reports per server whether it already answers with the record's value. Name servers' host
//! names are resolved through the configured resolver (`ZYGO_DNS_RESOLVER`); they are asked on
//! `ZYGO_DNS_AUTHORITY_PORT` (53), so tests point both at a local DNS server.

use std::{net::IpAddr, str::FromStr};

use chrono::{DateTime, Utc};
use entity::{cloud_provider, dns_record, dns_zone};
use hickory_resolver::proto::rr::{RData, RecordType};
use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

use super::drivers;
use crate::{
    access::TenantCtx,
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// The most name servers one check asks.
const MAX_NAME_SERVERS: usize = 8;

/// What one name server answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// It answers with the record's value.
    Propagated,
    /// It answers for the name and type, but not with the value (an older one).
    Outdated,
    /// It has no such record (NXDOMAIN or no data).
    Missing,
    /// It could not be asked: no address, no answer in time, or an error.
    Unreachable,
}

/// One name server's part of a check.
#[derive(Clone, Debug)]
pub struct ServerReport {
    pub name_server: String,
    pub address: Option<IpAddr>,
    pub answer: Answer,
    pub values: Vec<String>,
    pub error: Option<String>,
}

/// A whole check.
#[derive(Clone, Debug)]
pub struct Report {
    /// The fully qualified name asked for (no final dot).
    pub fqdn: String,
    pub record_type: String,
    pub expected: String,
    pub servers: Vec<ServerReport>,
    pub checked_at: DateTime<Utc>,
}

impl Report {
    /// Every name server answers with the value (and there is at least one).
    pub fn propagated(&self) -> bool {
        !self.servers.is_empty() && self.servers.iter().all(|s| s.answer == Answer::Propagated)
    }
}

/// A value as compared: lower case, no final dot, TXT without its quotes.
pub fn normalise(record_type: &str, v: &str) -> String {
    let v = v.trim();
    if record_type == "TXT" {
        return v.trim_matches('"').to_string();
    }
    if let Ok(ip) = v.parse::<IpAddr>() {
        return ip.to_string();
    }
    v.split_whitespace().map(|p| p.trim_end_matches('.').to_ascii_lowercase()).collect::<Vec<_>>().join(" ")
}

fn value_of(data: &RData) -> String {
    match data {
        RData::TXT(t) => t.txt_data().iter().map(|p| String::from_utf8_lossy(p)).collect(),
        other => other.to_string(),
    }
}

/// The addresses of name server `host` (itself when it is an address).
async fn addresses(ctx: &Ctx, host: &str) -> Result<Vec<IpAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let resolver = crate::modules::domains::dns::configured(&ctx.config.domains)?;
    match resolver.lookup_ip(format!("{}.", host.trim_end_matches('.'))).await {
        Ok(found) => Ok(found.iter().collect()),
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(vec![]),
        Err(e) => Err(e.to_string()),
    }
}

/// Asks `ns` at `ip` for `fqdn`/`rtype` and judges the answer against `expected`.
async fn ask(ctx: &Ctx, ns: &str, ip: IpAddr, fqdn: &str, rtype: &str, expected: &str) -> ServerReport {
    let port = ctx.config.infrastructure.dns_authority_port;
    let report = |answer, values, error| ServerReport {
        name_server: ns.to_string(),
        address: Some(ip),
        answer,
        values,
        error,
    };
    let Ok(record_type) = RecordType::from_str(rtype) else {
        return report(Answer::Unreachable, vec![], Some(format!("{rtype} cannot be asked for")));
    };
    match crate::modules::domains::dns::resolver_at((ip, port).into(), 1)
        .lookup(format!("{fqdn}."), record_type)
        .await
    {
        Ok(found) => {
            let values: Vec<String> = found
                .record_iter()
                .filter(|r| r.record_type() == record_type)
                .map(|r| value_of(r.data()))
                .collect();
            let has = values.iter().any(|v| normalise(rtype, v) == normalise(rtype, expected));
            let answer = match (has, values.is_empty()) {
                (true, _) => Answer::Propagated,
                (false, true) => Answer::Missing,
                (false, false) => Answer::Outdated,
            };
            report(answer, values, None)
        }
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => report(Answer::Missing, vec![], None),
        Err(e) => report(Answer::Unreachable, vec![], Some(e.to_string())),
    }
}

/// Checks record `id` at every authoritative name server of its zone (`infrastructure.read`).
pub async fn check(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<Report> {
    tctx.require(Permission::InfrastructureRead)?;
    let db = tctx.on(&ctx.db);
    let scope = tctx.scope();
    let record =
        scope.find_by_id::<dns_record::Entity, _>(&db, id).await?.ok_or(AppError::NotFound("DNS record"))?;
    let zone = scope
        .find_by_id::<dns_zone::Entity, _>(&db, record.zone_id)
        .await?
        .ok_or(AppError::NotFound("DNS zone"))?;
    let provider = scope
        .find_by_id::<cloud_provider::Entity, _>(&db, zone.provider_id)
        .await?
        .ok_or(AppError::NotFound("cloud provider"))?;
    let apex_ns: Vec<String> = scope
        .find::<dns_record::Entity>()
        .filter(dns_record::Column::ZoneId.eq(zone.id))
        .filter(dns_record::Column::RecordType.eq("NS"))
        .filter(dns_record::Column::Name.eq("@"))
        .all(&db)
        .await?
        .into_iter()
        .map(|r| r.value)
        .collect();
    tctx.reads.release().await;

    let remote = drivers::for_provider(ctx, &provider)?.find_zone(&zone.name).await?;
    let mut name_servers: Vec<String> = Vec::new();
    for ns in remote.map(|z| z.name_servers).unwrap_or_default().into_iter().chain(apex_ns) {
        let ns = ns.trim().trim_end_matches('.').to_ascii_lowercase();
        if !ns.is_empty() && !name_servers.contains(&ns) && name_servers.len() < MAX_NAME_SERVERS {
            name_servers.push(ns);
        }
    }
    let fqdn = if record.name == "@" { zone.name.clone() } else { format!("{}.{}", record.name, zone.name) };
    let servers = futures::future::join_all(name_servers.iter().map(|ns| {
        let (fqdn, record) = (&fqdn, &record);
        async move {
            match addresses(ctx, ns).await {
                Ok(ips) if !ips.is_empty() => {
                    ask(ctx, ns, ips[0], fqdn, &record.record_type, &record.value).await
                }
                Ok(_) => ServerReport {
                    name_server: ns.clone(),
                    address: None,
                    answer: Answer::Unreachable,
                    values: vec![],
                    error: Some("the name server's name has no address".into()),
                },
                Err(e) => ServerReport {
                    name_server: ns.clone(),
                    address: None,
                    answer: Answer::Unreachable,
                    values: vec![],
                    error: Some(format!("the name server's address could not be found: {e}")),
                },
            }
        }
    }))
    .await;
    Ok(Report {
        fqdn,
        record_type: record.record_type.clone(),
        expected: record.value.clone(),
        servers,
        checked_at: ctx.now(),
    })
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn values_compare_without_case_final_dots_or_txt_quotes() {
        assert_eq!(normalise("CNAME", "Web.Example.com."), normalise("CNAME", "web.example.com"));
        assert_eq!(normalise("MX", "10 Mail.example.com."), "10 mail.example.com");
        assert_eq!(normalise("TXT", "\"v=spf1 -all\""), "v=spf1 -all");
        assert_eq!(normalise("AAAA", "2001:DB8::1"), normalise("AAAA", "2001:db8:0::1"));
        assert_ne!(normalise("A", "203.0.113.9"), normalise("A", "203.0.113.10"));
    }
}
