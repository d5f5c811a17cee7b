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

use super::{engine::Runner, expr, graph::NodeSpec};

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
    if super::budget::json_len(&output, max).is_err() {
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

// ---------------------------------------------------------------------------------------
// HTTP

/// The shared HTTP client of HTTP Request and LLM nodes. Without `allow_private`, every name is
/// resolved by [`PublicOnlyResolver`] when the connection is made, and redirects are followed
/// only to hosts that are not private IP literals or `localhost` (IP literals never reach a
/// resolver; [`check_url`] refuses them before the first request).
pub fn http_client(allow_private: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("zygo-workflows/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10));
    let builder = if allow_private {
        builder.redirect(reqwest::redirect::Policy::limited(5))
    } else {
        // No proxy from the environment: a proxy would resolve the name itself, out of the
        // resolver's reach.
        builder.no_proxy().dns_resolver(Arc::new(PublicOnlyResolver)).redirect(
            reqwest::redirect::Policy::custom(|attempt| {
                if attempt.previous().len() >= 5 {
                    return attempt.error("too many redirects");
                }
                let blocked = match attempt.url().host() {
                    Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
                    Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
                    Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
                    None => true,
                };
                if blocked {
                    attempt.error("redirect to a private address refused")
                } else {
                    attempt.follow()
                }
            }),
        )
    };
    builder.build().expect("HTTP client builds")
}

/// Name resolution for HTTP nodes that may reach only public hosts: resolves as the system
/// does, then refuses a name with any internal address. The connection goes to exactly the
/// addresses checked here, so neither a name that answers a public address to [`check_url`]
/// and an internal one a moment later (DNS rebinding), nor a redirect to a name pointing
/// inside, reaches an internal service.
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() || addrs.iter().any(|a| !is_public(a.ip())) {
                return Err(format!("{host} resolves to a private or internal address").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether `ip` is a globally routable address: not loopback, private (RFC 1918, unique
/// local), link-local, shared (CGNAT), "this network", benchmarking, reserved, multicast or
/// broadcast — and, for IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64),
/// whether that address is.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || a == 100 && (b & 0xc0) == 64
                || a == 198 && (b & 0xfe) == 18
                || a == 192 && b == 0 && c == 0)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let v4_in = |hi: u16, lo: u16| {
                let [a, b] = [hi.to_be_bytes(), lo.to_be_bytes()];
                IpAddr::V4([a[0], a[1], b[0], b[1]].into())
            };
            // Forms that carry an IPv4 address: NAT64 (64:ff9b::/96), IPv4-translated
            // (::ffff:0:a.b.c.d), the deprecated IPv4-compatible form (::a.b.c.d), and 6to4
            // (2002:aabb:ccdd::/48).
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                || seg[..6] == [0, 0, 0, 0, 0xffff, 0]
                || (seg[..6] == [0; 6] && !v6.is_loopback())
            {
                return is_public(v4_in(seg[6], seg[7]));
            }
            if seg[0] == 0x2002 {
                return is_public(v4_in(seg[1], seg[2]));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local
                || (seg[0] & 0xffc0) == 0xfe80 // link-local
                || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (seg[0] == 0x64 && seg[1] == 0xff9b && seg[2] == 1)) // local-use NAT64
        }
    }
}

/// Parses `raw` as an http(s) URL and, unless private addresses are allowed, refuses one
/// whose host resolves to a loopback, private, link-local or otherwise internal address.
async fn check_url(runner: &Runner, raw: &str) -> Result<reqwest::Url, NodeError> {
    let url = reqwest::Url::parse(raw).map_err(|e| NodeError::new("config", format!("config.url: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(NodeError::new("config", "config.url: only http and https URLs"));
    }
    if runner.app.config.workflows.http_allow_private {
        return Ok(url);
    }
    let host = url.host_str().ok_or_else(|| NodeError::new("config", "config.url: no host"))?.to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<_> = tokio::net::lookup_host((host.trim_matches(|c| c == '[' || c == ']'), port))
        .await
        .map_err(|e| NodeError::new("network", format!("cannot resolve {host}: {e}")))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(NodeError::new(
            "config",
            format!("{host} is a private or internal address; HTTP nodes reach only public hosts"),
        ));
    }
    Ok(url)
}

fn status_error(status: reqwest::StatusCode, what: &str, body: &str) -> NodeError {
    let kind = match status.as_u16() {
        429 => "http_429",
        400..=499 => "http_4xx",
        _ => "http_5xx",
    };
    let body: String = body.chars().take(300).collect();
    NodeError::new(kind, format!("{what} answered HTTP {}: {body}", status.as_u16()))
}

fn send_error(e: reqwest::Error) -> NodeError {
    // reqwest's own message names only the URL; the cause (refused address, TLS, reset) is in
    // the source chain.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    NodeError::new(if e.is_timeout() { "timeout" } else { "network" }, message)
}

/// Largest response body read, in bytes.
const MAX_BODY: usize = 5 * 1024 * 1024;

async fn http_request(runner: &Runner, config: &Value) -> Out {
    let url = check_url(runner, need_str(config, "url")?).await?;
    let method = reqwest::Method::from_bytes(str_of(config, "method").unwrap_or("GET").as_bytes())
        .map_err(|_| NodeError::new("config", "config.method is not an HTTP method"))?;
    let mut req = runner.app.engine.http.request(method, url.clone());
    if let Some(headers) = config.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str().unwrap_or_default());
        }
    }
    if let Some(query) = config.get("query").and_then(Value::as_object) {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or(v.to_string())))
            .collect();
        req = req.query(&pairs);
    }
    match config.get("body") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => req = req.body(s.clone()),
        Some(v) => req = req.json(v),
    }
    let resp = req.send().await.map_err(send_error)?;
    let status = resp.status();
    let headers: serde_json::Map<String, Value> = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_str().unwrap_or_default().to_string())))
        .collect();
    let mut bytes = Vec::new();
    let mut resp = resp;
    while let Some(chunk) = resp.chunk().await.map_err(send_error)? {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(NodeError::new("network", format!("response body larger than {MAX_BODY} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&bytes).to_string();
    let fail = config.get("failOnHttpError").and_then(Value::as_bool).unwrap_or(true);
    if fail && (status.is_client_error() || status.is_server_error()) {
        return Err(status_error(status, url.host_str().unwrap_or("the server"), &text));
    }
    let body = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
    main(json!({ "status": status.as_u16(), "headers": headers, "body": body }))
}

// ---------------------------------------------------------------------------------------
// Code (Rhai)

/// Sets the flag when dropped: a script whose node timed out or was cancelled stops at its
/// next operation.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

async fn code(runner: &Runner, spec: &NodeSpec, input: &Value, config: &Value) -> Out {
    let source = need_str(config, "source")?.to_string();
    let max_ops = config.get("maxOperations").and_then(Value::as_u64).unwrap_or(1_000_000);
    let stop = Arc::new(AtomicBool::new(false));
    let _guard = StopOnDrop(stop.clone());
    let timeout = spec.timeout();
    let limits = ScriptLimits {
        max_ops,
        deadline: Instant::now() + timeout,
        timeout,
        budget: expr::Budget::of(&runner.app.config.workflows),
    };
    let (input, trigger) = (input.clone(), runner.exec.input.clone());
    let result = tokio::task::spawn_blocking(move || run_script(&source, input, trigger, limits, stop))
        .await
        .map_err(|e| NodeError::new("internal", e.to_string()))?;
    let (value, printed) = result?;
    for line in printed {
        runner.log(Some(&spec.id), "info", line);
    }
    main(value)
}

/// The limits of one Code node run.
pub struct ScriptLimits {
    /// `config.maxOperations`.
    pub max_ops: u64,
    /// When the node's timeout is up, and that timeout (for the message).
    pub deadline: Instant,
    pub timeout: Duration,
    /// The same byte and item budget as expressions: the script's strings, arrays and maps,
    /// and its result (`max_output` as JSON).
    pub budget: expr::Budget,
}

/// Runs a Rhai script with no access to files, network or the host: only the language's
/// core packages, with caps on operations, call depth and the size of strings, arrays and
/// maps (the script's memory), and a wall-clock deadline. Running out of time is "timed out
/// after N ms", whichever of the script's own check or the engine's timer notices first.
pub fn run_script(
    source: &str,
    input: Value,
    trigger: Value,
    limits: ScriptLimits,
    stop: Arc<AtomicBool>,
) -> Result<(Value, Vec<String>), NodeError> {
    let ScriptLimits { max_ops, deadline, timeout, budget } = limits;
    let mut engine = rhai::Engine::new();
    engine
        .set_max_operations(max_ops)
        .set_max_call_levels(32)
        .set_max_expr_depths(64, 32)
        .set_max_string_size(budget.max_bytes)
        .set_max_array_size(budget.max_items)
        .set_max_map_size(budget.max_items)
        .set_max_variables(1_000)
        .set_max_functions(100);
    let cancelled = stop.clone();
    engine.on_progress(move |_| {
        if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
            Some(rhai::Dynamic::UNIT)
        } else {
            None
        }
    });
    let printed = Arc::new(std::sync::Mutex::new(Vec::new()));
    {
        let p = printed.clone();
        engine.on_print(move |s| {
            let mut p = p.lock().expect("lock");
            if p.len() < 1000 {
                p.push(s.chars().take(2000).collect());
            }
        });
        let p = printed.clone();
        engine.on_debug(move |s, _, _| {
            let mut p = p.lock().expect("lock");
            if p.len() < 1000 {
                p.push(s.chars().take(2000).collect());
            }
        });
    }
    let script_err = |e: Box<rhai::EvalAltResult>| match *e {
        // Stopped by `on_progress`: the deadline passed, or the node was cancelled.
        rhai::EvalAltResult::ErrorTerminated(..) if cancelled.load(Ordering::Relaxed) => {
            NodeError::new("internal", "cancelled")
        }
        rhai::EvalAltResult::ErrorTerminated(..) => {
            NodeError::new("timeout", format!("timed out after {} ms", timeout.as_millis()))
        }
        // Rhai's own size checks: say which of our limits they are.
        e @ rhai::EvalAltResult::ErrorDataTooLarge(..) => NodeError::new(
            "script",
            format!(
                "{e} (ZYGO_WORKFLOW_MAX_VALUE_BYTES: {} bytes, ZYGO_WORKFLOW_MAX_ITEMS: {} items)",
                budget.max_bytes, budget.max_items
            ),
        ),
        e => NodeError::new("script", e.to_string()),
    };
    let mut scope = rhai::Scope::new();
    scope.push_dynamic("input", rhai::serde::to_dynamic(&input).map_err(script_err)?);
    scope.push_dynamic("trigger", rhai::serde::to_dynamic(&trigger).map_err(script_err)?);
    let result: rhai::Dynamic = engine.eval_with_scope(&mut scope, source).map_err(script_err)?;
    // A small script can return one string many times over (an array of shared strings):
    // measured as JSON, without copying, before it is converted.
    if super::budget::json_len(&result, budget.max_output).is_err() {
        return Err(NodeError::new(
            "script",
            format!(
                "the script's result is larger than {} bytes (ZYGO_WORKFLOW_MAX_OUTPUT_BYTES)",
                budget.max_output
            ),
        ));
    }
    let value: Value = if result.is_unit() {
        Value::Null
    } else {
        rhai::serde::from_dynamic(&result).map_err(script_err)?
    };
    let printed = std::mem::take(&mut *printed.lock().expect("lock"));
    Ok((value, printed))
}

// ---------------------------------------------------------------------------------------
// Loop and Filter

async fn run_loop(
    runner: Arc<Runner>,
    spec: &NodeSpec,
    iteration: &str,
    config: &Value,
    outputs: &mut HashMap<String, Value>,
) -> Out {
    let items = match config.get("items") {
        Some(Value::Array(a)) => a.clone(),
        _ => return Err(NodeError::new("config", "config.items must evaluate to a list")),
    };
    let max = config.get("maxItems").and_then(Value::as_u64).unwrap_or(1000) as usize;
    if items.len() > max {
        return Err(NodeError::new("config", format!("{} items is more than maxItems ({max})", items.len())));
    }
    let body: BTreeSet<String> = runner.layout.loop_bodies.get(&spec.id).cloned().unwrap_or_default();
    let mut results = Vec::with_capacity(items.len());
    // The results pile up into this node's output: bounded as they come, not once all
    // iterations have each added their (individually bounded) output.
    let max_output = expr::Budget::of(&runner.app.config.workflows).max_output;
    let mut total = 0usize;
    for (i, item) in items.iter().enumerate() {
        let it = if iteration.is_empty() {
            format!("{}:{i}", spec.id)
        } else {
            format!("{iteration}/{}:{i}", spec.id)
        };
        let mut scoped = outputs.clone();
        let index = json!(i);
        let r = runner
            .clone()
            .run_flow(&body, &it, Some((&spec.id, item)), &mut scoped, item, &index)
            .await
            .map_err(stop_to_error)?;
        let r = r.unwrap_or(Value::Null);
        total = total.saturating_add(super::budget::json_len(&r, max_output).unwrap_or(usize::MAX));
        if total > max_output {
            return Err(NodeError::new(
                "config",
                format!(
                    "the loop's results are larger than {max_output} bytes (ZYGO_WORKFLOW_MAX_OUTPUT_BYTES)"
                ),
            ));
        }
        results.push(r);
    }
    Ok(("done".into(), Value::Array(results)))
}

fn stop_to_error(stop: super::engine::Stop) -> NodeError {
    use super::engine::Stop;
    match stop {
        Stop::NodeFailed { node, error } => NodeError::new("any", format!("`{node}` failed: {error}")),
        Stop::TimedOut => NodeError::new("timeout", "the run exceeded its timeout"),
        Stop::Lost => NodeError::new("internal", "cancelled"),
        Stop::Internal(e) => NodeError::new("internal", e),
        // The engine sees the park request itself and stops the enclosing node.
        Stop::Parked(_) => NodeError::new("internal", "parked"),
    }
}

fn filter(
    runner: &Runner,
    spec: &NodeSpec,
    input: &Value,
    config: &Value,
    outputs: &HashMap<String, Value>,
    _index: &Value,
) -> Out {
    let items = match config.get("items") {
        Some(Value::Array(a)) => a.clone(),
        None => match input {
            Value::Array(a) => a.clone(),
            _ => return Err(NodeError::new("config", "the input is not a list; set config.items")),
        },
        _ => return Err(NodeError::new("config", "config.items must evaluate to a list")),
    };
    let condition = spec.config.get("condition").and_then(Value::as_str).unwrap_or("false");
    let mut kept = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let ctx = runner.context(input, outputs, &HashMap::new(), &item, &json!(i));
        let v = expr::eval_str(condition, &ctx, expr::Budget::of(&runner.app.config.workflows))
            .map_err(|e| NodeError::new("expression", format!("config.condition: {e}")))?;
        if expr::truthy(&v) {
            kept.push(item);
        }
    }
    main(Value::Array(kept))
}

// ---------------------------------------------------------------------------------------
// Email, data, memory

async fn email(runner: &Runner, config: &Value) -> Out {
    let to = need_str(config, "to")?.trim().to_string();
    if !email_address::EmailAddress::is_valid(&to) {
        return Err(NodeError::new("config", format!("config.to: `{to}` is not an e-mail address")));
    }
    let subject = need_str(config, "subject")?.to_string();
    let text = str_of(config, "body").unwrap_or_default().to_string();
    let html = format!(
        "<pre style=\"font-family:inherit;white-space:pre-wrap\">{}</pre>",
        crate::mail::templates::esc(&text)
    );
    let sender = mail_sender(runner).await?;
    let budget = runner.app.config.security.tenant_mail;
    let mail = crate::mail::Mail { subject: subject.clone(), text, html };
    crate::mail::enqueue_for_tenant(&runner.app.db, budget, &sender, &to, mail).await.map_err(
        |e| match e {
            crate::error::AppError::Rejected { message, .. } => NodeError::new("mail_budget", message),
            e => NodeError::new("internal", e.to_string()),
        },
    )?;
    runner.app.mail.wake();
    main(json!({ "to": to, "subject": subject, "queued": true }))
}

/// Who a workflow's mail comes from: the tenant (named in the `X-Zygo-Tenant` header) and,
/// as `Reply-To`, the verified address of the user who started the run, if any.
async fn mail_sender(runner: &Runner) -> Result<crate::mail::TenantSender, NodeError> {
    let scope = runner.scope;
    let tenant = entity::tenant::Entity::find_by_id(scope.tenant_id())
        .one(&scope.on(&runner.app.db))
        .await?
        .ok_or_else(|| NodeError::new("internal", "the run's organisation is gone"))?;
    let reply_to = match runner.exec.created_by {
        Some(user_id) => user::Entity::find_by_id(user_id)
            .one(&runner.app.db)
            .await?
            .filter(|u| u.email_verified_at.is_some())
            .map(|u| u.email),
        None => None,
    };
    Ok(crate::mail::TenantSender {
        tenant_id: tenant.id,
        label: format!("{} ({}; {})", tenant.name, tenant.slug, tenant.id),
        reply_to,
    })
}

/// The access of the user a run acts for: who started it, or for runs started by a webhook,
/// a schedule or an error (no user) the workflow's creator. A node reading tenant data shows
/// only what the GraphQL API shows that user.
async fn acting_access(runner: &Runner) -> Result<crate::auth::TenantCtx, NodeError> {
    let user = match runner.exec.created_by {
        Some(u) => Some(u),
        None => runner
            .scope
            .find_by_id::<entity::workflow::Entity, _>(
                &runner.scope.on(&runner.app.db),
                runner.exec.workflow_id,
            )
            .await?
            .and_then(|w| w.created_by),
    };
    let forbidden =
        || NodeError::new("config", "the user this run acts for is no longer a member of the organisation");
    let user = user.ok_or_else(forbidden)?;
    crate::modules::tenancy::service::access(&runner.app.db, user, &[runner.scope.tenant_id()])
        .await?
        .remove(&runner.scope.tenant_id())
        .ok_or_else(forbidden)
}

/// FORBIDDEN-like refusal of a source the acting user may not read.
fn require(tctx: &crate::auth::TenantCtx, p: crate::auth::Permission, source: &str) -> Result<(), NodeError> {
    if tctx.has(p) {
        Ok(())
    } else {
        Err(NodeError::new(
            "config",
            format!(
                "config.source: reading `{source}` needs the permission `{}`, which the user this run acts for lacks",
                p.key()
            ),
        ))
    }
}

async fn data_source(runner: &Runner, config: &Value) -> Out {
    use crate::auth::Permission;
    let scope = runner.scope;
    let limit = config.get("limit").and_then(Value::as_u64).unwrap_or(100).min(1000);
    let source = str_of(config, "source").unwrap_or_default();
    // The same permissions as the GraphQL fields that show this data, for the acting user.
    let tctx = acting_access(runner).await?;
    let db = &scope.on(&runner.app.db);
    let rows: Vec<Value> = match source {
        "members" => {
            require(&tctx, Permission::MembersRead, source)?;
            // `User.email`: the user's own, or everyone's with MEMBERS_MANAGE.
            let all_emails = tctx.has(Permission::MembersManage);
            let members = scope
                .find::<membership::Entity>()
                .order_by_asc(membership::Column::Id)
                .limit(limit)
                .all(db)
                .await?;
            let roles: HashMap<Uuid, String> =
                scope.find::<role::Entity>().all(db).await?.into_iter().map(|r| (r.id, r.key)).collect();
            let users: HashMap<Uuid, user::Model> = user::Entity::find()
                .filter(user::Column::Id.is_in(members.iter().map(|m| m.user_id)))
                .all(db)
                .await?
                .into_iter()
                .map(|u| (u.id, u))
                .collect();
            members
                .iter()
                .map(|m| {
                    let u = users.get(&m.user_id);
                    json!({
                        "email": u.filter(|u| all_emails || u.id == tctx.user_id).map(|u| u.email.clone()),
                        "name": u.map(|u| u.name.clone()),
                        "role": roles.get(&m.role_id),
                        "status": m.status,
                        "joinedAt": m.created_at,
                    })
                })
                .collect()
        }
        "teams" => {
            require(&tctx, Permission::TenantRead, source)?;
            scope
                .find::<team::Entity>()
                .order_by_asc(team::Column::Name)
                .limit(limit)
                .all(db)
                .await?
                .into_iter()
                .map(|t| json!({ "name": t.name, "description": t.description }))
                .collect()
        }
        "environment" => {
            require(&tctx, Permission::WorkflowRead, source)?;
            runner.env.iter().map(|(k, v)| json!({ "name": k, "value": v })).take(limit as usize).collect()
        }
        "memory" => {
            require(&tctx, Permission::WorkflowRead, source)?;
            let store = need_str(config, "store")?;
            scope
                .find::<memory_record::Entity>()
                .filter(memory_record::Column::Store.eq(store))
                .order_by_desc(memory_record::Column::Id)
                .limit(limit)
                .all(db)
                .await?
                .into_iter()
                .map(|r| json!({ "id": r.id, "content": r.content, "metadata": r.metadata, "createdAt": r.created_at }))
                .collect()
        }
        other => return Err(NodeError::new("config", format!("config.source: unknown source `{other}`"))),
    };
    main(json!({ "items": rows, "count": rows.len() }))
}

async fn memory_store(runner: &Runner, spec: &NodeSpec, config: &Value) -> Out {
    let store = need_str(config, "store")?.to_string();
    let content = match config.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => return Err(NodeError::new("config", "config.content is required")),
    };
    if content.len() > 100_000 {
        return Err(NodeError::new("config", "config.content is longer than 100000 bytes"));
    }
    let id = Uuid::now_v7();
    runner
        .scope
        .insert(
            &runner.scope.on(&runner.app.db),
            memory_record::ActiveModel {
                id: Set(id),
                tenant_id: Set(runner.scope.tenant_id()),
                store: Set(store.clone()),
                content: Set(runner.redact(&content)),
                metadata: Set(config.get("metadata").cloned().unwrap_or(json!({}))),
                created_at: Set(Utc::now()),
            },
        )
        .await?;
    runner.log(Some(&spec.id), "info", format!("stored a record in memory `{store}`"));
    main(json!({ "id": id, "store": store }))
}

