//! DNS: zones and their records (A, AAAA, CNAME, MX, TXT, NS, SRV, CAA, each checked by its
//! type's rules) on a provider account; creating a zone and upserting or deleting a record
//! are audited changes recording durable provider actions. Record rules are pure functions
//! with unit tests below.

use std::net::{Ipv4Addr, Ipv6Addr};

use entity::{dns_record, dns_zone, dns_zone::DnsStatus, infrastructure_action as action};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use uuid::Uuid;

use super::{actions, servers::provider_in};
use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// The record types Zygo writes.
pub const RECORD_TYPES: &[&str] = &["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA"];

fn check_ttl(field: &str, ttl: i32) -> AppResult<()> {
    if !(60..=86400).contains(&ttl) {
        return Err(AppError::validation(field, "must be 60 to 86400 seconds"));
    }
    Ok(())
}

fn is_label(l: &str, wildcard_ok: bool) -> bool {
    (wildcard_ok && l == "*")
        || (!l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !l.starts_with('-')
            && !l.ends_with('-'))
}

/// A host name: dot-separated labels, an optional final dot.
pub fn is_hostname(h: &str) -> bool {
    let h = h.strip_suffix('.').unwrap_or(h);
    !h.is_empty() && h.len() <= 253 && h.split('.').all(|l| is_label(l, false))
}

/// A zone name: a host name with at least two labels, lower case.
pub fn check_zone_name(field: &str, name: &str) -> AppResult<String> {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if !is_hostname(&n) || !n.contains('.') {
        return Err(AppError::validation(field, "must be a domain name such as example.com"));
    }
    Ok(n)
}

/// Checks a record's name (relative to its zone, `@` for the apex) and value by type;
/// returns the normalised name and value.
pub fn check_record(record_type: &str, name: &str, value: &str) -> AppResult<(String, String)> {
    let name = name.trim().to_ascii_lowercase();
    let name = if name.is_empty() { "@".to_string() } else { name };
    if name != "@" && !(name.len() <= 253 && name.split('.').enumerate().all(|(i, l)| is_label(l, i == 0))) {
        return Err(AppError::validation("input.name", "must be @ or a relative name such as www or *.dev"));
    }
    let value = value.trim().to_string();
    let bad = |m: &str| Err(AppError::validation("input.value", m.to_string()));
    let u16_ok = |s: &str| s.parse::<u16>().is_ok();
    match record_type {
        "A" if value.parse::<Ipv4Addr>().is_err() => return bad("an A record's value is an IPv4 address"),
        "AAAA" if value.parse::<Ipv6Addr>().is_err() => {
            return bad("an AAAA record's value is an IPv6 address");
        }
        "CNAME" => {
            if name == "@" {
                return Err(AppError::validation("input.name", "a CNAME cannot be at the zone's apex"));
            }
            if !is_hostname(&value) {
                return bad("a CNAME record's value is a host name");
            }
        }
        "NS" if !is_hostname(&value) => return bad("an NS record's value is a host name"),
        "MX" => {
            let parts: Vec<&str> = value.split_whitespace().collect();
            if parts.len() != 2 || !u16_ok(parts[0]) || !is_hostname(parts[1]) {
                return bad("an MX record's value is `priority host`, e.g. `10 mail.example.com.`");
            }
        }
        "TXT" => {
            if value.is_empty() || value.len() > 4096 || value.chars().any(|c| c.is_control()) {
                return bad("a TXT record's value is 1 to 4096 printable characters");
            }
        }
        "SRV" => {
            let parts: Vec<&str> = value.split_whitespace().collect();
            if parts.len() != 4
                || !parts[..3].iter().all(|p| u16_ok(p))
                || !(parts[3] == "." || is_hostname(parts[3]))
            {
                return bad("an SRV record's value is `priority weight port target`");
            }
            let mut labels = name.split('.');
            let (svc, proto) = (labels.next().unwrap_or_default(), labels.next().unwrap_or_default());
            if !svc.starts_with('_') || !proto.starts_with('_') {
                return Err(AppError::validation(
                    "input.name",
                    "an SRV record's name is _service._proto[.name]",
                ));
            }
        }
        "CAA" => {
            let mut parts = value.splitn(3, ' ');
            let flags = parts.next().unwrap_or_default();
            let tag = parts.next().unwrap_or_default();
            let v = parts.next().unwrap_or_default();
            let quoted = v.len() >= 2 && v.starts_with('"') && v.ends_with('"');
            if flags.parse::<u8>().is_err() || !matches!(tag, "issue" | "issuewild" | "iodef") || !quoted {
                return bad("a CAA record's value is `flags tag \"value\"`, tag issue, issuewild or iodef");
            }
        }
        "A" | "AAAA" | "NS" => {}
        _ => {
            return Err(AppError::validation(
                "input.type",
                "must be one of A, AAAA, CNAME, MX, TXT, NS, SRV, CAA",
            ));
        }
    }
    Ok((name, value))
}

