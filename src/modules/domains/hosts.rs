//! Which organisation a request's `Host` names, before it reaches GraphQL: `{slug}.{base}`
//! (`ZYGO_BASE_DOMAIN`) or a verified custom domain. Read across tenants: the organisation is
//! what is being found out.

use entity::{tenant, tenant_domain};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{ctx::Ctx, error::AppResult};

/// What a host is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostTarget {
    /// Not an organisation's address (the platform's own, or no base domain configured).
    Platform,
    /// An organisation's address.
    Tenant { id: Uuid, slug: String },
    /// A verified domain that is not its organisation's primary one: go there instead.
    Redirect { to: String },
    /// A subdomain of the base domain that names no organisation.
    Unknown,
}

/// The host without port, lower case.
pub fn bare(host: &str) -> String {
    let host = host.trim().trim_end_matches('.');
    let host = if host.starts_with('[') { host } else { host.rsplit_once(':').map_or(host, |(h, _)| h) };
    host.to_ascii_lowercase()
}

/// Decides what `host` is.
pub async fn resolve(ctx: &Ctx, host: &str) -> AppResult<HostTarget> {
    let host = bare(host);
    let across = crate::db::across_tenants(&ctx.db);
    if let Some(base) = &ctx.config.domains.base_domain {
        if host == *base || host == format!("www.{base}") {
            return Ok(HostTarget::Platform);
        }
        if let Some(label) = host.strip_suffix(&format!(".{base}")) {
            if label.contains('.') || crate::modules::tenancy::service::RESERVED_SLUGS.contains(&label) {
                return Ok(if label.contains('.') { HostTarget::Unknown } else { HostTarget::Platform });
            }
            let found = tenant::Entity::find().filter(tenant::Column::Slug.eq(label)).one(&across).await?;
            return Ok(match found {
                Some(t) => HostTarget::Tenant { id: t.id, slug: t.slug },
                None => HostTarget::Unknown,
            });
        }
    }
    let Some(d) = tenant_domain::Entity::find()
        .filter(tenant_domain::Column::Domain.eq(host.as_str()))
        .filter(tenant_domain::Column::Status.eq(tenant_domain::DomainStatus::Verified))
        .one(&across)
        .await?
    else {
        return Ok(HostTarget::Platform);
    };
    if !d.is_primary {
        let primary = tenant_domain::Entity::find()
            .filter(tenant_domain::Column::TenantId.eq(d.tenant_id))
            .filter(tenant_domain::Column::IsPrimary.eq(true))
            .one(&across)
            .await?;
        if let Some(p) = primary {
            return Ok(HostTarget::Redirect { to: p.domain });
        }
    }
    let t = tenant::Entity::find_by_id(d.tenant_id).one(&across).await?;
    Ok(match t {
        Some(t) => HostTarget::Tenant { id: t.id, slug: t.slug },
        None => HostTarget::Unknown,
    })
}

/// Caddy's on-demand TLS question: may a certificate be obtained for `domain`? Yes for the
/// base domain, an organisation's subdomain and a verified custom domain.
pub async fn may_serve(ctx: &Ctx, domain: &str) -> AppResult<bool> {
    Ok(matches!(resolve(ctx, domain).await?, HostTarget::Tenant { .. } | HostTarget::Redirect { .. })
        || ctx.config.domains.base_domain.as_deref() == Some(bare(domain).as_str()))
}

#[cfg(test)]
mod tests {
    use super::bare;

    #[test]
    fn hosts_lose_their_port_and_case() {
        assert_eq!(bare("Acme.Zygo.Test:8080"), "acme.zygo.test");
        assert_eq!(bare("app.example.com."), "app.example.com");
        assert_eq!(bare("[::1]"), "[::1]");
    }
}