fn keywords(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Records of a store ranked by how many of the query's keywords they contain (then by
/// how often), newest first on ties.
async fn memory_search(runner: &Runner, config: &Value) -> Result<Vec<Value>, NodeError> {
    use sea_orm::sea_query::ExprTrait;
    require(&acting_access(runner).await?, crate::auth::Permission::WorkflowRead, "memory")?;
    let store = need_str(config, "store")?;
    let query = need_str(config, "query")?;
    let limit = Ord::min(config.get("limit").and_then(Value::as_u64).unwrap_or(5), 100) as usize;
    let words = keywords(query);
    if words.is_empty() {
        return Ok(vec![]);
    }
    let mut cond = sea_orm::Condition::any();
    for w in &words {
        cond = cond.add(memory_record::Column::Content.like(format!("%{w}%")));
    }
    // LIKE is case-insensitive for ASCII on SQLite but not on PostgreSQL: compare lower-cased.
    let mut lower_cond = sea_orm::Condition::any();
    for w in &words {
        lower_cond = lower_cond.add(
            sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::lower(sea_orm::sea_query::Expr::col(
                memory_record::Column::Content,
            )))
            .like(format!("%{w}%")),
        );
    }
    let _ = cond;
    let rows = runner
        .scope
        .find::<memory_record::Entity>()
        .filter(memory_record::Column::Store.eq(store))
        .filter(lower_cond)
        .order_by_desc(memory_record::Column::Id)
        .limit(2000)
        .all(&runner.scope.on(&runner.app.db))
        .await?;
    let mut scored: Vec<(usize, usize, memory_record::Model)> = rows
        .into_iter()
        .map(|r| {
            let text = r.content.to_lowercase();
            let hits = words.iter().filter(|w| text.contains(w.as_str())).count();
            let count = words.iter().map(|w| text.matches(w.as_str()).count()).sum();
            (hits, count, r)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(b.2.id.cmp(&a.2.id)));
    Ok(scored
        .into_iter()
        .take(limit)
        .map(|(hits, _, r)| {
            json!({
                "id": r.id,
                "content": r.content,
                "metadata": r.metadata,
                "score": hits as f64 / words.len() as f64,
            })
        })
        .collect())
}

// ---------------------------------------------------------------------------------------
// LLM and agent

struct Model {
    url: String,
    model: String,
    key: Option<String>,
    /// The URL is the operator's (`ZYGO_LLM_BASE_URL`), not the graph's.
    operator: bool,
}

/// The endpoint, model and key of an LLM or AI Agent node. The platform's key
/// (`ZYGO_LLM_API_KEY`) goes only to the platform's endpoint (`ZYGO_LLM_BASE_URL`): a node
/// that names another base URL brings its own key (`{{ secrets.NAME }}`) and reaches it
/// through the public-only client, like an HTTP Request node.
async fn model_of(runner: &Runner, config: &Value) -> Result<Model, NodeError> {
    let cfg = &runner.app.config.workflows;
    let own_key = str_of(config, "apiKey").filter(|k| !k.is_empty()).map(str::to_string);
    let node_base = str_of(config, "baseUrl").map(|u| u.trim_end_matches('/').to_string());
    let (base, operator) = match node_base {
        Some(u) if Some(&u) != cfg.llm_base_url.as_ref() => {
            if own_key.is_none() {
                return Err(NodeError::new(
                    "config",
                    "config.apiKey: a node with its own baseUrl must bring its own key (e.g. `{{ secrets.NAME }}`); \
                     the platform's key is only sent to ZYGO_LLM_BASE_URL",
                ));
            }
            check_url(runner, &u).await?;
            (Some(u), false)
        }
        _ => (cfg.llm_base_url.clone(), true),
    };
    let model = str_of(config, "model").map(str::to_string).or(cfg.llm_model.clone());
    let (Some(base), Some(model)) = (base, model) else {
        return Err(NodeError::new(
            "model",
            "no model configured: set ZYGO_LLM_BASE_URL and ZYGO_LLM_MODEL (or the node's baseUrl and model)",
        ));
    };
    let key = match own_key {
        Some(k) => Some(k),
        None if operator => cfg.llm_api_key.as_ref().map(|k| k.expose_secret().to_string()),
        None => None,
    };
    Ok(Model { url: format!("{base}/chat/completions"), model, key, operator })
}

/// One chat-completions call; returns the assistant message and the usage.
async fn chat(
    runner: &Runner,
    m: &Model,
    messages: &[Value],
    tools: &[Value],
    temperature: Option<f64>,
) -> Result<(Value, Value), NodeError> {
    let mut body = json!({ "model": m.model, "messages": messages });
    if !tools.is_empty() {
        body["tools"] = Value::Array(tools.to_vec());
    }
    if let Some(t) = temperature {
        body["temperature"] = json!(t);
    }
    let engine = &runner.app.engine;
    let http = if m.operator { &engine.operator_http } else { &engine.http };
    let mut req = http.post(&m.url).json(&body);
    if let Some(k) = &m.key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.map_err(send_error)?;
    let status = resp.status();
    let text = resp.text().await.map_err(send_error)?;
    if !status.is_success() {
        let msg = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or(text);
        return Err(status_error(status, "the model", &msg));
    }
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| NodeError::new("model", format!("the model's answer is not JSON: {e}")))?;
    let message = v["choices"][0]["message"].clone();
    if message.is_null() {
        return Err(NodeError::new("model", "the model's answer has no choices[0].message"));
    }
    Ok((message, v["usage"].clone()))
}

