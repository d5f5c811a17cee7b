//! Field errors as the GraphQL specification handles them (§6.4.4 "Handling Field Errors"):
//! a field that fails is present in the response as `null`, with its error in `errors`; when
//! the failed field is non-null, the `null` propagates to its nearest nullable ancestor (or
//! makes `data` null).
//!
//! async-graphql 7 drops a failed field's key from its object instead (upstream issues #1272
//! and #1449), which breaks normalised caches (Apollo, urql graphcache, Relay) that expect
//! every selected key. [`complete`] mends the answer after execution: each error's path is
//! followed through the operation and the schema's [`Shape`] to learn which fields on it are
//! nullable. Answers without field errors cost one check.

use async_graphql::{
    Name, Positioned, Response, Value,
    parser::types::{
        ExecutableDocument, FragmentDefinition, OperationDefinition, Selection, SelectionSet, Type,
    },
};

use super::shape::{Shape, named};

type Fragments = std::collections::HashMap<Name, Positioned<FragmentDefinition>>;

/// Puts `null` where a field of `resp` failed and propagates it past non-null fields.
/// `query` and `operation_name` are the request's (parsed again only when a field failed).
pub fn complete(resp: &mut Response, shape: &Shape, query: &str, operation_name: Option<&str>) {
    if resp.errors.iter().all(|e| e.path.is_empty()) || resp.data == Value::Null {
        return;
    }
    let Ok(doc) = async_graphql::parser::parse_query(query) else { return };
    let Some(op) = operation(&doc, operation_name) else { return };
    let paths: Vec<Vec<Segment>> = resp
        .errors
        .iter()
        .filter(|e| !e.path.is_empty())
        .map(|e| {
            e.path
                .iter()
                .map(|s| match s {
                    async_graphql::PathSegment::Field(k) => Segment::Key(k.clone()),
                    async_graphql::PathSegment::Index(i) => Segment::Index(*i),
                })
                .collect()
        })
        .collect();
    for path in paths {
        let steps = steps(shape, &doc.fragments, op, &path);
        null_out(&mut resp.data, &path, &steps);
    }
}

#[derive(Clone, Debug)]
enum Segment {
    Key(String),
    Index(usize),
}

/// What is known of one step of a path: whether its value may be null, and for a key, the
/// response keys of its parent's selection in order (to put a restored key in its place).
struct Step {
    nullable: bool,
    order: Vec<String>,
}

fn operation<'a>(doc: &'a ExecutableDocument, name: Option<&str>) -> Option<&'a OperationDefinition> {
    match name {
        Some(name) => doc.operations.iter().find(|(n, _)| n.map(|n| n.as_str()) == Some(name)),
        None => doc.operations.iter().next(),
    }
    .map(|(_, op)| &op.node)
}

/// Follows `path` through the operation: one [`Step`] per segment (unknown fields count as
/// nullable, so nothing is nulled on a guess).
fn steps(shape: &Shape, fragments: &Fragments, op: &OperationDefinition, path: &[Segment]) -> Vec<Step> {
    let mut out = Vec::with_capacity(path.len());
    let mut sets: Vec<(&SelectionSet, Option<&str>)> =
        vec![(&op.selection_set.node, Some(shape.root(op.ty)))];
    let mut ty: Option<&Type> = None;
    for segment in path {
        match segment {
            Segment::Index(_) => {
                let element = ty.and_then(|t| match &t.base {
                    async_graphql::parser::types::BaseType::List(inner) => Some(inner.as_ref()),
                    _ => None,
                });
                out.push(Step { nullable: element.is_none_or(|e| e.nullable), order: Vec::new() });
                ty = element;
            }
            Segment::Key(key) => {
                // Moving on from a field's (list-unwrapped) type: its selections are the sets now.
                let mut order = Vec::new();
                let mut found: Option<(&str, Option<&str>)> = None;
                let mut next_sets = Vec::new();
                for (set, parent) in &sets {
                    collect(set, *parent, fragments, &mut |response_key, field, parent| {
                        if !order.iter().any(|k| k == response_key) {
                            order.push(response_key.to_string());
                        }
                        if response_key == key {
                            found.get_or_insert((field.name.node.as_str(), parent));
                            next_sets.push(&field.selection_set.node);
                        }
                    });
                }
                let def = found.and_then(|(name, parent)| parent.and_then(|p| shape.field(p, name)));
                out.push(Step { nullable: def.is_none_or(|d| d.ty.nullable), order });
                ty = def.map(|d| &d.ty);
                let named_ty = def.map(|d| named(&d.ty));
                sets = next_sets.into_iter().map(|s| (s, named_ty)).collect();
            }
        }
    }
    out
}

/// Calls `f(response key, field, parent type)` for every field of `set`, looking through
/// inline fragments and spreads (each fragment once, so a cycle ends).
fn collect<'a>(
    set: &'a SelectionSet,
    parent: Option<&'a str>,
    fragments: &'a Fragments,
    f: &mut dyn FnMut(&str, &'a async_graphql::parser::types::Field, Option<&'a str>),
) {
    fn go<'a>(
        set: &'a SelectionSet,
        parent: Option<&'a str>,
        fragments: &'a Fragments,
        seen: &mut Vec<&'a str>,
        f: &mut dyn FnMut(&str, &'a async_graphql::parser::types::Field, Option<&'a str>),
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => f(field.node.response_key().node.as_str(), &field.node, parent),
                Selection::InlineFragment(i) => {
                    let on = i.node.type_condition.as_ref().map(|c| c.node.on.node.as_str()).or(parent);
                    go(&i.node.selection_set.node, on, fragments, seen, f);
                }
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    if seen.contains(&name) {
                        continue;
                    }
                    seen.push(name);
                    if let Some(frag) = fragments.get(name) {
                        let on = frag.node.type_condition.node.on.node.as_str();
                        go(&frag.node.selection_set.node, Some(on), fragments, seen, f);
                    }
                }
            }
        }
    }
    go(set, parent, fragments, &mut Vec::new(), f)
}

