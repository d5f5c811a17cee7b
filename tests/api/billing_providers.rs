//! Billing through Stripe, against `tests/clients/stripe-fake.mjs` (Stripe's request, answer
//! and webhook shapes): the hosted checkout saves a card and the plan is charged once; webhooks
//! are verified, applied once, replays and forgeries change nothing; declined renewals go
//! through dunning and a late confirmation settles them.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use zygo::{ctx::Clock, jobs::drain};

use crate::{
    billing::{BillingRead, InvoiceStatus, SubscriptionStatus, billing},
    doc,
    gql::*,
    helpers::*,
};

pub(crate) const KEY: &str = "sk_test_zygo";
pub(crate) const SECRET: &str = "whsec_zygo";

/// A provider fake and an HTTP client that does not follow redirects.
pub(crate) struct Fake {
    pub(crate) _fake: NodeService,
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
}

impl Fake {
    pub(crate) async fn get(&self, path: &str) -> Value {
        self.http.get(format!("{}{path}", self.base)).send().await.unwrap().json().await.unwrap()
    }

    /// The fake's API requests to `path`.
    pub(crate) async fn requests(&self, path: &str) -> Vec<Value> {
        self.get("/_requests")
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["path"] == path)
            .cloned()
            .collect()
    }
}

/// An app on a manual clock with the shipped plans and `provider` configured by `env` (its
/// `ZYGO_<PROVIDER>_API_BASE` pointed at the fake), and the fake started by `script` with `args`
/// delivering its webhooks to the app.
pub(crate) async fn app_with_fake(
    provider: &str,
    script: &str,
    args: &[&str],
    env: &[(&'static str, &str)],
) -> (TestApp, Fake, Clock) {
    let fake = NodeService::start(script, args, &[]);
    let base = format!("http://127.0.0.1:{}", fake.info["port"]);
    let clock = Clock::manual(Utc::now());
    let api_base: &'static str = match provider {
        "stripe" => "ZYGO_STRIPE_API_BASE",
        "revolut" => "ZYGO_REVOLUT_API_BASE",
        _ => "ZYGO_PAYPAL_API_BASE",
    };
    let mut vars = vec![(SHIPPED_PLANS.0, SHIPPED_PLANS.1.to_string()), (api_base, base.clone())];
    vars.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    let opts = Options { clock: Some(clock.clone()), env: vars, ..Default::default() };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    http.post(format!("{base}/_config"))
        .json(&json!({ "webhookUrl": app.url(&format!("/billing/webhooks/{provider}")) }))
        .send()
        .await
        .unwrap();
    (app, Fake { _fake: fake, base, http }, clock)
}

pub(crate) async fn stripe_app() -> (TestApp, Fake, Clock) {
    app_with_fake(
        "stripe",
        "stripe-fake.mjs",
        &["--key", KEY, "--webhook-secret", SECRET],
        &[("ZYGO_STRIPE_SECRET_KEY", KEY), ("ZYGO_STRIPE_WEBHOOK_SECRET", SECRET)],
    )
    .await
}

/// Starts a checkout for Pro monthly and saves `card` on the fake's hosted page; returns the
/// page's redirect.
pub(crate) async fn checkout(
    app: &TestApp,
    stripe: &Fake,
    owner: &Session,
    tenant: &str,
    card: &str,
) -> String {
    let r = app
        .gql(
            Some(&owner.access),
            doc!("billing/StartCheckout"),
            json!({ "input": { "tenantId": tenant, "provider": "STRIPE", "plan": "pro", "interval": "MONTH" } }),
        )
        .await;
    let url = r.typed::<StartCheckout>().into_data().start_checkout.checkout_url;
    assert!(url.starts_with(&stripe.base), "the customer goes to Stripe's page: {url}");
    let page = stripe.http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Card number"));
    // The fake delivers the signed webhook and waits for Zygo's answer before redirecting.
    let res = stripe.http.post(&url).form(&[("card", card)]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    res.headers()["location"].to_str().unwrap().to_string()
}

/// A webhook as Stripe signs it, at `t`, with `secret`.
async fn deliver(app: &TestApp, event: &Value, secret: &str, t: i64) -> reqwest::Response {
    let body = event.to_string();
    let sig =
        zygo::crypto::to_hex(&zygo::crypto::hmac_sha256(secret.as_bytes(), format!("{t}.{body}").as_bytes()));
    app.http
        .post(app.url("/billing/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", format!("t={t},v1={sig}"))
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_stripe_checkout_saves_the_card_and_the_plan_is_charged_once_with_an_idempotency_key() {
    let (app, stripe, clock) = stripe_app().await;
    let owner = app.verified_user("s-pay@example.com").await;
    let tenant = app.create_tenant(&owner, "s-pay").await;
    let back = checkout(&app, &stripe, &owner, &tenant, "4242424242424242").await;
    assert_eq!(back, "http://zygo.test/billing?checkout=success");
    assert_eq!(stripe.get("/_events").await[0]["status"], 200);

    let b = billing(&app, &owner, &tenant).await;
    assert_eq!((b.sub().plan.key.as_str(), enum_name(&b.sub().status).as_str()), ("pro", "ACTIVE"));
    assert_eq!(b.account().provider, "stripe");
    let inv = b.invoice(0);
    assert_eq!((enum_name(&inv.status).as_str(), inv.total), ("PAID", 2900));
    let charges = stripe.requests("/v1/payment_intents").await;
    assert_eq!(charges.len(), 1, "charged once");
    assert_eq!(charges[0]["body"]["amount"], "2900");
    assert_eq!(charges[0]["body"]["currency"], "eur");
    assert_eq!(charges[0]["body"]["off_session"], "true");
    assert!(charges[0]["idempotencyKey"].as_str().unwrap().starts_with("change:"));
    assert_eq!(stripe.requests("/v1/customers").await.len(), 1);

    // The renewal a month later is charged the same way, once even if the worker runs twice.
    clock.advance(Duration::days(32));
    drain(&app.ctx).await.unwrap();
    let charges = stripe.requests("/v1/payment_intents").await;
    assert_eq!(charges.len(), 2);
    assert!(charges[1]["idempotencyKey"].as_str().unwrap().starts_with("renewal:"));
    let owner = app.log_in("s-pay@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    let statuses: Vec<String> = b.invoices().edges.iter().map(|e| enum_name(&e.node.status)).collect();
    assert_eq!(statuses, ["PAID", "PAID"]);
}

#[tokio::test]
async fn stripe_webhooks_are_verified_applied_once_and_replays_and_forgeries_change_nothing() {
    let (app, stripe, clock) = stripe_app().await;
    let owner = app.verified_user("s-hook@example.com").await;
    let tenant = app.create_tenant(&owner, "s-hook").await;
    checkout(&app, &stripe, &owner, &tenant, "4242424242424242").await;
    let invoice_id = {
        let b = billing(&app, &owner, &tenant).await;
        let gid = b.invoice(0).id.clone();
        let raw = String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, gid).unwrap(),
        )
        .unwrap();
        raw.split_once(':').unwrap().1.to_string()
    };
    let event = json!({
        "id": "evt_confirm_1", "object": "event", "type": "payment_intent.succeeded",
        "data": { "object": { "id": "pi_x", "object": "payment_intent", "status": "succeeded", "metadata": { "invoice_id": invoice_id } } }
    });
    // The server's clock decides the five minutes (a manual one here: it does not move).
    let now = clock.now().timestamp();

    // Forged (another secret) and stale (older than five minutes): refused, nothing recorded.
    assert_eq!(deliver(&app, &event, "whsec_other", now).await.status(), 400);
    assert_eq!(deliver(&app, &event, SECRET, now - 301).await.status(), 400);
    let unsigned =
        app.http.post(app.url("/billing/webhooks/stripe")).body(event.to_string()).send().await.unwrap();
    assert_eq!(unsigned.status(), 400);

    // Genuine: recorded (the invoice is already paid, so nothing to do); the same event
    // again is a replay.
    let first: Value = deliver(&app, &event, SECRET, now).await.json().await.unwrap();
    assert_eq!(first["received"], true);
    assert_eq!(first.get("duplicate"), None);
    let again: Value = deliver(&app, &event, SECRET, now).await.json().await.unwrap();
    assert_eq!(again["duplicate"], true);
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.invoices().total_count, 1);
    assert_eq!(b.invoice(0).status, InvoiceStatus::PAID);

    // An event Zygo does not act on is accepted and recorded.
    let other =
        json!({ "id": "evt_other", "object": "event", "type": "customer.updated", "data": { "object": {} } });
    assert_eq!(deliver(&app, &other, SECRET, now).await.status(), 200);
}

#[tokio::test]
async fn a_declined_card_changes_no_plan_and_declined_renewals_are_dunned_until_a_late_confirmation_settles_them()
 {
    let (app, stripe, clock) = stripe_app().await;
    let owner = app.verified_user("s-dun@example.com").await;
    let tenant = app.create_tenant(&owner, "s-dun").await;

    // A card that saves but declines every charge: the upgrade is not made.
    checkout(&app, &stripe, &owner, &tenant, "4000000000000341").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().plan.key, "free");
    assert_eq!(b.invoices().total_count, 0, "the declined upgrade left no invoice");

    // A good card: Pro. Then the customer's cards start declining.
    checkout(&app, &stripe, &owner, &tenant, "4242424242424242").await;
    let customer_id =
        stripe.requests("/v1/payment_intents").await.last().unwrap()["body"]["customer"].clone();
    stripe
        .http
        .post(format!("{}/_decline", stripe.base))
        .json(&json!({ "customer": customer_id }))
        .send()
        .await
        .unwrap();

    clock.advance(Duration::days(32));
    drain(&app.ctx).await.unwrap();
    let owner = app.log_in("s-dun@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().status, SubscriptionStatus::PAST_DUE);
    let renewal = b.invoice(1).clone();
    assert_eq!(renewal.status, InvoiceStatus::OPEN);
    // The retry a day later is a new charge (its own idempotency key), declined again.
    clock.advance(Duration::days(1));
    drain(&app.ctx).await.unwrap();
    let keys: Vec<String> = stripe
        .requests("/v1/payment_intents")
        .await
        .iter()
        .map(|r| r["idempotencyKey"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 4, "declined upgrade, upgrade, renewal, retry: {keys:?}");
    assert_ne!(keys[2], keys[3]);

    // Stripe later reports the renewal paid (say, the customer paid it on a Stripe page):
    // the invoice is paid and the subscription active again.
    let gid = renewal.id.as_str();
    let raw = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, gid).unwrap(),
    )
    .unwrap();
    let event = json!({
        "id": "evt_late", "object": "event", "type": "payment_intent.succeeded",
        "data": { "object": { "id": "pi_late", "object": "payment_intent", "status": "succeeded", "metadata": { "invoice_id": raw.split_once(':').unwrap().1 } } }
    });
    assert_eq!(deliver(&app, &event, SECRET, clock.now().timestamp()).await.status(), 200);
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().status, SubscriptionStatus::ACTIVE);
    assert_eq!(b.invoice(1).status, InvoiceStatus::PAID);
}

