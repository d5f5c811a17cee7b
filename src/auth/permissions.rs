//! The permission catalog and the grants of the built-in roles.
//!
//! Every permission has a stable key (`area.action`), an area and a description. Later
//! modules add their own entries here; roles store permission keys as data, so a tenant's
//! custom roles (issue: organisations and access) reuse the same catalog.

/// A permission of the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Permission {
    /// See the organisation and its settings.
    TenantRead,
    /// Change the organisation's name and settings.
    TenantUpdate,
    /// Delete or suspend the organisation.
    TenantDelete,
    /// See the member list.
    MembersRead,
    /// Invite, remove and change the role of members.
    MembersManage,
    /// Create and edit roles.
    RolesManage,
    /// Read the audit log.
    AuditRead,
    /// Create and revoke API keys.
    ApiKeysManage,
    /// Create, rename and delete teams and manage their members.
    TeamsManage,
    /// See workflows, their versions, executions and logs, and environment variables.
    WorkflowRead,
    /// Create, edit, publish and archive workflows and templates.
    WorkflowEdit,
    /// Run, cancel and retry workflows.
    WorkflowExecute,
    /// Create, change and delete secrets and environment variables; read secret access logs.
    SecretManage,
    /// See the plan, usage, invoices and billing settings.
    BillingRead,
    /// Change the plan, cancel or resume it, and change billing settings.
    BillingManage,
    /// Manage outbound webhook endpoints, their secrets and deliveries.
    WebhooksManage,
    /// See the studio's documents, their versions and comparisons.
    DocumentsRead,
    /// Create and edit documents, their pages and sections, and take section locks (in teams
    /// where the member is an owner or editor).
    DocumentsWrite,
    /// Publish documents and restore versions (in teams where the member is an owner or editor).
    DocumentsPublish,
    /// Any team's documents: edit, publish, delete them and force-release section locks.
    DocumentsManage,
    /// See and download the files one may see (by their visibility) and their download logs.
    ResourcesRead,
    /// Upload files and new versions, and change their name, folder, tags and visibility.
    ResourcesWrite,
    /// Create and revoke share links of files.
    ResourcesShare,
    /// Delete files (to the bin) and restore them.
    ResourcesDelete,
    /// See the collection catalog offered to the organisation and the projects one belongs
    /// to, with their folders, records and collection jobs (what one may change in a project
    /// is its project role).
    CollectionRead,
    /// Every project as its owner: members, folders, records and collection jobs.
    CollectionManage,
    /// Create projects (the creator becomes their owner).
    ProjectsManage,
    /// See cloud provider accounts, servers, volumes, DNS zones and infrastructure actions.
    InfrastructureRead,
    /// Connect and remove cloud provider accounts and change servers, volumes and DNS.
    InfrastructureManage,
    /// Open a server's console (sensitive).
    InfrastructureConsole,
}

