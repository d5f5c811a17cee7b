//! Per-request loaders of webhooks (inside each operation's
//! [`crate::graphql::loaders::Loaders`]): pages of many organisations' endpoints and of many
//! endpoints' deliveries, each a constant number of statements whatever the number of parents.

use std::sync::Arc;

use entity::{webhook_delivery, webhook_endpoint};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{
    db::{Reads, page::Window},
    graphql::{
        batch::{Batched, Dispatcher},
        loaders::{ChildKey, ChildPagesLoader, TenantPagesLoader},
    },
};

pub struct WebhookLoaders {
    pub endpoint_pages: Batched<(Uuid, Window), TenantPagesLoader<webhook_endpoint::Entity>>,
    pub delivery_pages: Batched<ChildKey, ChildPagesLoader<webhook_delivery::Entity>>,
}

impl WebhookLoaders {
    pub fn new(db: &DatabaseConnection, reads: &Reads, dispatcher: &Option<Arc<Dispatcher>>) -> Self {
        let d = || dispatcher.clone();
        Self {
            endpoint_pages: Batched::new(
                TenantPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    id_col: webhook_endpoint::Column::Id,
                },
                d(),
            ),
            delivery_pages: Batched::new(
                ChildPagesLoader {
                    db: db.clone(),
                    reads: reads.clone(),
                    parent: webhook_delivery::Column::EndpointId,
                    id_col: webhook_delivery::Column::Id,
                    filter: None,
                },
                d(),
            ),
        }
    }
}
