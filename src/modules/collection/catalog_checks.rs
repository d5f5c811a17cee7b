//! Checks of the catalog against BrightData, for platform administrators: an environment's
//! stored API token (a harmless read of the account's datasets; a working token is stamped
//! `validatedAt`, a refused one loses its stamp) and a platform service's dataset (its fields
//! from the dataset's metadata, and which fields the output mapping reads that the dataset
//! does not have).

use chrono::{DateTime, SubsecRound, Utc};
use entity::{collection_credential, collection_job::CollectionProvider};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr};
use serde_json::Value;
use uuid::Uuid;

use super::{
    brightdata::{CallError, Client},
    catalog,
};
use crate::{
    ctx::Ctx,
    error::{AppError, AppResult},
};

/// What a credentials check found.
pub struct CredentialsCheck {
    pub environment: String,
    pub ok: bool,
    pub message: String,
    pub dataset_count: Option<usize>,
    pub validated_at: Option<DateTime<Utc>>,
}

/// What a dataset test found.
pub struct ServiceTest {
    pub ok: bool,
    pub message: String,
    /// The dataset's fields.
    pub fields: Vec<String>,
    /// Fields the output mapping reads that the dataset does not have.
    pub missing_fields: Vec<String>,
}

fn message(e: CallError) -> String {
    match e {
        CallError::Refused(m) | CallError::Transient(m) => m,
    }
}

/// The stored credentials of every environment (never their values).
pub async fn stored(ctx: &Ctx) -> AppResult<Vec<collection_credential::Model>> {
    Ok(collection_credential::Entity::find()
        .order_by_asc(collection_credential::Column::Environment)
        .all(&ctx.db)
        .await?)
}

/// Checks the stored token of `environment` with BrightData.
pub async fn validate_credentials(ctx: &Ctx, environment: &str) -> AppResult<CredentialsCheck> {
    let Some((token, _)) = catalog::credentials_of(ctx, environment).await? else {
        return Err(AppError::validation(
            "environment",
            format!("no credentials are stored for `{environment}`"),
        ));
    };
    let client = Client::new(&ctx.config.collection.brightdata_url, &token);
    let outcome = client.list_datasets().await;
    let stamp = match &outcome {
        // Microseconds: what PostgreSQL keeps, so the answer equals what is stored.
        Ok(_) => Some(ctx.now().trunc_subsecs(6)),
        // Refused: the token no longer works. Unreachable says nothing about the token.
        Err(CallError::Refused(_)) => None,
        Err(CallError::Transient(_)) => {
            return Ok(CredentialsCheck {
                environment: environment.into(),
                ok: false,
                message: message(outcome.unwrap_err()),
                dataset_count: None,
                validated_at: None,
            });
        }
    };
    collection_credential::Entity::update_many()
        .col_expr(collection_credential::Column::ValidatedAt, Expr::value(stamp))
        .filter(collection_credential::Column::Environment.eq(environment))
        .exec(&ctx.db)
        .await?;
    Ok(match outcome {
        Ok(n) => CredentialsCheck {
            environment: environment.into(),
            ok: true,
            message: format!("the token works: the account reaches {n} datasets"),
            dataset_count: Some(n),
            validated_at: stamp,
        },
        Err(e) => CredentialsCheck {
            environment: environment.into(),
            ok: false,
            message: message(e),
            dataset_count: None,
            validated_at: None,
        },
    })
}

/// The field a mapping entry reads first (`author.username` reads `author`).
fn source_field(v: &Value) -> Option<String> {
    v.as_str().and_then(|s| s.split('.').next()).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Tests platform service `id`'s dataset with this instance's environment's credentials.
pub async fn test_service(ctx: &Ctx, id: Uuid) -> AppResult<ServiceTest> {
    let (service, _) =
        catalog::service_with_platform(ctx, id).await?.ok_or(AppError::NotFound("platform service"))?;
    if service.provider == CollectionProvider::Sample {
        return Ok(ServiceTest {
            ok: true,
            message: "the sample provider makes its records up: there is no dataset to test".into(),
            fields: vec![],
            missing_fields: vec![],
        });
    }
    let Some((token, _)) = catalog::credentials(ctx).await? else {
        return Ok(ServiceTest {
            ok: false,
            message: format!(
                "no BrightData credentials for the `{}` environment",
                ctx.config.collection.environment
            ),
            fields: vec![],
            missing_fields: vec![],
        });
    };
    let client = Client::new(&ctx.config.collection.brightdata_url, &token);
    match client.dataset_fields(&service.dataset_id).await {
        Ok(mut fields) => {
            fields.sort();
            let mut missing: Vec<String> = service
                .output_mapping
                .as_object()
                .map(|m| m.values().filter_map(source_field).filter(|f| !fields.contains(f)).collect())
                .unwrap_or_default();
            missing.sort();
            missing.dedup();
            let ok = missing.is_empty();
            let message = if ok {
                format!("dataset {} answers with {} fields", service.dataset_id, fields.len())
            } else {
                format!("the output mapping reads fields the dataset lacks: {}", missing.join(", "))
            };
            Ok(ServiceTest { ok, message, fields, missing_fields: missing })
        }
        Err(e) => Ok(ServiceTest { ok: false, message: message(e), fields: vec![], missing_fields: vec![] }),
    }
}
