//! Producing notifications and reading a person's inbox.
//!
//! Producers call one function, [`notify`], inside the transaction of the change that causes
//! the notification: it adds a `notifications.produce` job, so the notice exists exactly when
//! the change commits and is worked out (audience, preferences) by the job machinery, never in
//! the producer's request. Audited changes need not call it at all: [`FromAudit`] maps the
//! catalog's actions to notices as their transaction commits.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{notification, notification_preference as pref};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::catalog::{self, Audience, NotificationChannel, NotificationKind};
use crate::{
    access::TenantCtx,
    auth::Viewer,
    ctx::Ctx,
    error::{AppError, AppResult},
    jobs::{CommitHook, Handler, JobError, JobResult, NewJob},
    pubsub::Topic,
};

pub const PRODUCE: &str = "notifications.produce";

/// Who a notice is for.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Recipients {
    /// These users.
    Users { ids: Vec<Uuid> },
    /// The person with this e-mail address, if they have an account.
    Email { email: String },
    /// The person of this membership of the notice's organisation.
    Membership { id: Uuid },
    /// The notice's organisation's active owners.
    Owners,
}

/// Something to tell people about.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    pub kind: NotificationKind,
    /// The organisation it concerns; its members only are told while they are members.
    pub organisation: Option<Uuid>,
    pub recipients: Recipients,
    pub title: String,
    pub body: String,
    /// A path in the web app.
    pub link: Option<String>,
    pub data: Value,
    /// Not told: whoever caused it.
    pub except: Option<Uuid>,
}

/// Tells the notice's recipients, once `db` (the producer's transaction) commits. Wake the
/// job workers after the commit (`TenantTx::enqueue` does; [`notify_tx`] is that form).
pub async fn notify(db: &impl ConnectionTrait, now: DateTime<Utc>, notice: &Notice) -> AppResult<()> {
    crate::jobs::enqueue(db, now, notice.organisation, NewJob::new(PRODUCE, notice)).await?;
    Ok(())
}

/// [`notify`] inside a tenant transaction (its workers are woken after the commit).
pub async fn notify_tx(tx: &mut crate::access::TenantTx<'_>, notice: &Notice) -> AppResult<()> {
    tx.enqueue(NewJob::new(PRODUCE, notice)).await.map(|_| ())
}

/// The live topic of a user's new notifications.
pub fn topic(user: Uuid) -> Topic {
    Topic::user(user, "notifications")
}

/// What `notificationAdded` carries.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Added {
    pub id: Uuid,
}

/// Turns the catalog's audited actions into notices, in the committing transaction.
pub struct FromAudit;

#[async_trait::async_trait]
impl CommitHook for FromAudit {
    async fn committing(
        &self,
        ctx: &Ctx,
        txn: &sea_orm::DatabaseTransaction,
        tenant: Uuid,
        entries: &[entity::audit_entry::Model],
    ) -> Result<bool, AppError> {
        let mut added = false;
        for entry in entries {
            let Some((kind, audience)) = catalog::for_action(&entry.action) else { continue };
            let after = entry.after.clone().unwrap_or(Value::Null);
            let recipients = match audience {
                Audience::Owners => Recipients::Owners,
                Audience::MemberInEntry => match after["userId"].as_str().and_then(|s| s.parse().ok()) {
                    Some(id) => Recipients::Users { ids: vec![id] },
                    None => continue,
                },
                Audience::InviteeInEntry => match after["email"].as_str() {
                    Some(email) => Recipients::Email { email: email.to_string() },
                    None => continue,
                },
                Audience::MembershipInEntry => {
                    match after["membershipId"].as_str().and_then(|s| s.parse().ok()) {
                        Some(id) => Recipients::Membership { id },
                        None => continue,
                    }
                }
            };
            let notice = Notice {
                kind,
                organisation: Some(tenant),
                recipients,
                title: String::new(),
                body: String::new(),
                link: None,
                data: json!({ "action": entry.action, "after": after, "auditEntryId": entry.id }),
                except: if entry.actor_type == "user" { entry.actor_id } else { None },
            };
            notify(txn, ctx.now(), &notice).await?;
            added = true;
        }
        Ok(added)
    }
}