// --------------------------------------------------------------------------------------
// Revolut
// --------------------------------------------------------------------------------------

pub(crate) const REVOLUT_KEY: &str = "sk_revolut_zygo";
pub(crate) const REVOLUT_SECRET: &str = "wsk_revolut_zygo";

pub(crate) async fn revolut_app() -> (TestApp, Fake) {
    let (app, fake, _) = app_with_fake(
        "revolut",
        "revolut-fake.mjs",
        &["--key", REVOLUT_KEY, "--webhook-secret", REVOLUT_SECRET],
        &[("ZYGO_REVOLUT_SECRET_KEY", REVOLUT_KEY), ("ZYGO_REVOLUT_WEBHOOK_SECRET", REVOLUT_SECRET)],
    )
    .await;
    (app, fake)
}

/// Starts a Revolut checkout for Pro monthly and pays the card check with `card`.
pub(crate) async fn revolut_checkout(app: &TestApp, fake: &Fake, owner: &Session, tenant: &str, card: &str) {
    let r = app
        .gql(
            Some(&owner.access),
            doc!("billing/StartCheckout"),
            json!({ "input": { "tenantId": tenant, "provider": "REVOLUT", "plan": "pro", "interval": "MONTH" } }),
        )
        .await;
    let url = r.typed::<StartCheckout>().into_data().start_checkout.checkout_url;
    assert!(url.starts_with(&fake.base), "{url}");
    let res = fake.http.post(&url).form(&[("card", card)]).send().await.unwrap();
    assert_eq!(res.status(), 303);
}

