//! Notification mail: a person's new notifications go out together a short while after the
//! first (`ZYGO_NOTIFICATION_EMAIL_DELAY`: a burst is one mail, not fifty), the daily digest
//! gathers the day's digest notifications, and every mail carries signed unsubscribe links
//! that work without signing in.

use axum::{
    extract::{Query, State},
    response::{Html, IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use entity::notification;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
    sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::catalog::{self, NotificationChannel};
use crate::{
    ctx::Ctx,
    error::AppResult,
    jobs::{Handler, JobError, JobResult, NewJob},
    mail::templates::esc,
    startup::AppState,
};

pub const EMAIL: &str = "notifications.email";
pub const DIGEST: &str = "notifications.digest";

/// Most notifications listed in one mail (the rest are counted).
const LISTED: usize = 20;

#[derive(Serialize, Deserialize)]
struct EmailJob {
    user: Uuid,
}

/// Queues the mail of `user`'s pending notifications for the end of the current grouping
/// window (one job per user and window, whatever the number of notifications).
pub async fn schedule_email(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    user: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let window = ctx.config.notifications.email_delay.as_secs().max(1) as i64;
    let slot = now.timestamp().div_euclid(window);
    let at = DateTime::from_timestamp((slot + 1) * window, 0).unwrap_or(now);
    let job = NewJob::new(EMAIL, &EmailJob { user }).key(format!("{user}:{slot}")).at(at);
    Ok(crate::jobs::enqueue(db, now, None, job).await?)
}

/// Sends a person's pending notification mail.
pub struct Email;

#[async_trait::async_trait]
impl Handler for Email {
    fn kind(&self) -> &'static str {
        EMAIL
    }

    async fn run(&self, ctx: &Ctx, job: &entity::job::Model) -> JobResult {
        let p: EmailJob =
            serde_json::from_value(job.payload.clone()).map_err(|e| JobError::Fail(e.to_string()))?;
        send(ctx, p.user, notification::Column::EmailPending, None)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}

/// Sends every digest due: each person's digest notifications from before today (UTC).
pub struct Digest;

#[async_trait::async_trait]
impl Handler for Digest {
    fn kind(&self) -> &'static str {
        DIGEST
    }

    async fn run(&self, ctx: &Ctx, _job: &entity::job::Model) -> JobResult {
        let today = ctx.now().date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let users: Vec<Uuid> = notification::Entity::find()
            .select_only()
            .column(notification::Column::UserId)
            .distinct()
            .filter(notification::Column::DigestPending.eq(true))
            .filter(notification::Column::CreatedAt.lt(today))
            .limit(500)
            .into_tuple()
            .all(&ctx.db)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
        for user in users {
            send(ctx, user, notification::Column::DigestPending, Some(today))
                .await
                .map_err(|e| JobError::Retry(e.to_string()))?;
        }
        Ok(())
    }
}

/// One mail of `user`'s notifications still flagged `pending` (created before `before`, if
/// given), and the flags cleared, in one transaction: sent exactly once.
async fn send(
    ctx: &Ctx,
    user: Uuid,
    pending: notification::Column,
    before: Option<DateTime<Utc>>,
) -> AppResult<()> {
    let txn = ctx.db.begin().await?;
    let Some(person) = entity::user::Entity::find_by_id(user).one(&txn).await? else { return Ok(()) };
    let mut q =
        notification::Entity::find().filter(notification::Column::UserId.eq(user)).filter(pending.eq(true));
    if let Some(before) = before {
        q = q.filter(notification::Column::CreatedAt.lt(before));
    }
    let rows = q.order_by_asc(notification::Column::Id).limit(1000).all(&txn).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let digest = before.is_some();
    let mail = render(ctx, &person, &rows, digest);
    crate::mail::enqueue(&txn, &person.email, mail).await?;
    notification::Entity::update_many()
        .col_expr(pending, Expr::value(false))
        .filter(notification::Column::Id.is_in(rows.iter().map(|r| r.id)))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    ctx.mail.wake();
    Ok(())
}

fn render(
    ctx: &Ctx,
    person: &entity::user::Model,
    rows: &[notification::Model],
    digest: bool,
) -> crate::mail::templates::Mail {
    let base = &ctx.config.public_url;
    let subject = match (digest, rows) {
        (false, [one]) => one.title.clone(),
        (false, _) => format!("{} new notifications", rows.len()),
        (true, _) => format!("Your daily digest: {} notifications", rows.len()),
    };
    let mut text = format!("Hello {},\n\n", person.name);
    let mut html = format!("<p>Hello {},</p><ul>", esc(&person.name));
    for r in rows.iter().take(LISTED) {
        let link = r.link.as_ref().map(|l| format!("{base}{l}"));
        text.push_str(&format!("- {}\n  {}\n", r.title, r.body));
        if let Some(link) = &link {
            text.push_str(&format!("  {link}\n"));
        }
        html.push_str(&format!("<li><strong>{}</strong><br>{}", esc(&r.title), esc(&r.body)));
        if let Some(link) = &link {
            html.push_str(&format!("<br><a href=\"{}\">Open</a>", esc(link)));
        }
        html.push_str("</li>");
    }
    if rows.len() > LISTED {
        text.push_str(&format!("… and {} more in the app.\n", rows.len() - LISTED));
        html.push_str(&format!("<li>… and {} more in the app.</li>", rows.len() - LISTED));
    }
    html.push_str("</ul>");
    let channel = if digest { NotificationChannel::Digest } else { NotificationChannel::Email };
    let mut kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    kinds.sort();
    kinds.dedup();
    text.push_str("\nStop these mails:\n");
    html.push_str("<p style=\"color:#666;font-size:12px\">Stop these mails: ");
    for kind in kinds {
        let Some(entry) = catalog::by_key(kind) else { continue };
        let link = unsubscribe_link(ctx, person.id, kind, channel);
        text.push_str(&format!("- {}: {link}\n", entry.description));
        html.push_str(&format!("<a href=\"{}\">{}</a> · ", esc(&link), esc(entry.description)));
    }
    let all = unsubscribe_link(ctx, person.id, "all", channel);
    text.push_str(&format!("- every notification mail: {all}\n"));
    html.push_str(&format!("<a href=\"{}\">every notification mail</a></p>", esc(&all)));
    crate::mail::templates::Mail { subject, text, html, attachment: None }
}

const PURPOSE: &str = "notifications.unsubscribe";

fn message(user: Uuid, kind: &str, channel: NotificationChannel) -> String {
    format!("{user}:{kind}:{}", channel.key())
}

/// A signed link that switches `channel` off for `kind` (or `all`) of `user`, without signing
/// in. It does not expire: an unsubscribe link must keep working.
pub fn unsubscribe_link(ctx: &Ctx, user: Uuid, kind: &str, channel: NotificationChannel) -> String {
    let sig = ctx.keys.sign(PURPOSE, &message(user, kind, channel));
    format!(
        "{}/notifications/unsubscribe?user={user}&kind={kind}&channel={}&sig={sig}",
        ctx.config.public_url,
        channel.key()
    )
}

#[derive(Deserialize)]
pub struct UnsubscribeQuery {
    user: Uuid,
    kind: String,
    channel: String,
    sig: String,
}

fn checked(ctx: &Ctx, q: &UnsubscribeQuery) -> Option<(Vec<catalog::NotificationKind>, NotificationChannel)> {
    let channel = NotificationChannel::ALL
        .into_iter()
        .find(|c| c.key() == q.channel && *c != NotificationChannel::InApp)?;
    if !ctx.keys.verify(PURPOSE, &message(q.user, &q.kind, channel), &q.sig) {
        return None;
    }
    let kinds = if q.kind == "all" {
        catalog::CATALOG.iter().map(|e| e.kind).collect()
    } else {
        vec![catalog::by_key(&q.kind)?.kind]
    };
    Some((kinds, channel))
}

fn page(body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Zygo notifications</title></head>\
         <body style=\"font-family:sans-serif;max-width:32rem;margin:4rem auto\">{body}</body></html>"
    ))
}