/// Works a notice out: its people, their preferences, the rows, the live event, the mail.
pub struct Produce;

#[async_trait::async_trait]
impl Handler for Produce {
    fn kind(&self) -> &'static str {
        PRODUCE
    }

    async fn run(&self, ctx: &Ctx, job: &entity::job::Model) -> JobResult {
        let notice: Notice =
            serde_json::from_value(job.payload.clone()).map_err(|e| JobError::Fail(e.to_string()))?;
        let mut notice = notice;
        let org = match notice.organisation {
            Some(id) => {
                let tctx = TenantCtx::system(id);
                let db = tctx.on(&ctx.db);
                let org =
                    tctx.scope().find_by_id::<entity::tenant::Entity, _>(&db, id).await.map_err(retry)?;
                tctx.reads.release().await;
                match org {
                    Some(org) => Some(org),
                    // The organisation is gone: nobody is told about it any more.
                    None => return Ok(()),
                }
            }
            None => None,
        };
        let users = audience(ctx, &notice, org.as_ref()).await.map_err(retry)?;
        if let (Some(org), Some(key)) = (&org, notice.data["after"]["role"].as_str()) {
            // Entries name roles by key; people know them by name.
            let tctx = TenantCtx::system(org.id);
            let db = tctx.on(&ctx.db);
            let role = tctx
                .scope()
                .find::<entity::role::Entity>()
                .filter(entity::role::Column::Key.eq(key))
                .one(&db)
                .await
                .map_err(retry)?;
            tctx.reads.release().await;
            if let Some(role) = role {
                notice.data["roleName"] = Value::String(role.name);
            }
        }
        if notice.title.is_empty() {
            let (title, body, link) = super::texts::describe(&notice, org.as_ref());
            (notice.title, notice.body, notice.link) = (title, body, link);
        }
        let users: Vec<Uuid> = users.into_iter().filter(|u| Some(*u) != notice.except).collect();
        let added = deliver(ctx, job, &notice, &users).await.map_err(retry)?;
        for (user, id) in added {
            ctx.publish(&topic(user), &Added { id }).await;
        }
        Ok(())
    }
}

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry(e.to_string())
}

/// The users `notice` is for, before preferences: members of its organisation only.
async fn audience(ctx: &Ctx, notice: &Notice, org: Option<&entity::tenant::Model>) -> AppResult<Vec<Uuid>> {
    use entity::membership;
    let by_email = |email: String| async move {
        Ok::<_, AppError>(
            entity::user::Entity::find()
                .filter(entity::user::Column::Email.eq(email.to_lowercase()))
                .one(&ctx.db)
                .await?
                .map(|u| vec![u.id])
                .unwrap_or_default(),
        )
    };
    let Some(org) = org else {
        return match &notice.recipients {
            Recipients::Users { ids } => Ok(ids.clone()),
            Recipients::Email { email } => by_email(email.clone()).await,
            Recipients::Membership { .. } | Recipients::Owners => Ok(Vec::new()),
        };
    };
    let tctx = TenantCtx::system(org.id);
    let db = tctx.on(&ctx.db);
    let scope = tctx.scope();
    let candidates = match &notice.recipients {
        // An invitee is told about the invitation unless they joined meanwhile.
        Recipients::Email { email } => {
            let people = by_email(email.clone()).await?;
            let joined = scope
                .find::<membership::Entity>()
                .filter(membership::Column::UserId.is_in(people.clone()))
                .count(&db)
                .await?;
            tctx.reads.release().await;
            return Ok(if joined > 0 { Vec::new() } else { people });
        }
        Recipients::Users { ids } => ids.clone(),
        Recipients::Membership { id } => scope
            .find_by_id::<membership::Entity, _>(&db, *id)
            .await?
            .map(|m| vec![m.user_id])
            .unwrap_or_default(),
        Recipients::Owners => {
            let owner = scope
                .find::<entity::role::Entity>()
                .filter(entity::role::Column::Key.eq("owner"))
                .one(&db)
                .await?;
            match owner {
                Some(role) => scope
                    .find::<membership::Entity>()
                    .filter(membership::Column::RoleId.eq(role.id))
                    .all(&db)
                    .await?
                    .into_iter()
                    .map(|m| m.user_id)
                    .collect(),
                None => Vec::new(),
            }
        }
    };
    // Still a member (a suspended member hears about their suspension and reactivation).
    let members: HashSet<Uuid> = scope
        .find::<membership::Entity>()
        .filter(membership::Column::UserId.is_in(candidates.clone()))
        .all(&db)
        .await?
        .into_iter()
        .filter(|m| {
            m.status == entity::membership::MembershipStatus::Active
                || notice.kind == NotificationKind::MembershipChanged
        })
        .map(|m| m.user_id)
        .collect();
    tctx.reads.release().await;
    Ok(candidates.into_iter().filter(|u| members.contains(u)).collect())
}

