//! The studio's documents over the real API: editing with revisions (a stale edit is a
//! CONFLICT carrying the current content), reordering and duplicating, section locks (refused
//! edits, heartbeat, expiry by moving the test clock, force release), publishing, restoring
//! and comparing versions, isolation between organisations, permissions and team roles, the
//! live `documentEvents`, and the constant statement count of a nested list.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use zygo::ctx::Clock;

use crate::{doc, helpers::*};

/// An organisation with a team; `editor` is an editor of the team, `outside` a member who is
/// not in it, `viewer` has the viewer role.
struct Studio {
    app: TestApp,
    clock: Clock,
    owner: Session,
    editor: Session,
    outside: Session,
    viewer: Session,
    tenant: String,
    team: String,
}

async fn studio(slug: &str) -> Studio {
    studio_with(slug, Vec::new()).await
}

async fn studio_with(slug: &str, env: Vec<(&'static str, String)>) -> Studio {
    let clock = Clock::manual(Utc::now());
    let opts = Options { clock: Some(clock.clone()), env, ..Default::default() };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let owner = app.verified_user(&format!("{slug}-owner@example.com")).await;
    let tenant = app.create_tenant(&owner, slug).await;
    let (editor, editor_m) =
        app.join_as(&owner, &tenant, &format!("{slug}-editor@example.com"), "member").await;
    let (outside, _) = app.join_as(&owner, &tenant, &format!("{slug}-outside@example.com"), "member").await;
    let (viewer, _) = app.join_as(&owner, &tenant, &format!("{slug}-viewer@example.com"), "viewer").await;
    let team = app
        .gql(
            Some(&owner.access),
            doc!("teams/CreateTeam"),
            json!({ "input": { "tenantId": tenant, "name": "Writers" } }),
        )
        .await
        .data()["createTeam"]["team"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.gql(
        Some(&owner.access),
        doc!("teams/SetTeamMember"),
        json!({ "input": { "teamId": team, "membershipId": editor_m, "role": "EDITOR" } }),
    )
    .await
    .data();
    Studio { app, clock, owner, editor, outside, viewer, tenant, team }
}

impl Studio {
    async fn call(&self, who: &Session, query: &str, vars: Value) -> Gql {
        self.app.gql(Some(&who.access), query, vars).await
    }

    /// A new document of the team by `who`: its id and first page.
    async fn document(&self, who: &Session, title: &str) -> (String, String) {
        let r = self
            .call(
                who,
                doc!("studio/CreateDocument"),
                json!({ "input": { "teamId": self.team, "title": title } }),
            )
            .await;
        let d = &r.data()["createDocument"]["document"];
        assert_eq!(d["revision"], 1);
        (d["id"].as_str().unwrap().into(), d["pages"][0]["id"].as_str().unwrap().into())
    }

    async fn add_section(&self, who: &Session, page: &str, base: i64, text: &str) -> (String, i64) {
        let r = self
            .call(
                who,
                doc!("studio/AddSection"),
                json!({ "input": { "pageId": page, "baseRevision": base, "kind": "TEXT",
                    "content": { "type": "doc", "text": text } } }),
            )
            .await;
        let d = r.data()["addSection"].clone();
        (d["section"]["id"].as_str().unwrap().into(), d["document"]["revision"].as_i64().unwrap())
    }

    async fn read(&self, who: &Session, id: &str) -> Value {
        self.call(who, doc!("studio/Document"), json!({ "id": id })).await.data()["document"].clone()
    }

    async fn update_section(&self, who: &Session, section: &str, base: i64, text: &str) -> Gql {
        self.call(
            who,
            doc!("studio/UpdateSection"),
            json!({ "input": { "id": section, "baseRevision": base, "content": { "type": "doc", "text": text } } }),
        )
        .await
    }

    async fn lock(&self, who: &Session, op: &str, section: &str) -> Gql {
        let q = match op {
            "acquire" => doc!("studio/AcquireSectionLock"),
            "renew" => doc!("studio/RenewSectionLock"),
            "release" => doc!("studio/ReleaseSectionLock"),
            _ => doc!("studio/ForceReleaseSectionLock"),
        };
        self.call(who, q, json!({ "sectionId": section })).await
    }
}

/// The texts of a document's sections, page by page.
fn texts(doc: &Value) -> Vec<Vec<String>> {
    doc["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["sections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["content"]["text"].as_str().unwrap_or("").into())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn documents_are_edited_reordered_duplicated_and_deleted_each_edit_a_new_revision() {
    let s = studio("studio-edit").await;
    let (id, page) = s.document(&s.editor, "Handbook").await;
    let (a, r) = s.add_section(&s.editor, &page, 1, "a").await;
    let (b, r) = s.add_section(&s.editor, &page, r, "b").await;
    let (_c, r) = s.add_section(&s.editor, &page, r, "c").await;
    assert_eq!(r, 4);
    let r = s.update_section(&s.editor, &a, r, "a2").await.data()["updateSection"]["document"]["revision"]
        .as_i64()
        .unwrap();
    let moved = s
        .call(
            &s.editor,
            doc!("studio/MoveSection"),
            json!({ "input": { "id": b, "baseRevision": r, "position": 0 } }),
        )
        .await;
    let r = moved.data()["moveSection"]["document"]["revision"].as_i64().unwrap();
    assert_eq!(texts(&s.read(&s.editor, &id).await), vec![vec!["b", "a2", "c"]]);

    let dup = s
        .call(&s.editor, doc!("studio/DuplicateSection"), json!({ "input": { "id": a, "baseRevision": r } }))
        .await;
    let r = dup.data()["duplicateSection"]["document"]["revision"].as_i64().unwrap();
    assert_ne!(dup.data()["duplicateSection"]["section"]["id"].as_str().unwrap(), a, "a copy has its own ID");
    assert_eq!(texts(&s.read(&s.editor, &id).await), vec![vec!["b", "a2", "a2", "c"]]);

    let added = s
        .call(
            &s.editor,
            doc!("studio/AddPage"),
            json!({ "input": { "documentId": id, "baseRevision": r, "title": "Two", "position": 0 } }),
        )
        .await;
    let second = added.data()["addPage"]["page"]["id"].as_str().unwrap().to_string();
    let r = added.data()["addPage"]["document"]["revision"].as_i64().unwrap();
    // A section moves to the new page; the new page moves last.
    let r = s
        .call(
            &s.editor,
            doc!("studio/MoveSection"),
            json!({ "input": { "id": b, "baseRevision": r, "pageId": second, "position": 0 } }),
        )
        .await
        .data()["moveSection"]["document"]["revision"]
        .as_i64()
        .unwrap();
    let r = s
        .call(
            &s.editor,
            doc!("studio/MovePage"),
            json!({ "input": { "id": second, "baseRevision": r, "position": 5 } }),
        )
        .await
        .data()["movePage"]["document"]["revision"]
        .as_i64()
        .unwrap();
    let d = s.read(&s.editor, &id).await;
    assert_eq!(texts(&d), vec![vec!["a2", "a2", "c"], vec!["b"]]);
    let positions: Vec<i64> = d["pages"][0]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, vec![0, 1, 2], "positions stay dense");

    let dup = s
        .call(&s.editor, doc!("studio/DuplicatePage"), json!({ "input": { "id": page, "baseRevision": r } }))
        .await;
    let r = dup.data()["duplicatePage"]["document"]["revision"].as_i64().unwrap();
    assert_eq!(dup.data()["duplicatePage"]["page"]["title"], "Page 1 (copy)");
    assert_eq!(
        texts(&s.read(&s.editor, &id).await),
        vec![vec!["a2", "a2", "c"], vec!["a2", "a2", "c"], vec!["b"]]
    );

    let r = s
        .call(&s.editor, doc!("studio/DeleteSection"), json!({ "input": { "id": a, "baseRevision": r } }))
        .await
        .data()["deleteSection"]["document"]["revision"]
        .as_i64()
        .unwrap();
    let r = s
        .call(&s.editor, doc!("studio/DeletePage"), json!({ "input": { "id": second, "baseRevision": r } }))
        .await
        .data()["deletePage"]["document"]["revision"]
        .as_i64()
        .unwrap();
    let r = s
        .call(
            &s.editor,
            doc!("studio/UpdateDocument"),
            json!({ "input": { "id": id, "baseRevision": r, "title": "Guide" } }),
        )
        .await
        .data()["updateDocument"]["document"]["revision"]
        .as_i64()
        .unwrap();
    let d = s.read(&s.editor, &id).await;
    assert_eq!((d["title"].as_str().unwrap(), d["revision"].as_i64().unwrap()), ("Guide", r));
    assert_eq!(r, 14, "created at 1, and each of the 13 edits advanced the revision by one");
    assert_eq!(texts(&d), vec![vec!["a2", "c"], vec!["a2", "a2", "c"]]);

    // Bad input names its field and changes nothing.
    let bad = s.call(&s.editor, doc!("studio/AddSection"), json!({ "input": { "pageId": page, "baseRevision": r, "kind": "CODE", "content": { "language": "rust" } } })).await;
    assert_eq!((bad.code(), bad.field()), ("BAD_USER_INPUT".into(), "input.content.source".into()));
    assert_eq!(s.read(&s.editor, &id).await["revision"].as_i64().unwrap(), r);

    // Deleting needs documents.manage; then the document is gone for everyone.
    let refused = s.call(&s.editor, doc!("studio/DeleteDocument"), json!({ "id": id })).await;
    assert_eq!(refused.code(), "FORBIDDEN");
    s.call(&s.owner, doc!("studio/DeleteDocument"), json!({ "id": id })).await.data();
    assert_eq!(s.call(&s.owner, doc!("studio/Document"), json!({ "id": id })).await.code(), "NOT_FOUND");
    let list = s.call(&s.owner, doc!("studio/Documents"), json!({ "tenantId": s.tenant })).await;
    assert_eq!(list.data()["tenant"]["documents"]["totalCount"], 0);
}

#[tokio::test]
async fn a_stale_edit_gets_conflict_with_the_current_content_and_never_overwrites() {
    let s = studio("studio-conflict").await;
    let (id, page) = s.document(&s.editor, "Notes").await;
    let (section, r) = s.add_section(&s.editor, &page, 1, "first").await;
    // The owner saves from revision 2; the editor's autosave, also from 2, is then stale.
    s.update_section(&s.owner, &section, r, "owner's").await.data();
    let stale = s.update_section(&s.editor, &section, r, "editor's").await;
    assert_eq!(stale.code(), "CONFLICT");
    let ext = &stale.0["errors"][0]["extensions"];
    assert_eq!(ext["currentRevision"], r + 1);
    assert_eq!(ext["field"], "input.baseRevision");
    assert_eq!(ext["current"]["pages"][0]["sections"][0]["content"]["text"], "owner's", "{ext}");
    assert_eq!(ext["current"]["pages"][0]["sections"][0]["id"], section.as_str());
    let d = s.read(&s.editor, &id).await;
    assert_eq!((texts(&d), d["revision"].as_i64().unwrap()), (vec![vec!["owner's".to_string()]], r + 1));
    // Structure edits are guarded the same way.
    let stale = s
        .call(
            &s.editor,
            doc!("studio/AddPage"),
            json!({ "input": { "documentId": id, "baseRevision": 1, "title": "x" } }),
        )
        .await;
    assert_eq!(stale.code(), "CONFLICT");
    assert_eq!(s.read(&s.editor, &id).await["pages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_locked_section_refuses_others_until_it_expires_or_is_force_released() {
    let s = studio("studio-locks").await;
    let (id, page) = s.document(&s.owner, "Spec").await;
    let (section, r) = s.add_section(&s.owner, &page, 1, "x").await;
    let taken = s.lock(&s.editor, "acquire", &section).await;
    let lock = taken.data()["acquireSectionLock"]["section"]["lock"].clone();
    assert_eq!(lock["holder"]["name"].as_str().is_some(), true);
    let until = chrono::DateTime::parse_from_rfc3339(lock["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(
        until.timestamp(),
        (s.clock.now() + Duration::seconds(60)).timestamp(),
        "held 60 s by the clock"
    );

    // Someone else's edit and lock are refused, naming the holder and the expiry.
    let refused = s.update_section(&s.owner, &section, r, "owner").await;
    assert_eq!(refused.code(), "LOCKED");
    let ext = &refused.0["errors"][0]["extensions"];
    assert_eq!(ext["holderId"], lock["holderId"]);
    assert_eq!(
        ext["expiresAt"].as_str().map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap()),
        Some(until)
    );
    assert!(refused.message().contains(ext["holderName"].as_str().unwrap()));
    assert_eq!(s.lock(&s.owner, "acquire", &section).await.code(), "LOCKED");
    assert_eq!(s.lock(&s.owner, "renew", &section).await.code(), "LOCKED");
    let del = s
        .call(
            &s.owner,
            doc!("studio/DeleteSection"),
            json!({ "input": { "id": section, "baseRevision": r } }),
        )
        .await;
    assert_eq!(del.code(), "LOCKED");
    // The holder edits freely.
    let r = s.update_section(&s.editor, &section, r, "editor").await.data()["updateSection"]["document"]["revision"]
        .as_i64()
        .unwrap();

    // The heartbeat moves the expiry; past it, without a heartbeat, the lock is free.
    s.clock.advance(Duration::seconds(50));
    let renewed = s.lock(&s.editor, "renew", &section).await;
    let renewed_until = renewed.data()["renewSectionLock"]["section"]["lock"]["expiresAt"].clone();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(renewed_until.as_str().unwrap()).unwrap().timestamp(),
        (s.clock.now() + Duration::seconds(60)).timestamp()
    );
    s.clock.advance(Duration::seconds(59));
    assert_eq!(
        s.update_section(&s.owner, &section, r, "owner").await.code(),
        "LOCKED",
        "renewed, still held"
    );
    s.clock.advance(Duration::seconds(2));
    assert!(s.read(&s.owner, &id).await["pages"][0]["sections"][0]["lock"].is_null(), "expired: shown free");
    let taken = s.lock(&s.owner, "acquire", &section).await;
    assert_eq!(taken.data()["acquireSectionLock"]["section"]["lock"]["holderId"].as_str().is_some(), true);
    assert_eq!(s.lock(&s.editor, "renew", &section).await.code(), "LOCKED", "the old holder lost it");

    // The document's creator takes it back from anyone; an editor who is not may not.
    s.lock(&s.owner, "release", &section).await.data();
    s.lock(&s.editor, "acquire", &section).await.data();
    assert_eq!(s.lock(&s.outside, "force", &section).await.code(), "FORBIDDEN");
    let freed = s.lock(&s.owner, "force", &section).await;
    assert!(freed.data()["forceReleaseSectionLock"]["section"]["lock"].is_null());
    s.update_section(&s.owner, &section, r, "owner").await.data();
}

#[tokio::test]
async fn publishing_keeps_immutable_versions_that_compare_and_restore_into_a_new_revision() {
    let s = studio("studio-versions").await;
    let (id, page) = s.document(&s.editor, "Policy").await;
    let (a, r) = s.add_section(&s.editor, &page, 1, "one").await;
    let (b, r) = s.add_section(&s.editor, &page, r, "two").await;
    let published = s
        .call(
            &s.editor,
            doc!("studio/PublishDocument"),
            json!({ "input": { "id": id, "baseRevision": r, "note": "first" } }),
        )
        .await;
    let p = published.data()["publishDocument"].clone();
    assert_eq!(
        (p["version"]["number"].as_i64(), p["document"]["status"].as_str()),
        (Some(1), Some("PUBLISHED"))
    );
    assert_eq!(p["document"]["revision"].as_i64(), Some(r), "publishing is no edit of the draft");
    let v1 = p["version"]["id"].as_str().unwrap().to_string();

    // Publishing a revision one has not seen is refused.
    assert_eq!(
        s.call(
            &s.editor,
            doc!("studio/PublishDocument"),
            json!({ "input": { "id": id, "baseRevision": r - 1 } })
        )
        .await
        .code(),
        "CONFLICT"
    );

    let r = s.update_section(&s.editor, &a, r, "ONE").await.data()["updateSection"]["document"]["revision"]
        .as_i64()
        .unwrap();
    let r = s
        .call(&s.editor, doc!("studio/DeleteSection"), json!({ "input": { "id": b, "baseRevision": r } }))
        .await
        .data()["deleteSection"]["document"]["revision"]
        .as_i64()
        .unwrap();
    let (c, r) = s.add_section(&s.editor, &page, r, "three").await;
    let v2 = s
        .call(&s.editor, doc!("studio/PublishDocument"), json!({ "input": { "id": id, "baseRevision": r } }))
        .await
        .data()["publishDocument"]["version"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let versions = s.call(&s.viewer, doc!("studio/DocumentVersions"), json!({ "documentId": id })).await;
    let v = &versions.data()["documentVersions"];
    assert_eq!(v["totalCount"], 2);
    assert_eq!(
        v["edges"][0]["node"]["snapshot"]["pages"][0]["sections"][1]["content"]["text"], "two",
        "version 1 kept as it was"
    );

    let cmp = s.call(&s.viewer, doc!("studio/CompareDocumentVersions"), json!({ "a": v1, "b": v2 })).await;
    let mut changes: Vec<(String, String)> = cmp.data()["compareDocumentVersions"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["sectionId"].as_str().unwrap().to_string(), x["change"].as_str().unwrap().to_string()))
        .collect();
    changes.sort();
    let mut want =
        vec![(a.clone(), "CHANGED".to_string()), (b.clone(), "REMOVED".into()), (c.clone(), "ADDED".into())];
    want.sort();
    assert_eq!(changes, want);
    let with_draft = s.call(&s.viewer, doc!("studio/CompareDocumentVersions"), json!({ "a": v2 })).await;
    assert_eq!(with_draft.data()["compareDocumentVersions"]["sections"], json!([]), "the draft is version 2");

    // Restoring version 1 into the draft: a new revision, the old sections with their IDs.
    let restored = s
        .call(
            &s.editor,
            doc!("studio/RestoreDocumentVersion"),
            json!({ "input": { "versionId": v1, "baseRevision": r } }),
        )
        .await;
    let d = restored.data()["restoreDocumentVersion"]["document"].clone();
    assert_eq!(d["revision"].as_i64(), Some(r + 1));
    assert_eq!(texts(&d), vec![vec!["one", "two"]]);
    assert_eq!(d["pages"][0]["sections"][1]["id"].as_str(), Some(b.as_str()));
    assert_eq!(d["hasUnpublishedChanges"], true);
    // Still two versions: restoring is an edit of the draft, not a publication.
    let versions = s.call(&s.editor, doc!("studio/DocumentVersions"), json!({ "documentId": id })).await;
    assert_eq!(versions.data()["documentVersions"]["totalCount"], 2);
}

#[tokio::test]
async fn another_organisation_can_neither_see_nor_touch_a_document() {
    let s = studio("studio-iso").await;
    let (id, page) = s.document(&s.editor, "Private").await;
    let (section, _) = s.add_section(&s.editor, &page, 1, "secret").await;
    let stranger = s.app.verified_user("studio-iso-stranger@example.com").await;
    let other = s.app.create_tenant(&stranger, "studio-iso-b").await;
    for (q, vars) in [
        (doc!("studio/Document"), json!({ "id": id })),
        (doc!("studio/DocumentVersions"), json!({ "documentId": id })),
        (doc!("studio/UpdateDocument"), json!({ "input": { "id": id, "baseRevision": 2, "title": "mine" } })),
        (
            doc!("studio/UpdateSection"),
            json!({ "input": { "id": section, "baseRevision": 2, "content": {} } }),
        ),
        (doc!("studio/AcquireSectionLock"), json!({ "sectionId": section })),
        (doc!("studio/DeletePage"), json!({ "input": { "id": page, "baseRevision": 2 } })),
        (doc!("studio/DeleteDocument"), json!({ "id": id })),
    ] {
        assert_eq!(s.app.gql(Some(&stranger.access), q, vars).await.code(), "NOT_FOUND", "{q}");
    }
    let node = s
        .app
        .gql(Some(&stranger.access), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": section }))
        .await;
    assert_eq!(node.code(), "NOT_FOUND");
    let theirs =
        s.app.gql(Some(&stranger.access), doc!("studio/Documents"), json!({ "tenantId": other })).await;
    assert_eq!(theirs.data()["tenant"]["documents"]["totalCount"], 0);
    let d = s.read(&s.editor, &id).await;
    assert_eq!(
        (d["title"].as_str(), d["revision"].as_i64(), texts(&d)),
        (Some("Private"), Some(2), vec![vec!["secret".to_string()]])
    );
    assert!(d["pages"][0]["sections"][0]["lock"].is_null());
}

#[tokio::test]
async fn members_without_the_permission_or_a_team_role_read_but_cannot_write() {
    let s = studio("studio-perm").await;
    let (id, page) = s.document(&s.editor, "Team doc").await;
    // A member outside the team and a viewer read it …
    for who in [&s.outside, &s.viewer] {
        assert_eq!(s.read(who, &id).await["title"], "Team doc");
        let list =
            s.call(who, doc!("studio/Documents"), json!({ "tenantId": s.tenant, "teamId": s.team })).await;
        assert_eq!(list.data()["tenant"]["documents"]["totalCount"], 1);
    }
    // … but neither writes, and nothing changes.
    let add = json!({ "input": { "pageId": page, "baseRevision": 1, "kind": "TEXT" } });
    let viewer = s.call(&s.viewer, doc!("studio/AddSection"), add.clone()).await;
    assert_eq!(
        (viewer.code(), viewer.0["errors"][0]["extensions"]["permission"].as_str()),
        ("FORBIDDEN".into(), Some("documents.write"))
    );
    let outside = s.call(&s.outside, doc!("studio/AddSection"), add).await;
    assert_eq!(outside.code(), "FORBIDDEN");
    assert!(outside.message().contains("owners and editors"), "{}", outside.message());
    let create = s
        .call(
            &s.outside,
            doc!("studio/CreateDocument"),
            json!({ "input": { "teamId": s.team, "title": "x" } }),
        )
        .await;
    assert_eq!(create.code(), "FORBIDDEN");
    assert_eq!(
        s.call(
            &s.viewer,
            doc!("studio/PublishDocument"),
            json!({ "input": { "id": id, "baseRevision": 1 } })
        )
        .await
        .code(),
        "FORBIDDEN"
    );
    let d = s.read(&s.owner, &id).await;
    assert_eq!((d["revision"].as_i64(), d["pages"][0]["sections"].as_array().unwrap().len()), (Some(1), 0));
    let list = s.call(&s.owner, doc!("studio/Documents"), json!({ "tenantId": s.tenant })).await;
    assert_eq!(list.data()["tenant"]["documents"]["totalCount"], 1);
}

#[tokio::test]
async fn the_subscription_delivers_edits_and_lock_events_to_a_reader() {
    const GAUGE: &str = "zygo_subscriptions_active";
    let s = studio("studio-live").await;
    let (id, page) = s.document(&s.editor, "Live").await;
    let (section, r) = s.add_section(&s.editor, &page, 1, "x").await;
    let base = s.app.metric(GAUGE).await;
    let mut ws = WsClient::connect(&s.app, "graphql-transport-ws").await;
    ws.init(Some(&s.viewer.access)).await.expect("ack");
    ws.subscribe("1", doc!("studio/DocumentEvents"), json!({ "documentId": id })).await;
    eventually(10, || async { (s.app.metric(GAUGE).await > base).then_some(()) }).await;

    s.lock(&s.editor, "acquire", &section).await.data();
    s.update_section(&s.editor, &section, r, "y").await.data();
    s.lock(&s.editor, "release", &section).await.data();
    let mut got = Vec::new();
    while got.len() < 3 {
        let msg = ws.next_json().await.expect("an event");
        assert_eq!(msg["type"], "next", "{msg}");
        got.push(msg["payload"]["data"]["documentEvents"].clone());
    }
    assert_eq!(got[0]["kind"], "LOCK_ACQUIRED");
    assert_eq!(got[0]["sectionId"], section.as_str());
    assert!(got[0]["lockExpiresAt"].is_string());
    assert_eq!(
        (got[1]["kind"].as_str(), got[1]["revision"].as_i64(), got[1]["change"].as_str()),
        (Some("EDITED"), Some(r + 1), Some("section.updated"))
    );
    assert_eq!(got[2]["kind"], "LOCK_RELEASED");
    assert_eq!(got[0]["userId"], got[2]["userId"]);

    // An expired lock taken over is announced as expired, then taken.
    s.lock(&s.editor, "acquire", &section).await.data();
    s.clock.advance(Duration::seconds(61));
    s.lock(&s.owner, "acquire", &section).await.data();
    let kinds: Vec<String> = [ws.next_json().await, ws.next_json().await, ws.next_json().await]
        .into_iter()
        .map(|m| m.unwrap()["payload"]["data"]["documentEvents"]["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, vec!["LOCK_ACQUIRED", "LOCK_EXPIRED", "LOCK_ACQUIRED"]);
}

/// Statements of one `Documents` query over `n` documents of two pages with two sections each.
async fn document_statements_for(n: usize) -> f64 {
    // No background polling while counting (as in `loaders.rs`).
    let quiet = vec![
        ("ZYGO_MAIL_POLL_INTERVAL", "3600".into()),
        ("ZYGO_WORKFLOW_WORKERS", "0".into()),
        ("ZYGO_JOB_WORKERS", "0".into()),
    ];
    let s = studio_with(&format!("studio-sql-{n}"), quiet).await;
    for i in 0..n {
        let (id, page) = s.document(&s.owner, &format!("Doc {i}")).await;
        let (_, r) = s.add_section(&s.owner, &page, 1, "a").await;
        let (_, r) = s.add_section(&s.owner, &page, r, "b").await;
        let added = s
            .call(
                &s.owner,
                doc!("studio/AddPage"),
                json!({ "input": { "documentId": id, "baseRevision": r, "title": "P2" } }),
            )
            .await;
        let p2 = added.data()["addPage"]["page"]["id"].as_str().unwrap().to_string();
        let (_, r) = s.add_section(&s.owner, &p2, r + 1, "c").await;
        s.add_section(&s.owner, &p2, r, "d").await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let vars = json!({ "tenantId": s.tenant, "first": 50 });
    // Warm the access cache, as the other statement counts do.
    s.call(&s.owner, doc!("studio/Documents"), vars.clone()).await.data();
    let before = s.app.metric("zygo_db_statements_total").await;
    let r = s.call(&s.owner, doc!("studio/Documents"), vars).await;
    let after = s.app.metric("zygo_db_statements_total").await;
    let docs = r.data()["tenant"]["documents"]["edges"].as_array().unwrap().clone();
    assert_eq!(docs.len(), n);
    assert!(docs.iter().all(|d| texts(&d["node"]) == vec![vec!["a", "b"], vec!["c", "d"]]));
    after - before
}

#[tokio::test]
async fn a_page_of_documents_with_pages_and_sections_costs_the_same_statements_whatever_its_length() {
    let small = document_statements_for(1).await;
    let large = document_statements_for(6).await;
    eprintln!("documents query: {small} statements for 1 document, {large} for 6");
    // The tenant, the documents page and its count, all pages, all sections, all teams (and on
    // PostgreSQL the wall's settings): a handful, whatever the number of documents.
    assert_eq!(small, large, "statement count changed with the list length");
    assert!(large <= 9.0, "{large} statements");
}

#[tokio::test]
async fn a_mention_in_rich_text_tells_the_member_once_and_no_one_outside_the_organisation() {
    let s = studio("studio-mentions").await;
    let stranger = s.app.verified_user("studio-mentions-stranger@example.com").await;
    let (_, page) = s.document(&s.editor, "Launch notes").await;
    let mention =
        |who: &Session| json!({ "type": "mention", "attrs": { "userId": who.user_id, "label": "x" } });
    let content = |people: Vec<Value>| json!({ "type": "doc", "content": [{ "type": "paragraph", "content": people }] });
    let r = s
        .call(
            &s.editor,
            doc!("studio/AddSection"),
            json!({ "input": { "pageId": page, "baseRevision": 1, "kind": "TEXT",
                "content": content(vec![mention(&s.viewer), mention(&stranger), mention(&s.editor)]) } }),
        )
        .await;
    let section = r.data()["addSection"]["section"]["id"].as_str().unwrap().to_string();
    let told = |who: &Session| {
        let (app, who) = (&s.app, who.clone());
        async move {
            zygo::jobs::drain(&app.ctx).await.unwrap();
            crate::notifications::inbox(app, &who)
                .await
                .into_iter()
                .filter(|n| n["kind"] == "MENTIONED_IN_DOCUMENT")
                .collect::<Vec<_>>()
        }
    };
    let viewer = told(&s.viewer).await;
    assert_eq!(viewer.len(), 1, "{viewer:?}");
    assert_eq!(viewer[0]["title"], "You were mentioned in “Launch notes”");
    assert!(told(&s.editor).await.is_empty(), "not of one's own mention");
    assert!(told(&stranger).await.is_empty(), "not someone outside the organisation");

    // The autosave keeps the viewer's mention and adds one: only the new one is told.
    s.call(
        &s.editor,
        doc!("studio/UpdateSection"),
        json!({ "input": { "id": section, "baseRevision": 2,
            "content": content(vec![mention(&s.viewer), mention(&s.outside)]) } }),
    )
    .await
    .data();
    assert_eq!(told(&s.viewer).await.len(), 1);
    assert_eq!(told(&s.outside).await.len(), 1);
}
