//! Stage two of admission (see [`super::admission`]): the document itself. Its size, the
//! parse, the alias count and the field count with fragments expanded, its depth and cost
//! against the schema's [`Shape`], then the rate-limit charge — all before the schema sees
//! the request, which receives the parsed document and does not parse it again.
//!
//! async-graphql's own validation (unknown fields, argument types, …) runs after this, in
//! the schema. A document refused here costs nothing; one that passes the limits is charged
//! even if that validation then refuses it (it did cost the server a parse and a check),
//! but its persisted text is kept only if it ran.

use std::sync::Arc;

use async_graphql::{
    Request,
    parser::types::{ExecutableDocument, OperationType},
};

use super::{
    admission::{self, Refusal},
    shape::Shape,
};
use crate::startup::AppState;

/// What the checks learnt of an admitted operation, for the transport's answer.
#[derive(Clone, Debug, Default)]
pub struct Admitted {
    /// The operation's type (`None` when the document names no runnable operation;
    /// the schema then answers with its error).
    pub op_type: Option<OperationType>,
    /// The operation's name, as the request gives it or the document's only operation has it.
    pub operation_name: Option<String>,
    /// A new persisted-query text and its owner's budget, kept once the operation ran.
    pub registration: Option<(crate::http::persisted::Registration, String)>,
}

impl Admitted {
    /// The operation type as metrics label it.
    pub fn label(&self) -> &'static str {
        match self.op_type {
            Some(OperationType::Query) => "query",
            Some(OperationType::Mutation) => "mutation",
            Some(OperationType::Subscription) => "subscription",
            None => "invalid",
        }
    }
}

/// The documents an instance admitted recently — parsed, counted and with their fragments
/// spread — by their text: clients send the same few documents again and again, and one seen
/// before skips the parse and both walks (an eighth of a lookup's CPU in `benches/api`). What
/// depends on the variables (depth and cost) is measured for every request all the same. Only
/// what passed the checks that do not depend on them is kept, so a hit is admitted exactly as
/// a miss would be (the limits are the instance's own). Texts of at most [`Self::MAX_BYTES`]
/// are kept, [`Self::BUDGET_BYTES`] of text in all (the web app's 313 documents take about a
/// third of it), least recently used out first: a parsed document is up to about a hundred
/// times its text, so the cache stays within a few dozen MB whatever callers send.
pub struct Documents(std::sync::Mutex<Kept>);

struct Kept {
    texts: lru::LruCache<String, Arc<Seen>>,
    bytes: usize,
}

/// A document as [`check`] left it, for the operation name it was measured for.
struct Seen {
    operation_name: Option<String>,
    doc: ExecutableDocument,
    measured: admission::Measure,
}

impl Documents {
    pub const MAX_BYTES: usize = 4096;
    pub const BUDGET_BYTES: usize = 256 * 1024;

    pub fn new() -> Self {
        Self(std::sync::Mutex::new(Kept { texts: lru::LruCache::unbounded(), bytes: 0 }))
    }

    /// The document of `text`, measured for `operation_name`, if it was kept.
    fn get(
        &self,
        text: &str,
        operation_name: Option<&str>,
    ) -> Option<(ExecutableDocument, admission::Measure)> {
        let seen = self.0.lock().expect("documents").texts.get(text).cloned()?;
        (seen.operation_name.as_deref() == operation_name).then(|| (seen.doc.clone(), seen.measured))
    }

    fn keep(
        &self,
        text: &str,
        operation_name: Option<&str>,
        doc: &ExecutableDocument,
        measured: admission::Measure,
    ) {
        if text.len() > Self::MAX_BYTES {
            return;
        }
        let seen = Seen { operation_name: operation_name.map(str::to_owned), doc: doc.clone(), measured };
        let mut kept = self.0.lock().expect("documents");
        if kept.texts.put(text.to_owned(), Arc::new(seen)).is_none() {
            kept.bytes += text.len();
        }
        while kept.bytes > Self::BUDGET_BYTES {
            match kept.texts.pop_lru() {
                Some((out, _)) => kept.bytes -= out.len(),
                None => break,
            }
        }
    }
}

impl Default for Documents {
    fn default() -> Self {
        Self::new()
    }
}

/// The schema's shape, read once from its SDL.
pub fn shape() -> &'static Shape {
    static SHAPE: std::sync::OnceLock<Shape> = std::sync::OnceLock::new();
    SHAPE.get_or_init(|| Shape::from_sdl(&super::sdl()))
}

