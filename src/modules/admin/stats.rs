//! The platform's numbers for the admin API: organisations, users (and those active in the
//! window), workflow runs, collected records, organisations and revenue by plan, and the
//! same counts by UTC day. Reads across tenants (the caller checked the platform role); a
//! fixed number of statements whatever the window.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{collection_record, execution, invoice, session, subscription, tenant, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    Statement,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::types::{PlanCount, PlanRevenue, PlatformStatistics, StatisticsBucket};
use crate::{
    ctx::Ctx,
    db::across_tenants,
    error::{AppError, AppResult},
};

/// Rows of `table` created since `from`, counted by UTC day (`YYYY-MM-DD`).
async fn per_day(
    db: &impl ConnectionTrait,
    table: &str,
    from: DateTime<Utc>,
) -> AppResult<HashMap<String, u64>> {
    let backend = db.get_database_backend();
    // The day of a timestamp: PostgreSQL formats it in UTC; SQLite stores RFC 3339 text whose
    // first ten characters are the UTC day (timestamps are written in UTC).
    let (sql, values) = match backend {
        DbBackend::Postgres => (
            format!(
                "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, COUNT(*) AS n \
                 FROM {table} WHERE created_at >= $1 GROUP BY 1"
            ),
            vec![from.into()],
        ),
        _ => (
            format!(
                "SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS n FROM {table} WHERE created_at >= ? GROUP BY 1"
            ),
            vec![from.into()],
        ),
    };
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    let mut out = HashMap::new();
    for row in rows {
        let day: String = row.try_get("", "day")?;
        let n: i64 = row.try_get("", "n")?;
        out.insert(day, u64::try_from(n).unwrap_or(0));
    }
    Ok(out)
}

/// The statistics over the last `days` days (1 to 90).
pub async fn statistics(ctx: &Ctx, days: i32) -> AppResult<PlatformStatistics> {
    if !(1..=90).contains(&days) {
        return Err(AppError::validation("days", "must be 1 to 90"));
    }
    // Counts over every tenant: the caller holds a platform role.
    let db = across_tenants(&ctx.db);
    let now = ctx.now();
    let first_day: NaiveDate = (now - Duration::days(days as i64 - 1)).date_naive();
    let from: DateTime<Utc> = first_day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();

    let organisations = tenant::Entity::find().count(&db).await?;
    let active_organisations = tenant::Entity::find()
        .filter(tenant::Column::Status.eq(tenant::TenantStatus::Active))
        .count(&db)
        .await?;
    let users = user::Entity::find().count(&db).await?;
    let active_users = session::Entity::find()
        .select_only()
        .column(session::Column::UserId)
        .filter(session::Column::LastUsedAt.gte(from))
        .distinct()
        .into_tuple::<Uuid>()
        .all(&db)
        .await?
        .len() as u64;
    let executions = execution::Entity::find().count(&db).await?;
    let collected_records = collection_record::Entity::find().count(&db).await?;

    let plans: Vec<(String, i64)> = subscription::Entity::find()
        .select_only()
        .column(subscription::Column::PlanKey)
        .column_as(Expr::col(subscription::Column::Id).count(), "n")
        .filter(subscription::Column::CurrentFor.is_not_null())
        .group_by(subscription::Column::PlanKey)
        .into_tuple()
        .all(&db)
        .await?;
    let mut by_plan: BTreeMap<String, u64> =
        plans.into_iter().map(|(p, n)| (p, u64::try_from(n).unwrap_or(0))).collect();
    let subscribed: u64 = by_plan.values().sum();
    *by_plan.entry("free".into()).or_default() += organisations.saturating_sub(subscribed);

    // Revenue: invoices paid in the window, by their subscription's plan.
    let paid: Vec<(Option<Uuid>, String, i64)> = invoice::Entity::find()
        .select_only()
        .column(invoice::Column::SubscriptionId)
        .column(invoice::Column::Currency)
        .column(invoice::Column::Total)
        .filter(invoice::Column::PaidAt.gte(from))
        .into_tuple()
        .all(&db)
        .await?;
    let sub_ids: Vec<Uuid> = paid.iter().filter_map(|(s, _, _)| *s).collect();
    let sub_plans: HashMap<Uuid, String> = if sub_ids.is_empty() {
        HashMap::new()
    } else {
        subscription::Entity::find()
            .filter(subscription::Column::Id.is_in(sub_ids))
            .all(&db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.plan_key))
            .collect()
    };
    let mut revenue: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (sub, currency, total) in paid {
        let plan = sub.and_then(|s| sub_plans.get(&s).cloned()).unwrap_or_else(|| "other".into());
        *revenue.entry((plan, currency)).or_default() += total;
    }

    let orgs_by_day = per_day(&db, "tenants", from).await?;
    let users_by_day = per_day(&db, "users", from).await?;
    let runs_by_day = per_day(&db, "executions", from).await?;
    let records_by_day = per_day(&db, "collection_records", from).await?;
    let buckets = (0..days as i64)
        .map(|i| {
            let day = first_day + Duration::days(i);
            let key = day.format("%Y-%m-%d").to_string();
            let get = |m: &HashMap<String, u64>| m.get(&key).copied().unwrap_or(0);
            StatisticsBucket {
                from: day.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
                organisations_created: get(&orgs_by_day),
                users_created: get(&users_by_day),
                executions: get(&runs_by_day),
                collected_records: get(&records_by_day),
            }
        })
        .collect();
    Ok(PlatformStatistics {
        organisations,
        active_organisations,
        users,
        active_users,
        executions,
        collected_records,
        organisations_by_plan: by_plan
            .into_iter()
            .map(|(plan, organisations)| PlanCount { plan, organisations })
            .collect(),
        revenue_by_plan: revenue
            .into_iter()
            .map(|((plan, currency), amount)| PlanRevenue { plan, currency, amount })
            .collect(),
        buckets,
    })
}
