//! The oracle: what each root field and each guarded nested field demands of its caller,
//! read off the resolvers and services by hand (it must not be derived from the server it
//! judges). Permissions are the `Permission` enum generated from the committed SDL; what
//! each built-in role holds is read from the server (`PermissionMatrix`) and checked
//! against the README's catalog.

use std::collections::BTreeSet;

use serde_json::{Value, json};

pub(super) use crate::gql::permission_matrix::Permission::{self, *};

/// Rank in the role hierarchy (lower is more powerful); custom roles rank with members.
pub(super) fn rank(role_key: &str) -> u8 {
    match role_key {
        "owner" => 0,
        "admin" => 1,
        "viewer" => 3,
        _ => 2,
    }
}

// ---------------------------------------------------------------------------------------
// The access table, read off the code: `rctx.require_principal()` / `rctx.viewer()` (signed
// in), `loaders.tenant_access` / `owned_row` (membership, else NOT_FOUND), `tctx.require(…)`
// and `tctx.has(…)` (FORBIDDEN), `check_owner_confirmation`, `check_manage`, `check_grant`,
// `check_editable` (owner-only and rank checks).
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
pub(super) enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// The signed-in user acting on themself; anonymous callers get `null` and no error.
    ViewerOrNull,
    /// Any signed-in caller acting on themself; anonymous: UNAUTHENTICATED.
    SignedIn,
    /// An active member of the organisation holding every listed permission (none listed:
    /// membership alone). Anonymous: UNAUTHENTICATED; anyone else: NOT_FOUND.
    Tenant(&'static [Permission]),
    /// Like `Tenant`, holding at least one of the listed permissions.
    TenantAny(&'static [Permission]),
    /// Like `Tenant(permission)`, and ranked strictly above the target's role (the fixture
    /// points these at a target whose role is the second field), unless an owner.
    Outranks(&'static Permission, &'static str),
    /// `TENANT_DELETE` and the owner role ("owners only, slug typed back").
    Owner,
    /// `TEAMS_MANAGE`, or an owner of the team itself (`teams::service::check_manage`).
    TeamManager,
    /// Like `Tenant(permission)`, but an object the caller cannot reach is a `null` entry
    /// without an error (`nodes`).
    HiddenAsNull(&'static Permission),
    /// A holder of a platform role (`access::platform::require`; none of the sweep's callers
    /// is, and no organisation role, owner included, leads to one): anonymous
    /// UNAUTHENTICATED, anyone else FORBIDDEN.
    PlatformAdmin,
}

pub(super) use Rule::*;

/// Where a rule looks for its organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// The organisation named by the field's arguments: an outsider gets NOT_FOUND.
    Arg,
    /// The organisation of the object the field is on: reached only through a root field
    /// that already checked access (for an outsider, through `viewer` into their own B).
    Ctx,
}

/// Every root field of Query, Mutation and Subscription.
pub(super) const ROOT: &[(&str, Rule)] = &[
    // Query
    ("node", Tenant(&[TENANT_READ])), // the sweep points it at tenant A: `tenancy::get_tenant`
    ("nodes", HiddenAsNull(&TENANT_READ)), // likewise; hidden ones are null (node.rs)
    ("viewer", ViewerOrNull),
    ("policies", Public),
    ("tenant", Tenant(&[TENANT_READ])),
    ("permissions", Public),
    ("invitationPreview", Public), // by token alone; an unknown token is null
    ("oauthProviders", Public),
    ("nodeTypes", SignedIn),
    ("workflow", Tenant(&[WORKFLOW_READ])),
    ("execution", Tenant(&[WORKFLOW_READ])),
    ("workflowTemplates", Tenant(&[WORKFLOW_READ])),
    ("validateWorkflow", Tenant(&[WORKFLOW_READ])),
    ("plans", Public),
    ("paymentProviders", Public),
    ("previewPlanChange", Tenant(&[BILLING_READ])),
    ("webhookEventTypes", Public),
    ("collectionPlatforms", PlatformAdmin),
    ("brightDataCredentials", PlatformAdmin),
    ("platformServices", PlatformAdmin),
    ("project", Tenant(&[COLLECTION_READ])),
    ("collectionFolder", Tenant(&[COLLECTION_READ])),
    ("collectionJob", Tenant(&[COLLECTION_READ])),
    ("savedSearch", Tenant(&[COLLECTION_READ])),
    ("recordExport", Tenant(&[COLLECTION_READ])),
    ("document", Tenant(&[DOCUMENTS_READ])),
    ("documentVersions", Tenant(&[DOCUMENTS_READ])),
    ("compareDocumentVersions", Tenant(&[DOCUMENTS_READ])),
    // The fixture's file is LINK-visible, so every holder of the permission sees it.
    ("resource", Tenant(&[RESOURCES_READ])),
    ("resourceVersion", Tenant(&[RESOURCES_READ])),
    ("sharedResource", Public), // by token alone; a link that does not open is null
    // Mutation: identity and account security
    ("signUp", Public),
    ("verifyEmail", Public),
    ("resendVerification", Public),
    ("logIn", Public),
    ("refreshSession", Public),
    ("requestPasswordReset", Public),
    ("resetPassword", Public),
    ("completeMfaChallenge", Public),
    ("unlockAccount", Public),
    ("exchangeOAuthCode", Public),
    ("updateProfile", SignedIn),
    ("changePassword", SignedIn),
    ("updatePreferences", SignedIn),
    ("markNotificationsRead", SignedIn),
    // With `organisationId`: a member of it (NOT_FOUND otherwise), like `Viewer.permissions`.
    ("updateNotificationSettings", SignedIn),
    // Its own data by default (the sweep sends no input); with `organisationId`, an owner of it
    // (TENANT_DELETE and the owner role), which tests/api/privacy.rs checks for every other caller.
    ("requestDataExport", SignedIn),
    ("scheduleAccountDeletion", SignedIn),
    ("acceptPolicies", SignedIn),
    ("cancelAccountDeletion", SignedIn),
    ("setActiveTenant", Tenant(&[])), // signed in, and a member of the organisation picked
    ("logOut", SignedIn),
    ("startTotpEnrollment", SignedIn),
    ("confirmTotpEnrollment", SignedIn),
    ("disableTotp", SignedIn),
    ("regenerateBackupCodes", SignedIn),
    ("revokeSession", SignedIn),
    ("revokeOtherSessions", SignedIn),
    ("linkOAuthAccount", SignedIn),
    ("completeOAuthLink", SignedIn),
    ("unlinkOAuthAccount", SignedIn),
    // Mutation: organisations, members, roles, keys, teams
    ("createTenant", SignedIn),
    ("updateTenant", Tenant(&[TENANT_UPDATE])),
    ("updateTenantSettings", Tenant(&[TENANT_UPDATE])),
    ("suspendTenant", Owner),
    ("reactivateTenant", Owner),
    ("deleteTenant", Owner),
    ("cancelTenantDeletion", Owner),
    ("addTenantDomain", Tenant(&[TENANT_UPDATE])),
    ("verifyTenantDomain", Tenant(&[TENANT_UPDATE])),
    ("setPrimaryTenantDomain", Tenant(&[TENANT_UPDATE])),
    ("removeTenantDomain", Tenant(&[TENANT_UPDATE])),
    ("inviteMember", Outranks(&MEMBERS_MANAGE, "sweep-custom")), // check_grant of the role invited to
    ("resendInvitation", Outranks(&MEMBERS_MANAGE, "member")),   // check_grant of the invitation's role
    ("revokeInvitation", Tenant(&[MEMBERS_MANAGE])),
    ("acceptInvitation", SignedIn),
    ("changeMemberRole", Outranks(&MEMBERS_MANAGE, "member")),
    ("suspendMember", Outranks(&MEMBERS_MANAGE, "member")),
    ("reactivateMember", Outranks(&MEMBERS_MANAGE, "member")),
    ("removeMember", Outranks(&MEMBERS_MANAGE, "member")), // or one's own membership (leaving)
    ("createRole", Tenant(&[ROLES_MANAGE])),
    ("updateRole", Outranks(&ROLES_MANAGE, "sweep-custom")), // check_editable
    ("setRolePermissions", Outranks(&ROLES_MANAGE, "sweep-custom")),
    ("deleteRole", Outranks(&ROLES_MANAGE, "sweep-custom")),
    ("createApiKey", Tenant(&[API_KEYS_MANAGE])),
    ("revokeApiKey", Tenant(&[API_KEYS_MANAGE])),
    ("createTeam", Tenant(&[TEAMS_MANAGE])),
    ("updateTeam", TeamManager),
    ("deleteTeam", Tenant(&[TEAMS_MANAGE])),
    ("setTeamMember", TeamManager),
    ("removeTeamMember", TeamManager),
    // Mutation: secrets and workflows
    ("createSecret", Tenant(&[SECRET_MANAGE])),
    ("updateSecret", Tenant(&[SECRET_MANAGE])),
    ("deleteSecret", Tenant(&[SECRET_MANAGE])),
    ("setEnvironmentVariable", Tenant(&[SECRET_MANAGE])),
    ("deleteEnvironmentVariable", Tenant(&[SECRET_MANAGE])),
    ("createWorkflow", Tenant(&[WORKFLOW_EDIT])),
    ("updateWorkflow", Tenant(&[WORKFLOW_EDIT])),
    ("duplicateWorkflow", Tenant(&[WORKFLOW_READ, WORKFLOW_EDIT])),
    ("archiveWorkflow", Tenant(&[WORKFLOW_EDIT])),
    ("restoreWorkflow", Tenant(&[WORKFLOW_EDIT])),
    ("deleteWorkflow", Tenant(&[WORKFLOW_EDIT])),
    ("saveWorkflowGraph", Tenant(&[WORKFLOW_EDIT])),
    ("addNode", Tenant(&[WORKFLOW_EDIT])),
    ("updateNode", Tenant(&[WORKFLOW_EDIT])),
    ("removeNode", Tenant(&[WORKFLOW_EDIT])),
    ("connectNodes", Tenant(&[WORKFLOW_EDIT])),
    ("disconnect", Tenant(&[WORKFLOW_EDIT])),
    ("publishWorkflowVersion", Tenant(&[WORKFLOW_EDIT])),
    ("rotateWorkflowWebhook", Tenant(&[WORKFLOW_EDIT])),
    ("executeWorkflow", Tenant(&[WORKFLOW_EXECUTE])),
    ("cancelExecution", Tenant(&[WORKFLOW_EXECUTE])),
    ("retryExecution", Tenant(&[WORKFLOW_EXECUTE])),
    ("saveWorkflowAsTemplate", Tenant(&[WORKFLOW_EDIT])),
    ("deleteWorkflowTemplate", Tenant(&[WORKFLOW_EDIT])),
    ("createWorkflowFromTemplate", Tenant(&[WORKFLOW_READ, WORKFLOW_EDIT])),
    // Mutation: billing
    ("changePlan", Tenant(&[BILLING_MANAGE])),
    ("startCheckout", Tenant(&[BILLING_MANAGE])),
    ("startPaymentMethodUpdate", Tenant(&[BILLING_MANAGE])),
    ("cancelSubscription", Tenant(&[BILLING_MANAGE])),
    ("resumeSubscription", Tenant(&[BILLING_MANAGE])),
    ("updateBillingSettings", Tenant(&[BILLING_MANAGE])),
    ("voidInvoice", Tenant(&[BILLING_MANAGE])),
    ("markInvoicePaid", PlatformAdmin),
    // Mutation: data collection. The catalog is the platform administrators'; inside a
    // project the project role decides (capped at VIEWER without PROJECTS_MANAGE) and the
    // fixture makes every member an owner of its project, so the tenant rule is exact here.
    ("createCollectionPlatform", PlatformAdmin),
    ("createPlatformService", PlatformAdmin),
    ("setPlatformServicesEnabled", PlatformAdmin),
    ("setCollectorGrant", PlatformAdmin),
    ("setBrightDataCredentials", PlatformAdmin),
    ("validateBrightDataCredentials", PlatformAdmin),
    ("testPlatformService", PlatformAdmin),
    ("createProject", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("updateProject", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("deleteProject", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("setProjectMember", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("removeProjectMember", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("createCollectionFolder", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("updateCollectionFolder", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("deleteCollectionFolder", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("moveCollectedRecords", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("copyCollectedRecords", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("startCollectionJob", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("cancelCollectionJob", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("setCollectionJobSchedule", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    // "Run now" is the organisation's collection administrators'.
    ("runCollectionJobNow", Tenant(&[COLLECTION_READ, COLLECTION_MANAGE])),
    ("createSavedSearch", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("updateSavedSearch", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    ("deleteSavedSearch", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    // Exporting reads the records (project viewers); importing writes them (editors).
    ("startRecordExport", Tenant(&[COLLECTION_READ])),
    ("importRecords", Tenant(&[COLLECTION_READ, PROJECTS_MANAGE])),
    // Mutation: webhooks
    ("createWebhookEndpoint", Tenant(&[WEBHOOKS_MANAGE])),
    ("updateWebhookEndpoint", Tenant(&[WEBHOOKS_MANAGE])),
    ("deleteWebhookEndpoint", Tenant(&[WEBHOOKS_MANAGE])),
    ("rotateWebhookEndpointSecret", Tenant(&[WEBHOOKS_MANAGE])),
    ("sendTestWebhookEvent", Tenant(&[WEBHOOKS_MANAGE])),
    ("replayWebhookDelivery", Tenant(&[WEBHOOKS_MANAGE])),
    ("refundInvoice", Tenant(&[BILLING_MANAGE])),
    // Mutation: studio. Writing needs the permission and a team role of owner or editor, or
    // DOCUMENTS_MANAGE (`studio::service::require_team_edit`); the fixture's document is in
    // the sweep team, of which `member` is an owner, so for the sweep's callers the rule is
    // the permission alone.
    ("createDocument", Tenant(&[DOCUMENTS_WRITE])),
    ("updateDocument", Tenant(&[DOCUMENTS_WRITE])),
    ("deleteDocument", Tenant(&[DOCUMENTS_MANAGE])),
    ("addPage", Tenant(&[DOCUMENTS_WRITE])),
    ("updatePage", Tenant(&[DOCUMENTS_WRITE])),
    ("movePage", Tenant(&[DOCUMENTS_WRITE])),
    ("duplicatePage", Tenant(&[DOCUMENTS_WRITE])),
    ("deletePage", Tenant(&[DOCUMENTS_WRITE])),
    ("addSection", Tenant(&[DOCUMENTS_WRITE])),
    ("updateSection", Tenant(&[DOCUMENTS_WRITE])),
    ("moveSection", Tenant(&[DOCUMENTS_WRITE])),
    ("duplicateSection", Tenant(&[DOCUMENTS_WRITE])),
    ("deleteSection", Tenant(&[DOCUMENTS_WRITE])),
    ("publishDocument", Tenant(&[DOCUMENTS_PUBLISH])),
    ("restoreDocumentVersion", Tenant(&[DOCUMENTS_PUBLISH])),
    ("acquireSectionLock", Tenant(&[DOCUMENTS_WRITE])),
    ("renewSectionLock", Tenant(&[DOCUMENTS_WRITE])),
    ("releaseSectionLock", Tenant(&[DOCUMENTS_WRITE])),
    // The document's creator (the fixture's owner, who holds it anyway) or DOCUMENTS_MANAGE.
    ("forceReleaseSectionLock", Tenant(&[DOCUMENTS_MANAGE])),
    // Presence: reading the document is enough (`studio::presence`); users only.
    ("updatePresence", Tenant(&[DOCUMENTS_READ])),
    // Mutation: resources (the uploads are sent as GraphQL multipart requests)
    ("uploadResource", Tenant(&[RESOURCES_WRITE])),
    ("uploadResourceVersion", Tenant(&[RESOURCES_WRITE])),
    ("updateResource", Tenant(&[RESOURCES_WRITE])),
    ("deleteResource", Tenant(&[RESOURCES_DELETE])),
    ("restoreResource", Tenant(&[RESOURCES_DELETE])),
    ("purgeResource", Tenant(&[RESOURCES_DELETE])),
    ("createResourceShareLink", Tenant(&[RESOURCES_SHARE])),
    ("revokeResourceShareLink", Tenant(&[RESOURCES_SHARE])),
    // Mutation: infrastructure (every change needs INFRASTRUCTURE_MANAGE, checked in the
    // service before anything is read or sent to a provider).
    ("connectCloudProvider", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("validateCloudProvider", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("removeCloudProvider", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("createServer", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("deleteServer", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("serverAction", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("openServerConsole", Tenant(&[INFRASTRUCTURE_CONSOLE])),
    ("revealRootPassword", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("createVolume", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("attachVolume", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("detachVolume", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("resizeVolume", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("deleteVolume", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("createSnapshot", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("deleteSnapshot", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("createFloatingIp", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("assignFloatingIp", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("unassignFloatingIp", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("setFloatingIpReverseDns", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("deleteFloatingIp", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("createNetwork", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("updateNetwork", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("deleteNetwork", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("createFirewall", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("updateFirewall", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("deleteFirewall", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("createLoadBalancer", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("updateLoadBalancer", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("deleteLoadBalancer", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("createDnsZone", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("upsertDnsRecord", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("deleteDnsRecord", Tenant(&[INFRASTRUCTURE_MANAGE])),
    ("platformSecurityEvents", PlatformAdmin),
    // The admin API: platform roles only, never an organisation's owner.
    ("admin", PlatformAdmin),
    ("adminGrantPlatformRole", PlatformAdmin),
    ("adminRevokePlatformRole", PlatformAdmin),
    ("adminSuspendTenant", PlatformAdmin),
    ("adminCreateOrganisation", PlatformAdmin),
    ("adminSetOrganisationLimits", PlatformAdmin),
    ("adminReactivateTenant", PlatformAdmin),
    ("adminDeleteTenant", PlatformAdmin),
    ("adminCancelTenantDeletion", PlatformAdmin),
    ("adminRetryJob", PlatformAdmin),
    ("adminCancelJob", PlatformAdmin),
    // Developer mode: operators start and end sessions; the organisation answers for itself.
    ("adminStartSupportSession", PlatformAdmin),
    ("adminEndSupportSession", PlatformAdmin),
    ("approveSupportSession", Tenant(&[TENANT_UPDATE])),
    ("denySupportSession", Tenant(&[TENANT_UPDATE])),
    ("endSupportSession", Tenant(&[TENANT_UPDATE])),
    ("setSupportAccessApproval", Tenant(&[TENANT_UPDATE])),
    // Feature flags: the platform operators' (support reads, super admins change).
    ("featureFlags", PlatformAdmin),
    ("createFeatureFlag", PlatformAdmin),
    ("updateFeatureFlag", PlatformAdmin),
    ("deleteFeatureFlag", PlatformAdmin),
    // Subscription (users only; checked when the subscription starts)
    ("tenantEvents", Tenant(&[TENANT_READ])),
    ("auditLogAdded", Tenant(&[AUDIT_READ])),
    ("executionUpdated", Tenant(&[WORKFLOW_READ])),
    ("workflowExecutions", Tenant(&[WORKFLOW_READ])),
    ("executionLogs", Tenant(&[WORKFLOW_READ])),
    ("billingEvents", Tenant(&[BILLING_READ])),
    ("usageUpdated", Tenant(&[BILLING_READ])),
    ("documentEvents", Tenant(&[DOCUMENTS_READ])),
    ("notificationAdded", SignedIn),
    ("documentPresence", Tenant(&[DOCUMENTS_READ])),
    ("collectionJobUpdated", Tenant(&[COLLECTION_READ])),
    ("recordExportUpdated", Tenant(&[COLLECTION_READ])),
    ("infrastructureActionUpdated", Tenant(&[INFRASTRUCTURE_READ])),
    ("cloudResourceChanged", Tenant(&[INFRASTRUCTURE_READ])),
];

/// Guarded fields below the root, as `Type.field`.
pub(super) const NESTED: &[(&str, Rule, Scope)] = &[
    ("Viewer.permissions", Tenant(&[]), Scope::Arg), // NOT_FOUND unless a member of `tenantId`
    ("Viewer.notificationSettings", Tenant(&[]), Scope::Arg), // with `organisationId`: a member
    ("Tenant.viewerRole", Tenant(&[]), Scope::Ctx),
    ("Tenant.viewerPermissions", Tenant(&[]), Scope::Ctx),
    ("Tenant.members", Tenant(&[MEMBERS_READ]), Scope::Ctx),
    ("Tenant.invitations", Tenant(&[MEMBERS_MANAGE]), Scope::Ctx),
    ("Tenant.permissionMatrix", Tenant(&[TENANT_READ]), Scope::Ctx),
    ("Tenant.teams", Tenant(&[TENANT_READ]), Scope::Ctx),
    ("Tenant.roles", Tenant(&[TENANT_READ]), Scope::Ctx),
    ("Tenant.workflows", Tenant(&[WORKFLOW_READ]), Scope::Ctx),
    ("Tenant.secrets", TenantAny(&[WORKFLOW_READ, SECRET_MANAGE]), Scope::Ctx),
    ("Tenant.environmentVariables", Tenant(&[WORKFLOW_READ]), Scope::Ctx),
    ("Tenant.apiKeys", Tenant(&[API_KEYS_MANAGE]), Scope::Ctx),
    ("Tenant.auditLog", Tenant(&[AUDIT_READ]), Scope::Ctx),
    ("Tenant.supportSessions", Tenant(&[AUDIT_READ]), Scope::Ctx),
    ("Tenant.supportRequiresApproval", Tenant(&[TENANT_READ]), Scope::Ctx),
    ("Tenant.subscription", Tenant(&[BILLING_READ]), Scope::Ctx),
    ("Tenant.billingAccount", Tenant(&[BILLING_READ]), Scope::Ctx),
    ("Tenant.usage", Tenant(&[BILLING_READ]), Scope::Ctx),
    ("Tenant.usageHistory", Tenant(&[BILLING_READ]), Scope::Ctx),
    ("Tenant.invoices", Tenant(&[BILLING_READ]), Scope::Ctx),
    ("Tenant.webhookEndpoints", Tenant(&[WEBHOOKS_MANAGE]), Scope::Ctx),
    ("Tenant.documents", Tenant(&[DOCUMENTS_READ]), Scope::Ctx),
    ("Tenant.resources", Tenant(&[RESOURCES_READ]), Scope::Ctx),
    ("Resource.shareLinks", Tenant(&[RESOURCES_SHARE]), Scope::Ctx),
    ("Tenant.availableCollectors", Tenant(&[COLLECTION_READ]), Scope::Ctx),
    ("Tenant.projects", Tenant(&[COLLECTION_READ]), Scope::Ctx),
    ("Tenant.cloudProviders", Tenant(&[INFRASTRUCTURE_READ]), Scope::Ctx),
    ("Tenant.servers", Tenant(&[INFRASTRUCTURE_READ]), Scope::Ctx),
    ("Tenant.volumes", Tenant(&[INFRASTRUCTURE_READ]), Scope::Ctx),
    ("Tenant.snapshots", Tenant(&[INFRASTRUCTURE_READ]), Scope::Ctx),
    ("Tenant.floatingIps", Tenant(&[INFRASTRUCTURE_READ]), Scope::Ctx),
    ("Tenant.networks", Tenant(&[INFRASTRUCTURE_READ]), Scope::Ctx),
    ("Tenant.firewalls", Tenant(&[INFRASTRUCTURE_READ]), Scope::Ctx),
    ("Tenant.loadBalancers", Tenant(&[INFRASTRUCTURE_READ]), Scope::Ctx),
    ("Tenant.dnsZones", Tenant(&[INFRASTRUCTURE_READ]), Scope::Ctx),
    ("Tenant.infrastructureActions", Tenant(&[INFRASTRUCTURE_READ]), Scope::Ctx),
    ("TenantEvent.tenant", Tenant(&[TENANT_READ]), Scope::Ctx),
    ("TenantEvent.membership", Tenant(&[MEMBERS_READ]), Scope::Ctx),
    ("Team.members", Tenant(&[MEMBERS_READ]), Scope::Ctx),
    ("TeamMember.membership", Tenant(&[MEMBERS_READ]), Scope::Ctx), // one's own: always
    // Other people's addresses (the fixture's lists always hold someone else); one's own
    // address is always visible.
    ("User.email", Tenant(&[MEMBERS_MANAGE]), Scope::Ctx),
    ("Secret.accessLog", Tenant(&[SECRET_MANAGE]), Scope::Ctx),
    ("Workflow.webhookUrl", Tenant(&[WORKFLOW_EDIT]), Scope::Ctx),
    ("Workflow.versions", Tenant(&[WORKFLOW_READ]), Scope::Ctx),
    ("Workflow.executions", Tenant(&[WORKFLOW_READ]), Scope::Ctx),
    ("Execution.nodes", Tenant(&[WORKFLOW_READ]), Scope::Ctx),
    ("Execution.logs", Tenant(&[WORKFLOW_READ]), Scope::Ctx),
];

/// Documents the sweep cannot run, with the reason. None so far: only refused calls of
/// mutations are made, and every refusal comes before any one-time token is looked at.
pub(super) const EXCLUDED: &[(&str, &str)] = &[];

/// Values that must be specific to reach the permission check, by document.
pub(super) fn overrides(doc: &str) -> Vec<(&'static str, Value)> {
    match doc {
        // The access log is the guarded part of this document.
        "secrets/Secrets" => vec![("withAccessLog", json!(true))],
        // Share links are the guarded part of this document.
        "resources/Resource" => vec![("withShareLinks", json!(true))],
        _ => vec![],
    }
}

/// The built-in roles.
pub(super) const BUILT_IN_ROLES: [&str; 4] = ["owner", "admin", "member", "viewer"];

/// What the README's "Permission catalog" table grants each built-in role, as
/// `(role, permission)` pairs of the enum names it lists (`TENANT_READ`); and every
/// permission it lists.
pub(super) fn readme_catalog() -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("### Permission catalog")
        .nth(1)
        .expect("the README has a \"Permission catalog\" section");
    let mut grants = BTreeSet::new();
    let mut listed = BTreeSet::new();
    // | permission | key | owner | admin | member | viewer | what it allows |
    for line in section.lines().skip_while(|l| !l.starts_with('|')).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(name) = cells.get(1).and_then(|c| c.strip_prefix('`')).and_then(|c| c.strip_suffix('`'))
        else {
            continue;
        };
        listed.insert(name.to_string());
        for (i, role) in BUILT_IN_ROLES.iter().enumerate() {
            if cells.get(3 + i) == Some(&"✓") {
                grants.insert((role.to_string(), name.to_string()));
            }
        }
    }
    (grants, listed)
}
