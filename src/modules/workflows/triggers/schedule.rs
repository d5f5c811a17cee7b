//! Cron schedules of `trigger.schedule` nodes (parsed by `croner`).

use chrono::{DateTime, Utc};
use entity::{
    execution::ExecutionTrigger,
    workflow::{self, WorkflowStatus},
};
use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::modules::workflows::nodes::{NodeKind, ScheduleTrigger};
use crate::{
    db::{TenantScope, begin_tenant_txn},
    error::AppResult,
    modules::workflows::{
        definition::{graph::Graph, workflows::*},
        runtime::executions::*,
    },
    startup::AppState,
};

use std::str::FromStr;

/// A parsed schedule: the cron pattern and its time zone.
pub struct Schedule {
    cron: croner::Cron,
    tz: chrono_tz::Tz,
}

/// Parses `cron` (5 fields, or 6 with seconds) in `timezone` (IANA name, default UTC).
pub fn parse(cron: &str, timezone: Option<&str>) -> Result<Schedule, String> {
    let tz = match timezone {
        None | Some("") => chrono_tz::UTC,
        Some(name) => chrono_tz::Tz::from_str(name).map_err(|_| format!("unknown time zone `{name}`"))?,
    };
    let cron = croner::Cron::from_str(cron).map_err(|e| e.to_string())?;
    Ok(Schedule { cron, tz })
}

impl Schedule {
    /// The first time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.tz);
        self.cron.find_next_occurrence(&local, false).ok().map(|t| t.with_timezone(&Utc))
    }
}

/// The next run time of the graph's schedule trigger, if it has one.
pub fn next_schedule(g: &Graph, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    g.nodes
        .iter()
        .filter(|n| n.node_type == ScheduleTrigger::KEY)
        .filter_map(|n| {
            let cron = n.config.get("cron")?.as_str()?;
            crate::modules::workflows::triggers::schedule::parse(
                cron,
                n.config.get("timezone").and_then(Value::as_str),
            )
            .ok()?
            .next_after(after)
        })
        .min()
}

/// Starts scheduled runs until shutdown. Each due workflow is claimed by moving its next run
/// time forward with a compare-and-set, so one instance starts each tick exactly once.
pub async fn run_scheduler(app: AppState) {
    if app.config.workflows.workers == 0 {
        return;
    }
    let tick = app.config.workflows.poll_interval.max(std::time::Duration::from_millis(200));
    loop {
        if let Err(e) = schedule_due(&app).await {
            tracing::warn!(error = %e, "workflow scheduler failed");
        }
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = tokio::time::sleep(tick) => {}
        }
    }
}

pub(in crate::modules::workflows) async fn schedule_due(app: &AppState) -> AppResult<()> {
    use sea_orm::{EntityTrait, QuerySelect};
    let now = Utc::now();
    // Which tenants' workflows are due is read before any tenant decision: the scheduler
    // acts for each of them through its own scope below.
    let due = workflow::Entity::find()
        .filter(workflow::Column::ScheduleNextAt.lte(now))
        .filter(workflow::Column::Status.eq(WorkflowStatus::Active))
        .limit(50)
        .all(&crate::db::across_tenants(&app.db))
        .await?;
    for w in due {
        let scope = TenantScope::new(w.tenant_id);
        let txn = begin_tenant_txn(&app.db, scope).await?;
        let (ver, g) = live_graph(&txn, scope, &w).await?;
        let next = next_schedule(&g, now);
        let claimed = scope
            .update_many::<workflow::Entity>()
            .col_expr(workflow::Column::ScheduleNextAt, Expr::value(next))
            .filter(workflow::Column::Id.eq(w.id))
            .filter(workflow::Column::ScheduleNextAt.eq(w.schedule_next_at))
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            let queued = enqueue(
                &txn,
                &app.config,
                scope,
                w.id,
                Snapshot::of(&w, ver.as_ref()),
                json!({ "scheduledAt": w.schedule_next_at }),
                ExecutionTrigger::Schedule,
                None,
                None,
            )
            .await?;
            // A refused tick is skipped, not kept for later: the schedule moves on either
            // way, so a reactivated organisation does not get a burst of old ticks.
            txn.commit().await?;
            match queued {
                Ok(e) => announce(app, &e).await,
                Err(r) => tracing::debug!(workflow = %w.id, reason = r.message(), "scheduled run refused"),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_occurrences() {
        let s = parse("*/15 * * * *", None).unwrap();
        let t = DateTime::parse_from_rfc3339("2026-11-21T10:07:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(s.next_after(t).unwrap().to_rfc3339(), "2026-11-21T10:15:00+00:00");
        let oslo = parse("0 9 * * *", Some("Europe/Oslo")).unwrap();
        assert_eq!(oslo.next_after(t).unwrap().to_rfc3339(), "2026-11-22T08:00:00+00:00");
        assert!(parse("not a cron", None).is_err());
        assert!(parse("* * * * *", Some("Mars/Base")).is_err());
    }
}
