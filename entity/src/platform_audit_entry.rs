use sea_orm::entity::prelude::*;

/// One action of a platform operator (append-only). When it concerns an organisation, that
/// organisation's own `audit_entries` has an entry too (actor type `platform_admin`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "platform_audit_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The operator; `None` for the command line.
    pub actor_id: Option<Uuid>,
    /// `admin.tenant_suspended`, …
    pub action: String,
    pub organisation_id: Option<Uuid>,
    pub target_type: String,
    pub target_id: Option<String>,
    pub reason: Option<String>,
    pub metadata: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