/// A webhook as Revolut signs it.
async fn revolut_deliver(app: &TestApp, body: &Value, secret: &str, ts_ms: i64) -> reqwest::Response {
    let body = body.to_string();
    let sig = zygo::crypto::to_hex(&zygo::crypto::hmac_sha256(
        secret.as_bytes(),
        format!("v1.{ts_ms}.{body}").as_bytes(),
    ));
    app.http
        .post(app.url("/billing/webhooks/revolut"))
        .header("content-type", "application/json")
        .header("revolut-signature", format!("v1={sig}"))
        .header("revolut-request-timestamp", ts_ms.to_string())
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_revolut_card_check_saves_the_card_uncharged_and_the_plan_is_paid_by_a_merchant_initiated_payment()
{
    let (app, revolut) = revolut_app().await;
    let providers = app.op::<PaymentProviders>(None, payment_providers::Variables).await;
    assert_eq!(
        serde_json::to_value(&providers.data().payment_providers).unwrap(),
        json!(["MANUAL", "REVOLUT"])
    );
    let owner = app.verified_user("r-pay@example.com").await;
    let tenant = app.create_tenant(&owner, "r-pay").await;
    revolut_checkout(&app, &revolut, &owner, &tenant, "4929420573595709").await;
    assert_eq!(revolut.get("/_events").await[0]["status"], 200);

    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().plan.key, "pro");
    assert_eq!(b.account().provider, "revolut");
    assert_eq!(b.invoice(0).status, InvoiceStatus::PAID);
    let orders = revolut.get("/_orders").await;
    let orders = orders.as_array().unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(
        (orders[0]["capture_mode"].clone(), orders[0]["state"].clone()),
        (json!("manual"), json!("cancelled")),
        "the card check is voided"
    );
    assert_eq!((orders[1]["amount"].clone(), orders[1]["state"].clone()), (json!(2900), json!("completed")));
    let requests = revolut.get("/_requests").await;
    let pays: Vec<&Value> = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/payments"))
        .collect();
    assert_eq!(pays.len(), 1, "paid once");
    assert_eq!(pays[0]["body"]["saved_payment_method"]["initiator"], "merchant");
    assert!(
        requests
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["path"].as_str().unwrap().starts_with("/api/orders"))
            .all(|r| r["apiVersion"] == "2024-09-01")
    );
    let customers: Vec<&Value> =
        requests.as_array().unwrap().iter().filter(|r| r["path"] == "/api/1.0/customers").collect();
    assert_eq!(customers[0]["body"]["email"], "r-pay@example.com");

    // Revolut's confirmation of that payment: recorded once, a replay changes nothing, a
    // forged or stale one is refused.
    let event =
        json!({ "event": "ORDER_COMPLETED", "order_id": orders[1]["id"], "merchant_order_ext_ref": null });
    let now = Utc::now().timestamp_millis();
    assert_eq!(revolut_deliver(&app, &event, "wsk_other", now).await.status(), 400);
    assert_eq!(revolut_deliver(&app, &event, REVOLUT_SECRET, now - 10 * 60 * 1000).await.status(), 400);
    let first: Value = revolut_deliver(&app, &event, REVOLUT_SECRET, now).await.json().await.unwrap();
    assert_eq!(first["received"], true);
    assert_eq!(first.get("duplicate"), None);
    let again: Value = revolut_deliver(&app, &event, REVOLUT_SECRET, now).await.json().await.unwrap();
    assert_eq!(again["duplicate"], true);
    assert_eq!(billing(&app, &owner, &tenant).await.invoices().total_count, 1);
}

