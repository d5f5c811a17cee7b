//! An organisation's settings and lifecycle: general and branding settings, notification
//! defaults, suspension (owner-only, confirmed by typing the slug back; or a platform
//! operator's, with a reason); deletion is [`super::deletion`]'s.

use entity::{tenant, tenant::TenantStatus};
use sea_orm::Set;
use serde::{Deserialize, Serialize};

use super::{
    deletion::check_owner_confirmation,
    events::TenantEventKind,
    service::{change_tenant, event},
};
use crate::ctx::Ctx;
use crate::{
    access::{TenantCtx, TenantTx},
    auth::Permission,
    db::lock_tenant,
    error::{AppError, AppResult},
    modules::identity::account::validate_locale,
};

/// General settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct General {
    pub description: Option<String>,
    pub website: Option<String>,
    pub default_locale: Option<String>,
    pub default_time_zone: Option<String>,
}

/// Branding shown in the apps and in mails.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Branding {
    pub logo_url: Option<String>,
    /// `#RRGGBB`.
    pub primary_color: Option<String>,
    /// `#RRGGBB`.
    pub accent_color: Option<String>,
}

/// All settings of an organisation, as stored.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Settings {
    pub general: General,
    pub branding: Branding,
    /// Notification defaults for new members (a JSON object the clients define).
    pub notification_defaults: serde_json::Value,
    pub security: SecuritySettings,
    pub retention: Retention,
    pub support: SupportSettings,
}

/// How platform support may enter the organisation (developer mode).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct SupportSettings {
    /// A support session waits for an owner's approval before it gives any access.
    pub require_approval: bool,
}

/// Days the organisation keeps what accumulates; `None`: the platform's maximum. Never more
/// than the platform allows (`ZYGO_RETENTION_*`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Retention {
    pub audit_days: Option<u32>,
    pub execution_days: Option<u32>,
    pub webhook_delivery_days: Option<u32>,
}

impl Retention {
    /// The days in force: the organisation's choice within the platform's maxima.
    pub fn effective(&self, max: &crate::config::RetentionSettings) -> (u32, u32, u32) {
        let pick = |mine: Option<u32>, max: u32| mine.map_or(max, |d| d.min(max));
        (
            pick(self.audit_days, max.audit_days),
            pick(self.execution_days, max.execution_days),
            pick(self.webhook_delivery_days, max.webhook_delivery_days),
        )
    }

    /// Refuses a period outside 1 day..the platform's maximum, naming the field.
    fn check(&self, max: &crate::config::RetentionSettings) -> AppResult<()> {
        for (field, mine, max) in [
            ("input.retention.auditDays", self.audit_days, max.audit_days),
            ("input.retention.executionDays", self.execution_days, max.execution_days),
            ("input.retention.webhookDeliveryDays", self.webhook_delivery_days, max.webhook_delivery_days),
        ] {
            if let Some(d) = mine
                && (d == 0 || d > max)
            {
                return Err(AppError::validation(
                    field,
                    format!("must be 1 to {max} days (the platform's maximum)"),
                ));
            }
        }
        Ok(())
    }
}

/// Security rules for the members.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct SecuritySettings {
    /// Members must have two-factor authentication on to reach the organisation's data.
    pub require_mfa: bool,
}

/// The stored settings (defaults when none were saved).
pub fn settings(t: &tenant::Model) -> Settings {
    t.settings.clone().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
}

/// What the plan turns on, as stored by billing (an empty object until then).
pub fn features(t: &tenant::Model) -> serde_json::Value {
    t.features.clone().filter(|f| f.is_object()).unwrap_or_else(|| serde_json::json!({}))
}

fn check_url(field: &str, url: &str) -> AppResult<String> {
    let url = url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && !url.contains(char::is_whitespace)
        && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if ok { Ok(url.to_string()) } else { Err(AppError::validation(field, "must be an http(s) URL")) }
}

