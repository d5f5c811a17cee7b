use sea_orm::entity::prelude::*;

/// A network, firewall or load balancer made through a provider account. `spec` is the shape
/// Zygo wants it to have (servers named by Zygo's ids); provider actions converge the cloud to
/// it, and the reconciler records when the cloud no longer matches (`observed`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cloud_network_resources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub provider_id: Uuid,
    pub kind: NetworkResourceKind,
    pub name: String,
    pub status: NetworkResourceStatus,
    pub external_id: Option<String>,
    pub labels: Json,
    pub spec: Json,
    /// What the provider had instead of `spec` when drift was last found.
    pub observed: Option<Json>,
    /// A load balancer's public IPv4 address.
    pub public_ip: Option<String>,
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

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum NetworkResourceKind {
    Network,
    Firewall,
    LoadBalancer,
}

impl NetworkResourceKind {
    /// The name actions, audit entries and events use (`network`, `firewall`, `load_balancer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Network => "network",
            Self::Firewall => "firewall",
            Self::LoadBalancer => "load_balancer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "network" => Some(Self::Network),
            "firewall" => Some(Self::Firewall),
            "load_balancer" => Some(Self::LoadBalancer),
            _ => None,
        }
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum NetworkResourceStatus {
    /// Asked for; the provider does not have it yet.
    Pending,
    /// The provider has it as specified.
    Ready,
    /// A change is being carried out.
    Updating,
    /// Changed outside Zygo: the provider no longer matches the spec (see `observed`).
    Drifted,
    /// Deleted outside Zygo.
    Deleted,
    Deleting,
    Error,
}
