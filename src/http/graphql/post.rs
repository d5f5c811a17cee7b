//! GraphQL over HTTP: POST and GET, content negotiation, status codes and rate-limit headers.

#[allow(unused_imports)]
use super::*;

/// Whether a request carries a header a cross-site form cannot set (as Apollo Server asks of
/// multipart requests): a non-empty `x-apollo-operation-name`, or `apollo-require-preflight`.
fn has_preflight_header(headers: &HeaderMap) -> bool {
    let set =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).is_some_and(|v| !v.trim().is_empty());
    set("x-apollo-operation-name") || set("apollo-require-preflight")
}

/// Refuses a `POST /graphql` whose body is not declared as JSON, before anything parses it:
/// a cross-site form or `text/plain` POST (which browsers send without a preflight) never runs.
/// A GraphQL multipart request (file uploads) is a form a browser may send cross-site: it is
/// accepted only with a preflight-forcing header ([`has_preflight_header`]).
pub async fn require_json(req: axum::extract::Request, next: axum::middleware::Next) -> HttpResponse {
    if req.method() == axum::http::Method::POST {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if ct == "multipart/form-data" {
            if !has_preflight_header(req.headers()) {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    req.headers(),
                    "PREFLIGHT_REQUIRED",
                    "a multipart request must carry a non-empty `x-apollo-operation-name` or \
                     `apollo-require-preflight` header (CSRF protection)"
                        .into(),
                );
            }
        } else if ct != "application/json" && ct != GRAPHQL_RESPONSE_JSON {
            return request_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                req.headers(),
                "UNSUPPORTED_MEDIA_TYPE",
                "POST bodies must be sent as application/json (or multipart/form-data for uploads)".into(),
            );
        }
    }
    next.run(req).await
}

/// `POST /graphql`: JSON, or a GraphQL multipart request (files written to temporary files
/// as they arrive, at most one of `ZYGO_RESOURCE_MAX_BYTES`).
pub async fn http_post(
    State(s): State<GraphqlState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
) -> HttpResponse {
    use axum::extract::FromRequest;
    let headers = req.headers().clone();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let multipart = content_type
        .as_deref()
        .is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with("multipart/"));
    let parsed = if multipart {
        use futures::TryStreamExt;
        use tokio_util::compat::TokioAsyncReadCompatExt;
        // Every part (the file, and the `operations` and `map` fields) is capped at the
        // configured file size, or at the JSON body limit when that is larger; a file between
        // the two is refused by the service, naming its field. One byte over the cap is read
        // so a file of exactly the maximum passes.
        let max = usize::try_from(s.app.config.storage.max_bytes)
            .unwrap_or(usize::MAX)
            .max(crate::http::MAX_BODY_BYTES)
            .saturating_add(1);
        let opts = async_graphql::http::MultipartOptions::default().max_file_size(max).max_num_files(2);
        let body = req.into_body().into_data_stream().map_err(std::io::Error::other);
        let reader = tokio_util::io::StreamReader::new(body).compat();
        match async_graphql::http::receive_batch_body(content_type, reader, opts).await {
            Ok(batch) => Ok(batch),
            Err(async_graphql::ParseRequestError::PayloadTooLarge) => {
                return request_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &headers,
                    "FILE_TOO_LARGE",
                    format!(
                        "a file may hold at most {} bytes (ZYGO_RESOURCE_MAX_BYTES)",
                        s.app.config.storage.max_bytes
                    ),
                );
            }
            Err(e) => Err(GraphQLRejection(e)),
        }
    } else {
        GraphQLBatchRequest::<GraphQLRejection>::from_request(req, &())
            .await
            .map(GraphQLBatchRequest::into_inner)
    };
    execute_http(s, headers, addr, parsed, false).await
}

/// `GET /graphql`: queries only; mutations and subscriptions get 405.
pub async fn http_get(
    State(s): State<GraphqlState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    req: Result<GraphQLBatchRequest, GraphQLRejection>,
) -> HttpResponse {
    execute_http(s, headers, addr, req.map(GraphQLBatchRequest::into_inner), true).await
}

fn request_error(status: StatusCode, headers: &HeaderMap, code: &str, message: String) -> HttpResponse {
    request_error_with(status, headers, code, message, serde_json::Map::new())
}

