use sea_orm::entity::prelude::*;

/// One recorded change of tenant state. Append-only: nothing updates or deletes entries.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "audit_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// `user`, `api_key` or `system`.
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    /// What happened, e.g. `member.role_changed`.
    pub action: String,
    /// The kind of object changed, e.g. `Membership`.
    pub target_type: String,
    pub target_id: Option<String>,
    /// Summary of the object before the change (secrets redacted).
    pub before: Option<Json>,
    /// Summary of the object after the change (secrets redacted).
    pub after: Option<Json>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantOwned for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
