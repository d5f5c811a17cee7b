//! HTTP Request: calls an API through the public-only client.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    NodeError, Out, config,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind, expr},
    main,
    support::net::{check_url, send_error, status_error},
};

/// Largest response body read, in bytes.
const MAX_BODY: usize = 5 * 1024 * 1024;

pub(crate) struct HttpRequest;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HttpRequestConfig {
    #[serde(deserialize_with = "config::string")]
    url: String,
    #[serde(default, deserialize_with = "config::lenient")]
    method: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    headers: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "config::lenient")]
    query: Option<Map<String, Value>>,
    /// A string is sent as it is, anything else but `null` as JSON.
    #[serde(default)]
    body: Option<Value>,
    #[serde(default, deserialize_with = "config::lenient")]
    fail_on_http_error: Option<bool>,
}

impl NodeKind for HttpRequest {
    const KEY: &'static str = "http.request";
    const CATEGORY: &'static str = "action";
    const NAME: &'static str = "HTTP Request";
    const DESCRIPTION: &'static str =
        "Calls an HTTP API; output is { status, headers, body }. 4xx/5xx answers fail the node.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    /// GET and HEAD requests are, whatever this says (see `NodeSpec::safe_to_repeat`).
    const SAFE_TO_REPEAT: bool = false;
    const DEFAULT_TIMEOUT_MS: u64 = 30_000;
    const REVEALS_SECRETS: bool = true;
    const REQUIRED: &'static [&'static str] = &["url"];
    type Config = HttpRequestConfig;

    fn properties() -> Value {
        json!({
            "method": { "enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], "default": "GET" },
            "url": expr("Absolute http(s) URL; expressions allowed"),
            "headers": { "type": "object", "additionalProperties": { "type": "string", "maxLength": 10000 } },
            "query": { "type": "object", "additionalProperties": { "type": "string", "maxLength": 10000 } },
            "body": { "description": "JSON body (object, array or expression)" },
            "failOnHttpError": { "type": "boolean", "default": true },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: HttpRequestConfig) -> Out {
        let runner = &ctx.runner;
        let url = check_url(runner, &config.url).await?;
        let method = reqwest::Method::from_bytes(config.method.as_deref().unwrap_or("GET").as_bytes())
            .map_err(|_| NodeError::new("config", "config.method is not an HTTP method"))?;
        let mut req = runner.app.engine.http.request(method, url.clone());
        for (k, v) in config.headers.iter().flatten() {
            req = req.header(k.as_str(), v.as_str().unwrap_or_default());
        }
        if let Some(query) = &config.query {
            let pairs: Vec<(String, String)> = query
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or(v.to_string())))
                .collect();
            req = req.query(&pairs);
        }
        match config.body {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => req = req.body(s),
            Some(v) => req = req.json(&v),
        }
        let resp = req.send().await.map_err(send_error)?;
        let status = resp.status();
        let headers: Map<String, Value> = resp
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
        let fail = config.fail_on_http_error.unwrap_or(true);
        if fail && (status.is_client_error() || status.is_server_error()) {
            return Err(status_error(status, url.host_str().unwrap_or("the server"), &text));
        }
        let body = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
        main(json!({ "status": status.as_u16(), "headers": headers, "body": body }))
    }
}
