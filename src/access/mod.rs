//! Access decisions below the modules: who acts as which member of which tenant
//! ([`TenantCtx`]), the role graph it carries, the audit trail, and the one unit of work
//! every tenant mutation goes through ([`TenantTx`]). Nothing here imports the domain
//! modules; the architecture test in the suite keeps it so.

pub mod audit;
pub mod cache;
pub mod check;
pub mod features;
pub mod loader;
pub mod platform;
pub mod role_graph;
pub mod support;
pub mod tenant_ctx;
pub mod tx;

pub use audit::{Actor, Change};
pub use cache::{AccessCache, AccessChanged};
pub use check::{access, access_one, require_mfa_met};
pub use role_graph::RoleGraph;
pub use tenant_ctx::TenantCtx;
pub use tx::TenantTx;
