//! Email, Data Source and memory nodes: what reads or writes the tenant's data, for the user a run acts for.

#[allow(unused_imports)]
use super::*;

pub(super) async fn email(runner: &Runner, config: &Value) -> Out {
    let to = need_str(config, "to")?.trim().to_string();
    if !email_address::EmailAddress::is_valid(&to) {
        return Err(NodeError::new("config", format!("config.to: `{to}` is not an e-mail address")));
    }
    let subject = need_str(config, "subject")?.to_string();
    let text = str_of(config, "body").unwrap_or_default().to_string();
    let html = format!(
        "<pre style=\"font-family:inherit;white-space:pre-wrap\">{}</pre>",
        crate::mail::templates::esc(&text)
    );
    let sender = mail_sender(runner).await?;
    let budget = runner.app.config.security.tenant_mail;
    let mail = crate::mail::Mail { subject: subject.clone(), text, html, attachment: None };
    crate::mail::enqueue_for_tenant(&runner.app.db, budget, &sender, &to, mail).await.map_err(
        |e| match e {
            crate::error::AppError::Rejected { message, .. } => NodeError::new("mail_budget", message),
            e => NodeError::new("internal", e.to_string()),
        },
    )?;
    runner.app.mail.wake();
    main(json!({ "to": to, "subject": subject, "queued": true }))
}

/// Who a workflow's mail comes from: the tenant (named in the `X-Zygo-Tenant` header) and,
/// as `Reply-To`, the verified address of the user who started the run, if any.
pub(super) async fn mail_sender(runner: &Runner) -> Result<crate::mail::TenantSender, NodeError> {
    let scope = runner.scope;
    let tenant = entity::tenant::Entity::find_by_id(scope.tenant_id())
        .one(&scope.on(&runner.app.db))
        .await?
        .ok_or_else(|| NodeError::new("internal", "the run's organisation is gone"))?;
    let reply_to = match runner.exec.created_by {
        Some(user_id) => user::Entity::find_by_id(user_id)
            .one(&runner.app.db)
            .await?
            .filter(|u| u.email_verified_at.is_some())
            .map(|u| u.email),
        None => None,
    };
    Ok(crate::mail::TenantSender {
        tenant_id: tenant.id,
        label: format!("{} ({}; {})", tenant.name, tenant.slug, tenant.id),
        reply_to,
    })
}

/// The access of the user a run acts for: who started it, or for runs started by a webhook,
/// a schedule or an error (no user) the workflow's creator. A node reading tenant data shows
/// only what the GraphQL API shows that user.
pub(super) async fn acting_access(runner: &Runner) -> Result<crate::access::TenantCtx, NodeError> {
    let user = match runner.exec.created_by {
        Some(u) => Some(u),
        None => runner
            .scope
            .find_by_id::<entity::workflow::Entity, _>(
                &runner.scope.on(&runner.app.db),
                runner.exec.workflow_id,
            )
            .await?
            .and_then(|w| w.created_by),
    };
    let forbidden =
        || NodeError::new("config", "the user this run acts for is no longer a member of the organisation");
    let user = user.ok_or_else(forbidden)?;
    crate::access::access(&runner.app, user, &[runner.scope.tenant_id()])
        .await?
        .remove(&runner.scope.tenant_id())
        .ok_or_else(forbidden)
}

/// FORBIDDEN-like refusal of a source the acting user may not read.
pub(super) fn require(
    tctx: &crate::access::TenantCtx,
    p: crate::auth::Permission,
    source: &str,
) -> Result<(), NodeError> {
    if tctx.has(p) {
        Ok(())
    } else {
        Err(NodeError::new(
            "config",
            format!(
                "config.source: reading `{source}` needs the permission `{}`, which the user this run acts for lacks",
                p.key()
            ),
        ))
    }
}

pub(super) async fn data_source(runner: &Runner, config: &Value) -> Out {
    use crate::auth::Permission;
    let scope = runner.scope;
    let limit = config.get("limit").and_then(Value::as_u64).unwrap_or(100).min(1000);
    let source = str_of(config, "source").unwrap_or_default();
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
            runner.env.iter().map(|(k, v)| json!({ "name": k, "value": v })).take(limit as usize).collect()
        }
        "memory" => {
            require(&tctx, Permission::WorkflowRead, source)?;
            let store = need_str(config, "store")?;
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
        other => return Err(NodeError::new("config", format!("config.source: unknown source `{other}`"))),
    };
    main(json!({ "items": rows, "count": rows.len() }))
}

pub(super) async fn memory_store(runner: &Runner, spec: &NodeSpec, config: &Value) -> Out {
    let store = need_str(config, "store")?.to_string();
    let content = match config.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => return Err(NodeError::new("config", "config.content is required")),
    };
    if content.len() > 100_000 {
        return Err(NodeError::new("config", "config.content is longer than 100000 bytes"));
    }
    let id = Uuid::now_v7();
    runner
        .scope
        .insert(
            &runner.scope.on(&runner.app.db),
            memory_record::ActiveModel {
                id: Set(id),
                tenant_id: Set(runner.scope.tenant_id()),
                store: Set(store.clone()),
                content: Set(runner.redact(&content)),
                metadata: Set(config.get("metadata").cloned().unwrap_or(json!({}))),
                created_at: Set(Utc::now()),
            },
        )
        .await?;
    runner.log(Some(&spec.id), "info", format!("stored a record in memory `{store}`"));
    main(json!({ "id": id, "store": store }))
}

pub(super) fn keywords(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Records of a store ranked by how many of the query's keywords they contain (then by
/// how often), newest first on ties.
pub(super) async fn memory_search(runner: &Runner, config: &Value) -> Result<Vec<Value>, NodeError> {
    use sea_orm::sea_query::ExprTrait;
    require(&acting_access(runner).await?, crate::auth::Permission::WorkflowRead, "memory")?;
    let store = need_str(config, "store")?;
    let query = need_str(config, "query")?;
    let limit = Ord::min(config.get("limit").and_then(Value::as_u64).unwrap_or(5), 100) as usize;
    let words = keywords(query);
    if words.is_empty() {
        return Ok(vec![]);
    }
    let mut cond = sea_orm::Condition::any();
    for w in &words {
        cond = cond.add(memory_record::Column::Content.like(format!("%{w}%")));
    }
    // LIKE is case-insensitive for ASCII on SQLite but not on PostgreSQL: compare lower-cased.
    let mut lower_cond = sea_orm::Condition::any();
    for w in &words {
        lower_cond = lower_cond.add(
            sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::lower(sea_orm::sea_query::Expr::col(
                memory_record::Column::Content,
            )))
            .like(format!("%{w}%")),
        );
    }
    let _ = cond;
    let rows = runner
        .scope
        .find::<memory_record::Entity>()
        .filter(memory_record::Column::Store.eq(store))
        .filter(lower_cond)
        .order_by_desc(memory_record::Column::Id)
        .limit(2000)
        .all(&runner.scope.on(&runner.app.db))
        .await?;
    let mut scored: Vec<(usize, usize, memory_record::Model)> = rows
        .into_iter()
        .map(|r| {
            let text = r.content.to_lowercase();
            let hits = words.iter().filter(|w| text.contains(w.as_str())).count();
            let count = words.iter().map(|w| text.matches(w.as_str()).count()).sum();
            (hits, count, r)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(b.2.id.cmp(&a.2.id)));
    Ok(scored
        .into_iter()
        .take(limit)
        .map(|(hits, _, r)| {
            json!({
                "id": r.id,
                "content": r.content,
                "metadata": r.metadata,
                "score": hits as f64 / words.len() as f64,
            })
        })
        .collect())
}
