//! The walk of a run's graph: flows, loops and branches, one node's attempts with retries
//! and back-off, and what a node's failure or cancellation leaves behind.

#[allow(unused_imports)]
use super::*;
use crate::modules::workflows::nodes::{ManualTrigger, NodeKind, ScheduleTrigger, WebhookTrigger};

impl Runner {
    /// Runs the main flow; the run's output is the output of its last node.
    pub(super) async fn run_main(self: Arc<Self>) -> Result<Value, Stop> {
        let ids = self.graph.main_nodes(&self.layout);
        let mut outputs = HashMap::new();
        let last = self.clone().run_flow(&ids, "", None, &mut outputs, &Value::Null, &Value::Null).await?;
        Ok(last.unwrap_or(Value::Null))
    }

    /// Runs the nodes `ids` in order. `entry` activates the edges leaving `(loop, port)`
    /// with a value (a loop body's item). Returns the output of the last node that ran.
    pub(crate) fn run_flow<'a>(
        self: Arc<Self>,
        ids: &'a BTreeSet<String>,
        iteration: &'a str,
        entry: Option<(&'a str, &'a Value)>,
        outputs: &'a mut HashMap<String, Value>,
        item: &'a Value,
        index: &'a Value,
    ) -> futures::future::BoxFuture<'a, Result<Option<Value>, Stop>> {
        Box::pin(async move {
            let order = self
                .graph
                .topological(&self.layout, ids)
                .map_err(|n| Stop::NodeFailed { node: n, error: "the node is on a cycle".into() })?;
            let mut emitted: HashMap<String, (String, Value)> = HashMap::new();
            let mut last = None;
            let trigger_kind = match self.exec.trigger {
                ExecutionTrigger::Webhook => WebhookTrigger::KEY,
                ExecutionTrigger::Schedule => ScheduleTrigger::KEY,
                _ => ManualTrigger::KEY,
            };
            let any_matching = self.graph.nodes.iter().any(|n| n.node_type == trigger_kind);
            for id in order {
                self.check()?;
                let spec = self.graph.node(&id).expect("ordered ids are nodes").clone();
                let key = (id.clone(), iteration.to_string());
                let input = if spec.is_trigger() {
                    if any_matching && spec.node_type != trigger_kind {
                        None
                    } else {
                        Some(self.exec.input.clone())
                    }
                } else {
                    let active: Vec<Value> = self
                        .graph
                        .incoming(&id)
                        .filter_map(|e| match entry {
                            Some((src, v)) if e.source == src && e.source_port == "body" => Some(v.clone()),
                            _ => emitted
                                .get(&e.source)
                                .filter(|(port, _)| *port == e.source_port)
                                .map(|(_, v)| v.clone()),
                        })
                        .collect();
                    match active.len() {
                        0 => None,
                        1 => active.into_iter().next(),
                        _ => Some(Value::Array(active)),
                    }
                };
                let Some(input) = input else {
                    if !self.done.contains_key(&key) {
                        self.record_node(
                            &spec,
                            iteration,
                            NodeStatus::Skipped,
                            0,
                            None,
                            None,
                            None,
                            Utc::now(),
                            false,
                        )
                        .await?;
                        self.publish_node(NodeEvent {
                            node_id: id.clone(),
                            iteration: iteration.to_string(),
                            status: NodeStatus::Skipped,
                            attempt: 0,
                            port: None,
                            error: None,
                        })
                        .await;
                    }
                    continue;
                };
                let (port, output) = match self.done.get(&key) {
                    Some(d) if d.status != NodeStatus::Skipped => {
                        (d.port.clone().unwrap_or_else(|| "main".into()), d.output.clone())
                    }
                    _ => self.clone().run_node(&spec, iteration, input, outputs, item, index).await?,
                };
                outputs.insert(id.clone(), output.clone());
                last = Some(output.clone());
                emitted.insert(id, (port, output));
            }
            Ok(last)
        })
    }

    /// Builds the expression context of a node.
    pub(crate) fn context(
        &self,
        input: &Value,
        outputs: &HashMap<String, Value>,
        secrets: &HashMap<String, String>,
        item: &Value,
        index: &Value,
    ) -> minijinja::Value {
        let nodes: serde_json::Map<String, Value> =
            outputs.iter().map(|(k, v)| (k.clone(), json!({ "output": v }))).collect();
        minijinja::Value::from_serialize(json!({
            "input": input,
            "trigger": self.exec.input,
            "nodes": nodes,
            "secrets": secrets,
            "env": self.env,
            "item": item,
            "index": index,
            "execution": { "id": self.exec.id, "workflowId": self.exec.workflow_id, "trigger": self.exec.trigger },
        }))
    }

    /// Runs one node with its retry policy and timeout. Returns the port it emitted on and
    /// its output; a failure routed to an `error` edge is returned as `("error", …)`.
    pub(crate) fn run_node<'a>(
        self: Arc<Self>,
        spec: &'a NodeSpec,
        iteration: &'a str,
        input: Value,
        outputs: &'a mut HashMap<String, Value>,
        item: &'a Value,
        index: &'a Value,
    ) -> futures::future::BoxFuture<'a, Result<(String, Value), Stop>> {
        Box::pin(async move {
            let key = (spec.id.clone(), iteration.to_string());
            let safe = spec.safe_to_repeat();
            // A resumed node keeps its first start (a parked Delay, say).
            let started = self.interrupted.get(&key).copied().unwrap_or_else(Utc::now);
            let has_error_edge = self.graph.outgoing(&spec.id).any(|e| e.source_port == "error");
            if self.interrupted.contains_key(&key) && !safe {
                let msg = "interrupted while running when its worker stopped; not run again because it is not safe to repeat".to_string();
                return self.node_failed(spec, iteration, 1, &input, msg, started, has_error_edge).await;
            }
            // Secrets this node refers to: read (and logged) once per node run; expressions
            // see only their markers (see `expr::SecretSet`).
            let names = expr::secret_names(&spec.config);
            let secrets = expr::SecretSet::new(if names.is_empty() {
                HashMap::new()
            } else {
                let s = crate::modules::secrets::service::resolve_for_run(
                    &self.app,
                    self.scope,
                    &names,
                    self.exec.id,
                    &spec.id,
                )
                .await
                .map_err(|e| Stop::Internal(e.to_string()))?;
                self.secrets.lock().expect("lock").extend(s.iter().map(|(k, v)| (k.clone(), v.clone())));
                s
            });
            let kind = spec.kind();
            // The configuration the engine evaluates: without the keys the node evaluates
            // per item, and not evaluated at all when it holds no expression.
            let mut base_config = spec.config.clone();
            if let (Some(k), Some(o)) = (kind, base_config.as_object_mut()) {
                for key in k.per_item {
                    o.remove(*key);
                }
            }
            let templated = expr::has_templates(&base_config);
            let policy = spec.retry.clone();
            let max_attempts = policy.as_ref().map(|p| p.max_attempts.clamp(1, 10)).unwrap_or(1);
            let mut attempt = 1;
            loop {
                self.check()?;
                if !safe || kind.is_some_and(|k| k.checkpoint_before) {
                    // A durability point: everything before is written, and this node is
                    // known to be in flight — with its start time — if the worker dies now,
                    // while it waits (a parked run), and for anyone who looks meanwhile.
                    // Written before it is announced, so a client that hears RUNNING finds
                    // the row.
                    let written = self
                        .record_node(
                            spec,
                            iteration,
                            NodeStatus::Running,
                            attempt,
                            Some(&input),
                            None,
                            None,
                            started,
                            true,
                        )
                        .await;
                    if let Err(Stop::Lost) = written {
                        self.node_cancelled(spec, iteration, attempt).await;
                    }
                    written?;
                }
                self.publish_node(NodeEvent {
                    node_id: spec.id.clone(),
                    iteration: iteration.to_string(),
                    status: NodeStatus::Running,
                    attempt,
                    port: None,
                    error: None,
                })
                .await;
                let config = if templated {
                    expr::render(
                        &base_config,
                        &self.context(&input, outputs, &secrets.markers(), item, index),
                        expr::Budget::of(&self.app.config.workflows),
                    )
                } else {
                    Ok(base_config.clone())
                };
                let timeout = spec.timeout().min(self.deadline.saturating_duration_since(Instant::now()));
                let result = match config {
                    Err(e) => Err(NodeError::new("expression", e)),
                    Ok(config) => {
                        // A node that cannot be resumed keeps the run from parking under it.
                        let _hold = (!safe).then(|| Hold::new(&self.holds));
                        let fut = nodes::execute(
                            self.clone(),
                            spec,
                            iteration,
                            &input,
                            &config,
                            &secrets,
                            outputs,
                            item,
                            index,
                        );
                        tokio::select! {
                            r = tokio::time::timeout(timeout, fut) => match r {
                                Ok(r) => r,
                                Err(_) if Instant::now() >= self.deadline => return Err(Stop::TimedOut),
                                Err(_) => Err(NodeError::new("timeout", format!("timed out after {} ms", timeout.as_millis()))),
                            },
                            _ = self.cancel.cancelled() => {
                                self.node_cancelled(spec, iteration, attempt).await;
                                return Err(Stop::Lost);
                            }
                        }
                    }
                };
                // A Delay in this node (itself, or in a loop body under it) parked the run:
                // nothing is recorded, the run resumes here when it wakes.
                if result.is_err()
                    && let Some(until) = *self.park.lock().expect("lock")
                {
                    return Err(Stop::Parked(until));
                }
                match result {
                    Ok((port, mut output)) => {
                        self.redact_value(&mut output);
                        self.record_node(
                            spec,
                            iteration,
                            NodeStatus::Succeeded,
                            attempt,
                            Some(&input),
                            Some((&port, &output)),
                            None,
                            started,
                            !safe,
                        )
                        .await?;
                        self.publish_node(NodeEvent {
                            node_id: spec.id.clone(),
                            iteration: iteration.to_string(),
                            status: NodeStatus::Succeeded,
                            attempt,
                            port: Some(port.clone()),
                            error: None,
                        })
                        .await;
                        return Ok((port, output));
                    }
                    Err(err) => {
                        let message = self.redact(&err.message);
                        let retryable = err.kind != "expression"
                            && policy.as_ref().is_some_and(|p| err.matches(&p.retry_on));
                        if attempt < max_attempts && retryable {
                            let delay =
                                backoff_delay(policy.as_ref().expect("retryable has a policy"), attempt);
                            self.log(
                                Some(&spec.id),
                                LogLevel::Warn,
                                format!(
                                    "attempt {attempt} failed ({}): {message}; retrying in {} ms",
                                    err.kind,
                                    delay.as_millis()
                                ),
                            );
                            self.publish_node(NodeEvent {
                                node_id: spec.id.clone(),
                                iteration: iteration.to_string(),
                                status: NodeStatus::Retrying,
                                attempt,
                                port: None,
                                error: Some(message),
                            })
                            .await;
                            tokio::select! {
                                _ = tokio::time::sleep(delay) => {}
                                _ = self.cancel.cancelled() => {
                                    self.node_cancelled(spec, iteration, attempt).await;
                                    return Err(Stop::Lost);
                                }
                            }
                            attempt += 1;
                            continue;
                        }
                        return self
                            .node_failed(spec, iteration, attempt, &input, message, started, has_error_edge)
                            .await;
                    }
                }
            }
        })
    }
}

