//! The floor of the API benchmark (`benches/api/run.sh`): a bare axum handler answering
//! `POST /graphql` with the bytes Zygo answers to an anonymous `{ __typename }`, so the
//! benchmark can say how close Zygo's whole request path comes to doing nothing at all.
//!
//! With `FLOOR_LISTEN` set it serves there until killed. Without it (as under `cargo test`)
//! it answers one request to itself and exits, so it cannot rot.

use axum::{Router, http::header, routing::post};

async fn typename() -> ([(header::HeaderName, &'static str); 1], &'static str) {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"data":{"__typename":"Query"}}"#)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let app = Router::new().route("/graphql", post(typename));
    let listen = std::env::var("FLOOR_LISTEN").ok();
    let listener =
        tokio::net::TcpListener::bind(listen.as_deref().unwrap_or("127.0.0.1:0")).await.expect("bind");
    if listen.is_some() {
        axum::serve(listener, app).await.expect("serve");
        return;
    }
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let body = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .body(r#"{"query":"{__typename}"}"#)
        .send()
        .await
        .expect("floor answers")
        .text()
        .await
        .expect("body");
    assert_eq!(body, r#"{"data":{"__typename":"Query"}}"#);
    println!("api_floor: answers {body}");
}
