//! What several node kinds share.

use super::NodeError;
use crate::modules::workflows::runtime::Stop;

pub(crate) mod access;
pub(crate) mod memory;
pub(crate) mod model;
pub(crate) mod net;
pub(crate) mod script;

/// The failure of a node that ran other nodes (a loop's body, an agent's tools).
pub(crate) fn stop_to_error(stop: Stop) -> NodeError {
    match stop {
        Stop::NodeFailed { node, error } => NodeError::new("any", format!("`{node}` failed: {error}")),
        Stop::TimedOut => NodeError::new("timeout", "the run exceeded its timeout"),
        Stop::Lost => NodeError::new("internal", "cancelled"),
        Stop::Internal(e) => NodeError::new("internal", e),
        // The engine sees the park request itself and stops the enclosing node.
        Stop::Parked(_) => NodeError::new("internal", "parked"),
    }
}
