//! Outgoing mail through a durable outbox.
//!
//! A service queues a message with [`enqueue`] inside its own transaction, so a mail exists
//! exactly when the change that caused it committed. The [`run_worker`] task claims queued
//! messages (a conditional update, safe with many instances), sends them through SMTP or
//! writes them as `.eml` files, and retries failures with back-off. Nothing here knows what
//! the mails say.

pub mod templates;

pub use templates::Mail;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context as _;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use entity::mail_outbox::{self, MailStatus};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Body, MultiPart, SinglePart,
        header::{ContentTransferEncoding, ContentType},
    },
    transport::smtp::client::{Certificate, Tls, TlsParameters},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use secrecy::ExposeSecret;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    config::{Config, MailBudget},
    error::AppResult,
};

const MAX_ATTEMPTS: i32 = 8;
const LEASE_SECS: i64 = 60;

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// One `.eml` file per message in a directory (development default).
    File(PathBuf),
    /// A real SMTP relay.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Mailer {
    /// Builds the transport from `ZYGO_MAIL_URL` (default `file://<data dir>/mail`).
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let url = config
            .mail_url
            .as_ref()
            .map(|u| u.expose_secret().to_string())
            .unwrap_or_else(|| format!("file://{}", config.data_dir.join("mail").display()));
        if let Some(dir) = url.strip_prefix("file://") {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("ZYGO_MAIL_URL: cannot create {}", dir.display()))?;
            Ok(Self::File(dir))
        } else {
            let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
                .context("ZYGO_MAIL_URL: not a valid smtp:// URL")?;
            // A private relay's certificate authority, trusted besides the public roots.
            if let Some(ca) = &config.mail_ca_file {
                let pem = std::fs::read(ca)
                    .with_context(|| format!("ZYGO_MAIL_CA_FILE: cannot read {}", ca.display()))?;
                let cert = Certificate::from_pem(&pem).context("ZYGO_MAIL_CA_FILE: not a PEM certificate")?;
                let host = url
                    .split("://")
                    .nth(1)
                    .and_then(|rest| rest.rsplit('@').next())
                    .and_then(|hp| hp.split([':', '/', '?']).next())
                    .context("ZYGO_MAIL_URL: no host")?;
                let params = TlsParameters::builder(host.to_string())
                    .add_root_certificate(cert)
                    .build()
                    .context("ZYGO_MAIL_CA_FILE: TLS set-up failed")?;
                let tls = if url.starts_with("smtps://") {
                    Tls::Wrapper(params)
                } else if url.contains("tls=opportunistic") {
                    Tls::Opportunistic(params)
                } else {
                    Tls::Required(params)
                };
                builder = builder.tls(tls);
            }
            Ok(Self::Smtp(builder.build()))
        }
    }

    async fn send(&self, message: Message) -> anyhow::Result<()> {
        match self {
            // Written under a temporary name and renamed: whoever reads the directory (a
            // developer's mail viewer, the tests) never sees half a message.
            Self::File(dir) => {
                let id = Uuid::new_v4();
                let partial = dir.join(format!(".{id}.eml.partial"));
                tokio::fs::write(&partial, message.formatted()).await?;
                tokio::fs::rename(&partial, dir.join(format!("{id}.eml"))).await?;
            }
            Self::Smtp(t) => {
                t.send(message).await?;
            }
        }
        Ok(())
    }

    /// Human description for the start-up log.
    pub fn describe(&self) -> String {
        match self {
            Self::File(dir) => format!("files in {}", dir.display()),
            Self::Smtp(_) => "SMTP".into(),
        }
    }
}

/// Wakes the outbox worker after a commit so mail leaves at once instead of on the next poll.
#[derive(Clone, Default)]
pub struct MailSignal(Arc<Notify>);

impl MailSignal {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Queues a message; call inside the transaction of the change that causes it.
pub async fn enqueue(db: &impl ConnectionTrait, to: &str, mail: Mail) -> AppResult<()> {
    outbox_row(to, mail, None, Utc::now()).insert(db).await?;
    Ok(())
}

/// A pending outbox row for `to`, from the platform or from `sender`.
fn outbox_row(
    to: &str,
    mail: Mail,
    sender: Option<&TenantSender>,
    now: DateTime<Utc>,
) -> mail_outbox::ActiveModel {
    mail_outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        to_address: Set(to.into()),
        subject: Set(mail.subject),
        body_text: Set(mail.text),
        body_html: Set(Some(mail.html)),
        status: Set(MailStatus::Pending),
        attempts: Set(0),
        last_error: Set(None),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        sender_tenant_id: Set(sender.map(|s| s.tenant_id)),
        tenant_label: Set(sender.map(|s| s.label.clone())),
        reply_to: Set(sender.and_then(|s| s.reply_to.clone())),
        attachment_name: Set(mail.attachment.as_ref().map(|a| a.name.clone())),
        attachment_type: Set(mail.attachment.as_ref().map(|a| a.content_type.clone())),
        attachment: Set(mail
            .attachment
            .as_ref()
            .map(|a| base64::engine::general_purpose::STANDARD.encode(&a.bytes))),
    }
}

