//! `documentPresence` subscriptions over `graphql-transport-ws`, served by the document's
//! presence room (`modules::studio::rooms`) instead of a running operation each: the socket
//! recognises the operation, admits it like any other (credential, persisted queries, caps,
//! limits, rate limits), and from then on writes what the room hands it. An idle participant
//! is then an entry in a room, not an operation's state (issue 18's < 16 KiB).
//!
//! Only the plain shape is taken this way: one subscription operation whose single root field
//! is `documentPresence` without directives, its `documentId` given. Anything else (and the
//! legacy `graphql-ws` subprotocol) runs through the schema as every other operation does;
//! the answers are the same either way (the room projects each event through the field's own
//! types).

use async_graphql::{
    ID, Request, Value,
    parser::types::{DocumentOperations, OperationType, Selection},
};

use super::*;
use crate::modules::studio::rooms::{self, Deliver, Ticket};

/// A `documentPresence` subscription a socket hands to the presence rooms.
pub struct Light {
    pub id: String,
    request: Request,
    document_id: ID,
}

/// What the socket's loop is told besides the schema's own frames.
pub enum Control {
    /// An operation refused for the socket's operation limit.
    Refused(String),
    /// A `documentPresence` subscription to start.
    Subscribe(Box<Light>),
    /// The client completed operation `id`.
    Complete(String),
    /// A presence room's answer or end.
    Room(rooms::Delivery),
}

/// The root field the presence rooms serve.
const FIELD: &[u8] = b"documentPresence";

/// The subscription a `subscribe` frame asks, if it is one the presence rooms serve.
pub fn light(frame: &[u8]) -> Option<Light> {
    #[derive(serde::Deserialize)]
    struct Frame {
        id: String,
        #[serde(rename = "type")]
        ty: String,
        payload: Request,
    }
    // Most frames are not: a look for the field's name before any parsing.
    if !frame.windows(FIELD.len()).any(|w| w == FIELD) {
        return None;
    }
    let f: Frame = serde_json::from_slice(frame).ok()?;
    if f.ty != "subscribe" {
        return None;
    }
    let request = f.payload;
    let doc = async_graphql::parser::parse_query(&request.query).ok()?;
    let op = match (&doc.operations, &request.operation_name) {
        (DocumentOperations::Single(op), None) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name.as_str())?,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next()?,
        _ => return None,
    };
    let op = &op.node;
    if op.ty != OperationType::Subscription || !op.directives.is_empty() {
        return None;
    }
    let [item] = op.selection_set.node.items.as_slice() else { return None };
    let Selection::Field(field) = &item.node else { return None };
    let field = &field.node;
    if field.name.node != "documentPresence" || !field.directives.is_empty() {
        return None;
    }
    let argument = field.get_argument("documentId")?;
    // A literal, a variable or the variable's default (a variable's name resolved as the
    // schema would).
    let default = |name: &async_graphql::Name| {
        op.variable_definitions
            .iter()
            .find(|d| d.node.name.node == *name)
            .and_then(|d| d.node.default_value.as_ref().map(|v| v.node.clone()))
    };
    let value = argument
        .node
        .clone()
        .into_const_with(|name| request.variables.get(&name).cloned().or_else(|| default(&name)).ok_or(()))
        .ok()?;
    let Value::String(document_id) = value else { return None };
    Some(Light { id: f.id, request, document_id: ID(document_id) })
}

/// Starts `asked` for the socket's `viewer`: the frames to send now (the first answer, and
/// `complete` when it ended at once) and, when it runs, its ticket.
pub async fn start(
    app: &AppState,
    ctx: &RequestCtx,
    token: Option<String>,
    asked: Light,
    deliver: Deliver,
) -> (Vec<String>, Option<Ticket>) {
    let Light { id, mut request, document_id } = asked;
    let Some(viewer) = ctx.viewer.clone() else { return (vec![], None) };
    let admitted = async {
        if let Some(token) = token {
            still_valid(app, &token).await?;
        }
        admission::admit(app, ctx, &mut request).await
    };
    let admitted = match Box::pin(admitted).await {
        Ok(admitted) => admitted,
        Err(refusal) => {
            let mut resp = Response::from_errors(vec![refusal.into_server_error()]);
            answer::shape_errors(&mut resp, Some(&ctx.request_id));
            return (vec![next_frame(&id, &resp), complete_frame(&id)], None);
        }
    };
    let mut pending = answer::Pending::new(&ctx.request_id, &request, admitted);
    let selection = rooms::Selection {
        query: std::mem::take(&mut request.query),
        variables: std::mem::take(&mut request.variables),
        operation_name: request.operation_name.take(),
    };
    let connection = ctx.connection_id.clone().unwrap_or_else(|| format!("req-{}", ctx.request_id));
    let asked = rooms::Subscribe { id: id.as_str().into(), document_id, selection };
    let (mut resp, ticket) =
        Box::pin(rooms::subscribe(app, &viewer, &connection, &ctx.request_id, asked, deliver)).await;
    pending.complete(&mut resp);
    pending.keep(app, &resp).await;
    pending.measured(app, ticket.is_some());
    let mut frames = vec![next_frame(&id, &resp)];
    if ticket.is_none() {
        frames.push(complete_frame(&id));
    }
    (frames, ticket)
}

/// A `next` frame of operation `id` carrying `payload` (a serialised response).
pub fn next_text(id: &str, payload: &str) -> String {
    format!(r#"{{"id":{},"type":"next","payload":{payload}}}"#, serde_json::Value::from(id))
}

fn next_frame(id: &str, resp: &Response) -> String {
    next_text(id, &serde_json::to_string(resp).unwrap_or_default())
}

/// The `complete` frame of operation `id`.
pub fn complete_frame(id: &str) -> String {
    json!({ "id": id, "type": "complete" }).to_string()
}