fn base_messages(config: &Value) -> Vec<Value> {
    let mut messages = Vec::new();
    if let Some(s) = str_of(config, "system").filter(|s| !s.is_empty()) {
        messages.push(json!({ "role": "system", "content": s }));
    }
    let prompt = match config.get("prompt") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    messages.push(json!({ "role": "user", "content": prompt }));
    messages
}

async fn llm(runner: &Runner, config: &Value) -> Out {
    let m = model_of(runner, config).await?;
    let (message, usage) =
        chat(runner, &m, &base_messages(config), &[], config.get("temperature").and_then(Value::as_f64))
            .await?;
    main(json!({ "text": message["content"], "model": m.model, "usage": usage }))
}

async fn agent(
    runner: Arc<Runner>,
    spec: &NodeSpec,
    iteration: &str,
    config: &Value,
    outputs: &mut HashMap<String, Value>,
    item: &Value,
    index: &Value,
) -> Out {
    let m = model_of(&runner, config).await?;
    let max_steps = config.get("maxSteps").and_then(Value::as_u64).unwrap_or(8).clamp(1, 50);
    let tool_ids = runner.layout.agent_tools.get(&spec.id).cloned().unwrap_or_default();
    let tools: Vec<Value> = tool_ids
        .iter()
        .filter_map(|id| runner.graph.node(id))
        .map(|n| {
            let kind = n.kind().map(|k| k.description).unwrap_or_default();
            json!({
                "type": "function",
                "function": {
                    "name": n.id,
                    "description": if n.name.is_empty() { kind.to_string() } else { format!("{}: {kind}", n.name) },
                    "parameters": { "type": "object", "additionalProperties": true },
                },
            })
        })
        .collect();
    let mut messages = base_messages(config);
    let mut calls = Vec::new();
    for step in 1..=max_steps {
        let (message, _usage) = chat(&runner, &m, &messages, &tools, None).await?;
        let tool_calls = message["tool_calls"].as_array().cloned().unwrap_or_default();
        if tool_calls.is_empty() {
            return main(json!({ "text": message["content"], "steps": step, "toolCalls": calls }));
        }
        messages.push(message.clone());
        for (k, call) in tool_calls.iter().enumerate() {
            let name = call["function"]["name"].as_str().unwrap_or_default().to_string();
            let args: Value = call["function"]["arguments"]
                .as_str()
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or(json!({}));
            let content = match runner.graph.node(&name).filter(|_| tool_ids.contains(&name)) {
                None => json!({ "error": format!("no tool named `{name}`") }),
                Some(tool) => {
                    let it = if iteration.is_empty() {
                        format!("{}:{step}.{k}", spec.id)
                    } else {
                        format!("{iteration}/{}:{step}.{k}", spec.id)
                    };
                    runner.log(Some(&spec.id), "info", format!("step {step}: calling tool `{name}`"));
                    let r = runner.clone().run_node(tool, &it, args.clone(), outputs, item, index).await;
                    match r {
                        Ok((_, out)) => out,
                        Err(e) => return Err(stop_to_error(e)),
                    }
                }
            };
            calls.push(json!({ "tool": name, "arguments": args, "result": content }));
            messages.push(json!({
                "role": "tool",
                "tool_call_id": call["id"],
                "content": content.to_string(),
            }));
        }
    }
    Err(NodeError::new("model", format!("the agent did not finish within maxSteps ({max_steps}) steps")))
}

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
