//! Typed operations: one struct per document under `graphql/` (the files the web app uses),
//! whose variables and response types graphql_client generates at build time from the
//! document and the committed SDL (`schema/schema.graphql`). `app.op::<CreateTeam>(…)` sends
//! the document and decodes the answer into `create_team::ResponseData`.
//!
//! A document that stops matching the schema, or a response type a test relies on that a
//! document no longer selects, fails to compile here instead of at a `["field"]` lookup.

#![allow(clippy::upper_case_acronyms, dead_code)]

use graphql_client::GraphQLQuery;

// The SDL's custom scalars (`scalar …` in schema/schema.graphql), as the wire carries them.
/// RFC 3339 date and time.
pub type DateTime = String;
/// An e-mail address.
pub type Email = String;
/// Any JSON value.
pub type JSON = serde_json::Value;
/// A UUID in its hyphenated form.
pub type UUID = String;

/// A document's text, for sending it with hand-written JSON variables.
pub trait Document: GraphQLQuery {
    const TEXT: &'static str;
}

/// One `GraphQLQuery` struct per document; its module (`create_team` for `CreateTeam`)
/// holds `Variables`, `ResponseData` and the input, enum and selection types.
macro_rules! documents {
    ($($name:ident = $path:tt;)*) => {$(
        #[derive(GraphQLQuery)]
        #[graphql(
            schema_path = "schema/schema.graphql",
            query_path = $path,
            response_derives = "Debug, Clone, PartialEq, Serialize",
            variables_derives = "Debug, Clone",
            skip_serializing_none
        )]
        pub struct $name;

        impl Document for $name {
            const TEXT: &'static str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path));
        }
    )*};
}

