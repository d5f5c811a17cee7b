use sea_orm::entity::prelude::*;

/// Status of one node of an execution.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    Running,
    Retrying,
    Succeeded,
    Failed,
    Skipped,
    Cancelled,
}

/// The state of one node (in one loop iteration) of an execution.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "node_executions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub execution_id: Uuid,
    pub node_id: String,
    pub iteration: String,
    pub status: NodeStatus,
    /// The output port the node emitted on (`main`, `true`, `error`, …).
    pub port: Option<String>,
    pub input: Option<Json>,
    pub output: Option<Json>,
    pub error: Option<String>,
    pub attempt: i32,
    pub reused: bool,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::TenantOwned for Entity {
    fn tenant_column() -> Column {
        Column::TenantId
    }
}
