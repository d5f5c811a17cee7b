//! One attachment per queued mail (an invoice's PDF): its file name, media type and bytes
//! (base64), kept in the outbox row so the mail is sent as it was queued.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000013_mail_attachments"
    }
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    AttachmentName,
    AttachmentType,
    Attachment,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            string_null(MailOutbox::AttachmentName),
            string_null(MailOutbox::AttachmentType),
            text_null(MailOutbox::Attachment),
        ] {
            let mut col = col;
            manager
                .alter_table(Table::alter().table(MailOutbox::Table).add_column(&mut col).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [MailOutbox::AttachmentName, MailOutbox::AttachmentType, MailOutbox::Attachment] {
            manager.alter_table(Table::alter().table(MailOutbox::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
