//! Field errors as the GraphQL specification handles them (§6.4.4 "Handling Field Errors"):
//! a field that fails is present in the response as `null`, with its error in `errors`; when
//! the failed field is non-null, the `null` propagates to its nearest nullable ancestor (or
//! makes `data` null).
//!
//! async-graphql 7 drops a failed field's key from its object instead (upstream issues #1272
//! and #1449), which breaks normalised caches (Apollo, urql graphcache, Relay) that expect
//! every selected key. This extension wraps every field's resolution, so it covers every
//! guarded field without a change to any resolver. It owns nothing else: error codes and
//! request ids are [`super::extensions`]' work.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::{
    Response, ServerError, ServerResult, Value,
    extensions::{ExtensionContext, NextExecute, NextResolve, NextSubscribe, ResolveInfo},
};
use futures::{StreamExt, stream::BoxStream};

/// What one operation's failed fields left to do.
#[derive(Default)]
struct State {
    /// Errors of fields that now answer `null` (the executor no longer sees them).
    errors: Mutex<Vec<ServerError>>,
    /// Paths of non-null fields that failed or became null: their parents must become null.
    nulled: Mutex<Vec<Vec<String>>>,
    /// Whether `nulled` has anything: the common path checks this flag only.
    any_nulled: AtomicBool,
}

impl State {
    fn null_out(&self, path: Vec<String>) {
        self.nulled.lock().unwrap().push(path);
        self.any_nulled.store(true, Ordering::Release);
    }

    /// Adds the collected errors to `resp`, and makes `data` null when a non-null root
    /// field failed.
    fn finish(&self, resp: &mut Response) {
        resp.errors.append(&mut self.errors.lock().unwrap());
        if self.any_nulled.load(Ordering::Acquire) {
            let mut nulled = self.nulled.lock().unwrap();
            if nulled.iter().any(|p| p.len() == 1) {
                resp.data = Value::Null;
            }
            nulled.clear();
            self.any_nulled.store(false, Ordering::Release);
        }
    }
}

/// One operation's field errors. Not an extension of its own: the schema's one extension
/// ([`super::extensions::Observability`]) calls its `execute`, `subscribe` and `resolve`,
/// since async-graphql runs every extension's `resolve` for every field and a second
/// extension doubled that cost.
#[derive(Default)]
pub struct FieldErrors {
    state: Arc<State>,
}

/// `[Type!]!` → (nullable, Some(element is nullable)) for lists, (nullable, None) otherwise.
fn shape(return_type: &str) -> (bool, Option<bool>) {
    let nullable = !return_type.ends_with('!');
    let inner = return_type.strip_suffix('!').unwrap_or(return_type);
    let element = inner.strip_prefix('[').and_then(|s| s.strip_suffix(']')).map(|e| !e.ends_with('!'));
    (nullable, element)
}

/// The hooks [`super::extensions::Observability`] forwards to: plain methods, so a field's
/// resolution is wrapped in one boxed future (the extension's), not two.
impl FieldErrors {
    pub async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut resp = next.run(ctx, operation_name).await;
        self.state.finish(&mut resp);
        resp
    }

    pub fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let state = self.state.clone();
        next.run(ctx, stream)
            .map(move |mut resp| {
                state.finish(&mut resp);
                resp
            })
            .boxed()
    }

    pub async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let (path_node, return_type) = (info.path_node, info.return_type);
        let (nullable, element_nullable) = shape(return_type);
        let path = || path_node.to_string_vec();
        match next.run(ctx, info).await {
            Err(e) if nullable => {
                self.state.errors.lock().unwrap().push(e);
                Ok(Some(Value::Null))
            }
            Err(e) => {
                self.state.null_out(path());
                Err(e)
            }
            Ok(value) if !self.state.any_nulled.load(Ordering::Acquire) => Ok(value),
            Ok(mut value) => {
                let here = path();
                let depth = here.len();
                // Children of this value that failed or became null while non-null.
                let below: Vec<Vec<String>> = self
                    .state
                    .nulled
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|p| p.len() > depth && p[..depth] == here[..])
                    .cloned()
                    .collect();
                if below.is_empty() {
                    return Ok(value);
                }
                let mut null_here = false;
                match (&mut value, element_nullable) {
                    (Some(Value::List(items)), Some(element_nullable)) => {
                        for p in below.iter().filter(|p| p.len() == depth + 2) {
                            if let Ok(i) = p[depth].parse::<usize>() {
                                if element_nullable {
                                    if let Some(item) = items.get_mut(i) {
                                        *item = Value::Null;
                                    }
                                } else {
                                    null_here = true;
                                }
                            }
                        }
                    }
                    _ => null_here = below.iter().any(|p| p.len() == depth + 1),
                }
                if !null_here {
                    return Ok(value);
                }
                if !nullable {
                    self.state.null_out(here);
                }
                Ok(Some(Value::Null))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shape;

    #[test]
    fn shapes_of_return_types() {
        assert_eq!(shape("String"), (true, None));
        assert_eq!(shape("String!"), (false, None));
        assert_eq!(shape("[Member!]!"), (false, Some(false)));
        assert_eq!(shape("[Member]"), (true, Some(true)));
    }
}
