use sea_orm::entity::prelude::*;

/// What happened to the platform's security (not to one account: see `security_event`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PlatformSecurityEventKind {
    /// A payment provider's webhook whose signature did not verify was refused.
    WebhookSignatureRejected,
}

/// An event of the platform's security log, belonging to no user and no organisation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "platform_security_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: PlatformSecurityEventKind,
    /// Where it happened, e.g. `billing.webhook.stripe`.
    pub source: String,
    pub ip: Option<String>,
    pub details: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
