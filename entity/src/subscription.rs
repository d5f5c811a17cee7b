use sea_orm::entity::prelude::*;

/// Where a subscription stands (Stripe Billing's states).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubscriptionStatus {
    #[sea_orm(string_value = "trialing")]
    Trialing,
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "past_due")]
    PastDue,
    #[sea_orm(string_value = "canceled")]
    Canceled,
    #[sea_orm(string_value = "incomplete")]
    Incomplete,
    #[sea_orm(string_value = "paused")]
    Paused,
}

/// How often a price is charged.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum BillingInterval {
    #[sea_orm(string_value = "month")]
    Month,
    #[sea_orm(string_value = "year")]
    Year,
}

/// An organisation's subscription to a plan, at the price it signed up for.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The tenant's id while this is its current subscription, else `None`.
    pub current_for: Option<Uuid>,
    pub plan_key: String,
    /// The catalog version of the plan when the price was set (old subscriptions keep it).
    pub plan_version: i32,
    pub status: SubscriptionStatus,
    pub interval: BillingInterval,
    pub currency: String,
    /// Price per interval in minor units.
    pub unit_amount: i64,
    pub current_period_start: DateTimeUtc,
    pub current_period_end: DateTimeUtc,
    pub trial_end: Option<DateTimeUtc>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<DateTimeUtc>,
    /// A downgrade waiting for the period end.
    pub scheduled_plan_key: Option<String>,
    pub scheduled_interval: Option<BillingInterval>,
    pub failed_renewals: i32,
    pub next_retry_at: Option<DateTimeUtc>,
    pub past_due_since: Option<DateTimeUtc>,
    /// Bumped by every change; a change names the revision it read (two concurrent plan
    /// changes: one wins, the other gets a conflict).
    pub revision: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantOwned for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
