//! SeaORM entities of Zygo: plain table models, no GraphQL here.
//!
//! Relations between tables are resolved by per-request DataLoaders in the server crate,
//! so entities declare no `Relation` variants. Tenant-owned entities implement
//! [`TenantOwned`] so the scoped helpers in `zygo::db` can add the tenant filter.

pub mod api_key;
pub mod audit_entry;
pub mod auth_throttle;
pub mod backup_code;
pub mod billing_account;
pub mod cloud_floating_ip;
pub mod cloud_network_resource;
pub mod cloud_provider;
pub mod cloud_server;
pub mod cloud_snapshot;
pub mod cloud_volume;
pub mod collection_credential;
pub mod collection_export;
pub mod collection_folder;
pub mod collection_grant;
pub mod collection_job;
pub mod collection_job_input;
pub mod collection_platform;
pub mod collection_record;
pub mod collection_record_copy;
pub mod collection_saved_search;
pub mod collection_search_history;
pub mod collection_service;
pub mod data_export;
pub mod dns_record;
pub mod dns_zone;
pub mod document;
pub mod document_page;
pub mod document_section;
pub mod document_version;
pub mod environment_variable;
pub mod execution;
pub mod execution_log;
pub mod feature_flag;
pub mod infrastructure_action;
pub mod invitation;
pub mod invoice;
pub mod invoice_refund;
pub mod invoice_sequence;
pub mod job;
pub mod local_cloud_object;
pub mod mail_outbox;
pub mod membership;
pub mod memory_record;
pub mod mfa_challenge;
pub mod node_execution;
pub mod notification;
pub mod notification_preference;
pub mod oauth_identity;
pub mod oauth_state;
pub mod payment_webhook_event;
pub mod platform_audit_entry;
pub mod platform_role;
pub mod platform_security_event;
pub mod policy_acceptance;
pub mod project;
pub mod project_member;
pub mod provider_plan;
pub mod refresh_token;
pub mod resource;
pub mod resource_download;
pub mod resource_share_link;
pub mod resource_version;
pub mod role;
pub mod role_permission;
pub mod secret;
pub mod secret_access;
pub mod security_event;
pub mod session;
pub mod subscription;
pub mod support_session;
pub mod team;
pub mod team_member;
pub mod tenant;
pub mod tenant_domain;
pub mod usage_counter;
pub mod user;
pub mod user_token;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod workflow;
pub mod workflow_template;
pub mod workflow_version;

/// An entity whose rows belong to one tenant, through its `tenant_id` column.
pub trait TenantOwned: sea_orm::EntityTrait {
    /// The column holding the owning tenant's id.
    fn tenant_column() -> Self::Column;
}
