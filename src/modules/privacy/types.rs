//! GraphQL types of privacy: `DataExport` and the viewer's privacy fields (`ViewerPrivacy`,
//! merged into `Viewer`).

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{data_export, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::graphql::{
    app, rctx,
    relay::{self, kind},
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum DataExportStatus {
    /// Being gathered; mailed when ready.
    Pending,
    /// Ready to download until `expiresAt`.
    Ready,
    Failed,
    /// Past `expiresAt`: the archive is gone.
    Expired,
}

/// A data export: yours, or (with `organisationId`) an organisation's you own.
pub struct DataExport(pub data_export::Model);

#[Object]
impl DataExport {
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::DATA_EXPORT, self.0.id)
    }
    async fn organisation_id(&self) -> Option<ID> {
        self.0.organisation_id.map(|t| relay::to_global_id(kind::TENANT, t))
    }
    async fn status(&self, ctx: &Context<'_>) -> DataExportStatus {
        match self.0.status.as_str() {
            "READY" if self.0.expires_at.is_some_and(|e| e <= app(ctx).now()) => DataExportStatus::Expired,
            "READY" => DataExportStatus::Ready,
            "FAILED" => DataExportStatus::Failed,
            "EXPIRED" => DataExportStatus::Expired,
            _ => DataExportStatus::Pending,
        }
    }
    async fn size_bytes(&self) -> Option<i64> {
        self.0.size_bytes
    }
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.requested_at
    }
    async fn ready_at(&self) -> Option<DateTime<Utc>> {
        self.0.ready_at
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// A signed link to the ZIP while it is ready (the same as the one mailed).
    async fn download_url(&self, ctx: &Context<'_>) -> Option<String> {
        let app = app(ctx);
        let expires = self.0.expires_at.filter(|e| *e > app.now())?;
        (self.0.status == "READY").then(|| super::export::download_link(app, self.0.id, expires))
    }
}

/// The viewer's data exports and account deletion (part of `Viewer`).
#[derive(Clone)]
pub struct ViewerPrivacy(pub Arc<user::Model>);

#[Object]
impl ViewerPrivacy {
    /// Your last 20 data exports, newest first.
    async fn data_exports(&self, ctx: &Context<'_>) -> Result<Vec<DataExport>> {
        let viewer = rctx(ctx).viewer()?;
        Ok(data_export::Entity::find()
            .filter(data_export::Column::UserId.eq(viewer.user_id))
            .order_by_desc(data_export::Column::Id)
            .limit(20)
            .all(&app(ctx).db)
            .await
            .map_err(crate::error::AppError::from)?
            .into_iter()
            .map(DataExport)
            .collect())
    }

    /// The platform's current policies you have not accepted yet (the web app asks before
    /// anything else).
    async fn policies_to_accept(&self, ctx: &Context<'_>) -> Result<Vec<super::consents::Policy>> {
        Ok(super::consents::to_accept(app(ctx), rctx(ctx).viewer()?.user_id).await?)
    }

    /// Which versions of the policies you accepted, and when.
    async fn policy_acceptances(&self, ctx: &Context<'_>) -> Result<Vec<super::consents::PolicyAcceptance>> {
        Ok(super::consents::acceptances(app(ctx), rctx(ctx).viewer()?.user_id).await?)
    }

    /// When your account is to be deleted, if you asked for it (cancel before then).
    async fn account_deletion_scheduled_at(&self) -> Option<DateTime<Utc>> {
        self.0.deletion_scheduled_at
    }
}