fn check_color(field: &str, c: &str) -> AppResult<String> {
    let c = c.trim();
    if c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit()) {
        Ok(c.to_ascii_lowercase())
    } else {
        Err(AppError::validation(field, "must be a colour as #RRGGBB"))
    }
}

fn check_text(field: &str, s: &str, max: usize) -> AppResult<String> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(AppError::validation(field, format!("must be at most {max} characters")));
    }
    Ok(s.to_string())
}

/// Validates `new` field by field (errors name `input.general.website` and so on).
pub fn validate(new: Settings) -> AppResult<Settings> {
    let g = new.general;
    let b = new.branding;
    let opt = |v: Option<String>, f: &dyn Fn(&str) -> AppResult<String>| v.as_deref().map(f).transpose();
    let tz = |s: &str| {
        s.trim()
            .parse::<chrono_tz::Tz>()
            .map(|_| s.trim().to_string())
            .map_err(|_| AppError::validation("input.general.defaultTimeZone", "must be an IANA time zone"))
    };
    if !(new.notification_defaults.is_null() || new.notification_defaults.is_object()) {
        return Err(AppError::validation("input.notificationDefaults", "must be a JSON object"));
    }
    if new.notification_defaults.to_string().len() > 16 * 1024 {
        return Err(AppError::validation("input.notificationDefaults", "must be at most 16 KiB of JSON"));
    }
    Ok(Settings {
        security: new.security.clone(),
        retention: new.retention.clone(),
        support: new.support.clone(),
        general: General {
            description: opt(g.description, &|s| check_text("input.general.description", s, 500))?,
            website: opt(g.website, &|s| check_url("input.general.website", s))?,
            default_locale: opt(g.default_locale, &|s| validate_locale("input.general.defaultLocale", s))?,
            default_time_zone: opt(g.default_time_zone, &tz)?,
        },
        branding: Branding {
            logo_url: opt(b.logo_url, &|s| check_url("input.branding.logoUrl", s))?,
            primary_color: opt(b.primary_color, &|s| check_color("input.branding.primaryColor", s))?,
            accent_color: opt(b.accent_color, &|s| check_color("input.branding.accentColor", s))?,
        },
        notification_defaults: new.notification_defaults,
    })
}

/// Replaces the parts of the settings given (`tenant.update`).
pub async fn update_settings(
    ctx: &Ctx,
    tctx: &TenantCtx,
    general: Option<General>,
    branding: Option<Branding>,
    notification_defaults: Option<serde_json::Value>,
    security: Option<SecuritySettings>,
    retention: Option<Retention>,
) -> AppResult<tenant::Model> {
    tctx.require(Permission::TenantUpdate)?;
    if let Some(r) = &retention {
        r.check(&ctx.config.retention)?;
    }
    if security.as_ref().is_some_and(|s| s.require_mfa) {
        // Whoever turns the rule on must meet it, or they would lock themselves out.
        let me =
            <entity::user::Entity as sea_orm::EntityTrait>::find_by_id(tctx.user_id).one(&ctx.db).await?;
        if !me.is_some_and(|u| u.mfa_enabled()) {
            return Err(AppError::validation(
                "input.security.requireMfa",
                "turn on two-factor authentication for your own account first",
            ));
        }
    }
    change_tenant(ctx, tctx, "tenant.settings_updated", |current, am| {
        let mut s = settings(current);
        if let Some(g) = general {
            s.general = g;
        }
        if let Some(b) = branding {
            s.branding = b;
        }
        if let Some(n) = notification_defaults {
            s.notification_defaults = n;
        }
        if let Some(sec) = security {
            s.security = sec;
        }
        if let Some(r) = retention {
            s.retention = r;
        }
        let s = validate(s)?;
        am.settings = Set(Some(serde_json::to_value(&s).map_err(anyhow::Error::from)?));
        Ok(())
    })
    .await
}

