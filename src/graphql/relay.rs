//! Relay helpers: opaque global IDs and cursor connections with a maximum page size.
//!
//! A global ID is `base64url("Type:uuid")`. Connections page by primary key: every
//! entity uses time-ordered UUID v7 ids, so id order is creation order and a cursor is
//! simply an encoded id.

use async_graphql::{ID, SimpleObject};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{ConnectionTrait, EntityTrait, Select};
use uuid::Uuid;

use crate::{
    db::page::Rows,
    error::{AppError, AppResult},
};

/// The type names global IDs carry, one constant per type: an ID's type is written and
/// checked through these, never as a string literal.
pub mod kind {
    pub const API_KEY: &str = "ApiKey";
    pub const CLOUD_PROVIDER: &str = "CloudProvider";
    pub const DNS_RECORD: &str = "DnsRecord";
    pub const DNS_ZONE: &str = "DnsZone";
    pub const INFRASTRUCTURE_ACTION: &str = "InfrastructureAction";
    pub const SERVER: &str = "Server";
    pub const VOLUME: &str = "Volume";
    pub const SNAPSHOT: &str = "Snapshot";
    pub const FLOATING_IP: &str = "FloatingIp";
    pub const NETWORK: &str = "Network";
    pub const FIREWALL: &str = "Firewall";
    pub const LOAD_BALANCER: &str = "LoadBalancer";
    pub const AUDIT_ENTRY: &str = "AuditEntry";
    pub const COLLECTED_RECORD: &str = "CollectedRecord";
    pub const COLLECTION_JOB: &str = "CollectionJob";
    pub const COLLECTION_PLATFORM: &str = "CollectionPlatform";
    pub const COLLECTION_FOLDER: &str = "CollectionFolder";
    pub const COLLECTION_EXPORT: &str = "CollectionExport";
    pub const RECORD_EXPORT: &str = "RecordExport";
    pub const SAVED_SEARCH: &str = "SavedSearch";
    pub const PLATFORM_SERVICE: &str = "PlatformService";
    pub const PROJECT: &str = "Project";
    pub const CONNECTED_ACCOUNT: &str = "ConnectedAccount";
    pub const DATA_EXPORT: &str = "DataExport";
    pub const DOCUMENT: &str = "Document";
    pub const DOCUMENT_PAGE: &str = "DocumentPage";
    pub const DOCUMENT_SECTION: &str = "DocumentSection";
    pub const DOCUMENT_VERSION: &str = "DocumentVersion";
    pub const ENVIRONMENT_VARIABLE: &str = "EnvironmentVariable";
    pub const EXECUTION: &str = "Execution";
    pub const EXECUTION_LOG: &str = "ExecutionLog";
    pub const INVITATION: &str = "Invitation";
    pub const INVOICE: &str = "Invoice";
    pub const MEMBERSHIP: &str = "Membership";
    pub const NOTIFICATION: &str = "Notification";
    pub const ROLE: &str = "Role";
    pub const SECRET: &str = "Secret";
    pub const SECURITY_EVENT: &str = "SecurityEvent";
    pub const SESSION: &str = "Session";
    pub const SUBSCRIPTION: &str = "Subscription";
    pub const SUPPORT_SESSION: &str = "SupportSession";
    pub const TEAM: &str = "Team";
    pub const TENANT: &str = "Tenant";
    pub const TENANT_DOMAIN: &str = "TenantDomain";
    pub const USER: &str = "User";
    pub const WORKFLOW: &str = "Workflow";
    pub const WORKFLOW_TEMPLATE: &str = "WorkflowTemplate";
    pub const WORKFLOW_VERSION: &str = "WorkflowVersion";
    pub const RESOURCE: &str = "Resource";
    pub const RESOURCE_DOWNLOAD: &str = "ResourceDownload";
    pub const RESOURCE_SHARE_LINK: &str = "ResourceShareLink";
    pub const RESOURCE_VERSION: &str = "ResourceVersion";
    pub const WEBHOOK_DELIVERY: &str = "WebhookDelivery";
    pub const WEBHOOK_ENDPOINT: &str = "WebhookEndpoint";
}

/// Encodes a global ID.
pub fn to_global_id(type_name: &str, id: Uuid) -> ID {
    // `Type:uuid` on the stack, then one allocation for its encoding: a page of a thousand
    // rows makes thousands of these.
    let mut raw = [0u8; 64 + uuid::fmt::Hyphenated::LENGTH];
    let name = type_name.as_bytes();
    if name.len() > 63 {
        return ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}")));
    }
    raw[..name.len()].copy_from_slice(name);
    raw[name.len()] = b':';
    let end = name.len() + 1 + uuid::fmt::Hyphenated::LENGTH;
    id.hyphenated().encode_lower(&mut raw[name.len() + 1..end]);
    ID(URL_SAFE_NO_PAD.encode(&raw[..end]))
}

