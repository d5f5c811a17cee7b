//! The web app (`frontend/`) as its users get it: served by zygo at `/` with history
//! fallback, and the whole journey clicked through in real Chromium (Debian's `chromium`
//! driven by `playwright-core` from `frontend/node_modules`, script `frontend/e2e/journey.mjs`).
//! The README's test command builds the app (`npm run build --prefix frontend`) first.

use std::{path::Path, process::Command};

use crate::{
    billing_providers::{KEY as STRIPE_KEY, SECRET as STRIPE_SECRET},
    helpers::*,
};

const FRONTEND: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/frontend");

fn assert_built() {
    assert!(
        Path::new(FRONTEND).join("dist/index.html").exists(),
        "frontend/dist is missing: run `npm ci --prefix frontend && npm run build --prefix frontend` \
         (the README's test command does)"
    );
}

#[tokio::test]
async fn the_app_is_served_with_history_fallback_and_its_own_security_policy() {
    assert_built();
    let app = spawn_app().await;
    // Deep links of the app (and links in mails) answer with the app's index page.
    for path in ["/", "/login", "/o/acme/workflows/123", "/invitations/accept?token=x"] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
        let body = res.text().await.unwrap();
        assert!(body.contains("<div id=\"root\">"), "{path}: {body}");
    }
    // Hashed assets are cached for good; a missing one is a 404, not the index page.
    let index = std::fs::read_to_string(Path::new(FRONTEND).join("dist/index.html")).unwrap();
    let asset =
        index.split("src=\"").nth(1).and_then(|s| s.split('"').next()).expect("a script in index.html");
    let res = app.http.get(app.url(asset)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let res = app.http.get(app.url("/assets/no-such-file.js")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    // The API keeps its own routes; other methods than GET on app paths are refused.
    let res = app.http.post(app.url("/o/acme")).body("x").send().await.unwrap();
    assert_eq!(res.status(), 405);
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn the_whole_journey_works_in_a_real_browser() {
    assert_built();
    assert!(
        Path::new(FRONTEND).join("node_modules/playwright-core").exists(),
        "frontend has no node_modules: run `npm ci --prefix frontend` (the README's test command does)"
    );
    // The shipped plans and Stripe (its fake): the journey subscribes on Stripe's page,
    // upgrades and replaces the card. The public URL is the app's real address: Stripe's page
    // sends the browser back to it.
    let stripe =
        NodeService::start("stripe-fake.mjs", &["--key", STRIPE_KEY, "--webhook-secret", STRIPE_SECRET], &[]);
    let stripe_base = format!("http://127.0.0.1:{}", stripe.info["port"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let env = vec![
        (SHIPPED_PLANS.0, SHIPPED_PLANS.1.to_string()),
        ("ZYGO_LISTEN", format!("127.0.0.1:{port}")),
        ("ZYGO_PUBLIC_URL", format!("http://127.0.0.1:{port}")),
        ("ZYGO_STRIPE_API_BASE", stripe_base.clone()),
        ("ZYGO_STRIPE_SECRET_KEY", STRIPE_KEY.to_string()),
        ("ZYGO_STRIPE_WEBHOOK_SECRET", STRIPE_SECRET.to_string()),
    ];
    let app = spawn_app_on(Backend::fresh().await, Options { env, ..Default::default() }).await;
    let base = app.url("");
    // A super administrator for the console part (granted like `zygo admin grant`, two-factor
    // on); the journey signs in with one of the backup codes.
    let (_, codes) = app.platform_operator("ops@journey.test", "super-admin").await;
    let operator = format!("ops@journey.test\n{PASSWORD}\n{}", codes[0]);
    let configured = app
        .http
        .post(format!("{stripe_base}/_config"))
        .json(&serde_json::json!({ "webhookUrl": app.url("/billing/webhooks/stripe") }))
        .send()
        .await
        .unwrap();
    assert!(configured.status().is_success());
    let mail_dir = app.data_dir.join("mail");
    let backend = if std::env::var("ZYGO_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        "postgres"
    } else {
        "sqlite"
    };
    let artifacts = Path::new(FRONTEND).join("e2e/artifacts").join(backend);
    // The browser is a separate process; run it off the runtime that serves the app.
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .current_dir(FRONTEND)
            .arg("e2e/journey.mjs")
            .env("ZYGO_JOURNEY_OPERATOR", operator)
            .arg(base)
            .arg(mail_dir)
            .arg(artifacts)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "journey failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("journey passed"), "{stdout}");
}
