use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    /// Argon2id PHC string; empty for an account that signs in only through OAuth/OpenID
    /// Connect (see [`Model::password_hash`]).
    pub password_hash: String,
    pub email_verified_at: Option<DateTimeUtc>,
    pub avatar_url: Option<String>,
    /// BCP 47 language tag, e.g. `en-GB`.
    pub locale: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: Option<String>,
    /// Theme, language, notification choices and dashboard layout, as JSON.
    pub preferences: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Base32 TOTP secret once MFA is on.
    pub totp_secret: Option<String>,
    /// Secret of an enrollment started but not yet confirmed.
    pub totp_pending_secret: Option<String>,
    pub totp_enabled_at: Option<DateTimeUtc>,
    /// The last accepted TOTP time step: a code is never accepted twice.
    pub totp_last_step: Option<i64>,
    /// When the account is to be erased (the person asked to delete it; cancellable until then).
    pub deletion_scheduled_at: Option<DateTimeUtc>,
}

impl Model {
    /// The password hash, `None` for an account without a password.
    pub fn password_hash(&self) -> Option<&str> {
        (!self.password_hash.is_empty()).then_some(self.password_hash.as_str())
    }

    pub fn mfa_enabled(&self) -> bool {
        self.totp_enabled_at.is_some() && self.totp_secret.is_some()
    }
}

/// What others may learn of a user (the API's `User`): no password hash, no TOTP secrets, no
/// preferences. Lists of people load profiles, never whole accounts, so the secrets of a
/// thousand members are neither read nor held in memory to show their names.
#[derive(Clone, Debug, PartialEq, Eq, DerivePartialModel)]
#[sea_orm(entity = "Entity")]
pub struct Profile {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub email_verified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

impl Profile {
    /// The columns a profile is read from, in the order of its fields.
    pub const COLUMNS: [Column; 5] =
        [Column::Id, Column::Email, Column::Name, Column::EmailVerifiedAt, Column::CreatedAt];
}

impl From<&Model> for Profile {
    fn from(m: &Model) -> Self {
        Self {
            id: m.id,
            email: m.email.clone(),
            name: m.name.clone(),
            email_verified_at: m.email_verified_at,
            created_at: m.created_at,
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
