//! Per-request loaders of resources (inside each operation's
//! [`crate::graphql::loaders::Loaders`]): every resource's versions, share links and downloads,
//! and versions by id — each a constant number of statements whatever the number of parents.

use std::sync::Arc;

use entity::{resource_download, resource_share_link, resource_version};
use sea_orm::DatabaseConnection;

use crate::{
    db::Reads,
    graphql::{
        batch::{Batched, Dispatcher},
        loaders::{ChildKey, ChildPagesLoader, TenantRow, TenantRowsLoader},
    },
};

impl TenantRow for resource_version::Model {
    fn tenant_id(&self) -> uuid::Uuid {
        self.tenant_id
    }
}
impl TenantRow for resource_share_link::Model {
    fn tenant_id(&self) -> uuid::Uuid {
        self.tenant_id
    }
}
impl TenantRow for resource_download::Model {
    fn tenant_id(&self) -> uuid::Uuid {
        self.tenant_id
    }
}

pub struct ResourceLoaders {
    pub versions: Batched<ChildKey, ChildPagesLoader<resource_version::Entity>>,
    pub version_by_id: Batched<(uuid::Uuid, uuid::Uuid), TenantRowsLoader<resource_version::Entity>>,
    pub share_links: Batched<ChildKey, ChildPagesLoader<resource_share_link::Entity>>,
    pub downloads: Batched<ChildKey, ChildPagesLoader<resource_download::Entity>>,
}

impl ResourceLoaders {
    pub fn new(db: &DatabaseConnection, reads: &Reads, dispatcher: &Option<Arc<Dispatcher>>) -> Self {
        let d = || dispatcher.clone();
        Self {
            versions: Batched::new(
                ChildPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    parent: resource_version::Column::ResourceId,
                    id_col: resource_version::Column::Id,
                    filter: None,
                },
                d(),
            ),
            version_by_id: Batched::new(
                TenantRowsLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    id_col: resource_version::Column::Id,
                },
                d(),
            ),
            share_links: Batched::new(
                ChildPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    parent: resource_share_link::Column::ResourceId,
                    id_col: resource_share_link::Column::Id,
                    filter: None,
                },
                d(),
            ),
            downloads: Batched::new(
                ChildPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    parent: resource_download::Column::ResourceId,
                    id_col: resource_download::Column::Id,
                    filter: None,
                },
                d(),
            ),
        }
    }
}
