//! Per-request loaders of the studio (one [`StudioLoaders`] inside each operation's
//! [`crate::graphql::loaders::Loaders`]): a page of documents for many organisations, every
//! document's pages, every page's sections, each document's versions and teams — each a
//! constant number of statements whatever the number of parents.

use std::sync::Arc;

use crate::db::FastMap;

use crate::graphql::batch::Loader;
use entity::{TenantOwned, document, document_page, document_section, document_version, team};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    db::{
        Reads,
        page::{Rows, Window},
    },
    graphql::{
        batch::{Batched, Dispatcher},
        loaders::{ChildKey, ChildPagesLoader, TenantRow, TenantRowsLoader},
    },
};

/// Narrows a list of documents: one team's, one status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DocumentFilter {
    pub team_id: Option<Uuid>,
    pub status: Option<document::DocumentStatus>,
}

/// Pages of documents (not deleted) for many organisations, keyed by `(tenant, window,
/// filter)`: two statements per distinct window and filter.
pub struct DocumentPagesLoader {
    pub db: DatabaseConnection,
    pub reads: Reads,
}

impl Loader<(Uuid, Window, DocumentFilter)> for DocumentPagesLoader {
    type Value = Rows<document::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[(Uuid, Window, DocumentFilter)],
    ) -> Result<FastMap<(Uuid, Window, DocumentFilter), Self::Value>, Self::Error> {
        let mut groups: FastMap<(Window, DocumentFilter), Vec<Uuid>> = FastMap::default();
        for (tenant, window, filter) in keys {
            groups.entry((*window, filter.clone())).or_default().push(*tenant);
        }
        let mut out = FastMap::default();
        for ((window, filter), tenants) in groups {
            let mut select = document::Entity::find().filter(document::Column::DeletedAt.is_null());
            if let Some(team) = filter.team_id {
                select = select.filter(document::Column::TeamId.eq(team));
            }
            if let Some(status) = filter.status {
                select = select.filter(document::Column::Status.eq(status));
            }
            let pages = crate::db::page::load_scoped_pages(
                &self.db,
                &self.reads,
                select,
                document::Column::Id,
                &tenants,
                window,
            )
            .await
            .map_err(Arc::new)?;
            out.extend(pages.into_iter().map(|(t, rows)| ((t, window, filter.clone()), rows)));
        }
        Ok(out)
    }
}

/// All children of many parents (a document's pages, a page's sections), keyed by `(tenant,
/// parent)`, in `order`: one statement for all parents.
pub struct ChildrenLoader<E: TenantOwned> {
    pub db: DatabaseConnection,
    pub reads: Reads,
    pub parent: E::Column,
    pub order: fn(&E::Model) -> (i32, Uuid),
}

impl<E> Loader<(Uuid, Uuid)> for ChildrenLoader<E>
where
    E: TenantOwned + Sync,
    E::Column: Send + Sync,
    E::Model: sea_orm::ModelTrait<Entity = E> + Clone + Send + Sync,
{
    type Value = Vec<E::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<FastMap<(Uuid, Uuid), Vec<E::Model>>, Self::Error> {
        let conn = self.reads.tenants(&self.db, keys.iter().map(|k| k.0));
        let mut out =
            crate::db::load_scoped_children::<E, _>(&conn, self.parent, keys).await.map_err(Arc::new)?;
        for rows in out.values_mut() {
            rows.sort_by_key(self.order);
        }
        Ok(out)
    }
}

impl TenantRow for document_version::Model {
    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

/// The studio's loaders of one operation.
pub struct StudioLoaders {
    pub documents: Batched<(Uuid, Window, DocumentFilter), DocumentPagesLoader>,
    pub pages: Batched<(Uuid, Uuid), ChildrenLoader<document_page::Entity>>,
    pub sections: Batched<(Uuid, Uuid), ChildrenLoader<document_section::Entity>>,
    pub versions: Batched<ChildKey, ChildPagesLoader<document_version::Entity>>,
    pub teams: Batched<(Uuid, Uuid), TenantRowsLoader<team::Entity>>,
}

impl StudioLoaders {
    pub fn new(db: &DatabaseConnection, reads: &Reads, dispatcher: &Option<Arc<Dispatcher>>) -> Self {
        let (db, reads, d) = (db.clone(), reads.clone(), || dispatcher.clone());
        Self {
            documents: Batched::new(DocumentPagesLoader { db: db.clone(), reads: reads.clone() }, d()),
            pages: Batched::new(
                ChildrenLoader::<document_page::Entity> {
                    db: db.clone(),
                    reads: reads.clone(),
                    parent: document_page::Column::DocumentId,
                    order: |p| (p.position, p.id),
                },
                d(),
            ),
            sections: Batched::new(
                ChildrenLoader::<document_section::Entity> {
                    db: db.clone(),
                    reads: reads.clone(),
                    parent: document_section::Column::PageId,
                    order: |s| (s.position, s.id),
                },
                d(),
            ),
            versions: Batched::new(
                ChildPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    parent: document_version::Column::DocumentId,
                    id_col: document_version::Column::Id,
                    filter: None,
                },
                d(),
            ),
            teams: Batched::new(TenantRowsLoader { db, reads, id_col: team::Column::Id }, d()),
        }
    }
}
