//! Integration tests: one binary, a real server per test on port 0, real HTTP and
//! WebSocket. Runs on SQLite + in-process bus by default, on PostgreSQL + Redis with
//! `ZYGO_TEST_DATABASE_URL` and `ZYGO_TEST_REDIS_URL` (see the README).

mod gql;
mod helpers;

mod access_cache;
mod account;
mod admin;
mod admission;
mod api_keys;
mod architecture;
mod billing;
mod billing_metering;
mod billing_providers;
mod billing_refunds;
mod billing_subscriptions_paypal;
mod browser;
mod clients;
mod collection;
mod collection_search;
mod conformance;
mod domains;
mod event_bus;
mod frontend;
mod fuzz;
mod http;
mod identity;
mod infrastructure;
mod integrity;
mod jobs;
mod limits;
mod loaders;
mod mail;
mod members;
mod nodes;
mod notifications;
mod oauth;
mod permissions;
mod presence;
mod privacy;
mod resources;
mod retention;
mod rls;
mod roles;
mod schema;
mod security;
mod studio;
mod subscriptions;
mod sweep;
mod teams;
mod tenancy;
mod tenant_deletion;
mod webhooks;
mod workflow_queue;
mod workflow_security;
mod workflows;
