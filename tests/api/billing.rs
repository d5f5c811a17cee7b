//! Billing: plans, plan changes with proration, invoices with gapless numbers, renewals and
//! dunning on a clock the tests move, and the plan's quotas.

use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};
use zygo::{ctx::Clock, jobs::drain};

use crate::{doc, gql::*, helpers::*};

const ADMIN: &str = "ops@zygo.example";

/// An app on a manual clock standing at 1 December 2026, noon, with a platform administrator
/// and two days of grace for unpaid subscriptions.
async fn app_at_dec_1() -> (TestApp, Clock) {
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap());
    let opts = Options {
        clock: Some(clock.clone()),
        env: vec![
            (SHIPPED_PLANS.0, SHIPPED_PLANS.1.to_string()),
            ("ZYGO_BILLING_GRACE_DAYS", "2".to_string()),
        ],
        ..Default::default()
    };
    (spawn_app_on(Backend::fresh().await, opts).await, clock)
}

/// The organisation's billing as its `TenantBilling` document shows it.
pub(crate) async fn billing(app: &TestApp, s: &Session, tenant: &str) -> Billing {
    let vars = tenant_billing::Variables { id: tenant.into() };
    app.op::<TenantBilling>(Some(&s.access), vars).await.into_data().tenant
}

pub(crate) type Billing = tenant_billing::TenantBillingTenant;
pub(crate) use tenant_billing::{InvoiceStatus, Limit, SubscriptionStatus};

/// The parts of `TenantBilling` that need BILLING_READ (every caller here holds it).
pub(crate) trait BillingRead {
    fn sub(&self) -> &tenant_billing::TenantBillingTenantSubscription;
    fn account(&self) -> &tenant_billing::TenantBillingTenantBillingAccount;
    fn invoices(&self) -> &tenant_billing::TenantBillingTenantInvoices;
    /// The `i`-th invoice, oldest first.
    fn invoice(&self, i: usize) -> &tenant_billing::TenantBillingTenantInvoicesEdgesNode;
    fn usage_of(&self, limit: Limit) -> &tenant_billing::TenantBillingTenantUsage;
}

impl BillingRead for Billing {
    fn sub(&self) -> &tenant_billing::TenantBillingTenantSubscription {
        self.subscription.as_ref().expect("a subscription")
    }
    fn account(&self) -> &tenant_billing::TenantBillingTenantBillingAccount {
        self.billing_account.as_ref().expect("a billing account")
    }
    fn invoices(&self) -> &tenant_billing::TenantBillingTenantInvoices {
        self.invoices.as_ref().expect("invoices")
    }
    fn invoice(&self, i: usize) -> &tenant_billing::TenantBillingTenantInvoicesEdgesNode {
        &self.invoices().edges.get(i).unwrap_or_else(|| panic!("no invoice #{i}")).node
    }
    fn usage_of(&self, limit: Limit) -> &tenant_billing::TenantBillingTenantUsage {
        let usage = self.usage.as_ref().expect("usage");
        usage.iter().find(|u| u.limit == limit).unwrap_or_else(|| panic!("no usage of {limit:?}"))
    }
}

async fn change(
    app: &TestApp,
    s: &Session,
    tenant: &str,
    plan: &str,
    interval: &str,
) -> Op<change_plan::ResponseData> {
    app.op_json::<ChangePlan>(
        Some(&s.access),
        json!({ "input": { "tenantId": tenant, "plan": plan, "interval": interval } }),
    )
    .await
}

/// An app with the shipped plan catalog.
async fn shipped() -> TestApp {
    let opts = Options { env: vec![(SHIPPED_PLANS.0, SHIPPED_PLANS.1.to_string())], ..Default::default() };
    spawn_app_on(Backend::fresh().await, opts).await
}

