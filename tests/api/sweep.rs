//! The permission sweep: every operation document under `graphql/`, discovered at run time,
//! run as anonymous, as the owner of another organisation holding the first one's IDs, and
//! as each built-in role of that organisation. Each answer must be exactly what the access
//! table below (read off the resolvers and services) and the permission catalog (README)
//! say — UNAUTHENTICATED, NOT_FOUND (never FORBIDDEN: that would tell an outsider the object
//! exists), FORBIDDEN at the guarded path (partial data around it is fine), or, for a caller
//! who may, no error at all (a document that does not run proves nothing) — and none of the
//! refused attempts may change the organisation.
//!
//! Queries and subscriptions are sent by every caller; a mutation only by the callers its
//! root refuses (allowed ones would change the fixture; each module's tests cover them), so
//! public mutations (sign-up, log-in, token redemptions) are never sent.
//!
//! A new document is swept without any edit here. A root field without a document or an
//! access rule fails `every_root_field_has_a_document_and_an_access_rule`, as does a
//! variable the generator cannot fill (a new kind of ID), naming the document and variable.
//! `ZYGO_SWEEP_VERBOSE=1` lists every check with the errors it got.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    path::Path,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use async_graphql::{
    Value as ConstValue,
    parser::{
        parse_query, parse_schema,
        types::{
            BaseType, Directive, ExecutableDocument, FieldDefinition, OperationDefinition, OperationType,
            Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
        },
    },
};
use base64::Engine as _;
use futures::future::join_all;
use serde_json::{Map, Value, json};

use crate::{doc, helpers::*};

// ---------------------------------------------------------------------------------------
// The permission catalog (README, "Permission catalog") and the callers.
// ---------------------------------------------------------------------------------------

const TENANT_READ: &str = "TENANT_READ";
const TENANT_UPDATE: &str = "TENANT_UPDATE";
const TENANT_DELETE: &str = "TENANT_DELETE";
const MEMBERS_READ: &str = "MEMBERS_READ";
const MEMBERS_MANAGE: &str = "MEMBERS_MANAGE";
const ROLES_MANAGE: &str = "ROLES_MANAGE";
const AUDIT_READ: &str = "AUDIT_READ";
const API_KEYS_MANAGE: &str = "API_KEYS_MANAGE";
const TEAMS_MANAGE: &str = "TEAMS_MANAGE";
const WORKFLOW_READ: &str = "WORKFLOW_READ";
const WORKFLOW_EDIT: &str = "WORKFLOW_EDIT";
const WORKFLOW_EXECUTE: &str = "WORKFLOW_EXECUTE";
const SECRET_MANAGE: &str = "SECRET_MANAGE";
const BILLING_READ: &str = "BILLING_READ";
const BILLING_MANAGE: &str = "BILLING_MANAGE";

/// What each built-in role holds, as the README's catalog says (checked against the
/// server's permission matrix at the start of the sweep).
const CATALOG: &[(&str, &[&str])] = &[
    (
        "owner",
        &[
            TENANT_READ,
            TENANT_UPDATE,
            TENANT_DELETE,
            MEMBERS_READ,
            MEMBERS_MANAGE,
            ROLES_MANAGE,
            AUDIT_READ,
            API_KEYS_MANAGE,
            TEAMS_MANAGE,
            WORKFLOW_READ,
            WORKFLOW_EDIT,
            WORKFLOW_EXECUTE,
            SECRET_MANAGE,
            BILLING_READ,
            BILLING_MANAGE,
        ],
    ),
    (
        "admin",
        &[
            TENANT_READ,
            TENANT_UPDATE,
            MEMBERS_READ,
            MEMBERS_MANAGE,
            ROLES_MANAGE,
            AUDIT_READ,
            API_KEYS_MANAGE,
            TEAMS_MANAGE,
            WORKFLOW_READ,
            WORKFLOW_EDIT,
            WORKFLOW_EXECUTE,
            SECRET_MANAGE,
            BILLING_READ,
        ],
    ),
    ("member", &[TENANT_READ, MEMBERS_READ, WORKFLOW_READ, WORKFLOW_EDIT, WORKFLOW_EXECUTE]),
    ("viewer", &[TENANT_READ, MEMBERS_READ, WORKFLOW_READ]),
];

/// Rank in the role hierarchy (lower is more powerful); custom roles rank with members.
fn rank(role_key: &str) -> u8 {
    match role_key {
        "owner" => 0,
        "admin" => 1,
        "viewer" => 3,
        _ => 2,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Anonymous,
    /// Owner of organisation B, calling with A's IDs.
    Outsider,
    /// An active member of A with this built-in role.
    Member(&'static str),
}

struct Principal {
    name: &'static str,
    kind: Kind,
    token: Option<String>,
    perms: HashSet<&'static str>,
    /// An owner of the fixture's team (`TeamManager` rules).
    team_owner: bool,
}

impl Principal {
    fn has(&self, p: &str) -> bool {
        self.perms.contains(p)
    }
}

// ---------------------------------------------------------------------------------------
// The access table, read off the code: `rctx.require_principal()` / `rctx.viewer()` (signed
// in), `loaders.tenant_access` / `owned_row` (membership, else NOT_FOUND), `tctx.require(…)`
// and `tctx.has(…)` (FORBIDDEN), `check_owner_confirmation`, `check_manage`, `check_grant`,
// `check_editable` (owner-only and rank checks).
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// The signed-in user acting on themself; anonymous callers get `null` and no error.
    ViewerOrNull,
    /// Any signed-in caller acting on themself; anonymous: UNAUTHENTICATED.
    SignedIn,
    /// An active member of the organisation holding every listed permission (none listed:
    /// membership alone). Anonymous: UNAUTHENTICATED; anyone else: NOT_FOUND.
    Tenant(&'static [&'static str]),
    /// Like `Tenant`, holding at least one of the listed permissions.
    TenantAny(&'static [&'static str]),
    /// Like `Tenant(permission)`, and ranked strictly above the target's role (the fixture
    /// points these at a target whose role is the second field), unless an owner.
    Outranks(&'static str, &'static str),
    /// `TENANT_DELETE` and the owner role ("owners only, slug typed back").
    Owner,
    /// `TEAMS_MANAGE`, or an owner of the team itself (`teams::service::check_manage`).
    TeamManager,
    /// Like `Tenant(permission)`, but an object the caller cannot reach is a `null` entry
    /// without an error (`nodes`).
    HiddenAsNull(&'static str),
    /// A platform administrator (`ZYGO_PLATFORM_ADMINS`; none of the sweep's callers is):
    /// anonymous UNAUTHENTICATED, anyone else FORBIDDEN.
    PlatformAdmin,
}

use Rule::*;

/// Where a rule looks for its organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// The organisation named by the field's arguments: an outsider gets NOT_FOUND.
    Arg,
    /// The organisation of the object the field is on: reached only through a root field
    /// that already checked access (for an outsider, through `viewer` into their own B).
    Ctx,
}

