//! Relay connections whose edges and nodes answer their ready fields inline ([`Inline`]).
//!
//! The schema's shape is async-graphql's `Connection` (`XConnection` with `pageInfo`,
//! `edges`, `nodes`, `totalCount`; `XEdge` with `node` and `cursor`), but each edge is an
//! [`Inline`] object, so a page of a thousand rows does not cost a thousand edge objects
//! resolved field by field through the executor before their nodes are reached.

use std::borrow::Cow;

use async_graphql::{ContainerType, Object, OutputType, TypeName, connection::PageInfo};

use super::inline::Inline;

/// A page of `T`: what [`super::relay::to_connection`] makes of a page of rows.
pub struct Conn<T> {
    pub edges: Vec<Inline<Edge<T>>>,
    /// Number of items in the whole list, across all pages.
    pub total_count: u64,
    pub has_previous_page: bool,
    pub has_next_page: bool,
}

impl<T> Conn<T> {
    pub fn new(has_previous_page: bool, has_next_page: bool, total_count: u64) -> Self {
        Self { edges: Vec::new(), total_count, has_previous_page, has_next_page }
    }

    /// Appends `node` at `cursor`.
    pub fn push(&mut self, cursor: String, node: T) {
        self.edges.push(Inline(Edge { cursor: Cursor::Text(cursor), node: Inline(node) }));
    }

    /// Appends `node`, whose cursor is its id (encoded only if a client asks for it).
    pub fn push_id(&mut self, id: uuid::Uuid, node: T) {
        self.edges.push(Inline(Edge { cursor: Cursor::Id(id), node: Inline(node) }));
    }
}

/// One item of a [`Conn`] with its cursor.
pub struct Edge<T> {
    pub cursor: Cursor,
    pub node: Inline<T>,
}

/// An edge's cursor: most pages are of rows paged by id, whose cursor is encoded when asked
/// for (a page of a thousand members selected without cursors encodes none).
pub enum Cursor {
    Id(uuid::Uuid),
    Text(String),
}

impl Cursor {
    fn encode(&self) -> String {
        match self {
            Cursor::Id(id) => crate::db::page::encode_cursor(*id),
            Cursor::Text(text) => text.clone(),
        }
    }
}

impl<T: OutputType> TypeName for Conn<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", T::type_name()).into()
    }
}

impl<T: OutputType> TypeName for Edge<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", T::type_name()).into()
    }
}

#[Object(name_type)]
impl<T: ContainerType> Conn<T> {
    /// Information to aid in pagination.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|e| e.0.cursor.encode()),
            end_cursor: self.edges.last().map(|e| e.0.cursor.encode()),
        }
    }

    /// A list of edges.
    async fn edges(&self) -> &[Inline<Edge<T>>] {
        &self.edges
    }

    /// A list of nodes.
    async fn nodes(&self) -> Vec<&Inline<T>> {
        self.edges.iter().map(|e| &e.0.node).collect()
    }

    /// Number of items in the whole list, across all pages.
    async fn total_count(&self) -> u64 {
        self.total_count
    }
}

/// An edge in a connection.
#[Object(name_type)]
impl<T: ContainerType> Edge<T> {
    /// The item at the end of the edge
    async fn node(&self) -> &Inline<T> {
        &self.node
    }

    /// A cursor for use in pagination
    async fn cursor(&self) -> String {
        self.cursor.encode()
    }
}
