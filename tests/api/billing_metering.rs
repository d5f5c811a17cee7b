//! Billing's metering and what rests on it: refused webhooks in the platform's security
//! log, API operations counted per organisation and month (exact under concurrency and
//! across instances, QUOTA_EXCEEDED past the plan's allowance), per-plan rate limits for
//! API keys, usage history, overage on the renewal invoice, VOID invoices and PAUSED
//! subscriptions.

use chrono::{TimeZone, Utc};
use serde_json::json;
use zygo::ctx::Clock;

use crate::{billing::*, doc, gql::*, helpers::*};

const ADMIN: &str = "ops@zygo.example";

/// `ZYGO_BILLING_PLANS_FILE` for the metering tests' catalog (small allowances).
fn metered_plans() -> (&'static str, String) {
    ("ZYGO_BILLING_PLANS_FILE", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/plans-metered.json").into())
}

/// Options for an app on the metered catalog and a manual clock at 1 December 2026, noon.
fn metered_opts(clock: &Clock) -> Options {
    Options { clock: Some(clock.clone()), env: vec![metered_plans()], ..Default::default() }
}

fn dec_1() -> Clock {
    Clock::manual(Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap())
}

async fn metered_app() -> (TestApp, Clock) {
    let clock = dec_1();
    (spawn_app_on(Backend::fresh().await, metered_opts(&clock)).await, clock)
}

/// API operations the organisation used this month, as its billing page shows them (the
/// read itself counts one).
async fn operations_used(app: &TestApp, s: &Session, tenant: &str) -> i64 {
    billing(app, s, tenant).await.usage_of(Limit::API_OPERATIONS_PER_MONTH).used
}

async fn trial(app: &TestApp, s: &Session, tenant: &str, plan: &str) {
    app.gql(
        Some(&s.access),
        doc!("billing/ChangePlan"),
        json!({ "input": { "tenantId": tenant, "plan": plan, "interval": "MONTH", "trial": true } }),
    )
    .await
    .data();
}

fn settings(app: &TestApp, token: &str, tenant: &str) -> impl Future<Output = Gql> {
    app.gql(Some(token), doc!("tenancy/TenantSettings"), json!({ "id": tenant }))
}

#[tokio::test]
async fn a_webhook_with_a_forged_signature_is_refused_and_recorded_in_the_platform_security_log() {
    let clock = dec_1();
    let mut opts = metered_opts(&clock);
    opts.env.push(("ZYGO_STRIPE_SECRET_KEY", "sk_test_metering".into()));
    opts.env.push(("ZYGO_STRIPE_WEBHOOK_SECRET", "whsec_the_real_one".into()));
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let event =
        json!({ "id": "evt_forged_1", "type": "invoice.paid", "data": { "object": { "id": "in_1" } } });
    let body = event.to_string();
    let t = clock.now().timestamp();
    let forged =
        zygo::crypto::to_hex(&zygo::crypto::hmac_sha256(b"whsec_guessed", format!("{t}.{body}").as_bytes()));
    let res = app
        .http
        .post(app.url("/billing/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", format!("t={t},v1={forged}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    let admin = app.platform_operator(ADMIN, "super-admin").await.0;
    let events = app
        .op::<PlatformSecurityEvents>(
            Some(&admin.access),
            platform_security_events::Variables { first: Some(10) },
        )
        .await
        .into_data()
        .platform_security_events;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(enum_name(&e.kind), "WEBHOOK_SIGNATURE_REJECTED");
    assert_eq!(e.source, "billing.webhook.stripe");
    assert_eq!(e.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(e.details.as_ref().unwrap()["provider"], "stripe");
    assert!(e.details.as_ref().unwrap()["reason"].as_str().unwrap().contains("signature"), "{e:?}");
    assert!(e.created_at.starts_with("2026-12-01T12:00:00"), "the instance's clock: {}", e.created_at);

    // Only platform administrators read it.
    let member = app.verified_user("m-sec@example.com").await;
    let r =
        app.gql(Some(&member.access), doc!("security/PlatformSecurityEvents"), json!({ "first": 10 })).await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = app.gql(None, doc!("security/PlatformSecurityEvents"), json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED", "{}", r.0);
}

#[tokio::test]
async fn operations_are_counted_once_per_organisation_and_past_the_allowance_refused_changing_nothing() {
    let (app, clock) = metered_app().await;
    let owner = app.verified_user("m-ops@example.com").await;
    let tenant = app.create_tenant(&owner, "m-ops").await;
    let before = operations_used(&app, &owner, &tenant).await;
    assert!(before >= 1, "the read counted itself: {before}");

    // An operation touching no organisation counts nothing; one touching it through several
    // fields counts once.
    app.gql(Some(&owner.access), "{ __typename }", json!({})).await.data();
    app.gql(None, doc!("billing/Plans"), json!({})).await.data();
    let r = app
        .gql(
            Some(&owner.access),
            "query($id: ID!) { a: tenant(id: $id) { name } b: tenant(id: $id) { slug } }",
            json!({ "id": tenant }),
        )
        .await;
    r.data();
    assert_eq!(operations_used(&app, &owner, &tenant).await, before + 2);

    // Twenty at once for what is left of Free's twelve: exactly that many are served.
    let left = 12 - (before + 2);
    let results = futures::future::join_all((0..20).map(|_| settings(&app, &owner.access, &tenant))).await;
    let served = results.iter().filter(|r| r.0.get("errors").is_none()).count() as i64;
    assert_eq!(served, left);
    let refused = results.iter().find(|r| r.0.get("errors").is_some()).unwrap();
    assert_eq!(refused.code(), "QUOTA_EXCEEDED");
    let ext = &refused.0["errors"][0]["extensions"];
    assert_eq!(
        (ext["limit"].clone(), ext["used"].clone(), ext["allowed"].clone(), ext["resetsAt"].clone()),
        (json!("apiOperationsPerMonth"), json!(12), json!(12), json!("2027-01-01T00:00:00Z"))
    );

    // A refused mutation changes nothing.
    let r = app
        .op_json::<UpdateTenant>(Some(&owner.access), json!({ "input": { "id": tenant, "name": "Renamed" } }))
        .await;
    assert_eq!(r.code(), "QUOTA_EXCEEDED");

    // The way out stays open: the plan changes, and the count went on from twelve (the
    // refused operations counted nothing).
    trial(&app, &owner, &tenant, "pro").await;
    assert_eq!(operations_used(&app, &owner, &tenant).await, 13);
    let t = settings(&app, &owner.access, &tenant).await;
    assert_eq!(t.data()["tenant"]["name"], "Org m-ops", "the refused rename changed nothing");

    // A new month starts from nothing.
    clock.set(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 1).unwrap());
    assert_eq!(operations_used(&app, &owner, &tenant).await, 1);
}

#[tokio::test]
async fn two_instances_count_one_allowance_between_them() {
    let clock = dec_1();
    let backend = Backend::fresh().await;
    let data_dir = std::env::temp_dir().join(format!("zygo-test-meter-{}", uuid::Uuid::new_v4().simple()));
    let opts = Options { data_dir: Some(data_dir), ..metered_opts(&clock) };
    let a = spawn_app_on(backend.clone(), opts.clone()).await;
    let b = spawn_app_on(backend, opts).await;
    let owner = a.verified_user("m-two@example.com").await;
    let tenant = a.create_tenant(&owner, "m-two").await;
    let before = operations_used(&a, &owner, &tenant).await;
    let tries = (0..16).map(|i| settings(if i % 2 == 0 { &a } else { &b }, &owner.access, &tenant));
    let results = futures::future::join_all(tries).await;
    let served = results.iter().filter(|r| r.0.get("errors").is_none()).count() as i64;
    assert_eq!(served, 12 - before, "one allowance across both instances");
    assert!(
        results.iter().filter(|r| r.0.get("errors").is_some()).all(|r| r.code() == "QUOTA_EXCEEDED"),
        "{results:?}"
    );
    trial(&b, &owner, &tenant, "pro").await;
    assert_eq!(operations_used(&b, &owner, &tenant).await, 13);
}

async fn api_key(app: &TestApp, s: &Session, tenant: &str) -> String {
    app.op_json::<CreateApiKey>(
        Some(&s.access),
        json!({ "input": { "tenantId": tenant, "name": "meter", "permissions": ["TENANT_READ"] } }),
    )
    .await
    .into_data()
    .create_api_key
    .secret
}

#[tokio::test]
async fn an_api_key_of_a_free_organisation_is_rate_limited_where_a_pro_one_is_not() {
    let (app, _clock) = metered_app().await;
    let owner = app.verified_user("m-rate@example.com").await;
    let free = app.create_tenant(&owner, "m-rate-free").await;
    let pro = app.create_tenant(&owner, "m-rate-pro").await;
    trial(&app, &owner, &pro, "business").await;
    let (free_key, pro_key) = (api_key(&app, &owner, &free).await, api_key(&app, &owner, &pro).await);
    let mut free_codes = Vec::new();
    for _ in 0..6 {
        let r = settings(&app, &free_key, &free).await;
        free_codes.push(if r.0.get("errors").is_some() { r.code() } else { "OK".into() });
    }
    assert_eq!(free_codes, ["OK", "OK", "OK", "OK", "RATE_LIMITED", "RATE_LIMITED"], "Free: four a minute");
    for _ in 0..6 {
        settings(&app, &pro_key, &pro).await.data();
    }
    let plans = app.op::<Plans>(None, plans::Variables).await.into_data().plans;
    assert_eq!(
        plans.iter().map(|p| p.requests_per_minute).collect::<Vec<_>>(),
        [Some(4), Some(1000), Some(1000)]
    );
}

async fn history(app: &TestApp, s: &Session, tenant: &str, limit: &str, from: &str, to: &str) -> Gql {
    app.gql(
        Some(&s.access),
        doc!("billing/UsageHistory"),
        json!({ "id": tenant, "limit": limit, "from": from, "to": to }),
    )
    .await
}

fn points(r: &Gql) -> Vec<(String, i64)> {
    r.data()["tenant"]["usageHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["day"].as_str().unwrap().to_string(), p["used"].as_i64().unwrap()))
        .collect()
}

/// Runs the billing worker's pass until nothing is due.
async fn settle(app: &TestApp) {
    zygo::jobs::drain(&app.ctx).await.unwrap();
}

#[tokio::test]
async fn the_billing_worker_stores_each_days_closing_use_once_and_the_history_ends_with_today() {
    let (app, clock) = metered_app().await;
    let owner = app.verified_user("m-hist@example.com").await;
    let tenant = app.create_tenant(&owner, "m-hist").await;
    settings(&app, &owner.access, &tenant).await.data();
    let dec_1 = operations_used(&app, &owner, &tenant).await;

    // Just after midnight the worker takes 1 December's figures; passes after that take
    // nothing more (`settle` would not end otherwise).
    clock.set(Utc.with_ymd_and_hms(2026, 12, 2, 0, 5, 0).unwrap());
    settle(&app).await;
    settle(&app).await;
    settings(&app, &owner.access, &tenant).await.data();
    settings(&app, &owner.access, &tenant).await.data();
    let dec_2 = operations_used(&app, &owner, &tenant).await;
    assert_eq!(dec_2, dec_1 + 3);
    clock.set(Utc.with_ymd_and_hms(2026, 12, 3, 0, 5, 0).unwrap());
    settle(&app).await;

    let r = history(&app, &owner, &tenant, "API_OPERATIONS_PER_MONTH", "2026-11-30", "2026-12-31").await;
    assert_eq!(
        points(&r),
        [("2026-12-01".into(), dec_1), ("2026-12-02".into(), dec_2), ("2026-12-03".into(), dec_2 + 1)],
        "each day's close, then today so far (this read included)"
    );
    let r = history(&app, &owner, &tenant, "MEMBERS", "2026-12-01", "2026-12-02").await;
    assert_eq!(points(&r), [("2026-12-01".into(), 1), ("2026-12-02".into(), 1)]);

    let r = history(&app, &owner, &tenant, "MEMBERS", "2026-12-02", "2026-12-01").await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "to"));
    let r = history(&app, &owner, &tenant, "MEMBERS", "2025-01-01", "2026-12-01").await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "to"));
    let r = history(&app, &owner, &tenant, "MEMBERS", "yesterday", "2026-12-01").await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "from"));
}