#[tokio::test]
async fn a_revolut_card_that_declines_changes_no_plan() {
    let (app, revolut) = revolut_app().await;
    let owner = app.verified_user("r-dec@example.com").await;
    let tenant = app.create_tenant(&owner, "r-dec").await;
    revolut_checkout(&app, &revolut, &owner, &tenant, "4000000000000002").await;
    assert_eq!(
        revolut.get("/_events").await[0]["status"],
        200,
        "the webhook is answered: the decline is recorded"
    );
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().plan.key, "free");
    assert_eq!(b.invoices().total_count, 0);
    let orders = revolut.get("/_orders").await;
    assert_eq!(orders[1]["payments"][0]["state"], "declined");
}

// --------------------------------------------------------------------------------------
// PayPal
// --------------------------------------------------------------------------------------

pub(crate) async fn paypal_app() -> (TestApp, Fake) {
    let (app, fake, _) = app_with_fake(
        "paypal",
        "paypal-fake.mjs",
        &["--client-id", "zygo-client", "--client-secret", "zygo-secret", "--webhook-id", "WH-ZYGO"],
        &[
            ("ZYGO_PAYPAL_CLIENT_ID", "zygo-client"),
            ("ZYGO_PAYPAL_CLIENT_SECRET", "zygo-secret"),
            ("ZYGO_PAYPAL_WEBHOOK_ID", "WH-ZYGO"),
        ],
    )
    .await;
    (app, fake)
}