/// Decodes any global ID into its type name and id.
pub fn from_global_id(id: &ID) -> Option<(String, Uuid)> {
    let raw = URL_SAFE_NO_PAD.decode(id.as_str()).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (ty, uuid) = raw.split_once(':')?;
    Some((ty.to_string(), Uuid::parse_str(uuid).ok()?))
}

/// Decodes a global ID that must name `type_name`; `field` names the argument in errors.
/// An ID of another type (a User's ID given where a Tenant's belongs) is BAD_USER_INPUT
/// naming the argument, like a string that is not an ID at all: it is a caller's mistake,
/// not a missing row. Saying which type it named reveals nothing the ID does not carry.
pub fn decode_id(field: &str, id: &ID, type_name: &'static str) -> AppResult<Uuid> {
    match from_global_id(id) {
        Some((ty, uuid)) if ty == type_name => Ok(uuid),
        Some((ty, _)) => {
            Err(AppError::validation(field, format!("is the ID of a {ty}, not of a {type_name}")))
        }
        None => Err(AppError::validation(field, "not a valid ID")),
    }
}

/// Fields every connection carries besides edges and pageInfo.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct ConnectionFields {
    /// Number of items in the whole list, across all pages.
    pub total_count: u64,
}

/// A Relay connection of `T` with `totalCount` ([`super::connection`]).
pub use super::connection::Conn;
pub use crate::db::page::PageArgs;

pub use crate::db::page::DEFAULT_PAGE_SIZE;

/// The query cost of a connection field: its page (`last` or `first`, else the default page)
/// times the cost of its selection, plus one for the field itself. Checked against
/// `ZYGO_MAX_QUERY_COMPLEXITY` before anything runs.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let page = last.or(first).map_or(DEFAULT_PAGE_SIZE, |n| n.max(0) as usize);
    page.saturating_mul(child_complexity).saturating_add(1)
}

/// `window`, counting the whole list only if the connection being resolved selects
/// `totalCount` (the loaders then skip their count statement).
pub fn counted(ctx: &async_graphql::Context<'_>, window: crate::db::page::Window) -> crate::db::page::Window {
    window.with_total(ctx.look_ahead().field("totalCount").exists())
}

/// Turns a page of rows into a Relay connection.
pub fn to_connection<M, T: async_graphql::ContainerType>(
    rows: Rows<M>,
    id_of: impl Fn(&M) -> Uuid,
    to_node: impl Fn(M) -> T,
) -> Conn<T> {
    let mut conn = Conn::new(rows.has_previous, rows.has_next, rows.total);
    conn.edges.reserve(rows.rows.len());
    for row in rows.rows {
        conn.push_id(id_of(&row), to_node(row));
    }
    conn
}

/// Runs `select` as one page of a connection ordered by `id_col`: one statement for the
/// page, one for `totalCount`.
pub async fn paginate<E, C, T>(
    db: &C,
    select: Select<E>,
    id_col: E::Column,
    id_of: impl Fn(&E::Model) -> Uuid,
    args: PageArgs,
    max_page_size: usize,
    to_node: impl Fn(E::Model) -> T,
) -> AppResult<Conn<T>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
    T: async_graphql::ContainerType,
{
    let window = args.window(max_page_size)?;
    let rows = crate::db::page::page(db, select, id_col, window).await?;
    Ok(to_connection(rows, id_of, to_node))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_check_their_type() {
        let id = Uuid::now_v7();
        let gid = to_global_id("Tenant", id);
        // The encoding every ID ever handed out has: base64url (unpadded) of `Type:uuid`.
        assert_eq!(gid.0, URL_SAFE_NO_PAD.encode(format!("Tenant:{id}")));
        let long = "T".repeat(80);
        assert_eq!(to_global_id(&long, id).0, URL_SAFE_NO_PAD.encode(format!("{long}:{id}")));
        assert_eq!(from_global_id(&gid), Some(("Tenant".into(), id)));
        assert_eq!(decode_id("id", &gid, "Tenant").unwrap(), id);
        // An ID of another type is the caller's mistake, named like a malformed one.
        assert!(
            matches!(decode_id("id", &gid, "User"), Err(AppError::Validation { field, .. }) if field == "id")
        );
        assert!(matches!(decode_id("id", &ID("garbage!".into()), "User"), Err(AppError::Validation { .. })));
    }
}
