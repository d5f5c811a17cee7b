//! What the bench binaries share (`mod support;`): a GraphQL call that insists on no errors,
//! the verification token of the mail the embedded default writes to files, and an owner of a
//! new organisation signed up through the API.

#![allow(dead_code)]

use std::{path::Path, time::Duration};

use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery staple";

/// A GraphQL call through the API; panics on errors (a bench measures what works).
pub async fn gql(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut req =
        http.post(format!("{base}/graphql")).json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let v: Value = req.send().await.expect("request").json().await.expect("json");
    assert!(v.get("errors").is_none(), "{v}");
    v["data"].clone()
}

/// A GraphQL call's whole answer (data and errors), for callers that handle errors.
pub async fn gql_answer(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut req =
        http.post(format!("{base}/graphql")).json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request").json().await.expect("json")
}

/// The token of the first verification mail written under `data_dir`.
pub fn verification_token(data_dir: &Path) -> String {
    for _ in 0..200 {
        if let Ok(rd) = std::fs::read_dir(data_dir.join("mail")) {
            for e in rd.flatten() {
                let body = std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .replace("=\r\n", "")
                    .replace("=\n", "")
                    .replace("=3D", "=");
                if let Some(i) = body.find("token=") {
                    let t: String = body[i + 6..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect();
                    if t.len() >= 40 && body.len() > i + 6 + t.len() {
                        return t;
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("no verification mail");
}

/// Signs `bench@example.com` up, verifies it and creates an organisation; returns (access
/// token, organisation id).
pub async fn owner_with_tenant(http: &reqwest::Client, base: &str, data_dir: &Path) -> (String, String) {
    gql(
        http,
        base,
        None,
        "mutation($i: SignUpInput!) { signUp(input: $i) { user { id } } }",
        json!({ "i": { "email": "bench@example.com", "password": PASSWORD, "name": "Bench" } }),
    )
    .await;
    let token = verification_token(data_dir);
    gql(
        http,
        base,
        None,
        "mutation($t: String!) { verifyEmail(token: $t) { user { id } } }",
        json!({ "t": token }),
    )
    .await;
    let access = log_in(http, base).await;
    let d = gql(
        http,
        base,
        Some(&access),
        "mutation($i: CreateTenantInput!) { createTenant(input: $i) { tenant { id } } }",
        json!({ "i": { "name": "Bench", "slug": "bench" } }),
    )
    .await;
    let tenant = d["createTenant"]["tenant"]["id"].as_str().unwrap().to_string();
    (access, tenant)
}

/// A fresh access token of `bench@example.com` (they expire: a long bench logs in again).
pub async fn log_in(http: &reqwest::Client, base: &str) -> String {
    let d = gql(
        http,
        base,
        None,
        "mutation($i: LogInInput!) { logIn(input: $i) { tokens { accessToken } } }",
        json!({ "i": { "email": "bench@example.com", "password": PASSWORD } }),
    )
    .await;
    d["logIn"]["tokens"]["accessToken"].as_str().unwrap().to_string()
}
