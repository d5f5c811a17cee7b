//! Admission: the one path every GraphQL operation takes before it runs, over HTTP and
//! WebSocket alike. The transports only frame requests and answers; what may run is decided
//! here, in this order, all before the schema sees the request:
//!
//! 1. The request: persisted queries are looked up (never stored yet) and the
//!    persisted-only mode enforced, every variable string is held to
//!    `ZYGO_MAX_STRING_LENGTH`, and a [`Ticket`] names the caller's rate-limit buckets. The
//!    caller's credential (bearer JWT, API key, or `connection_init`) was resolved by the
//!    transport into the [`RequestCtx`] passed in.
//! 2. The document ([`super::limits`]): its size, the parse, the alias count (fragments
//!    expanded, see [`measure`]), its depth and cost against the schema's shape.
//! 3. [`charge`], once every limit passed: the rate limiter takes the operation's cost (root
//!    fields with fragments expanded). A new persisted-query text is stored only after the
//!    schema validated and ran it. A document refused by a limit costs nothing, and no
//!    refused document leaves anything behind.
//!
//! The schema has no extension (see [`super::shape`]): async-graphql's own validation runs
//! after these stages, and the transports shape the answers ([`super::answer`]).
//!
//! This module decides and measures; it does not execute, and it does not know about HTTP
//! status codes or WebSocket frames.

use std::collections::{HashMap, HashSet};

use async_graphql::{
    Request, ServerError,
    parser::types::{ExecutableDocument, FragmentDefinition, OperationDefinition, Selection, SelectionSet},
};

use crate::{auth::RequestCtx, http::persisted::Registration, ratelimit::Principal, startup::AppState};

/// Why an operation may not run: its `extensions.code`, a message, and the offending field
/// or the seconds to wait where they apply.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<u64>,
    /// Refused for its document (stage 2 or 3: a limit, the parse, the rate limit) rather
    /// than for the request around it: the answer is a GraphQL response like a validation
    /// error's, and in a batch the other operations still run.
    pub document: bool,
}

impl Refusal {
    pub(super) fn new(code: &'static str, message: String) -> Self {
        Self { code, message, field: None, retry_after: None, document: false }
    }

    pub(super) fn document(code: &'static str, message: String) -> Self {
        Self { document: true, ..Self::new(code, message) }
    }

    /// The refusal as a GraphQL error with `extensions.code` (and `field` / `retryAfter`).
    pub fn into_server_error(self) -> ServerError {
        let mut err = ServerError::new(self.message, None);
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", self.code);
        if let Some(field) = self.field {
            ext.set("field", field);
        }
        if let Some(retry) = self.retry_after {
            ext.set("retryAfter", retry);
        }
        err.extensions = Some(ext);
        err
    }
}

/// What the request stage hands to the charge: whose buckets the operation draws from, and
/// the persisted-query text to keep once it is admitted.
#[derive(Clone, Debug)]
pub struct Ticket {
    principals: Vec<Principal>,
    /// The budget a new persisted text draws from (`user:…`, `tenant:…`, `anonymous`).
    owner: String,
    registration: Option<Registration>,
}

/// The rate-limit buckets a request draws from: its API key and the key's tenant, its user,
/// or (anonymous) its IP address.
pub fn principals(ctx: &RequestCtx) -> Vec<Principal> {
    if let Some(key) = &ctx.api_key {
        vec![Principal::ApiKey(key.id), Principal::Tenant(key.tenant_id)]
    } else if let Some(v) = &ctx.viewer {
        vec![Principal::User(v.user_id)]
    } else {
        vec![Principal::Ip(ctx.ip.clone().unwrap_or_default())]
    }
}

/// Admits `req` (see the module docs): resolves persisted queries, enforces the string cap,
/// checks the document and charges the caller. `ctx` is the caller as the transport
/// authenticated it.
pub async fn admit(
    app: &AppState,
    ctx: &RequestCtx,
    req: &mut Request,
) -> Result<super::limits::Admitted, Refusal> {
    let mut registration = app.persisted.resolve(req).await.map_err(|(code, why)| Refusal::new(code, why))?;
    // No string anywhere in the variables may exceed the global cap; fields have tighter
    // limits of their own.
    check_strings(req, app.config.max_string_length)?;
    let anonymous = ctx.api_key.is_none() && ctx.viewer.is_none();
    if anonymous && !app.persisted.anonymous_may_register() {
        // The operation still runs with its text; it is only not kept.
        registration = None;
    }
    let owner = match (&ctx.api_key, &ctx.viewer) {
        (Some(key), _) => format!("tenant:{}", key.tenant_id),
        (None, Some(v)) => format!("user:{}", v.user_id),
        (None, None) => "anonymous".to_string(),
    };
    let ticket = Ticket { principals: principals(ctx), owner, registration };
    super::limits::check(app, req, &ticket).await
}