#[tokio::test]
async fn the_renewal_invoice_bills_the_api_operations_over_the_plan_in_the_month_that_ended() {
    let (app, clock) = metered_app().await;
    let owner = app.verified_user("m-over@example.com").await;
    let tenant = app.create_tenant(&owner, "m-over").await;
    // Pro from 1 December, noon: 20 operations a month, then 7 cents each (not refused).
    app.gql(
        Some(&owner.access),
        doc!("billing/ChangePlan"),
        json!({ "input": { "tenantId": tenant, "plan": "pro", "interval": "MONTH" } }),
    )
    .await
    .data();
    for _ in 0..24 {
        settings(&app, &owner.access, &tenant).await.data();
    }
    let used = operations_used(&app, &owner, &tenant).await;
    assert!(used > 20, "past the allowance without a refusal: {used}");
    let over = used - 20;

    // The renewal on 1 January, noon, bills the plan and December's overage.
    clock.set(Utc.with_ymd_and_hms(2027, 1, 1, 12, 0, 1).unwrap());
    settle(&app).await;
    let b = billing(&app, &owner, &tenant).await;
    let renewal = b.invoice(b.invoices().edges.len() - 1).clone();
    let lines: Vec<(String, i64, i64, i64)> =
        renewal.lines.iter().map(|l| (enum_name(&l.kind), l.quantity, l.unit_amount, l.amount)).collect();
    assert_eq!(lines, [("PLAN".into(), 1, 2900, 2900), ("USAGE_OVERAGE".into(), over, 7, over * 7)]);
    assert!(renewal.lines[1].description.contains("2026-12"), "{:?}", renewal.lines[1]);
    assert_eq!(renewal.subtotal, 2900 + over * 7);
    assert_eq!(renewal.total, renewal.subtotal + renewal.tax);

    // Paid by transfer (a platform administrator marks it), the next renewal bills January
    // only, where nothing was over: the plan alone.
    let admin = app.platform_operator(ADMIN, "super-admin").await.0;
    for e in &b.invoices().edges {
        if enum_name(&e.node.status) == "OPEN" {
            app.gql(
                Some(&admin.access),
                doc!("billing/MarkInvoicePaid"),
                json!({ "input": { "invoiceId": e.node.id } }),
            )
            .await
            .data();
        }
    }
    clock.set(Utc.with_ymd_and_hms(2027, 2, 1, 12, 0, 1).unwrap());
    settle(&app).await;
    let b = billing(&app, &owner, &tenant).await;
    let next = b.invoice(b.invoices().edges.len() - 1);
    assert_ne!(next.id, renewal.id, "February's renewal was issued");
    assert_eq!(next.lines.iter().map(|l| enum_name(&l.kind)).collect::<Vec<_>>(), ["PLAN"]);
}

