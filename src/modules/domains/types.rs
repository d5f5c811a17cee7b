//! GraphQL types of organisation addresses.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::tenant_domain::{self, DomainStatus};

use crate::graphql::{app, loaders::loaders, relay};

/// Whether a custom domain is proven to be the organisation's.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "TenantDomainStatus")]
pub enum TenantDomainStatus {
    /// Waiting for its TXT record (or lost it for longer than the grace period).
    Pending,
    /// Its TXT record was found.
    Verified,
}

/// The DNS record that proves a domain.
#[derive(SimpleObject)]
pub struct DomainVerificationRecord {
    /// Where to create it, e.g. `_zygo-challenge.app.example.com`.
    pub name: String,
    /// Always `TXT`.
    pub r#type: String,
    pub value: String,
}

/// A custom domain of an organisation.
pub struct TenantDomain(pub tenant_domain::Model);

#[Object]
impl TenantDomain {
    pub async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::TENANT_DOMAIN, self.0.id)
    }
    async fn domain(&self) -> &str {
        &self.0.domain
    }
    async fn status(&self) -> TenantDomainStatus {
        match self.0.status {
            DomainStatus::Pending => TenantDomainStatus::Pending,
            DomainStatus::Verified => TenantDomainStatus::Verified,
        }
    }
    /// The record to create at the domain's DNS provider.
    async fn verification_record(&self, ctx: &Context<'_>) -> DomainVerificationRecord {
        DomainVerificationRecord {
            name: super::service::record_name(app(ctx), &self.0.domain),
            r#type: "TXT".into(),
            value: self.0.verification_token.clone(),
        }
    }
    /// The address the organisation's other domains redirect to.
    async fn is_primary(&self) -> bool {
        self.0.is_primary
    }
    async fn verified_at(&self) -> Option<DateTime<Utc>> {
        self.0.verified_at
    }
    async fn last_checked_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_checked_at
    }
    /// Since when a verified domain's record has been missing (it goes back to PENDING after
    /// the grace period).
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The addresses part of `Tenant`.
#[derive(Clone)]
pub struct TenantAddresses(pub crate::graphql::tenant::TenantRow);

#[Object]
impl TenantAddresses {
    /// The organisation's subdomain, `https://{slug}.{ZYGO_BASE_DOMAIN}`, when a base domain is
    /// configured.
    async fn subdomain_url(&self, ctx: &Context<'_>) -> Option<String> {
        app(ctx).config.domains.base_domain.as_ref().map(|b| format!("https://{}.{b}", self.0.slug))
    }
    /// Its custom domains, the primary one first.
    async fn domains(&self, ctx: &Context<'_>) -> Result<Vec<TenantDomain>> {
        let tctx = loaders(ctx).tenant_access(self.0.id).await?;
        Ok(super::service::list(app(ctx), &tctx).await?.into_iter().map(TenantDomain).collect())
    }
}