/// The strings a PDF shows: `(…) Tj` literals and `<hex> Tj` strings (the renderer writes
/// uncompressed Latin-1 streams).
fn pdf_text(bytes: &[u8]) -> Vec<String> {
    let text: String = bytes.iter().map(|b| *b as char).collect();
    let mut out = Vec::new();
    for line in text.split('\n') {
        let Some(shown) = line.trim().strip_suffix(" Tj") else { continue };
        if let Some(lit) = shown.strip_prefix('(').and_then(|l| l.strip_suffix(')')) {
            out.push(lit.replace("\\(", "(").replace("\\)", ")"));
        } else if let Some(hex) = shown.strip_prefix('<').and_then(|h| h.strip_suffix('>')) {
            let bytes: Vec<u8> = (0..hex.len() / 2)
                .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                .collect();
            out.push(bytes.iter().map(|b| *b as char).collect());
        }
    }
    out
}

/// Runs the billing worker's pass until nothing is due.
async fn settle(app: &TestApp) {
    drain(&app.ctx).await.unwrap();
}

#[tokio::test]
async fn plans_are_public_and_a_new_organisation_is_on_free_with_its_limits() {
    let app = shipped().await;
    let plans = app.op::<Plans>(None, plans::Variables).await.into_data().plans;
    let keys: Vec<&str> = plans.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["free", "pro", "business", "enterprise"]);
    let pro = &plans[1];
    assert!(
        serde_json::to_value(&pro.prices)
            .unwrap()
            .as_array()
            .unwrap()
            .contains(&json!({ "currency": "EUR", "interval": "MONTH", "amount": 2900 }))
    );
    assert!(plans[3].contact_sales);

    let owner = app.verified_user("b-free@example.com").await;
    let tenant = app.create_tenant(&owner, "b-free").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().plan.key, "free");
    assert_eq!(b.sub().status, SubscriptionStatus::ACTIVE);
    assert_eq!(b.sub().id, None, "no row until the first billing change");
    let teams = b.usage_of(Limit::TEAMS).clone();
    assert_eq!((teams.used, teams.allowed, teams.metered), (0, Some(3), true));
    let members = b.usage_of(Limit::MEMBERS).clone();
    assert_eq!(members.used, 1);
    assert_eq!(b.invoices().total_count, 0);
}

