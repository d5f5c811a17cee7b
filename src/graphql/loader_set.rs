//! The batched loaders of one operation ([`LoaderSet`]), made together on the operation's
//! first load by [`Loaders`](super::loaders::Loaders).

use std::sync::Arc;

use entity::{invitation, role};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};
use uuid::Uuid;

use super::loaders::{
    ChildKey, ChildPagesLoader, PerTenantLoader, TenantPagesLoader, TenantRowsLoader, UserLoader,
    UserTenantsLoader,
};
use crate::{
    db::Reads,
    db::page::Window,
    graphql::batch::{Batched, Dispatcher},
    modules::teams::loaders::{TeamMemberPageKey, TeamMemberPagesLoader},
    modules::tenancy::loaders::{MemberFilter, MemberPagesLoader},
};

/// The batched loaders of one operation, made on its first load (see [`Loaders`](super::loaders::Loaders)).
pub struct LoaderSet {
    pub users: Batched<Uuid, UserLoader>,
    pub memberships: Batched<(Uuid, Uuid), TenantRowsLoader<entity::membership::Entity>>,
    pub user_tenants: Batched<Uuid, UserTenantsLoader>,
    pub member_pages: Batched<(Uuid, Window, MemberFilter), MemberPagesLoader>,
    pub role_pages: Batched<(Uuid, Window), TenantPagesLoader<role::Entity>>,
    pub invitation_pages: Batched<(Uuid, Window), TenantPagesLoader<invitation::Entity>>,
    pub api_key_pages: Batched<(Uuid, Window), TenantPagesLoader<entity::api_key::Entity>>,
    pub team_pages: Batched<(Uuid, Window), TenantPagesLoader<entity::team::Entity>>,
    pub team_member_pages: Batched<TeamMemberPageKey, TeamMemberPagesLoader>,
    pub version_pages: Batched<ChildKey, ChildPagesLoader<entity::workflow_version::Entity>>,
    pub execution_pages: Batched<ChildKey, ChildPagesLoader<entity::execution::Entity>>,
    pub execution_log_pages: Batched<ChildKey, ChildPagesLoader<entity::execution_log::Entity>>,
    pub secret_access_pages: Batched<ChildKey, ChildPagesLoader<entity::secret_access::Entity>>,
    pub secret_pages: Batched<(Uuid, Window), TenantPagesLoader<entity::secret::Entity>>,
    pub subscriptions: Batched<Uuid, PerTenantLoader<entity::subscription::Entity>>,
    pub billing_accounts: Batched<Uuid, PerTenantLoader<entity::billing_account::Entity>>,
    pub invoice_pages: Batched<(Uuid, Window), TenantPagesLoader<entity::invoice::Entity>>,
    /// Webhook endpoints and their deliveries.
    pub webhooks: crate::modules::webhooks::loaders::WebhookLoaders,
    pub resources: crate::modules::resources::loaders::ResourceLoaders,
    /// The studio's documents, pages, sections, versions and their teams.
    pub studio: crate::modules::studio::loaders::StudioLoaders,
}

impl LoaderSet {
    pub(super) fn new(db: &DatabaseConnection, reads: &Reads, dispatcher: &Option<Arc<Dispatcher>>) -> Self {
        let d = || dispatcher.clone();
        Self {
            users: Batched::new(UserLoader { db: db.clone(), reads: reads.clone() }, d()),
            memberships: Batched::new(
                TenantRowsLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    id_col: entity::membership::Column::Id,
                },
                d(),
            ),
            user_tenants: Batched::new(UserTenantsLoader { db: db.clone(), reads: reads.clone() }, d()),
            member_pages: Batched::new(MemberPagesLoader { db: db.clone(), reads: reads.clone() }, d()),
            role_pages: Batched::new(
                TenantPagesLoader { db: db.clone(), reads: reads.clone(), id_col: role::Column::Id },
                d(),
            ),
            invitation_pages: Batched::new(
                TenantPagesLoader { db: db.clone(), reads: reads.clone(), id_col: invitation::Column::Id },
                d(),
            ),
            api_key_pages: Batched::new(
                TenantPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    id_col: entity::api_key::Column::Id,
                },
                d(),
            ),
            team_pages: Batched::new(
                TenantPagesLoader { db: db.clone(), reads: reads.clone(), id_col: entity::team::Column::Id },
                d(),
            ),
            team_member_pages: Batched::new(
                TeamMemberPagesLoader { db: db.clone(), reads: reads.clone() },
                d(),
            ),
            version_pages: Batched::new(
                ChildPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    parent: entity::workflow_version::Column::WorkflowId,
                    id_col: entity::workflow_version::Column::Id,
                    filter: None,
                },
                d(),
            ),
            execution_pages: Batched::new(
                ChildPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    parent: entity::execution::Column::WorkflowId,
                    id_col: entity::execution::Column::Id,
                    filter: Some(|select, status| {
                        select.filter(entity::execution::Column::Status.eq(status.to_string()))
                    }),
                },
                d(),
            ),
            execution_log_pages: Batched::new(
                ChildPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    parent: entity::execution_log::Column::ExecutionId,
                    id_col: entity::execution_log::Column::Id,
                    filter: None,
                },
                d(),
            ),
            secret_access_pages: Batched::new(
                ChildPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    parent: entity::secret_access::Column::SecretId,
                    id_col: entity::secret_access::Column::Id,
                    filter: None,
                },
                d(),
            ),
            secret_pages: Batched::new(
                TenantPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    id_col: entity::secret::Column::Id,
                },
                d(),
            ),
            subscriptions: Batched::new(
                PerTenantLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    current: Some(
                        sea_orm::Condition::all().add(entity::subscription::Column::CurrentFor.is_not_null()),
                    ),
                    _entity: std::marker::PhantomData,
                },
                d(),
            ),
            billing_accounts: Batched::new(
                PerTenantLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    current: None,
                    _entity: std::marker::PhantomData,
                },
                d(),
            ),
            invoice_pages: Batched::new(
                TenantPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    id_col: entity::invoice::Column::Id,
                },
                d(),
            ),
            webhooks: crate::modules::webhooks::loaders::WebhookLoaders::new(db, reads, dispatcher),
            resources: crate::modules::resources::loaders::ResourceLoaders::new(db, reads, dispatcher),
            studio: crate::modules::studio::loaders::StudioLoaders::new(db, reads, dispatcher),
        }
    }
}
