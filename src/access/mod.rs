//! Access decisions below the modules: the role graph every tenant context carries. Nothing
//! here imports the domain modules; the architecture test in the suite keeps it so.

pub mod role_graph;

pub use role_graph::RoleGraph;
