//! The verdict: what each caller must get at each guarded field, and whether an answer
//! (`data` and `errors`) is exactly that.

use async_graphql::parser::types::OperationType;
use serde_json::Value;

use super::{catalog::*, generator::Operation};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Anonymous,
    /// Owner of organisation B, calling with A's IDs.
    Outsider,
    /// An active member of A with this built-in role.
    Member(&'static str),
    /// A super administrator (two-factor authentication on) with no membership and no live
    /// support session: the admin API answers, nothing of any organisation does.
    Operator,
}

pub(super) struct Principal {
    pub(super) name: &'static str,
    pub(super) kind: Kind,
    pub(super) token: Option<String>,
    /// What the server's permission matrix says the caller's role holds.
    pub(super) perms: Vec<Permission>,
    /// An owner of the fixture's team (`TeamManager` rules).
    pub(super) team_owner: bool,
}

impl Principal {
    pub(super) fn has(&self, p: &Permission) -> bool {
        self.perms.contains(p)
    }
}

// ---------------------------------------------------------------------------------------
// Expectations.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Allow,
    Deny(&'static str),
    /// The field answers `null` without an error.
    Null,
    /// A list whose every entry is `null`, without an error.
    NullEntries,
}

pub(super) fn verdict(rule: Rule, scope: Scope, p: &Principal) -> Verdict {
    use Verdict::*;
    let role = match p.kind {
        Kind::Anonymous => {
            return match rule {
                Public => Allow,
                ViewerOrNull => Null,
                _ => Deny("UNAUTHENTICATED"),
            };
        }
        Kind::Outsider => {
            return match rule {
                Public | SignedIn | ViewerOrNull => Allow,
                PlatformAdmin => Deny("FORBIDDEN"),
                HiddenAsNull(_) => NullEntries,
                // Reached only through their own organisation (B, which they own).
                _ if scope == Scope::Ctx => Allow,
                _ => Deny("NOT_FOUND"),
            };
        }
        Kind::Operator => {
            return match rule {
                Public | SignedIn | ViewerOrNull | PlatformAdmin => Allow,
                HiddenAsNull(_) => NullEntries,
                // Lists of their own organisations: they have none.
                _ if scope == Scope::Ctx => Allow,
                _ => Deny("NOT_FOUND"),
            };
        }
        Kind::Member(role) => role,
    };
    let ok = match rule {
        Public | SignedIn | ViewerOrNull => true,
        Tenant(ps) => ps.iter().all(|x| p.has(x)),
        TenantAny(ps) => ps.iter().any(|x| p.has(x)),
        Outranks(perm, target) => p.has(perm) && (role == "owner" || rank(role) < rank(target)),
        Owner => role == "owner" && p.has(&TENANT_DELETE),
        TeamManager => p.has(&TEAMS_MANAGE) || p.team_owner,
        HiddenAsNull(perm) => p.has(perm),
        PlatformAdmin => false,
    };
    if ok { Allow } else { Deny("FORBIDDEN") }
}

/// The verdict on each guard, and whether it is reached (no guard above it refused).
pub(super) fn verdicts(op: &Operation, p: &Principal) -> Vec<(Verdict, bool)> {
    let v: Vec<Verdict> = op.guards.iter().map(|g| verdict(g.rule, g.scope, p)).collect();
    (0..op.guards.len())
        .map(|i| {
            let mut reached = true;
            let mut up = op.guards[i].parent;
            while let Some(j) = up {
                reached &= v[j] == Verdict::Allow;
                up = op.guards[j].parent;
            }
            (v[i], reached)
        })
        .collect()
}

/// A mutation is sent only to callers refused at its root: allowed ones would change the
/// fixture (each module's own tests cover them).
pub(super) fn root_refused(op: &Operation, p: &Principal) -> bool {
    verdicts(op, p)
        .iter()
        .zip(&op.guards)
        .any(|((v, _), g)| g.parent.is_none() && matches!(v, Verdict::Deny(_)))
}

