use serde_json::json;

use crate::{doc, helpers::*};

#[tokio::test]
async fn the_profile_is_validated_field_by_field_and_can_be_cleared() {
    let app = spawn_app().await;
    let s = app.verified_user("prof@example.com").await;
    let update = |input: serde_json::Value| {
        let (app, token) = (&app, s.access.clone());
        async move { app.gql(Some(&token), doc!("identity/UpdateProfile"), json!({ "input": input })).await }
    };
    let r = update(json!({ "name": "Ada L.", "avatarUrl": "https://cdn.example.com/a.png", "locale": "en-GB", "timeZone": "Europe/Berlin" })).await;
    let v = &r.data()["updateProfile"]["viewer"];
    assert_eq!(v["name"], "Ada L.");
    assert_eq!(v["timeZone"], "Europe/Berlin");
    for (input, field) in [
        (json!({ "avatarUrl": "ftp://example.com/a.png" }), "input.avatarUrl"),
        (json!({ "timeZone": "Mars/Olympus" }), "input.timeZone"),
        (json!({ "locale": "English" }), "input.locale"),
        (json!({ "name": "" }), "input.name"),
    ] {
        let r = update(input.clone()).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{input}");
        assert_eq!(r.field(), field);
    }
    let r = update(json!({ "avatarUrl": null })).await;
    assert!(r.data()["updateProfile"]["viewer"]["avatarUrl"].is_null());
    let me = app.gql(Some(&s.access), doc!("identity/ViewerAccount"), json!({})).await;
    assert_eq!(me.data()["viewer"]["locale"], "en-GB", "failed updates changed nothing");
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = spawn_app().await;
    let here = app.verified_user("pw@example.com").await;
    let elsewhere = app.log_in("pw@example.com").await;
    let change = |current: &str, new: &str| {
        let (app, token, vars) =
            (&app, here.access.clone(), json!({ "currentPassword": current, "newPassword": new }));
        async move { app.gql(Some(&token), doc!("identity/ChangePassword"), vars).await }
    };
    let r = change("wrong password!", "a brand new secret").await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert_eq!(r.field(), "currentPassword");
    assert_eq!(change(PASSWORD, "short").await.field(), "newPassword");
    assert_eq!(change(PASSWORD, "pw@example.com").await.field(), "newPassword");
    change(PASSWORD, "a brand new secret").await.data();

    app.gql(Some(&here.access), doc!("identity/ViewerAccount"), json!({})).await.data();
    let other = app.gql(Some(&elsewhere.access), doc!("identity/ViewerAccount"), json!({})).await;
    assert_eq!(other.code(), "UNAUTHENTICATED", "the other session ended");
    let old = app
        .gql(
            None,
            doc!("identity/LogIn"),
            json!({ "input": { "email": "pw@example.com", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(old.code(), "UNAUTHENTICATED");
    app.gql(
        None,
        doc!("identity/LogIn"),
        json!({ "input": { "email": "pw@example.com", "password": "a brand new secret" } }),
    )
    .await
    .data();
}

#[tokio::test]
async fn a_password_reset_link_works_once_and_ends_every_session() {
    let app = spawn_app().await;
    let s = app.verified_user("forgot@example.com").await;
    let known =
        app.gql(None, doc!("identity/RequestPasswordReset"), json!({ "email": "forgot@example.com" })).await;
    let unknown =
        app.gql(None, doc!("identity/RequestPasswordReset"), json!({ "email": "nobody@example.com" })).await;
    assert_eq!(known.data(), unknown.data(), "the answer does not reveal accounts");
    let token = app.mailed_token_about("forgot@example.com", "Reset your Zygo password", 1).await;
    let r = app
        .gql(None, doc!("identity/ResetPassword"), json!({ "token": token, "newPassword": "short" }))
        .await;
    assert_eq!(r.field(), "newPassword", "{:?}", r.0);
    app.gql(
        None,
        doc!("identity/ResetPassword"),
        json!({ "token": token, "newPassword": "fresh start 2026" }),
    )
    .await
    .data();
    let again = app
        .gql(
            None,
            doc!("identity/ResetPassword"),
            json!({ "token": token, "newPassword": "fresh start 2027" }),
        )
        .await;
    assert_eq!(again.code(), "BAD_USER_INPUT");
    assert_eq!(again.field(), "token");
    let old = app.gql(Some(&s.access), doc!("identity/ViewerAccount"), json!({})).await;
    assert_eq!(old.code(), "UNAUTHENTICATED", "sessions end with a reset");
    app.gql(
        None,
        doc!("identity/LogIn"),
        json!({ "input": { "email": "forgot@example.com", "password": "fresh start 2026" } }),
    )
    .await
    .data();
    assert!(app.mails_to("nobody@example.com").is_empty());
}

#[tokio::test]
async fn preferences_have_defaults_and_keep_what_the_client_stores() {
    let app = spawn_app().await;
    let s = app.verified_user("prefs@example.com").await;
    let me = app.gql(Some(&s.access), doc!("identity/ViewerAccount"), json!({})).await;
    assert_eq!(me.data()["viewer"]["preferences"]["theme"], "SYSTEM");
    let layout = json!([{ "widget": "workflows", "x": 0, "y": 0, "w": 6 }]);
    let r = app
        .gql(
            Some(&s.access),
            doc!("identity/UpdatePreferences"),
            json!({ "input": { "theme": "DARK", "language": "de", "dashboardLayout": layout, "notifications": { "weeklyDigest": false } } }),
        )
        .await;
    let p = &r.data()["updatePreferences"]["preferences"];
    assert_eq!(p["theme"], "DARK");
    assert_eq!(p["dashboardLayout"], layout);
    let r = app
        .gql(
            Some(&s.access),
            doc!("identity/UpdatePreferences"),
            json!({ "input": { "notifications": [1, 2] } }),
        )
        .await;
    assert_eq!(r.field(), "input.notifications");
    let me = app.gql(Some(&s.access), doc!("identity/ViewerAccount"), json!({})).await;
    let p = &me.data()["viewer"]["preferences"];
    assert_eq!((p["theme"].clone(), p["language"].clone()), (json!("DARK"), json!("de")));
    assert_eq!(p["notifications"]["weeklyDigest"], false);
}

#[tokio::test]
async fn the_active_tenant_is_kept_on_the_session_for_members_only() {
    let app = spawn_app().await;
    let owner = app.verified_user("act-own@example.com").await;
    let tenant = app.create_tenant(&owner, "active-org").await;
    let (member, membership) = app.join_as(&owner, &tenant, "act-mem@example.com", "member").await;
    let r =
        app.gql(Some(&member.access), doc!("identity/SetActiveTenant"), json!({ "tenantId": tenant })).await;
    assert_eq!(r.data()["setActiveTenant"]["viewer"]["activeTenant"]["id"], tenant.as_str());
    let other = app.create_tenant(&owner, "not-yours").await;
    let r =
        app.gql(Some(&member.access), doc!("identity/SetActiveTenant"), json!({ "tenantId": other })).await;
    assert_eq!(r.code(), "NOT_FOUND");
    // Another session of the same user has its own choice.
    let second = app.log_in("act-mem@example.com").await;
    let me = app.gql(Some(&second.access), doc!("identity/ViewerAccount"), json!({})).await;
    assert!(me.data()["viewer"]["activeTenant"].is_null());
    // Suspended: the session's choice ends, and stays ended after reactivation.
    app.gql(Some(&owner.access), doc!("members/SuspendMember"), json!({ "membershipId": membership }))
        .await
        .data();
    app.gql(Some(&owner.access), doc!("members/ReactivateMember"), json!({ "membershipId": membership }))
        .await
        .data();
    let me = app.gql(Some(&member.access), doc!("identity/ViewerAccount"), json!({})).await;
    assert!(me.data()["viewer"]["activeTenant"].is_null(), "suspension ended the session's organisation");
    app.gql(Some(&member.access), doc!("identity/SetActiveTenant"), json!({ "tenantId": tenant }))
        .await
        .data();
    // Removed from the organisation: the choice no longer shows it.
    app.gql(Some(&owner.access), doc!("members/RemoveMember"), json!({ "membershipId": membership }))
        .await
        .data();
    let me = app.gql(Some(&member.access), doc!("identity/ViewerAccount"), json!({})).await;
    assert!(me.data()["viewer"]["activeTenant"].is_null());
}