/// Every root field of Query, Mutation and Subscription.
const ROOT: &[(&str, Rule)] = &[
    // Query
    ("node", Tenant(&[TENANT_READ])), // the sweep points it at tenant A: `tenancy::get_tenant`
    ("nodes", HiddenAsNull(TENANT_READ)), // likewise; hidden ones are null (node.rs)
    ("viewer", ViewerOrNull),
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
    ("inviteMember", Outranks(MEMBERS_MANAGE, "sweep-custom")), // check_grant of the role invited to
    ("resendInvitation", Outranks(MEMBERS_MANAGE, "member")),   // check_grant of the invitation's role
    ("revokeInvitation", Tenant(&[MEMBERS_MANAGE])),
    ("acceptInvitation", SignedIn),
    ("changeMemberRole", Outranks(MEMBERS_MANAGE, "member")),
    ("suspendMember", Outranks(MEMBERS_MANAGE, "member")),
    ("reactivateMember", Outranks(MEMBERS_MANAGE, "member")),
    ("removeMember", Outranks(MEMBERS_MANAGE, "member")), // or one's own membership (leaving)
    ("createRole", Tenant(&[ROLES_MANAGE])),
    ("updateRole", Outranks(ROLES_MANAGE, "sweep-custom")), // check_editable
    ("setRolePermissions", Outranks(ROLES_MANAGE, "sweep-custom")),
    ("deleteRole", Outranks(ROLES_MANAGE, "sweep-custom")),
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
    ("cancelSubscription", Tenant(&[BILLING_MANAGE])),
    ("resumeSubscription", Tenant(&[BILLING_MANAGE])),
    ("updateBillingSettings", Tenant(&[BILLING_MANAGE])),
    ("markInvoicePaid", PlatformAdmin),
    // Subscription (users only; checked when the subscription starts)
    ("tenantEvents", Tenant(&[TENANT_READ])),
    ("auditLogAdded", Tenant(&[AUDIT_READ])),
    ("executionUpdated", Tenant(&[WORKFLOW_READ])),
    ("workflowExecutions", Tenant(&[WORKFLOW_READ])),
    ("executionLogs", Tenant(&[WORKFLOW_READ])),
    ("billingEvents", Tenant(&[BILLING_READ])),
    ("usageUpdated", Tenant(&[BILLING_READ])),
];

/// Guarded fields below the root, as `Type.field`.
const NESTED: &[(&str, Rule, Scope)] = &[
    ("Viewer.permissions", Tenant(&[]), Scope::Arg), // NOT_FOUND unless a member of `tenantId`
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
    ("Tenant.subscription", Tenant(&[BILLING_READ]), Scope::Ctx),
    ("Tenant.billingAccount", Tenant(&[BILLING_READ]), Scope::Ctx),
    ("Tenant.usage", Tenant(&[BILLING_READ]), Scope::Ctx),
    ("Tenant.invoices", Tenant(&[BILLING_READ]), Scope::Ctx),
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
const EXCLUDED: &[(&str, &str)] = &[];

/// Values that must be specific to reach the permission check, by document.
fn overrides(doc: &str) -> Vec<(&'static str, Value)> {
    match doc {
        // The access log is the guarded part of this document.
        "secrets/Secrets" => vec![("withAccessLog", json!(true))],
        _ => vec![],
    }
}

// ---------------------------------------------------------------------------------------
// The fixture: what the generated variables point at.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub(crate) struct Fixture {
    pub(crate) tenant: String,
    slug: String,
    /// The built-in `member` role (a filter that still lists other people).
    member_role: String,
    /// A custom role (rank of a member).
    role: String,
    team: String,
    /// A member's membership that none of the callers holds, in the team.
    target_membership: String,
    invitation: String,
    api_key: String,
    secret: String,
    env_var: String,
    pub(crate) workflow: String,
    revision: i64,
    execution: String,
    template: String,
    /// A session of the outsider (`revokeSession` is decoded before the sign-in check).
    session: String,
    /// No provider is configured, so no account is linked: a well-formed ID of nothing.
    connected_account: String,
    /// Marking paid is refused before the lookup: a well-formed ID of nothing.
    invoice: String,
}

fn global_id(ty: &str, id: uuid::Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ty}:{id}"))
}

impl Fixture {
    /// Stand-ins for checking the documents without a server.
    fn placeholder() -> Self {
        let id = |ty: &str| global_id(ty, uuid::Uuid::nil());
        Self {
            tenant: id("Tenant"),
            slug: "placeholder".into(),
            member_role: id("Role"),
            role: id("Role"),
            team: id("Team"),
            target_membership: id("Membership"),
            invitation: id("Invitation"),
            api_key: id("ApiKey"),
            secret: id("Secret"),
            env_var: id("EnvironmentVariable"),
            workflow: id("Workflow"),
            revision: 1,
            execution: id("Execution"),
            template: id("WorkflowTemplate"),
            session: id("Session"),
            connected_account: id("ConnectedAccount"),
            invoice: id("Invoice"),
        }
    }

    /// The fixture object an ID argument or input field named `name` points at, in an
    /// operation whose root field is `root`.
    fn id(&self, root: &str, name: &str) -> Option<String> {
        let v = match name {
            "tenantId" => &self.tenant,
            "invoiceId" => &self.invoice,
            "workflowId" | "errorWorkflowId" => &self.workflow,
            "executionId" => &self.execution,
            "roleId" | "parentId" => &self.role,
            "role" => &self.member_role,
            "teamId" => &self.team,
            "membershipId" => &self.target_membership,
            "secretId" => &self.secret,
            "id" | "ids" => match root {
                "node" | "nodes" | "tenant" | "updateTenant" | "suspendTenant" | "reactivateTenant"
                | "deleteTenant" => &self.tenant,
                "workflow"
                | "validateWorkflow"
                | "updateWorkflow"
                | "duplicateWorkflow"
                | "archiveWorkflow"
                | "restoreWorkflow"
                | "deleteWorkflow"
                | "saveWorkflowGraph"
                | "rotateWorkflowWebhook" => &self.workflow,
                "execution" | "cancelExecution" | "retryExecution" => &self.execution,
                "revokeApiKey" => &self.api_key,
                "updateTeam" | "deleteTeam" => &self.team,
                "updateRole" | "deleteRole" => &self.role,
                "resendInvitation" | "revokeInvitation" => &self.invitation,
                "updateSecret" | "deleteSecret" => &self.secret,
                "deleteEnvironmentVariable" => &self.env_var,
                "deleteWorkflowTemplate" => &self.template,
                "revokeSession" => &self.session,
                "unlinkOAuthAccount" => &self.connected_account,
                _ => return None,
            },
            _ => return None,
        };
        Some(v.clone())
    }

