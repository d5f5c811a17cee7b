use serde_json::json;

use crate::{doc, gql::*, helpers::*};

/// The account page of the viewer behind `s`.
async fn account(app: &TestApp, s: &Session) -> viewer_account::ViewerAccountViewer {
    app.op::<ViewerAccount>(Some(&s.access), viewer_account::Variables)
        .await
        .into_data()
        .viewer
        .expect("a viewer")
}

#[tokio::test]
async fn the_profile_is_validated_field_by_field_and_can_be_cleared() {
    let app = spawn_app().await;
    let s = app.verified_user("prof@example.com").await;
    let update = |input: serde_json::Value| {
        let (app, token) = (&app, s.access.clone());
        // JSON variables: clearing a field sends an explicit `null`.
        async move { app.op_json::<UpdateProfile>(Some(&token), json!({ "input": input })).await }
    };
    let r = update(json!({ "name": "Ada L.", "avatarUrl": "https://cdn.example.com/a.png", "locale": "en-GB", "timeZone": "Europe/Berlin" })).await;
    let v = &r.data().update_profile.viewer;
    assert_eq!(v.name, "Ada L.");
    assert_eq!(v.time_zone.as_deref(), Some("Europe/Berlin"));
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
    assert!(r.data().update_profile.viewer.avatar_url.is_none());
    let me = account(&app, &s).await;
    assert_eq!(me.locale.as_deref(), Some("en-GB"), "failed updates changed nothing");
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
    let reset = |email: &str| {
        app.op::<RequestPasswordReset>(None, request_password_reset::Variables { email: email.into() })
    };
    let (known, unknown) = (reset("forgot@example.com").await, reset("nobody@example.com").await);
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
    assert_eq!(account(&app, &s).await.preferences.theme, viewer_account::Theme::SYSTEM);
    let layout = json!([{ "widget": "workflows", "x": 0, "y": 0, "w": 6 }]);
    let r = app
        .op_json::<UpdatePreferences>(
            Some(&s.access),
            json!({ "input": { "theme": "DARK", "language": "de", "dashboardLayout": layout } }),
        )
        .await;
    let p = &r.data().update_preferences.preferences;
    assert_eq!(p.theme, update_preferences::Theme::DARK);
    assert_eq!(p.dashboard_layout, layout);
    let r = app
        .gql(
            Some(&s.access),
            doc!("identity/UpdatePreferences"),
            json!({ "input": { "dashboardLayout": "x".repeat(70 * 1024) } }),
        )
        .await;
    assert_eq!(r.field(), "input.dashboardLayout");
    let p = account(&app, &s).await.preferences;
    assert_eq!((p.theme, p.language.as_deref()), (viewer_account::Theme::DARK, Some("de")));
    assert_eq!(p.dashboard_layout, layout);
}

#[tokio::test]
async fn the_active_tenant_is_kept_on_the_session_for_members_only() {
    let app = spawn_app().await;
    let owner = app.verified_user("act-own@example.com").await;
    let tenant = app.create_tenant(&owner, "active-org").await;
    let (member, membership) = app.join_as(&owner, &tenant, "act-mem@example.com", "member").await;
    let vars = set_active_tenant::Variables { tenant_id: Some(tenant.clone()) };
    let r = app.op::<SetActiveTenant>(Some(&member.access), vars).await;
    assert_eq!(
        r.data().set_active_tenant.viewer.active_tenant.as_ref().map(|t| t.id.as_str()),
        Some(tenant.as_str())
    );
    let other = app.create_tenant(&owner, "not-yours").await;
    let r =
        app.gql(Some(&member.access), doc!("identity/SetActiveTenant"), json!({ "tenantId": other })).await;
    assert_eq!(r.code(), "NOT_FOUND");
    // Another session of the same user has its own choice.
    let second = app.log_in("act-mem@example.com").await;
    assert!(account(&app, &second).await.active_tenant.is_none());
    // Suspended: the session's choice ends, and stays ended after reactivation.
    app.gql(Some(&owner.access), doc!("members/SuspendMember"), json!({ "membershipId": membership }))
        .await
        .data();
    app.gql(Some(&owner.access), doc!("members/ReactivateMember"), json!({ "membershipId": membership }))
        .await
        .data();
    let me = account(&app, &member).await;
    assert!(me.active_tenant.is_none(), "suspension ended the session's organisation");
    app.gql(Some(&member.access), doc!("identity/SetActiveTenant"), json!({ "tenantId": tenant }))
        .await
        .data();
    // Removed from the organisation: the choice no longer shows it.
    app.gql(Some(&owner.access), doc!("members/RemoveMember"), json!({ "membershipId": membership }))
        .await
        .data();
    assert!(account(&app, &member).await.active_tenant.is_none());
}
