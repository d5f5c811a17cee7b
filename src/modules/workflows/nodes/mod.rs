//! What each node type does. Every executor gets its configuration with expressions already
//! evaluated and returns the output port it emits on and its output.

use std::{
    collections::{BTreeSet, HashMap},
    net::{IpAddr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use entity::{membership, memory_record, role, team, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    definition::graph::NodeSpec,
    runtime::{Runner, expr},
};

/// A node's failure, with the kind retry policies match on.
#[derive(Debug)]
pub struct NodeError {
    /// `timeout`, `network`, `http_4xx`, `http_5xx`, `http_429`, `script`, `model`,
    /// `expression`, `config`, `internal`.
    pub kind: &'static str,
    pub message: String,
}

impl NodeError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// Does a policy's `retryOn` list cover this error?
    pub fn matches(&self, retry_on: &[String]) -> bool {
        retry_on.is_empty()
            || retry_on
                .iter()
                .any(|k| k == "any" || k == self.kind || (k == "http_4xx" && self.kind == "http_429"))
    }
}

impl From<sea_orm::DbErr> for NodeError {
    fn from(e: sea_orm::DbErr) -> Self {
        NodeError::new("internal", e.to_string())
    }
}

type Out = Result<(String, Value), NodeError>;

fn main(v: Value) -> Out {
    Ok(("main".into(), v))
}

fn str_of<'a>(config: &'a Value, key: &str) -> Option<&'a str> {
    config.get(key).and_then(Value::as_str)
}

fn need_str<'a>(config: &'a Value, key: &str) -> Result<&'a str, NodeError> {
    str_of(config, key).ok_or_else(|| NodeError::new("config", format!("config.{key} must be a string")))
}

/// Runs one attempt of `spec`. `secrets` puts the values of the node's secret markers into
/// what an HTTP, LLM, AI Agent or Email node sends (and nowhere else). The output is
/// refused when larger than `ZYGO_WORKFLOW_MAX_OUTPUT_BYTES` as JSON (measured without
/// copying it), before the run stores or passes it on.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn execute(
    runner: Arc<Runner>,
    spec: &NodeSpec,
    iteration: &str,
    input: &Value,
    config: &Value,
    secrets: &expr::SecretSet,
    outputs: &mut HashMap<String, Value>,
    item: &Value,
    index: &Value,
) -> Out {
    let max = expr::Budget::of(&runner.app.config.workflows).max_output;
    let (port, output) = run(runner, spec, iteration, input, config, secrets, outputs, item, index).await?;
    if crate::modules::workflows::runtime::budget::json_len(&output, max).is_err() {
        return Err(NodeError::new(
            "config",
            format!("the node's output is larger than {max} bytes (ZYGO_WORKFLOW_MAX_OUTPUT_BYTES)"),
        ));
    }
    Ok((port, output))
}

#[allow(clippy::too_many_arguments)]
async fn run(
    runner: Arc<Runner>,
    spec: &NodeSpec,
    iteration: &str,
    input: &Value,
    config: &Value,
    secrets: &expr::SecretSet,
    outputs: &mut HashMap<String, Value>,
    item: &Value,
    index: &Value,
) -> Out {
    match spec.node_type.as_str() {
        t if t.starts_with("trigger.") => main(input.clone()),
        "http.request" => http_request(&runner, &secrets.reveal(config)).await,
        "code" => code(&runner, spec, input, config).await,
        "logic.conditional" => {
            let v = config.get("condition").cloned().unwrap_or(Value::Null);
            Ok((if expr::truthy(&v) { "true" } else { "false" }.into(), input.clone()))
        }
        "logic.loop" => run_loop(runner, spec, iteration, config, outputs).await,
        "logic.filter" => filter(&runner, spec, input, config, outputs, index),
        // Waits in place or parks the run: the engine's business (see `Runner::delay`).
        "flow.delay" => runner.delay(spec, iteration, input, config).await,
        "email.send" => email(&runner, &secrets.reveal(config)).await,
        "data.source" => data_source(&runner, config).await,
        "ai.llm" => llm(&runner, &secrets.reveal(config)).await,
        "memory.store" => memory_store(&runner, spec, config).await,
        "memory.search" => {
            let docs = memory_search(&runner, config).await?;
            main(json!({ "documents": docs }))
        }
        "ai.rag" => {
            let docs = memory_search(&runner, config).await?;
            let question = str_of(config, "query").unwrap_or_default();
            let mut prompt = String::from("Answer using only the context below.\n\nContext:\n");
            for d in &docs {
                prompt.push_str(&format!("- {}\n", d["content"].as_str().unwrap_or_default()));
            }
            prompt.push_str(&format!("\nQuestion: {question}"));
            main(json!({ "prompt": prompt, "documents": docs }))
        }
        "ai.agent" => agent(runner, spec, iteration, &secrets.reveal(config), outputs, item, index).await,
        other => Err(NodeError::new("config", format!("unknown node type `{other}`"))),
    }
}

mod ai;
mod code;
mod data;
mod flow;
mod http;

#[allow(unused_imports)]
use ai::*;
#[allow(unused_imports)]
use code::*;
pub use code::{ScriptLimits, run_script};
#[allow(unused_imports)]
use data::*;
#[allow(unused_imports)]
use flow::*;
pub use http::http_client;
#[allow(unused_imports)]
use http::*;

#[cfg(test)]
mod tests {
    use super::*;

    /// A script stopped by its own deadline says "timed out after N ms" (it said "Script
    /// terminated (line 1, position 6)" when it noticed before the engine's timer did, which
    /// under CPU load it often does); one stopped by a cancel says so.
    #[test]
    fn a_script_past_its_deadline_reports_a_timeout_not_a_termination() {
        let limits = || ScriptLimits {
            max_ops: 1_000_000_000,
            deadline: Instant::now(),
            timeout: Duration::from_millis(250),
            budget: expr::Budget::default(),
        };
        let err =
            run_script("loop { }", Value::Null, Value::Null, limits(), Arc::new(AtomicBool::new(false)))
                .expect_err("stopped");
        assert_eq!((err.kind, err.message.as_str()), ("timeout", "timed out after 250 ms"));
        let mut later = limits();
        later.deadline = Instant::now() + Duration::from_secs(3600);
        let err = run_script("loop { }", Value::Null, Value::Null, later, Arc::new(AtomicBool::new(true)))
            .expect_err("stopped");
        assert_eq!(err.message, "cancelled");
    }

    #[test]
    fn only_globally_routable_addresses_are_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.1.2.3",
            "198.18.0.1",
            "192.0.0.8",
            "240.0.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::ffff:0:7f00:1",
            "2002:a00:1::1",
            "fec0::1",
            "64:ff9b:1::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} is internal");
        }
        for ip in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700:4700::1111",
            "64:ff9b::101:101",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    /// The check happens when the connection is made, not only before the request: a client
    /// for public hosts cannot connect to a name that resolves to loopback, even if nothing
    /// checked the URL first (a redirect, or a name re-resolved after `check_url`).
    #[tokio::test]
    async fn a_public_only_client_does_not_connect_to_a_name_resolving_inside() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let _ = sock.read(&mut [0u8; 4096]).await;
                let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
            }
        });
        let url = format!("http://localhost:{port}/");
        let open = http_client(true).get(&url).send().await.expect("the open client connects");
        assert_eq!(open.status(), 200);
        let err = http_client(false).get(&url).send().await.expect_err("refused at resolution");
        let message = send_error(err).message;
        assert!(message.contains("localhost resolves to a private or internal address"), "{message}");
    }
}
