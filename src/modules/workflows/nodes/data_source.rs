//! Data Source: reads the organisation's data, as the user the run acts for may see it.

use std::collections::HashMap;

use entity::{membership, memory_record, role, team, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    NodeError, Out, config,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind},
    main,
    support::access::{acting_access, require},
};
use crate::auth::Permission;

pub(crate) struct DataSource;

#[derive(Deserialize)]
pub(crate) struct DataSourceConfig {
    /// Anything but a known source name is refused when the node runs.
    #[serde(default, deserialize_with = "config::lenient")]
    source: Option<String>,
    /// Needed (as a string) by the `memory` source only.
    #[serde(default, deserialize_with = "config::lenient")]
    store: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    limit: Option<u64>,
}

impl NodeKind for DataSource {
    const KEY: &'static str = "data.source";
    const CATEGORY: &'static str = "data";
    const NAME: &'static str = "Data Source";
    const DESCRIPTION: &'static str =
        "Reads the organisation's data: members, teams, environment variables or a memory store.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 10_000;
    const REQUIRED: &'static [&'static str] = &["source"];
    type Config = DataSourceConfig;

    fn properties() -> Value {
        json!({
            "source": { "enum": ["members", "teams", "environment", "memory"] },
            "store": { "type": "string", "maxLength": 100 },
            "limit": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: DataSourceConfig) -> Out {
        let runner = &ctx.runner;
        let scope = runner.scope;
        let limit = config.limit.unwrap_or(100).min(1000);
        let source = config.source.as_deref().unwrap_or_default();
        // The same permissions as the GraphQL fields that show this data, for the acting user.
        let tctx = acting_access(runner).await?;
        let db = &scope.on(&runner.app.db);
        let rows: Vec<Value> = match source {
            "members" => {
                require(&tctx, Permission::MembersRead, source)?;
                // `User.email`: the user's own, or everyone's with MEMBERS_MANAGE.
                let all_emails = tctx.has(Permission::MembersManage);
                let members = scope
                    .find::<membership::Entity>()
                    .order_by_asc(membership::Column::Id)
                    .limit(limit)
                    .all(db)
                    .await?;
                let roles: HashMap<Uuid, String> =
                    scope.find::<role::Entity>().all(db).await?.into_iter().map(|r| (r.id, r.key)).collect();
                let users: HashMap<Uuid, user::Model> = user::Entity::find()
                    .filter(user::Column::Id.is_in(members.iter().map(|m| m.user_id)))
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|u| (u.id, u))
                    .collect();
                members
                .iter()
                .map(|m| {
                    let u = users.get(&m.user_id);
                    json!({
                        "email": u.filter(|u| all_emails || u.id == tctx.user_id).map(|u| u.email.clone()),
                        "name": u.map(|u| u.name.clone()),
                        "role": roles.get(&m.role_id),
                        "status": m.status,
                        "joinedAt": m.created_at,
                    })
                })
                .collect()
            }
            "teams" => {
                require(&tctx, Permission::TenantRead, source)?;
                scope
                    .find::<team::Entity>()
                    .order_by_asc(team::Column::Name)
                    .limit(limit)
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|t| json!({ "name": t.name, "description": t.description }))
                    .collect()
            }
            "environment" => {
                require(&tctx, Permission::WorkflowRead, source)?;
                runner
                    .env
                    .iter()
                    .map(|(k, v)| json!({ "name": k, "value": v }))
                    .take(limit as usize)
                    .collect()
            }
            "memory" => {
                require(&tctx, Permission::WorkflowRead, source)?;
                let store = config.store.as_deref().ok_or_else(|| config::not_a_string("store"))?;
                scope
                .find::<memory_record::Entity>()
                .filter(memory_record::Column::Store.eq(store))
                .order_by_desc(memory_record::Column::Id)
                .limit(limit)
                .all(db)
                .await?
                .into_iter()
                .map(|r| json!({ "id": r.id, "content": r.content, "metadata": r.metadata, "createdAt": r.created_at }))
                .collect()
            }
            other => {
                return Err(NodeError::new("config", format!("config.source: unknown source `{other}`")));
            }
        };
        main(json!({ "items": rows, "count": rows.len() }))
    }
}
