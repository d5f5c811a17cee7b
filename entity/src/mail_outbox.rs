use sea_orm::entity::prelude::*;

/// Where a queued mail stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    Pending,
    Sending,
    Sent,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub to_address: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body_text: String,
    /// The HTML alternative, when the mail has one.
    #[sea_orm(column_type = "Text", nullable)]
    pub body_html: Option<String>,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: MailStatus,
    pub attempts: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub next_attempt_at: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// The tenant whose workflow sent the mail; `None` for the platform's own mail.
    pub sender_tenant_id: Option<Uuid>,
    /// How the `X-Zygo-Tenant` header names that tenant: `Name (slug; id)`.
    pub tenant_label: Option<String>,
    /// Where replies go (the verified address of the user the sending run acts for).
    pub reply_to: Option<String>,
    /// One attachment: file name, media type and base64 bytes.
    pub attachment_name: Option<String>,
    pub attachment_type: Option<String>,
    pub attachment: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