/// A notification id for (`job`, `user`): the job's own (time-ordered, v7) id with its last six
/// bytes drawn from the user, so rows order as their jobs were made and a repeated run of the
/// job makes the same ids (and adds nothing).
fn row_id(job: &entity::job::Model, user: Uuid) -> Uuid {
    use sha2::Digest;
    let digest = sha2::Sha256::new().chain_update(job.id.as_bytes()).chain_update(user.as_bytes()).finalize();
    let mut bytes = *job.id.as_bytes();
    bytes[10..].copy_from_slice(&digest[..6]);
    Uuid::from_bytes(bytes)
}

/// Inserts the rows the users' preferences ask for and queues their mails; returns the
/// in-app ones added, per user.
async fn deliver(
    ctx: &Ctx,
    job: &entity::job::Model,
    notice: &Notice,
    users: &[Uuid],
) -> AppResult<Vec<(Uuid, Uuid)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let settings = settings_of(&ctx.db, users, notice.organisation).await?;
    let now = ctx.now();
    // Across tenants: the rows are the people's own, and their mail jobs are the system's.
    let txn = crate::db::begin_across_tenants_txn(&ctx.db).await?;
    let mut added = Vec::new();
    let mut wake = false;
    for &user in users {
        let on = |channel| {
            settings.get(&(user, notice.kind, channel)).copied().unwrap_or(notice.kind.default_for(channel))
        };
        let (in_app, email, digest) =
            (on(NotificationChannel::InApp), on(NotificationChannel::Email), on(NotificationChannel::Digest));
        if !(in_app || email || digest) {
            continue;
        }
        let id = row_id(job, user);
        let row = notification::ActiveModel {
            id: Set(id),
            user_id: Set(user),
            organisation_id: Set(notice.organisation),
            kind: Set(notice.kind.key().to_string()),
            title: Set(notice.title.clone()),
            body: Set(notice.body.clone()),
            link: Set(notice.link.clone()),
            data: Set(notice.data.clone()),
            in_app: Set(in_app),
            email_pending: Set(email),
            digest_pending: Set(digest),
            read_at: Set(None),
            created_at: Set(now),
        };
        let inserted = notification::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(notification::Column::Id).do_nothing().to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        if inserted == 0 {
            continue;
        }
        if email {
            wake |= super::mailing::schedule_email(&txn, ctx, user, now).await?;
        }
        if in_app {
            added.push((user, id));
        }
    }
    txn.commit().await?;
    if wake {
        crate::jobs::wake(ctx).await;
    }
    Ok(added)
}

/// Stored choices of `users` for the kinds, for `organisation` (its own rows win over the
/// everywhere rows).
async fn settings_of(
    db: &impl ConnectionTrait,
    users: &[Uuid],
    organisation: Option<Uuid>,
) -> AppResult<HashMap<(Uuid, NotificationKind, NotificationChannel), bool>> {
    let rows = pref::Entity::find().filter(pref::Column::UserId.is_in(users.to_vec())).all(db).await?;
    let mut out = HashMap::new();
    // Everywhere rows first, so the organisation's own overwrite them.
    for pass in [None, organisation] {
        if pass.is_none() && organisation.is_some() || pass == organisation {
            for r in rows.iter().filter(|r| r.organisation_id == pass) {
                if let (Some(e), Some(c)) = (catalog::by_key(&r.kind), channel_of(&r.channel)) {
                    out.insert((r.user_id, e.kind, c), r.enabled);
                }
            }
        }
        if organisation.is_none() {
            break;
        }
    }
    Ok(out)
}

