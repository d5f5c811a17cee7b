//! Zygo: a multi-tenant SaaS platform backend exposed as one GraphQL API.
//!
//! Layout (see `DESIGN.md` in the shared folder): [`config`] and [`telemetry`] set the
//! process up, [`startup`] builds an instance, [`http`] is the axum surface, [`graphql`]
//! the schema, [`modules`] the domain areas, [`crypto`] the keys secrets are sealed with, [`db`] the database door, [`pubsub`] the event
//! bus and [`mail`] the outbox.
// The merged GraphQL roots (one part per area) nest deeper than the default limit allows.
#![recursion_limit = "256"]

pub mod access;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod ctx;
pub mod db;
pub mod error;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod modules;
pub mod pdf;
pub mod pubsub;
pub mod ratelimit;
pub mod startup;
pub mod storage;
pub mod telemetry;
