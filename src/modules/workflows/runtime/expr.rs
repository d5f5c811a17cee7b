//! Expressions in node configuration, evaluated by MiniJinja (Jinja2 syntax).
//!
//! A configuration string that is exactly one `{{ … }}` yields the expression's value with
//! its JSON type (`{{ nodes.fetch.output.body.items }}` is a list); any other string with
//! `{{`/`{%` renders as a template to a string. Undefined names are errors, and evaluation
//! runs on a fuel budget so no expression can spin forever, and on a byte and item budget
//! ([`crate::modules::workflows::runtime::budget`]) so none can fill the server's memory.
//!
//! `secrets.<NAME>` is never the secret's value: it is a marker ([`SecretSet`]) that only
//! the outgoing request of an HTTP, LLM, AI Agent or Email node replaces by the value, when
//! it sends. Filters, string operations and Code nodes see and transform the marker, so
//! nothing a run stores or logs can hold the value, however it was transformed.
//!
//! Variables: `input` (this node's input), `trigger` (the run's input), `nodes.<id>.output`,
//! `secrets.<NAME>`, `env.<NAME>`, `item` and `index` inside a Loop or Filter, `execution`.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

use crate::modules::workflows::runtime::budget;
pub use crate::modules::workflows::runtime::budget::Budget;

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
        budget::install(&mut env);
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

/// Evaluates one string within `budget`.
pub fn eval_str(source: &str, ctx: &minijinja::Value, budget: Budget) -> Result<Value, String> {
    budget::metered(budget, || eval_metered(source, ctx, budget))
}

fn eval_metered(source: &str, ctx: &minijinja::Value, budget: Budget) -> Result<Value, String> {
    if let Some(inner) = single_expression(source) {
        let v = budget::eval(env(), inner, ctx).map_err(|e| describe(&e))?;
        if v.is_undefined() {
            return Err(format!("undefined value: `{inner}` names nothing"));
        }
        // Copied into JSON: measured first (a lazy `[big] * 1000` is small until copied).
        let n = budget::json_len(&v, budget.max_output).map_err(budget::too_big)?;
        budget::charge_value(n)?;
        return serde_json::to_value(&v).map_err(|e| e.to_string());
    }
    budget::render(env(), source, ctx).map(Value::String).map_err(|e| describe(&e))
}

fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.to_string(),
    }
}

/// `value` with every template string evaluated, all of them together within `budget`;
/// errors name the path.
pub fn render(value: &Value, ctx: &minijinja::Value, budget: Budget) -> Result<Value, String> {
    budget::metered(budget, || walk(value, "", ctx, budget))
}

fn walk(v: &Value, path: &str, ctx: &minijinja::Value, budget: Budget) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) if has_template(s) => {
            eval_metered(s, ctx, budget).map_err(|e| format!("config{path}: {e}"))?
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| walk(item, &format!("{path}.{i}"), ctx, budget))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, item)| Ok((k.clone(), walk(item, &format!("{path}.{k}"), ctx, budget)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
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

/// The secrets one node run refers to. In its expressions each is a marker
/// `⟦secret:NAME:NONCE⟧`, never the value; only [`SecretSet::reveal`], called by the nodes
/// that send a request (HTTP, LLM, AI Agent, Email) on what they send, puts the values in.
/// The nonce is fresh for every node run, so a marker that arrives as data (a run's input,
/// a server's answer) or one left over from another node is never replaced.
#[derive(Default)]
pub struct SecretSet {
    nonce: String,
    values: Vec<(String, String)>,
}

const MARK_OPEN: &str = "\u{27e6}secret:";
const MARK_CLOSE: char = '\u{27e7}';

impl SecretSet {
    pub fn new(values: impl IntoIterator<Item = (String, String)>) -> Self {
        Self { nonce: uuid::Uuid::new_v4().simple().to_string(), values: values.into_iter().collect() }
    }

    fn marker(&self, name: &str) -> String {
        format!("{MARK_OPEN}{name}:{}{MARK_CLOSE}", self.nonce)
    }

    /// The `secrets` variable of expressions: each name with its marker.
    pub fn markers(&self) -> std::collections::HashMap<String, String> {
        self.values.iter().map(|(name, _)| (name.clone(), self.marker(name))).collect()
    }

    /// `s` with this node run's markers replaced by the secrets' values: only for what a
    /// node sends, never for what is stored.
    pub fn reveal_str(&self, s: &str) -> String {
        let mut out = s.to_string();
        if !out.contains(MARK_OPEN) {
            return out;
        }
        for (name, value) in &self.values {
            out = out.replace(&self.marker(name), value);
        }
        out
    }

    /// `value` with [`SecretSet::reveal_str`] applied to every string (and map key).
    pub fn reveal(&self, value: &Value) -> Value {
        if self.values.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.reveal_str(s)),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.reveal(i)).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (self.reveal_str(k), self.reveal(v))).collect())
            }
            other => other.clone(),
        }
    }
}