#[tokio::test]
async fn an_upgrade_charges_the_prorated_amount_on_a_numbered_invoice_with_tax() {
    let (app, clock) = app_at_dec_1().await;
    let owner = app.verified_user("b-up@example.com").await;
    let tenant = app.create_tenant(&owner, "b-up").await;
    let r = app
        .op_json::<UpdateBillingSettings>(
            Some(&owner.access),
            json!({ "input": { "tenantId": tenant, "taxRateBps": 2000, "taxId": "DE123456789",
                "billingAddress": { "line1": "1 Main St", "city": "Berlin", "country": "DE" } } }),
        )
        .await;
    assert_eq!(r.data().update_billing_settings.billing_account.tax_rate_bps, 2000);
    let bad = app
        .gql(
            Some(&owner.access),
            doc!("billing/UpdateBillingSettings"),
            json!({ "input": { "tenantId": tenant, "taxRateBps": 20000 } }),
        )
        .await;
    assert_eq!((bad.code().as_str(), bad.field().as_str()), ("BAD_USER_INPUT", "input.taxRateBps"));

    // Free → Pro monthly: a new period from now, the whole price, 20 % tax.
    let r = change(&app, &owner, &tenant, "pro", "MONTH").await;
    let inv = r.data().change_plan.invoice.as_ref().expect("an invoice");
    assert_eq!(inv.number, "ZYG-2026-000001");
    assert_eq!((inv.subtotal, inv.tax, inv.total), (2900, 580, 3480));
    assert_eq!(inv.status, change_plan::InvoiceStatus::OPEN, "manual billing: paid by transfer");
    let sub = &r.data().change_plan.subscription;
    assert_eq!(sub.plan.key, "pro");
    assert_eq!(sub.current_period_end, "2027-01-01T12:00:00+00:00");
    // The owner gets the invoice by mail, its PDF attached.
    let mail = app.mail_about("b-up@example.com", "Invoice ZYG-2026-000001", 1).await;
    assert!(mail.contains("totals 34.80 EUR"), "{mail}");
    assert!(mail.contains("attachment; filename=\"ZYG-2026-000001.pdf\""), "{mail}");
    assert!(mail.contains("Content-Type: application/pdf"), "{mail}");
    assert!(mail.contains("JVBERi0"), "the attachment is a PDF (base64 of %PDF-)");
    // The same again is refused and changes nothing.
    let again = change(&app, &owner, &tenant, "pro", "MONTH").await;
    assert_eq!(again.field(), "input.plan");

    // Half of the 31-day period later, Pro → Business: credit 2900/2, charge 9900/2, 20 % tax.
    clock.advance(Duration::hours(31 * 12));
    let owner = app.log_in("b-up@example.com").await;
    let p = app
        .op_json::<PreviewPlanChange>(
            Some(&owner.access),
            json!({ "tenantId": tenant, "plan": "business", "interval": "MONTH" }),
        )
        .await;
    let p = &p.data().preview_plan_change;
    assert_eq!(p.kind, preview_plan_change::PlanChangeKind::UPGRADE);
    let got = [p.proration_credit, p.charge, p.subtotal, p.tax, p.total, p.amount_due];
    assert_eq!(got, [1450, 4950, 3500, 700, 4200, 4200]);
    let r = change(&app, &owner, &tenant, "business", "MONTH").await;
    let inv = r.data().change_plan.invoice.as_ref().expect("an invoice");
    assert_eq!(inv.number, "ZYG-2026-000002");
    assert_eq!(inv.total, 4200);
    assert_eq!(
        serde_json::to_value(&inv.lines).unwrap(),
        json!([{ "kind": "PRORATION_CREDIT", "amount": -1450 }, { "kind": "PLAN", "amount": 4950 }])
    );
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().plan.key, "business");
    assert_eq!(b.sub().current_period_end, "2027-01-01T12:00:00+00:00", "same interval: same period");
    assert_eq!(b.invoices().total_count, 2);

    // The first invoice's PDF, by its signed link: the text is there; an altered or expired
    // link is a 404.
    let url = b.invoice(0).pdf_url.replace("http://zygo.test", &app.url(""));
    let res = app.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let text = pdf_text(&res.bytes().await.unwrap());
    for expected in [
        "Invoice ZYG-2026-000001",
        "DE123456789",
        "1 Main St",
        "Berlin",
        "29.00 EUR",
        "5.80 EUR",
        "34.80 EUR",
        "Amount due",
    ] {
        assert!(text.iter().any(|t| t.contains(expected)), "{expected:?} not in {text:?}");
    }
    let altered = url.replace("sig=", "sig=x");
    assert_eq!(app.http.get(&altered).send().await.unwrap().status(), 404);
    clock.advance(Duration::minutes(16));
    assert_eq!(app.http.get(&url).send().await.unwrap().status(), 404, "the link expired");

    // A member cannot change the plan; a viewer of billing cannot either.
    let (member, _) = app.join_as(&owner, &tenant, "b-up-m@example.com", "admin").await;
    assert_eq!(change(&app, &member, &tenant, "pro", "MONTH").await.code(), "FORBIDDEN");
    assert_eq!(billing(&app, &member, &tenant).await.sub().plan.key, "business");
}

