//! The workflow graph (nodes, ports, edges), its settings, and validation.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::modules::workflows::{
    catalog,
    nodes::{Agent, HttpRequest, Loop, NodeKind, ScheduleTrigger, trigger},
    runtime::expr,
};

/// Most nodes in one workflow.
pub const MAX_NODES: usize = 200;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Graph {
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    #[serde(default)]
    pub edges: Vec<EdgeSpec>,
}

#[derive(
    Clone,
    Debug,
    Default,
    Serialize,
    Deserialize,
    PartialEq,
    async_graphql::SimpleObject,
    async_graphql::InputObject,
)]
#[graphql(input_name = "PositionInput")]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// When and how a failing node is tried again.
#[derive(
    Clone, Debug, Serialize, Deserialize, PartialEq, async_graphql::SimpleObject, async_graphql::InputObject,
)]
#[serde(rename_all = "camelCase")]
#[graphql(input_name = "RetryPolicyInput")]
pub struct RetryPolicy {
    /// Attempts in all, 1–10.
    pub max_attempts: i32,
    pub backoff: Backoff,
    /// Wait before the second attempt, in milliseconds (0–3600000).
    pub delay_ms: i64,
    /// Which errors are retried: any of `any`, `timeout`, `network`, `http_4xx`, `http_5xx`,
    /// `http_429`, `script`, `model`. Empty means `any`.
    #[serde(default)]
    #[graphql(default)]
    pub retry_on: Vec<String>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, async_graphql::Enum)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    Fixed,
    Exponential,
}

pub const ERROR_KINDS: &[&str] =
    &["any", "timeout", "network", "http_4xx", "http_5xx", "http_429", "script", "model"];

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeSpec {
    /// Stable key inside the workflow, used by edges and expressions (`nodes.<id>`).
    pub id: String,
    #[serde(rename = "type")]
    pub node_type: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub position: Position,
    #[serde(default = "empty_object")]
    pub config: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<i64>,
    /// Overrides the type's default: may an interrupted attempt run again after a crash?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safe_to_repeat: Option<bool>,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EdgeSpec {
    pub id: String,
    pub source: String,
    #[serde(default = "main_port")]
    pub source_port: String,
    pub target: String,
    #[serde(default = "main_port")]
    pub target_port: String,
}

pub fn main_port() -> String {
    "main".into()
}

/// Workflow-wide settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Longest a run may take, in seconds (default one hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    /// A workflow of the same organisation started with `{ execution, workflow, error, node }`
    /// when a run fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_workflow_id: Option<uuid::Uuid>,
}

impl Settings {
    pub fn run_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_seconds.unwrap_or(3600).clamp(1, 7 * 86400) as u64)
    }
}

impl NodeSpec {
    pub fn kind(&self) -> Option<&'static catalog::NodeType> {
        catalog::get(&self.node_type)
    }

    pub fn is_trigger(&self) -> bool {
        self.node_type.starts_with(trigger::PREFIX)
    }

    pub fn safe_to_repeat(&self) -> bool {
        if let Some(s) = self.safe_to_repeat {
            return s;
        }
        if self.node_type == HttpRequest::KEY {
            let method = self.config.get("method").and_then(Value::as_str).unwrap_or("GET");
            return matches!(method, "GET" | "HEAD");
        }
        self.kind().is_some_and(|k| k.safe_to_repeat)
    }

    pub fn timeout(&self) -> std::time::Duration {
        let ms = self
            .timeout_ms
            .map(|t| t.clamp(1, 86_400_000) as u64)
            .or_else(|| self.kind().map(|k| k.default_timeout_ms))
            .unwrap_or(30_000);
        std::time::Duration::from_millis(ms)
    }
}

/// One problem found by validation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct ValidationProblem {
    /// `unknown_type`, `invalid_config`, `cycle`, `unconnected_input`, `broken_reference`,
    /// `unknown_secret`, `unknown_port`, `unknown_node`, `duplicate_id`, `no_trigger`,
    /// `invalid_retry`.
    pub kind: String,
    /// The node concerned, when there is one.
    pub node_id: Option<String>,
    /// The edge concerned, when there is one.
    pub edge_id: Option<String>,
    pub message: String,
}

