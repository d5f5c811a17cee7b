//! What starts a run: manual, webhook and schedule triggers. Every trigger enters the queue
//! through [`crate::modules::workflows::runtime::executions::enqueue`].

pub mod manual;
pub mod schedule;
pub mod webhook;