    /// A string argument or input field named `name`.
    fn string(&self, name: &str) -> String {
        match name {
            n if n.to_ascii_lowercase().contains("email") => fresh_email(),
            "password" | "currentPassword" | "newPassword" => PASSWORD.into(),
            "slug" => self.slug.clone(),
            // Wrong on purpose: a refusal must come before the confirmation is compared.
            "confirmSlug" => "not-the-slug".into(),
            "templateId" => self.template.clone(),
            "source" => "start".into(),
            "nodeId" | "target" => "step".into(),
            "edgeId" => "e1".into(),
            "plan" => "pro".into(),
            _ => "sweep".into(),
        }
    }
}

static EMAILS: AtomicUsize = AtomicUsize::new(0);

fn fresh_email() -> String {
    format!("sweep-{}@example.com", EMAILS.fetch_add(1, Ordering::Relaxed))
}

// ---------------------------------------------------------------------------------------
// The schema and the documents.
// ---------------------------------------------------------------------------------------

struct Schema {
    roots: HashMap<&'static str, String>,
    types: HashMap<String, TypeKind>,
    descriptions: HashMap<String, String>,
}

fn type_name(t: &Type) -> &str {
    match &t.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => type_name(inner),
    }
}

fn op_kind(t: OperationType) -> &'static str {
    match t {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

impl Schema {
    fn load() -> Self {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/schema.graphql"))
            .expect("schema/schema.graphql");
        let doc = parse_schema(text).expect("schema/schema.graphql parses");
        let mut roots = HashMap::from([
            ("query", "Query".to_string()),
            ("mutation", "Mutation".to_string()),
            ("subscription", "Subscription".to_string()),
        ]);
        let mut types = HashMap::new();
        let mut descriptions = HashMap::new();
        for def in doc.definitions {
            match def {
                TypeSystemDefinition::Schema(s) => {
                    for (t, n) in [
                        ("query", s.node.query),
                        ("mutation", s.node.mutation),
                        ("subscription", s.node.subscription),
                    ] {
                        if let Some(n) = n {
                            roots.insert(t, n.node.to_string());
                        }
                    }
                }
                TypeSystemDefinition::Type(t) => {
                    let name = t.node.name.node.to_string();
                    if let TypeKind::Object(o) = &t.node.kind {
                        for f in &o.fields {
                            if let Some(d) = &f.node.description {
                                descriptions.insert(format!("{name}.{}", f.node.name.node), d.node.clone());
                            }
                        }
                    }
                    types.insert(name, t.node.kind);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        Self { roots, types, descriptions }
    }

    fn fields(&self, ty: &str) -> &[async_graphql::Positioned<FieldDefinition>] {
        match self.types.get(ty) {
            Some(TypeKind::Object(o)) => &o.fields,
            Some(TypeKind::Interface(i)) => &i.fields,
            _ => &[],
        }
    }

    fn field(&self, ty: &str, name: &str) -> Option<&FieldDefinition> {
        self.fields(ty).iter().map(|f| &f.node).find(|f| f.name.node == name)
    }

    /// `(operation type, field)` of every root field.
    fn root_fields(&self) -> Vec<(OperationType, String)> {
        let mut out = Vec::new();
        for t in [OperationType::Query, OperationType::Mutation, OperationType::Subscription] {
            for f in self.fields(&self.roots[op_kind(t)]) {
                out.push((t, f.node.name.node.to_string()));
            }
        }
        out
    }
}

/// One guarded field a document selects.
#[derive(Clone, Debug)]
struct Guard {
    /// Root field name, or `Type.field`.
    key: String,
    /// Response keys from the root.
    path: Vec<String>,
    rule: Rule,
    scope: Scope,
    /// The nearest guard above this one.
    parent: Option<usize>,
}

/// One operation of one document, ready to send.
struct Operation {
    /// `module/Name` (the file under `graphql/`), plus `#Operation` when a file has several.
    doc: String,
    text: String,
    operation_name: Option<String>,
    kind: OperationType,
    /// Root fields as `(response key, field name)`.
    roots: Vec<(String, String)>,
    guards: Vec<Guard>,
    variables: Map<String, Value>,
}

fn graphql_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            graphql_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "graphql") {
            out.push(p);
        }
    }
}

/// Every operation under `graphql/`, with its guards and variables pointing at `fx`; or the
/// list of problems (unparsable documents, fields not in the schema, root fields without an
/// access rule, variables without a value).
fn load_operations(schema: &Schema, fx: &Fixture) -> Result<Vec<Operation>, Vec<String>> {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/graphql"));
    let mut files = Vec::new();
    graphql_files(root, &mut files);
    let mut ops = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let name = path.strip_prefix(root).unwrap().with_extension("").to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed = match parse_query(&text) {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("{name}: does not parse: {e}"));
                continue;
            }
        };
        let count = parsed.operations.iter().count();
        for (op_name, op) in parsed.operations.iter() {
            let doc = match (count, op_name) {
                (1, _) | (_, None) => name.clone(),
                (_, Some(n)) => format!("{name}#{n}"),
            };
            match operation(schema, fx, &parsed, &op.node, &doc) {
                Ok((roots, guards, variables)) => ops.push(Operation {
                    doc,
                    text: text.clone(),
                    operation_name: if count > 1 { op_name.map(|n| n.to_string()) } else { None },
                    kind: op.node.ty,
                    roots,
                    guards,
                    variables,
                }),
                Err(mut p) => problems.append(&mut p),
            }
        }
    }
    if problems.is_empty() { Ok(ops) } else { Err(problems) }
}

type Analysed = (Vec<(String, String)>, Vec<Guard>, Map<String, Value>);

fn operation(
    schema: &Schema,
    fx: &Fixture,
    doc: &ExecutableDocument,
    op: &OperationDefinition,
    name: &str,
) -> Result<Analysed, Vec<String>> {
    let mut problems = Vec::new();
    let root_type = &schema.roots[op_kind(op.ty)];
    // Root fields (through fragments too), and the variables each one uses.
    let mut roots: Vec<(String, String, HashSet<String>)> = Vec::new();
    collect_roots(doc, &op.selection_set.node, &mut roots);
    // Variables: defaults, then overrides, then generated values for what is required and
    // for every ID (nullable ones included: an ID with no fixture object must be named).
    let mut vars = Map::new();
    let over = overrides(name);
    for vd in &op.variable_definitions {
        let vd = &vd.node;
        let var = vd.name.node.as_str();
        if let Some((_, v)) = over.iter().find(|(k, _)| *k == var) {
            vars.insert(var.into(), v.clone());
            continue;
        }
        if let Some(d) = &vd.default_value {
            vars.insert(var.into(), d.node.clone().into_json().unwrap());
            continue;
        }
        let ty = &vd.var_type.node;
        if ty.nullable && type_name(ty) != "ID" {
            continue;
        }
        let root = roots.iter().find(|r| r.2.contains(var)).map(|r| r.1.as_str()).unwrap_or("");
        match (Gen { schema, fx, root }).value(ty, var) {
            Ok(v) => {
                vars.insert(var.into(), v);
            }
            Err(e) => problems.push(format!("{name}: variable ${var}: {e}")),
        }
    }
    let mut w = Walker { schema, doc, vars: &vars, guards: Vec::new(), problems: Vec::new(), depth: 0 };
    w.walk(&op.selection_set.node, root_type, &[], None, true);
    problems.append(&mut w.problems);
    let guards = w.guards;
    for p in &mut problems {
        if !p.starts_with(name) {
            *p = format!("{name}: {p}");
        }
    }
    if problems.is_empty() {
        Ok((roots.into_iter().map(|(k, f, _)| (k, f)).collect(), guards, vars))
    } else {
        Err(problems)
    }
}

