//! The generator: reads every document under `graphql/` with the schema, finds the guarded
//! fields each one selects, and builds variables pointing at the fixture's objects.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    sync::atomic::{AtomicUsize, Ordering},
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
use serde_json::{Map, Value, json};

use super::catalog::*;
use crate::helpers::PASSWORD;

// ---------------------------------------------------------------------------------------
// The fixture: what the generated variables point at.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub(crate) struct Fixture {
    pub(crate) tenant: String,
    pub(super) slug: String,
    /// The built-in `member` role (a filter that still lists other people).
    pub(super) member_role: String,
    /// A custom role (rank of a member).
    pub(super) role: String,
    pub(super) team: String,
    /// A member's membership that none of the callers holds, in the team.
    pub(super) target_membership: String,
    pub(super) invitation: String,
    pub(super) api_key: String,
    pub(super) secret: String,
    pub(super) env_var: String,
    pub(crate) workflow: String,
    pub(super) revision: i64,
    pub(super) execution: String,
    pub(super) template: String,
    /// A session of the outsider (`revokeSession` is decoded before the sign-in check).
    pub(super) session: String,
    /// No provider is configured, so no account is linked: a well-formed ID of nothing.
    pub(super) connected_account: String,
    /// Marking paid is refused before the lookup: a well-formed ID of nothing.
    pub(super) invoice: String,
    pub(super) webhook_endpoint: String,
    /// A logged delivery (a test event) of `webhook_endpoint`.
    pub(super) webhook_delivery: String,
    /// A document of the team, with a page, a section and a published version.
    pub(super) document: String,
    pub(super) page: String,
    pub(super) section: String,
    pub(super) version: String,
    /// A LINK-visible file with one version and one share link.
    pub(super) resource: String,
    pub(super) resource_version: String,
    pub(super) share_link: String,
    /// A project every member of the organisation owns, with a folder holding the records of
    /// a finished sample collection job.
    pub(crate) project: String,
    pub(super) folder: String,
    pub(super) collection_job: String,
    pub(super) record: String,
    /// A saved search of `project`.
    pub(super) saved_search: String,
    /// A finished CSV export of `folder`.
    pub(super) record_export: String,
    /// The sample collector the organisation may use.
    pub(super) collector: String,
    /// A member's user (project members are users).
    pub(super) user: String,
    /// A custom domain of the organisation (pending).
    pub(super) domain: String,
    /// A support session of a platform operator into the organisation (ended: the operator
    /// reaches nothing of it).
    pub(super) support_session: String,
    /// A LOCAL cloud account with a running server, a volume, a DNS zone and a record.
    pub(super) cloud_provider: String,
    pub(super) server: String,
    pub(super) volume: String,
    /// A snapshot of the server.
    pub(super) snapshot: String,
    /// A floating IP reserved on the account (not assigned).
    pub(super) floating_ip: String,
    /// The action that created the server (asked for by the owner).
    pub(super) infrastructure_action: String,
    /// A network, a firewall and a load balancer on the account.
    pub(super) network: String,
    pub(super) firewall: String,
    pub(super) load_balancer: String,
    pub(super) dns_zone: String,
    pub(super) dns_record: String,
}

pub(super) fn global_id(ty: &str, id: uuid::Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ty}:{id}"))
}