/// Counts a node in flight that cannot be resumed, for as long as it lives.
pub(super) struct Hold<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Hold<'a> {
    pub(super) fn new(count: &'a std::sync::atomic::AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Wait before attempt `attempt + 1`.
pub(super) fn backoff_delay(
    policy: &crate::modules::workflows::definition::graph::RetryPolicy,
    attempt: i32,
) -> Duration {
    let base = policy.delay_ms.clamp(0, 3_600_000) as u64;
    let ms = match policy.backoff {
        Backoff::Fixed => base,
        Backoff::Exponential => base.saturating_mul(1u64 << (attempt - 1).clamp(0, 20)),
    };
    Duration::from_millis(ms.min(3_600_000))
}

impl Runner {
    /// A node failed for good: recorded, and either routed to its `error` edge or the end of
    /// the run.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn node_failed(
        &self,
        spec: &NodeSpec,
        iteration: &str,
        attempt: i32,
        input: &Value,
        message: String,
        started: chrono::DateTime<Utc>,
        has_error_edge: bool,
    ) -> Result<(String, Value), Stop> {
        self.log(Some(&spec.id), LogLevel::Error, format!("failed: {message}"));
        let routed = json!({ "error": message, "nodeId": spec.id });
        self.record_node(
            spec,
            iteration,
            NodeStatus::Failed,
            attempt,
            Some(input),
            has_error_edge.then_some(("error", &routed)),
            Some(&message),
            started,
            true,
        )
        .await?;
        self.publish_node(NodeEvent {
            node_id: spec.id.clone(),
            iteration: iteration.to_string(),
            status: NodeStatus::Failed,
            attempt,
            port: has_error_edge.then(|| "error".to_string()),
            error: Some(message.clone()),
        })
        .await;
        if has_error_edge {
            Ok(("error".into(), routed))
        } else {
            Err(Stop::NodeFailed { node: spec.id.clone(), error: message })
        }
    }

    /// The node in flight when the run was cancelled: its row says so (a row that never
    /// finished, so nothing is overwritten), and subscribers hear it.
    pub(super) async fn node_cancelled(&self, spec: &NodeSpec, iteration: &str, attempt: i32) {
        use node_execution::Column as N;
        let row = node_execution::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(self.exec.tenant_id),
            execution_id: Set(self.exec.id),
            node_id: Set(spec.id.clone()),
            iteration: Set(iteration.to_string()),
            status: Set(NodeStatus::Cancelled),
            port: Set(None),
            input: Set(None),
            output: Set(None),
            error: Set(Some("cancelled".into())),
            attempt: Set(attempt),
            reused: Set(false),
            started_at: Set(None),
            finished_at: Set(Some(Utc::now())),
        };
        let _ = self
            .scope
            .insert_many([row])
            .on_conflict(
                OnConflict::columns([N::ExecutionId, N::NodeId, N::Iteration])
                    .update_columns([N::Status, N::Error, N::FinishedAt])
                    .to_owned(),
            )
            .exec(&self.scope.on(&self.app.db))
            .await;
        self.publish_node(NodeEvent {
            node_id: spec.id.clone(),
            iteration: iteration.to_string(),
            status: NodeStatus::Cancelled,
            attempt,
            port: None,
            error: None,
        })
        .await;
    }
}
