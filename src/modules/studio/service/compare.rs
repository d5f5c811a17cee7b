//! Comparing two snapshots of a document (two versions, or a version and the draft): per
//! section, what was added, removed, changed or moved. Pure code over snapshot JSON (see
//! [`super::documents::snapshot_of`]).

use serde_json::Value;

/// How a section differs between the two snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum SectionChangeKind {
    /// Only in the second.
    Added,
    /// Only in the first.
    Removed,
    /// In both, with another kind or content.
    Changed,
    /// In both with the same content, on another page or at another place.
    Moved,
}

/// One section that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct SectionChange {
    /// The section's ID (as the snapshots write it).
    pub section_id: String,
    /// Its page in the second snapshot (the first for a removed one).
    pub page_id: String,
    pub change: SectionChangeKind,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// What differs between snapshots `a` and `b`.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub title_changed: bool,
    pub sections: Vec<SectionChange>,
}

/// Each section of a snapshot with its page and place: `(section, page id, index in the
/// whole document)`, in document order.
fn sections(snapshot: &Value) -> Vec<(&Value, String, usize)> {
    let mut out = Vec::new();
    for page in snapshot["pages"].as_array().into_iter().flatten() {
        let page_id = page["id"].as_str().unwrap_or_default().to_string();
        for s in page["sections"].as_array().into_iter().flatten() {
            let i = out.len();
            out.push((s, page_id.clone(), i));
        }
    }
    out
}

fn id(s: &Value) -> &str {
    s["id"].as_str().unwrap_or_default()
}

/// Section `s` without its id: what is compared.
fn body(s: &Value) -> Value {
    serde_json::json!({ "kind": s["kind"], "content": s["content"] })
}

/// The sections of `b` that are not in `a` (ADDED), those of `a` gone from `b` (REMOVED),
/// those whose kind or content differ (CHANGED) and those only placed elsewhere (MOVED), in
/// `b`'s order followed by the removed ones in `a`'s.
pub fn compare(a: &Value, b: &Value) -> Comparison {
    let (before, after) = (sections(a), sections(b));
    // A section's place is compared among the sections on the same page in both snapshots,
    // so one insertion, removal or move elsewhere does not mark its neighbours as moved.
    let stayed = |page: &str| -> Vec<&str> {
        before
            .iter()
            .filter(|(s, p, _)| p == page && after.iter().any(|(t, q, _)| id(t) == id(s) && q == page))
            .map(|(s, _, _)| id(s))
            .collect()
    };
    let stayed_after = |page: &str| -> Vec<&str> {
        after
            .iter()
            .filter(|(s, p, _)| p == page && before.iter().any(|(t, q, _)| id(t) == id(s) && q == page))
            .map(|(s, _, _)| id(s))
            .collect()
    };
    let mut out = Vec::new();
    for (s, page, _) in &after {
        let Some((old, old_page, _)) = before.iter().find(|(t, _, _)| id(t) == id(s)) else {
            out.push(SectionChange {
                section_id: id(s).into(),
                page_id: page.clone(),
                change: SectionChangeKind::Added,
                before: None,
                after: Some(body(s)),
            });
            continue;
        };
        let change = if body(old) != body(s) {
            SectionChangeKind::Changed
        } else if old_page != page
            || stayed(page).iter().position(|i| *i == id(s))
                != stayed_after(page).iter().position(|i| *i == id(s))
        {
            SectionChangeKind::Moved
        } else {
            continue;
        };
        out.push(SectionChange {
            section_id: id(s).into(),
            page_id: page.clone(),
            change,
            before: Some(body(old)),
            after: Some(body(s)),
        });
    }
    for (s, page, _) in &before {
        if !after.iter().any(|(t, _, _)| id(t) == id(s)) {
            out.push(SectionChange {
                section_id: id(s).into(),
                page_id: page.clone(),
                change: SectionChangeKind::Removed,
                before: Some(body(s)),
                after: None,
            });
        }
    }
    Comparison { title_changed: a["title"] != b["title"], sections: out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn section(id: &str, text: &str) -> Value {
        json!({ "id": id, "kind": "TEXT", "content": { "text": text } })
    }

    #[test]
    fn added_removed_changed_and_moved_sections_are_told_apart() {
        let a = json!({ "title": "T", "pages": [
            { "id": "p1", "sections": [section("s1", "one"), section("s2", "two"), section("s3", "three")] },
            { "id": "p2", "sections": [section("s4", "four")] },
        ]});
        let b = json!({ "title": "T2", "pages": [
            { "id": "p1", "sections": [section("s0", "new"), section("s1", "one"), section("s2", "TWO")] },
            { "id": "p2", "sections": [section("s4", "four"), section("s3", "three")] },
        ]});
        let c = compare(&a, &b);
        assert!(c.title_changed);
        let got: Vec<(&str, SectionChangeKind)> =
            c.sections.iter().map(|s| (s.section_id.as_str(), s.change)).collect();
        assert_eq!(
            got,
            vec![
                ("s0", SectionChangeKind::Added),
                ("s2", SectionChangeKind::Changed),
                ("s3", SectionChangeKind::Moved)
            ],
            "s1 only shifted by an insertion, s4 stayed: neither is listed"
        );
        let removed = compare(&b, &a);
        assert!(
            removed.sections.iter().any(|s| s.section_id == "s0" && s.change == SectionChangeKind::Removed)
        );
        assert!(compare(&a, &a).sections.is_empty() && !compare(&a, &a).title_changed);
    }
}