/// Stage three of admission, once every limit passed: takes `cost` tokens from the ticket's
/// buckets. A new persisted text is kept only once the schema has validated and run it
/// ([`super::answer::Pending::keep`]).
pub(super) async fn charge(app: &AppState, ticket: &Ticket, cost: u32) -> Result<(), Refusal> {
    // A tenant's bucket (its API keys') holds what its plan allows per minute.
    let tenant_per_minute = match ticket.principals.iter().find_map(|p| match p {
        Principal::Tenant(t) => Some(*t),
        _ => None,
    }) {
        Some(tenant) => crate::modules::billing::metering::requests_per_minute(&app.ctx, tenant)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "plan's rate limit unknown; the instance's default applies");
                None
            }),
        None => None,
    };
    app.rate_limiter.take_with(&ticket.principals, cost, tenant_per_minute).await.map_err(|retry| {
        Refusal {
            retry_after: Some(retry),
            ..Refusal::document("RATE_LIMITED", format!("too many requests; retry in {retry} s"))
        }
    })?;
    Ok(())
}

impl Ticket {
    /// The persisted text to keep once the operation ran, with the budget it draws from.
    pub(super) fn registration(&self) -> Option<(Registration, String)> {
        self.registration.clone().map(|r| (r, self.owner.clone()))
    }
}

/// Finds a string longer than `max` characters in the request's variables; the refusal names
/// its path (e.g. `input.description`).
pub fn check_strings(req: &Request, max: usize) -> Result<(), Refusal> {
    fn walk(v: &serde_json::Value, path: &mut Vec<String>, max: usize) -> Result<(), Refusal> {
        match v {
            serde_json::Value::String(s) if s.chars().count() > max => {
                let field = path.join(".");
                Err(Refusal {
                    field: Some(field.clone()),
                    ..Refusal::new(
                        "BAD_USER_INPUT",
                        format!("`{field}` is longer than {max} characters (ZYGO_MAX_STRING_LENGTH)"),
                    )
                })
            }
            serde_json::Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
                path.push(i.to_string());
                let r = walk(item, path, max);
                path.pop();
                r
            }),
            serde_json::Value::Object(fields) => fields.iter().try_for_each(|(k, item)| {
                path.push(k.clone());
                let r = walk(item, path, max);
                path.pop();
                r
            }),
            _ => Ok(()),
        }
    }
    let vars = serde_json::to_value(&req.variables).unwrap_or_default();
    walk(&vars, &mut vec![], max)
}

/// What the executor will run of one operation, counted with every fragment expanded where
/// it is used (a fragment spread three times counts three times, nested inline fragments
/// count their fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measure {
    /// Aliased fields.
    pub aliases: usize,
    /// Root fields (aliases included): the operation's rate-limit cost.
    pub root_fields: usize,
    /// A spread names an unknown fragment or closes a cycle (validation refuses the document).
    pub broken: bool,
}

impl Measure {
    /// The rate-limit cost: the root fields, at least one.
    pub fn cost(&self) -> u32 {
        self.root_fields.clamp(1, u32::MAX as usize) as u32
    }
}

/// Measures the operation `operation_name` (or the first one) of `doc`. Each fragment is
/// measured once and its counts reused, so a document cannot make this walk expensive;
/// counts saturate instead of overflowing. A fragment cycle counts nothing here (validation
/// refuses it).
pub fn measure(doc: &ExecutableDocument, operation_name: Option<&str>) -> Measure {
    let op = match operation_name {
        Some(name) => {
            doc.operations.iter().find(|(n, _)| n.map(|n| n.as_str()) == Some(name)).map(|(_, o)| o)
        }
        None => doc.operations.iter().next().map(|(_, o)| o),
    };
    let Some(op) = op else { return Measure { aliases: 0, root_fields: 0, broken: false } };
    let mut walker = Walker::new(&doc.fragments);
    let op: &OperationDefinition = &op.node;
    let counts = walker.set(&op.selection_set.node);
    Measure { aliases: counts.aliases, root_fields: counts.top, broken: walker.broken }
}

type Fragments = HashMap<async_graphql::Name, async_graphql::Positioned<FragmentDefinition>>;

/// Counts of a selection set with its fragments expanded.
#[derive(Clone, Copy, Default)]
struct Counts {
    /// Aliased fields in the whole tree.
    aliases: usize,
    /// Fields at the set's own level (fragments looked through).
    top: usize,
    /// Fields in the whole tree.
    fields: usize,
}

struct Walker<'a> {
    fragments: &'a Fragments,
    memo: HashMap<&'a str, Counts>,
    visiting: HashSet<&'a str>,
    /// A spread named an unknown fragment or closed a cycle (validation will refuse it).
    broken: bool,
}

