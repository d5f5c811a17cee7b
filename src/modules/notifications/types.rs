//! GraphQL types of notifications: `Notification`, the viewer's inbox and choices
//! (`ViewerNotifications`, merged into `Viewer`).

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{notification, user};

use super::{
    catalog::{self, NotificationKind},
    service::{self, InboxFilter},
};
use crate::{
    auth::Viewer as SignedIn,
    graphql::{
        app, rctx,
        relay::{self, Conn, kind},
    },
};

/// Something that happened that you were told about.
pub struct Notification(pub notification::Model);

#[Object]
impl Notification {
    pub async fn id(&self) -> ID {
        relay::to_global_id(kind::NOTIFICATION, self.0.id)
    }
    async fn kind(&self) -> Option<NotificationKind> {
        catalog::by_key(&self.0.kind).map(|e| e.kind)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Where in the web app it leads (a path), if anywhere.
    async fn link(&self) -> Option<&str> {
        self.0.link.as_deref()
    }
    /// The organisation it concerns, if any.
    async fn organisation_id(&self) -> Option<ID> {
        self.0.organisation_id.map(|t| relay::to_global_id(kind::TENANT, t))
    }
    async fn read(&self) -> bool {
        self.0.read_at.is_some()
    }
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One kind's choices: on which channels it reaches you.
#[derive(SimpleObject)]
pub struct NotificationSetting {
    pub kind: NotificationKind,
    pub description: String,
    pub in_app: bool,
    pub email: bool,
    pub digest: bool,
}

impl From<service::Setting> for NotificationSetting {
    fn from(s: service::Setting) -> Self {
        Self {
            kind: s.kind,
            description: catalog::entry(s.kind).description.to_string(),
            in_app: s.in_app,
            email: s.email,
            digest: s.digest,
        }
    }
}

/// The viewer's notifications and notification choices (part of `Viewer`).
#[derive(Clone)]
pub struct ViewerNotifications(pub Arc<user::Model>);

fn signed_in<'a>(ctx: &Context<'a>) -> Result<&'a SignedIn> {
    Ok(rctx(ctx).viewer()?)
}

#[Object]
impl ViewerNotifications {
    /// Your in-app notifications, unread first and newest first within each (those about an
    /// organisation only while you are a member of it).
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        unread_only: Option<bool>,
        kind: Option<NotificationKind>,
        organisation_id: Option<ID>,
    ) -> Result<Conn<Notification>> {
        let app = app(ctx);
        let first = match first {
            None => relay::DEFAULT_PAGE_SIZE,
            Some(n) if n < 0 => {
                return Err(crate::error::AppError::validation("first", "must not be negative").into());
            }
            Some(n) => (n as usize).min(app.config.max_page_size),
        };
        let organisation =
            organisation_id.map(|id| relay::decode_id("organisationId", &id, kind::TENANT)).transpose()?;
        let filter = InboxFilter { unread_only: unread_only.unwrap_or(false), kind, organisation };
        let page = service::page(app, signed_in(ctx)?, &filter, first, after.as_deref()).await?;
        let mut conn = Conn::new(after.is_some(), page.has_next, page.total);
        for r in page.rows {
            conn.push(service::cursor_of(&r), Notification(r));
        }
        Ok(conn)
    }

    /// How many of your in-app notifications are unread.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(service::unread_count(app(ctx), signed_in(ctx)?).await?)
    }

    /// Your choices for every kind of notification, everywhere or in one organisation (its own
    /// choices win there).
    async fn notification_settings(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<ID>,
    ) -> Result<Vec<NotificationSetting>> {
        let viewer = signed_in(ctx)?;
        let app = app(ctx);
        let org = match organisation_id {
            Some(id) => {
                let t = relay::decode_id("organisationId", &id, kind::TENANT)?;
                crate::access::access_one(app, viewer.user_id, t).await?;
                Some(t)
            }
            None => None,
        };
        Ok(service::settings(app, viewer, org).await?.into_iter().map(Into::into).collect())
    }
}
