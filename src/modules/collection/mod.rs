//! Data collection: the platform's catalog of collectors (platforms, platform services with
//! their provider dataset, input JSON Schema and output mapping, grants by plan and per
//! organisation, provider credentials), an organisation's projects with their members and
//! project roles, folders of normalised records, and collection jobs run through BrightData's
//! Datasets API (or the sample provider of the embedded default) on the job machinery.
//!
//! Owns `collection_platforms`, `collection_services`, `collection_grants`,
//! `collection_credentials` (platform tables, no tenant), and the tenant tables `projects`,
//! `project_members`, `collection_folders`, `collection_records`, `collection_jobs`,
//! `collection_job_inputs`, `collection_saved_searches`, `collection_search_history` and
//! `collection_exports` (with the export files in the file store).

pub mod access;
pub mod brightdata;
pub mod catalog;
pub mod catalog_checks;
pub mod catalog_schema;
pub mod export;
pub mod export_file;
pub mod folders;
pub mod http;
pub mod import;
pub mod inputs;
pub mod io_schema;
pub mod jobs;
pub mod projects;
pub mod records;
pub mod sample;
pub mod saved;
pub mod schedule;
pub mod schema;
pub mod search;
pub mod search_page;
pub mod search_schema;
pub mod search_snippets;
pub mod steps;
pub mod types;

/// Collection's queries.
#[derive(async_graphql::MergedObject, Default)]
pub struct CollectionQuery(
    schema::CoreQuery,
    search_schema::SearchQuery,
    io_schema::IoQuery,
    catalog_schema::CatalogQuery,
);

/// Collection's mutations.
#[derive(async_graphql::MergedObject, Default)]
pub struct CollectionMutation(
    schema::CoreMutation,
    search_schema::SearchMutation,
    io_schema::IoMutation,
    catalog_schema::CatalogMutation,
);

/// Collection's subscriptions.
#[derive(async_graphql::MergedSubscription, Default)]
pub struct CollectionSubscription(schema::CoreSubscription, io_schema::IoSubscription);

/// Collection's job handlers: trigger, poll, ingest, provider-side cancel, the next run of a
/// schedule and export.
pub fn register(registry: crate::jobs::Registry) -> crate::jobs::Registry {
    registry
        .handler(steps::Trigger)
        .handler(steps::Poll)
        .handler(steps::Ingest)
        .handler(steps::Cancel)
        .handler(schedule::Repeat)
        .handler(export::Export)
}
