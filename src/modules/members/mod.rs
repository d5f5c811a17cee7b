//! Members: invitations by e-mail, and managing who belongs to a tenant with which role.
//!
//! Owns the `invitations` table and every change to `memberships` after a tenant's
//! creation. Rules that keep a tenant safe live in [`service`]: nobody grants a role above
//! their own or manages someone at or above it (owners excepted), and the last owner can be
//! neither demoted, suspended nor removed — checked under a tenant lock, so two concurrent
//! demotions cannot leave a tenant without owner.

pub mod schema;
pub mod service;
pub mod types;

pub use schema::{MembersMutation, MembersQuery};
