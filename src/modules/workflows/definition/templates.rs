//! Starter templates shipped with Zygo, and the shape tenant-saved templates share.

use entity::workflow_template;
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    access::{Change, TenantCtx, TenantTx},
    auth::Permission,
    ctx::Ctx,
    error::{AppError, AppResult},
    modules::workflows::definition::{templates, workflows::*},
};

use crate::modules::workflows::nodes::{
    Code, DataSource, HttpRequest, Llm, ManualTrigger, NodeKind, RagContext, ScheduleTrigger, SendEmail,
    WebhookTrigger,
};

/// A template: built-in (`builtin:<key>`) or saved by a tenant (its global id).
#[derive(Clone, Debug)]
pub struct Template {
    pub key: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub graph: Value,
    pub settings: Value,
    pub builtin: bool,
}

impl Template {
    pub fn from_row(t: entity::workflow_template::Model) -> Self {
        Self {
            key: crate::graphql::relay::to_global_id(crate::graphql::relay::kind::WORKFLOW_TEMPLATE, t.id)
                .to_string(),
            name: t.name,
            description: t.description,
            category: t.category,
            graph: t.graph,
            settings: t.settings,
            builtin: false,
        }
    }
}

fn node(id: &str, ty: &str, name: &str, x: f64, config: Value) -> Value {
    json!({ "id": id, "type": ty, "name": name, "position": { "x": x, "y": 0 }, "config": config })
}

fn edge(id: &str, source: &str, port: &str, target: &str) -> Value {
    json!({ "id": id, "source": source, "sourcePort": port, "target": target, "targetPort": "main" })
}

fn builtin_one(
    key: &str,
    name: &str,
    description: &str,
    category: &str,
    nodes: Vec<Value>,
    edges: Vec<Value>,
) -> Template {
    Template {
        key: format!("builtin:{key}"),
        name: name.into(),
        description: description.into(),
        category: category.into(),
        graph: json!({ "nodes": nodes, "edges": edges }),
        settings: json!({}),
        builtin: true,
    }
}

/// The starter templates.
pub fn builtin() -> Vec<Template> {
    vec![
        builtin_one(
            "fetch-and-transform",
            "Fetch and transform",
            "Calls an HTTP API and reshapes its answer with a script.",
            "integration",
            vec![
                node("start", ManualTrigger::KEY, "Start", 0.0, json!({})),
                node(
                    "fetch",
                    HttpRequest::KEY,
                    "Fetch",
                    250.0,
                    json!({ "method": "GET", "url": "{{ trigger.url }}" }),
                ),
                node(
                    "shape",
                    Code::KEY,
                    "Shape",
                    500.0,
                    json!({ "source": "#{ status: input.status, body: input.body }" }),
                ),
            ],
            vec![edge("e1", "start", "main", "fetch"), edge("e2", "fetch", "main", "shape")],
        ),
        builtin_one(
            "webhook-to-email",
            "Webhook to e-mail",
            "Mails the payload of every webhook call.",
            "notification",
            vec![
                node("hook", WebhookTrigger::KEY, "Webhook", 0.0, json!({})),
                node(
                    "mail",
                    SendEmail::KEY,
                    "Notify",
                    250.0,
                    json!({ "to": "{{ env.NOTIFY_EMAIL }}", "subject": "Webhook received", "body": "{{ input.body | tojson }}" }),
                ),
            ],
            vec![edge("e1", "hook", "main", "mail")],
        ),
        builtin_one(
            "rag-answer",
            "Answer from memory",
            "Retrieves matching records from a memory store and asks the model with them.",
            "ai",
            vec![
                node("start", ManualTrigger::KEY, "Question", 0.0, json!({})),
                node(
                    "context",
                    RagContext::KEY,
                    "Retrieve",
                    250.0,
                    json!({ "store": "knowledge", "query": "{{ trigger.question }}" }),
                ),
                node("answer", Llm::KEY, "Answer", 500.0, json!({ "prompt": "{{ input.prompt }}" })),
            ],
            vec![edge("e1", "start", "main", "context"), edge("e2", "context", "main", "answer")],
        ),
        builtin_one(
            "daily-digest",
            "Daily digest",
            "Every morning, lists the organisation's members and mails a digest.",
            "schedule",
            vec![
                node("tick", ScheduleTrigger::KEY, "Every day at 8", 0.0, json!({ "cron": "0 8 * * *" })),
                node("members", DataSource::KEY, "Members", 250.0, json!({ "source": "members" })),
                node(
                    "mail",
                    SendEmail::KEY,
                    "Digest",
                    500.0,
                    json!({ "to": "{{ env.NOTIFY_EMAIL }}", "subject": "Daily digest", "body": "{{ input.count }} members" }),
                ),
            ],
            vec![edge("e1", "tick", "main", "members"), edge("e2", "members", "main", "mail")],
        ),
    ]
}

