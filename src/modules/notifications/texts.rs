//! What a notice produced from an audited action says: its title, body and link, worded from
//! the entry's details and the organisation's name.

use serde_json::Value;

use super::{catalog::NotificationKind, service::Notice};

/// (title, body, link) of `notice`.
pub fn describe(notice: &Notice, org: Option<&entity::tenant::Model>) -> (String, String, Option<String>) {
    let name = org.map(|o| o.name.as_str()).unwrap_or("an organisation");
    let slug = org.map(|o| o.slug.as_str()).unwrap_or("");
    let after = &notice.data["after"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let role = notice.data["roleName"].as_str().map(str::to_string).unwrap_or_else(|| text(&after["role"]));
    let action = notice.data["action"].as_str().unwrap_or_default();
    let (title, body, link) = match notice.kind {
        NotificationKind::InvitationReceived => (
            format!("You were invited to join {name}"),
            format!("You were invited to {name} as {role}. Accept the invitation from the mail it came in."),
            None,
        ),
        NotificationKind::RoleChanged => (
            format!("Your role in {name} changed"),
            format!("You are now {role} in {name}."),
            Some(format!("/o/{slug}")),
        ),
        NotificationKind::MembershipChanged if action == "member.suspended" => (
            format!("Your membership of {name} was suspended"),
            format!("You cannot use {name} until an administrator reactivates you."),
            None,
        ),
        NotificationKind::MembershipChanged => (
            format!("Your membership of {name} was reactivated"),
            format!("You can use {name} again."),
            Some(format!("/o/{slug}")),
        ),
        NotificationKind::AddedToTeam => (
            format!("You were added to a team in {name}"),
            format!("You are a {} of a team in {name}.", text(&after["role"])),
            Some(format!("/o/{slug}/teams")),
        ),
        NotificationKind::PaymentFailed => (
            format!("A payment of {name} failed"),
            format!(
                "The renewal payment for invoice {} could not be collected; it will be retried.",
                text(&after["invoice"])
            ),
            Some(format!("/o/{slug}/billing")),
        ),
        NotificationKind::WebhookEndpointDisabled => (
            format!("A webhook endpoint of {name} was switched off"),
            format!(
                "Its last {} events could not be delivered.",
                after["failures"].as_i64().unwrap_or_default()
            ),
            Some(format!("/o/{slug}/settings/webhooks")),
        ),
        NotificationKind::OrganisationDeletion if action == "tenant.deletion_scheduled" => (
            format!("{name} is scheduled for deletion"),
            format!(
                "{name} is read-only now, and its data will be removed on {}. An owner can take the \
                 deletion back until then.",
                text(&after["deletionDueAt"]).get(..10).unwrap_or_default()
            ),
            Some(format!("/o/{slug}/settings")),
        ),
        NotificationKind::OrganisationDeletion => (
            format!("The deletion of {name} was taken back"),
            format!("{name} is no longer scheduled for deletion."),
            Some(format!("/o/{slug}")),
        ),
        NotificationKind::CollectionFinished => {
            let records = notice.data["records"].as_i64().unwrap_or_default();
            let errors = notice.data["errors"].as_i64().unwrap_or_default();
            let title = match notice.data["status"].as_str() {
                Some("failed") => format!("A data collection in {name} failed"),
                Some("partial") => format!("A data collection in {name} finished with errors"),
                _ => format!("A data collection in {name} finished"),
            };
            let body = match errors {
                0 => format!("{records} records collected."),
                n => format!("{records} records collected; {n} inputs failed."),
            };
            (title, body, Some(format!("/o/{slug}/collection")))
        }
        NotificationKind::SupportAccess if action == "support_session.requested" => (
            format!("Platform support asks to enter {name}"),
            format!(
                "Reason: {}. Nothing is visible to them until an owner approves the session.",
                text(&after["reason"])
            ),
            Some(format!("/o/{slug}/settings/support")),
        ),
        NotificationKind::SupportAccess => (
            format!("Platform support entered {name}"),
            format!(
                "Reason: {}. The session ends by itself after {} minutes; an owner can end it at any time.",
                text(&after["reason"]),
                after["minutes"].as_i64().unwrap_or_default()
            ),
            Some(format!("/o/{slug}/settings/support")),
        ),
        NotificationKind::MentionedInDocument => (
            format!("You were mentioned in “{}”", text(&notice.data["documentTitle"])),
            format!("Someone mentioned you in a document of {name}."),
            notice.data["documentId"].as_str().map(|d| format!("/o/{slug}/documents/{d}")),
        ),
        NotificationKind::ExecutionFailed
        | NotificationKind::PlanLimitNear
        | NotificationKind::SecurityEvent => {
            (super::catalog::entry(notice.kind).description.to_string(), String::new(), None)
        }
    };
    (title, body, link)
}
