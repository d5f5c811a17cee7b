//! Loop and Filter nodes.

#[allow(unused_imports)]
use super::*;

pub(super) async fn run_loop(
    runner: Arc<Runner>,
    spec: &NodeSpec,
    iteration: &str,
    config: &Value,
    outputs: &mut HashMap<String, Value>,
) -> Out {
    let items = match config.get("items") {
        Some(Value::Array(a)) => a.clone(),
        _ => return Err(NodeError::new("config", "config.items must evaluate to a list")),
    };
    let max = config.get("maxItems").and_then(Value::as_u64).unwrap_or(1000) as usize;
    if items.len() > max {
        return Err(NodeError::new("config", format!("{} items is more than maxItems ({max})", items.len())));
    }
    let body: BTreeSet<String> = runner.layout.loop_bodies.get(&spec.id).cloned().unwrap_or_default();
    let mut results = Vec::with_capacity(items.len());
    // The results pile up into this node's output: bounded as they come, not once all
    // iterations have each added their (individually bounded) output.
    let max_output = expr::Budget::of(&runner.app.config.workflows).max_output;
    let mut total = 0usize;
    for (i, item) in items.iter().enumerate() {
        let it = if iteration.is_empty() {
            format!("{}:{i}", spec.id)
        } else {
            format!("{iteration}/{}:{i}", spec.id)
        };
        let mut scoped = outputs.clone();
        let index = json!(i);
        let r = runner
            .clone()
            .run_flow(&body, &it, Some((&spec.id, item)), &mut scoped, item, &index)
            .await
            .map_err(stop_to_error)?;
        let r = r.unwrap_or(Value::Null);
        total = total.saturating_add(
            crate::modules::workflows::runtime::budget::json_len(&r, max_output).unwrap_or(usize::MAX),
        );
        if total > max_output {
            return Err(NodeError::new(
                "config",
                format!(
                    "the loop's results are larger than {max_output} bytes (ZYGO_WORKFLOW_MAX_OUTPUT_BYTES)"
                ),
            ));
        }
        results.push(r);
    }
    Ok(("done".into(), Value::Array(results)))
}

pub(super) fn stop_to_error(stop: crate::modules::workflows::runtime::Stop) -> NodeError {
    use crate::modules::workflows::runtime::Stop;
    match stop {
        Stop::NodeFailed { node, error } => NodeError::new("any", format!("`{node}` failed: {error}")),
        Stop::TimedOut => NodeError::new("timeout", "the run exceeded its timeout"),
        Stop::Lost => NodeError::new("internal", "cancelled"),
        Stop::Internal(e) => NodeError::new("internal", e),
        // The engine sees the park request itself and stops the enclosing node.
        Stop::Parked(_) => NodeError::new("internal", "parked"),
    }
}

pub(super) fn filter(
    runner: &Runner,
    spec: &NodeSpec,
    input: &Value,
    config: &Value,
    outputs: &HashMap<String, Value>,
    _index: &Value,
) -> Out {
    let items = match config.get("items") {
        Some(Value::Array(a)) => a.clone(),
        None => match input {
            Value::Array(a) => a.clone(),
            _ => return Err(NodeError::new("config", "the input is not a list; set config.items")),
        },
        _ => return Err(NodeError::new("config", "config.items must evaluate to a list")),
    };
    let condition = spec.config.get("condition").and_then(Value::as_str).unwrap_or("false");
    let mut kept = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let ctx = runner.context(input, outputs, &HashMap::new(), &item, &json!(i));
        let v = expr::eval_str(condition, &ctx, expr::Budget::of(&runner.app.config.workflows))
            .map_err(|e| NodeError::new("expression", format!("config.condition: {e}")))?;
        if expr::truthy(&v) {
            kept.push(item);
        }
    }
    main(Value::Array(kept))
}
