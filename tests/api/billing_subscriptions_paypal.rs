//! PayPal's subscriptions mode (`ZYGO_PAYPAL_MODE=subscriptions`) against
//! `tests/clients/paypal-fake.mjs`: checkout subscribes the organisation to a PayPal billing plan
//! mirroring Zygo's (created once, reused), the approval is applied once whether the return leg
//! or `BILLING.SUBSCRIPTION.ACTIVATED` comes first, PayPal's sales pay Zygo's invoices (a sale
//! before its activation waits for PayPal's redelivery), a failed collection starts dunning, and
//! Zygo's plan changes, cancellations and resumptions reach the PayPal subscription.

use chrono::Duration;
use serde_json::{Value, json};
use zygo::{ctx::Clock, jobs::drain};

use crate::{
    billing::{BillingRead, InvoiceStatus, SubscriptionStatus, billing},
    billing_providers::{Fake, app_with_fake},
    doc,
    gql::*,
    helpers::*,
};

async fn subscriptions_app() -> (TestApp, Fake, Clock) {
    app_with_fake(
        "paypal",
        "paypal-fake.mjs",
        &["--client-id", "zygo-client", "--client-secret", "zygo-secret", "--webhook-id", "WH-ZYGO"],
        &[
            ("ZYGO_PAYPAL_CLIENT_ID", "zygo-client"),
            ("ZYGO_PAYPAL_CLIENT_SECRET", "zygo-secret"),
            ("ZYGO_PAYPAL_WEBHOOK_ID", "WH-ZYGO"),
            ("ZYGO_PAYPAL_MODE", "subscriptions"),
        ],
    )
    .await
}

/// Starts a PayPal checkout for Pro monthly and approves the subscription as `account` on the
/// fake's page; returns the subscription id and the return leg into Zygo (not followed yet).
async fn approve(
    app: &TestApp,
    fake: &Fake,
    owner: &Session,
    tenant: &str,
    account: &str,
) -> (String, String) {
    let r = app
        .gql(
            Some(&owner.access),
            doc!("billing/StartCheckout"),
            json!({ "input": { "tenantId": tenant, "provider": "PAYPAL", "plan": "pro", "interval": "MONTH" } }),
        )
        .await;
    let url = r.typed::<StartCheckout>().into_data().start_checkout.checkout_url;
    assert!(url.starts_with(&format!("{}/approve-subscription/I-", fake.base)), "{url}");
    assert!(fake.http.get(&url).send().await.unwrap().text().await.unwrap().contains("Log in to PayPal"));
    let res = fake.http.post(&url).form(&[("account", account)]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let back = res.headers()["location"].to_str().unwrap().replace("http://zygo.test", &app.url(""));
    assert!(back.contains("/billing/return/paypal?state="), "{back}");
    let id = reqwest::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "subscription_id")
        .map(|(_, v)| v.to_string())
        .expect("subscription_id on the return leg");
    (id, back)
}

/// Follows the return leg; returns where Zygo sends the browser.
async fn come_back(fake: &Fake, back: &str) -> String {
    let res = fake.http.get(back).send().await.unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap_or_default());
    res.headers()["location"].to_str().unwrap().to_string()
}

async fn control(fake: &Fake, path: &str, body: Value) -> Value {
    fake.http.post(format!("{}{path}", fake.base)).json(&body).send().await.unwrap().json().await.unwrap()
}

/// Sends the first queued event of `event_type`: `{status, id}`.
async fn flush(fake: &Fake, event_type: &str) -> Value {
    control(fake, "/_flush", json!({ "event_type": event_type })).await
}

/// A subscription approved, activated by the return leg and its first period paid.
async fn subscribed(app: &TestApp, fake: &Fake, owner: &Session, tenant: &str, account: &str) -> String {
    let (id, back) = approve(app, fake, owner, tenant, account).await;
    assert_eq!(come_back(fake, &back).await, "http://zygo.test/billing?checkout=success");
    assert_eq!(flush(fake, "PAYMENT.SALE.COMPLETED").await["status"], 200);
    assert_eq!(flush(fake, "BILLING.SUBSCRIPTION.ACTIVATED").await["status"], 200);
    let b = billing(app, owner, tenant).await;
    assert_eq!((b.sub().plan.key.as_str(), b.invoice(0).status.clone()), ("pro", InvoiceStatus::PAID));
    id
}