impl Permission {
    /// Every permission, in catalog order.
    pub const ALL: &'static [Permission] = &[
        Self::TenantRead,
        Self::TenantUpdate,
        Self::TenantDelete,
        Self::MembersRead,
        Self::MembersManage,
        Self::RolesManage,
        Self::AuditRead,
        Self::ApiKeysManage,
        Self::TeamsManage,
        Self::WorkflowRead,
        Self::WorkflowEdit,
        Self::WorkflowExecute,
        Self::SecretManage,
        Self::BillingRead,
        Self::BillingManage,
        Self::WebhooksManage,
        Self::DocumentsRead,
        Self::DocumentsWrite,
        Self::DocumentsPublish,
        Self::DocumentsManage,
        Self::ResourcesRead,
        Self::ResourcesWrite,
        Self::ResourcesShare,
        Self::ResourcesDelete,
        Self::CollectionRead,
        Self::CollectionManage,
        Self::ProjectsManage,
        Self::InfrastructureRead,
        Self::InfrastructureManage,
        Self::InfrastructureConsole,
    ];

    /// The stable key stored in role definitions.
    pub fn key(self) -> &'static str {
        match self {
            Self::TenantRead => "tenant.read",
            Self::TenantUpdate => "tenant.update",
            Self::TenantDelete => "tenant.delete",
            Self::MembersRead => "members.read",
            Self::MembersManage => "members.manage",
            Self::RolesManage => "roles.manage",
            Self::AuditRead => "audit.read",
            Self::ApiKeysManage => "api_keys.manage",
            Self::TeamsManage => "teams.manage",
            Self::WorkflowRead => "workflow.read",
            Self::WorkflowEdit => "workflow.edit",
            Self::WorkflowExecute => "workflow.execute",
            Self::SecretManage => "secret.manage",
            Self::BillingRead => "billing.read",
            Self::BillingManage => "billing.manage",
            Self::WebhooksManage => "webhooks.manage",
            Self::DocumentsRead => "documents.read",
            Self::DocumentsWrite => "documents.write",
            Self::DocumentsPublish => "documents.publish",
            Self::DocumentsManage => "documents.manage",
            Self::ResourcesRead => "resources.read",
            Self::ResourcesWrite => "resources.write",
            Self::ResourcesShare => "resources.share",
            Self::ResourcesDelete => "resources.delete",
            Self::CollectionRead => "collection.read",
            Self::CollectionManage => "collection.manage",
            Self::ProjectsManage => "projects.manage",
            Self::InfrastructureRead => "infrastructure.read",
            Self::InfrastructureManage => "infrastructure.manage",
            Self::InfrastructureConsole => "infrastructure.console",
        }
    }

    pub fn area(self) -> &'static str {
        self.key().split('.').next().unwrap_or_default()
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::TenantRead => "See the organisation and its settings",
            Self::TenantUpdate => "Change the organisation's name and settings",
            Self::TenantDelete => "Delete or suspend the organisation",
            Self::MembersRead => "See the organisation's members",
            Self::MembersManage => "Invite, remove and change the role of members",
            Self::RolesManage => "Create and edit roles",
            Self::AuditRead => "Read the audit log",
            Self::ApiKeysManage => "Create and revoke API keys",
            Self::TeamsManage => "Create, rename and delete teams and manage their members",
            Self::WorkflowRead => "See workflows, their executions and logs, and environment variables",
            Self::WorkflowEdit => "Create, edit, publish and archive workflows and templates",
            Self::WorkflowExecute => "Run, cancel and retry workflows",
            Self::SecretManage => "Manage secrets and environment variables and read secret access logs",
            Self::BillingRead => "See the plan, usage, invoices and billing settings",
            Self::BillingManage => "Change, cancel or resume the plan and change billing settings",
            Self::WebhooksManage => "Manage webhook endpoints, their secrets and deliveries",
            Self::DocumentsRead => "See documents, their versions and comparisons",
            Self::DocumentsWrite => "Create and edit documents of one's teams and take section locks",
            Self::DocumentsPublish => "Publish documents of one's teams and restore their versions",
            Self::DocumentsManage => "Edit, publish and delete any team's documents and force-release locks",
            Self::ResourcesRead => "See and download files and their download logs",
            Self::ResourcesWrite => "Upload files and new versions and change their details",
            Self::ResourcesShare => "Create and revoke share links of files",
            Self::ResourcesDelete => "Delete files to the bin and restore them",
            Self::CollectionRead => "See collectors and one's projects with their folders, records and jobs",
            Self::CollectionManage => "Every project as its owner: members, folders, records and jobs",
            Self::ProjectsManage => "Create projects (becoming their owner)",
            Self::InfrastructureRead => {
                "See cloud providers, servers, volumes, DNS and infrastructure actions"
            }
            Self::InfrastructureManage => "Connect cloud providers and change servers, volumes and DNS",
            Self::InfrastructureConsole => "Open a server's console",
        }
    }
}

/// The modules a platform operator can switch off per organisation, each by the boolean
/// feature flag `module.<name>` (see [`Permission::module`]).
pub const MODULES: &[&str] = &["collection", "infrastructure", "resources", "studio", "workflows"];

/// The permissions of `module` (see [`Permission::module`]).
pub fn module_permissions(module: &str) -> Permissions {
    Permission::ALL.iter().copied().filter(|p| p.module() == Some(module)).collect()
}

/// A built-in role every tenant gets when it is created.
pub struct BuiltinRole {
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub permissions: &'static [Permission],
}

use Permission::*;

