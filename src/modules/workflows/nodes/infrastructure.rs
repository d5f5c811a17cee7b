//! Infrastructure nodes, acting as the user the run acts for (the same permissions as the
//! GraphQL operations): `infrastructure.action` starts, stops, reboots or snapshots a server,
//! or adds/changes a DNS record, and by default waits for the provider action to end (a failed
//! one fails the node with the provider's error); `infrastructure.status` reads servers — one
//! by name, or all — with their status and address.

use std::time::Duration;

use entity::{cloud_server, dns_record, dns_zone, infrastructure_action::ActionStatus};
use futures::StreamExt;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    NodeError, Out, config,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind},
    main,
    support::access::{acting_access, publisher_holds, require},
};
use crate::{
    access::TenantCtx,
    auth::Permission,
    error::AppError,
    modules::infrastructure::{self as infra, actions, dns, servers, snapshots},
};

fn refused(e: AppError) -> NodeError {
    match e {
        AppError::Validation { .. }
        | AppError::Conflict { .. }
        | AppError::Forbidden { .. }
        | AppError::ForbiddenWith(_)
        | AppError::Plan { .. } => NodeError::new("config", e.to_string()),
        other => NodeError::new("provider", other.to_string()),
    }
}

fn server_view(s: &cloud_server::Model) -> Value {
    json!({
        "name": s.name, "status": s.status, "ipv4": s.ipv4, "serverType": s.server_type,
        "image": s.image, "location": s.location, "labels": s.labels,
    })
}

/// The organisation's server named `name` (names are unique per account; one of several
/// accounts' is refused as ambiguous).
async fn server_named(
    ctx: &NodeCtx<'_>,
    tctx: &TenantCtx,
    name: &str,
) -> Result<cloud_server::Model, NodeError> {
    let runner = &ctx.runner;
    let mut found = tctx
        .scope()
        .find::<cloud_server::Entity>()
        .filter(cloud_server::Column::Name.eq(name))
        .all(&tctx.on(&runner.app.db))
        .await?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(NodeError::new("config", format!("config.server: no server is named `{name}`"))),
        _ => Err(NodeError::new(
            "config",
            format!("config.server: several accounts have a server named `{name}`"),
        )),
    }
}

pub(crate) struct InfrastructureAction;

#[derive(Deserialize)]
pub(crate) struct ActionConfig {
    #[serde(default, deserialize_with = "config::lenient")]
    action: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    server: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    description: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    zone: Option<String>,
    #[serde(default, rename = "recordType", deserialize_with = "config::lenient")]
    record_type: Option<String>,
    #[serde(default, rename = "recordName", deserialize_with = "config::lenient")]
    record_name: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    value: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    ttl: Option<i32>,
    #[serde(default, deserialize_with = "config::lenient")]
    wait: Option<bool>,
}