async fn fake_subscription(fake: &Fake, id: &str) -> Value {
    let all = fake.get("/_subscriptions").await;
    all.as_array().unwrap().iter().find(|s| s["id"] == id).cloned().expect("the subscription at the fake")
}

#[tokio::test]
async fn a_paypal_subscription_is_activated_once_whichever_of_the_return_leg_and_the_webhook_comes_first() {
    let (app, fake, _) = subscriptions_app().await;
    let owner = app.verified_user("ps-act@example.com").await;
    let tenant = app.create_tenant(&owner, "ps-act").await;

    // The webhook first, then the customer comes back.
    let (sub_id, back) = approve(&app, &fake, &owner, &tenant, "payer@example.com").await;
    let activated = flush(&fake, "BILLING.SUBSCRIPTION.ACTIVATED").await;
    assert_eq!(activated["status"], 200);
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!((b.sub().plan.key.as_str(), b.account().provider.as_str()), ("pro", "paypal"));
    assert_eq!(
        (b.invoice(0).status.clone(), b.invoice(0).amount_due),
        (InvoiceStatus::OPEN, 2900),
        "PayPal collects it"
    );
    assert_eq!(come_back(&fake, &back).await, "http://zygo.test/billing?checkout=success");
    assert_eq!(billing(&app, &owner, &tenant).await.invoices().total_count, 1, "applied once");

    // PayPal's sale pays the invoice; its redelivery is a replay.
    let sale = flush(&fake, "PAYMENT.SALE.COMPLETED").await;
    assert_eq!(sale["status"], 200);
    assert_eq!(billing(&app, &owner, &tenant).await.invoice(0).status, InvoiceStatus::PAID);
    assert_eq!(control(&fake, "/_redeliver", json!({ "id": sale["id"] })).await["status"], 200);
    assert_eq!(control(&fake, "/_redeliver", json!({ "id": activated["id"] })).await["status"], 200);
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!((b.invoices().total_count, b.invoice(0).status.clone()), (1, InvoiceStatus::PAID));

    // PayPal's own objects: one product and one billing plan for Pro monthly in EUR, and the
    // subscription names the organisation and the plan; nothing charged by Orders v2.
    let plans = fake.requests("/v1/billing/plans").await;
    assert_eq!(plans.len(), 1);
    assert_eq!(
        plans[0]["body"]["billing_cycles"][0]["pricing_scheme"]["fixed_price"],
        json!({ "value": "29.00", "currency_code": "EUR" })
    );
    assert_eq!(plans[0]["body"]["billing_cycles"][0]["frequency"]["interval_unit"], "MONTH");
    assert!(plans[0]["requestId"].as_str().unwrap().starts_with("plan:pro:v"));
    assert_eq!(fake.requests("/v1/catalogs/products").await.len(), 1);
    let subs = fake.requests("/v1/billing/subscriptions").await;
    assert!(subs[0]["body"]["custom_id"].as_str().unwrap().ends_with(":pro:month"));
    assert_eq!(fake_subscription(&fake, &sub_id).await["status"], "ACTIVE");
    assert!(fake.requests("/v2/checkout/orders").await.is_empty());

    // Another organisation: its first sale arrives before anything else and waits (503, not
    // recorded); the return leg activates; PayPal's redelivery of the sale then pays. The plan
    // at PayPal is reused.
    let other = app.verified_user("ps-act2@example.com").await;
    let tenant2 = app.create_tenant(&other, "ps-act2").await;
    let (_, back2) = approve(&app, &fake, &other, &tenant2, "payer2@example.com").await;
    let early = flush(&fake, "PAYMENT.SALE.COMPLETED").await;
    assert_eq!(early["status"], 503);
    let b2 = billing(&app, &other, &tenant2).await;
    assert_eq!((b2.sub().plan.key.as_str(), b2.invoices().total_count), ("free", 0));
    assert_eq!(come_back(&fake, &back2).await, "http://zygo.test/billing?checkout=success");
    assert_eq!(billing(&app, &other, &tenant2).await.invoice(0).status, InvoiceStatus::OPEN);
    assert_eq!(control(&fake, "/_redeliver", json!({ "id": early["id"] })).await["status"], 200);
    assert_eq!(flush(&fake, "BILLING.SUBSCRIPTION.ACTIVATED").await["status"], 200);
    let b2 = billing(&app, &other, &tenant2).await;
    assert_eq!((b2.invoices().total_count, b2.invoice(0).status.clone()), (1, InvoiceStatus::PAID));
    assert_eq!(fake.requests("/v1/billing/plans").await.len(), 1, "the PayPal plan is reused");

    // A made-up event is refused.
    let forged = app
        .http
        .post(app.url("/billing/webhooks/paypal"))
        .header("content-type", "application/json")
        .header("paypal-auth-algo", "SHA256withRSA")
        .header("paypal-cert-url", "https://example.com/cert")
        .header("paypal-transmission-id", "T-MADE-UP")
        .header("paypal-transmission-sig", "c2ln")
        .header("paypal-transmission-time", "2026-12-04T00:00:00Z")
        .body(json!({ "id": "WH-X", "event_type": "BILLING.SUBSCRIPTION.CANCELLED", "resource": { "id": sub_id, "custom_id": format!("{}:pro:month", uuid::Uuid::nil()) } }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert!(!billing(&app, &owner, &tenant).await.sub().cancel_at_period_end);
}

#[tokio::test]
async fn a_paypal_subscription_renewal_is_paid_by_the_sale_webhook_and_a_failed_collection_makes_it_past_due()
{
    let (app, fake, clock) = subscriptions_app().await;
    let good = app.verified_user("ps-good@example.com").await;
    let tenant = app.create_tenant(&good, "ps-good").await;
    let good_sub = subscribed(&app, &fake, &good, &tenant, "payer@example.com").await;
    let bad = app.verified_user("ps-bad@example.com").await;
    let tenant2 = app.create_tenant(&bad, "ps-bad").await;
    let bad_sub = subscribed(&app, &fake, &bad, &tenant2, "declines@example.com").await;

    clock.advance(Duration::days(32));
    // PayPal collects the good one before Zygo's worker issued the renewal: the sale waits.
    let early = control(&fake, "/_bill", json!({ "subscription_id": good_sub })).await;
    assert_eq!(early["status"], 503, "{early}");
    drain(&app.ctx).await.unwrap();
    let good = app.log_in("ps-good@example.com").await;
    let bad = app.log_in("ps-bad@example.com").await;
    let b = billing(&app, &good, &tenant).await;
    assert_eq!(
        (b.invoice(1).status.clone(), b.invoice(1).amount_due),
        (InvoiceStatus::OPEN, 2900),
        "waits for PayPal"
    );
    assert_eq!(b.sub().status, SubscriptionStatus::ACTIVE);
    assert!(fake.requests("/v2/checkout/orders").await.is_empty(), "Zygo charges nothing itself");

    // PayPal's redelivery of that sale pays the renewal.
    assert_eq!(control(&fake, "/_redeliver", json!({ "id": early["id"] })).await["status"], 200);
    let b = billing(&app, &good, &tenant).await;
    assert_eq!(
        (b.invoice(1).status.clone(), b.sub().status.clone()),
        (InvoiceStatus::PAID, SubscriptionStatus::ACTIVE)
    );

    // PayPal cannot collect the other one: dunning starts.
    let failed = control(&fake, "/_bill", json!({ "subscription_id": bad_sub })).await;
    assert_eq!(failed["status"], 200);
    let b = billing(&app, &bad, &tenant2).await;
    assert_eq!(b.sub().status, SubscriptionStatus::PAST_DUE);
    assert!(b.sub().past_due_since.is_some() && b.sub().next_retry_at.is_some());
    assert_eq!(b.invoice(1).status.clone(), InvoiceStatus::OPEN);
    // The same failure delivered again changes nothing.
    assert_eq!(control(&fake, "/_redeliver", json!({ "id": failed["id"] })).await["status"], 200);
    let again = billing(&app, &bad, &tenant2).await;
    assert_eq!(again.sub().next_retry_at, b.sub().next_retry_at);

    // Dunning runs out: Zygo puts the organisation on Free and cancels the subscription at
    // PayPal (a job, after the step's transaction).
    for _ in 0..4 {
        clock.advance(Duration::days(4));
        drain(&app.ctx).await.unwrap();
    }
    let bad = app.log_in("ps-bad@example.com").await;
    assert_eq!(billing(&app, &bad, &tenant2).await.sub().plan.key, "free");
    assert_eq!(fake_subscription(&fake, &bad_sub).await["status"], "CANCELLED");
}

#[tokio::test]
async fn a_plan_change_revises_the_paypal_subscription_and_zygo_suspends_resumes_and_cancels_it_there() {
    let (app, fake, _) = subscriptions_app().await;
    let owner = app.verified_user("ps-chg@example.com").await;
    let tenant = app.create_tenant(&owner, "ps-chg").await;
    let sub_id = subscribed(&app, &fake, &owner, &tenant, "payer@example.com").await;
    let pro_plan = fake_subscription(&fake, &sub_id).await["plan_id"].clone();

    app.op_json::<ChangePlan>(
        Some(&owner.access),
        json!({ "input": { "tenantId": tenant, "plan": "business", "interval": "MONTH" } }),
    )
    .await
    .data();
    let revise = fake.requests(&format!("/v1/billing/subscriptions/{sub_id}/revise")).await;
    assert_eq!(revise.len(), 1);
    let plans = fake.requests("/v1/billing/plans").await;
    assert_eq!(plans.len(), 2, "a PayPal plan for Business");
    assert!(plans[1]["requestId"].as_str().unwrap().starts_with("plan:business:v"));
    let now = fake_subscription(&fake, &sub_id).await["plan_id"].clone();
    assert_ne!(now, pro_plan);
    assert_eq!(revise[0]["body"]["plan_id"], now);

    let cancel = |at_period_end: bool| {
        let (app, owner, tenant) = (&app, &owner, &tenant);
        async move {
            app.op_json::<CancelSubscription>(
                Some(&owner.access),
                json!({ "input": { "tenantId": tenant, "atPeriodEnd": at_period_end } }),
            )
            .await
            .data();
        }
    };
    cancel(true).await;
    assert_eq!(fake_subscription(&fake, &sub_id).await["status"], "SUSPENDED", "PayPal stops collecting");
    app.op_json::<ResumeSubscription>(Some(&owner.access), json!({ "input": { "tenantId": tenant } }))
        .await
        .data();
    assert_eq!(fake_subscription(&fake, &sub_id).await["status"], "ACTIVE");
    cancel(false).await;
    assert_eq!(fake_subscription(&fake, &sub_id).await["status"], "CANCELLED");
    assert_eq!(billing(&app, &owner, &tenant).await.sub().plan.key, "free");
    let actions: Vec<String> = fake
        .get("/_requests")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            r["path"]
                .as_str()
                .unwrap()
                .strip_prefix(&format!("/v1/billing/subscriptions/{sub_id}/"))
                .map(str::to_string)
        })
        .collect();
    assert_eq!(actions, ["revise", "suspend", "activate", "cancel"]);
}