fn problem(
    kind: &str,
    node: Option<&str>,
    edge: Option<&str>,
    message: impl Into<String>,
) -> ValidationProblem {
    ValidationProblem {
        kind: kind.into(),
        node_id: node.map(str::to_string),
        edge_id: edge.map(str::to_string),
        message: message.into(),
    }
}

/// Node ids: 1–64 letters, digits, `_` or `-`, starting with a letter, so they can be used
/// in expressions as `nodes.<id>`.
pub fn valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The structure of a graph, computed once: which nodes form each loop's body, which are
/// an agent's tools, and which run in the main flow.
#[derive(Debug, Default)]
pub struct Layout {
    /// Loop node → the nodes of its body (reachable from its `body` port).
    pub loop_bodies: BTreeMap<String, BTreeSet<String>>,
    /// Agent node → its tool nodes.
    pub agent_tools: BTreeMap<String, Vec<String>>,
    /// Nodes owned by a loop body or an agent (they do not run in the enclosing flow).
    pub owned: HashSet<String>,
}

impl Graph {
    pub fn node(&self, id: &str) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.id == id)
    }

    pub fn outgoing<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a EdgeSpec> + 'a {
        self.edges.iter().filter(move |e| e.source == id)
    }

    pub fn incoming<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a EdgeSpec> + 'a {
        self.edges.iter().filter(move |e| e.target == id)
    }

    /// Loop bodies and agent tools.
    pub fn layout(&self) -> Layout {
        let mut layout = Layout::default();
        for n in &self.nodes {
            if n.node_type == Agent::KEY {
                let tools: Vec<String> = self
                    .outgoing(&n.id)
                    .filter(|e| e.source_port == "tools")
                    .map(|e| e.target.clone())
                    .collect();
                layout.owned.extend(tools.iter().cloned());
                layout.agent_tools.insert(n.id.clone(), tools);
            }
        }
        for n in &self.nodes {
            if n.node_type == Loop::KEY {
                let mut body = BTreeSet::new();
                let mut stack: Vec<String> = self
                    .outgoing(&n.id)
                    .filter(|e| e.source_port == "body")
                    .map(|e| e.target.clone())
                    .collect();
                while let Some(id) = stack.pop() {
                    if id == n.id || !body.insert(id.clone()) {
                        continue;
                    }
                    stack.extend(
                        self.outgoing(&id).filter(|e| e.source_port != "tools").map(|e| e.target.clone()),
                    );
                }
                layout.owned.extend(body.iter().cloned());
                layout.loop_bodies.insert(n.id.clone(), body);
            }
        }
        layout
    }

    /// Is `edge` a body's way back into its loop (allowed to close a cycle)?
    fn is_loop_back_edge(&self, layout: &Layout, e: &EdgeSpec) -> bool {
        layout.loop_bodies.get(&e.target).is_some_and(|body| body.contains(&e.source))
    }

    /// `ids` in an order where every node comes after the sources of its edges (ignoring
    /// loop back edges and tool edges). `Err` names a node on a cycle.
    pub fn topological(&self, layout: &Layout, ids: &BTreeSet<String>) -> Result<Vec<String>, String> {
        let mut indegree: BTreeMap<&str, usize> = ids.iter().map(|i| (i.as_str(), 0)).collect();
        let relevant = |e: &&EdgeSpec| {
            ids.contains(&e.source)
                && ids.contains(&e.target)
                && e.source_port != "tools"
                && !self.is_loop_back_edge(layout, e)
        };
        for e in self.edges.iter().filter(relevant) {
            *indegree.get_mut(e.target.as_str()).expect("target in ids") += 1;
        }
        let mut ready: Vec<&str> = indegree.iter().filter(|(_, d)| **d == 0).map(|(k, _)| *k).collect();
        ready.reverse();
        let mut out = Vec::with_capacity(ids.len());
        while let Some(id) = ready.pop() {
            out.push(id.to_string());
            for e in self.edges.iter().filter(relevant).filter(|e| e.source == id) {
                let d = indegree.get_mut(e.target.as_str()).expect("target in ids");
                *d -= 1;
                if *d == 0 {
                    ready.push(e.target.as_str());
                }
            }
        }
        if out.len() < ids.len() {
            let stuck = indegree.iter().find(|(k, d)| **d > 0 && !out.iter().any(|o| o == *k));
            return Err(stuck.map(|(k, _)| k.to_string()).unwrap_or_default());
        }
        Ok(out)
    }

    /// The nodes that run directly in the flow (not inside a loop body or as a tool).
    pub fn main_nodes(&self, layout: &Layout) -> BTreeSet<String> {
        self.nodes.iter().filter(|n| !layout.owned.contains(&n.id)).map(|n| n.id.clone()).collect()
    }

    /// Nodes upstream of `id` (through any edge), for reference checks.
    fn upstream(&self, id: &str) -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut stack = vec![id.to_string()];
        while let Some(n) = stack.pop() {
            for e in self.incoming(&n) {
                if seen.insert(e.source.clone()) {
                    stack.push(e.source.clone());
                }
            }
        }
        seen
    }
}