impl<'a> Walker<'a> {
    fn new(fragments: &'a Fragments) -> Self {
        Self { fragments, memo: HashMap::new(), visiting: HashSet::new(), broken: false }
    }

    fn set(&mut self, set: &'a SelectionSet) -> Counts {
        let mut out = Counts::default();
        for item in &set.items {
            let c = match &item.node {
                Selection::Field(field) => {
                    let below = self.set(&field.node.selection_set.node);
                    Counts {
                        aliases: below.aliases.saturating_add(usize::from(field.node.alias.is_some())),
                        top: 1,
                        fields: below.fields.saturating_add(1),
                    }
                }
                Selection::InlineFragment(fragment) => self.set(&fragment.node.selection_set.node),
                Selection::FragmentSpread(spread) => self.fragment(spread.node.fragment_name.node.as_str()),
            };
            out.aliases = out.aliases.saturating_add(c.aliases);
            out.top = out.top.saturating_add(c.top);
            out.fields = out.fields.saturating_add(c.fields);
        }
        out
    }

    fn fragment(&mut self, name: &'a str) -> Counts {
        if let Some(counts) = self.memo.get(name) {
            return *counts;
        }
        let Some(fragment) = self.fragments.get(name) else {
            self.broken = true;
            return Counts::default();
        };
        if !self.visiting.insert(name) {
            self.broken = true;
            return Counts::default();
        }
        let counts = self.set(&fragment.node.selection_set.node);
        self.visiting.remove(name);
        self.memo.insert(name, counts);
        counts
    }
}

/// Rewrites every fragment spread reachable from the operations of `doc` into an inline
/// fragment with the fragment's type condition, and drops the fragments so inlined (unused
/// ones stay, for validation to refuse).
///
/// Why: async-graphql's cost visitor looks through a spread without entering the fragment's
/// type, so under an interface-typed field (`node(id:)`) a connection inside a spread lost
/// its page multiplier. Inline fragments carry their type, and the executor runs them alike.
///
/// `Err(fields)` when the expanded document would hold more than `max_fields` fields — every
/// field costs at least 1, so such a document is over the cost limit anyway, and inlining it
/// would be the blow-up it asks for. A document with an unknown fragment or a cycle is
/// returned unchanged: validation names the problem.
pub fn inline_fragments(mut doc: ExecutableDocument, max_fields: usize) -> Result<ExecutableDocument, usize> {
    use async_graphql::parser::types::DocumentOperations;
    if doc.fragments.is_empty() {
        return Ok(doc);
    }
    let (fields, broken) = {
        let mut walker = Walker::new(&doc.fragments);
        let fields = doc
            .operations
            .iter()
            .fold(0usize, |n, (_, op)| n.saturating_add(walker.set(&op.node.selection_set.node).fields));
        (fields, walker.broken)
    };
    if broken {
        return Ok(doc);
    }
    if fields > max_fields {
        return Err(fields);
    }
    let fragments = std::mem::take(&mut doc.fragments);
    let mut used = HashSet::new();
    match &mut doc.operations {
        DocumentOperations::Single(op) => inline_set(&mut op.node.selection_set.node, &fragments, &mut used),
        DocumentOperations::Multiple(ops) => {
            for op in ops.values_mut() {
                inline_set(&mut op.node.selection_set.node, &fragments, &mut used);
            }
        }
    }
    doc.fragments = fragments.into_iter().filter(|(name, _)| !used.contains(name)).collect();
    Ok(doc)
}