impl Fixture {
    /// Stand-ins for checking the documents without a server.
    pub(super) fn placeholder() -> Self {
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
            webhook_endpoint: id("WebhookEndpoint"),
            webhook_delivery: id("WebhookDelivery"),
            document: id("Document"),
            page: id("DocumentPage"),
            section: id("DocumentSection"),
            version: id("DocumentVersion"),
            resource: id("Resource"),
            resource_version: id("ResourceVersion"),
            share_link: id("ResourceShareLink"),
            project: id("Project"),
            folder: id("CollectionFolder"),
            collection_job: id("CollectionJob"),
            record: id("CollectedRecord"),
            saved_search: id("SavedSearch"),
            record_export: id("RecordExport"),
            collector: id("PlatformService"),
            user: id("User"),
            domain: id("TenantDomain"),
            support_session: id("SupportSession"),
            cloud_provider: id("CloudProvider"),
            server: id("Server"),
            volume: id("Volume"),
            snapshot: id("Snapshot"),
            floating_ip: id("FloatingIp"),
            infrastructure_action: id("InfrastructureAction"),
            network: id("Network"),
            firewall: id("Firewall"),
            load_balancer: id("LoadBalancer"),
            dns_zone: id("DnsZone"),
            dns_record: id("DnsRecord"),
        }
    }

    /// The fixture object an ID argument or input field named `name` points at, in an
    /// operation whose root field is `root`.
    pub(super) fn id(&self, root: &str, name: &str) -> Option<String> {
        let v = match name {
            "tenantId" | "organisationId" => &self.tenant,
            "invoiceId" => &self.invoice,
            "workflowId" | "errorWorkflowId" => &self.workflow,
            "executionId" => &self.execution,
            "roleId" | "parentId" => &self.role,
            "role" => &self.member_role,
            "teamId" => &self.team,
            "membershipId" => &self.target_membership,
            "secretId" => &self.secret,
            "endpointId" => &self.webhook_endpoint,
            "documentId" => &self.document,
            "resourceId" => &self.resource,
            "pageId" => &self.page,
            "sectionId" => &self.section,
            "versionId" | "a" | "b" => &self.version,
            "projectId" => &self.project,
            "folderId" | "parentFolderId" => &self.folder,
            "collectorId" | "serviceId" | "serviceIds" => &self.collector,
            "recordIds" => &self.record,
            "savedSearchId" => &self.saved_search,
            "userId" => &self.user,
            "providerId" => &self.cloud_provider,
            "serverId" | "targetId" => &self.server,
            "volumeId" => &self.volume,
            "snapshotId" => &self.snapshot,
            "floatingIpId" => &self.floating_ip,
            "actionId" => &self.infrastructure_action,
            "networkId" => &self.network,
            "firewallId" => &self.firewall,
            "loadBalancerId" => &self.load_balancer,
            "zoneId" => &self.dns_zone,
            "recordId" => &self.dns_record,
            "platformId" => return Some(global_id("CollectionPlatform", uuid::Uuid::nil())),
            "id" | "ids" => match root {
                "node"
                | "nodes"
                | "tenant"
                | "updateTenant"
                | "suspendTenant"
                | "reactivateTenant"
                | "deleteTenant"
                | "cancelTenantDeletion"
                | "adminSuspendTenant"
                | "adminReactivateTenant"
                | "adminDeleteTenant"
                | "adminCancelTenantDeletion"
                | "adminSetOrganisationLimits" => &self.tenant,
                // Refused before the lookup: a well-formed ID of nothing.
                "adminRetryJob" | "adminCancelJob" => return Some(global_id("Job", uuid::Uuid::nil())),
                "testPlatformService" => &self.collector,
                "updateFeatureFlag" | "deleteFeatureFlag" => {
                    return Some(global_id("FeatureFlag", uuid::Uuid::nil()));
                }
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
                "deleteWebhookEndpoint" | "rotateWebhookEndpointSecret" | "sendTestWebhookEvent" => {
                    &self.webhook_endpoint
                }
                "replayWebhookDelivery" => &self.webhook_delivery,
                "document" | "updateDocument" | "deleteDocument" | "publishDocument" => &self.document,
                "updatePage" | "movePage" | "duplicatePage" | "deletePage" => &self.page,
                "updateSection" | "moveSection" | "duplicateSection" | "deleteSection" => &self.section,
                "resource" | "deleteResource" | "restoreResource" | "purgeResource" => &self.resource,
                "revokeResourceShareLink" => &self.share_link,
                "resourceVersion" => &self.resource_version,
                "project" | "deleteProject" => &self.project,
                "collectionFolder" | "deleteCollectionFolder" => &self.folder,
                "collectionJob"
                | "cancelCollectionJob"
                | "setCollectionJobSchedule"
                | "runCollectionJobNow" => &self.collection_job,
                "verifyTenantDomain" | "setPrimaryTenantDomain" | "removeTenantDomain" => &self.domain,
                "approveSupportSession"
                | "denySupportSession"
                | "endSupportSession"
                | "adminEndSupportSession" => &self.support_session,
                "validateCloudProvider" | "removeCloudProvider" => &self.cloud_provider,
                "deleteServer" => &self.server,
                "deleteVolume" => &self.volume,
                "deleteSnapshot" => &self.snapshot,
                "deleteFloatingIp" => &self.floating_ip,
                "deleteNetwork" => &self.network,
                "deleteFirewall" => &self.firewall,
                "deleteLoadBalancer" => &self.load_balancer,
                "deleteDnsRecord" => &self.dns_record,
                "savedSearch" | "deleteSavedSearch" => &self.saved_search,
                "recordExport" | "recordExportUpdated" => &self.record_export,
                _ => return None,
            },
            _ => return None,
        };
        Some(v.clone())
    }

    /// A string argument or input field named `name`.
    pub(super) fn string(&self, name: &str) -> String {
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
            "domain" => {
                format!("sweep-{}.example.com", EMAILS.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
            }
            "from" | "to" => "2026-12-01".into(),
            _ => "sweep".into(),
        }
    }
}