#[tokio::test]
async fn an_open_invoice_is_voided_once_audited_and_announced() {
    let (app, _clock) = metered_app().await;
    let owner = app.verified_user("m-void@example.com").await;
    let tenant = app.create_tenant(&owner, "m-void").await;
    let r = app
        .op_json::<ChangePlan>(
            Some(&owner.access),
            json!({ "input": { "tenantId": tenant, "plan": "pro", "interval": "MONTH" } }),
        )
        .await;
    let invoice = r.into_data().change_plan.invoice.expect("the upgrade's invoice");
    assert_eq!(enum_name(&invoice.status), "OPEN", "paid by transfer: open until paid");

    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&owner.access)).await.unwrap()["type"], "connection_ack");
    ws.subscribe("1", doc!("billing/BillingEvents"), json!({ "tenantId": tenant })).await;
    // The subscription registers asynchronously: schedule and take back a cancellation
    // until one of those changes arrives, then let the rest drain.
    let mut cancel = true;
    loop {
        let (document, input) = if cancel {
            (
                doc!("billing/CancelSubscription"),
                json!({ "input": { "tenantId": tenant, "atPeriodEnd": true } }),
            )
        } else {
            (doc!("billing/ResumeSubscription"), json!({ "input": { "tenantId": tenant } }))
        };
        app.gql(Some(&owner.access), document, input).await.data();
        cancel = !cancel;
        if let Ok(Some(_)) = tokio::time::timeout(std::time::Duration::from_millis(300), ws.next_json()).await
        {
            break;
        }
    }
    if !cancel {
        app.gql(
            Some(&owner.access),
            doc!("billing/ResumeSubscription"),
            json!({ "input": { "tenantId": tenant } }),
        )
        .await
        .data();
    }
    while let Ok(Some(_)) = tokio::time::timeout(std::time::Duration::from_millis(1500), ws.next_json()).await
    {
    }

    let void = |id: String| {
        let (app, token) = (&app, owner.access.clone());
        async move { app.op_json::<VoidInvoice>(Some(&token), json!({ "input": { "invoiceId": id } })).await }
    };
    let voided = void(invoice.id.clone()).await.into_data().void_invoice.invoice;
    assert_eq!(
        (enum_name(&voided.status).as_str(), voided.number.as_str()),
        ("VOID", invoice.number.as_str())
    );
    let msg = ws.next_json().await.unwrap();
    let event = event_data::<BillingEvents>(&msg).unwrap_or_else(|| panic!("an event: {msg}")).billing_events;
    assert_eq!(
        (enum_name(&event.kind).as_str(), event.invoice_id.as_deref()),
        ("INVOICE_VOIDED", Some(invoice.id.as_str()))
    );

    // Once only: a void invoice is not open.
    let again = void(invoice.id.clone()).await;
    assert_eq!((again.code().as_str(), again.field().as_str()), ("BAD_USER_INPUT", "input.invoiceId"));
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(enum_name(&b.invoice(0).status), "VOID");
    let log = app
        .gql(
            Some(&owner.access),
            doc!("audit/TenantAuditLog"),
            json!({ "id": tenant, "filter": { "action": "billing.invoice_voided" }, "first": 5 }),
        )
        .await;
    assert_eq!(log.data()["tenant"]["auditLog"]["totalCount"], 1, "{}", log.0);
}

