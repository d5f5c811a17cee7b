//! The event types an endpoint can subscribe to: every change the platform records in an
//! organisation's audit log, named by its action (`team.created`). A debug build refuses to
//! commit an audited change whose action is missing here, so a new area's events cannot be
//! forgotten (the test suite runs every mutation).

/// Every event type, by area, with what it means.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    ("tenant.created", "The organisation was created"),
    ("tenant.updated", "Its name or slug changed"),
    ("tenant.settings_updated", "Its settings changed"),
    ("tenant.suspended", "It was suspended"),
    ("tenant.reactivated", "It was reactivated"),
    ("member.joined", "Someone joined (accepted an invitation)"),
    ("member.left", "A member left"),
    ("member.removed", "A member was removed"),
    ("member.role_changed", "A member's role changed"),
    ("member.suspended", "A member was suspended"),
    ("member.reactivated", "A member was reactivated"),
    ("invitation.created", "Someone was invited"),
    ("invitation.resent", "An invitation was sent again"),
    ("invitation.revoked", "An invitation was revoked"),
    ("role.created", "A role was created"),
    ("role.updated", "A role was renamed or re-described"),
    ("role.permissions_set", "A role's permissions changed"),
    ("role.deleted", "A role was deleted"),
    ("team.created", "A team was created"),
    ("team.updated", "A team was renamed"),
    ("team.deleted", "A team was deleted"),
    ("team.member_added", "Someone was added to a team"),
    ("team.member_removed", "Someone was removed from a team"),
    ("team.member_role_changed", "A team member's role changed"),
    ("api_key.created", "An API key was created"),
    ("api_key.revoked", "An API key was revoked"),
    ("secret.created", "A secret was created"),
    ("secret.updated", "A secret's value changed"),
    ("secret.deleted", "A secret was deleted"),
    ("environment_variable.set", "An environment variable was set"),
    ("environment_variable.deleted", "An environment variable was deleted"),
    ("workflow.created", "A workflow was created"),
    ("workflow.created_from_template", "A workflow was created from a template"),
    ("workflow.duplicated", "A workflow was duplicated"),
    ("workflow.updated", "A workflow's name, description or settings changed"),
    ("workflow.graph_edited", "A workflow's draft graph was edited"),
    ("workflow.version_published", "A workflow version was published"),
    ("workflow.archived", "A workflow was archived"),
    ("workflow.restored", "A workflow was restored"),
    ("workflow.deleted", "A workflow was deleted"),
    ("workflow.webhook_rotated", "A workflow's trigger URL was rotated"),
    ("workflow_template.saved", "A workflow template was saved"),
    ("workflow_template.deleted", "A workflow template was deleted"),
    ("execution.started", "A workflow run was started by hand"),
    ("execution.cancelled", "A workflow run was cancelled"),
    ("execution.retried", "A workflow run was retried"),
    ("billing.trial_started", "A trial started"),
    ("billing.checkout_started", "A checkout was started"),
    ("billing.payment_method_saved", "A payment method was saved"),
    ("billing.plan_changed", "The plan changed"),
    ("billing.downgrade_scheduled", "A downgrade was scheduled for the period end"),
    ("billing.cancel_scheduled", "A cancellation was scheduled for the period end"),
    ("billing.canceled", "The paid plan ended"),
    ("billing.canceled_unpaid", "The paid plan ended unpaid"),
    ("billing.resumed", "A scheduled cancellation or change was taken back"),
    ("billing.settings_updated", "Billing details changed"),
    ("billing.invoice_issued", "An invoice was issued"),
    ("billing.invoice_paid", "An invoice was paid"),
    ("billing.invoice_refunded", "An invoice was refunded (in part or in full)"),
    ("billing.past_due", "A renewal could not be collected"),
    ("billing.payment_recovered", "An overdue payment was made"),
    ("webhook_endpoint.created", "A webhook endpoint was created"),
    ("webhook_endpoint.updated", "A webhook endpoint changed"),
    ("webhook_endpoint.deleted", "A webhook endpoint was deleted"),
    ("webhook_endpoint.secret_rotated", "A webhook endpoint's secret was rotated"),
    ("webhook_endpoint.disabled", "A webhook endpoint was switched off after repeated failures"),
];

/// The type of the event `sendTestWebhookEvent` sends (to the endpoint whatever it chose).
pub const TEST_EVENT: &str = "webhook.test";

/// Whether `event_type` is in the catalog.
pub fn known(event_type: &str) -> bool {
    EVENT_TYPES.iter().any(|(t, _)| *t == event_type)
}