#[tokio::test]
async fn a_downgrade_is_refused_while_over_the_new_limits_and_otherwise_waits_for_the_period_end() {
    let (app, clock) = app_at_dec_1().await;
    let owner = app.verified_user("b-down@example.com").await;
    let tenant = app.create_tenant(&owner, "b-down").await;
    change(&app, &owner, &tenant, "pro", "MONTH").await.data();
    let mut teams = Vec::new();
    for name in ["A", "B", "C", "D"] {
        let input = create_team::CreateTeamInput {
            tenant_id: tenant.clone(),
            name: name.into(),
            description: String::new(),
        };
        let r = app.op::<CreateTeam>(Some(&owner.access), create_team::Variables { input }).await;
        teams.push(r.into_data().create_team.team.id);
    }
    let p = app
        .op_json::<PreviewPlanChange>(
            Some(&owner.access),
            json!({ "tenantId": tenant, "plan": "free", "interval": "MONTH" }),
        )
        .await;
    let p = &p.data().preview_plan_change;
    assert!(!p.allowed);
    assert_eq!(
        serde_json::to_value(&p.over_limits).unwrap(),
        json!([{ "limit": "TEAMS", "used": 4, "allowed": 3 }])
    );
    let r = change(&app, &owner, &tenant, "free", "MONTH").await;
    assert_eq!(r.code(), "OVER_PLAN_LIMITS");
    assert_eq!(
        r.raw.0["errors"][0]["extensions"]["over"],
        json!([{ "limit": "teams", "used": 4, "allowed": 3 }])
    );
    app.gql(Some(&owner.access), doc!("teams/DeleteTeam"), json!({ "id": teams[3] })).await.data();

    let r = change(&app, &owner, &tenant, "free", "MONTH").await;
    let sub = &r.data().change_plan.subscription;
    assert_eq!(
        (sub.plan.key.as_str(), sub.scheduled_plan.as_ref().map(|p| p.key.as_str())),
        ("pro", Some("free"))
    );
    assert_eq!(r.data().change_plan.invoice, None, "nothing is charged for a downgrade");

    clock.advance(Duration::days(31));
    settle(&app).await;
    let owner = app.log_in("b-down@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().plan.key, "free");
    assert_eq!(b.sub().scheduled_plan, None);
    assert_eq!(b.invoices().total_count, 1, "a free period issues no invoice");
}

#[tokio::test]
async fn an_unpaid_renewal_goes_past_due_is_restored_by_payment_and_after_the_last_retry_ends_on_free() {
    let (app, clock) = app_at_dec_1().await;
    let owner = app.verified_user("b-dun@example.com").await;
    let tenant = app.create_tenant(&owner, "b-dun").await;
    let (admin, admin_codes) = app.platform_operator(ADMIN, "super-admin").await;
    change(&app, &owner, &tenant, "pro", "MONTH").await.data();
    let first = billing(&app, &owner, &tenant).await.invoice(0).id.clone();
    let paid =
        app.op_json::<MarkInvoicePaid>(Some(&admin.access), json!({ "input": { "invoiceId": first } })).await;
    assert_eq!(paid.data().mark_invoice_paid.invoice.status, mark_invoice_paid::InvoiceStatus::PAID);
    // Only platform administrators mark invoices paid.
    let r = app
        .gql(Some(&owner.access), doc!("billing/MarkInvoicePaid"), json!({ "input": { "invoiceId": first } }))
        .await;
    assert_eq!(r.code(), "FORBIDDEN");

    // The renewal: a second invoice, due 14 days later.
    clock.advance(Duration::days(31));
    settle(&app).await;
    settle(&app).await; // idempotent: a second pass issues nothing
    let owner = app.log_in("b-dun@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.invoices().total_count, 2);
    let renewal = b.invoice(1).clone();
    assert_eq!((enum_name(&renewal.status).as_str(), renewal.total), ("OPEN", 2900));
    assert_eq!(b.sub().status, SubscriptionStatus::ACTIVE);

    // Unpaid at its due date: PAST_DUE, retried after 1, 3 and 7 days.
    clock.advance(Duration::days(14));
    settle(&app).await;
    let owner = app.log_in("b-dun@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().status, SubscriptionStatus::PAST_DUE);
    // Paying restores it.
    let admin = app.log_in_with_backup_code(ADMIN, &admin_codes[0]).await;
    app.gql(
        Some(&admin.access),
        doc!("billing/MarkInvoicePaid"),
        json!({ "input": { "invoiceId": renewal.id } }),
    )
    .await
    .data();
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().status, SubscriptionStatus::ACTIVE);
    assert_eq!(b.sub().next_retry_at, None);

    // The next renewal is never paid: after the last retry the organisation is on Free.
    clock.set(Utc.with_ymd_and_hms(2027, 2, 1, 13, 0, 0).unwrap());
    settle(&app).await;
    let teams_allowed = |b: &Billing| b.limits.iter().find(|l| l.limit == Limit::TEAMS).unwrap().value;
    for days in [14, 1] {
        clock.advance(Duration::days(days));
        settle(&app).await;
    }
    let owner = app.log_in("b-dun@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().status, SubscriptionStatus::PAST_DUE);
    assert_eq!(teams_allowed(&b), Some(10), "within the grace period: Pro's limits");
    clock.advance(Duration::days(2));
    settle(&app).await;
    let owner = app.log_in("b-dun@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!((enum_name(&b.sub().status).as_str(), b.sub().plan.key.as_str()), ("PAST_DUE", "pro"));
    assert_eq!(teams_allowed(&b), Some(3), "after the grace period: Free's limits until it pays");
    clock.advance(Duration::days(4));
    settle(&app).await;
    let owner = app.log_in("b-dun@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().plan.key, "free");
    assert_eq!(b.sub().status, SubscriptionStatus::ACTIVE);
    let statuses: Vec<String> = b.invoices().edges.iter().map(|e| enum_name(&e.node.status)).collect();
    assert_eq!(statuses, ["PAID", "PAID", "UNCOLLECTIBLE"]);
}

#[tokio::test]
async fn the_plan_refuses_the_next_team_with_the_limit_named_and_changes_nothing() {
    let app = shipped().await;
    let owner = app.verified_user("b-quota@example.com").await;
    let tenant = app.create_tenant(&owner, "b-quota").await;
    let create = |name: &'static str| {
        let (app, token, tenant) = (&app, owner.access.clone(), tenant.clone());
        async move {
            app.gql(
                Some(&token),
                doc!("teams/CreateTeam"),
                json!({ "input": { "tenantId": tenant, "name": name } }),
            )
            .await
        }
    };
    for name in ["A", "B", "C"] {
        create(name).await.data();
    }
    // The third of three places: the owners hear of it (80 % was skipped over: 2 of 3 is 67 %).
    let mail = app.mail_about("b-quota@example.com", "has used 100 % of its teams", 1).await;
    assert!(mail.contains("uses 3 of the 3 teams"), "{mail}");
    assert!(!app.mails_to("b-quota@example.com").iter().any(|m| m.contains("80 %")));
    // And in their notification centre.
    let told = eventually(10, || async {
        let r = app
            .gql(
                Some(&owner.access),
                doc!("notifications/ViewerNotifications"),
                json!({ "kind": "PLAN_LIMIT_NEAR" }),
            )
            .await;
        let edges = r.data()["viewer"]["notifications"]["edges"].as_array().cloned().unwrap_or_default();
        edges.first().map(|e| e["node"]["title"].as_str().unwrap_or_default().to_string())
    })
    .await;
    assert!(told.contains("has used 100 % of its teams"), "{told}");
    let r = create("D").await;
    assert_eq!(r.code(), "QUOTA_EXCEEDED");
    let ext = &r.0["errors"][0]["extensions"];
    assert_eq!(
        (ext["limit"].clone(), ext["used"].clone(), ext["allowed"].clone()),
        (json!("teams"), json!(3), json!(3))
    );
    let b = billing(&app, &owner, &tenant).await;
    let teams = b.usage_of(Limit::TEAMS).clone();
    assert_eq!(teams.used, 3);
    assert_eq!(teams.percentage, Some(100.0));
    // On Pro the fourth fits.
    change(&app, &owner, &tenant, "pro", "MONTH").await.data();
    create("D").await.data();
}

#[tokio::test]
async fn invoice_numbers_have_no_gaps_and_no_repeats_under_twenty_concurrent_upgrades() {
    let app = shipped().await;
    let mut orgs = Vec::new();
    for i in 0..20 {
        let owner = app.verified_user(&format!("b-seq{i}@example.com")).await;
        let tenant = app.create_tenant(&owner, &format!("b-seq{i}")).await;
        orgs.push((owner, tenant));
    }
    let results =
        futures::future::join_all(orgs.iter().map(|(o, t)| change(&app, o, t, "pro", "MONTH"))).await;
    let mut numbers: Vec<String> = results
        .iter()
        .map(|r| r.data().change_plan.invoice.as_ref().expect("an invoice").number.clone())
        .collect();
    numbers.sort();
    let year = Utc::now().format("%Y");
    let expected: Vec<String> = (1..=20).map(|n| format!("ZYG-{year}-{n:06}")).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test]
async fn two_concurrent_plan_changes_leave_one() {
    let app = shipped().await;
    let owner = app.verified_user("b-race@example.com").await;
    let tenant = app.create_tenant(&owner, "b-race").await;
    let (a, b) = tokio::join!(
        change(&app, &owner, &tenant, "pro", "MONTH"),
        change(&app, &owner, &tenant, "pro", "MONTH")
    );
    let ok = [&a, &b].iter().filter(|r| !r.has_errors()).count();
    assert_eq!(ok, 1, "one change wins, the other is refused: {} / {}", a.raw.0, b.raw.0);
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.invoices().total_count, 1, "charged once");
}

#[tokio::test]
async fn a_trial_becomes_the_paid_plan_at_its_end_and_a_cancellation_takes_effect_at_the_period_end_unless_resumed()
 {
    let (app, clock) = app_at_dec_1().await;
    let owner = app.verified_user("b-trial@example.com").await;
    let tenant = app.create_tenant(&owner, "b-trial").await;
    let r = app
        .op_json::<ChangePlan>(
            Some(&owner.access),
            json!({ "input": { "tenantId": tenant, "plan": "pro", "interval": "MONTH", "trial": true } }),
        )
        .await;
    let sub = &r.data().change_plan.subscription;
    assert_eq!(sub.status, change_plan::SubscriptionStatus::TRIALING);
    assert_eq!(sub.trial_end.as_deref(), Some("2026-12-15T12:00:00+00:00"));
    assert_eq!(r.data().change_plan.invoice, None, "a trial charges nothing");

    // The trial ends: Pro, paid from the trial's end for a month.
    clock.advance(Duration::days(14));
    settle(&app).await;
    let owner = app.log_in("b-trial@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!((enum_name(&b.sub().status).as_str(), b.sub().plan.key.as_str()), ("ACTIVE", "pro"));
    assert_eq!(b.sub().current_period_end, "2027-01-15T12:00:00+00:00");
    assert_eq!(b.invoice(0).total, 2900);
    let admin = app.platform_operator(ADMIN, "super-admin").await.0;
    let first = b.invoice(0).id.clone();
    app.gql(Some(&admin.access), doc!("billing/MarkInvoicePaid"), json!({ "input": { "invoiceId": first } }))
        .await
        .data();

    // Cancelled at the period end, then kept: nothing changes at the period end.
    let cancel = |at_end: bool| {
        let (app, token, tenant) = (&app, owner.access.clone(), tenant.clone());
        async move {
            app.op_json::<CancelSubscription>(
                Some(&token),
                json!({ "input": { "tenantId": tenant, "atPeriodEnd": at_end } }),
            )
            .await
        }
    };
    assert!(cancel(true).await.data().cancel_subscription.subscription.cancel_at_period_end);
    let resume = app
        .op_json::<ResumeSubscription>(Some(&owner.access), json!({ "input": { "tenantId": tenant } }))
        .await;
    assert!(!resume.data().resume_subscription.subscription.cancel_at_period_end);
    let nothing = app
        .gql(
            Some(&owner.access),
            doc!("billing/ResumeSubscription"),
            json!({ "input": { "tenantId": tenant } }),
        )
        .await;
    assert_eq!(nothing.code(), "BAD_USER_INPUT");

    // Cancelled again and not resumed: at the period end the organisation is on Free.
    cancel(true).await.data();
    clock.set(Utc.with_ymd_and_hms(2027, 1, 15, 12, 0, 1).unwrap());
    settle(&app).await;
    let owner = app.log_in("b-trial@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().plan.key, "free");
    assert_eq!(b.invoices().total_count, 1, "no renewal after a cancellation");

    // A second trial is refused.
    let again = app
        .gql(
            Some(&owner.access),
            doc!("billing/ChangePlan"),
            json!({ "input": { "tenantId": tenant, "plan": "business", "interval": "MONTH", "trial": true } }),
        )
        .await;
    assert_eq!((again.code().as_str(), again.field().as_str()), ("BAD_USER_INPUT", "input.trial"));
}

#[tokio::test]
async fn two_instances_sharing_the_database_never_let_more_teams_in_than_the_plan_allows() {
    let backend = Backend::fresh().await;
    let data_dir = std::env::temp_dir().join(format!("zygo-test-quota-{}", uuid::Uuid::new_v4().simple()));
    let opts = Options {
        data_dir: Some(data_dir),
        env: vec![(SHIPPED_PLANS.0, SHIPPED_PLANS.1.to_string())],
        ..Default::default()
    };
    let a = spawn_app_on(backend.clone(), opts.clone()).await;
    let b = spawn_app_on(backend, opts).await;
    let owner = a.verified_user("b-two@example.com").await;
    let tenant = a.create_tenant(&owner, "b-two").await;
    // Ten creations at once, alternating instances, for three places on Free.
    let tries = (0..10).map(|i| {
        let (app, token, tenant) = (if i % 2 == 0 { &a } else { &b }, owner.access.clone(), tenant.clone());
        async move {
            app.gql(
                Some(&token),
                doc!("teams/CreateTeam"),
                json!({ "input": { "tenantId": tenant, "name": format!("T{i}") } }),
            )
            .await
        }
    });
    let results = futures::future::join_all(tries).await;
    let created = results.iter().filter(|r| r.0.get("errors").is_none()).count();
    let refused: Vec<String> =
        results.iter().filter(|r| r.0.get("errors").is_some()).map(|r| r.code()).collect();
    assert_eq!(created, 3, "exactly the plan's three teams: {refused:?}");
    assert!(refused.iter().all(|c| c == "QUOTA_EXCEEDED"), "{refused:?}");
    let usage = billing(&b, &owner, &tenant).await;
    let teams = usage.usage_of(Limit::TEAMS).clone();
    assert_eq!(teams.used, 3);
}

#[tokio::test]
async fn billing_events_stream_plan_changes_and_invoices_to_holders_of_billing_read() {
    let app = shipped().await;
    let owner = app.verified_user("b-live@example.com").await;
    let tenant = app.create_tenant(&owner, "b-live").await;
    change(&app, &owner, &tenant, "pro", "MONTH").await.data();
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&owner.access)).await.unwrap()["type"], "connection_ack");
    ws.subscribe("1", doc!("billing/BillingEvents"), json!({ "tenantId": tenant })).await;
    // The subscription registers asynchronously: schedule and take back a cancellation until
    // one of those changes arrives.
    let mut cancel = true;
    let first = loop {
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
        if let Ok(Some(v)) = tokio::time::timeout(std::time::Duration::from_millis(300), ws.next_json()).await
        {
            break v;
        }
    };
    // Whatever arrives first proves the subscription registered. It may still be one of the
    // Pro change's own events: the Redis bus publishes through a queue after the commit, so
    // they can reach Redis after the subscription did.
    let event_of =
        |v: &Value| event_data::<BillingEvents>(v).unwrap_or_else(|| panic!("an event: {v}")).billing_events;
    let mut before_upgrade = vec![event_of(&first)];
    if !cancel {
        // The last call scheduled a cancellation: take it back.
        app.gql(
            Some(&owner.access),
            doc!("billing/ResumeSubscription"),
            json!({ "input": { "tenantId": tenant } }),
        )
        .await
        .data();
    }
    // An upgrade: its invoice, then its subscription change. Events arrive in the order they
    // were published, so everything before the upgrade's invoice belongs to the changes above.
    let upgrade = change(&app, &owner, &tenant, "business", "MONTH").await.into_data();
    let invoice = upgrade.change_plan.invoice.expect("the upgrade's invoice").id;
    loop {
        let event = event_of(&ws.next_json().await.unwrap());
        if event.invoice_id.as_deref() == Some(invoice.as_str()) {
            assert_eq!(enum_name(&event.kind), "INVOICE_ISSUED");
            break;
        }
        before_upgrade.push(event);
    }
    assert!(before_upgrade.iter().all(|e| e.tenant_id == tenant));
    assert!(
        before_upgrade.iter().any(|e| enum_name(&e.kind) == "SUBSCRIPTION_CHANGED"),
        "the cancellations and resumptions were streamed"
    );
    let changed = event_of(&ws.next_json().await.unwrap());
    assert_eq!(enum_name(&changed.kind), "SUBSCRIPTION_CHANGED");

    // A member without BILLING_READ cannot subscribe.
    let (member, _) = app.join_as(&owner, &tenant, "b-live-m@example.com", "member").await;
    let mut ws2 = WsClient::connect(&app, "graphql-transport-ws").await;
    ws2.init(Some(&member.access)).await.unwrap();
    ws2.subscribe("1", doc!("billing/BillingEvents"), json!({ "tenantId": tenant })).await;
    let refused = ws2.next_json().await.unwrap();
    assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused}");
    assert_eq!(refused["payload"]["data"], Value::Null);
}

#[tokio::test]
async fn api_keys_need_a_plan_with_api_access_and_the_refusal_names_the_cheapest() {
    let app = shipped().await;
    let owner = app.verified_user("b-feat@example.com").await;
    let tenant = app.create_tenant(&owner, "b-feat").await;
    let create = || {
        app.gql(
            Some(&owner.access),
            doc!("api_keys/CreateApiKey"),
            json!({ "input": { "tenantId": tenant, "name": "ci", "permissions": ["TENANT_READ"] } }),
        )
    };
    let r = create().await;
    assert_eq!(r.code(), "PLAN_REQUIRED");
    let ext = &r.0["errors"][0]["extensions"];
    assert_eq!((ext["feature"].clone(), ext["plan"].clone()), (json!("apiKeys"), json!("pro")));
    assert!(r.message().contains("Pro"), "{}", r.message());
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.features.get("apiKeys"), None, "Free has no API access");
    change(&app, &owner, &tenant, "pro", "MONTH").await.data();
    assert_eq!(billing(&app, &owner, &tenant).await.features["apiKeys"], true);
    create().await.data();
}