documents! {
    CreateApiKey = "graphql/api_keys/CreateApiKey.graphql";
    RevokeApiKey = "graphql/api_keys/RevokeApiKey.graphql";
    TenantApiKeys = "graphql/api_keys/TenantApiKeys.graphql";
    AuditLogAdded = "graphql/audit/AuditLogAdded.graphql";
    AuditLogPage = "graphql/audit/AuditLogPage.graphql";
    TenantAuditLog = "graphql/audit/TenantAuditLog.graphql";
    BillingEvents = "graphql/billing/BillingEvents.graphql";
    CancelSubscription = "graphql/billing/CancelSubscription.graphql";
    ChangePlan = "graphql/billing/ChangePlan.graphql";
    MarkInvoicePaid = "graphql/billing/MarkInvoicePaid.graphql";
    MyOrganisationsBilling = "graphql/billing/MyOrganisationsBilling.graphql";
    PaymentProviders = "graphql/billing/PaymentProviders.graphql";
    Plans = "graphql/billing/Plans.graphql";
    PreviewPlanChange = "graphql/billing/PreviewPlanChange.graphql";
    RefundInvoice = "graphql/billing/RefundInvoice.graphql";
    ResumeSubscription = "graphql/billing/ResumeSubscription.graphql";
    StartCheckout = "graphql/billing/StartCheckout.graphql";
    StartPaymentMethodUpdate = "graphql/billing/StartPaymentMethodUpdate.graphql";
    TenantBilling = "graphql/billing/TenantBilling.graphql";
    UpdateBillingSettings = "graphql/billing/UpdateBillingSettings.graphql";
    UsageHistory = "graphql/billing/UsageHistory.graphql";
    VoidInvoice = "graphql/billing/VoidInvoice.graphql";
    UsageUpdated = "graphql/billing/UsageUpdated.graphql";
    CreateFeatureFlag = "graphql/flags/CreateFeatureFlag.graphql";
    DeleteFeatureFlag = "graphql/flags/DeleteFeatureFlag.graphql";
    FeatureFlags = "graphql/flags/FeatureFlags.graphql";
    MyOrganisationsFlags = "graphql/flags/MyOrganisationsFlags.graphql";
    TenantFeatures = "graphql/flags/TenantFeatures.graphql";
    UpdateFeatureFlag = "graphql/flags/UpdateFeatureFlag.graphql";
    ChangePassword = "graphql/identity/ChangePassword.graphql";
    LogIn = "graphql/identity/LogIn.graphql";
    LogOut = "graphql/identity/LogOut.graphql";
    RefreshSession = "graphql/identity/RefreshSession.graphql";
    RequestPasswordReset = "graphql/identity/RequestPasswordReset.graphql";
    ResendVerification = "graphql/identity/ResendVerification.graphql";
    ResetPassword = "graphql/identity/ResetPassword.graphql";
    SetActiveTenant = "graphql/identity/SetActiveTenant.graphql";
    SignUp = "graphql/identity/SignUp.graphql";
    UpdatePreferences = "graphql/identity/UpdatePreferences.graphql";
    MarkNotificationsRead = "graphql/notifications/MarkNotificationsRead.graphql";
    NotificationAdded = "graphql/notifications/NotificationAdded.graphql";
    NotificationSettings = "graphql/notifications/NotificationSettings.graphql";
    UnreadNotificationCount = "graphql/notifications/UnreadNotificationCount.graphql";
    UpdateNotificationSettings = "graphql/notifications/UpdateNotificationSettings.graphql";
    ViewerNotifications = "graphql/notifications/ViewerNotifications.graphql";
    AcceptPolicies = "graphql/privacy/AcceptPolicies.graphql";
    CancelAccountDeletion = "graphql/privacy/CancelAccountDeletion.graphql";
    Policies = "graphql/privacy/Policies.graphql";
    PoliciesToAccept = "graphql/privacy/PoliciesToAccept.graphql";
    RequestDataExport = "graphql/privacy/RequestDataExport.graphql";
    ScheduleAccountDeletion = "graphql/privacy/ScheduleAccountDeletion.graphql";
    ViewerPrivacy = "graphql/privacy/ViewerPrivacy.graphql";
    UpdateProfile = "graphql/identity/UpdateProfile.graphql";
    VerifyEmail = "graphql/identity/VerifyEmail.graphql";
    Viewer = "graphql/identity/Viewer.graphql";
    ViewerAccount = "graphql/identity/ViewerAccount.graphql";
    AcceptInvitation = "graphql/members/AcceptInvitation.graphql";
    ChangeMemberRole = "graphql/members/ChangeMemberRole.graphql";
    InvitationPreview = "graphql/members/InvitationPreview.graphql";
    InviteMember = "graphql/members/InviteMember.graphql";
    JoinOrganisation = "graphql/members/JoinOrganisation.graphql";
    ReactivateMember = "graphql/members/ReactivateMember.graphql";
    RemoveMember = "graphql/members/RemoveMember.graphql";
    ResendInvitation = "graphql/members/ResendInvitation.graphql";
    RevokeInvitation = "graphql/members/RevokeInvitation.graphql";
    SuspendMember = "graphql/members/SuspendMember.graphql";
    TenantInvitations = "graphql/members/TenantInvitations.graphql";
    TenantMembers = "graphql/members/TenantMembers.graphql";
    Node = "graphql/relay/Node.graphql";
    Nodes = "graphql/relay/Nodes.graphql";
    CreateRole = "graphql/roles/CreateRole.graphql";
    DeleteRole = "graphql/roles/DeleteRole.graphql";
    PermissionMatrix = "graphql/roles/PermissionMatrix.graphql";
    Permissions = "graphql/roles/Permissions.graphql";
    SetRolePermissions = "graphql/roles/SetRolePermissions.graphql";
    TenantRoles = "graphql/roles/TenantRoles.graphql";
    UpdateRole = "graphql/roles/UpdateRole.graphql";
    ViewerPermissions = "graphql/roles/ViewerPermissions.graphql";
    CreateSecret = "graphql/secrets/CreateSecret.graphql";
    DeleteEnvironmentVariable = "graphql/secrets/DeleteEnvironmentVariable.graphql";
    DeleteSecret = "graphql/secrets/DeleteSecret.graphql";
    Secrets = "graphql/secrets/Secrets.graphql";
    SetEnvironmentVariable = "graphql/secrets/SetEnvironmentVariable.graphql";
    UpdateSecret = "graphql/secrets/UpdateSecret.graphql";
    CompleteMfaChallenge = "graphql/security/CompleteMfaChallenge.graphql";
    CompleteOAuthLink = "graphql/security/CompleteOAuthLink.graphql";
    ConfirmTotpEnrollment = "graphql/security/ConfirmTotpEnrollment.graphql";
    DisableTotp = "graphql/security/DisableTotp.graphql";
    ExchangeOAuthCode = "graphql/security/ExchangeOAuthCode.graphql";
    LinkOAuthAccount = "graphql/security/LinkOAuthAccount.graphql";
    OAuthProviders = "graphql/security/OAuthProviders.graphql";
    OAuthSignIn = "graphql/security/OAuthSignIn.graphql";
    RegenerateBackupCodes = "graphql/security/RegenerateBackupCodes.graphql";
    RevokeOtherSessions = "graphql/security/RevokeOtherSessions.graphql";
    RevokeSession = "graphql/security/RevokeSession.graphql";
    StartTotpEnrollment = "graphql/security/StartTotpEnrollment.graphql";
    UnlinkOAuthAccount = "graphql/security/UnlinkOAuthAccount.graphql";
    UnlockAccount = "graphql/security/UnlockAccount.graphql";
    PlatformSecurityEvents = "graphql/security/PlatformSecurityEvents.graphql";
    ViewerSecurity = "graphql/security/ViewerSecurity.graphql";
    DocumentPresence = "graphql/studio/DocumentPresence.graphql";
    UpdatePresence = "graphql/studio/UpdatePresence.graphql";
    CreateTeam = "graphql/teams/CreateTeam.graphql";
    DeleteTeam = "graphql/teams/DeleteTeam.graphql";
    RemoveTeamMember = "graphql/teams/RemoveTeamMember.graphql";
    SetTeamMember = "graphql/teams/SetTeamMember.graphql";
    TenantTeams = "graphql/teams/TenantTeams.graphql";
    TenantTeamNames = "graphql/teams/TenantTeamNames.graphql";
    UpdateTeam = "graphql/teams/UpdateTeam.graphql";
    CreateTenant = "graphql/tenancy/CreateTenant.graphql";
    DeleteTenant = "graphql/tenancy/DeleteTenant.graphql";
    CancelTenantDeletion = "graphql/tenancy/CancelTenantDeletion.graphql";
    MyOrganisations = "graphql/tenancy/MyOrganisations.graphql";
    ReactivateTenant = "graphql/tenancy/ReactivateTenant.graphql";
    SuspendTenant = "graphql/tenancy/SuspendTenant.graphql";
    Tenant = "graphql/tenancy/Tenant.graphql";
    TenantBySlug = "graphql/tenancy/TenantBySlug.graphql";
    TenantEvents = "graphql/tenancy/TenantEvents.graphql";
    TenantSettings = "graphql/tenancy/TenantSettings.graphql";
    UpdateTenant = "graphql/tenancy/UpdateTenant.graphql";
    UpdateTenantSettings = "graphql/tenancy/UpdateTenantSettings.graphql";
    AddNode = "graphql/workflows/AddNode.graphql";
    ArchiveWorkflow = "graphql/workflows/ArchiveWorkflow.graphql";
    CancelExecution = "graphql/workflows/CancelExecution.graphql";
    ConnectNodes = "graphql/workflows/ConnectNodes.graphql";
    CreateWorkflow = "graphql/workflows/CreateWorkflow.graphql";
    CreateWorkflowFromTemplate = "graphql/workflows/CreateWorkflowFromTemplate.graphql";
    DeleteWorkflow = "graphql/workflows/DeleteWorkflow.graphql";
    DeleteWorkflowTemplate = "graphql/workflows/DeleteWorkflowTemplate.graphql";
    Disconnect = "graphql/workflows/Disconnect.graphql";
    DuplicateWorkflow = "graphql/workflows/DuplicateWorkflow.graphql";
    ExecuteWorkflow = "graphql/workflows/ExecuteWorkflow.graphql";
    Execution = "graphql/workflows/Execution.graphql";
    ExecutionLogs = "graphql/workflows/ExecutionLogs.graphql";
    ExecutionUpdated = "graphql/workflows/ExecutionUpdated.graphql";
    ExecutionView = "graphql/workflows/ExecutionView.graphql";
    NodeTypes = "graphql/workflows/NodeTypes.graphql";
    PublishWorkflowVersion = "graphql/workflows/PublishWorkflowVersion.graphql";
    RemoveNode = "graphql/workflows/RemoveNode.graphql";
    RestoreWorkflow = "graphql/workflows/RestoreWorkflow.graphql";
    RetryExecution = "graphql/workflows/RetryExecution.graphql";
    RotateWorkflowWebhook = "graphql/workflows/RotateWorkflowWebhook.graphql";
    SaveCanvas = "graphql/workflows/SaveCanvas.graphql";
    SaveWorkflowAsTemplate = "graphql/workflows/SaveWorkflowAsTemplate.graphql";
    SaveWorkflowGraph = "graphql/workflows/SaveWorkflowGraph.graphql";
    UpdateNode = "graphql/workflows/UpdateNode.graphql";
    UpdateWorkflow = "graphql/workflows/UpdateWorkflow.graphql";
    ValidateWorkflow = "graphql/workflows/ValidateWorkflow.graphql";
    Workflow = "graphql/workflows/Workflow.graphql";
    WorkflowBuilder = "graphql/workflows/WorkflowBuilder.graphql";
    WorkflowExecutions = "graphql/workflows/WorkflowExecutions.graphql";
    WorkflowExecutionsUpdated = "graphql/workflows/WorkflowExecutionsUpdated.graphql";
    WorkflowTemplates = "graphql/workflows/WorkflowTemplates.graphql";
    WorkflowWebhook = "graphql/workflows/WorkflowWebhook.graphql";
    Workflows = "graphql/workflows/Workflows.graphql";
    CreateWebhookEndpoint = "graphql/webhooks/CreateWebhookEndpoint.graphql";
    DeleteWebhookEndpoint = "graphql/webhooks/DeleteWebhookEndpoint.graphql";
    ReplayWebhookDelivery = "graphql/webhooks/ReplayWebhookDelivery.graphql";
    RotateWebhookEndpointSecret = "graphql/webhooks/RotateWebhookEndpointSecret.graphql";
    SendTestWebhookEvent = "graphql/webhooks/SendTestWebhookEvent.graphql";
    TenantWebhookEndpoints = "graphql/webhooks/TenantWebhookEndpoints.graphql";
    UpdateWebhookEndpoint = "graphql/webhooks/UpdateWebhookEndpoint.graphql";
    WebhookEventTypes = "graphql/webhooks/WebhookEventTypes.graphql";
}
