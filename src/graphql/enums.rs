//! GraphQL faces of stored enums that more than one module's schema uses (a module's own
//! enums stay in its `types.rs`). Each mirrors an `entity` ActiveEnum, so the stored value,
//! the domain type and the GraphQL enum cannot drift apart.

/// A member's role inside a team, for the team's resources.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::team_member::TeamRole")]
pub enum TeamRole {
    Owner,
    Editor,
    Viewer,
}