#[tokio::test]
async fn usage_updated_streams_the_new_use_when_a_team_is_added() {
    let app = shipped().await;
    let owner = app.verified_user("b-use@example.com").await;
    let tenant = app.create_tenant(&owner, "b-use").await;
    change(&app, &owner, &tenant, "pro", "MONTH").await.data();
    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&owner.access)).await.unwrap()["type"], "connection_ack");
    ws.subscribe("1", doc!("billing/UsageUpdated"), json!({ "tenantId": tenant })).await;
    // The subscription registers asynchronously: add teams until a change arrives.
    let mut added = 0;
    let first = loop {
        added += 1;
        app.gql(
            Some(&owner.access),
            doc!("teams/CreateTeam"),
            json!({ "input": { "tenantId": tenant, "name": format!("T{added}") } }),
        )
        .await
        .data();
        if let Ok(Some(v)) = tokio::time::timeout(std::time::Duration::from_millis(300), ws.next_json()).await
        {
            break v;
        }
        assert!(added < 9, "no usage change arrived");
    };
    let uses =
        event_data::<UsageUpdated>(&first).unwrap_or_else(|| panic!("an event: {first}")).usage_updated;
    let teams = uses.iter().find(|u| u.limit == usage_updated::Limit::TEAMS).unwrap();
    assert_eq!((teams.used, teams.allowed), (added, Some(10)));
}
