//! The Code node's sandbox: Rhai scripts with operation, size and time limits.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::modules::workflows::{
    nodes::NodeError,
    runtime::{budget::json_len, expr},
};

/// Sets the flag when dropped: a script whose node timed out or was cancelled stops at its
/// next operation.
pub(crate) struct StopOnDrop(pub(crate) Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The limits of one Code node run.
pub struct ScriptLimits {
    /// `config.maxOperations`.
    pub max_ops: u64,
    /// When the node's timeout is up, and that timeout (for the message).
    pub deadline: Instant,
    pub timeout: Duration,
    /// The same byte and item budget as expressions: the script's strings, arrays and maps,
    /// and its result (`max_output` as JSON).
    pub budget: expr::Budget,
}

/// A fresh engine with the language's standard package, built once per process and shared:
/// `Engine::new` builds that package (hundreds of functions) anew for every engine, which
/// was a large part of a trivial Code node's time.
fn engine() -> rhai::Engine {
    use rhai::packages::Package;
    static STANDARD: std::sync::OnceLock<rhai::Shared<rhai::Module>> = std::sync::OnceLock::new();
    let mut engine = rhai::Engine::new_raw();
    engine.set_max_strings_interned(256);
    engine.register_global_module(
        STANDARD.get_or_init(|| rhai::packages::StandardPackage::new().as_shared_module()).clone(),
    );
    engine
}

/// Runs a Rhai script with no access to files, network or the host: only the language's
/// core packages, with caps on operations, call depth and the size of strings, arrays and
/// maps (the script's memory), and a wall-clock deadline. Running out of time is "timed out
/// after N ms", whichever of the script's own check or the engine's timer notices first.
pub fn run_script(
    source: &str,
    input: Value,
    trigger: Value,
    limits: ScriptLimits,
    stop: Arc<AtomicBool>,
) -> Result<(Value, Vec<String>), NodeError> {
    let ScriptLimits { max_ops, deadline, timeout, budget } = limits;
    let mut engine = engine();
    engine
        .set_max_operations(max_ops)
        .set_max_call_levels(32)
        .set_max_expr_depths(64, 32)
        .set_max_string_size(budget.max_bytes)
        .set_max_array_size(budget.max_items)
        .set_max_map_size(budget.max_items)
        .set_max_variables(1_000)
        .set_max_functions(100);
    let cancelled = stop.clone();
    engine.on_progress(move |_| {
        if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
            Some(rhai::Dynamic::UNIT)
        } else {
            None
        }
    });
    let printed = Arc::new(std::sync::Mutex::new(Vec::new()));
    {
        let p = printed.clone();
        engine.on_print(move |s| {
            let mut p = p.lock().expect("lock");
            if p.len() < 1000 {
                p.push(s.chars().take(2000).collect());
            }
        });
        let p = printed.clone();
        engine.on_debug(move |s, _, _| {
            let mut p = p.lock().expect("lock");
            if p.len() < 1000 {
                p.push(s.chars().take(2000).collect());
            }
        });
    }
    let script_err = |e: Box<rhai::EvalAltResult>| match *e {
        // Stopped by `on_progress`: the deadline passed, or the node was cancelled.
        rhai::EvalAltResult::ErrorTerminated(..) if cancelled.load(Ordering::Relaxed) => {
            NodeError::new("internal", "cancelled")
        }
        rhai::EvalAltResult::ErrorTerminated(..) => {
            NodeError::new("timeout", format!("timed out after {} ms", timeout.as_millis()))
        }
        // Rhai's own size checks: say which of our limits they are.
        e @ rhai::EvalAltResult::ErrorDataTooLarge(..) => NodeError::new(
            "script",
            format!(
                "{e} (ZYGO_WORKFLOW_MAX_VALUE_BYTES: {} bytes, ZYGO_WORKFLOW_MAX_ITEMS: {} items)",
                budget.max_bytes, budget.max_items
            ),
        ),
        e => NodeError::new("script", e.to_string()),
    };
    let mut scope = rhai::Scope::new();
    scope.push_dynamic("input", rhai::serde::to_dynamic(&input).map_err(script_err)?);
    scope.push_dynamic("trigger", rhai::serde::to_dynamic(&trigger).map_err(script_err)?);
    let result: rhai::Dynamic = engine.eval_with_scope(&mut scope, source).map_err(script_err)?;
    // A small script can return one string many times over (an array of shared strings):
    // measured as JSON, without copying, before it is converted.
    if json_len(&result, budget.max_output).is_err() {
        return Err(NodeError::new(
            "script",
            format!(
                "the script's result is larger than {} bytes (ZYGO_WORKFLOW_MAX_OUTPUT_BYTES)",
                budget.max_output
            ),
        ));
    }
    let value: Value = if result.is_unit() {
        Value::Null
    } else {
        rhai::serde::from_dynamic(&result).map_err(script_err)?
    };
    let printed = std::mem::take(&mut *printed.lock().expect("lock"));
    Ok((value, printed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A script stopped by its own deadline says "timed out after N ms" (it said "Script
    /// terminated (line 1, position 6)" when it noticed before the engine's timer did, which
    /// under CPU load it often does); one stopped by a cancel says so.
    #[test]
    fn a_script_past_its_deadline_reports_a_timeout_not_a_termination() {
        let limits = || ScriptLimits {
            max_ops: 1_000_000_000,
            deadline: Instant::now(),
            timeout: Duration::from_millis(250),
            budget: expr::Budget::default(),
        };
        let err =
            run_script("loop { }", Value::Null, Value::Null, limits(), Arc::new(AtomicBool::new(false)))
                .expect_err("stopped");
        assert_eq!((err.kind, err.message.as_str()), ("timeout", "timed out after 250 ms"));
        let mut later = limits();
        later.deadline = Instant::now() + Duration::from_secs(3600);
        let err = run_script("loop { }", Value::Null, Value::Null, later, Arc::new(AtomicBool::new(true)))
            .expect_err("stopped");
        assert_eq!(err.message, "cancelled");
    }
}