/// Starts a PayPal checkout for Pro monthly, approves it as `account` and follows the return
/// leg into Zygo; returns Zygo's return URL and where Zygo sent the browser.
pub(crate) async fn paypal_checkout(
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
    let approve = r.typed::<StartCheckout>().into_data().start_checkout.checkout_url;
    assert!(approve.starts_with(&fake.base), "{approve}");
    assert!(fake.http.get(&approve).send().await.unwrap().text().await.unwrap().contains("Log in to PayPal"));
    let res = fake.http.post(&approve).form(&[("account", account)]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let back = res.headers()["location"].to_str().unwrap().replace("http://zygo.test", &app.url(""));
    assert!(back.contains("/billing/return/paypal?state=") && back.contains("approval_token_id="), "{back}");
    let res = fake.http.get(&back).send().await.unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap_or_default());
    (back, res.headers()["location"].to_str().unwrap().to_string())
}

#[tokio::test]
async fn a_paypal_approval_vaults_the_payer_and_the_plan_is_paid_with_the_vault_id_once() {
    let (app, paypal) = paypal_app().await;
    let owner = app.verified_user("p-pay@example.com").await;
    let tenant = app.create_tenant(&owner, "p-pay").await;
    let (back, to) = paypal_checkout(&app, &paypal, &owner, &tenant, "payer@example.com").await;
    assert_eq!(to, "http://zygo.test/billing?checkout=success");
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().plan.key, "pro");
    assert_eq!(b.account().provider, "paypal");
    assert_eq!(b.invoice(0).status, InvoiceStatus::PAID);
    let orders: Vec<Value> = paypal
        .get("/_requests")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/v2/checkout/orders")
        .cloned()
        .collect();
    assert_eq!(orders.len(), 1);
    assert_eq!(
        orders[0]["body"]["purchase_units"][0]["amount"],
        json!({ "currency_code": "EUR", "value": "29.00" })
    );
    assert!(orders[0]["requestId"].as_str().unwrap().starts_with("change:"));

    // Coming back a second time (a reload) changes nothing; a state Zygo did not sign is refused.
    let again = paypal.http.get(&back).send().await.unwrap();
    assert_eq!(again.status(), 303);
    assert_eq!(billing(&app, &owner, &tenant).await.invoices().total_count, 1);
    let forged = back.replacen("state=", "state=x", 1);
    assert_eq!(paypal.http.get(&forged).send().await.unwrap().status(), 400);

    // Webhooks: verified by PayPal's own call; a redelivery is a replay; a made-up one is refused.
    let gid = b.invoice(0).id.clone();
    let raw = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, gid).unwrap(),
    )
    .unwrap();
    let invoice_id = raw.split_once(':').unwrap().1.to_string();
    let sent = paypal
        .http
        .post(format!("{}/_deliver", paypal.base))
        .json(&json!({ "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": { "id": "3CAPTURE", "status": "COMPLETED", "custom_id": invoice_id } }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(sent["status"], 200);
    let replay: Value =
        paypal.http.post(format!("{}/_redeliver", paypal.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(replay["status"], 200);
    let forged = app
        .http
        .post(app.url("/billing/webhooks/paypal"))
        .header("content-type", "application/json")
        .header("paypal-auth-algo", "SHA256withRSA")
        .header("paypal-cert-url", "https://example.com/cert")
        .header("paypal-transmission-id", "T-MADE-UP")
        .header("paypal-transmission-sig", "c2ln")
        .header("paypal-transmission-time", "2026-12-04T00:00:00Z")
        .body(json!({ "id": "WH-X", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": { "custom_id": invoice_id } }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert_eq!(billing(&app, &owner, &tenant).await.invoices().total_count, 1);
}

#[tokio::test]
async fn a_paypal_payer_whose_payment_declines_goes_back_to_the_cancel_page_with_no_plan_change() {
    let (app, paypal) = paypal_app().await;
    let owner = app.verified_user("p-dec@example.com").await;
    let tenant = app.create_tenant(&owner, "p-dec").await;
    let (_, to) = paypal_checkout(&app, &paypal, &owner, &tenant, "declines@example.com").await;
    assert_eq!(to, "http://zygo.test/billing?checkout=cancel");
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.sub().plan.key, "free");
    assert_eq!(b.invoices().total_count, 0);
}