/// A tenant that sends mail through the platform (from a workflow), and where replies go.
#[derive(Clone, Debug)]
pub struct TenantSender {
    pub tenant_id: Uuid,
    /// Names the tenant in the `X-Zygo-Tenant` header, e.g. `Acme (acme; <id>)`.
    pub label: String,
    /// A verified address of the tenant's (the user the run acts for), as `Reply-To`.
    pub reply_to: Option<String>,
}

/// Queues a tenant's mail if its budget allows: at most `per_hour` in the last hour and
/// `per_day` in the last day. The platform's From is never a tenant's to spend freely — a
/// self-registered organisation would otherwise turn it into an open relay. The count and
/// the insert run in one write transaction (on PostgreSQL under a per-tenant advisory lock,
/// on SQLite under the database's write lock), so parallel senders cannot overshoot.
pub async fn enqueue_for_tenant(
    db: &DatabaseConnection,
    budget: MailBudget,
    sender: &TenantSender,
    to: &str,
    mail: Mail,
) -> AppResult<()> {
    use sea_orm::PaginatorTrait;
    let now = Utc::now();
    // Behind the tenant's wall: the day's usage counter below is the tenant's row.
    let txn = crate::db::begin_tenant_txn(db, crate::db::TenantScope::new(sender.tenant_id)).await?;
    if crate::db::is_postgres(&txn) {
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            [format!("mail:{}", sender.tenant_id).into()],
        ))
        .await?;
    }
    for (limit, window, name, variable) in [
        (budget.per_hour, chrono::Duration::hours(1), "hour", "ZYGO_TENANT_MAIL_PER_HOUR"),
        (budget.per_day, chrono::Duration::days(1), "day", "ZYGO_TENANT_MAIL_PER_DAY"),
    ] {
        let sent = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::SenderTenantId.eq(sender.tenant_id))
            .filter(mail_outbox::Column::CreatedAt.gt(now - window))
            .count(&txn)
            .await?;
        if sent >= u64::from(limit) {
            return Err(crate::error::AppError::rejected(
                "MAIL_BUDGET_EXCEEDED",
                "to",
                format!(
                    "the organisation has sent its {limit} mails of this {name} through the platform ({variable})"
                ),
            ));
        }
    }
    outbox_row(to, mail, Some(sender), now).insert(&txn).await?;
    count_outbound(&txn, sender.tenant_id, now).await?;
    txn.commit().await?;
    Ok(())
}

/// The usage metric of an organisation's outbound mails per day (billing's
/// `Limit::OutboundMailsPerDay`, which the plan's limit and the billing page read).
pub const OUTBOUND_MAILS_METRIC: &str = "outboundMailsPerDay";

