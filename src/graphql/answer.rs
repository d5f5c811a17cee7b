//! The answer to an operation, completed before a transport sends it: failed fields put
//! back as `null` ([`super::nulls`]), and every error given `extensions.code` and
//! `extensions.requestId`. Errors raised by services already have a code (see
//! [`crate::error`]); errors raised by async-graphql itself (validation, variable coercion)
//! get one here. The schema has no extension for this (see [`super::shape`]).

use async_graphql::{Response, Value};

use super::limits::Admitted;
use crate::startup::AppState;

/// What a transport keeps of a request to complete its answers: the document's text (parsed
/// again only when a field failed), the operation's name, and when it started.
pub struct Pending {
    pub request_id: String,
    pub query: String,
    pub operation_name: Option<String>,
    pub admitted: Admitted,
    pub started: std::time::Instant,
}

impl Pending {
    pub fn new(request_id: &str, req: &async_graphql::Request, admitted: Admitted) -> Self {
        Self {
            request_id: request_id.to_string(),
            query: req.query.clone(),
            operation_name: req.operation_name.clone(),
            admitted,
            started: std::time::Instant::now(),
        }
    }

    /// Completes one answer (of a query or mutation, or one event of a subscription).
    pub fn complete(&self, resp: &mut Response) {
        super::nulls::complete(resp, super::limits::shape(), &self.query, self.operation_name.as_deref());
        shape_errors(resp, Some(&self.request_id));
    }

    /// Keeps a new persisted-query text once the schema ran its operation (an answer with
    /// `data`: a document validation refused has none). Only the first answer counts.
    pub async fn keep(&mut self, app: &AppState, resp: &Response) {
        if resp.data == Value::Null && resp.errors.iter().any(|e| e.path.is_empty()) {
            return;
        }
        if let Some((registration, owner)) = self.admitted.registration.take() {
            app.persisted.store(&registration, &owner).await;
        }
    }

    /// Counts the operation once it answered (a subscription when it started).
    pub fn measured(&self, app: &AppState, ok: bool) {
        let label = self.admitted.label();
        app.metrics.graphql_requests.with_label_values(&[label, if ok { "ok" } else { "error" }]).inc();
        app.metrics.graphql_latency.with_label_values(&[label]).observe(self.started.elapsed().as_secs_f64());
    }
}

/// Adds `code` (when missing) and `requestId` to every error of `resp`.
pub fn shape_errors(resp: &mut Response, request_id: Option<&str>) {
    for err in &mut resp.errors {
        let ext = err.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            let limit_code = if err.message.starts_with("The number of directives") {
                Some("TOO_MANY_DIRECTIVES")
            } else {
                None
            };
            let code = if let Some(code) = limit_code {
                code
            } else if err.message.starts_with("Invalid value for argument")
                || err.message.starts_with("Failed to parse")
                || err.message.starts_with("Variable ")
            {
                "BAD_USER_INPUT"
            } else {
                "GRAPHQL_VALIDATION_FAILED"
            };
            ext.set("code", code);
            if code == "BAD_USER_INPUT"
                && let Some(field) = argument_name(&err.message)
            {
                ext.set("field", field);
            }
        }
        if let Some(id) = request_id {
            ext.set("requestId", Value::String(id.to_string()));
        }
    }
}

/// `Invalid value for argument "input.email", …` → `input.email`.
fn argument_name(message: &str) -> Option<String> {
    let start = message.find('"')? + 1;
    let len = message[start..].find('"')?;
    Some(message[start..start + len].to_string())
}
