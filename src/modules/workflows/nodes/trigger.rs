//! Trigger nodes: where a run starts. Each passes the run's input on; they differ in what
//! starts them (`executeWorkflow`, a webhook call, the scheduler), which is the business of
//! the service and the engine, not of the node.

use serde::de::IgnoredAny;
use serde_json::{Value, json};

use super::{
    Out,
    kind::{MAIN, NONE, NodeCtx, NodeKind},
    main,
};

/// Node types whose key starts with this are triggers.
pub const PREFIX: &str = "trigger.";

pub(crate) struct ManualTrigger;

impl NodeKind for ManualTrigger {
    const KEY: &'static str = "trigger.manual";
    const CATEGORY: &'static str = "trigger";
    const NAME: &'static str = "Manual trigger";
    const DESCRIPTION: &'static str =
        "Starts the workflow from executeWorkflow; its output is the run's input.";
    const INPUTS: &'static [&'static str] = NONE;
    const OUTPUTS: &'static [&'static str] = MAIN;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 1_000;
    const REQUIRED: &'static [&'static str] = &[];
    type Config = IgnoredAny;

    fn properties() -> Value {
        json!({})
    }

    async fn run(&self, ctx: NodeCtx<'_>, _: IgnoredAny) -> Out {
        main(ctx.input.clone())
    }
}

pub(crate) struct WebhookTrigger;

impl NodeKind for WebhookTrigger {
    const KEY: &'static str = "trigger.webhook";
    const CATEGORY: &'static str = "trigger";
    const NAME: &'static str = "Webhook";
    const DESCRIPTION: &'static str =
        "Starts the workflow on POST /hooks/{workflow}/{token}; output is { body, headers, query }.";
    const INPUTS: &'static [&'static str] = NONE;
    const OUTPUTS: &'static [&'static str] = MAIN;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 1_000;
    const REQUIRED: &'static [&'static str] = &[];
    type Config = IgnoredAny;

    fn properties() -> Value {
        json!({})
    }

    async fn run(&self, ctx: NodeCtx<'_>, _: IgnoredAny) -> Out {
        main(ctx.input.clone())
    }
}

/// Its `cron` and `timezone` are read by the scheduler (`triggers::schedule::next_schedule`).
pub(crate) struct ScheduleTrigger;

impl NodeKind for ScheduleTrigger {
    const KEY: &'static str = "trigger.schedule";
    const CATEGORY: &'static str = "trigger";
    const NAME: &'static str = "Schedule";
    const DESCRIPTION: &'static str =
        "Starts the latest version on a cron schedule (5 or 6 fields, UTC or a time zone).";
    const INPUTS: &'static [&'static str] = NONE;
    const OUTPUTS: &'static [&'static str] = MAIN;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 1_000;
    const REQUIRED: &'static [&'static str] = &["cron"];
    type Config = IgnoredAny;

    fn properties() -> Value {
        json!({
            "cron": { "type": "string", "minLength": 9, "maxLength": 120, "description": "Cron expression, e.g. `*/5 * * * *`" },
            "timezone": { "type": "string", "maxLength": 64, "description": "IANA time zone, default UTC" },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, _: IgnoredAny) -> Out {
        main(ctx.input.clone())
    }
}