fn inline_set(set: &mut SelectionSet, fragments: &Fragments, used: &mut HashSet<async_graphql::Name>) {
    use async_graphql::{Positioned, parser::types::InlineFragment};
    for item in &mut set.items {
        let inlined = match &mut item.node {
            Selection::Field(field) => {
                inline_set(&mut field.node.selection_set.node, fragments, used);
                None
            }
            Selection::InlineFragment(fragment) => {
                inline_set(&mut fragment.node.selection_set.node, fragments, used);
                None
            }
            Selection::FragmentSpread(spread) => {
                // Known and acyclic: checked by `inline_fragments` before.
                let name = &spread.node.fragment_name.node;
                fragments.get(name).map(|fragment| {
                    used.insert(name.clone());
                    let mut selection_set = fragment.node.selection_set.clone();
                    inline_set(&mut selection_set.node, fragments, used);
                    let mut directives = spread.node.directives.clone();
                    directives.extend(fragment.node.directives.iter().cloned());
                    Positioned::new(
                        InlineFragment {
                            type_condition: Some(fragment.node.type_condition.clone()),
                            directives,
                            selection_set,
                        },
                        spread.pos,
                    )
                })
            }
        };
        if let Some(inline) = inlined {
            item.node = Selection::InlineFragment(inline);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Measure, measure};

    fn m(query: &str, op: Option<&str>) -> Measure {
        measure(&async_graphql::parser::parse_query(query).unwrap(), op)
    }

    #[test]
    fn plain_fields_and_aliases() {
        assert_eq!(m("{ viewer { id } }", None), Measure { aliases: 0, root_fields: 1, broken: false });
        assert_eq!(
            m("{ a: viewer { id } b: viewer { id } c: __typename }", None),
            Measure { aliases: 3, root_fields: 3, broken: false }
        );
        assert_eq!(
            m("{ viewer { a: id b: id } }", None),
            Measure { aliases: 2, root_fields: 1, broken: false }
        );
    }

    #[test]
    fn nested_inline_fragments_count_their_fields() {
        let q = "{ ... { ... { ... { a: __typename b: __typename c: __typename } } } }";
        assert_eq!(m(q, None), Measure { aliases: 3, root_fields: 3, broken: false });
    }

    #[test]
    fn a_fragment_counts_every_time_it_is_spread() {
        let q = "query Q { x: viewer { ...F } y: viewer { ...F } z: viewer { ...F } }
                 fragment F on User { a: id b: id c: id }";
        assert_eq!(m(q, Some("Q")), Measure { aliases: 12, root_fields: 3, broken: false });
        let q = "mutation { ...G } fragment G on Mutation { ...H ...I } fragment H on Mutation { a: x b: x }
                 fragment I on Mutation { c: x d: x e: x }";
        assert_eq!(m(q, None), Measure { aliases: 5, root_fields: 5, broken: false });
    }

    #[test]
    fn only_the_chosen_operation_counts() {
        let q = "query A { a: __typename b: __typename } query B { __typename }";
        assert_eq!(m(q, Some("B")), Measure { aliases: 0, root_fields: 1, broken: false });
        assert_eq!(m(q, Some("A")).cost(), 2);
        assert_eq!(m(q, Some("C")).cost(), 1);
    }

    #[test]
    fn spreads_become_inline_fragments_with_their_type() {
        let q = "query { node(id: \"x\") { ...T @include(if: true) } } fragment T on Tenant { a: id ...N }
                 fragment N on Tenant { name } fragment Unused on Tenant { id }";
        let doc = super::inline_fragments(async_graphql::parser::parse_query(q).unwrap(), 100).unwrap();
        // Only the unused fragment is left, for validation to refuse.
        assert_eq!(doc.fragments.keys().map(|k| k.as_str()).collect::<Vec<_>>(), vec!["Unused"]);
        let printed = format!("{:?}", doc.operations);
        assert!(!printed.contains("FragmentSpread"), "{printed}");
        assert_eq!(printed.matches("InlineFragment {").count(), 2, "{printed}");
        assert!(printed.contains("Tenant") && printed.contains("include"), "{printed}");
        // Measured alike before and after.
        assert_eq!(super::measure(&doc, None), m(q, None));
    }

    #[test]
    fn inlining_refuses_blow_ups_and_leaves_broken_documents_to_validation() {
        let mut q = String::from("{ ...F0 }");
        for i in 0..10 {
            let spreads: String = (0..10).map(|j| format!(" a{j}: t {{ ...F{} }}", i + 1)).collect();
            q.push_str(&format!(" fragment F{i} on T {{{spreads} }}"));
        }
        q.push_str(" fragment F10 on T { x }");
        let fields =
            super::inline_fragments(async_graphql::parser::parse_query(&q).unwrap(), 5000).unwrap_err();
        assert!(fields > 10_000_000_000, "{fields}");
        for broken in ["{ ...A } fragment A on Query { ...A }", "{ ...Missing } fragment B on Query { x }"] {
            let doc =
                super::inline_fragments(async_graphql::parser::parse_query(broken).unwrap(), 100).unwrap();
            assert!(!doc.fragments.is_empty(), "{broken} left as it was");
        }
    }

    #[test]
    fn fragment_cycles_and_blow_ups_stay_cheap() {
        assert_eq!(m("{ ...A } fragment A on Query { ...A x: __typename }", None).aliases, 1);
        // Ten levels each spreading the next one ten times: 10^10 fields, counted at once.
        let mut q = String::from("{ ...F0 }");
        for i in 0..10 {
            let spreads: String = (0..10).map(|j| format!(" a{j}: t {{ ...F{} }}", i + 1)).collect();
            q.push_str(&format!(" fragment F{i} on T {{{spreads} }}"));
        }
        q.push_str(" fragment F10 on T { x }");
        let measured = m(&q, None);
        assert!(measured.aliases > 10_000_000_000, "{measured:?}");
        assert_eq!(measured.root_fields, 10);
    }
}