impl NodeKind for InfrastructureAction {
    const KEY: &'static str = "infrastructure.action";
    const CATEGORY: &'static str = "action";
    const NAME: &'static str = "Infrastructure Action";
    const DESCRIPTION: &'static str =
        "Starts, stops, reboots or snapshots a server, or writes a DNS record, and waits for the provider.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = false;
    const DEFAULT_TIMEOUT_MS: u64 = 600_000;
    const CHECKPOINT_BEFORE: bool = true;
    const REQUIRED: &'static [&'static str] = &["action"];
    type Config = ActionConfig;

    fn properties() -> Value {
        json!({
            "action": { "enum": ["start", "stop", "reboot", "snapshot", "dns_record"] },
            "server": { "type": "string", "maxLength": 63, "description": "The server's name (server actions)" },
            "description": { "type": "string", "maxLength": 200, "description": "The snapshot's description" },
            "zone": { "type": "string", "maxLength": 253, "description": "The zone's name (dns_record)" },
            "recordType": { "enum": ["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA"] },
            "recordName": { "type": "string", "maxLength": 253 },
            "value": { "type": "string", "maxLength": 4096 },
            "ttl": { "type": "integer", "minimum": 60, "maximum": 86400 },
            "wait": { "type": "boolean", "default": true },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: ActionConfig) -> Out {
        let runner = ctx.runner.clone();
        let app = &runner.app;
        let tctx = acting_access(&runner).await?;
        require(&tctx, Permission::InfrastructureManage, "infrastructure")?;
        publisher_holds(&runner, Permission::InfrastructureManage, "an infrastructure action").await?;
        let action = config.action.as_deref().unwrap_or_default();
        let server_name = || config.server.as_deref().ok_or_else(|| config::not_a_string("server"));
        let (a, subject) = match action {
            "start" | "stop" | "reboot" => {
                let s = server_named(&ctx, &tctx, server_name()?).await?;
                let what = match action {
                    "start" => servers::ServerChange::Start,
                    "stop" => servers::ServerChange::Stop,
                    _ => servers::ServerChange::Reboot,
                };
                let (_, a) = servers::change(app, &tctx, s.id, what).await.map_err(refused)?;
                (a, json!({ "server": s.name }))
            }
            "snapshot" => {
                let s = server_named(&ctx, &tctx, server_name()?).await?;
                let (snap, a) = snapshots::create(app, &tctx, s.id, config.description.clone(), Value::Null)
                    .await
                    .map_err(refused)?;
                (a, json!({ "server": s.name, "snapshot": snap.description }))
            }
            "dns_record" => {
                let zone_name = config.zone.as_deref().ok_or_else(|| config::not_a_string("zone"))?;
                let db = tctx.on(&app.db);
                let zone = tctx
                    .scope()
                    .find::<dns_zone::Entity>()
                    .filter(dns_zone::Column::Name.eq(zone_name.trim_end_matches('.').to_ascii_lowercase()))
                    .one(&db)
                    .await?
                    .ok_or_else(|| NodeError::new("config", format!("config.zone: no zone `{zone_name}`")))?;
                let (rtype, name, value) = (
                    config.record_type.clone().ok_or_else(|| config::not_a_string("recordType"))?,
                    config.record_name.clone().ok_or_else(|| config::not_a_string("recordName"))?,
                    config.value.clone().ok_or_else(|| config::not_a_string("value"))?,
                );
                // The record of that type and name is changed; none: one is added.
                let existing = tctx
                    .scope()
                    .find::<dns_record::Entity>()
                    .filter(dns_record::Column::ZoneId.eq(zone.id))
                    .filter(dns_record::Column::RecordType.eq(rtype.to_ascii_uppercase()))
                    .filter(dns_record::Column::Name.eq(name.clone()))
                    .order_by_asc(dns_record::Column::Id)
                    .one(&db)
                    .await?;
                let req = dns::RecordInput {
                    zone: zone.id,
                    id: existing.map(|r| r.id),
                    record_type: rtype,
                    name,
                    value,
                    ttl: config.ttl,
                };
                let (r, a) = dns::upsert_record(app, &tctx, req).await.map_err(refused)?;
                (
                    a,
                    json!({ "zone": zone.name, "record": { "type": r.record_type, "name": r.name, "value": r.value } }),
                )
            }
            other => {
                return Err(NodeError::new(
                    "config",
                    format!("config.action: `{other}` is not an infrastructure action"),
                ));
            }
        };
        let a = if config.wait.unwrap_or(true) { ended(&runner.app, &tctx, a.id).await? } else { a };
        if a.status == ActionStatus::Failed {
            return Err(NodeError::new(
                "provider",
                format!("{} failed: {}", a.kind, a.error.unwrap_or_else(|| "the provider refused".into())),
            ));
        }
        let mut out = json!({ "action": { "kind": a.kind, "status": a.status, "progress": a.progress } });
        merge(&mut out, subject);
        main(out)
    }
}

fn merge(out: &mut Value, more: Value) {
    if let (Some(o), Value::Object(m)) = (out.as_object_mut(), more) {
        o.extend(m);
    }
}

/// Action `id` once it has ended: woken by the organisation's infrastructure events, looked at
/// again now and then in case one was missed.
async fn ended(
    app: &crate::ctx::Ctx,
    tctx: &TenantCtx,
    id: Uuid,
) -> Result<entity::infrastructure_action::Model, NodeError> {
    let mut events = app.bus.subscribe(&infra::topic(tctx.scope().tenant_id()));
    loop {
        let a = actions::get(app, tctx, id).await.map_err(refused)?;
        tctx.reads.release().await;
        if matches!(a.status, ActionStatus::Succeeded | ActionStatus::Failed) {
            return Ok(a);
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), events.next()).await;
    }
}

pub(crate) struct InfrastructureStatus;

#[derive(Deserialize)]
pub(crate) struct StatusConfig {
    #[serde(default, deserialize_with = "config::lenient")]
    server: Option<String>,
}

impl NodeKind for InfrastructureStatus {
    const KEY: &'static str = "infrastructure.status";
    const CATEGORY: &'static str = "data";
    const NAME: &'static str = "Infrastructure Status";
    const DESCRIPTION: &'static str =
        "Reads the organisation's servers (one by name, or all) with their status.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 10_000;
    const REQUIRED: &'static [&'static str] = &[];
    type Config = StatusConfig;

    fn properties() -> Value {
        json!({ "server": { "type": "string", "maxLength": 63, "description": "One server's name; none: all" } })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: StatusConfig) -> Out {
        let runner = ctx.runner.clone();
        let tctx = acting_access(&runner).await?;
        require(&tctx, Permission::InfrastructureRead, "infrastructure")?;
        let items: Vec<Value> = match config.server.as_deref() {
            Some(name) => vec![server_view(&server_named(&ctx, &tctx, name).await?)],
            None => tctx
                .scope()
                .find::<cloud_server::Entity>()
                .order_by_asc(cloud_server::Column::Name)
                .all(&tctx.on(&runner.app.db))
                .await?
                .iter()
                .map(server_view)
                .collect(),
        };
        let running = items.iter().filter(|s| s["status"] == "running").count();
        main(json!({ "count": items.len(), "running": running, "items": items }))
    }
}
