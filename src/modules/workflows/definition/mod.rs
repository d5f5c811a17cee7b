//! What a workflow is: the graph and its validation, the draft's edits, versions, templates.

pub mod edits;
pub mod graph;
pub mod templates;
pub mod versions;
pub mod workflows;
