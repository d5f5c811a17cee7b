//! The payment method renewals are charged to: described as the provider tells it (a card's
//! brand, last four digits and expiry; a PayPal account), replaced on a provider's hosted page
//! without a plan change — with another provider too — after which renewals go to the new one
//! while refunds of invoices paid before go back through the provider that took them.

use chrono::{Datelike, Duration};
use serde_json::{Value, json};
use zygo::{ctx::Clock, jobs::drain};

use crate::{
    billing::{BillingRead, InvoiceStatus, billing},
    billing_providers::{
        Fake, KEY, REVOLUT_KEY, REVOLUT_SECRET, SECRET, app_with_fake, checkout, paypal_app, paypal_checkout,
    },
    doc,
    gql::*,
    helpers::*,
};

/// An app with Stripe and Revolut both configured, each against its fake.
async fn stripe_and_revolut() -> (TestApp, Fake, Fake, Clock) {
    let revolut = NodeService::start(
        "revolut-fake.mjs",
        &["--key", REVOLUT_KEY, "--webhook-secret", REVOLUT_SECRET],
        &[],
    );
    let base = format!("http://127.0.0.1:{}", revolut.info["port"]);
    let (app, stripe, clock) = app_with_fake(
        "stripe",
        "stripe-fake.mjs",
        &["--key", KEY, "--webhook-secret", SECRET],
        &[
            ("ZYGO_STRIPE_SECRET_KEY", KEY),
            ("ZYGO_STRIPE_WEBHOOK_SECRET", SECRET),
            ("ZYGO_REVOLUT_API_BASE", &base),
            ("ZYGO_REVOLUT_SECRET_KEY", REVOLUT_KEY),
            ("ZYGO_REVOLUT_WEBHOOK_SECRET", REVOLUT_SECRET),
        ],
    )
    .await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    http.post(format!("{base}/_config"))
        .json(&json!({ "webhookUrl": app.url("/billing/webhooks/revolut") }))
        .send()
        .await
        .unwrap();
    (app, stripe, Fake { _fake: revolut, base, http }, clock)
}

async fn start_update(app: &TestApp, s: &Session, tenant: &str, provider: &str) -> Gql {
    app.gql(
        Some(&s.access),
        doc!("billing/StartPaymentMethodUpdate"),
        json!({ "input": { "tenantId": tenant, "provider": provider } }),
    )
    .await
}

/// Saves `card` (expiring `expiry`, MM/YY) on the fake's hosted page at `url`; returns where
/// the customer is sent back to.
async fn enter_card(fake: &Fake, url: &str, card: &str, expiry: &str) -> String {
    assert!(url.starts_with(&fake.base), "the customer goes to the provider's page: {url}");
    let res = fake.http.post(url).form(&[("card", card), ("expiry", expiry)]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    res.headers()["location"].to_str().unwrap().to_string()
}

fn method(b: &tenant_billing::TenantBillingTenant) -> Value {
    serde_json::to_value(b.account().payment_method.as_ref().expect("a described payment method")).unwrap()
}

#[tokio::test]
async fn a_card_is_replaced_with_another_providers_renewals_follow_it_and_refunds_go_back_where_paid() {
    let (app, stripe, revolut, clock) = stripe_and_revolut().await;
    let owner = app.verified_user("pm-switch@example.com").await;
    let tenant = app.create_tenant(&owner, "pm-switch").await;
    // Pro through Stripe with a Mastercard, then a description of it.
    checkout(&app, &stripe, &owner, &tenant, "5555555555554444").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(
        method(&b),
        json!({ "provider": "stripe", "kind": "CARD", "brand": "mastercard", "last4": "4444",
                "expMonth": 12, "expYear": 2030, "expired": false, "email": null })
    );
    let first_invoice = b.invoice(0).id.clone();
    assert_eq!(b.invoice(0).status, InvoiceStatus::PAID);

    // A Revolut card replaces it; the plan, its period and the invoices stay as they were.
    let url = start_update(&app, &owner, &tenant, "REVOLUT").await.typed::<StartPaymentMethodUpdate>();
    let url = url.into_data().start_payment_method_update.checkout_url;
    let back = enter_card(&revolut, &url, "4929420573595709", "09/29").await;
    assert_eq!(back, "http://zygo.test/billing?checkout=success");
    let after = billing(&app, &owner, &tenant).await;
    assert_eq!(
        method(&after),
        json!({ "provider": "revolut", "kind": "CARD", "brand": "visa", "last4": "5709",
                "expMonth": 9, "expYear": 2029, "expired": false, "email": null })
    );
    assert_eq!(after.account().provider, "revolut");
    assert_eq!(
        (after.sub().plan.key.as_str(), &after.sub().current_period_end),
        ("pro", &b.sub().current_period_end)
    );
    assert_eq!(after.invoices().total_count, 1, "a new payment method issues no invoice");
    let orders = revolut.get("/_orders").await;
    assert_eq!(orders.as_array().unwrap().len(), 1, "only the card check");
    assert_eq!(orders[0]["state"], "cancelled", "the card check charges nothing");
    let audit = app
        .gql(
            Some(&owner.access),
            doc!("audit/TenantAuditLog"),
            json!({ "id": tenant, "filter": { "action": "billing.payment_method_saved" } }),
        )
        .await;
    let entries = &audit.data()["tenant"]["auditLog"]["edges"];
    assert_eq!(entries.as_array().map(Vec::len), Some(2), "{audit:?}");
    assert_eq!(entries[1]["node"]["after"]["method"]["last4"], "5709", "{audit:?}");
    assert_eq!(entries[1]["node"]["before"]["method"]["last4"], "4444", "{audit:?}");

    // A refund of the invoice Stripe took goes back through Stripe.
    let refunded = app
        .gql(
            Some(&owner.access),
            doc!("billing/RefundInvoice"),
            json!({ "input": { "tenantId": tenant, "invoiceId": first_invoice, "amount": 500 } }),
        )
        .await;
    refunded.data();
    let refunds = stripe.requests("/v1/refunds").await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["body"]["amount"], "500");
    assert_eq!(revolut.get("/_refunds").await.as_array().unwrap().len(), 0);

    // The renewal is charged to the Revolut card, not to Stripe.
    clock.advance(Duration::days(32));
    drain(&app.ctx).await.unwrap();
    assert_eq!(
        stripe.requests("/v1/payment_intents").await.len(),
        1,
        "Stripe charged only the first invoice"
    );
    let owner = app.log_in("pm-switch@example.com").await;
    let renewed = billing(&app, &owner, &tenant).await;
    assert_eq!(renewed.invoices().total_count, 2);
    let statuses: Vec<String> = renewed.invoices().edges.iter().map(|e| enum_name(&e.node.status)).collect();
    assert_eq!(statuses, ["PAID", "PAID"]);
    let orders = revolut.get("/_orders").await;
    let paid: Vec<&Value> = orders.as_array().unwrap().iter().filter(|o| o["state"] == "completed").collect();
    assert_eq!(paid.len(), 1, "{orders}");
    assert_eq!(paid[0]["amount"], 2900);
}