/// Saves a workflow's draft as a template of the tenant (`workflow.edit`).
pub async fn save_template(
    ctx: &Ctx,
    tctx: &TenantCtx,
    workflow_id: Uuid,
    name: &str,
    description: &str,
    category: &str,
) -> AppResult<workflow_template::Model> {
    tctx.require(Permission::WorkflowEdit)?;
    let name = validate_name("input.name", name)?;
    let description = validate_description("input.description", description)?;
    let category = if category.trim().is_empty() {
        "custom".to_string()
    } else {
        validate_name("input.category", category)?
    };
    let w = get_workflow(ctx, tctx, workflow_id).await?;
    let scope = tctx.scope();
    let tx = TenantTx::begin(ctx, tctx, Permission::WorkflowEdit).await?;
    let id = Uuid::now_v7();
    let t = scope
        .insert(
            &tx,
            workflow_template::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id()),
                name: Set(name.clone()),
                description: Set(description),
                category: Set(category),
                graph: Set(w.graph.clone()),
                settings: Set(w.settings.clone()),
                created_by: Set(tctx.acting_user()),
                created_at: Set(ctx.now()),
            },
        )
        .await?;
    tx.commit_with(Change {
        action: "workflow_template.saved",
        target_type: "workflow_template",
        target_id: Some(id),
        before: None,
        after: Some(json!({ "name": name, "workflowId": workflow_id })),
    })
    .await?;
    Ok(t)
}

/// Deletes a tenant template (`workflow.edit`).
pub async fn delete_template(ctx: &Ctx, tctx: &TenantCtx, id: Uuid) -> AppResult<()> {
    tctx.require(Permission::WorkflowEdit)?;
    let scope = tctx.scope();
    let mut tx = TenantTx::begin(ctx, tctx, Permission::WorkflowEdit).await?;
    let t = scope
        .find_by_id::<workflow_template::Entity, _>(&tx, id)
        .await?
        .ok_or(AppError::NotFound("template"))?;
    scope
        .delete_many::<workflow_template::Entity>()
        .filter(workflow_template::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    tx.audit(Change {
        action: "workflow_template.deleted",
        target_type: "workflow_template",
        target_id: Some(id),
        before: Some(json!({ "name": t.name })),
        after: None,
    })
    .await?;
    tx.commit().await
}

/// A template by key: `builtin:<key>` or a tenant template's id.
pub async fn find_template(ctx: &Ctx, tctx: &TenantCtx, key: &str) -> AppResult<templates::Template> {
    if let Some(t) = templates::builtin().into_iter().find(|t| t.key == key) {
        return Ok(t);
    }
    let id = crate::graphql::relay::from_global_id(&async_graphql::ID(key.to_string()))
        .filter(|(ty, _)| ty == crate::graphql::relay::kind::WORKFLOW_TEMPLATE)
        .map(|(_, id)| id)
        .ok_or_else(|| AppError::validation("input.templateId", "no such template"))?;
    let t = tctx
        .scope()
        .find_by_id::<workflow_template::Entity, _>(&tctx.on(&ctx.db), id)
        .await?
        .ok_or_else(|| AppError::validation("input.templateId", "no such template"))?;
    Ok(templates::Template::from_row(t))
}
