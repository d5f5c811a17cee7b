//! Edits of a draft graph as pure methods: each checks its input against the graph and
//! changes it, or changes nothing and names the field at fault. The API runs them inside
//! `edit_graph`'s revision check and transaction.

use serde_json::Value;

use super::graph::{EdgeSpec, Graph, NodeSpec, Position, RetryPolicy};
use crate::error::{AppError, AppResult};

/// What `updateNode` changes; `None` keeps the current value.
#[derive(Default)]
pub struct NodeChange {
    pub name: Option<String>,
    pub position: Option<Position>,
    pub config: Option<Value>,
    pub retry: Option<RetryPolicy>,
    pub clear_retry: bool,
    pub timeout_ms: Option<i64>,
    pub safe_to_repeat: Option<bool>,
}

impl Graph {
    /// Adds `node`; CONFLICT when its id is taken.
    pub fn add_node(&mut self, node: NodeSpec) -> AppResult<()> {
        if self.node(&node.id).is_some() {
            return Err(AppError::conflict("input.node.id", format!("a node `{}` exists", node.id)));
        }
        self.nodes.push(node);
        Ok(())
    }

    /// Applies `change` to the node `id`.
    pub fn update_node(&mut self, id: &str, change: NodeChange) -> AppResult<()> {
        let n = self
            .nodes
            .iter_mut()
            .find(|n| n.id == id)
            .ok_or_else(|| AppError::validation("input.nodeId", "no such node in this workflow"))?;
        if let Some(name) = change.name {
            n.name = name;
        }
        if let Some(p) = change.position {
            n.position = p;
        }
        if let Some(c) = change.config {
            n.config = c;
        }
        if change.clear_retry {
            n.retry = None;
        }
        if let Some(r) = change.retry {
            n.retry = Some(r);
        }
        if let Some(t) = change.timeout_ms {
            n.timeout_ms = Some(t);
        }
        if let Some(s) = change.safe_to_repeat {
            n.safe_to_repeat = Some(s);
        }
        Ok(())
    }

    /// Removes the node `id` and every edge to or from it.
    pub fn remove_node(&mut self, id: &str) -> AppResult<()> {
        let before = self.nodes.len();
        self.nodes.retain(|n| n.id != id);
        if self.nodes.len() == before {
            return Err(AppError::validation("input.nodeId", "no such node in this workflow"));
        }
        self.edges.retain(|e| e.source != id && e.target != id);
        Ok(())
    }

    /// Connects `source`'s output port to `target`'s input port under the next free edge id
    /// (`e1`, `e2`, …); CONFLICT when these ports are already connected.
    pub fn connect(
        &mut self,
        source: String,
        source_port: String,
        target: String,
        target_port: String,
    ) -> AppResult<()> {
        for (field, node) in [("input.source", &source), ("input.target", &target)] {
            if self.node(node).is_none() {
                return Err(AppError::validation(field, "no such node in this workflow"));
            }
        }
        if self.edges.iter().any(|e| {
            e.source == source
                && e.source_port == source_port
                && e.target == target
                && e.target_port == target_port
        }) {
            return Err(AppError::conflict("input.target", "these ports are already connected"));
        }
        let mut n = self.edges.len() + 1;
        while self.edges.iter().any(|e| e.id == format!("e{n}")) {
            n += 1;
        }
        self.edges.push(EdgeSpec { id: format!("e{n}"), source, source_port, target, target_port });
        Ok(())
    }

    /// Removes the edge `id`.
    pub fn disconnect(&mut self, id: &str) -> AppResult<()> {
        let before = self.edges.len();
        self.edges.retain(|e| e.id != id);
        if self.edges.len() == before {
            return Err(AppError::validation("input.edgeId", "no such edge in this workflow"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn node(id: &str) -> NodeSpec {
        serde_json::from_value(json!({ "id": id, "type": "code" })).unwrap()
    }

    fn graph(ids: &[&str]) -> Graph {
        Graph { nodes: ids.iter().map(|id| node(id)).collect(), edges: Vec::new() }
    }

    fn field(e: AppError) -> String {
        match e {
            AppError::Validation { field, .. } | AppError::Conflict { field: Some(field), .. } => field,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn main() -> String {
        "main".into()
    }

    #[test]
    fn a_node_id_is_taken_once() {
        let mut g = graph(&["a"]);
        assert_eq!(field(g.add_node(node("a")).unwrap_err()), "input.node.id");
        g.add_node(node("b")).unwrap();
        assert_eq!(g.nodes.len(), 2);
    }

    #[test]
    fn an_update_changes_only_what_it_names_and_can_clear_the_retry_policy() {
        let mut g = graph(&["a"]);
        let change = NodeChange { name: Some("A".into()), timeout_ms: Some(500), ..Default::default() };
        g.update_node("a", change).unwrap();
        let a = g.node("a").unwrap();
        assert_eq!((a.name.as_str(), a.timeout_ms, a.config.clone()), ("A", Some(500), json!({})));
        let retry = serde_json::from_value(json!({ "maxAttempts": 3, "backoff": "fixed", "delayMs": 10 }))
            .expect("a retry policy");
        g.update_node("a", NodeChange { retry: Some(retry), ..Default::default() }).unwrap();
        assert_eq!(g.node("a").unwrap().retry.as_ref().map(|r| r.max_attempts), Some(3));
        g.update_node("a", NodeChange { clear_retry: true, ..Default::default() }).unwrap();
        assert!(g.node("a").unwrap().retry.is_none());
        assert_eq!(field(g.update_node("zz", NodeChange::default()).unwrap_err()), "input.nodeId");
    }

    #[test]
    fn removing_a_node_removes_its_edges_and_nothing_else() {
        let mut g = graph(&["a", "b", "c"]);
        g.connect("a".into(), main(), "b".into(), main()).unwrap();
        g.connect("b".into(), main(), "c".into(), main()).unwrap();
        g.connect("a".into(), main(), "c".into(), main()).unwrap();
        g.remove_node("b").unwrap();
        assert_eq!(g.nodes.len(), 2);
        assert_eq!(g.edges.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["e3"]);
        assert_eq!(field(g.remove_node("b").unwrap_err()), "input.nodeId");
    }

    #[test]
    fn connecting_names_missing_nodes_refuses_a_duplicate_and_takes_the_next_free_id() {
        let mut g = graph(&["a", "b"]);
        assert_eq!(field(g.connect("x".into(), main(), "b".into(), main()).unwrap_err()), "input.source");
        assert_eq!(field(g.connect("a".into(), main(), "x".into(), main()).unwrap_err()), "input.target");
        g.connect("a".into(), main(), "b".into(), main()).unwrap();
        assert_eq!(field(g.connect("a".into(), main(), "b".into(), main()).unwrap_err()), "input.target");
        g.connect("a".into(), "error".into(), "b".into(), main()).unwrap();
        g.disconnect("e1").unwrap();
        g.connect("b".into(), main(), "a".into(), main()).unwrap();
        // e2 is still there, so the new edge is e3 (ids are never reused while taken).
        assert_eq!(g.edges.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["e2", "e3"]);
        assert_eq!(field(g.disconnect("e1").unwrap_err()), "input.edgeId");
    }
}