/// Asks for a DNS zone on a provider account (`infrastructure.manage`).
pub async fn create_zone(
    ctx: &Ctx,
    tctx: &TenantCtx,
    provider: Uuid,
    name: &str,
    ttl: i32,
) -> AppResult<(dns_zone::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    let name = check_zone_name("input.name", name)?;
    check_ttl("input.ttl", ttl)?;
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    provider_in(&tx, provider).await?;
    let scope = tx.scope();
    let id = Uuid::now_v7();
    let now = ctx.now();
    let z = scope
        .insert(
            &tx,
            dns_zone::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                provider_id: Set(provider),
                name: Set(name.clone()),
                ttl: Set(ttl),
                status: Set(DnsStatus::Pending),
                external_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            },
        )
        .await
        .map_err(|e| {
            AppError::from_db_unique(e, "input.name", "this provider account has this zone already")
        })?;
    let a = actions::request(&mut tx, provider, "dns_zone.create", "dns_zone", id, json!({}), None).await?;
    tx.commit_with(Change {
        action: "dns_zone.created",
        target_type: "DnsZone",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "name": name })),
    })
    .await?;
    Ok((z, a))
}

/// A record to write: `id` names the record to change, none adds one.
pub struct RecordInput {
    pub zone: Uuid,
    pub id: Option<Uuid>,
    pub record_type: String,
    pub name: String,
    pub value: String,
    pub ttl: Option<i32>,
}

/// Adds or changes a record (`infrastructure.manage`), checked by its type's rules.
pub async fn upsert_record(
    ctx: &Ctx,
    tctx: &TenantCtx,
    req: RecordInput,
) -> AppResult<(dns_record::Model, action::Model)> {
    tctx.require(Permission::InfrastructureManage)?;
    let rtype = req.record_type.trim().to_ascii_uppercase();
    if !RECORD_TYPES.contains(&rtype.as_str()) {
        return Err(AppError::validation(
            "input.type",
            "must be one of A, AAAA, CNAME, MX, TXT, NS, SRV, CAA",
        ));
    }
    let (name, value) = check_record(&rtype, &req.name, &req.value)?;
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let scope = tx.scope();
    let zone = scope
        .find_by_id::<dns_zone::Entity, _>(&tx, req.zone)
        .await?
        .ok_or_else(|| AppError::validation("input.zoneId", "no such zone"))?;
    let ttl = req.ttl.unwrap_or(zone.ttl);
    check_ttl("input.ttl", ttl)?;
    let now = ctx.now();
    let (row, before) = match req.id {
        Some(id) => {
            let r = scope
                .find_by_id::<dns_record::Entity, _>(&tx, id)
                .await?
                .filter(|r| r.zone_id == zone.id)
                .ok_or(AppError::NotFound("DNS record"))?;
            let before = json!({ "type": r.record_type, "name": r.name, "value": r.value, "ttl": r.ttl });
            let mut am: dns_record::ActiveModel = r.into();
            am.record_type = Set(rtype.clone());
            am.name = Set(name.clone());
            am.value = Set(value.clone());
            am.ttl = Set(ttl);
            am.status = Set(DnsStatus::Pending);
            am.updated_at = Set(now);
            (scope.update(&tx, am).await?, Some(before))
        }
        None => {
            let r = scope
                .insert(
                    &tx,
                    dns_record::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        tenant_id: Set(scope.tenant_id()),
                        zone_id: Set(zone.id),
                        record_type: Set(rtype.clone()),
                        name: Set(name.clone()),
                        value: Set(value.clone()),
                        ttl: Set(ttl),
                        status: Set(DnsStatus::Pending),
                        external_id: Set(None),
                        created_at: Set(now),
                        updated_at: Set(now),
                    },
                )
                .await?;
            (r, None)
        }
    };
    let a = actions::request(
        &mut tx,
        zone.provider_id,
        "dns_record.upsert",
        "dns_record",
        row.id,
        json!({}),
        None,
    )
    .await?;
    tx.commit_with(Change {
        action: "dns_record.upserted",
        target_type: "DnsRecord",
        target_id: Some(row.id),
        before,
        after: Some(json!({ "zone": zone.name, "type": rtype, "name": name, "value": value, "ttl": ttl })),
    })
    .await?;
    Ok((row, a))
}

