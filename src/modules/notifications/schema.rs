//! Notification mutations and the live `notificationAdded` stream. Everything here is the
//! signed-in person's own: no organisation permission is involved.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject, Subscription};
use futures::{Stream, StreamExt};

use super::{
    catalog::{NotificationChannel, NotificationKind},
    service::{self, Choice},
    types::{Notification, NotificationSetting},
};
use crate::graphql::{
    app, rctx,
    relay::{self, kind},
};

#[derive(InputObject)]
pub struct MarkNotificationsReadInput {
    /// These notifications; leave out (and set `all`) to mark every one read.
    pub ids: Option<Vec<ID>>,
    #[graphql(default)]
    pub all: bool,
}

#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// How many were unread and now are read.
    pub marked: u64,
    pub unread_count: u64,
}

#[derive(InputObject)]
pub struct NotificationChoiceInput {
    pub kind: NotificationKind,
    pub channel: NotificationChannel,
    pub enabled: bool,
}

#[derive(InputObject)]
pub struct UpdateNotificationSettingsInput {
    /// Choices for one organisation only; leave out for everywhere.
    pub organisation_id: Option<ID>,
    pub settings: Vec<NotificationChoiceInput>,
}

#[derive(SimpleObject)]
pub struct UpdateNotificationSettingsPayload {
    pub settings: Vec<NotificationSetting>,
}

#[derive(Default)]
pub struct NotificationsMutation;

#[Object]
impl NotificationsMutation {
    /// Marks your notifications read: the ones named, or all of them.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        input: MarkNotificationsReadInput,
    ) -> Result<MarkNotificationsReadPayload> {
        let viewer = rctx(ctx).viewer()?;
        let app = app(ctx);
        let ids =
            match (input.ids, input.all) {
                (Some(_), true) => {
                    return Err(crate::error::AppError::validation(
                        "input.all",
                        "give either ids or all, not both",
                    )
                    .into());
                }
                (None, false) => {
                    return Err(crate::error::AppError::validation(
                        "input.ids",
                        "give the notifications, or all: true",
                    )
                    .into());
                }
                (Some(ids), false) => Some(
                    ids.iter()
                        .map(|id| relay::decode_id("input.ids", id, kind::NOTIFICATION))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                (None, true) => None,
            };
        let marked = service::mark_read(app, viewer, ids).await?;
        Ok(MarkNotificationsReadPayload { marked, unread_count: service::unread_count(app, viewer).await? })
    }

    /// Changes on which channels kinds of notification reach you.
    async fn update_notification_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateNotificationSettingsInput,
    ) -> Result<UpdateNotificationSettingsPayload> {
        let viewer = rctx(ctx).viewer()?;
        let app = app(ctx);
        let org = match &input.organisation_id {
            Some(id) => {
                let t = relay::decode_id("input.organisationId", id, kind::TENANT)?;
                crate::access::access_one(app, viewer.user_id, t).await?;
                Some(t)
            }
            None => None,
        };
        let choices: Vec<Choice> = input
            .settings
            .into_iter()
            .map(|c| Choice { kind: c.kind, channel: c.channel, enabled: c.enabled })
            .collect();
        service::set_choices(app, viewer.user_id, org, &choices).await?;
        let settings = service::settings(app, viewer, org).await?.into_iter().map(Into::into).collect();
        Ok(UpdateNotificationSettingsPayload { settings })
    }
}

#[derive(Default)]
pub struct NotificationsSubscription;

#[Subscription]
impl NotificationsSubscription {
    /// Your new in-app notifications, as they arrive (on whichever instance they were made).
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Notification> + use<>> {
        let viewer = rctx(ctx).viewer()?.clone();
        let app = app(ctx).clone();
        let alive = std::sync::Arc::new(crate::telemetry::GaugeGuard::new(&app.metrics.subscriptions_active));
        Ok(app.bus.subscribe(&service::topic(viewer.user_id)).filter_map(move |event| {
            let (app, viewer, _alive) = (app.clone(), viewer.clone(), alive.clone());
            async move {
                let added: service::Added = serde_json::from_value(event.payload.clone()).ok()?;
                // Read back through the inbox's own rule (still a member of its organisation).
                service::get(&app, &viewer, added.id).await.ok().flatten().map(Notification)
            }
        }))
    }
}
