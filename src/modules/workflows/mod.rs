//! AI workflows: node graphs with versions and templates, validation, and the durable
//! execution engine with retries, cancel, live updates and encrypted secrets.
//!
//! Owns `workflows`, `workflow_versions`, `workflow_templates`, `executions`,
//! `node_executions`, `execution_logs` and `memory_records`.
//!
//! * [`graph`] — the graph model and validation; [`catalog`] — node types and the JSON
//!   Schemas of their configuration; [`expr`] — expressions (MiniJinja).
//! * [`engine`] — the queue and its workers; [`nodes`] — what each node type does.
//! * [`service`] — everything the API does; [`schema`] / [`types`] — the GraphQL surface.
//! * Webhooks arrive at `POST /hooks/{workflow}/{token}` ([`webhook`]); schedules are
//!   started by [`service::run_scheduler`].

pub mod budget;
pub mod catalog;
pub mod engine;
pub mod expr;
pub mod graph;
pub mod nodes;
pub mod schedule;
pub mod schema;
pub mod service;
pub mod templates;
pub mod types;
pub mod webhook;

pub use schema::{WorkflowsMutation, WorkflowsQuery, WorkflowsSubscription};