#[tokio::test]
async fn a_card_shows_as_expired_once_its_month_has_passed_and_only_billing_managers_replace_it() {
    let (app, stripe, _revolut, clock) = stripe_and_revolut().await;
    let owner = app.verified_user("pm-exp@example.com").await;
    let tenant = app.create_tenant(&owner, "pm-exp").await;
    // Nothing to replace on Free: the refusal names the field and opens no page.
    let free = start_update(&app, &owner, &tenant, "STRIPE").await;
    assert_eq!(free.code(), "BAD_USER_INPUT");
    assert_eq!(free.0["errors"][0]["extensions"]["field"], "input.tenantId", "{free:?}");
    assert!(stripe.requests("/v1/checkout/sessions").await.is_empty());

    checkout(&app, &stripe, &owner, &tenant, "4242424242424242").await;
    // A card expiring this month is valid until the month ends.
    let now = app.ctx.now();
    let url = start_update(&app, &owner, &tenant, "STRIPE").await.typed::<StartPaymentMethodUpdate>();
    let url = url.into_data().start_payment_method_update.checkout_url;
    enter_card(&stripe, &url, "378282246310005", &format!("{:02}/{:02}", now.month(), now.year() % 100))
        .await;
    let b = billing(&app, &owner, &tenant).await;
    let m = method(&b);
    assert_eq!(
        (m["brand"].clone(), m["last4"].clone(), m["expired"].clone()),
        (json!("amex"), json!("0005"), json!(false))
    );
    clock.advance(Duration::days(32));
    let owner = app.log_in("pm-exp@example.com").await;
    assert_eq!(method(&billing(&app, &owner, &tenant).await)["expired"], true);

    // A member without billing.manage cannot start a replacement.
    let (member, _) = app.join_as(&owner, &tenant, "pm-exp-m@example.com", "member").await;
    assert_eq!(start_update(&app, &member, &tenant, "STRIPE").await.code(), "FORBIDDEN");
}

#[tokio::test]
async fn a_paypal_account_is_described_by_its_address() {
    let (app, paypal) = paypal_app().await;
    let owner = app.verified_user("pm-pp@example.com").await;
    let tenant = app.create_tenant(&owner, "pm-pp").await;
    paypal_checkout(&app, &paypal, &owner, &tenant, "pm-payer@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    let m = method(&b);
    assert_eq!(
        (m["provider"].clone(), m["kind"].clone(), m["last4"].clone()),
        (json!("paypal"), json!("PAYPAL"), Value::Null)
    );
    assert_eq!(m["email"], "pm-payer@example.com");
}
