//! Privacy mutations: exports of one's data or (owners) an organisation's, and scheduling or
//! cancelling one's account deletion.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{erasure, export, types::DataExport};
use crate::{
    auth::Permission,
    error::AppError,
    graphql::{
        app, rctx,
        relay::{self, kind},
    },
};

#[derive(InputObject, Default)]
pub struct RequestDataExportInput {
    /// Export this organisation (owners only) instead of your own data.
    pub organisation_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct RequestDataExportPayload {
    pub export: DataExport,
}

#[derive(InputObject)]
pub struct ScheduleAccountDeletionInput {
    /// Your e-mail address, typed to confirm.
    pub confirm_email: String,
    /// Your password (accounts that have one).
    pub password: Option<String>,
}

#[derive(SimpleObject)]
pub struct AccountDeletionPayload {
    /// When the account will be erased; `null` once cancelled.
    pub scheduled_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Asks for a ZIP of your data (or, as its owner, of an organisation's); it is mailed as a
    /// link valid for seven days when ready.
    async fn request_data_export(
        &self,
        ctx: &Context<'_>,
        input: Option<RequestDataExportInput>,
    ) -> Result<RequestDataExportPayload> {
        let viewer = rctx(ctx).viewer()?;
        let app = app(ctx);
        let input = input.unwrap_or_default();
        let org = match &input.organisation_id {
            Some(id) => {
                let t = relay::decode_id("input.organisationId", id, kind::TENANT)?;
                let tctx = crate::access::access_one(app, viewer.user_id, t).await?;
                tctx.require(Permission::TenantDelete)?;
                if tctx.role_key != "owner" {
                    return Err(
                        AppError::ForbiddenWith("only an owner can export the organisation".into()).into()
                    );
                }
                Some(t)
            }
            None => None,
        };
        Ok(RequestDataExportPayload { export: DataExport(export::request(app, viewer.user_id, org).await?) })
    }

    /// Schedules your account's deletion in 30 days (cancel with `cancelAccountDeletion`).
    /// Refused with SOLE_OWNER while you are the only owner of an organisation.
    async fn schedule_account_deletion(
        &self,
        ctx: &Context<'_>,
        input: ScheduleAccountDeletionInput,
    ) -> Result<AccountDeletionPayload> {
        let viewer = rctx(ctx).viewer()?;
        let at = erasure::schedule(app(ctx), viewer, &input.confirm_email, input.password).await?;
        Ok(AccountDeletionPayload { scheduled_at: Some(at) })
    }

    /// Takes back your scheduled account deletion.
    async fn cancel_account_deletion(&self, ctx: &Context<'_>) -> Result<AccountDeletionPayload> {
        let viewer = rctx(ctx).viewer()?;
        erasure::cancel(app(ctx), viewer).await?;
        Ok(AccountDeletionPayload { scheduled_at: None })
    }
}