fn collect_roots(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    out: &mut Vec<(String, String, HashSet<String>)>,
) {
    for sel in &set.items {
        match &sel.node {
            Selection::Field(f) => {
                let f = &f.node;
                if f.name.node.starts_with("__") {
                    continue;
                }
                let mut used = HashSet::new();
                field_variables(doc, f, &mut used);
                out.push((f.response_key().node.to_string(), f.name.node.to_string(), used));
            }
            Selection::FragmentSpread(s) => {
                if let Some(frag) = doc.fragments.get(&s.node.fragment_name.node) {
                    collect_roots(doc, &frag.node.selection_set.node, out);
                }
            }
            Selection::InlineFragment(i) => collect_roots(doc, &i.node.selection_set.node, out),
        }
    }
}

/// Records the variables a parser value uses (its type is not nameable from here, but
/// `into_const_with` visits each variable).
macro_rules! record_variables {
    ($value:expr, $out:expr) => {
        let _ = $value.clone().into_const_with(|n| {
            $out.insert(n.to_string());
            Ok::<_, ()>(ConstValue::Null)
        });
    };
}

fn field_variables(
    doc: &ExecutableDocument,
    f: &async_graphql::parser::types::Field,
    out: &mut HashSet<String>,
) {
    for (_, v) in &f.arguments {
        record_variables!(v.node, out);
    }
    set_variables(doc, &f.selection_set.node, out, 0);
}

fn set_variables(doc: &ExecutableDocument, set: &SelectionSet, out: &mut HashSet<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    for sel in &set.items {
        for d in sel.node.directives() {
            for (_, v) in &d.node.arguments {
                record_variables!(v.node, out);
            }
        }
        match &sel.node {
            Selection::Field(f) => {
                for (_, v) in &f.node.arguments {
                    record_variables!(v.node, out);
                }
                set_variables(doc, &f.node.selection_set.node, out, depth + 1);
            }
            Selection::FragmentSpread(s) => {
                if let Some(frag) = doc.fragments.get(&s.node.fragment_name.node) {
                    set_variables(doc, &frag.node.selection_set.node, out, depth + 1);
                }
            }
            Selection::InlineFragment(i) => set_variables(doc, &i.node.selection_set.node, out, depth + 1),
        }
    }
}

/// Walks a selection with the schema's types, recording every guarded field selected.
struct Walker<'a> {
    schema: &'a Schema,
    doc: &'a ExecutableDocument,
    vars: &'a Map<String, Value>,
    guards: Vec<Guard>,
    problems: Vec<String>,
    depth: usize,
}

impl Walker<'_> {
    fn included(&self, directives: &[async_graphql::Positioned<Directive>]) -> bool {
        directives.iter().all(|d| {
            let cond = d.node.get_argument("if").map(|v| {
                let value = v.node.clone().into_const_with(|n| {
                    Ok::<_, ()>(
                        self.vars
                            .get(n.as_str())
                            .and_then(Value::as_bool)
                            .map_or(ConstValue::Null, ConstValue::Boolean),
                    )
                });
                matches!(value, Ok(ConstValue::Boolean(true)))
            });
            match d.node.name.node.as_str() {
                "include" => cond.unwrap_or(true),
                "skip" => !cond.unwrap_or(false),
                _ => true,
            }
        })
    }

    fn walk(&mut self, set: &SelectionSet, ty: &str, path: &[String], parent: Option<usize>, root: bool) {
        self.depth += 1;
        if self.depth > 64 {
            self.problems.push("selection nested too deeply (a fragment cycle?)".into());
            self.depth -= 1;
            return;
        }
        for sel in &set.items {
            if !self.included(sel.node.directives()) {
                continue;
            }
            match &sel.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    let name = f.name.node.as_str();
                    if name.starts_with("__") {
                        continue;
                    }
                    let Some(def) = self.schema.field(ty, name) else {
                        self.problems
                            .push(format!("selects {ty}.{name}, which is not in schema/schema.graphql"));
                        continue;
                    };
                    let mut here = path.to_vec();
                    here.push(f.response_key().node.to_string());
                    let rule = if root {
                        match ROOT.iter().find(|(k, _)| *k == name) {
                            Some((_, r)) => Some((name.to_string(), *r, Scope::Arg)),
                            None => {
                                self.problems
                                    .push(format!("root field `{name}` has no entry in the access table"));
                                None
                            }
                        }
                    } else {
                        let key = format!("{ty}.{name}");
                        NESTED.iter().find(|(k, _, _)| *k == key).map(|(_, r, s)| (key, *r, *s))
                    };
                    let mut below = parent;
                    if let Some((key, rule, scope)) = rule {
                        self.guards.push(Guard { key, path: here.clone(), rule, scope, parent });
                        below = Some(self.guards.len() - 1);
                    }
                    let child = type_name(&def.ty.node).to_string();
                    self.walk(&f.selection_set.node, &child, &here, below, false);
                }
                Selection::FragmentSpread(s) => match self.doc.fragments.get(&s.node.fragment_name.node) {
                    Some(frag) => {
                        let on = frag.node.type_condition.node.on.node.to_string();
                        self.walk(&frag.node.selection_set.node, &on, path, parent, root);
                    }
                    None => self.problems.push(format!("unknown fragment {}", s.node.fragment_name.node)),
                },
                Selection::InlineFragment(i) => {
                    let on = i.node.type_condition.as_ref().map(|c| c.node.on.node.to_string());
                    self.walk(&i.node.selection_set.node, on.as_deref().unwrap_or(ty), path, parent, root);
                }
            }
        }
        self.depth -= 1;
    }
}

/// Builds variable values from their types.
struct Gen<'a> {
    schema: &'a Schema,
    fx: &'a Fixture,
    /// The root field the value is for (names what a bare `id` means).
    root: &'a str,
}