/// Whether platform support sessions wait for an owner's approval (`tenant.update`).
pub async fn set_support_approval(ctx: &Ctx, tctx: &TenantCtx, required: bool) -> AppResult<tenant::Model> {
    tctx.require(Permission::TenantUpdate)?;
    change_tenant(ctx, tctx, "tenant.support_approval_set", |current, am| {
        let mut s = settings(current);
        s.support.require_approval = required;
        am.settings = Set(Some(serde_json::to_value(&s).map_err(anyhow::Error::from)?));
        Ok(())
    })
    .await
}

/// Suspends (`true`) or reactivates the organisation.
pub async fn set_suspended(
    ctx: &Ctx,
    tctx: &TenantCtx,
    suspend: bool,
    confirm_slug: &str,
) -> AppResult<tenant::Model> {
    let current = super::service::get_tenant(ctx, tctx).await?;
    check_owner_confirmation(tctx, &current, confirm_slug)?;
    let (action, status) = if suspend {
        ("tenant.suspended", TenantStatus::Suspended)
    } else {
        ("tenant.reactivated", TenantStatus::Active)
    };
    change_tenant(ctx, tctx, action, |_, am| {
        am.status = Set(status);
        Ok(())
    })
    .await
}

/// A platform operator suspends (`true`) or reactivates the organisation with a written
/// `reason`: `tctx` is [`TenantCtx::platform_operator`] (the caller checked the platform
/// role). One transaction writes the change, the organisation's audit entry (actor
/// `platform_admin`) and the platform audit entry.
pub async fn set_suspended_by_platform(
    ctx: &Ctx,
    tctx: &TenantCtx,
    suspend: bool,
    reason: &str,
) -> AppResult<tenant::Model> {
    let (action, platform_action, status) = if suspend {
        ("tenant.suspended", "admin.tenant_suspended", TenantStatus::Suspended)
    } else {
        ("tenant.reactivated", "admin.tenant_reactivated", TenantStatus::Active)
    };
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    lock_tenant(&tx, scope).await?;
    let current = scope.find::<tenant::Entity>().one(&tx).await?.ok_or(AppError::NotFound("tenant"))?;
    let before = serde_json::json!({ "status": current.status });
    let mut am: tenant::ActiveModel = current.clone().into();
    am.status = Set(status);
    let now = ctx.now();
    am.updated_at = Set(now);
    let updated = sea_orm::ActiveModelTrait::update(am, &tx).await?;
    tx.audit(crate::access::Change {
        action,
        target_type: "Tenant",
        target_id: Some(updated.id),
        before: Some(before),
        after: Some(serde_json::json!({ "status": updated.status, "reason": reason })),
    })
    .await?;
    crate::access::platform::audit(
        &tx,
        crate::access::platform::PlatformEntry {
            actor_id: Some(tctx.user_id),
            action: platform_action,
            organisation_id: Some(updated.id),
            target_type: "Tenant",
            target_id: Some(updated.id.to_string()),
            reason: Some(reason.to_string()),
            metadata: Some(serde_json::json!({ "slug": updated.slug, "name": updated.name })),
        },
        now,
    )
    .await?;
    tx.emit(
        super::events::topic(tctx.tenant_id),
        &event(TenantEventKind::TenantUpdated, tctx.tenant_id, None, Some(tctx.user_id), now),
    );
    tx.commit().await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_validated_with_field_paths() {
        let mut s = Settings::default();
        s.branding.primary_color = Some("red".into());
        match validate(s) {
            Err(AppError::Validation { field, .. }) => assert_eq!(field, "input.branding.primaryColor"),
            other => panic!("{other:?}"),
        }
        let mut s = Settings::default();
        s.branding.primary_color = Some("#AABBCC".into());
        s.general.default_time_zone = Some("Europe/Paris".into());
        let ok = validate(s).unwrap();
        assert_eq!(ok.branding.primary_color.as_deref(), Some("#aabbcc"));
    }
}