/// Nulls the value where `path` failed (the first of its segments missing from `data`), or
/// the nearest nullable value above it; `data` itself when there is none.
fn null_out(data: &mut Value, path: &[Segment], steps: &[Step]) {
    // The first segment missing from the answer is where the failure took the value away.
    let mut failed = None;
    {
        let mut at = &*data;
        for (i, segment) in path.iter().enumerate() {
            let next = match (at, segment) {
                (Value::Object(map), Segment::Key(k)) => map.get(k.as_str()),
                (Value::List(items), Segment::Index(n)) => items.get(*n),
                // Already null (an earlier error propagated here): nothing more to do.
                (Value::Null, _) => return,
                _ => return,
            };
            match next {
                Some(v) => at = v,
                None => {
                    failed = Some(i);
                    break;
                }
            }
        }
    }
    let Some(mut i) = failed else { return };
    loop {
        if steps.get(i).is_some_and(|s| s.nullable) {
            set_null(data, &path[..=i], steps.get(i).map(|s| s.order.as_slice()).unwrap_or_default());
            return;
        }
        if i == 0 {
            *data = Value::Null;
            return;
        }
        i -= 1;
    }
}

/// Sets the value at `path` to null: a missing key is put back in selection `order`.
fn set_null(data: &mut Value, path: &[Segment], order: &[String]) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut at = data;
    for segment in parents {
        at = match (at, segment) {
            (Value::Object(map), Segment::Key(k)) => match map.get_mut(k.as_str()) {
                Some(v) => v,
                None => return,
            },
            (Value::List(items), Segment::Index(n)) => match items.get_mut(*n) {
                Some(v) => v,
                None => return,
            },
            _ => return,
        };
    }
    match (at, last) {
        (Value::Object(map), Segment::Key(k)) => {
            map.insert(Name::new(k), Value::Null);
            let rank = |key: &Name| order.iter().position(|o| o == key.as_str()).unwrap_or(usize::MAX);
            map.sort_by(|a, _, b, _| rank(a).cmp(&rank(b)));
        }
        (Value::List(items), Segment::Index(n)) => {
            if let Some(item) = items.get_mut(*n) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{PathSegment, ServerError};

    use super::*;

    const SDL: &str = "type Query { a: A b: A! list: [A!] items: [A]! }
        type A { x: String y: String! inner: A! }";

    fn run(query: &str, data: serde_json::Value, path: Vec<PathSegment>) -> serde_json::Value {
        let shape = Shape::from_sdl(SDL);
        let mut resp = Response::new(Value::from_json(data).unwrap());
        let mut err = ServerError::new("boom", None);
        err.path = path;
        resp.errors.push(err);
        complete(&mut resp, &shape, query, None);
        resp.data.into_json().unwrap()
    }

    fn k(s: &str) -> PathSegment {
        PathSegment::Field(s.into())
    }

    #[test]
    fn a_nullable_field_answers_null_in_its_place() {
        let out = run("{ a { x y } }", serde_json::json!({ "a": { "y": "1" } }), vec![k("a"), k("x")]);
        assert_eq!(out.to_string(), r#"{"a":{"x":null,"y":"1"}}"#);
    }

    #[test]
    fn a_non_null_field_nulls_its_nearest_nullable_ancestor() {
        let q = "{ a { inner { y } } other: a { x } }";
        let out = run(
            q,
            serde_json::json!({ "a": { "inner": {} }, "other": { "x": "1" } }),
            vec![k("a"), k("inner"), k("y")],
        );
        assert_eq!(out, serde_json::json!({ "a": null, "other": { "x": "1" } }));
        // Through a list of non-null items into a nullable list.
        let out = run(
            "{ list { y } }",
            serde_json::json!({ "list": [{ "y": "1" }, {}] }),
            vec![k("list"), PathSegment::Index(1), k("y")],
        );
        assert_eq!(out, serde_json::json!({ "list": null }));
        // A nullable item.
        let out = run(
            "{ items { y } }",
            serde_json::json!({ "items": [{ "y": "1" }, {}] }),
            vec![k("items"), PathSegment::Index(1), k("y")],
        );
        assert_eq!(out, serde_json::json!({ "items": [{ "y": "1" }, null] }));
        // Up to the root.
        let out = run("{ b { y } }", serde_json::json!({ "b": {} }), vec![k("b"), k("y")]);
        assert_eq!(out, serde_json::Value::Null);
    }

    #[test]
    fn aliases_and_fragments_are_followed() {
        let q = "{ ...F } fragment F on Query { first: a { ... on A { z: y } } }";
        let out = run(q, serde_json::json!({ "first": {} }), vec![k("first"), k("z")]);
        assert_eq!(out, serde_json::json!({ "first": null }));
    }
}