/// `GET /notifications/unsubscribe`: asks to confirm (mail scanners follow links; only the
/// confirming POST changes anything).
pub async fn unsubscribe_page(State(app): State<AppState>, Query(q): Query<UnsubscribeQuery>) -> Response {
    if checked(&app.ctx, &q).is_none() {
        return (axum::http::StatusCode::NOT_FOUND, page("<p>This unsubscribe link is not valid.</p>"))
            .into_response();
    }
    let what = if q.kind == "all" {
        "every notification".to_string()
    } else {
        catalog::by_key(&q.kind).map(|e| e.description).unwrap_or_default().to_lowercase()
    };
    page(&format!(
        // The form posts to this same address, query string included.
        "<p>Stop {} mails about {}?</p><form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
        if q.channel == "DIGEST" { "digest" } else { "notification" },
        esc(&what),
    ))
    .into_response()
}

/// `POST /notifications/unsubscribe` (the page's button, and RFC 8058 one-click).
pub async fn unsubscribe(State(app): State<AppState>, Query(q): Query<UnsubscribeQuery>) -> Response {
    let Some((kinds, channel)) = checked(&app.ctx, &q) else {
        return (axum::http::StatusCode::NOT_FOUND, page("<p>This unsubscribe link is not valid.</p>"))
            .into_response();
    };
    let choices: Vec<super::service::Choice> =
        kinds.into_iter().map(|kind| super::service::Choice { kind, channel, enabled: false }).collect();
    match super::service::set_choices(&app.ctx, q.user, None, &choices).await {
        Ok(()) => page("<p>Done: you will not receive these mails any more. You can change this in your notification settings.</p>").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe");
            (axum::http::StatusCode::INTERNAL_SERVER_ERROR, page("<p>Something went wrong; try again.</p>")).into_response()
        }
    }
}