#[tokio::test]
async fn a_payer_who_cancels_at_paypal_keeps_the_paid_period_and_nothing_renews_after_it() {
    let (app, fake, _) = subscriptions_app().await;
    let owner = app.verified_user("ps-payer@example.com").await;
    let tenant = app.create_tenant(&owner, "ps-payer").await;
    let sub_id = subscribed(&app, &fake, &owner, &tenant, "payer@example.com").await;
    let cancelled = control(&fake, "/_payer_cancels", json!({ "subscription_id": sub_id })).await;
    assert_eq!(cancelled["status"], 200);
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!((b.sub().plan.key.as_str(), b.sub().cancel_at_period_end), ("pro", true));
    assert_eq!(control(&fake, "/_redeliver", json!({ "id": cancelled["id"] })).await["status"], 200);
    assert!(billing(&app, &owner, &tenant).await.sub().cancel_at_period_end);
}

#[tokio::test]
async fn a_paypal_subscription_whose_plan_change_cannot_apply_is_cancelled_at_paypal_and_the_old_one_kept() {
    let (app, fake, _) = subscriptions_app().await;
    let owner = app.verified_user("ps-again@example.com").await;
    let tenant = app.create_tenant(&owner, "ps-again").await;
    let first = subscribed(&app, &fake, &owner, &tenant, "payer@example.com").await;

    // A second checkout for the plan it is already on: approved at PayPal, not applied in Zygo.
    let (second, back) = approve(&app, &fake, &owner, &tenant, "payer@example.com").await;
    assert_eq!(come_back(&fake, &back).await, "http://zygo.test/billing?checkout=cancel");
    assert_eq!(fake_subscription(&fake, &second).await["status"], "CANCELLED", "it must not collect");
    assert_eq!(fake_subscription(&fake, &first).await["status"], "ACTIVE");
    // Its events change nothing: the organisation keeps the first subscription.
    assert_eq!(flush(&fake, "BILLING.SUBSCRIPTION.ACTIVATED").await["status"], 200);
    let sale = flush(&fake, "PAYMENT.SALE.COMPLETED").await;
    assert_eq!(sale["status"], 200, "{sale}");
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!((b.sub().plan.key.as_str(), b.invoices().total_count), ("pro", 1));
    // A sale of the first one before Zygo issued the invoice it pays waits for redelivery.
    let early = control(&fake, "/_bill", json!({ "subscription_id": first })).await;
    assert_eq!(early["status"], 503, "{early}");
    assert_eq!(billing(&app, &owner, &tenant).await.invoices().total_count, 1);
}

