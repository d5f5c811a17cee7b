//! Refunds through each provider's fake (`refundInvoice`): the money goes back through the
//! provider that took it, with an idempotency key; a request whose answer is lost on the way
//! back is sent again with the same key and refunds once; every refund is audited; a manual
//! invoice's refund is recorded without a call.

use serde_json::{Value, json};

use crate::{
    billing::{BillingRead, InvoiceStatus, billing},
    billing_providers::{
        Fake, checkout, paypal_app, paypal_checkout, revolut_app, revolut_checkout, stripe_app,
    },
    gql::*,
    helpers::*,
};

async fn refund(
    app: &TestApp,
    owner: &Session,
    tenant: &str,
    invoice: &str,
    amount: Option<i64>,
) -> Op<refund_invoice::ResponseData> {
    let mut input = json!({ "tenantId": tenant, "invoiceId": invoice });
    if let Some(a) = amount {
        input["amount"] = json!(a);
    }
    app.op_json::<RefundInvoice>(Some(&owner.access), json!({ "input": input })).await
}

/// Arms the fake to perform the next request under `path` and drop its answer.
async fn lose_next(fake: &Fake, path: &str) {
    let r = fake
        .http
        .post(format!("{}/_lose_next", fake.base))
        .json(&json!({ "path": path }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

/// Refunds 10.00 of the paid Pro invoice with its answer lost, then again: one refund at the
/// provider, recorded once; then the rest; then nothing is left. Returns the provider refund
/// ids Zygo recorded.
async fn refund_once_through(
    app: &TestApp,
    fake: &Fake,
    owner: &Session,
    tenant: &str,
    lose_path: &str,
) -> Vec<String> {
    let b = billing(app, owner, tenant).await;
    assert_eq!(b.invoice(0).status, InvoiceStatus::PAID);
    assert_eq!(b.invoice(0).amount_due, 2900);
    let invoice = b.invoice(0).id.clone();

    lose_next(fake, lose_path).await;
    let lost = refund(app, owner, tenant, &invoice, Some(1000)).await;
    assert_eq!(lost.code(), "INTERNAL", "the answer was lost: {:?}", lost.raw);
    assert_eq!(fake.get("/_refunds").await.as_array().unwrap().len(), 1, "the provider refunded");

    // The retry carries the same key: the provider answers the refund it made.
    let again = refund(app, owner, tenant, &invoice, Some(1000)).await.into_data().refund_invoice;
    assert_eq!((again.refund.amount, again.total_refunded), (1000, 1000));
    let refunds = fake.get("/_refunds").await;
    assert_eq!(refunds.as_array().unwrap().len(), 1, "refunded once: {refunds}");
    let first_id = again.refund.provider_refund_id.clone().expect("the provider's refund id");
    assert_eq!(refunds[0]["id"], first_id.as_str());

    // The rest, then nothing is left.
    let rest = refund(app, owner, tenant, &invoice, None).await.into_data().refund_invoice;
    assert_eq!((rest.refund.amount, rest.total_refunded), (1900, 2900));
    assert_eq!(fake.get("/_refunds").await.as_array().unwrap().len(), 2);
    let none = refund(app, owner, tenant, &invoice, None).await;
    assert_eq!((none.code(), none.field()), ("BAD_USER_INPUT".to_string(), "input.invoiceId".to_string()));
    assert_eq!(fake.get("/_refunds").await.as_array().unwrap().len(), 2);

    let log = app
        .op_json::<TenantAuditLog>(
            Some(&owner.access),
            json!({ "id": tenant, "filter": { "action": "billing.invoice_refunded" } }),
        )
        .await;
    let entries = &log.partial().tenant.audit_log.as_ref().expect("the audit log").edges;
    assert_eq!(entries.len(), 2, "each refund audited once");
    vec![first_id, rest.refund.provider_refund_id.expect("a refund id")]
}

/// The idempotency keys of the requests to paths ending with `suffix`.
fn keys(requests: &Value, suffix: &str, header: &str) -> Vec<String> {
    requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with(suffix))
        .map(|r| r[header].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_stripe_refund_whose_answer_is_lost_is_retried_with_its_key_and_refunds_once() {
    let (app, stripe, _) = stripe_app().await;
    let owner = app.verified_user("s-ref@example.com").await;
    let tenant = app.create_tenant(&owner, "s-ref").await;
    checkout(&app, &stripe, &owner, &tenant, "4242424242424242").await;
    refund_once_through(&app, &stripe, &owner, &tenant, "/v1/refunds").await;
    let requests = stripe.get("/_requests").await;
    let keys = keys(&requests, "/v1/refunds", "idempotencyKey");
    assert_eq!(keys.len(), 3, "lost, retried, the rest: {keys:?}");
    assert_eq!(keys[0], keys[1]);
    assert_ne!(keys[1], keys[2]);
    let sent: Vec<&Value> =
        requests.as_array().unwrap().iter().filter(|r| r["path"] == "/v1/refunds").collect();
    assert!(sent[0]["body"]["payment_intent"].as_str().unwrap().starts_with("pi_"));
    assert_eq!(sent[0]["body"]["amount"], "1000");
}

#[tokio::test]
async fn a_revolut_refund_whose_answer_is_lost_is_retried_with_its_key_and_refunds_once() {
    let (app, revolut) = revolut_app().await;
    let owner = app.verified_user("r-ref@example.com").await;
    let tenant = app.create_tenant(&owner, "r-ref").await;
    revolut_checkout(&app, &revolut, &owner, &tenant, "4929420573595709").await;
    let orders = revolut.get("/_orders").await;
    let paid = orders[1]["id"].as_str().unwrap().to_string();
    refund_once_through(&app, &revolut, &owner, &tenant, &format!("/api/orders/{paid}/refund")).await;
    let keys = keys(&revolut.get("/_requests").await, "/refund", "idempotencyKey");
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(keys[0], keys[1]);
    let refunds = revolut.get("/_refunds").await;
    assert!(refunds.as_array().unwrap().iter().all(|r| r["related_order_id"] == paid.as_str()));
}

#[tokio::test]
async fn a_paypal_capture_refund_whose_answer_is_lost_is_retried_with_its_request_id_and_refunds_once() {
    let (app, paypal) = paypal_app().await;
    let owner = app.verified_user("p-ref@example.com").await;
    let tenant = app.create_tenant(&owner, "p-ref").await;
    paypal_checkout(&app, &paypal, &owner, &tenant, "payer@example.com").await;
    refund_once_through(&app, &paypal, &owner, &tenant, "/v2/payments/captures/").await;
    let ids = keys(&paypal.get("/_requests").await, "/refund", "requestId");
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids[0], ids[1]);
    assert!(ids[0].starts_with("refund:"));
}

#[tokio::test]
async fn a_manual_invoice_refund_is_recorded_without_a_provider_and_never_exceeds_what_was_paid() {
    const ADMIN: &str = "ops@zygo.example";
    let opts = Options { env: vec![(SHIPPED_PLANS.0, SHIPPED_PLANS.1.to_string())], ..Default::default() };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let owner = app.verified_user("m-ref@example.com").await;
    let tenant = app.create_tenant(&owner, "m-ref").await;
    let admin = app.platform_operator(ADMIN, "super-admin").await.0;
    let changed = app
        .op_json::<ChangePlan>(
            Some(&owner.access),
            json!({ "input": { "tenantId": tenant, "plan": "pro", "interval": "MONTH" } }),
        )
        .await
        .into_data()
        .change_plan;
    let invoice = changed.invoice.expect("the upgrade's invoice").id;
    // Open (a transfer is awaited): nothing to refund yet.
    let open = refund(&app, &owner, &tenant, &invoice, None).await;
    assert_eq!((open.code(), open.field()), ("BAD_USER_INPUT".to_string(), "input.invoiceId".to_string()));
    app.op_json::<MarkInvoicePaid>(Some(&admin.access), json!({ "input": { "invoiceId": invoice } }))
        .await
        .data();

    let over = refund(&app, &owner, &tenant, &invoice, Some(2901)).await;
    assert_eq!((over.code(), over.field()), ("BAD_USER_INPUT".to_string(), "input.amount".to_string()));
    let r = refund(&app, &owner, &tenant, &invoice, Some(900)).await.into_data().refund_invoice;
    assert_eq!((r.refund.amount, r.total_refunded, r.refund.provider_refund_id), (900, 900, None));
    assert_eq!(r.refund.currency, "EUR");
    let over = refund(&app, &owner, &tenant, &invoice, Some(2001)).await;
    assert_eq!(over.field(), "input.amount", "2000 is left");
    assert_eq!(billing(&app, &owner, &tenant).await.invoice(0).status, InvoiceStatus::PAID);
}