pub(super) static EMAILS: AtomicUsize = AtomicUsize::new(0);

pub(super) fn fresh_email() -> String {
    format!("sweep-{}@example.com", EMAILS.fetch_add(1, Ordering::Relaxed))
}

// ---------------------------------------------------------------------------------------
// The schema and the documents.
// ---------------------------------------------------------------------------------------

pub(super) struct Schema {
    pub(super) roots: HashMap<&'static str, String>,
    pub(super) types: HashMap<String, TypeKind>,
    pub(super) descriptions: HashMap<String, String>,
}

pub(super) fn type_name(t: &Type) -> &str {
    match &t.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => type_name(inner),
    }
}

pub(super) fn op_kind(t: OperationType) -> &'static str {
    match t {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

impl Schema {
    pub(super) fn load() -> Self {
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

    pub(super) fn fields(&self, ty: &str) -> &[async_graphql::Positioned<FieldDefinition>] {
        match self.types.get(ty) {
            Some(TypeKind::Object(o)) => &o.fields,
            Some(TypeKind::Interface(i)) => &i.fields,
            _ => &[],
        }
    }

    pub(super) fn field(&self, ty: &str, name: &str) -> Option<&FieldDefinition> {
        self.fields(ty).iter().map(|f| &f.node).find(|f| f.name.node == name)
    }

    /// `(operation type, field)` of every root field.
    pub(super) fn root_fields(&self) -> Vec<(OperationType, String)> {
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
pub(super) struct Guard {
    /// Root field name, or `Type.field`.
    pub(super) key: String,
    /// Response keys from the root.
    pub(super) path: Vec<String>,
    pub(super) rule: Rule,
    pub(super) scope: Scope,
    /// The nearest guard above this one.
    pub(super) parent: Option<usize>,
}

/// One operation of one document, ready to send.
pub(super) struct Operation {
    /// `module/Name` (the file under `graphql/`), plus `#Operation` when a file has several.
    pub(super) doc: String,
    pub(super) text: String,
    pub(super) operation_name: Option<String>,
    pub(super) kind: OperationType,
    /// Root fields as `(response key, field name)`.
    pub(super) roots: Vec<(String, String)>,
    pub(super) guards: Vec<Guard>,
    pub(super) variables: Map<String, Value>,
}

pub(super) fn graphql_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
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
pub(super) fn load_operations(schema: &Schema, fx: &Fixture) -> Result<Vec<Operation>, Vec<String>> {
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

pub(super) type Analysed = (Vec<(String, String)>, Vec<Guard>, Map<String, Value>);

pub(super) fn operation(
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

pub(super) fn collect_roots(
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

pub(super) fn field_variables(
    doc: &ExecutableDocument,
    f: &async_graphql::parser::types::Field,
    out: &mut HashSet<String>,
) {
    for (_, v) in &f.arguments {
        record_variables!(v.node, out);
    }
    set_variables(doc, &f.selection_set.node, out, 0);
}

pub(super) fn set_variables(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    out: &mut HashSet<String>,
    depth: usize,
) {
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
pub(super) struct Walker<'a> {
    pub(super) schema: &'a Schema,
    pub(super) doc: &'a ExecutableDocument,
    pub(super) vars: &'a Map<String, Value>,
    pub(super) guards: Vec<Guard>,
    pub(super) problems: Vec<String>,
    pub(super) depth: usize,
}

impl Walker<'_> {
    pub(super) fn included(&self, directives: &[async_graphql::Positioned<Directive>]) -> bool {
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

    pub(super) fn walk(
        &mut self,
        set: &SelectionSet,
        ty: &str,
        path: &[String],
        parent: Option<usize>,
        root: bool,
    ) {
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
pub(super) struct Gen<'a> {
    pub(super) schema: &'a Schema,
    pub(super) fx: &'a Fixture,
    /// The root field the value is for (names what a bare `id` means).
    pub(super) root: &'a str,
}

impl Gen<'_> {
    pub(super) fn value(&self, ty: &Type, name: &str) -> Result<Value, String> {
        match &ty.base {
            BaseType::List(inner) => Ok(json!([self.value(inner, name)?])),
            BaseType::Named(n) => self.named(n.as_str(), name),
        }
    }

    pub(super) fn named(&self, ty: &str, name: &str) -> Result<Value, String> {
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
            // A file travels in the multipart request's own part (see `post`).
            "Upload" => Value::Null,
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