/// [`request_error`] with more `extensions` (`field`, `retryAfter`, …).
fn request_error_with(
    status: StatusCode,
    headers: &HeaderMap,
    code: &str,
    message: String,
    mut extensions: serde_json::Map<String, serde_json::Value>,
) -> HttpResponse {
    extensions.insert("code".into(), code.into());
    extensions.insert("requestId".into(), crate::http::request_id(headers).into());
    let body = json!({ "errors": [{ "message": message, "extensions": extensions }] });
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(headers)));
    resp
}

/// The media type to answer with: `application/graphql-response+json` when the client
/// accepts it, else `application/json` (also for clients that send no `Accept`).
fn content_type(headers: &HeaderMap) -> &'static str {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains(GRAPHQL_RESPONSE_JSON) { GRAPHQL_RESPONSE_JSON } else { "application/json" }
}

async fn execute_http(
    s: GraphqlState,
    headers: HeaderMap,
    addr: SocketAddr,
    req: Result<BatchRequest, GraphQLRejection>,
    is_get: bool,
) -> HttpResponse {
    let batch = match req {
        Ok(req) => req,
        Err(rejection) => {
            let message = match rejection.0 {
                async_graphql::ParseRequestError::PayloadTooLarge => "request body too large".to_string(),
                other => format!("malformed GraphQL request: {other}"),
            };
            return request_error(StatusCode::BAD_REQUEST, &headers, "BAD_REQUEST", message);
        }
    };
    if let BatchRequest::Batch(list) = &batch {
        let max = s.app.config.limits.batch;
        if list.len() > max {
            let message = if max == 0 {
                "batched requests are turned off (ZYGO_MAX_BATCH=0)".to_string()
            } else {
                format!(
                    "a batch holds at most {max} operations (ZYGO_MAX_BATCH); this one has {}",
                    list.len()
                )
            };
            return request_error(StatusCode::BAD_REQUEST, &headers, "BATCH_TOO_LARGE", message);
        }
    }
    let ctx = request_ctx(&s.app, &headers, addr, header_token(&headers)).await;
    // Every member goes through the one admission path (persisted queries, string caps, the
    // document's limits, the rate limit). A refused request fails the whole batch; a refused
    // document answers for its own member only, as a GraphQL error.
    let (single, requests) = match batch {
        BatchRequest::Single(r) => (true, vec![r]),
        BatchRequest::Batch(rs) => (false, rs),
    };
    let mut members = Vec::with_capacity(requests.len());
    for mut r in requests {
        match admission::admit(&s.app, &ctx, &mut r).await {
            Ok(admitted) => members.push(Ok((r, admitted))),
            Err(refusal) if refusal.document => members.push(Err(refusal)),
            Err(refusal) => {
                let status = match refusal.code {
                    "PERSISTED_QUERY_NOT_FOUND" => StatusCode::OK,
                    _ => StatusCode::BAD_REQUEST,
                };
                let mut ext = serde_json::Map::new();
                if let Some(field) = refusal.field {
                    ext.insert("field".into(), field.into());
                }
                return request_error_with(status, &headers, refusal.code, refusal.message, ext);
            }
        }
    }
    // After admission, which turned persisted hashes into texts: a mutation sent by hash
    // alone is still a mutation.
    if is_get
        && members
            .iter()
            .flatten()
            .any(|(_, a)| matches!(a.op_type, Some(OperationType::Mutation | OperationType::Subscription)))
    {
        let mut resp = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            &headers,
            "METHOD_NOT_ALLOWED",
            "mutations and subscriptions must use POST (or the WebSocket endpoint)".into(),
        );
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    let span = tracing::info_span!(
        "graphql",
        request_id = %ctx.request_id,
        user_id = ctx.viewer.as_ref().map(|v| v.user_id.to_string()).unwrap_or_default(),
    );
    // Every load of the request is batched per turn of its execution (see `graphql::batch`);
    // each member of a batch gets its own loaders, like separate requests would.
    let dispatcher = Arc::new(Dispatcher::default());
    let mut pending = Vec::new();
    let mut runnable = Vec::new();
    let mut refused = Vec::with_capacity(members.len());
    for member in members {
        match member {
            Ok((r, admitted)) => {
                let loaders = Loaders::for_request(
                    &s.app,
                    &ctx,
                    Reads::shared(&s.app.metrics),
                    Some(dispatcher.clone()),
                );
                // What a support session's audit entry names (see `Loaders::tenant_access`).
                let _ = loaders.operation.set((admitted.label(), admitted.operation_name.clone()));
                pending.push(answer::Pending::new(&ctx.request_id, &r, admitted));
                runnable.push(r.data(ctx.clone()).data(loaders));
                refused.push(None);
            }
            Err(refusal) => refused.push(Some(refusal)),
        }
    }
    let limit = s.app.config.request_timeout;
    let executed = if runnable.is_empty() {
        Vec::new()
    } else {
        let batch = if single {
            BatchRequest::Single(runnable.pop().expect("one request"))
        } else {
            BatchRequest::Batch(runnable)
        };
        let execution = Driven::new(dispatcher, s.schema.execute_batch(batch));
        match tokio::time::timeout(limit, execution.instrument(span)).await {
            Ok(BatchResponse::Single(r)) => vec![r],
            Ok(BatchResponse::Batch(rs)) => rs,
            // Dropping the future cancels the work; a transaction in flight rolls back.
            Err(_) => {
                return request_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &headers,
                    "REQUEST_TIMEOUT",
                    format!("the request ran longer than {} s (ZYGO_REQUEST_TIMEOUT)", limit.as_secs()),
                );
            }
        }
    };
    let mut executed = executed.into_iter().zip(pending);
    let mut answers = Vec::with_capacity(refused.len());
    for refusal in refused {
        answers.push(match refusal {
            None => {
                let (mut resp, mut pending) = executed.next().expect("an answer per executed operation");
                pending.complete(&mut resp);
                pending.keep(&s.app, &resp).await;
                pending.measured(&s.app, resp.errors.is_empty());
                resp
            }
            Some(refusal) => {
                let mut resp = Response::from_errors(vec![refusal.into_server_error()]);
                answer::shape_errors(&mut resp, Some(&ctx.request_id));
                s.app.metrics.graphql_requests.with_label_values(&["invalid", "error"]).inc();
                resp
            }
        });
    }
    let resp = if single {
        BatchResponse::Single(answers.pop().expect("one answer"))
    } else {
        BatchResponse::Batch(answers)
    };
    respond(resp, &headers)
}