/// An app that takes cards (Stripe configured; nothing here reaches it).
async fn card_app() -> (TestApp, Clock) {
    let clock = dec_1();
    let mut opts = metered_opts(&clock);
    opts.env.push(("ZYGO_STRIPE_SECRET_KEY", "sk_test_metering".into()));
    opts.env.push(("ZYGO_STRIPE_WEBHOOK_SECRET", "whsec_metering".into()));
    (spawn_app_on(Backend::fresh().await, opts).await, clock)
}

#[tokio::test]
async fn a_trial_that_ends_without_a_payment_method_pauses_and_resumes_with_a_new_paid_period() {
    let (app, clock) = card_app().await;
    let owner = app.verified_user("m-pause@example.com").await;
    let tenant = app.create_tenant(&owner, "m-pause").await;
    let other = app.create_tenant(&owner, "m-pause-2").await;
    trial(&app, &owner, &tenant, "pro").await;
    trial(&app, &owner, &other, "pro").await;

    clock.set(Utc.with_ymd_and_hms(2026, 12, 15, 12, 0, 1).unwrap());
    settle(&app).await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().status, SubscriptionStatus::PAUSED);
    assert_eq!(b.sub().plan.key, "pro", "the plan it will resume on");
    assert_eq!(b.invoices().total_count, 0, "nothing is charged without a payment method");
    assert!(!b.account().payment_method_saved);
    let ops = b.limits.iter().find(|l| l.limit == Limit::API_OPERATIONS_PER_MONTH).unwrap().value;
    assert_eq!(ops, Some(12), "paused: Free's limits");
    // Paused is not due: later passes leave it alone.
    clock.set(Utc.with_ymd_and_hms(2027, 1, 20, 12, 0, 0).unwrap());
    settle(&app).await;
    assert_eq!(billing(&app, &owner, &tenant).await.sub().status, SubscriptionStatus::PAUSED);

    // resumeSubscription: a new period from now, invoiced at once.
    app.gql(
        Some(&owner.access),
        doc!("billing/ResumeSubscription"),
        json!({ "input": { "tenantId": tenant } }),
    )
    .await
    .data();
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!((b.sub().status.clone(), b.sub().plan.key.as_str()), (SubscriptionStatus::ACTIVE, "pro"));
    assert!(b.sub().current_period_start.starts_with("2027-01-20T12:00:00"), "{:?}", b.sub());
    assert!(b.sub().current_period_end.starts_with("2027-02-20T12:00:00"), "{:?}", b.sub());
    assert_eq!((b.invoices().total_count, b.invoice(0).total), (1, 2900));

    // A plan change (what a checkout that saves a payment method applies) resumes the other,
    // on the plan and interval asked for; no second trial.
    let b = billing(&app, &owner, &other).await;
    assert_eq!(b.sub().status, SubscriptionStatus::PAUSED);
    app.gql(
        Some(&owner.access),
        doc!("billing/ChangePlan"),
        json!({ "input": { "tenantId": other, "plan": "pro", "interval": "YEAR" } }),
    )
    .await
    .data();
    let b = billing(&app, &owner, &other).await;
    assert_eq!(
        (b.sub().status.clone(), enum_name(&b.sub().interval)),
        (SubscriptionStatus::ACTIVE, "YEAR".into())
    );
    assert_eq!(b.invoice(0).total, 29000);
}

