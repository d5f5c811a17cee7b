//! A super administrator creates an organisation for a customer: it has no member, its first
//! owner is invited by e-mail and becomes its owner on accepting; bad input names its field and
//! creates nothing; support and ordinary users are refused; both audit logs record it.

use serde_json::{Value, json};

use crate::{doc, gql::*, helpers::*};

async fn create(app: &TestApp, who: &Session, slug: &str, email: &str, reason: &str) -> Gql {
    app.gql(
        Some(&who.access),
        doc!("admin/AdminCreateOrganisation"),
        json!({ "input": { "name": "Customer Co", "slug": slug, "ownerEmail": email, "reason": reason } }),
    )
    .await
}

async fn organisations(app: &TestApp, who: &Session, search: &str) -> Vec<Value> {
    let r = app
        .gql(Some(&who.access), doc!("admin/AdminOrganisations"), json!({ "search": search, "first": 10 }))
        .await;
    r.data()["admin"]["organisations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn an_operator_creates_an_organisation_whose_invited_owner_takes_it_over() {
    let app = spawn_app().await;
    let (ops, _) = app.platform_operator("ops@example.com", "super-admin").await;

    // Bad input: named, nothing created.
    for (slug, email, reason, code, field) in [
        ("customer-co", "not-an-address", "contract 42", "BAD_USER_INPUT", "input.ownerEmail"),
        ("Customer Co!", "boss@customer.test", "contract 42", "BAD_USER_INPUT", "input.slug"),
        ("customer-co", "boss@customer.test", " ", "BAD_USER_INPUT", "reason"),
    ] {
        let r = create(&app, &ops, slug, email, reason).await;
        assert_eq!((r.code().as_str(), r.field().as_str()), (code, field), "{r:?}");
    }
    assert!(organisations(&app, &ops, "Customer").await.is_empty());
    assert!(app.mails_to("boss@customer.test").is_empty());

    let r = create(&app, &ops, "customer-co", "Boss@Customer.test", "contract 42").await;
    let made = &r.data()["adminCreateOrganisation"];
    assert_eq!(made["organisation"]["slug"], "customer-co");
    assert_eq!(made["invitedEmail"], "boss@customer.test");
    let tenant = made["organisation"]["id"].as_str().unwrap().to_string();
    let listed = organisations(&app, &ops, "Customer").await;
    assert_eq!((listed.len(), listed[0]["memberCount"].clone()), (1, json!(0)));
    // The slug is taken now.
    assert_eq!(create(&app, &ops, "customer-co", "other@customer.test", "again").await.code(), "CONFLICT");

    // The invited owner signs up, accepts and owns the organisation.
    let token = app.mailed_token_about("boss@customer.test", "invited", 1).await;
    app.sign_up("boss@customer.test").await.data();
    let boss = app.log_in("boss@customer.test").await;
    app.op::<AcceptInvitation>(Some(&boss.access), accept_invitation::Variables { token }).await.data();
    let r = app
        .gql(
            Some(&boss.access),
            "query($id: ID!) { tenant(id: $id) { name viewerRole { key } } }",
            json!({ "id": tenant }),
        )
        .await;
    assert_eq!(
        (r.data()["tenant"]["name"].as_str(), r.data()["tenant"]["viewerRole"]["key"].as_str()),
        (Some("Customer Co"), Some("owner"))
    );

    // The organisation's own log shows who made it; the platform log why.
    let log = app
        .gql(
            Some(&boss.access),
            doc!("audit/TenantAuditLog"),
            json!({ "id": tenant, "filter": { "action": "tenant.created" } }),
        )
        .await;
    let entry = &log.data()["tenant"]["auditLog"]["edges"][0]["node"];
    assert_eq!(entry["actorType"], "platform_admin", "{log:?}");
    let platform = app.gql(Some(&ops.access), doc!("admin/AdminAuditLog"), json!({ "last": 10 })).await;
    let entries = platform.data()["admin"]["auditLog"]["edges"].as_array().unwrap().clone();
    let created =
        entries.iter().find(|e| e["node"]["action"] == "admin.organisation_created").expect("audited");
    assert_eq!(created["node"]["reason"], "contract 42");

    // Support reads the console but creates nothing; an ordinary user has no console.
    let (support, _) = app.platform_operator("support@example.com", "support").await;
    assert_eq!(create(&app, &support, "support-co", "x@customer.test", "try").await.code(), "FORBIDDEN");
    let user = app.verified_user("someone@example.com").await;
    assert_eq!(create(&app, &user, "user-co", "x@customer.test", "try").await.code(), "FORBIDDEN");
    assert_eq!(organisations(&app, &ops, "co").await.len(), 1);
}
