//! Expressions in node configuration, evaluated by MiniJinja (Jinja2 syntax).
//!
//! A configuration string that is exactly one `{{ … }}` yields the expression's value with
//! its JSON type (`{{ nodes.fetch.output.body.items }}` is a list); any other string with
//! `{{`/`{%` renders as a template to a string. Undefined names are errors, and evaluation
//! runs on a fuel budget so no expression can spin forever.
//!
//! Variables: `input` (this node's input), `trigger` (the run's input), `nodes.<id>.output`,
//! `secrets.<NAME>`, `env.<NAME>`, `item` and `index` inside a Loop or Filter, `execution`.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

/// The names an expression may use.
pub const VARIABLES: &[&str] = &["input", "trigger", "nodes", "secrets", "env", "item", "index", "execution"];
/// Global functions of MiniJinja's builtins.
const FUNCTIONS: &[&str] = &["range", "dict", "namespace", "debug", "loop"];
/// Instructions one evaluation may run.
const FUEL: u64 = 200_000;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env
    })
}

/// A name an expression refers to.
#[derive(Debug, PartialEq, Eq)]
pub enum Ref {
    Node(String),
    Secret(String),
    Env(String),
    Other,
    Unknown(String),
}

fn has_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}

/// The inner expression when `s` is exactly one `{{ … }}`.
fn single_expression(s: &str) -> Option<&str> {
    let t = s.trim();
    let inner = t.strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}") && !inner.contains("{%")).then_some(inner.trim())
}

/// Does any string of `value` hold a template?
pub fn has_templates(value: &Value) -> bool {
    match value {
        Value::String(s) => has_template(s),
        Value::Array(items) => items.iter().any(has_templates),
        Value::Object(map) => map.values().any(has_templates),
        _ => false,
    }
}

/// Every string with a template in `value`, with its path (`.url`, `.headers.Accept`, `.0`).
pub fn strings(value: &Value) -> Vec<(String, String)> {
    fn walk(v: &Value, path: String, out: &mut Vec<(String, String)>) {
        match v {
            Value::String(s) if has_template(s) => out.push((path, s.clone())),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, format!("{path}.{i}"), out);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    walk(item, format!("{path}.{k}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

/// The variables `source` refers to; `Err` if it does not parse.
pub fn references(source: &str) -> Result<Vec<Ref>, String> {
    let vars = match single_expression(source) {
        Some(inner) => env().compile_expression(inner).map_err(|e| e.to_string())?.undeclared_variables(true),
        None => env().template_from_str(source).map_err(|e| e.to_string())?.undeclared_variables(true),
    };
    let mut out: Vec<Ref> = vars
        .into_iter()
        .map(|v| {
            let mut parts = v.split('.');
            let root = parts.next().unwrap_or_default();
            let second = parts.next().map(str::to_string);
            match (root, second) {
                ("nodes", Some(id)) => Ref::Node(id),
                ("secrets", Some(name)) => Ref::Secret(name),
                ("env", Some(name)) => Ref::Env(name),
                (r, _) if VARIABLES.contains(&r) || FUNCTIONS.contains(&r) => Ref::Other,
                (r, _) => Ref::Unknown(r.to_string()),
            }
        })
        .collect();
    out.sort_by_key(|r| format!("{r:?}"));
    Ok(out)
}

/// The secret names `config` refers to.
pub fn secret_names(config: &Value) -> std::collections::BTreeSet<String> {
    strings(config)
        .into_iter()
        .filter_map(|(_, s)| references(&s).ok())
        .flatten()
        .filter_map(|r| if let Ref::Secret(n) = r { Some(n) } else { None })
        .collect()
}

/// Evaluates one string.
pub fn eval_str(source: &str, ctx: &minijinja::Value) -> Result<Value, String> {
    if let Some(inner) = single_expression(source) {
        let expr = env().compile_expression(inner).map_err(|e| describe(&e))?;
        let v = expr.eval(ctx).map_err(|e| describe(&e))?;
        if v.is_undefined() {
            return Err(format!("undefined value: `{inner}` names nothing"));
        }
        return serde_json::to_value(&v).map_err(|e| e.to_string());
    }
    env().render_str(source, ctx).map(Value::String).map_err(|e| describe(&e))
}

fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.to_string(),
    }
}

/// `value` with every template string evaluated; errors name the path.
pub fn render(value: &Value, ctx: &minijinja::Value) -> Result<Value, String> {
    fn walk(v: &Value, path: &str, ctx: &minijinja::Value) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) if has_template(s) => {
                eval_str(s, ctx).map_err(|e| format!("config{path}: {e}"))?
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| walk(item, &format!("{path}.{i}"), ctx))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, item)| Ok((k.clone(), walk(item, &format!("{path}.{k}"), ctx)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }
    walk(value, "", ctx)
}

/// Jinja truthiness of a JSON value (as a Conditional reads its condition).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty() && s != "false",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Replaces every occurrence of a secret value in `value`'s strings by `[secret:NAME]`.
pub fn redact(value: &mut Value, secrets: &[(String, String)]) {
    if secrets.is_empty() {
        return;
    }
    match value {
        Value::String(s) => *s = redact_str(s, secrets),
        Value::Array(items) => items.iter_mut().for_each(|i| redact(i, secrets)),
        Value::Object(map) => map.values_mut().for_each(|i| redact(i, secrets)),
        _ => {}
    }
}

pub fn redact_str(s: &str, secrets: &[(String, String)]) -> String {
    let mut out = s.to_string();
    for (name, value) in secrets {
        if value.len() >= 3 && out.contains(value.as_str()) {
            out = out.replace(value.as_str(), &format!("[secret:{name}]"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_expressions_keep_their_type_and_templates_render() {
        let ctx = minijinja::Value::from_serialize(json!({
            "nodes": { "fetch": { "output": { "body": { "items": [1, 2, 3] } } } },
            "env": { "REGION": "eu" },
        }));
        assert_eq!(eval_str("{{ nodes.fetch.output.body.items }}", &ctx).unwrap(), json!([1, 2, 3]));
        assert_eq!(eval_str("region-{{ env.REGION }}", &ctx).unwrap(), json!("region-eu"));
        assert_eq!(eval_str("{{ nodes.fetch.output.body.items | length > 2 }}", &ctx).unwrap(), json!(true));
        assert!(eval_str("{{ env.MISSING }}", &ctx).is_err(), "undefined is an error");
        assert!(
            eval_str(
                "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
                &ctx
            )
            .is_err(),
            "fuel"
        );
    }

    #[test]
    fn references_are_found() {
        let refs = references("{{ nodes.fetch.output }} {{ secrets.KEY }} {{ env.R }} {{ bogus }}").unwrap();
        assert!(refs.contains(&Ref::Node("fetch".into())));
        assert!(refs.contains(&Ref::Secret("KEY".into())));
        assert!(refs.contains(&Ref::Env("R".into())));
        assert!(refs.contains(&Ref::Unknown("bogus".into())));
        assert!(references("{{ nodes. }}").is_err());
    }

    #[test]
    fn redaction_replaces_values() {
        let mut v = json!({ "a": "token=s3cr3t!", "b": ["s3cr3t!"] });
        redact(&mut v, &[("API".into(), "s3cr3t!".into())]);
        assert_eq!(v, json!({ "a": "token=[secret:API]", "b": ["[secret:API]"] }));
    }
}
