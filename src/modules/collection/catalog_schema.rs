//! GraphQL of the catalog's checks (platform administrators): the stored BrightData
//! credentials per environment, checking a token, and testing a platform service's dataset.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{catalog_checks as checks, schema::platform_admin};
use crate::graphql::{app, relay, relay::kind};

/// An environment's stored BrightData credentials (never their values).
#[derive(SimpleObject)]
pub struct BrightDataCredentials {
    /// `development`, `staging` or `production`.
    pub environment: String,
    pub updated_at: DateTime<Utc>,
    /// When the token last worked; null until checked, and after BrightData refused it.
    pub validated_at: Option<DateTime<Utc>>,
}

/// What checking an environment's token found.
#[derive(SimpleObject)]
pub struct BrightDataCredentialsCheck {
    pub environment: String,
    pub ok: bool,
    pub message: String,
    /// Datasets the account reaches, when the token works.
    pub dataset_count: Option<i32>,
    pub validated_at: Option<DateTime<Utc>>,
}

/// What testing a platform service's dataset found.
#[derive(SimpleObject)]
pub struct PlatformServiceTest {
    pub ok: bool,
    pub message: String,
    /// The dataset's fields.
    pub fields: Vec<String>,
    /// Fields the output mapping reads that the dataset does not have.
    pub missing_fields: Vec<String>,
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// The stored BrightData credentials of each environment (platform administrators).
    async fn bright_data_credentials(&self, ctx: &Context<'_>) -> Result<Vec<BrightDataCredentials>> {
        platform_admin(ctx).await?;
        Ok(checks::stored(app(ctx))
            .await?
            .into_iter()
            .map(|c| BrightDataCredentials {
                environment: c.environment,
                updated_at: c.updated_at,
                validated_at: c.validated_at,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Checks an environment's stored BrightData token with a harmless read of the account's
    /// datasets (platform administrators).
    async fn validate_bright_data_credentials(
        &self,
        ctx: &Context<'_>,
        environment: String,
    ) -> Result<BrightDataCredentialsCheck> {
        platform_admin(ctx).await?;
        let c = checks::validate_credentials(app(ctx), &environment).await?;
        Ok(BrightDataCredentialsCheck {
            environment: c.environment,
            ok: c.ok,
            message: c.message,
            dataset_count: c.dataset_count.map(|n| n.min(i32::MAX as usize) as i32),
            validated_at: c.validated_at,
        })
    }

    /// Tests a platform service's dataset: its fields, and whether the output mapping reads
    /// only fields it has (platform administrators).
    async fn test_platform_service(&self, ctx: &Context<'_>, id: ID) -> Result<PlatformServiceTest> {
        platform_admin(ctx).await?;
        let id = relay::decode_id("id", &id, kind::PLATFORM_SERVICE)?;
        let t = checks::test_service(app(ctx), id).await?;
        Ok(PlatformServiceTest {
            ok: t.ok,
            message: t.message,
            fields: t.fields,
            missing_fields: t.missing_fields,
        })
    }
}
