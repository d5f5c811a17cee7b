//! Email: sends a mail through the outbox, from the tenant.

use sea_orm::EntityTrait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    NodeError, Out, config,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind, expr},
    main,
};
use crate::modules::workflows::runtime::Runner;

pub(crate) struct SendEmail;

#[derive(Deserialize)]
pub(crate) struct EmailConfig {
    #[serde(deserialize_with = "config::string")]
    to: String,
    #[serde(deserialize_with = "config::string")]
    subject: String,
    #[serde(default, deserialize_with = "config::lenient")]
    body: Option<String>,
}

impl NodeKind for SendEmail {
    const KEY: &'static str = "email.send";
    const CATEGORY: &'static str = "action";
    const NAME: &'static str = "Email";
    const DESCRIPTION: &'static str = "Sends a mail through the outbox.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = false;
    const DEFAULT_TIMEOUT_MS: u64 = 10_000;
    const REVEALS_SECRETS: bool = true;
    const REQUIRED: &'static [&'static str] = &["to", "subject", "body"];
    type Config = EmailConfig;

    fn properties() -> Value {
        json!({
            "to": expr("Recipient address"),
            "subject": { "type": "string", "minLength": 1, "maxLength": 500 },
            "body": { "type": "string", "maxLength": 100000 },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: EmailConfig) -> Out {
        let runner = &ctx.runner;
        let to = config.to.trim().to_string();
        if !email_address::EmailAddress::is_valid(&to) {
            return Err(NodeError::new("config", format!("config.to: `{to}` is not an e-mail address")));
        }
        let subject = config.subject;
        let text = config.body.unwrap_or_default();
        let html = format!(
            "<pre style=\"font-family:inherit;white-space:pre-wrap\">{}</pre>",
            crate::mail::templates::esc(&text)
        );
        let sender = mail_sender(runner).await?;
        let budget = runner.app.config.security.tenant_mail;
        let mail = crate::mail::Mail { subject: subject.clone(), text, html, attachment: None };
        crate::mail::enqueue_for_tenant(&runner.app.db, budget, &sender, &to, mail).await.map_err(
            |e| match e {
                crate::error::AppError::Rejected { message, .. } => NodeError::new("mail_budget", message),
                e => NodeError::new("internal", e.to_string()),
            },
        )?;
        runner.app.mail.wake();
        main(json!({ "to": to, "subject": subject, "queued": true }))
    }
}

/// Who a workflow's mail comes from: the tenant (named in the `X-Zygo-Tenant` header) and,
/// as `Reply-To`, the verified address of the user who started the run, if any.
async fn mail_sender(runner: &Runner) -> Result<crate::mail::TenantSender, NodeError> {
    let scope = runner.scope;
    let tenant = entity::tenant::Entity::find_by_id(scope.tenant_id())
        .one(&scope.on(&runner.app.db))
        .await?
        .ok_or_else(|| NodeError::new("internal", "the run's organisation is gone"))?;
    let reply_to = match runner.exec.created_by {
        Some(user_id) => entity::user::Entity::find_by_id(user_id)
            .one(&runner.app.db)
            .await?
            .filter(|u| u.email_verified_at.is_some())
            .map(|u| u.email),
        None => None,
    };
    Ok(crate::mail::TenantSender {
        tenant_id: tenant.id,
        label: format!("{} ({}; {})", tenant.name, tenant.slug, tenant.id),
        reply_to,
    })
}