#[tokio::test]
async fn a_plan_cancelled_at_its_period_end_still_bills_that_periods_overage_once() {
    let (app, clock) = metered_app().await;
    let owner = app.verified_user("m-final@example.com").await;
    let tenant = app.create_tenant(&owner, "m-final").await;
    app.gql(
        Some(&owner.access),
        doc!("billing/ChangePlan"),
        json!({ "input": { "tenantId": tenant, "plan": "pro", "interval": "MONTH" } }),
    )
    .await
    .data();
    app.gql(
        Some(&owner.access),
        doc!("billing/CancelSubscription"),
        json!({ "input": { "tenantId": tenant, "atPeriodEnd": true } }),
    )
    .await
    .data();
    let before = billing(&app, &owner, &tenant).await.invoices().edges.len();
    for _ in 0..24 {
        settings(&app, &owner.access, &tenant).await.data();
    }
    // The last read of December (it counts itself).
    let over = operations_used(&app, &owner, &tenant).await - 20;
    assert!(over > 0);

    // The period ends on 1 January: back to Free, and December's overage on an invoice of its
    // own (no plan line); the sweep running again issues nothing more.
    clock.set(Utc.with_ymd_and_hms(2027, 1, 1, 12, 0, 1).unwrap());
    settle(&app).await;
    settle(&app).await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.invoices().edges.len(), before + 1);
    let last = b.invoice(b.invoices().edges.len() - 1);
    let lines: Vec<(String, i64, i64)> =
        last.lines.iter().map(|l| (enum_name(&l.kind), l.quantity, l.amount)).collect();
    assert_eq!(lines, [("USAGE_OVERAGE".into(), over, over * 7)]);
    assert_eq!(last.total, last.subtotal + last.tax);
}
