use sea_orm::entity::prelude::*;

/// Failure counter of one throttled thing (an account's logins, an IP's logins, a user's
/// MFA codes, …), keyed like `login:account:ada@example.com`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_throttles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub failures: i32,
    pub window_started_at: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
    /// Lockouts so far: each one lasts twice as long as the one before.
    pub lockouts: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
