use sea_orm::entity::prelude::*;

/// Where an invitation stands (a pending one past its expiry is shown as expired).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
}

/// An invitation to join a tenant with a role, sent by e-mail as a single-use token link.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Lower-case e-mail address the invitation was sent to.
    pub email: String,
    pub role_id: Uuid,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub invited_by: Uuid,
    /// `pending`, `accepted` or `revoked` (expiry is read from `expires_at`).
    pub status: InvitationState,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub accepted_by: Option<Uuid>,
    /// Teams the invitee joins on acceptance: `[{"teamId": …, "role": "editor"}]`.
    pub teams: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantOwned for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
