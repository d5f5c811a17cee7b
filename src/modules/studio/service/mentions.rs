//! Mentions in rich text: a TEXT section's document tree may hold mention nodes
//! (`{"type": "mention", "attrs": {"userId": "<User ID>", "label": "Ada"}}`, the shape of
//! ProseMirror/Tiptap's mention extension). A person newly mentioned by an edit — named in the
//! new content and not in the old, so an autosave of the same text tells no one twice — who is
//! an active member of the organisation is told (`MENTIONED_IN_DOCUMENT`), in the edit's
//! transaction. Whoever made the edit is not told of their own mention.

use std::collections::BTreeSet;

use entity::{document, membership};
use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    access::TenantTx,
    error::AppResult,
    graphql::relay,
    modules::notifications::{
        catalog::NotificationKind,
        service::{self as notifications, Notice, Recipients},
    },
};

/// The users a document tree mentions (by a User ID or a bare UUID in `attrs.userId`/`attrs.id`).
pub fn mentioned(content: &Value) -> BTreeSet<Uuid> {
    fn walk(v: &Value, out: &mut BTreeSet<Uuid>) {
        match v {
            Value::Object(map) => {
                if map.get("type").and_then(Value::as_str) == Some("mention") {
                    let attrs = &map.get("attrs").cloned().unwrap_or(Value::Null);
                    let id = attrs["userId"].as_str().or_else(|| attrs["id"].as_str()).unwrap_or_default();
                    let user = relay::from_global_id(&id.into())
                        .filter(|(kind, _)| kind == relay::kind::USER)
                        .map(|(_, id)| id)
                        .or_else(|| id.parse().ok());
                    out.extend(user);
                }
                map.values().for_each(|c| walk(c, out));
            }
            Value::Array(items) => items.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(content, &mut out);
    out
}

/// Tells the members `after` mentions and `before` did not, in `tx`.
pub async fn tell_new_mentions(
    tx: &mut TenantTx<'_>,
    doc: &document::Model,
    section_id: Uuid,
    before: Option<&Value>,
    after: &Value,
) -> AppResult<()> {
    let old = before.map(mentioned).unwrap_or_default();
    let actor = tx.tctx().acting_user();
    let new: Vec<Uuid> =
        mentioned(after).into_iter().filter(|u| !old.contains(u) && Some(*u) != actor).collect();
    if new.is_empty() {
        return Ok(());
    }
    let scope = tx.scope();
    let members: Vec<Uuid> = scope
        .find::<membership::Entity>()
        .select_only()
        .column(membership::Column::UserId)
        .filter(membership::Column::UserId.is_in(new))
        .filter(membership::Column::Status.eq(membership::MembershipStatus::Active))
        .into_tuple()
        .all(&*tx)
        .await?;
    if members.is_empty() {
        return Ok(());
    }
    let notice = Notice {
        kind: NotificationKind::MentionedInDocument,
        organisation: Some(scope.tenant_id()),
        recipients: Recipients::Users { ids: members },
        title: String::new(),
        body: String::new(),
        link: None,
        data: json!({ "documentId": doc.id, "documentTitle": doc.title, "sectionId": section_id }),
        except: actor,
    };
    notifications::notify_tx(tx, &notice).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found_anywhere_in_the_tree_by_global_id_or_uuid() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let global = relay::to_global_id(relay::kind::USER, a).to_string();
        let content = json!({ "type": "doc", "content": [
            { "type": "paragraph", "content": [
                { "type": "text", "text": "Hi " },
                { "type": "mention", "attrs": { "userId": global, "label": "Ada" } },
            ] },
            { "type": "bulletList", "content": [{ "type": "mention", "attrs": { "id": b.to_string() } }] },
            { "type": "mention", "attrs": { "userId": "not an id" } },
            { "type": "mention", "attrs": { "userId": relay::to_global_id(relay::kind::TENANT, b).to_string() } },
        ] });
        assert_eq!(mentioned(&content), BTreeSet::from([a, b]));
        assert!(mentioned(&json!({ "type": "doc", "content": [] })).is_empty());
    }
}