/// The built-in roles, from most to least powerful.
pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        key: "owner",
        name: "Owner",
        description: "Full control, including deleting the organisation",
        permissions: Permission::ALL,
    },
    BuiltinRole {
        key: "admin",
        name: "Admin",
        description: "Manages the organisation, its members and roles",
        permissions: &[
            TenantRead,
            TenantUpdate,
            MembersRead,
            MembersManage,
            RolesManage,
            AuditRead,
            ApiKeysManage,
            TeamsManage,
            WorkflowRead,
            WorkflowEdit,
            WorkflowExecute,
            SecretManage,
            BillingRead,
            WebhooksManage,
            DocumentsRead,
            DocumentsWrite,
            DocumentsPublish,
            DocumentsManage,
            ResourcesRead,
            ResourcesWrite,
            ResourcesShare,
            ResourcesDelete,
            CollectionRead,
            CollectionManage,
            ProjectsManage,
            InfrastructureRead,
            InfrastructureManage,
        ],
    },
    BuiltinRole {
        key: "member",
        name: "Member",
        description: "Works inside the organisation",
        permissions: &[
            TenantRead,
            MembersRead,
            WorkflowRead,
            WorkflowEdit,
            WorkflowExecute,
            DocumentsRead,
            DocumentsWrite,
            DocumentsPublish,
            ResourcesRead,
            ResourcesWrite,
            ResourcesShare,
            CollectionRead,
            ProjectsManage,
            InfrastructureRead,
        ],
    },
    BuiltinRole {
        key: "viewer",
        name: "Viewer",
        description: "Read-only access",
        permissions: &[TenantRead, MembersRead, WorkflowRead, DocumentsRead, ResourcesRead, CollectionRead],
    },
];

/// Rank of a role in the hierarchy: lower is more powerful. Custom roles rank with members.
pub fn role_rank(key: &str) -> u8 {
    match key {
        "owner" => 0,
        "admin" => 1,
        "viewer" => 3,
        _ => 2,
    }
}

impl Permission {
    /// The permission stored under `key`, if the catalog still has it.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.key() == key)
    }

    /// The module whose gate (the boolean feature flag `module.<name>`) holds this permission
    /// back when the platform switches the module off for an organisation; `None` for the
    /// organisation's own administration, which no flag switches off.
    pub fn module(self) -> Option<&'static str> {
        match self {
            WorkflowRead | WorkflowEdit | WorkflowExecute => Some("workflows"),
            DocumentsRead | DocumentsWrite | DocumentsPublish | DocumentsManage => Some("studio"),
            ResourcesRead | ResourcesWrite | ResourcesShare | ResourcesDelete => Some("resources"),
            CollectionRead | CollectionManage | ProjectsManage => Some("collection"),
            InfrastructureRead | InfrastructureManage | InfrastructureConsole => Some("infrastructure"),
            _ => None,
        }
    }

    const fn bit(self) -> u64 {
        1 << self as u64
    }
}

/// A set of permissions (a bit per catalog entry): what a role grants, a member holds or a
/// key may do. Copying it costs nothing, so every field's access check can carry one.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Permissions(u64);

// A bit per catalog entry: the catalog must fit the word.
const _: () = assert!(Permission::ALL.len() <= 64);

impl Permissions {
    pub const EMPTY: Self = Self(0);

    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }
    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Those of `self` that `other` does not hold.
    pub fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }
    /// Those both hold.
    pub fn and(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }
    /// Every permission of `self` is in `other`.
    pub fn is_subset(self, other: Self) -> bool {
        self.without(other).is_empty()
    }
    /// In catalog order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.iter().copied().filter(move |p| self.contains(*p))
    }
    /// The stable keys, sorted (as stored and audited).
    pub fn keys(self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self.iter().map(Permission::key).collect();
        keys.sort_unstable();
        keys
    }
    /// The set named by stored `keys`; a key the catalog no longer has grants nothing.
    pub fn from_keys<S: AsRef<str>>(keys: impl IntoIterator<Item = S>) -> Self {
        keys.into_iter().filter_map(|k| Permission::from_key(k.as_ref())).collect()
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut s = Self::EMPTY;
        for p in iter {
            s.insert(p);
        }
        s
    }
}

impl<'a> FromIterator<&'a Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = &'a Permission>>(iter: I) -> Self {
        iter.into_iter().copied().collect()
    }
}

impl std::ops::BitOr for Permissions {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl std::fmt::Debug for Permissions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter().map(Permission::key)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_holds_exactly_what_was_put_in_and_reads_back_its_keys() {
        let s = Permissions::from_keys(["members.read", "tenant.read", "no.such"]);
        assert!(s.contains(Permission::MembersRead) && s.contains(Permission::TenantRead));
        assert_eq!(s.iter().count(), 2);
        assert_eq!(s.keys(), vec!["members.read", "tenant.read"]);
        let all: Permissions = Permission::ALL.iter().collect();
        assert!(s.is_subset(all) && !all.is_subset(s));
        assert_eq!(all.without(s).iter().count(), Permission::ALL.len() - 2);
        assert_eq!(all.and(s), s);
        assert_eq!(Permission::ALL.len(), all.iter().count(), "every catalog entry has its own bit");
    }
}
