//! The schema's shape as admission and response completion need it, read once from the SDL:
//! for every object and interface type, each field's return type and whether it is paged
//! (takes `first`). With it the server prices and bounds a document before the schema runs
//! ([`Shape::measure`]) and completes a response's failed fields ([`super::nulls`]) without
//! a schema extension: async-graphql wraps every field of every operation in each extension
//! it has, a boxed future and two registry lookups per field, so the schema has none.

use std::collections::HashMap;

use async_graphql::{
    Name, Positioned, Value, Variables,
    parser::types::{
        BaseType, ExecutableDocument, Field, FragmentDefinition, OperationDefinition, OperationType,
        Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
    },
};

/// A field as the shape knows it.
#[derive(Debug)]
pub struct FieldShape {
    /// Its return type (`[Member!]!`).
    pub ty: Type,
    /// Whether it takes `first` (a page: priced as its page times its selection).
    pub paged: bool,
}

/// Object and interface types by name, with their fields by name, and the root types.
#[derive(Debug, Default)]
pub struct Shape {
    types: HashMap<String, HashMap<String, FieldShape>>,
    query: String,
    mutation: String,
    subscription: String,
}

/// The named type a (list or non-null) type holds.
pub fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// What [`Shape::measure`] found: the document's field depth and its cost (every field 1
/// plus its selection; a paged field its page times its selection, plus one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    pub depth: usize,
    pub cost: usize,
}