pub(super) fn excluded(op: &Operation) -> Option<&'static str> {
    EXCLUDED.iter().find(|(d, _)| *d == op.doc).map(|(_, r)| *r)
}

pub(super) fn runs(op: &Operation, p: &Principal) -> bool {
    excluded(op).is_none() && (op.kind != OperationType::Mutation || root_refused(op, p))
}

pub(super) fn error_path(e: &Value) -> Vec<String> {
    e["path"]
        .as_array()
        .map(|p| p.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

pub(super) fn summary(errors: &[Value]) -> String {
    if errors.is_empty() {
        return "no errors".into();
    }
    errors
        .iter()
        .map(|e| {
            format!(
                "{} at {} ({})",
                e["extensions"]["code"].as_str().unwrap_or("<no code>"),
                error_path(e).join("."),
                e["message"].as_str().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The value at a response path (`null` when absent).
pub(super) fn at<'a>(data: &'a Value, path: &[String]) -> &'a Value {
    path.iter().fold(data, |v, k| &v[k.as_str()])
}

/// Walks an error's path (names and list indices) from the response's `data`: the first
/// key that is absent before a `null` is reached, if any.
pub(super) fn missing_key(resp: &Value, path: &Value) -> Option<String> {
    let obj = resp.as_object()?;
    if !obj.contains_key("data") {
        return Some("data".into());
    }
    let mut here = &obj["data"];
    for step in path.as_array()? {
        if here.is_null() {
            return None;
        }
        here = match (step, here) {
            (Value::String(k), Value::Object(o)) => match o.get(k) {
                Some(v) => v,
                None => return Some(k.clone()),
            },
            (Value::Number(i), Value::Array(a)) => match a.get(i.as_u64()? as usize) {
                Some(v) => v,
                None => return Some(i.to_string()),
            },
            _ => return Some(step.to_string()),
        };
    }
    (!here.is_null()).then(|| format!("{path} (present but not null)"))
}

/// Checks one answer (`data` and `errors`) against the table.
pub(super) fn check(op: &Operation, p: &Principal, resp: &Value) -> Result<(), String> {
    let errors: Vec<Value> = resp["errors"].as_array().cloned().unwrap_or_default();
    let mut expected: Vec<(&[String], &'static str, &str)> = Vec::new();
    let mut problems = Vec::new();
    for ((v, reached), g) in verdicts(op, p).into_iter().zip(&op.guards) {
        if !reached {
            continue;
        }
        match v {
            Verdict::Allow => {}
            Verdict::Deny(code) => expected.push((&g.path, code, &g.key)),
            Verdict::Null => {
                if !at(&resp["data"], &g.path).is_null() {
                    problems.push(format!("expected `{}` to be null", g.path.join(".")));
                }
            }
            Verdict::NullEntries => match at(&resp["data"], &g.path).as_array() {
                Some(a) if !a.is_empty() && a.iter().all(Value::is_null) => {}
                _ => problems.push(format!("expected `{}` to hold only nulls", g.path.join("."))),
            },
        }
    }
    for (path, code, key) in &expected {
        if !errors.iter().any(|e| e["extensions"]["code"] == *code && error_path(e) == *path) {
            problems.push(format!("expected {code} at {} (`{key}`)", path.join(".")));
        }
    }
    // GraphQL §6.4.4: a failed field is present and null (or, if non-null, its nearest
    // nullable ancestor is), never a missing key — normalised client caches rely on it.
    for e in &errors {
        if let Some(missing) = missing_key(resp, &e["path"]) {
            problems.push(format!("the failed field's key `{missing}` is missing instead of null"));
        }
    }
    for e in &errors {
        let path = error_path(e);
        let explained =
            expected.iter().any(|(p, code, _)| e["extensions"]["code"] == *code && path.starts_with(p));
        if !explained {
            problems.push(format!(
                "unexpected {} at {}",
                e["extensions"]["code"].as_str().unwrap_or("<no code>"),
                path.join(".")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} — got {} (variables {})",
            problems.join(", "),
            summary(&errors),
            Value::Object(op.variables.clone())
        ))
    }
}