/// Structural checks that must hold even for a draft to be saved: ids, sizes, edge ends.
pub fn check_shape(graph: &Graph, field: &str) -> Result<(), crate::error::AppError> {
    use crate::error::AppError;
    if graph.nodes.len() > MAX_NODES {
        return Err(AppError::validation(field, format!("at most {MAX_NODES} nodes")));
    }
    if graph.edges.len() > MAX_NODES * 4 {
        return Err(AppError::validation(field, format!("at most {} edges", MAX_NODES * 4)));
    }
    let mut ids = HashSet::new();
    for (i, n) in graph.nodes.iter().enumerate() {
        if !valid_node_id(&n.id) {
            return Err(AppError::validation(
                format!("{field}.nodes.{i}.id"),
                "must be 1 to 64 letters, digits or _, starting with a letter",
            ));
        }
        if !ids.insert(n.id.as_str()) {
            return Err(AppError::validation(
                format!("{field}.nodes.{i}.id"),
                format!("`{}` is used twice", n.id),
            ));
        }
        if n.name.chars().count() > 120 {
            return Err(AppError::validation(
                format!("{field}.nodes.{i}.name"),
                "must be at most 120 characters",
            ));
        }
        if !n.config.is_object() {
            return Err(AppError::validation(format!("{field}.nodes.{i}.config"), "must be a JSON object"));
        }
    }
    let mut edge_ids = HashSet::new();
    for (i, e) in graph.edges.iter().enumerate() {
        if e.id.is_empty() || e.id.len() > 100 || !edge_ids.insert(e.id.as_str()) {
            return Err(AppError::validation(
                format!("{field}.edges.{i}.id"),
                "must be unique, 1 to 100 characters",
            ));
        }
        for (end, id) in [("source", &e.source), ("target", &e.target)] {
            if !ids.contains(id.as_str()) {
                return Err(AppError::validation(
                    format!("{field}.edges.{i}.{end}"),
                    format!("no node `{id}`"),
                ));
            }
        }
        if e.source == e.target {
            return Err(AppError::validation(
                format!("{field}.edges.{i}.target"),
                "a node cannot connect to itself",
            ));
        }
    }
    Ok(())
}