/// Asks to delete a record (`infrastructure.manage`).
pub async fn delete_record(
    ctx: &Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> AppResult<(dns_record::Model, action::Model)> {
    let mut tx = TenantTx::begin(ctx, tctx, Permission::InfrastructureManage).await?;
    let scope = tx.scope();
    let r =
        scope.find_by_id::<dns_record::Entity, _>(&tx, id).await?.ok_or(AppError::NotFound("DNS record"))?;
    let zone = scope
        .find_by_id::<dns_zone::Entity, _>(&tx, r.zone_id)
        .await?
        .ok_or(AppError::NotFound("DNS zone"))?;
    let a =
        actions::request(&mut tx, zone.provider_id, "dns_record.delete", "dns_record", id, json!({}), None)
            .await?;
    tx.commit_with(Change {
        action: "dns_record.deleted",
        target_type: "DnsRecord",
        target_id: Some(id),
        before: Some(json!({ "zone": zone.name, "type": r.record_type, "name": r.name, "value": r.value })),
        after: None,
    })
    .await?;
    Ok((r, a))
}

/// One record (`infrastructure.read`).
pub async fn record(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<dns_record::Model> {
    tctx.require(Permission::InfrastructureRead)?;
    tctx.scope()
        .find_by_id::<dns_record::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or(AppError::NotFound("DNS record"))
}

/// The organisation's zones with their records, in two statements (`infrastructure.read`).
pub async fn zones(ctx: &Ctx, tctx: &TenantCtx) -> AppResult<Vec<(dns_zone::Model, Vec<dns_record::Model>)>> {
    tctx.require(Permission::InfrastructureRead)?;
    let db = tctx.on(&ctx.db);
    let zones = tctx.scope().find::<dns_zone::Entity>().order_by_asc(dns_zone::Column::Id).all(&db).await?;
    let records = tctx
        .scope()
        .find::<dns_record::Entity>()
        .filter(dns_record::Column::ZoneId.is_in(zones.iter().map(|z| z.id)))
        .order_by_asc(dns_record::Column::Id)
        .all(&db)
        .await?;
    Ok(zones
        .into_iter()
        .map(|z| {
            let rs = records.iter().filter(|r| r.zone_id == z.id).cloned().collect();
            (z, rs)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::check_record;

    #[test]
    fn each_record_type_accepts_its_shape_and_refuses_others() {
        let ok = [
            ("A", "www", "203.0.113.7"),
            ("AAAA", "@", "2001:db8::1"),
            ("CNAME", "blog", "example.net."),
            ("MX", "@", "10 mail.example.com."),
            ("TXT", "@", "v=spf1 -all"),
            ("NS", "sub", "ns1.example.com"),
            ("SRV", "_sip._tcp", "10 5 5060 sip.example.com."),
            ("CAA", "@", "0 issue \"letsencrypt.org\""),
            ("A", "*.dev", "10.0.0.1"),
        ];
        for (t, n, v) in ok {
            assert!(check_record(t, n, v).is_ok(), "{t} {n} {v}");
        }
        let bad = [
            ("A", "www", "2001:db8::1"),
            ("AAAA", "@", "203.0.113.7"),
            ("CNAME", "@", "example.net."),
            ("MX", "@", "mail.example.com."),
            ("TXT", "@", ""),
            ("SRV", "sip", "10 5 5060 sip.example.com."),
            ("CAA", "@", "0 issue letsencrypt.org"),
            ("A", "bad name", "10.0.0.1"),
            ("SPF", "@", "x"),
        ];
        for (t, n, v) in bad {
            assert!(check_record(t, n, v).is_err(), "{t} {n} {v}");
        }
    }
}