/// Counts one queued mail in the organisation's counter of the UTC day of `now`, in the
/// transaction that queues it (a rolled-back mail is not counted).
async fn count_outbound(txn: &impl ConnectionTrait, tenant: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    use entity::usage_counter::{self, Column as C};
    use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
    usage_counter::Entity::insert(usage_counter::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant),
        metric: Set(OUTBOUND_MAILS_METRIC.into()),
        period: Set(now.format("%Y-%m-%d").to_string()),
        value: Set(1),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([C::TenantId, C::Metric, C::Period])
            .value(C::Value, Expr::col((usage_counter::Entity, C::Value)).add(1))
            .value(C::UpdatedAt, Expr::val(now))
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// `X-Zygo-Tenant`: which tenant a mail sent from the platform's address came from, for
/// recipients and abuse desks.
#[derive(Clone)]
struct TenantHeader(String);

impl lettre::message::header::Header for TenantHeader {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("X-Zygo-Tenant")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        // Encoded (RFC 2047) and folded by lettre: a tenant's name cannot inject headers.
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Sends queued mail until `shutdown`.
pub async fn run_worker(
    db: DatabaseConnection,
    mailer: Mailer,
    from: String,
    signal: MailSignal,
    poll: Duration,
    shutdown: CancellationToken,
) {
    loop {
        loop {
            match deliver_next(&db, &mailer, &from).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::error!(error = ?e, "mail outbox failed");
                    break;
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = signal.0.notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// Claims and sends one due message. `Ok(false)` when none is due.
async fn deliver_next(db: &DatabaseConnection, mailer: &Mailer, from: &str) -> anyhow::Result<bool> {
    let now = Utc::now();
    let due = Condition::any()
        .add(
            Condition::all()
                .add(mail_outbox::Column::Status.eq(MailStatus::Pending))
                .add(mail_outbox::Column::NextAttemptAt.lte(now)),
        )
        // A sender that died mid-send leaves a lapsed lease behind: take it over.
        .add(
            Condition::all()
                .add(mail_outbox::Column::Status.eq(MailStatus::Sending))
                .add(mail_outbox::Column::LockedUntil.lt(now)),
        );
    let candidates = mail_outbox::Entity::find()
        .filter(due.clone())
        .order_by_asc(mail_outbox::Column::NextAttemptAt)
        .limit(10)
        .all(db)
        .await?;
    for row in candidates {
        let claimed = mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::Status, Expr::value(MailStatus::Sending))
            .col_expr(
                mail_outbox::Column::LockedUntil,
                Expr::value(now + chrono::Duration::seconds(LEASE_SECS)),
            )
            .col_expr(mail_outbox::Column::Attempts, Expr::value(row.attempts + 1))
            .filter(mail_outbox::Column::Id.eq(row.id))
            .filter(mail_outbox::Column::Attempts.eq(row.attempts))
            .filter(due.clone())
            .exec(db)
            .await?;
        if claimed.rows_affected != 1 {
            continue; // another instance took it
        }
        let attempts = row.attempts + 1;
        let result = match build_message(from, &row) {
            Ok(message) => mailer.send(message).await,
            Err(e) => Err(e),
        };
        let mut am: mail_outbox::ActiveModel = row.into();
        am.attempts = Set(attempts);
        am.locked_until = Set(None);
        match result {
            Ok(()) => {
                am.status = Set(MailStatus::Sent);
                am.sent_at = Set(Some(Utc::now()));
                am.last_error = Set(None);
            }
            Err(e) => {
                tracing::warn!(error = ?e, attempts, "mail delivery failed");
                let give_up = attempts >= MAX_ATTEMPTS;
                am.status = Set(if give_up { MailStatus::Failed } else { MailStatus::Pending });
                am.last_error = Set(Some(format!("{e:#}")));
                am.next_attempt_at =
                    Set(Utc::now() + chrono::Duration::seconds(2_i64.pow(attempts as u32).min(3600)));
            }
        }
        am.update(db).await?;
        return Ok(true);
    }
    Ok(false)
}

fn build_message(from: &str, row: &mail_outbox::Model) -> anyhow::Result<Message> {
    let mut builder = Message::builder()
        .from(from.parse().context("ZYGO_MAIL_FROM is not a valid mailbox")?)
        .to(row.to_address.parse().context("recipient is not a valid mailbox")?)
        .subject(row.subject.clone());
    if let Some(label) = &row.tenant_label {
        builder = builder.header(TenantHeader(label.clone()));
    }
    if let Some(reply_to) = &row.reply_to {
        builder = builder.reply_to(reply_to.parse().context("Reply-To is not a valid mailbox")?);
    }
    let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text_body(&row.body_text));
    let attachment = match (&row.attachment_name, &row.attachment_type, &row.attachment) {
        (Some(name), Some(kind), Some(data)) => Some(lettre::message::Attachment::new(name.clone()).body(
            base64::engine::general_purpose::STANDARD.decode(data).context("attachment is not base64")?,
            ContentType::parse(kind).context("attachment media type")?,
        )),
        _ => None,
    };
    Ok(match (&row.body_html, attachment) {
        (Some(html), attachment) => {
            let body = MultiPart::alternative()
                .singlepart(text)
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html.clone()));
            match attachment {
                Some(a) => builder.multipart(MultiPart::mixed().multipart(body).singlepart(a))?,
                None => builder.multipart(body)?,
            }
        }
        (None, Some(a)) => builder.multipart(MultiPart::mixed().singlepart(text).singlepart(a))?,
        (None, None) => builder.singlepart(text)?,
    })
}

/// Plain ASCII goes out as 7bit so links and tokens stay readable in the `.eml` files of the
/// development setup (lettre would quoted-print any line over 76 characters; RFC 5322
/// allows 998). Anything else gets lettre's own choice of encoding.
fn text_body(text: &str) -> Body {
    let printable = text.bytes().all(|b| b.is_ascii() && (b >= 0x20 || matches!(b, b'\n' | b'\r' | b'\t')));
    if printable && text.lines().all(|l| l.len() <= 998) {
        let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text.to_string())
    }
}
