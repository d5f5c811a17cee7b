//! `Viewer`, merged from one part per module: identity's account fields (`ViewerCore`) and
//! security's sessions, log, factor and connected accounts (`ViewerSecurity`), each declared in
//! its module's `types.rs`, so neither module reaches into the other's types.

use std::sync::Arc;

use async_graphql::MergedObject;
use entity::user;

use crate::modules::{
    identity::types::ViewerCore, notifications::types::ViewerNotifications, privacy::types::ViewerPrivacy,
    security::types::ViewerSecurity, support::types::ViewerSupport,
};

/// The signed-in user, with what only they may see.
#[derive(MergedObject, Clone)]
#[graphql(name = "Viewer")]
pub struct Viewer(ViewerCore, ViewerSecurity, ViewerNotifications, ViewerPrivacy, ViewerSupport);

impl Viewer {
    pub fn new(model: user::Model) -> Self {
        let row = Arc::new(model);
        Viewer(
            ViewerCore(row.clone()),
            ViewerSecurity(row.clone()),
            ViewerNotifications(row.clone()),
            ViewerPrivacy(row.clone()),
            ViewerSupport(row),
        )
    }
}