impl Gen<'_> {
    fn value(&self, ty: &Type, name: &str) -> Result<Value, String> {
        match &ty.base {
            BaseType::List(inner) => Ok(json!([self.value(inner, name)?])),
            BaseType::Named(n) => self.named(n.as_str(), name),
        }
    }

    fn named(&self, ty: &str, name: &str) -> Result<Value, String> {
        Ok(match ty {
            "ID" => Value::String(self.fx.id(self.root, name).ok_or_else(|| {
                format!(
                    "no fixture object for the ID `{name}` of `{}`: add one to `Fixture::id`",
                    if self.root.is_empty() { "?" } else { self.root }
                )
            })?),
            "String" => Value::String(self.fx.string(name)),
            "Int" if name == "expectedRevision" => json!(self.fx.revision),
            "Int" => json!(1),
            "Float" => json!(1.0),
            "Boolean" => json!(false),
            "JSON" => json!({}),
            "Email" => json!(fresh_email()),
            "DateTime" => json!("2030-01-01T00:00:00Z"),
            other => match self.schema.types.get(other) {
                Some(TypeKind::Enum(e)) => json!(e.values[0].node.value.node.as_str()),
                Some(TypeKind::InputObject(io)) => {
                    let mut m = Map::new();
                    for f in &io.fields {
                        let f = &f.node;
                        if f.ty.node.nullable || f.default_value.is_some() {
                            continue;
                        }
                        m.insert(f.name.node.to_string(), self.value(&f.ty.node, f.name.node.as_str())?);
                    }
                    Value::Object(m)
                }
                _ => return Err(format!("no value for the type `{other}` of `{name}`: teach `Gen::named`")),
            },
        })
    }
}

// ---------------------------------------------------------------------------------------
// Expectations.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Allow,
    Deny(&'static str),
    /// The field answers `null` without an error.
    Null,
    /// A list whose every entry is `null`, without an error.
    NullEntries,
}

fn verdict(rule: Rule, scope: Scope, p: &Principal) -> Verdict {
    use Verdict::*;
    let role = match p.kind {
        Kind::Anonymous => {
            return match rule {
                Public => Allow,
                ViewerOrNull => Null,
                _ => Deny("UNAUTHENTICATED"),
            };
        }
        Kind::Outsider => {
            return match rule {
                Public | SignedIn | ViewerOrNull => Allow,
                PlatformAdmin => Deny("FORBIDDEN"),
                HiddenAsNull(_) => NullEntries,
                // Reached only through their own organisation (B, which they own).
                _ if scope == Scope::Ctx => Allow,
                _ => Deny("NOT_FOUND"),
            };
        }
        Kind::Member(role) => role,
    };
    let ok = match rule {
        Public | SignedIn | ViewerOrNull => true,
        Tenant(ps) => ps.iter().all(|x| p.has(x)),
        TenantAny(ps) => ps.iter().any(|x| p.has(x)),
        Outranks(perm, target) => p.has(perm) && (role == "owner" || rank(role) < rank(target)),
        Owner => role == "owner" && p.has(TENANT_DELETE),
        TeamManager => p.has(TEAMS_MANAGE) || p.team_owner,
        HiddenAsNull(perm) => p.has(perm),
        PlatformAdmin => false,
    };
    if ok { Allow } else { Deny("FORBIDDEN") }
}

/// The verdict on each guard, and whether it is reached (no guard above it refused).
fn verdicts(op: &Operation, p: &Principal) -> Vec<(Verdict, bool)> {
    let v: Vec<Verdict> = op.guards.iter().map(|g| verdict(g.rule, g.scope, p)).collect();
    (0..op.guards.len())
        .map(|i| {
            let mut reached = true;
            let mut up = op.guards[i].parent;
            while let Some(j) = up {
                reached &= v[j] == Verdict::Allow;
                up = op.guards[j].parent;
            }
            (v[i], reached)
        })
        .collect()
}

/// A mutation is sent only to callers refused at its root: allowed ones would change the
/// fixture (each module's own tests cover them).
fn root_refused(op: &Operation, p: &Principal) -> bool {
    verdicts(op, p)
        .iter()
        .zip(&op.guards)
        .any(|((v, _), g)| g.parent.is_none() && matches!(v, Verdict::Deny(_)))
}

fn excluded(op: &Operation) -> Option<&'static str> {
    EXCLUDED.iter().find(|(d, _)| *d == op.doc).map(|(_, r)| *r)
}

fn runs(op: &Operation, p: &Principal) -> bool {
    excluded(op).is_none() && (op.kind != OperationType::Mutation || root_refused(op, p))
}

