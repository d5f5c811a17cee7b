//! Teams inside a tenant: groups of members, each with a team-scoped role (owner, editor,
//! viewer) for the team's resources.
//!
//! Owns the `teams` and `team_members` tables. A team is managed by those with
//! `teams.manage` in the tenant and by the team's own owners; deleting a team needs
//! `teams.manage`.

pub mod loaders;
pub mod schema;
pub mod service;
pub mod types;

pub use schema::TeamsMutation;
