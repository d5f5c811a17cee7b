//! AI workflows: node graphs with versions and templates, validation, and the durable
//! execution engine with retries, cancel, live updates and encrypted secrets.
//!
//! Owns `workflows`, `workflow_versions`, `workflow_templates`, `executions`,
//! `node_executions`, `execution_logs` and `memory_records`. By responsibility:
//!
//! * [`definition`] — what a workflow is: the graph model and its validation, the draft's
//!   edits, immutable versions, templates.
//! * [`runtime`] — running it: the durable queue and its workers, leases, the runner, the
//!   graph interpreter, events, expressions (MiniJinja) and resource budgets; executions as
//!   the API sees them.
//! * [`nodes`] — what each node type does; [`catalog`] — the node types and the JSON Schemas
//!   of their configuration.
//! * [`triggers`] — what starts a run: manual (`executeWorkflow`), webhook
//!   (`POST /hooks/{workflow}/{token}`) and schedule (cron).
//! * [`schema`] / [`types`] — the GraphQL surface.

pub mod catalog;
pub mod definition;
pub mod nodes;
pub mod runtime;
pub mod schema;
pub mod triggers;
pub mod types;

pub use schema::{WorkflowsMutation, WorkflowsQuery, WorkflowsSubscription};