fn error_path(e: &Value) -> Vec<String> {
    e["path"]
        .as_array()
        .map(|p| p.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn summary(errors: &[Value]) -> String {
    if errors.is_empty() {
        return "no errors".into();
    }
    errors
        .iter()
        .map(|e| {
            format!(
                "{} at {} ({})",
                e["extensions"]["code"].as_str().unwrap_or("<no code>"),
                error_path(e).join("."),
                e["message"].as_str().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The value at a response path (`null` when absent).
fn at<'a>(data: &'a Value, path: &[String]) -> &'a Value {
    path.iter().fold(data, |v, k| &v[k.as_str()])
}

/// Walks an error's path (names and list indices) from the response's `data`: the first
/// key that is absent before a `null` is reached, if any.
fn missing_key(resp: &Value, path: &Value) -> Option<String> {
    let obj = resp.as_object()?;
    if !obj.contains_key("data") {
        return Some("data".into());
    }
    let mut here = &obj["data"];
    for step in path.as_array()? {
        if here.is_null() {
            return None;
        }
        here = match (step, here) {
            (Value::String(k), Value::Object(o)) => match o.get(k) {
                Some(v) => v,
                None => return Some(k.clone()),
            },
            (Value::Number(i), Value::Array(a)) => match a.get(i.as_u64()? as usize) {
                Some(v) => v,
                None => return Some(i.to_string()),
            },
            _ => return Some(step.to_string()),
        };
    }
    (!here.is_null()).then(|| format!("{path} (present but not null)"))
}

/// Checks one answer (`data` and `errors`) against the table.
fn check(op: &Operation, p: &Principal, resp: &Value) -> Result<(), String> {
    let errors: Vec<Value> = resp["errors"].as_array().cloned().unwrap_or_default();
    let mut expected: Vec<(&[String], &'static str, &str)> = Vec::new();
    let mut problems = Vec::new();
    for ((v, reached), g) in verdicts(op, p).into_iter().zip(&op.guards) {
        if !reached {
            continue;
        }
        match v {
            Verdict::Allow => {}
            Verdict::Deny(code) => expected.push((&g.path, code, &g.key)),
            Verdict::Null => {
                if !at(&resp["data"], &g.path).is_null() {
                    problems.push(format!("expected `{}` to be null", g.path.join(".")));
                }
            }
            Verdict::NullEntries => match at(&resp["data"], &g.path).as_array() {
                Some(a) if !a.is_empty() && a.iter().all(Value::is_null) => {}
                _ => problems.push(format!("expected `{}` to hold only nulls", g.path.join("."))),
            },
        }
    }
    for (path, code, key) in &expected {
        if !errors.iter().any(|e| e["extensions"]["code"] == *code && error_path(e) == *path) {
            problems.push(format!("expected {code} at {} (`{key}`)", path.join(".")));
        }
    }
    // GraphQL §6.4.4: a failed field is present and null (or, if non-null, its nearest
    // nullable ancestor is), never a missing key — normalised client caches rely on it.
    for e in &errors {
        if let Some(missing) = missing_key(resp, &e["path"]) {
            problems.push(format!("the failed field's key `{missing}` is missing instead of null"));
        }
    }
    for e in &errors {
        let path = error_path(e);
        let explained =
            expected.iter().any(|(p, code, _)| e["extensions"]["code"] == *code && path.starts_with(p));
        if !explained {
            problems.push(format!(
                "unexpected {} at {}",
                e["extensions"]["code"].as_str().unwrap_or("<no code>"),
                path.join(".")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} — got {} (variables {})",
            problems.join(", "),
            summary(&errors),
            Value::Object(op.variables.clone())
        ))
    }
}

// ---------------------------------------------------------------------------------------
// The completeness check (no server).
// ---------------------------------------------------------------------------------------

#[test]
fn every_root_field_has_a_document_and_an_access_rule() {
    let schema = Schema::load();
    let mut problems = Vec::new();
    let ops = match load_operations(&schema, &Fixture::placeholder()) {
        Ok(ops) => ops,
        Err(p) => {
            problems.extend(p);
            Vec::new()
        }
    };
    let covered: HashSet<(&str, &str)> =
        ops.iter().flat_map(|o| o.roots.iter().map(move |(_, f)| (op_kind(o.kind), f.as_str()))).collect();
    let roots = schema.root_fields();
    for (t, f) in &roots {
        let ty = &schema.roots[op_kind(*t)];
        if !covered.contains(&(op_kind(*t), f.as_str())) {
            problems.push(format!("{ty}.{f} has no document under graphql/"));
        }
        if !ROOT.iter().any(|(k, _)| k == f) {
            problems.push(format!("{ty}.{f} has no entry in the access table (ROOT)"));
        }
    }
    let names: Vec<&str> = roots.iter().map(|(_, f)| f.as_str()).collect();
    for (k, _) in ROOT {
        if !names.contains(k) {
            problems.push(format!("ROOT has `{k}`, which is no root field of the schema"));
        }
    }
    for (k, _, _) in NESTED {
        let (ty, field) = k.split_once('.').unwrap();
        if schema.field(ty, field).is_none() {
            problems.push(format!("NESTED has `{k}`, which is not in the schema"));
        }
    }
    // Fields documented as guarded must be in the table.
    let root_types: Vec<&String> = schema.roots.values().collect();
    for (key, d) in &schema.descriptions {
        let ty = key.split('.').next().unwrap();
        if root_types.iter().any(|r| *r == ty) {
            continue;
        }
        if (d.contains("needs `") || d.contains("FORBIDDEN")) && !NESTED.iter().any(|(k, _, _)| k == key) {
            problems.push(format!("{key} is documented as guarded but has no entry in NESTED"));
        }
    }
    for (d, _) in EXCLUDED {
        if !ops.iter().any(|o| o.doc == *d) {
            problems.push(format!("EXCLUDED names `{d}`, which is no document"));
        }
    }
    assert!(problems.is_empty(), "the sweep cannot cover everything:\n  {}", problems.join("\n  "));
}

// ---------------------------------------------------------------------------------------
// The sweep.
// ---------------------------------------------------------------------------------------

async fn data(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    app.gql(Some(token), query, variables).await.data().clone()
}

fn id_at(v: &Value, pointer: &str) -> String {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("no {pointer} in {v}")).to_string()
}

pub(crate) struct World {
    pub(crate) fixture: Fixture,
    principals: Vec<Principal>,
    pub(crate) owner: String,
}

/// Two organisations: `sweep-a` with a row in every tenant-owned table the API fills when
/// used (members of each role, a custom role, a team, an invitation, an API key, a secret,
/// a variable, a workflow with a finished run, a template), and the outsider's `sweep-b`.
pub(crate) async fn build_world(app: &TestApp) -> World {
    let owner = app.verified_user("sweep-owner@example.com").await;
    let tenant = app.create_tenant(&owner, "sweep-a").await;
    let outsider = app.verified_user("sweep-outsider@example.com").await;
    app.create_tenant(&outsider, "sweep-b").await;
    let o = owner.access.clone();
    let mut joined = HashMap::new();
    for role in ["admin", "member", "viewer", "target"] {
        let key = if role == "target" { "member" } else { role };
        let (s, m) = app.join_as(&owner, &tenant, &format!("sweep-{role}@example.com"), key).await;
        joined.insert(role, (s, m));
    }
    let member_role = app.role_id(&owner, &tenant, "member").await;

    // The catalog above is what the server grants.
    let matrix = data(app, &o, doc!("roles/PermissionMatrix"), json!({ "tenantId": tenant })).await;
    for (role, perms) in CATALOG {
        let row = matrix["tenant"]["permissionMatrix"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["role"]["key"] == *role)
            .unwrap_or_else(|| panic!("no built-in role {role}"));
        let server: BTreeSet<&str> =
            row["effective"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        let readme: BTreeSet<&str> = perms.iter().copied().collect();
        assert_eq!(server, readme, "the README's catalog and the server disagree on {role}");
    }

    let role = data(
        app,
        &o,
        doc!("roles/CreateRole"),
        json!({ "input": {
            "tenantId": tenant, "key": "sweep-custom", "name": "Sweep custom", "permissions": [WORKFLOW_READ],
        } }),
    )
    .await;
    let team = data(
        app,
        &o,
        doc!("teams/CreateTeam"),
        json!({ "input": { "tenantId": tenant, "name": "Sweep team" } }),
    )
    .await;
    let team = id_at(&team, "/createTeam/team/id");
    for (who, team_role) in [("member", "OWNER"), ("target", "EDITOR")] {
        data(
            app,
            &o,
            doc!("teams/SetTeamMember"),
            json!({ "input": { "teamId": team, "membershipId": joined[who].1, "role": team_role } }),
        )
        .await;
    }
    let invitation = data(
        app,
        &o,
        doc!("members/InviteMember"),
        json!({ "input": {
            "tenantId": tenant, "email": "sweep-pending@example.com", "roleId": member_role,
        } }),
    )
    .await;
    let key = data(
        app,
        &o,
        doc!("api_keys/CreateApiKey"),
        json!({ "input": { "tenantId": tenant, "name": "sweep", "permissions": [TENANT_READ] } }),
    )
    .await;
    let secret = data(
        app,
        &o,
        doc!("secrets/CreateSecret"),
        json!({ "input": { "tenantId": tenant, "name": "SWEEP_SECRET", "value": "s3cret" } }),
    )
    .await;
    let env_var = data(
        app,
        &o,
        doc!("secrets/SetEnvironmentVariable"),
        json!({ "input": { "tenantId": tenant, "name": "SWEEP_VAR", "value": "v" } }),
    )
    .await;
    let graph = json!({
        "nodes": [
            { "id": "start", "type": "trigger.manual", "name": "start", "config": {} },
            { "id": "step", "type": "code", "name": "step", "config": { "source": "1" } },
        ],
        "edges": [
            { "id": "e1", "source": "start", "sourcePort": "main", "target": "step", "targetPort": "main" },
        ],
    });
    let workflow = data(
        app,
        &o,
        doc!("workflows/CreateWorkflow"),
        json!({ "input": { "tenantId": tenant, "name": "Sweep flow", "graph": graph } }),
    )
    .await;
    let revision = workflow["createWorkflow"]["workflow"]["revision"].as_i64().unwrap();
    let workflow = id_at(&workflow, "/createWorkflow/workflow/id");
    let execution =
        data(app, &o, doc!("workflows/ExecuteWorkflow"), json!({ "input": { "workflowId": workflow } }))
            .await;
    let execution = id_at(&execution, "/executeWorkflow/execution/id");
    let template = data(
        app,
        &o,
        doc!("workflows/SaveWorkflowAsTemplate"),
        json!({ "input": { "workflowId": workflow, "name": "Sweep template" } }),
    )
    .await;
    // A paid plan: a billing account, a subscription and an invoice of A.
    data(
        app,
        &o,
        doc!("billing/ChangePlan"),
        json!({ "input": { "tenantId": tenant, "plan": "pro", "interval": "MONTH" } }),
    )
    .await;
    let security = data(app, &outsider.access, doc!("security/ViewerSecurity"), json!({})).await;
    // The run must be over before the snapshot.
    eventually(30, || async {
        let e = data(app, &o, doc!("workflows/Execution"), json!({ "id": execution })).await;
        matches!(e["execution"]["status"].as_str(), Some("SUCCEEDED" | "FAILED" | "CANCELLED")).then_some(())
    })
    .await;

    let fixture = Fixture {
        tenant,
        slug: "sweep-a".into(),
        member_role,
        role: id_at(&role, "/createRole/role/id"),
        team,
        target_membership: joined["target"].1.clone(),
        invitation: id_at(&invitation, "/inviteMember/invitation/id"),
        api_key: id_at(&key, "/createApiKey/apiKey/id"),
        secret: id_at(&secret, "/createSecret/secret/id"),
        env_var: id_at(&env_var, "/setEnvironmentVariable/environmentVariable/id"),
        workflow,
        revision,
        execution,
        template: id_at(&template, "/saveWorkflowAsTemplate/template/id"),
        session: id_at(&security, "/viewer/sessions/0/id"),
        connected_account: global_id("ConnectedAccount", uuid::Uuid::new_v4()),
        invoice: global_id("Invoice", uuid::Uuid::new_v4()),
    };
    let perms = |role: &str| -> HashSet<&'static str> {
        CATALOG.iter().find(|(r, _)| *r == role).unwrap().1.iter().copied().collect()
    };
    let principals = vec![
        Principal {
            name: "anonymous",
            kind: Kind::Anonymous,
            token: None,
            perms: HashSet::new(),
            team_owner: false,
        },
        Principal {
            name: "outsider",
            kind: Kind::Outsider,
            token: Some(outsider.access.clone()),
            perms: HashSet::new(),
            team_owner: false,
        },
        Principal {
            name: "owner",
            kind: Kind::Member("owner"),
            token: Some(o.clone()),
            perms: perms("owner"),
            team_owner: false,
        },
        Principal {
            name: "admin",
            kind: Kind::Member("admin"),
            token: Some(joined["admin"].0.access.clone()),
            perms: perms("admin"),
            team_owner: false,
        },
        Principal {
            name: "member",
            kind: Kind::Member("member"),
            token: Some(joined["member"].0.access.clone()),
            perms: perms("member"),
            team_owner: true,
        },
        Principal {
            name: "viewer",
            kind: Kind::Member("viewer"),
            token: Some(joined["viewer"].0.access.clone()),
            perms: perms("viewer"),
            team_owner: false,
        },
    ];
    World { fixture, principals, owner: o }
}

/// Everything of the organisation the owner can read.
async fn snapshot(app: &TestApp, owner: &str, fx: &Fixture) -> BTreeMap<&'static str, Value> {
    let (t, w) = (&fx.tenant, &fx.workflow);
    let reads: Vec<(&'static str, &'static str, Value)> = vec![
        ("settings", doc!("tenancy/TenantSettings"), json!({ "id": t })),
        ("members", doc!("members/TenantMembers"), json!({ "id": t, "first": 100 })),
        ("invitations", doc!("members/TenantInvitations"), json!({ "id": t, "first": 100 })),
        ("roles", doc!("roles/TenantRoles"), json!({ "id": t })),
        ("permission matrix", doc!("roles/PermissionMatrix"), json!({ "tenantId": t })),
        ("teams", doc!("teams/TenantTeams"), json!({ "id": t })),
        ("api keys", doc!("api_keys/TenantApiKeys"), json!({ "id": t })),
        (
            "workflows",
            doc!("workflows/Workflows"),
            json!({ "tenantId": t, "includeArchived": true, "first": 100 }),
        ),
        ("workflow", doc!("workflows/Workflow"), json!({ "id": w })),
        ("webhook", doc!("workflows/WorkflowWebhook"), json!({ "id": w })),
        ("executions", doc!("workflows/WorkflowExecutions"), json!({ "id": w, "last": 100 })),
        ("templates", doc!("workflows/WorkflowTemplates"), json!({ "tenantId": t })),
        ("secrets and environment", doc!("secrets/Secrets"), json!({ "tenantId": t, "withAccessLog": true })),
        ("audit log", doc!("audit/TenantAuditLog"), json!({ "id": t, "first": 100 })),
    ];
    let mut out = BTreeMap::new();
    for (name, query, vars) in reads {
        out.insert(name, data(app, owner, query, vars).await);
    }
    out
}

/// `ZYGO_SWEEP_VERBOSE=1` lists every check with the errors it got.
fn verbose(op: &Operation, p: &Principal, resp: &Value) {
    if std::env::var_os("ZYGO_SWEEP_VERBOSE").is_some() {
        let errors = resp["errors"].as_array().cloned().unwrap_or_default();
        println!("sweep: {:<40} {:<9} {}", op.doc, p.name, summary(&errors));
    }
}

async fn post(app: &TestApp, token: Option<&str>, op: &Operation) -> Value {
    let mut req = app.http.post(app.url("/graphql")).json(&json!({
        "query": op.text,
        "operationName": op.operation_name,
        "variables": op.variables,
    }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status();
    let body: Value =
        resp.json().await.unwrap_or_else(|e| json!({ "errors": [{ "message": e.to_string() }] }));
    if status.is_server_error() {
        return json!({ "errors": [{ "message": format!("HTTP {status}: {body}") }] });
    }
    body
}

/// Queries and refused mutations of one caller, over HTTP.
async fn sweep_http(app: &TestApp, ops: &[Operation], p: &Principal) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut failures = Vec::new();
    for op in ops.iter().filter(|o| o.kind != OperationType::Subscription && runs(o, p)) {
        let resp = post(app, p.token.as_deref(), op).await;
        verbose(op, p, &resp);
        if let Err(e) = check(op, p, &resp) {
            failures.push(format!("{} ({}) as {}: {e}", op.doc, op_kind(op.kind), p.name));
        }
        checked += 1;
    }
    (checked, failures)
}

/// Subscriptions of one caller over one WebSocket: each refused one answers its error; each
/// allowed one answers data or goes live (counted by `zygo_subscriptions_active`).
async fn sweep_subscriptions(app: &TestApp, ops: &[Operation], p: &Principal) -> (usize, Vec<String>) {
    const GAUGE: &str = "zygo_subscriptions_active";
    let subs: Vec<&Operation> =
        ops.iter().filter(|o| o.kind == OperationType::Subscription && runs(o, p)).collect();
    let mut failures = Vec::new();
    if subs.is_empty() {
        return (0, failures);
    }
    let base = app.metric(GAUGE).await;
    let refused =
        |op: &Operation| verdicts(op, p).iter().any(|(v, reached)| *reached && *v != Verdict::Allow);
    let live = subs.iter().filter(|o| !refused(o)).count() as f64;
    let mut ws = WsClient::connect(app, "graphql-transport-ws").await;
    let ack = ws.init(p.token.as_deref()).await;
    assert_eq!(ack.as_ref().map(|a| a["type"].clone()), Some(json!("connection_ack")), "{}", p.name);
    for (i, op) in subs.iter().enumerate() {
        ws.subscribe(&i.to_string(), &op.text, Value::Object(op.variables.clone())).await;
    }
    let mut first: HashMap<usize, Value> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let went_live = loop {
        while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(100), ws.next_json()).await {
            let id = msg["id"].as_str().and_then(|i| i.parse::<usize>().ok());
            if let (Some(id), Some("next" | "error")) = (id, msg["type"].as_str()) {
                first.entry(id).or_insert(msg);
            }
        }
        let answered = subs.iter().enumerate().all(|(i, o)| !refused(o) || first.contains_key(&i));
        let live_now = app.metric(GAUGE).await == base + live;
        if (answered && live_now) || tokio::time::Instant::now() > deadline {
            break live_now;
        }
    };
    for (i, op) in subs.iter().enumerate() {
        let resp = match first.get(&i) {
            Some(m) if m["type"] == "error" => json!({ "errors": m["payload"] }),
            Some(m) => m["payload"].clone(),
            None if refused(op) => json!({ "errors": [{ "message": "no answer within 10 s" }] }),
            None => json!({}),
        };
        verbose(op, p, &resp);
        if let Err(e) = check(op, p, &resp) {
            failures.push(format!("{} (subscription) as {}: {e}", op.doc, p.name));
        }
    }
    if !went_live {
        failures.push(format!(
            "as {}: {} of the allowed subscriptions did not go live ({GAUGE} = {} over {base})",
            p.name,
            live,
            app.metric(GAUGE).await - base
        ));
    }
    let _ = ws.socket.close(None).await;
    eventually(10, || async { (app.metric(GAUGE).await <= base).then_some(()) }).await;
    (subs.len(), failures)
}

#[tokio::test]
async fn every_document_answers_each_caller_exactly_as_the_access_table_says_and_refusals_change_nothing() {
    let unlimited = "1000000".to_string();
    let app = spawn_app_on(
        Backend::fresh().await,
        Options {
            env: vec![
                ("ZYGO_RATE_LIMIT_PER_MINUTE", unlimited.clone()),
                ("ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE", unlimited),
            ],
            ..Default::default()
        },
    )
    .await;
    let world = build_world(&app).await;
    let schema = Schema::load();
    let ops = load_operations(&schema, &world.fixture)
        .unwrap_or_else(|p| panic!("documents the sweep cannot run:\n  {}", p.join("\n  ")));
    let principals = &world.principals;

    let planned: usize = ops.iter().map(|o| principals.iter().filter(|p| runs(o, p)).count()).sum();
    let skipped: usize = ops
        .iter()
        .filter(|o| excluded(o).is_none())
        .map(|o| principals.iter().filter(|p| !runs(o, p)).count())
        .sum();
    let excluded_pairs = ops.iter().filter(|o| excluded(o).is_some()).count() * principals.len();

    let before = snapshot(&app, &world.owner, &world.fixture).await;
    let results = join_all(principals.iter().map(|p| sweep_http(&app, &ops, p))).await;
    let mut checked = 0;
    let mut failures = Vec::new();
    for (n, f) in results {
        checked += n;
        failures.extend(f);
    }
    for p in principals {
        let (n, f) = sweep_subscriptions(&app, &ops, p).await;
        checked += n;
        failures.extend(f);
    }
    let after = snapshot(&app, &world.owner, &world.fixture).await;
    for (name, b) in &before {
        if after.get(name) != Some(b) {
            failures.push(format!("the {name} changed:\n    before {b}\n    after  {}", after[name]));
        }
    }

    let count = |k: OperationType| ops.iter().filter(|o| o.kind == k).count();
    let denials: usize = ops
        .iter()
        .flat_map(|o| principals.iter().filter(move |p| runs(o, p)).map(move |p| (o, p)))
        .filter(|(o, p)| verdicts(o, p).iter().any(|(v, r)| *r && *v != Verdict::Allow))
        .count();
    println!(
        "sweep: {} documents ({} queries, {} mutations, {} subscriptions) x {} principals = {}: \
         {checked} checked ({denials} refusals, {} allowed), {skipped} allowed mutations not sent, \
         {excluded_pairs} excluded",
        ops.len(),
        count(OperationType::Query),
        count(OperationType::Mutation),
        count(OperationType::Subscription),
        principals.len(),
        ops.len() * principals.len(),
        checked - denials,
    );
    // Every query and subscription was tried by every caller; every mutation by each caller
    // its root rule refuses: anonymous for a signed-in rule, anonymous and the outsider (at
    // least) for an organisation's rule.
    for o in &ops {
        let n = principals.iter().filter(|p| runs(o, p)).count();
        let root_rules: Vec<Rule> = o.guards.iter().filter(|g| g.parent.is_none()).map(|g| g.rule).collect();
        let want = match o.kind {
            _ if excluded(o).is_some() => 0,
            OperationType::Mutation if root_rules.iter().all(|r| matches!(r, Public)) => 0,
            OperationType::Mutation if root_rules.iter().all(|r| matches!(r, Public | SignedIn)) => 1,
            OperationType::Mutation => 2,
            _ => principals.len(),
        };
        assert!(n >= want, "{} was tried by {n} callers only, expected at least {want}", o.doc);
    }
    assert_eq!(checked, planned, "checks made vs planned");
    assert_eq!(checked + skipped + excluded_pairs, ops.len() * principals.len());
    failures.sort();
    assert!(failures.is_empty(), "{} failures:\n  {}", failures.len(), failures.join("\n  "));
}
