//! Account security: TOTP and backup codes, MFA challenges, login throttles, the account's
//! security events, OAuth/OpenID Connect identities and sign-in states, HTML mail bodies.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000008_account_security"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TotpSecret,
    TotpPendingSecret,
    TotpEnabledAt,
    TotpLastStep,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    BodyHtml,
}

#[derive(DeriveIden)]
enum BackupCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum MfaChallenges {
    Table,
    Id,
    UserId,
    TokenHash,
    Ip,
    UserAgent,
    Attempts,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum AuthThrottles {
    Table,
    Key,
    Failures,
    WindowStartedAt,
    LockedUntil,
    Lockouts,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SecurityEvents {
    Table,
    Id,
    UserId,
    Kind,
    Ip,
    UserAgent,
    SessionId,
    Details,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OauthIdentities {
    Table,
    Id,
    UserId,
    Provider,
    Subject,
    Email,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    Id,
    StateHash,
    Provider,
    CodeVerifier,
    Nonce,
    LinkUserId,
    BrowserHash,
    LinkCodeHash,
    LinkedSubject,
    LinkedEmail,
    LinkCompletedAt,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

fn user_fk(
    name: &str,
    table: impl IntoIden + 'static,
    col: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for col in [
            string_null(Users::TotpSecret),
            string_null(Users::TotpPendingSecret),
            timestamp_with_time_zone_null(Users::TotpEnabledAt),
            big_integer_null(Users::TotpLastStep),
        ] {
            let mut col = col;
            m.alter_table(Table::alter().table(Users::Table).add_column(&mut col).to_owned()).await?;
        }
        m.alter_table(
            Table::alter().table(MailOutbox::Table).add_column(text_null(MailOutbox::BodyHtml)).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(BackupCodes::Table)
                .col(pk_uuid(BackupCodes::Id))
                .col(uuid(BackupCodes::UserId))
                .col(string(BackupCodes::CodeHash))
                .col(timestamp_with_time_zone(BackupCodes::CreatedAt))
                .col(timestamp_with_time_zone_null(BackupCodes::UsedAt))
                .foreign_key(&mut user_fk("fk_backup_codes_user", BackupCodes::Table, BackupCodes::UserId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_backup_codes_user")
                .table(BackupCodes::Table)
                .col(BackupCodes::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MfaChallenges::Table)
                .col(pk_uuid(MfaChallenges::Id))
                .col(uuid(MfaChallenges::UserId))
                .col(string_uniq(MfaChallenges::TokenHash))
                .col(string_null(MfaChallenges::Ip))
                .col(string_null(MfaChallenges::UserAgent))
                .col(integer(MfaChallenges::Attempts))
                .col(timestamp_with_time_zone(MfaChallenges::CreatedAt))
                .col(timestamp_with_time_zone(MfaChallenges::ExpiresAt))
                .col(timestamp_with_time_zone_null(MfaChallenges::UsedAt))
                .foreign_key(&mut user_fk(
                    "fk_mfa_challenges_user",
                    MfaChallenges::Table,
                    MfaChallenges::UserId,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuthThrottles::Table)
                .col(string(AuthThrottles::Key).primary_key())
                .col(integer(AuthThrottles::Failures))
                .col(timestamp_with_time_zone(AuthThrottles::WindowStartedAt))
                .col(timestamp_with_time_zone_null(AuthThrottles::LockedUntil))
                .col(integer(AuthThrottles::Lockouts))
                .col(timestamp_with_time_zone(AuthThrottles::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SecurityEvents::Table)
                .col(pk_uuid(SecurityEvents::Id))
                .col(uuid(SecurityEvents::UserId))
                .col(string(SecurityEvents::Kind))
                .col(string_null(SecurityEvents::Ip))
                .col(string_null(SecurityEvents::UserAgent))
                .col(uuid_null(SecurityEvents::SessionId))
                .col(json_null(SecurityEvents::Details))
                .col(timestamp_with_time_zone(SecurityEvents::CreatedAt))
                .foreign_key(&mut user_fk(
                    "fk_security_events_user",
                    SecurityEvents::Table,
                    SecurityEvents::UserId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_security_events_user_created")
                .table(SecurityEvents::Table)
                .col(SecurityEvents::UserId)
                .col(SecurityEvents::CreatedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OauthIdentities::Table)
                .col(pk_uuid(OauthIdentities::Id))
                .col(uuid(OauthIdentities::UserId))
                .col(string(OauthIdentities::Provider))
                .col(string(OauthIdentities::Subject))
                .col(string_null(OauthIdentities::Email))
                .col(timestamp_with_time_zone(OauthIdentities::CreatedAt))
                .col(timestamp_with_time_zone_null(OauthIdentities::LastUsedAt))
                .foreign_key(&mut user_fk(
                    "fk_oauth_identities_user",
                    OauthIdentities::Table,
                    OauthIdentities::UserId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_oauth_identities_provider_subject")
                .table(OauthIdentities::Table)
                .col(OauthIdentities::Provider)
                .col(OauthIdentities::Subject)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OauthStates::Table)
                .col(pk_uuid(OauthStates::Id))
                .col(string_uniq(OauthStates::StateHash))
                .col(string(OauthStates::Provider))
                .col(string(OauthStates::CodeVerifier))
                .col(string(OauthStates::Nonce))
                .col(uuid_null(OauthStates::LinkUserId))
                .col(string_null(OauthStates::BrowserHash))
                .col(string_null(OauthStates::LinkCodeHash))
                .col(string_null(OauthStates::LinkedSubject))
                .col(string_null(OauthStates::LinkedEmail))
                .col(timestamp_with_time_zone_null(OauthStates::LinkCompletedAt))
                .col(timestamp_with_time_zone(OauthStates::CreatedAt))
                .col(timestamp_with_time_zone(OauthStates::ExpiresAt))
                .col(timestamp_with_time_zone_null(OauthStates::UsedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            OauthStates::Table.into_iden(),
            OauthIdentities::Table.into_iden(),
            SecurityEvents::Table.into_iden(),
            AuthThrottles::Table.into_iden(),
            MfaChallenges::Table.into_iden(),
            BackupCodes::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(MailOutbox::Table).drop_column(MailOutbox::BodyHtml).to_owned())
            .await?;
        for col in [Users::TotpSecret, Users::TotpPendingSecret, Users::TotpEnabledAt, Users::TotpLastStep] {
            m.alter_table(Table::alter().table(Users::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
