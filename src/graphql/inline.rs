//! Objects whose ready fields are answered inline, without the executor's per-field machinery.
//!
//! async-graphql resolves every selected field of every object as its own boxed future in a
//! `FuturesUnordered`: a task per field, a waker chain from each field up through every
//! enclosing object, and a poll of the set each time any of them wakes. Most fields of a
//! row are ready at once (`id`, `name`, an enum, a timestamp), and in a long list the waking
//! costs more than the answers: in "50 teams × 20 members → membership → user" that
//! machinery was most of the request's CPU.
//!
//! [`Inline<T>`] is `T` in the schema (same name, same fields, same resolvers) but resolves
//! an object's selection itself: each field's resolver (async-graphql's own generated
//! `resolve_field`, so arguments, guards and errors are the type's) is polled where it
//! stands, all of an object's in one allocation; a field that is ready is answered at once,
//! and only those still waiting — a relation behind a loader — are polled again, together,
//! on the object's own task. The answer keeps the selection's order. Selections it does not
//! handle in this way — fragments, directives, a response key given twice — go through
//! async-graphql's `resolve_container` unchanged, so what a client gets is the same either
//! way.

use std::{
    borrow::Cow,
    future::Future,
    pin::Pin,
    task::{Context as TaskContext, Poll},
};

use async_graphql::{
    ContainerType, ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value,
    indexmap::IndexMap,
    parser::types::{Field, Selection},
    registry::Registry,
    resolver_utils::resolve_container,
};

/// `T` in the schema, with its ready fields resolved inline (see the module's description).
pub struct Inline<T>(pub T);

impl<T: ContainerType> OutputType for Inline<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_inline(ctx, &self.0).await
    }
}

/// Whether `resolve_inline` can answer this selection set itself: only plain fields, without
/// directives, each response key once. (The schema has no extensions, which would want to see
/// every field: admission, limits and answers are the transports' — see [`super::admission`].)
fn plain(ctx: &ContextSelectionSet<'_>) -> bool {
    let items = &ctx.item.node.items;
    items.iter().enumerate().all(|(i, selection)| match &selection.node {
        Selection::Field(field) => {
            let key = &field.node.response_key().node;
            field.node.directives.is_empty()
                && !items[..i].iter().any(|earlier| {
                    matches!(&earlier.node, Selection::Field(f) if &f.node.response_key().node == key)
                })
        }
        _ => false,
    })
}

/// Resolves `root`'s selection as async-graphql's `resolve_container` would, answering the
/// fields that are ready at once inline.
pub async fn resolve_inline<T: ContainerType + ?Sized>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
) -> ServerResult<Value> {
    if !plain(ctx) {
        return resolve_container(ctx, root).await;
    }
    let fields = || {
        ctx.item.node.items.iter().map(|selection| match &selection.node {
            Selection::Field(field) => field,
            _ => unreachable!("plain() admits fields only"),
        })
    };
    // The answer in selection order: a field's key holds null until it has answered; the key
    // of a field that failed is left out (its error reported), as the executor does.
    let mut object: IndexMap<Name, Value> = IndexMap::with_capacity(ctx.item.node.items.len());
    for field in fields() {
        let answer = match field.node.name.node.as_str() {
            "__typename" => Value::String(root.introspection_type_name().into_owned()),
            _ => Value::Null,
        };
        object.insert(field.node.response_key().node.clone(), answer);
    }
    // Each field's resolver, all in one allocation (every field of `T` resolves through the
    // same `resolve_field`, so they are futures of one type); a slot empties once answered.
    let mut slots: Vec<Option<_>> = fields()
        .map(|field| {
            (field.node.name.node != "__typename").then(|| {
                let ctx_field = ctx.with_field(field);
                async move { root.resolve_field(&ctx_field).await }
            })
        })
        .collect();
    let mut failed = Vec::new();
    std::future::poll_fn(|cx: &mut TaskContext<'_>| {
        let mut waiting = false;
        for (i, slot) in slots.iter_mut().enumerate() {
            let Some(future) = slot.as_mut() else { continue };
            // SAFETY: `slots` is neither grown nor shrunk after it is made, so its futures
            // never move; each is dropped in place, by emptying its slot or with the vector.
            match unsafe { Pin::new_unchecked(future) }.poll(cx) {
                Poll::Ready(answer) => {
                    *slot = None;
                    match answer {
                        Ok(value) => object[i] = value.unwrap_or_default(),
                        Err(error) => {
                            ctx.add_error(error);
                            failed.push(i);
                        }
                    }
                }
                Poll::Pending => waiting = true,
            }
        }
        if waiting { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    // Left out from the last, so each index still names its field (they failed in any order).
    failed.sort_unstable();
    for i in failed.into_iter().rev() {
        object.shift_remove_index(i);
    }
    Ok(if object.is_empty() { Value::Null } else { Value::Object(object) })
}
