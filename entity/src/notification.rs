use sea_orm::entity::prelude::*;

/// One notification of one user: shown in the app when `in_app`, and still to be mailed at
/// once (`email_pending`) or in the daily digest (`digest_pending`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The organisation it concerns, if any (not a tenant wall: the inbox is the user's).
    pub organisation_id: Option<Uuid>,
    /// A kind of the notification catalog, e.g. `member.role_changed`.
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Where in the app it leads (a path).
    pub link: Option<String>,
    pub data: Json,
    pub in_app: bool,
    pub email_pending: bool,
    pub digest_pending: bool,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