/// Everything wrong with a graph for running it. `secrets` are the organisation's secret
/// names; `env` its environment variable names.
pub fn validate(graph: &Graph, secrets: &BTreeSet<String>, env: &BTreeSet<String>) -> Vec<ValidationProblem> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for n in &graph.nodes {
        if !seen.insert(n.id.as_str()) {
            out.push(problem("duplicate_id", Some(&n.id), None, format!("node id `{}` is used twice", n.id)));
        }
    }
    if !graph.nodes.iter().any(NodeSpec::is_trigger) {
        out.push(problem("no_trigger", None, None, "the workflow has no trigger node"));
    }
    let layout = graph.layout();
    for e in &graph.edges {
        let (Some(src), Some(dst)) = (graph.node(&e.source), graph.node(&e.target)) else {
            out.push(problem(
                "unknown_node",
                None,
                Some(&e.id),
                "the edge connects a node that does not exist",
            ));
            continue;
        };
        if let Some(k) = src.kind()
            && !k.outputs.contains(&e.source_port.as_str())
        {
            out.push(problem(
                "unknown_port",
                Some(&src.id),
                Some(&e.id),
                format!(
                    "{} has no output port `{}` (ports: {})",
                    k.name,
                    e.source_port,
                    k.outputs.join(", ")
                ),
            ));
        }
        if let Some(k) = dst.kind()
            && !k.inputs.contains(&e.target_port.as_str())
        {
            out.push(problem(
                "unknown_port",
                Some(&dst.id),
                Some(&e.id),
                format!("{} has no input port `{}`", k.name, e.target_port),
            ));
        }
    }
    for n in &graph.nodes {
        let Some(kind) = n.kind() else {
            out.push(problem(
                "unknown_type",
                Some(&n.id),
                None,
                format!("unknown node type `{}`", n.node_type),
            ));
            continue;
        };
        for err in kind.validator.iter_errors(&n.config) {
            let path = err.instance_path().to_string();
            let at = if path.is_empty() {
                "config".to_string()
            } else {
                format!("config{}", path.replace('/', "."))
            };
            out.push(problem("invalid_config", Some(&n.id), None, format!("{at}: {err}")));
        }
        if let Some(r) = &n.retry {
            if !(1..=10).contains(&r.max_attempts) || !(0..=3_600_000).contains(&r.delay_ms) {
                out.push(problem(
                    "invalid_retry",
                    Some(&n.id),
                    None,
                    "retry: maxAttempts 1–10, delayMs 0–3600000",
                ));
            }
            if let Some(bad) = r.retry_on.iter().find(|k| !ERROR_KINDS.contains(&k.as_str())) {
                out.push(problem(
                    "invalid_retry",
                    Some(&n.id),
                    None,
                    format!("retry.retryOn: unknown error kind `{bad}` (one of {})", ERROR_KINDS.join(", ")),
                ));
            }
        }
        if n.node_type == ScheduleTrigger::KEY
            && let Some(cron) = n.config.get("cron").and_then(Value::as_str)
            && let Err(e) = crate::modules::workflows::triggers::schedule::parse(
                cron,
                n.config.get("timezone").and_then(Value::as_str),
            )
        {
            out.push(problem("invalid_config", Some(&n.id), None, format!("config.cron: {e}")));
        }
        if !kind.inputs.is_empty() && graph.incoming(&n.id).next().is_none() {
            out.push(problem(
                "unconnected_input",
                Some(&n.id),
                None,
                format!("the required input `{}` of {} is not connected", kind.inputs[0], n.id),
            ));
        }
        // Expressions: syntax, and every reference resolvable.
        let upstream = graph.upstream(&n.id);
        for (path, source) in expr::strings(&n.config) {
            match expr::references(&source) {
                Err(e) => out.push(problem(
                    "broken_reference",
                    Some(&n.id),
                    None,
                    format!("config{path}: invalid expression: {e}"),
                )),
                Ok(refs) => {
                    for r in refs {
                        match r {
                            expr::Ref::Node(id) if graph.node(&id).is_none() => out.push(problem(
                                "broken_reference",
                                Some(&n.id),
                                None,
                                format!("config{path}: `nodes.{id}` is not a node of this workflow"),
                            )),
                            expr::Ref::Node(id) if !upstream.contains(&id) => out.push(problem(
                                "broken_reference",
                                Some(&n.id),
                                None,
                                format!("config{path}: `nodes.{id}` does not run before this node"),
                            )),
                            expr::Ref::Secret(name) if !secrets.contains(&name) => out.push(problem(
                                "unknown_secret",
                                Some(&n.id),
                                None,
                                format!("config{path}: no secret named `{name}`"),
                            )),
                            expr::Ref::Env(name) if !env.contains(&name) => out.push(problem(
                                "broken_reference",
                                Some(&n.id),
                                None,
                                format!("config{path}: no environment variable named `{name}`"),
                            )),
                            expr::Ref::Unknown(name) => out.push(problem(
                                "broken_reference",
                                Some(&n.id),
                                None,
                                format!(
                                    "config{path}: unknown variable `{name}` (use input, trigger, nodes, secrets, env, item, index, execution)"
                                ),
                            )),
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    // Cycles, per flow: the main flow and each loop body separately.
    let mut flows = vec![graph.main_nodes(&layout)];
    flows.extend(layout.loop_bodies.values().cloned());
    let mut reported = HashSet::new();
    for flow in flows {
        if let Err(node) = graph.topological(&layout, &flow)
            && reported.insert(node.clone())
        {
            out.push(problem(
                "cycle",
                Some(&node),
                None,
                format!("`{node}` is on a cycle; only a Loop's body may lead back to the Loop"),
            ));
        }
    }
    out
}

/// Map of node id → its spec, for the engine.
pub fn index(graph: &Graph) -> HashMap<String, NodeSpec> {
    graph.nodes.iter().map(|n| (n.id.clone(), n.clone())).collect()
}