/// Checks the document of `req` against the limits, hands the parsed document to the
/// request, and charges the caller's rate limits (see the module docs).
pub(super) async fn check(
    app: &AppState,
    req: &mut Request,
    ticket: &admission::Ticket,
) -> Result<Admitted, Refusal> {
    let limits = &app.config.limits;
    if req.query.len() > limits.document_bytes {
        return Err(Refusal::document(
            "DOCUMENT_TOO_LARGE",
            format!(
                "the document is {} bytes; the limit is {} (ZYGO_MAX_DOCUMENT_BYTES)",
                req.query.len(),
                limits.document_bytes
            ),
        ));
    }
    let operation_name = req.operation_name.as_deref();
    let (doc, measured) = match app.documents.get(&req.query, operation_name) {
        Some(seen) => seen,
        None => {
            let (doc, measured) = parse_and_count(&req.query, operation_name, limits)?;
            app.documents.keep(&req.query, operation_name, &doc, measured);
            (doc, measured)
        }
    };
    let op = match &req.operation_name {
        Some(name) => doc.operations.iter().find(|(n, _)| n.map(|n| n.as_str()) == Some(name.as_str())),
        None if doc.operations.iter().count() == 1 => doc.operations.iter().next(),
        None => None,
    };
    let mut admitted = Admitted {
        operation_name: op.and_then(|(name, _)| name.map(|n| n.to_string())),
        ..Default::default()
    };
    let op = op.map(|(_, op)| &op.node);
    // A document with an unknown fragment or a fragment cycle keeps its spreads; validation
    // refuses it, and it is not walked here.
    if let Some(op) = op.filter(|_| !measured.broken) {
        admitted.op_type = Some(op.ty);
        let size = shape().measure(&doc, op, &req.variables);
        if size.depth > limits.depth {
            return Err(Refusal::document(
                "QUERY_TOO_DEEP",
                format!(
                    "the document nests {} levels deep; the limit is {} (ZYGO_MAX_QUERY_DEPTH)",
                    size.depth, limits.depth
                ),
            ));
        }
        if size.cost > limits.complexity {
            return Err(Refusal::document(
                "QUERY_TOO_COMPLEX",
                format!(
                    "the document costs {}; the limit is {} (ZYGO_MAX_QUERY_COMPLEXITY). Every field \
                     costs 1 and a connection costs its page size (first/last, default {}) times its \
                     selection: ask for smaller pages or fewer nested lists",
                    size.cost,
                    limits.complexity,
                    crate::graphql::relay::DEFAULT_PAGE_SIZE
                ),
            ));
        }
    }
    req.set_parsed_query(doc);
    // Every limit passed: only now does the operation draw from the rate limits (and a new
    // persisted text get stored), so a refused document costs nothing.
    admission::charge(app, ticket, measured.cost()).await?;
    admitted.registration = ticket.registration();
    Ok(admitted)
}

/// Parses `text` and checks what does not depend on the variables: the aliases of the
/// operation named, and the fields once its fragments are spread (into typed inline fragments).
fn parse_and_count(
    text: &str,
    operation_name: Option<&str>,
    limits: &crate::config::Limits,
) -> Result<(ExecutableDocument, admission::Measure), Refusal> {
    let doc = async_graphql::parser::parse_query(text)
        .map_err(|e| Refusal::document("GRAPHQL_PARSE_FAILED", e.to_string()))?;
    // Counted as the executor will run the operation: every fragment expanded where used.
    let measured = admission::measure(&doc, operation_name);
    if measured.aliases > limits.aliases {
        return Err(Refusal::document(
            "TOO_MANY_ALIASES",
            format!(
                "the document uses {} aliases; the limit is {} (ZYGO_MAX_ALIASES)",
                measured.aliases, limits.aliases
            ),
        ));
    }
    // Spreads become typed inline fragments; a document that would expand past the
    // cost limit is refused without expanding it (every field costs at least 1).
    let doc = admission::inline_fragments(doc, limits.complexity).map_err(|fields| {
        Refusal::document(
            "QUERY_TOO_COMPLEX",
            format!(
                "the document holds {fields} fields once its fragments are spread; the limit \
                 is {} (ZYGO_MAX_QUERY_COMPLEXITY)",
                limits.complexity
            ),
        )
    })?;
    Ok((doc, measured))
}

#[cfg(test)]
mod tests {
    use super::{Documents, admission};

    #[test]
    fn kept_documents_stay_within_their_budget_least_recently_used_out_first() {
        let docs = Documents::new();
        let text = |i: usize| format!("query Q{i:05} {{ {} }}", "__typename ".repeat(350));
        let keep = |i: usize| {
            let t = text(i);
            let doc = async_graphql::parser::parse_query(&t).unwrap();
            docs.keep(&t, None, &doc, admission::measure(&doc, None));
        };
        let per = text(0).len();
        let fit = Documents::BUDGET_BYTES / per;
        (0..fit + 10).for_each(keep);
        let kept = docs.0.lock().unwrap();
        assert_eq!((kept.texts.len(), kept.bytes), (fit, fit * per));
        drop(kept);
        assert!(docs.get(&text(0), None).is_none(), "the oldest went first");
        assert!(docs.get(&text(fit + 9), None).is_some());
        assert!(docs.get(&text(fit + 9), Some("Q00001")).is_none(), "measured for another operation");
        // A text over the per-document bound is not kept.
        let long = format!("{{ {} }}", "__typename ".repeat(Documents::MAX_BYTES / 10));
        let doc = async_graphql::parser::parse_query(&long).unwrap();
        docs.keep(&long, None, &doc, admission::measure(&doc, None));
        assert!(docs.get(&long, None).is_none());
    }
}
