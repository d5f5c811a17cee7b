//! Schema extensions that run around every operation: error shaping, metrics, and the
//! schema-side stages of admission (document size, aliases, depth and cost limits, then the
//! rate limit and persisted-query storage through [`admission::charge`]).
//!
//! Every error leaving the server carries `extensions.code` and `extensions.requestId`:
//! errors raised by services already have a code (see [`crate::error`]); errors raised by
//! async-graphql itself (syntax, validation, variable coercion) get one here.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use async_graphql::{
    Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
        NextRequest, NextResolve, NextSubscribe, NextValidation, ResolveInfo,
    },
    parser::types::{ExecutableDocument, OperationType},
};
use futures::{StreamExt, stream::BoxStream};

use crate::{
    auth::RequestCtx,
    graphql::admission::{self, Ticket},
    startup::AppState,
    telemetry::Metrics,
};

/// Factory of [`Observability`]; one instance per operation.
pub struct ObservabilityFactory {
    pub metrics: Metrics,
    pub limits: crate::config::Limits,
}

impl ExtensionFactory for ObservabilityFactory {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Observability {
            metrics: self.metrics.clone(),
            limits: self.limits,
            op_type: Mutex::new(None),
            request_id: Mutex::new(None),
            operation_name: Mutex::new(None),
            cost: Mutex::new(1),
            fields: Default::default(),
        })
    }
}

pub struct Observability {
    metrics: Metrics,
    limits: crate::config::Limits,
    op_type: Mutex<Option<&'static str>>,
    request_id: Mutex<Option<String>>,
    /// The operation the request names, for measuring the right one.
    operation_name: Mutex<Option<String>>,
    /// The rate-limit cost measured at parse time, charged after validation.
    cost: Mutex<u32>,
    /// Failed fields answer `null` (see [`super::nulls`]).
    fields: super::nulls::FieldErrors,
}

fn op_type_name(t: OperationType) -> &'static str {
    match t {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

/// Adds `code` (when missing) and `requestId` to every error of `resp`.
pub fn shape_errors(resp: &mut Response, request_id: Option<&str>, parse_failed: bool) {
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
            } else if parse_failed {
                "GRAPHQL_PARSE_FAILED"
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

#[async_trait::async_trait]
impl Extension for Observability {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let mut resp = next.run(ctx).await;
        let op_type = *self.op_type.lock().expect("lock");
        let request_id = self.request_id.lock().expect("lock").clone();
        shape_errors(&mut resp, request_id.as_deref(), op_type.is_none());
        let op_type = op_type.unwrap_or("invalid");
        let outcome = if resp.errors.is_empty() { "ok" } else { "error" };
        self.metrics.graphql_requests.with_label_values(&[op_type, outcome]).inc();
        self.metrics.graphql_latency.with_label_values(&[op_type]).observe(started.elapsed().as_secs_f64());
        resp
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // Request data is not visible to the `request` hook yet; take the id from here.
        let id = request
            .data
            .get(&std::any::TypeId::of::<RequestCtx>())
            .and_then(|d| d.downcast_ref::<RequestCtx>())
            .map(|c| c.request_id.clone());
        *self.request_id.lock().expect("lock") = id;
        *self.operation_name.lock().expect("lock") = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if query.len() > self.limits.document_bytes {
            return Err(limit_error(
                "DOCUMENT_TOO_LARGE",
                format!(
                    "the document is {} bytes; the limit is {} (ZYGO_MAX_DOCUMENT_BYTES)",
                    query.len(),
                    self.limits.document_bytes
                ),
            ));
        }
        let doc = next.run(ctx, query, variables).await?;
        // Counted as the executor will run the operation: every fragment expanded where used.
        let measured = admission::measure(&doc, self.operation_name.lock().expect("lock").as_deref());
        // Spreads become typed inline fragments, so the cost visitor prices what they hold.
        let doc = admission::inline_fragments(doc, self.limits.complexity).map_err(|fields| {
            limit_error(
                "QUERY_TOO_COMPLEX",
                format!(
                    "the document holds {fields} fields once its fragments are spread; the limit is {} \
                     (ZYGO_MAX_QUERY_COMPLEXITY)",
                    self.limits.complexity
                ),
            )
        })?;
        *self.cost.lock().expect("lock") = measured.cost();
        let aliases = measured.aliases;
        if aliases > self.limits.aliases {
            return Err(limit_error(
                "TOO_MANY_ALIASES",
                format!(
                    "the document uses {aliases} aliases; the limit is {} (ZYGO_MAX_ALIASES)",
                    self.limits.aliases
                ),
            ));
        }
        let ty = doc.operations.iter().next().map(|(_, op)| op_type_name(op.node.ty)).unwrap_or("query");
        *self.op_type.lock().expect("lock") = Some(ty);
        Ok(doc)
    }

    /// Depth and cost are measured by async-graphql's validation; the limits are checked here so
    /// the error can say what the document measured. A list field costs its page size
    /// (`first`/`last`, or the default page) times its selection (see `relay::cost`).
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let measured = next.run(ctx).await?;
        if measured.depth > self.limits.depth {
            return Err(vec![limit_error(
                "QUERY_TOO_DEEP",
                format!(
                    "the document nests {} levels deep; the limit is {} (ZYGO_MAX_QUERY_DEPTH)",
                    measured.depth, self.limits.depth
                ),
            )]);
        }
        if measured.complexity > self.limits.complexity {
            return Err(vec![limit_error(
                "QUERY_TOO_COMPLEX",
                format!(
                    "the document costs {}; the limit is {} (ZYGO_MAX_QUERY_COMPLEXITY). Every field \
                     costs 1 and a connection costs its page size (first/last, default {}) times its \
                     selection: ask for smaller pages or fewer nested lists",
                    measured.complexity,
                    self.limits.complexity,
                    crate::graphql::relay::DEFAULT_PAGE_SIZE
                ),
            )]);
        }
        // Every limit passed: only now does the operation draw from the rate limits (and a
        // new persisted text get stored), so a refused document costs nothing.
        if let (Some(ticket), Some(app)) = (ctx.data_opt::<Ticket>(), ctx.data_opt::<AppState>()) {
            let cost = *self.cost.lock().expect("lock");
            admission::charge(app, ticket, cost)
                .await
                .map_err(|refusal| vec![refusal.into_server_error()])?;
        }
        Ok(measured)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        // What a support session's audit entry names (see `Loaders::tenant_access`).
        if let Some(loaders) = ctx.data_opt::<crate::graphql::loaders::Loaders>() {
            let op_type = self.op_type.lock().expect("lock").unwrap_or("query");
            let _ = loaders.operation.set((op_type, operation_name.map(str::to_string)));
        }
        self.fields.execute(ctx, operation_name, next).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        self.fields.resolve(ctx, info, next).await
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let request_id = ctx.data_opt::<RequestCtx>().map(|c| c.request_id.clone());
        if let Some(loaders) = ctx.data_opt::<crate::graphql::loaders::Loaders>() {
            let name = self.operation_name.lock().expect("lock").clone();
            let _ = loaders.operation.set(("subscription", name));
        }
        let metrics = self.metrics.clone();
        metrics.graphql_requests.with_label_values(&["subscription", "ok"]).inc();
        self.fields
            .subscribe(ctx, stream, next)
            .map(move |mut resp| {
                shape_errors(&mut resp, request_id.as_deref(), false);
                resp
            })
            .boxed()
    }
}

fn limit_error(code: &str, message: String) -> ServerError {
    let mut err = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code);
    err.extensions = Some(ext);
    err
}