fn channel_of(key: &str) -> Option<NotificationChannel> {
    NotificationChannel::ALL.into_iter().find(|c| c.key() == key)
}

/// One kind's effective choices for a user (in `organisation`, or everywhere).
#[derive(Clone, Debug)]
pub struct Setting {
    pub kind: NotificationKind,
    pub in_app: bool,
    pub email: bool,
    pub digest: bool,
}

/// The viewer's choices for every kind of the catalog.
pub async fn settings(ctx: &Ctx, viewer: &Viewer, organisation: Option<Uuid>) -> AppResult<Vec<Setting>> {
    let stored = settings_of(&ctx.db, &[viewer.user_id], organisation).await?;
    Ok(catalog::CATALOG
        .iter()
        .map(|e| {
            let on = |c| stored.get(&(viewer.user_id, e.kind, c)).copied().unwrap_or(e.kind.default_for(c));
            Setting {
                kind: e.kind,
                in_app: on(NotificationChannel::InApp),
                email: on(NotificationChannel::Email),
                digest: on(NotificationChannel::Digest),
            }
        })
        .collect())
}

/// One choice to store.
pub struct Choice {
    pub kind: NotificationKind,
    pub channel: NotificationChannel,
    pub enabled: bool,
}

/// Stores the viewer's choices (for `organisation`, or everywhere).
pub async fn set_choices(
    ctx: &Ctx,
    user: Uuid,
    organisation: Option<Uuid>,
    choices: &[Choice],
) -> AppResult<()> {
    if choices.len() > 100 {
        return Err(AppError::validation("input.settings", "at most 100 choices at once"));
    }
    let txn = ctx.db.begin().await?;
    for c in choices {
        let mut q = pref::Entity::find()
            .filter(pref::Column::UserId.eq(user))
            .filter(pref::Column::Kind.eq(c.kind.key()))
            .filter(pref::Column::Channel.eq(c.channel.key()));
        q = match organisation {
            Some(o) => q.filter(pref::Column::OrganisationId.eq(o)),
            None => q.filter(pref::Column::OrganisationId.is_null()),
        };
        match q.one(&txn).await? {
            Some(row) => {
                let mut am: pref::ActiveModel = row.into();
                am.enabled = Set(c.enabled);
                am.updated_at = Set(ctx.now());
                am.update(&txn).await?;
            }
            None => {
                pref::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    user_id: Set(user),
                    organisation_id: Set(organisation),
                    kind: Set(c.kind.key().to_string()),
                    channel: Set(c.channel.key().to_string()),
                    enabled: Set(c.enabled),
                    updated_at: Set(ctx.now()),
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Filters of the viewer's inbox.
#[derive(Default)]
pub struct InboxFilter {
    pub unread_only: bool,
    pub kind: Option<NotificationKind>,
    pub organisation: Option<Uuid>,
}

/// The organisations whose notifications the viewer still sees: those they belong to.
async fn member_orgs(ctx: &Ctx, user: Uuid) -> AppResult<Vec<Uuid>> {
    use entity::membership::Column as M;
    // Across tenants: the viewer's own memberships, which decide what they see.
    Ok(entity::membership::Entity::find()
        .select_only()
        .column(M::TenantId)
        .filter(M::UserId.eq(user))
        .filter(M::Status.eq(entity::membership::MembershipStatus::Active))
        .into_tuple::<Uuid>()
        .all(&crate::db::across_tenants(&ctx.db))
        .await?)
}

fn inbox(viewer: &Viewer, orgs: Vec<Uuid>, filter: &InboxFilter) -> sea_orm::Select<notification::Entity> {
    use notification::Column as C;
    let mut q =
        notification::Entity::find().filter(C::UserId.eq(viewer.user_id)).filter(C::InApp.eq(true)).filter(
            sea_orm::Condition::any().add(C::OrganisationId.is_null()).add(C::OrganisationId.is_in(orgs)),
        );
    if filter.unread_only {
        q = q.filter(C::ReadAt.is_null());
    }
    if let Some(kind) = filter.kind {
        q = q.filter(C::Kind.eq(kind.key()));
    }
    if let Some(org) = filter.organisation {
        q = q.filter(C::OrganisationId.eq(org));
    }
    q
}

/// A page of the inbox: unread first, newest first within each; `after` is the cursor of the
/// last row of the previous page.
pub struct InboxPage {
    pub rows: Vec<notification::Model>,
    pub total: u64,
    pub has_next: bool,
}

/// A cursor: whether its row was unread, and its id.
pub fn cursor_of(row: &notification::Model) -> String {
    use base64::Engine;
    let mut bytes = vec![u8::from(row.read_at.is_none())];
    bytes.extend_from_slice(row.id.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn parse_cursor(cursor: &str) -> AppResult<(bool, Uuid)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .filter(|b| b.len() == 17)
        .ok_or_else(|| AppError::validation("after", "not a valid cursor"))?;
    let id =
        Uuid::from_slice(&bytes[1..]).map_err(|_| AppError::validation("after", "not a valid cursor"))?;
    Ok((bytes[0] == 1, id))
}

pub async fn page(
    ctx: &Ctx,
    viewer: &Viewer,
    filter: &InboxFilter,
    first: usize,
    after: Option<&str>,
) -> AppResult<InboxPage> {
    use notification::Column as C;
    let orgs = member_orgs(ctx, viewer.user_id).await?;
    let total = inbox(viewer, orgs.clone(), filter).count(&ctx.db).await?;
    let mut q = inbox(viewer, orgs, filter);
    if let Some(after) = after {
        let (unread, id) = parse_cursor(after)?;
        q = q.filter(if unread {
            sea_orm::Condition::any()
                .add(sea_orm::Condition::all().add(C::ReadAt.is_null()).add(C::Id.lt(id)))
                .add(C::ReadAt.is_not_null())
        } else {
            sea_orm::Condition::all().add(C::ReadAt.is_not_null()).add(C::Id.lt(id))
        });
    }
    let mut rows = q
        .order_by(Expr::col(C::ReadAt).is_null(), sea_orm::Order::Desc)
        .order_by_desc(C::Id)
        .limit(first as u64 + 1)
        .all(&ctx.db)
        .await?;
    let has_next = rows.len() > first;
    rows.truncate(first);
    Ok(InboxPage { rows, total, has_next })
}

/// Unread in-app notifications of the viewer.
pub async fn unread_count(ctx: &Ctx, viewer: &Viewer) -> AppResult<u64> {
    let orgs = member_orgs(ctx, viewer.user_id).await?;
    Ok(inbox(viewer, orgs, &InboxFilter { unread_only: true, ..Default::default() }).count(&ctx.db).await?)
}

/// One of the viewer's notifications.
pub async fn get(ctx: &Ctx, viewer: &Viewer, id: Uuid) -> AppResult<Option<notification::Model>> {
    let orgs = member_orgs(ctx, viewer.user_id).await?;
    Ok(inbox(viewer, orgs, &InboxFilter::default())
        .filter(notification::Column::Id.eq(id))
        .one(&ctx.db)
        .await?)
}

/// Marks the viewer's `ids` (or all) read; returns how many changed.
pub async fn mark_read(ctx: &Ctx, viewer: &Viewer, ids: Option<Vec<Uuid>>) -> AppResult<u64> {
    let mut q = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(ctx.now()))
        .filter(notification::Column::UserId.eq(viewer.user_id))
        .filter(notification::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        if ids.len() > 500 {
            return Err(AppError::validation("input.ids", "at most 500 notifications at once"));
        }
        q = q.filter(notification::Column::Id.is_in(ids));
    }
    Ok(q.exec(&ctx.db).await?.rows_affected)
}