/// Every whole secret marker in `s` (of any node run) as `[secret:NAME]`.
fn mask_markers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(MARK_OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i + MARK_OPEN.len()..];
        match after.find(MARK_CLOSE) {
            Some(j) => {
                let inner = &after[..j];
                let name = inner.rsplit_once(':').map(|(n, _)| n).unwrap_or(inner);
                out.push_str(&format!("[secret:{name}]"));
                rest = &after[j + MARK_CLOSE.len_utf8()..];
            }
            None => {
                out.push_str(MARK_OPEN);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replaces every secret marker and every occurrence of a secret value in `value`'s strings
/// by `[secret:NAME]`.
pub fn redact(value: &mut Value, secrets: &[(String, String)]) {
    match value {
        Value::String(s) => *s = redact_str(s, secrets),
        Value::Array(items) => items.iter_mut().for_each(|i| redact(i, secrets)),
        Value::Object(map) => map.values_mut().for_each(|i| redact(i, secrets)),
        _ => {}
    }
}

/// `s` as it may be stored or shown: markers masked, and values (a server echoing what it
/// was sent) replaced.
pub fn redact_str(s: &str, secrets: &[(String, String)]) -> String {
    let mut out = if s.contains(MARK_OPEN) { mask_markers(s) } else { s.to_string() };
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

    const B: Budget = Budget { max_bytes: 1 << 20, max_items: 100_000, max_output: 16 << 20 };

    #[test]
    fn single_expressions_keep_their_type_and_templates_render() {
        let ctx = minijinja::Value::from_serialize(json!({
            "nodes": { "fetch": { "output": { "body": { "items": [1, 2, 3] } } } },
            "env": { "REGION": "eu" },
        }));
        assert_eq!(eval_str("{{ nodes.fetch.output.body.items }}", &ctx, B).unwrap(), json!([1, 2, 3]));
        assert_eq!(eval_str("region-{{ env.REGION }}", &ctx, B).unwrap(), json!("region-eu"));
        assert_eq!(
            eval_str("{{ nodes.fetch.output.body.items | length > 2 }}", &ctx, B).unwrap(),
            json!(true)
        );
        assert!(eval_str("{{ env.MISSING }}", &ctx, B).is_err(), "undefined is an error");
        assert!(
            eval_str(
                "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
                &ctx,
                Budget { max_bytes: usize::MAX, ..B }
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

    /// Each of these would build a gigabyte or more in a handful of instructions; each is
    /// refused before it allocates, naming the limit.
    #[test]
    fn amplifiers_are_refused_before_they_allocate() {
        let ctx = minijinja::Value::from_serialize(json!({ "input": { "s": "abcdefgh" } }));
        for source in [
            "{{ 'x' * 1000000000 }}",
            "{{ ('x' * 1000000) ~ ('x' * 1000000) }}",
            "{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
            "{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}",
            "{{ (['y' * 1000000] * 2000) | join(',') }}",
            "{{ range(100000) | join('x' * 100000) }}",
            "{{ input.s | replace('', 'z' * 900000) }}",
            "{{ input.s | indent(1000000000) }}",
            "{{ '%1000000000s' | format('a') }}",
            "{{ ([1] * 1000000000) | length }}",
            "{{ (['y' * 1000000] * 2000) | tojson }}",
            "{{ (['y' * 1000000] * 2000) | string }}",
            "{{ [1] | batch(1000000000, 0) | list }}",
            "{% for i in range(100000) %}{% for j in range(10) %}{{ 'y' * 1000 }}{% endfor %}{% endfor %}",
            "{% for i in range(2000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}",
            "{{ [('y' * 1000000)] * 100 }}",
            "{{ ('x' * 99999999) | length }}",
            "{{ ([1] * 1000000000) ~ '' }}",
            "{{ 'x' * (10 ** 8) }}",
            "{{ ('x' * 1000) * 1000 * 1000 }}",
            "{% set ns = namespace(l=range(1000)) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l | list | length }}",
            "{% set ns = namespace(l=range(1000)) %}{% for i in range(40) %}{% set ns.l = ns.l | chain(ns.l) %}{% endfor %}{{ ns.l | list | length }}",
            "{{ 1000000 * ('ab' ~ 'cd') }}",
        ] {
            let started = std::time::Instant::now();
            let err = match eval_str(source, &ctx, B) {
                Ok(v) => panic!("{source}: not refused, {} bytes", v.to_string().len()),
                Err(e) => e,
            };
            assert!(err.contains("ZYGO_WORKFLOW_MAX"), "{source}: {err}");
            assert!(started.elapsed() < std::time::Duration::from_secs(20), "{source} took too long");
        }
        // Ordinary work within the budget is unchanged.
        assert_eq!(eval_str("{{ 'a' ~ 1 ~ 'b' }}", &ctx, B).unwrap(), json!("a1b"));
        assert_eq!(eval_str("{{ 2 * 3 + 1 }}", &ctx, B).unwrap(), json!(7));
        assert_eq!(eval_str("{{ 60 * 60 * 24 * 365 * 1000 }}", &ctx, B).unwrap(), json!(31_536_000_000u64));
        assert_eq!(
            eval_str("{{ '%s-%s' | format('a', 1000000000) }}", &ctx, B).unwrap(),
            json!("a-1000000000")
        );
        assert_eq!(eval_str("{{ [1, 2] + [3] }}", &ctx, B).unwrap(), json!([1, 2, 3]));
        assert_eq!(eval_str("{{ 'ab' * 2 }}", &ctx, B).unwrap(), json!("abab"));
        assert_eq!(eval_str("{{ ['a', 'b'] | join('-') }}", &ctx, B).unwrap(), json!("a-b"));
        assert_eq!(
            eval_str("{{ input.s | replace('a', 'A') | upper }}", &ctx, B).unwrap(),
            json!("ABCDEFGH")
        );
        assert_eq!(eval_str("{{ '%05d' | format(42) }}", &ctx, B).unwrap(), json!("00042"));
        assert_eq!(eval_str("{{ {'a': 1} | tojson }}", &ctx, B).unwrap(), json!("{\"a\":1}"));
        assert_eq!(
            eval_str("{% for i in range(3) %}{{ i }},{% endfor %}{% if true %}ok{% endif %}", &ctx, B)
                .unwrap(),
            json!("0,1,2,ok")
        );
        assert_eq!(
            eval_str("{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(1) ~ m(2) }}", &ctx, B).unwrap(),
            json!("<1><2>")
        );
        assert_eq!(
            eval_str(
                "{% for x in [1, [2, [3]]] recursive %}{% if x is number %}{{ x }}{% else %}{{ loop(x) }}{% endif %}{% endfor %}",
                &ctx,
                B
            )
            .unwrap(),
            json!("123")
        );
        assert!(eval_str("{{ __zygo_concat('a', 'b') }}", &ctx, B).is_err(), "reserved names");
    }

    #[test]
    fn secrets_are_markers_only_sending_reveals_and_storing_masks() {
        let set = SecretSet::new([("API".to_string(), "s3cr3t!".to_string())]);
        let ctx = minijinja::Value::from_serialize(json!({ "secrets": set.markers() }));
        let plain = eval_str("Bearer {{ secrets.API }}", &ctx, B).unwrap();
        let plain = plain.as_str().unwrap();
        assert!(!plain.contains("s3cr3t!"));
        assert_eq!(set.reveal_str(plain), "Bearer s3cr3t!");
        assert_eq!(redact_str(plain, &[]), "Bearer [secret:API]");
        for source in ["{{ secrets.API | reverse }}", "{{ secrets.API | upper }}", "{{ secrets.API[1:] }}"] {
            let v = eval_str(source, &ctx, B).unwrap().to_string();
            assert!(!v.contains("s3cr3t!") && !v.contains("!t3rc3s") && !v.contains("S3CR3T!"), "{v}");
        }
        assert_eq!(eval_str("{{ secrets.API == 's3cr3t!' }}", &ctx, B).unwrap(), json!(false));
        // A marker of another node run (or typed as data) is not revealed.
        let other = SecretSet::new([("API".to_string(), "s3cr3t!".to_string())]);
        assert_eq!(other.reveal_str(plain), plain);
    }

    #[test]
    fn redaction_replaces_values() {
        let mut v = json!({ "a": "token=s3cr3t!", "b": ["s3cr3t!"] });
        redact(&mut v, &[("API".into(), "s3cr3t!".into())]);
        assert_eq!(v, json!({ "a": "token=[secret:API]", "b": ["[secret:API]"] }));
    }
}
