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
    /// Hash of the cookie set in the browser that started a sign-in: the callback must come
    /// back to that browser (no login CSRF).
    pub browser_hash: Option<String>,
    /// A link answered by the provider, waiting for `completeOAuthLink` from the linking
    /// user's own session.
    pub link_code_hash: Option<String>,
    pub linked_subject: Option<String>,
    pub linked_email: Option<String>,
    pub link_completed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