/// `extensions.retryAfter` of a single response refused by the rate limiter before it ran.
fn rate_limited(resp: &BatchResponse) -> Option<u64> {
    let BatchResponse::Single(r) = resp else { return None };
    if r.data != async_graphql::Value::Null {
        return None;
    }
    let ext = r.errors.first()?.extensions.as_ref()?;
    if ext.get("code") != Some(&async_graphql::Value::from("RATE_LIMITED")) {
        return None;
    }
    match ext.get("retryAfter") {
        Some(async_graphql::Value::Number(n)) => n.as_u64(),
        _ => None,
    }
}

fn respond(resp: BatchResponse, headers: &HeaderMap) -> HttpResponse {
    let ct = content_type(headers);
    // With the GraphQL media type, a request that never reached execution (no `data`) is a
    // client error, as GraphQL over HTTP asks; with plain JSON it is always 200. Errors of an
    // execution carry the path of their field: a root field that failed leaves `data: null`
    // and the answer is a 200, as for any other field error.
    let request_failed = match &resp {
        BatchResponse::Single(r) => {
            !r.errors.is_empty()
                && r.data == async_graphql::Value::Null
                && r.errors.iter().all(|e| e.path.is_empty())
        }
        BatchResponse::Batch(_) => false,
    };
    // Refused by the rate limiter (after validation, in the schema): 429 with Retry-After.
    let retry_after = rate_limited(&resp);
    let status = if retry_after.is_some() {
        StatusCode::TOO_MANY_REQUESTS
    } else if ct == GRAPHQL_RESPONSE_JSON && request_failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let http_headers = resp.http_headers();
    // Serialised straight from async-graphql's values, whose objects keep the order of the
    // selection set (a detour through `serde_json::Value` would sort the keys). A request
    // that never executed has no `data` entry at all (GraphQL spec, "Response").
    #[derive(serde::Serialize)]
    struct NotExecuted<'a> {
        errors: &'a [async_graphql::ServerError],
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
    }
    let body = match &resp {
        BatchResponse::Single(r) if request_failed => {
            serde_json::to_string(&NotExecuted { errors: &r.errors, extensions: &r.extensions })
        }
        _ => serde_json::to_string(&resp),
    }
    .unwrap_or_else(|_| "{}".into());
    let mut out = HttpResponse::new(Body::from(body));
    *out.status_mut() = status;
    out.headers_mut().extend(http_headers);
    out.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Some(retry) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry));
    }
    out
}
