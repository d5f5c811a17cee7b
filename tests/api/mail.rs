//! Mail over real SMTP to a sink on loopback (`tests/clients/smtp-sink.mjs`): STARTTLS
//! against the sink's own certificate authority, HTML and text parts, and nothing lost
//! while the relay is down.

use serde_json::{Value, json};

use crate::{gql::*, helpers::*};

async fn messages(http_port: u64) -> Vec<Value> {
    reqwest::get(format!("http://127.0.0.1:{http_port}/messages")).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn mail_goes_out_over_starttls_with_text_and_html() {
    let sink = NodeService::start("smtp-sink.mjs", &["--require-tls"], &[]);
    let (smtp, http) = (sink.info["smtpPort"].as_u64().unwrap(), sink.info["httpPort"].as_u64().unwrap());
    let cert = reqwest::get(format!("http://127.0.0.1:{http}/cert")).await.unwrap().text().await.unwrap();
    let ca = std::env::temp_dir().join(format!("zygo-test-ca-{}.pem", uuid::Uuid::new_v4().simple()));
    std::fs::write(&ca, cert).unwrap();
    let env = vec![
        ("ZYGO_MAIL_URL", format!("smtp://mailer:secret@127.0.0.1:{smtp}?tls=required")),
        ("ZYGO_MAIL_CA_FILE", ca.display().to_string()),
    ];
    let app = spawn_app_on(Backend::fresh().await, Options { env, ..Default::default() }).await;
    app.sign_up("smtp.user@example.com").await.data();
    let mail = eventually(10, || async { messages(http).await.into_iter().next() }).await;
    assert_eq!(mail["to"], json!(["smtp.user@example.com"]));
    assert_eq!(mail["subject"], "Confirm your e-mail address for Zygo");
    assert_eq!(mail["secure"], true, "sent after STARTTLS");
    assert_eq!(mail["authUser"], "mailer");
    let text = mail["text"].as_str().unwrap();
    let html = mail["html"].as_str().unwrap();
    assert!(text.contains("http://zygo.test/verify-email?token="), "{text}");
    assert!(html.contains("<a href=\"http://zygo.test/verify-email?token="), "{html}");
    // The token in the mail verifies the address.
    let token = text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap();
    let r = app.op::<VerifyEmail>(None, verify_email::Variables { token: token.into() }).await;
    assert!(r.data().verify_email.user.email_verified);
    let _ = std::fs::remove_file(ca);
}

#[tokio::test]
async fn mail_queued_while_the_relay_is_down_is_delivered_when_it_is_back() {
    // A port with nothing listening yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let env = vec![
        ("ZYGO_MAIL_URL", format!("smtp://127.0.0.1:{port}")),
        ("ZYGO_MAIL_POLL_INTERVAL", "1".to_string()),
    ];
    let app = spawn_app_on(Backend::fresh().await, Options { env, ..Default::default() }).await;
    app.sign_up("patient@example.com").await.data();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let sink = NodeService::start("smtp-sink.mjs", &["--port", &port.to_string()], &[]);
    let http = sink.info["httpPort"].as_u64().unwrap();
    let mail = eventually(20, || async { messages(http).await.into_iter().next() }).await;
    assert_eq!(mail["to"], json!(["patient@example.com"]));
    assert_eq!(messages(http).await.len(), 1, "sent exactly once");
}
