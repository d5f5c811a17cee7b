//! The access cache never outlives a change of access: a member's new role, removal or
//! suspension and the organisation's own suspension apply to their very next request, on
//! the instance that made the change and, through the event bus, on every other one — even
//! with entries trusted for an hour.

use serde_json::json;

use crate::{doc, event_bus::redis_url, gql::Tenant, helpers::*};

/// Trust cached access for an hour: only an announced change can end an entry early.
fn long_cache() -> Vec<(&'static str, String)> {
    vec![("ZYGO_ACCESS_CACHE_TTL", "3600".into())]
}

async fn permissions(app: &TestApp, s: &Session, tenant: &str) -> Gql {
    app.gql(Some(&s.access), doc!("tenancy/Tenant"), json!({ "id": tenant })).await
}

/// Whether the organisation answers and lists `permission` among the viewer's (the document
/// also asks for members' addresses, which only member managers may read: those fields
/// answer FORBIDDEN on their own).
fn holds(r: &Gql, permission: &str) -> bool {
    let typed = r.clone().typed::<Tenant>();
    typed.partial().tenant.viewer_permissions.iter().any(|p| serde_json::to_value(p).unwrap() == permission)
}

#[tokio::test]
async fn a_new_role_and_a_removal_apply_to_the_next_request() {
    let app = spawn_app_on(Backend::fresh().await, Options { env: long_cache(), ..Default::default() }).await;
    let owner = app.verified_user("cache-owner@example.com").await;
    let tenant = app.create_tenant(&owner, "cache-org").await;
    let (member, membership) = app.join_as(&owner, &tenant, "cache-member@example.com", "admin").await;
    assert!(holds(&permissions(&app, &member, &tenant).await, "MEMBERS_MANAGE"), "warms the cache");

    let viewer_role = app.role_id(&owner, &tenant, "viewer").await;
    app.gql(
        Some(&owner.access),
        doc!("members/ChangeMemberRole"),
        json!({ "input": { "membershipId": membership, "roleId": viewer_role } }),
    )
    .await
    .data();
    assert!(!holds(&permissions(&app, &member, &tenant).await, "MEMBERS_MANAGE"), "the new role at once");

    app.gql(Some(&owner.access), doc!("members/SuspendMember"), json!({ "membershipId": membership }))
        .await
        .data();
    assert_eq!(permissions(&app, &member, &tenant).await.code(), "NOT_FOUND", "suspended at once");
    app.gql(Some(&owner.access), doc!("members/ReactivateMember"), json!({ "membershipId": membership }))
        .await
        .data();
    assert!(holds(&permissions(&app, &member, &tenant).await, "TENANT_READ"), "back at once");

    app.gql(Some(&owner.access), doc!("members/RemoveMember"), json!({ "membershipId": membership }))
        .await
        .data();
    assert_eq!(permissions(&app, &member, &tenant).await.code(), "NOT_FOUND", "removed at once");
}

#[tokio::test]
async fn a_removal_on_one_instance_reaches_the_cache_of_another() {
    let mut backend = Backend::fresh().await;
    backend.redis_url = Some(redis_url());
    let data_dir = std::env::temp_dir().join(format!("zygo-test-shared-{}", uuid::Uuid::new_v4().simple()));
    let opts = Options { data_dir: Some(data_dir), env: long_cache(), ..Default::default() };
    let a = spawn_app_on(backend.clone(), opts.clone()).await;
    let b = spawn_app_on(backend, opts).await;
    let owner = a.verified_user("cache-owner2@example.com").await;
    let tenant = a.create_tenant(&owner, "cache-org-two").await;
    let (member, membership) = a.join_as(&owner, &tenant, "cache-member2@example.com", "member").await;
    assert!(holds(&permissions(&b, &member, &tenant).await, "TENANT_READ"), "B has it cached");

    a.gql(Some(&owner.access), doc!("members/RemoveMember"), json!({ "membershipId": membership }))
        .await
        .data();
    // The announcement crosses Redis; B's entry, trusted for an hour, must go when it lands.
    let code = eventually(10, || async {
        let r = permissions(&b, &member, &tenant).await;
        r.0["data"]["tenant"].is_null().then(|| r.code())
    })
    .await;
    assert_eq!(code, "NOT_FOUND");
}
