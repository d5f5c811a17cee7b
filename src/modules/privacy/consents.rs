//! Consents: the platform's current policy documents (terms, privacy policy; configured), which
//! of them a person has not accepted in their current version, and recording an acceptance with
//! when and from where. A new version is simply a new `ZYGO_*_VERSION`: everyone is asked again.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::policy_acceptance;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::OnConflict};
use uuid::Uuid;

use crate::{
    config::{PolicyKind as Kind, PolicyVersion},
    ctx::Ctx,
    error::{AppError, AppResult},
    graphql::{app, rctx},
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// Terms of service.
    Terms,
    /// Privacy policy.
    Privacy,
}

impl PolicyKind {
    fn key(self) -> &'static str {
        match self {
            Self::Terms => "TERMS",
            Self::Privacy => "PRIVACY",
        }
    }
}

impl From<Kind> for PolicyKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Terms => Self::Terms,
            Kind::Privacy => Self::Privacy,
        }
    }
}

/// The current version of a policy document.
#[derive(SimpleObject, Clone)]
pub struct Policy {
    pub kind: PolicyKind,
    pub version: String,
    pub url: String,
}

impl From<&PolicyVersion> for Policy {
    fn from(p: &PolicyVersion) -> Self {
        Self { kind: p.kind.into(), version: p.version.clone(), url: p.url.clone() }
    }
}

/// An acceptance on record.
#[derive(SimpleObject)]
pub struct PolicyAcceptance {
    pub kind: Option<PolicyKind>,
    pub version: String,
    pub accepted_at: DateTime<Utc>,
}

fn current(ctx: &Ctx) -> Vec<Policy> {
    ctx.config.policies.iter().map(Policy::from).collect()
}

/// The current policies `user` has not accepted.
pub async fn to_accept(ctx: &Ctx, user: Uuid) -> AppResult<Vec<Policy>> {
    let policies = current(ctx);
    if policies.is_empty() {
        return Ok(policies);
    }
    let accepted = policy_acceptance::Entity::find()
        .filter(policy_acceptance::Column::UserId.eq(user))
        .all(&ctx.db)
        .await?;
    Ok(policies
        .into_iter()
        .filter(|p| !accepted.iter().any(|a| a.kind == p.kind.key() && a.version == p.version))
        .collect())
}

#[derive(InputObject)]
pub struct PolicyChoiceInput {
    pub kind: PolicyKind,
    /// The version shown (a stale one is refused: the document changed meanwhile).
    pub version: String,
}

#[derive(InputObject)]
pub struct AcceptPoliciesInput {
    pub policies: Vec<PolicyChoiceInput>,
}

#[derive(SimpleObject)]
pub struct AcceptPoliciesPayload {
    /// What is still to accept.
    pub policies_to_accept: Vec<Policy>,
}

#[derive(Default)]
pub struct ConsentsQuery;

#[Object]
impl ConsentsQuery {
    /// The platform's current policy documents (terms, privacy policy), for anyone.
    async fn policies(&self, ctx: &Context<'_>) -> Vec<Policy> {
        current(app(ctx))
    }
}

#[derive(Default)]
pub struct ConsentsMutation;

#[Object]
impl ConsentsMutation {
    /// Records that you accept these versions of the platform's policies.
    async fn accept_policies(
        &self,
        ctx: &Context<'_>,
        input: AcceptPoliciesInput,
    ) -> Result<AcceptPoliciesPayload> {
        let r = rctx(ctx);
        let viewer = r.viewer()?;
        let app = app(ctx);
        let now = app.now();
        let policies = current(app);
        let mut rows = Vec::new();
        for (i, choice) in input.policies.iter().enumerate() {
            let Some(p) = policies.iter().find(|p| p.kind == choice.kind) else {
                return Err(AppError::validation(
                    format!("input.policies.{i}.kind"),
                    "no such policy is published",
                )
                .into());
            };
            if p.version != choice.version {
                return Err(AppError::validation(
                    format!("input.policies.{i}.version"),
                    format!("the current version is {}: read it again", p.version),
                )
                .into());
            }
            rows.push(policy_acceptance::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(viewer.user_id),
                kind: Set(choice.kind.key().into()),
                version: Set(choice.version.clone()),
                accepted_at: Set(now),
                ip: Set(r.ip.clone()),
                user_agent: Set(r.user_agent.clone()),
            });
        }
        if !rows.is_empty() {
            // Accepting again what is on record changes nothing (the first acceptance stands).
            policy_acceptance::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([
                        policy_acceptance::Column::UserId,
                        policy_acceptance::Column::Kind,
                        policy_acceptance::Column::Version,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&app.db)
                .await
                .map_err(AppError::from)?;
        }
        Ok(AcceptPoliciesPayload { policies_to_accept: to_accept(app, viewer.user_id).await? })
    }
}

/// Your acceptances on record, newest first.
pub async fn acceptances(ctx: &Ctx, user: Uuid) -> AppResult<Vec<PolicyAcceptance>> {
    Ok(policy_acceptance::Entity::find()
        .filter(policy_acceptance::Column::UserId.eq(user))
        .order_by_desc(policy_acceptance::Column::Id)
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|a| PolicyAcceptance {
            kind: match a.kind.as_str() {
                "TERMS" => Some(PolicyKind::Terms),
                "PRIVACY" => Some(PolicyKind::Privacy),
                _ => None,
            },
            version: a.version,
            accepted_at: a.accepted_at,
        })
        .collect())
}