impl Shape {
    /// Reads the shape from `sdl` (the schema's own, so it cannot fail on a schema that built).
    pub fn from_sdl(sdl: &str) -> Self {
        let doc = async_graphql::parser::parse_schema(sdl).expect("the schema's own SDL parses");
        let mut shape = Shape {
            query: "Query".into(),
            mutation: "Mutation".into(),
            subscription: "Subscription".into(),
            ..Default::default()
        };
        for def in doc.definitions {
            match def {
                TypeSystemDefinition::Schema(s) => {
                    let s = s.node;
                    if let Some(q) = s.query {
                        shape.query = q.node.to_string();
                    }
                    if let Some(m) = s.mutation {
                        shape.mutation = m.node.to_string();
                    }
                    if let Some(s) = s.subscription {
                        shape.subscription = s.node.to_string();
                    }
                }
                TypeSystemDefinition::Type(t) => {
                    let fields = match t.node.kind {
                        TypeKind::Object(o) => o.fields,
                        TypeKind::Interface(i) => i.fields,
                        _ => continue,
                    };
                    let fields = fields
                        .into_iter()
                        .map(|f| {
                            let f = f.node;
                            let paged = f.arguments.iter().any(|a| a.node.name.node == "first");
                            (f.name.node.to_string(), FieldShape { ty: f.ty.node, paged })
                        })
                        .collect();
                    shape
                        .types
                        .entry(t.node.name.node.to_string())
                        .or_default()
                        .extend::<HashMap<_, _>>(fields);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        shape
    }

    /// The root type of an operation.
    pub fn root(&self, ty: OperationType) -> &str {
        match ty {
            OperationType::Query => &self.query,
            OperationType::Mutation => &self.mutation,
            OperationType::Subscription => &self.subscription,
        }
    }

    /// Field `name` of type `parent`; `__typename` is a `String!` of every type.
    pub fn field(&self, parent: &str, name: &str) -> Option<&FieldShape> {
        static TYPENAME: std::sync::OnceLock<FieldShape> = std::sync::OnceLock::new();
        if name == "__typename" {
            return Some(
                TYPENAME
                    .get_or_init(|| FieldShape { ty: Type::new("String!").expect("a type"), paged: false }),
            );
        }
        self.types.get(parent)?.get(name)
    }

    /// Depth and cost of operation `op`, fragments expanded where they are used (a fragment
    /// cycle or an unknown fragment counts nothing: validation refuses the document). Fields
    /// the shape does not know (introspection's) cost 1 plus their selection.
    pub fn measure(&self, doc: &ExecutableDocument, op: &OperationDefinition, variables: &Variables) -> Size {
        let mut walk =
            Measuring { shape: self, fragments: &doc.fragments, variables, op, visiting: Vec::new() };
        walk.set(&op.selection_set.node, Some(self.root(op.ty)), 0)
    }
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

struct Measuring<'a> {
    shape: &'a Shape,
    fragments: &'a Fragments,
    variables: &'a Variables,
    op: &'a OperationDefinition,
    visiting: Vec<&'a str>,
}

impl<'a> Measuring<'a> {
    /// Depth below `level` and cost of a selection set on type `parent` (if known).
    fn set(&mut self, set: &'a SelectionSet, parent: Option<&'a str>, level: usize) -> Size {
        let mut size = Size { depth: level, cost: 0 };
        for item in &set.items {
            let inner = match &item.node {
                Selection::Field(f) => self.field(&f.node, parent, level),
                Selection::InlineFragment(f) => {
                    let on = f.node.type_condition.as_ref().map(|c| c.node.on.node.as_str()).or(parent);
                    self.set(&f.node.selection_set.node, on, level)
                }
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    let Some(frag) = self.fragments.get(name) else { continue };
                    if self.visiting.contains(&name) {
                        continue;
                    }
                    self.visiting.push(name);
                    let on = frag.node.type_condition.node.on.node.as_str();
                    let inner = self.set(&frag.node.selection_set.node, Some(on), level);
                    self.visiting.pop();
                    inner
                }
            };
            size.depth = size.depth.max(inner.depth);
            size.cost = size.cost.saturating_add(inner.cost);
        }
        size
    }

    fn field(&mut self, field: &'a Field, parent: Option<&'a str>, level: usize) -> Size {
        let known = parent.and_then(|p| self.shape.field(p, field.name.node.as_str()));
        let child = self.set(&field.selection_set.node, known.map(|f| named(&f.ty)), level + 1);
        let depth = child.depth.max(level + 1);
        let cost = match known {
            Some(f) if f.paged => {
                let page = self.int_argument(field, "last").or_else(|| self.int_argument(field, "first"));
                crate::graphql::relay::cost(page, None, child.cost)
            }
            _ => child.cost.saturating_add(1),
        };
        Size { depth, cost }
    }

    /// An integer argument, given literally or through a variable (or its default).
    fn int_argument(&self, field: &Field, name: &str) -> Option<i32> {
        let value = field.get_argument(name)?;
        let resolved = value.node.clone().into_const_with(|var| {
            self.variables
                .get(&var)
                .cloned()
                .or_else(|| {
                    self.op
                        .variable_definitions
                        .iter()
                        .find(|d| d.node.name.node == var)
                        .and_then(|d| d.node.default_value.as_ref().map(|v| v.node.clone()))
                })
                .ok_or(())
        });
        match resolved {
            Ok(Value::Number(n)) => n.as_i64().map(|n| n.clamp(i32::MIN as i64, i32::MAX as i64) as i32),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::relay::DEFAULT_PAGE_SIZE;

    const SDL: &str = "type Query { viewer: User! node(id: ID!): Node }
        interface Node { id: ID! }
        type User implements Node { id: ID! name: String friends(first: Int, last: Int): UserConnection! }
        type UserConnection { edges: [UserEdge!]! }
        type UserEdge { node: User! }";

    fn size(q: &str, vars: serde_json::Value) -> Size {
        let shape = Shape::from_sdl(SDL);
        let doc = async_graphql::parser::parse_query(q).unwrap();
        let op = &doc.operations.iter().next().unwrap().1.node;
        shape.measure(&doc, op, &Variables::from_json(vars))
    }

    #[test]
    fn pages_multiply_their_selection_and_fragments_count_where_used() {
        assert_eq!(size("{ viewer { id name } }", serde_json::json!({})), Size { depth: 2, cost: 3 });
        // friends(first: 10) { edges { node { id } } }: 10 × 3 + 1, under viewer: + 1.
        let q = "query($n: Int) { viewer { friends(first: $n) { edges { node { id } } } } }";
        assert_eq!(size(q, serde_json::json!({ "n": 10 })), Size { depth: 5, cost: 32 });
        // No page given: the default page.
        let d = size("{ viewer { friends { edges { node { id } } } } }", serde_json::json!({}));
        assert_eq!(d.cost, DEFAULT_PAGE_SIZE * 3 + 2);
        let f = "{ a: viewer { ...F } b: viewer { ...F } } fragment F on User { id name }";
        assert_eq!(size(f, serde_json::json!({})), Size { depth: 2, cost: 6 });
        // A spread on an interface-typed field still prices the concrete type's pages.
        let i = "{ node(id: \"x\") { ... on User { friends(last: 2) { edges { node { id } } } } } }";
        assert_eq!(size(i, serde_json::json!({})).cost, 2 * 3 + 1 + 1);
        // A cycle counts nothing more (validation refuses it).
        let c = "{ viewer { ...A } } fragment A on User { id ...B } fragment B on User { ...A }";
        assert_eq!(size(c, serde_json::json!({})).cost, 2);
    }
}
