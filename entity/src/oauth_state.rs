use sea_orm::entity::prelude::*;

/// One authorization request in flight: the `state` (hashed), the PKCE verifier and the
/// nonce it must come back with. Single-use and short-lived.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub state_hash: String,
    pub provider: String,
    pub code_verifier: String,
    pub nonce: String,
    /// Set when a signed-in user links this provider instead of signing in.
    pub link_user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