#[tokio::test]
async fn a_paypal_subscription_sale_is_refunded_through_the_sale_api_once() {
    let (app, fake, _) = subscriptions_app().await;
    let owner = app.verified_user("ps-ref@example.com").await;
    let tenant = app.create_tenant(&owner, "ps-ref").await;
    subscribed(&app, &fake, &owner, &tenant, "payer@example.com").await;
    let invoice = billing(&app, &owner, &tenant).await.invoice(0).id.clone();
    let input = json!({ "input": { "tenantId": tenant, "invoiceId": invoice } });

    // The answer is lost; the retry carries the same PayPal-Request-Id and refunds nothing more.
    control(&fake, "/_lose_next", json!({ "path": "/v1/payments/sale/" })).await;
    assert_eq!(app.op_json::<RefundInvoice>(Some(&owner.access), input.clone()).await.code(), "INTERNAL");
    let r = app.op_json::<RefundInvoice>(Some(&owner.access), input.clone()).await.into_data().refund_invoice;
    assert_eq!(r.total_refunded, 2900);
    let refunds = fake.get("/_refunds").await;
    assert_eq!(refunds.as_array().unwrap().len(), 1, "{refunds}");
    assert_eq!(refunds[0]["amount"], json!({ "total": "29.00", "currency": "EUR" }));
    assert_eq!(r.refund.provider_refund_id.as_deref(), refunds[0]["id"].as_str());
    let sent: Vec<Value> = fake
        .get("/_requests")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["path"].as_str().unwrap().starts_with("/v1/payments/sale/"))
        .cloned()
        .collect();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["requestId"], sent[1]["requestId"]);
}
