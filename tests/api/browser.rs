//! GraphiQL in real Chromium (Debian's `chromium`, driven by `playwright-core` from
//! `tests/browser`): the README's first session, clicked through the page.

use std::process::Command;

use crate::helpers::*;

#[tokio::test]
async fn graphiql_runs_the_first_session_with_a_live_subscription() {
    let app = spawn_app().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser");
    assert!(
        std::path::Path::new(dir).join("node_modules/playwright-core").exists(),
        "tests/browser has no node_modules: run `npm ci --prefix tests/browser` (the README's test command does)"
    );
    let base = app.url("");
    let mail_dir = app.data_dir.join("mail");
    // The browser is a separate process; run it off the runtime that serves the app.
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .current_dir(dir)
            .arg("graphiql.mjs")
            .arg(base)
            .arg(mail_dir)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "GraphiQL check failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("live subscription all worked"), "{stdout}");
}
