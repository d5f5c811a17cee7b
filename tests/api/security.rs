//! Account security: TOTP MFA and backup codes (codes from an independent implementation),
//! sessions and their WebSockets, lockout and throttling, the password policy, the
//! security log, and organisations that require MFA.

use std::time::Duration;

use serde_json::json;

use crate::{doc, gql::*, helpers::*};

async fn security(app: &TestApp, s: &Session) -> viewer_security::ViewerSecurityViewer {
    let vars = viewer_security::Variables { events_last: Some(50) };
    app.op::<ViewerSecurity>(Some(&s.access), vars).await.into_data().viewer.expect("a signed-in viewer")
}

fn event_kinds(viewer: &viewer_security::ViewerSecurityViewer) -> Vec<String> {
    viewer
        .security_events
        .edges
        .iter()
        .map(|e| serde_json::to_value(&e.node.kind).unwrap().as_str().unwrap_or("?").to_string())
        .collect()
}

/// The session of a sign-in's tokens.
fn session(access: &str, refresh: &str, user_id: &str) -> Session {
    Session { access: access.into(), refresh: refresh.into(), user_id: user_id.into() }
}

/// Turns MFA on for `s` with a code for the previous time step (so that the current and
/// next steps stay free for the test); returns the secret and the backup codes.
async fn enroll(app: &TestApp, s: &Session) -> (String, Vec<String>) {
    let (secret, codes, _) = enroll_with_code(app, s).await;
    (secret, codes)
}

/// `enroll`, also returning the code the enrollment used (recomputing "the previous step"
/// later may name the next step if a 30 s boundary passed in between).
async fn enroll_with_code(app: &TestApp, s: &Session) -> (String, Vec<String>, String) {
    let e = app.op::<StartTotpEnrollment>(Some(&s.access), start_totp_enrollment::Variables).await;
    let e = e.into_data().start_totp_enrollment;
    let secret = e.secret.clone();
    assert!(e.otpauth_uri.starts_with("otpauth://totp/Zygo:"), "{e:?}");
    assert!(e.qr_code.starts_with("data:image/svg+xml;base64,"));
    let used = totp_code(&secret, -30).await;
    let vars = confirm_totp_enrollment::Variables { code: used.clone() };
    let r = app.op::<ConfirmTotpEnrollment>(Some(&s.access), vars).await;
    let codes: Vec<String> = r.into_data().confirm_totp_enrollment.backup_codes;
    (secret, codes, used)
}

async fn challenge(app: &TestApp, email: &str) -> String {
    let r = app.log_in_as(email, PASSWORD, "test").await.typed::<LogIn>();
    let d = r.into_data().log_in;
    assert!(d.tokens.is_none(), "no tokens before the second factor: {d:?}");
    d.mfa_challenge.expect("a challenge").challenge
}

#[tokio::test]
async fn totp_codes_from_another_implementation_sign_in_once_each_and_backup_codes_recover() {
    let app = spawn_app().await;
    let s = app.verified_user("mfa@example.com").await;
    let bad =
        app.gql(Some(&s.access), doc!("security/ConfirmTotpEnrollment"), json!({ "code": "123456" })).await;
    assert_eq!(bad.field(), "code", "no enrollment started yet");
    let (secret, codes, enrollment_code) = enroll_with_code(&app, &s).await;
    assert_eq!(codes.len(), 10);
    let v = security(&app, &s).await;
    assert!(v.mfa.totp_enabled);
    assert_eq!(v.mfa.backup_codes_remaining, 10);

    // The password alone gives a challenge; a wrong code does not pass it.
    let c = challenge(&app, "mfa@example.com").await;
    let wrong = app
        .gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c, "code": "000000" }))
        .await;
    assert_eq!(wrong.field(), "code");
    // The enrollment's code was used: it never passes again.
    let replay = app
        .gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c, "code": enrollment_code }))
        .await;
    assert_eq!(replay.field(), "code", "{:?}", replay.0);
    let code = totp_code(&secret, 30).await;
    let ok = app
        .op_json::<CompleteMfaChallenge>(None, json!({ "challenge": c, "code": code }))
        .await
        .into_data()
        .complete_mfa_challenge;
    let signed_in = session(&ok.access_token, &ok.refresh_token, &ok.viewer.id);
    assert!(app.gql(Some(&signed_in.access), doc!("identity/Viewer"), json!({})).await.0["errors"].is_null());
    // A used challenge is gone, and the same code does not open a second one.
    let again =
        app.gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c, "code": code })).await;
    assert_eq!(again.code(), "UNAUTHENTICATED");
    let c2 = challenge(&app, "mfa@example.com").await;
    let reused =
        app.gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c2, "code": code })).await;
    assert_eq!(reused.field(), "code");

    // A backup code works once (any spelling), then never again.
    let backup = codes[0].to_uppercase().replace('-', " ");
    let r = app
        .gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c2, "backupCode": backup }))
        .await;
    r.data();
    let c3 = challenge(&app, "mfa@example.com").await;
    let r = app
        .gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c3, "backupCode": codes[0] }))
        .await;
    assert_eq!(r.field(), "backupCode");
    let v = security(&app, &s).await;
    assert_eq!(v.mfa.backup_codes_remaining, 9);
    let kinds = event_kinds(&v);
    for k in ["MFA_ENABLED", "MFA_CHALLENGE_FAILED", "BACKUP_CODE_USED", "LOGIN_SUCCEEDED"] {
        assert!(kinds.contains(&k.to_string()), "{k} in {kinds:?}");
    }

    // Five wrong codes use a challenge up.
    let c4 = challenge(&app, "mfa@example.com").await;
    for _ in 0..5 {
        app.gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c4, "code": "111111" }))
            .await;
    }
    let r = app
        .gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c4, "backupCode": codes[1] }))
        .await;
    assert_eq!(r.code(), "UNAUTHENTICATED");

    // Turning MFA off needs proof; then the password alone signs in again.
    let r = app
        .gql(Some(&s.access), doc!("security/DisableTotp"), json!({ "password": "wrong password!" }))
        .await;
    assert_eq!(r.field(), "password");
    app.gql(Some(&s.access), doc!("security/DisableTotp"), json!({ "password": PASSWORD })).await.data();
    let r = app.log_in_as("mfa@example.com", PASSWORD, "test").await.typed::<LogIn>();
    assert!(r.data().log_in.tokens.as_ref().is_some_and(|t| !t.access_token.is_empty()));
    assert!(event_kinds(&security(&app, &s).await).contains(&"MFA_DISABLED".to_string()));
}

/// The stored TOTP seed of `email`.
async fn stored_seed(app: &TestApp, email: &str) -> Option<String> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let db = app.db().await;
    let user = entity::user::Entity::find().filter(entity::user::Column::Email.eq(email)).one(&db).await;
    user.unwrap().unwrap().totp_secret
}

#[tokio::test]
async fn totp_seeds_are_sealed_at_rest_and_ones_stored_in_clear_are_sealed_at_startup() {
    let backend = Backend::fresh().await;
    let data_dir = std::env::temp_dir().join(format!("zygo-test-seeds-{}", uuid::Uuid::new_v4().simple()));
    let opts = Options { data_dir: Some(data_dir), ..Default::default() };
    let app = spawn_app_on(backend.clone(), opts.clone()).await;
    let s = app.verified_user("seed@example.com").await;
    let (secret, codes) = enroll(&app, &s).await;
    let sealed = stored_seed(&app, "seed@example.com").await.unwrap();
    assert!(sealed.starts_with("v1:") && !sealed.contains(&secret), "sealed at rest: {sealed}");

    // A seed in clear, as an earlier version stored it, still signs in...
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let db = app.db().await;
        entity::user::Entity::update_many()
            .col_expr(entity::user::Column::TotpSecret, Expr::value(secret.clone()))
            .filter(entity::user::Column::Email.eq("seed@example.com"))
            .exec(&db)
            .await
            .unwrap();
    }
    let c = challenge(&app, "seed@example.com").await;
    let ok = app
        .gql(
            None,
            doc!("security/CompleteMfaChallenge"),
            json!({ "challenge": c, "code": totp_code(&secret, 30).await }),
        )
        .await;
    ok.data();
    // ...and the next start seals it.
    let again = spawn_app_on(backend.clone(), opts.clone()).await;
    let resealed = stored_seed(&again, "seed@example.com").await.unwrap();
    assert!(resealed.starts_with("v1:") && resealed != sealed && !resealed.contains(&secret), "{resealed}");
    let c = challenge(&again, "seed@example.com").await;
    let wrong = again
        .gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c, "code": "000000" }))
        .await;
    assert_eq!(wrong.field(), "code");

    // A seed that no longer decrypts (say the master key was replaced) fails codes, not the
    // sign-in: a backup code still gets in.
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let db = app.db().await;
        entity::user::Entity::update_many()
            .col_expr(entity::user::Column::TotpSecret, Expr::value(sealed.replace("v1:", "v1:AAAA")))
            .filter(entity::user::Column::Email.eq("seed@example.com"))
            .exec(&db)
            .await
            .unwrap();
    }
    let c = challenge(&again, "seed@example.com").await;
    let r = again
        .gql(
            None,
            doc!("security/CompleteMfaChallenge"),
            json!({ "challenge": c.clone(), "code": totp_code(&secret, 0).await }),
        )
        .await;
    assert_eq!(r.field(), "code", "{:?}", r.0);
    let r = again
        .gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c, "backupCode": codes[0] }))
        .await;
    r.data();
}

#[tokio::test]
async fn backup_codes_can_be_regenerated_with_a_current_code() {
    let app = spawn_app().await;
    let s = app.verified_user("regen@example.com").await;
    let (secret, old) = enroll(&app, &s).await;
    let r =
        app.gql(Some(&s.access), doc!("security/RegenerateBackupCodes"), json!({ "code": "999999" })).await;
    assert_eq!(r.field(), "code");
    let r = app
        .gql(
            Some(&s.access),
            doc!("security/RegenerateBackupCodes"),
            json!({ "code": totp_code(&secret, 0).await }),
        )
        .await;
    let new = r.typed::<RegenerateBackupCodes>().into_data().regenerate_backup_codes.backup_codes;
    assert_eq!(new.len(), 10);
    let c = challenge(&app, "regen@example.com").await;
    let r = app
        .gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c, "backupCode": old[0] }))
        .await;
    assert_eq!(r.field(), "backupCode", "old codes stop working");
    let r = app
        .gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c, "backupCode": new[0] }))
        .await;
    r.data();
}

#[tokio::test]
async fn an_organisation_can_require_mfa_of_its_members() {
    let app = spawn_app().await;
    let owner = app.verified_user("mfa-owner@example.com").await;
    let id = app.create_tenant(&owner, "mfa-org").await;
    let (member, _) = app.join_as(&owner, &id, "mfa-member@example.com", "member").await;
    let require = json!({ "input": { "tenantId": id, "security": { "requireMfa": true } } });
    let r = app.gql(Some(&owner.access), doc!("tenancy/UpdateTenantSettings"), require.clone()).await;
    assert_eq!(r.field(), "input.security.requireMfa", "the owner needs MFA first");
    enroll(&app, &owner).await;
    let r = app.op_json::<UpdateTenantSettings>(Some(&owner.access), require).await;
    assert!(r.data().update_tenant_settings.tenant.settings.security.require_mfa);

    let tenant = |s: &Session| {
        let token = s.access.clone();
        let app = &app;
        let id = id.clone();
        async move { app.gql(Some(&token), doc!("tenancy/Tenant"), json!({ "id": id })).await }
    };
    let r = tenant(&member).await;
    assert_eq!(r.code(), "MFA_REQUIRED", "{:?}", r.0);
    assert!(tenant(&owner).await.0["errors"].is_null());
    enroll(&app, &member).await;
    let r = tenant(&member).await;
    let through = r.clone().typed::<Tenant>();
    assert_eq!(through.partial().tenant.slug, "mfa-org", "enrolled members get through: {:?}", r.0);
}

#[tokio::test]
async fn sessions_are_listed_and_revoking_one_closes_its_websockets_at_once() {
    let app = spawn_app().await;
    let a = app.verified_user("sess@example.com").await;
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0";
    let b = app.log_in_as("sess@example.com", PASSWORD, firefox).await.typed::<LogIn>();
    let b = b.into_data().log_in.tokens.expect("tokens");
    let b = session(&b.access_token, &b.refresh_token, &b.viewer.id);
    let list = security(&app, &a).await.sessions;
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s.current).count(), 1);
    let b_row = list.iter().find(|s| s.user_agent.as_deref() == Some(firefox)).expect("B listed").clone();
    assert_eq!(b_row.device, "Firefox on Linux");
    assert_eq!(b_row.ip.as_deref(), Some("127.0.0.1"));

    // A new device gets a sign-in alert mail.
    let alert = app.mail_about("sess@example.com", "New sign-in", 1).await;
    assert!(alert.contains("Firefox on Linux"), "{alert}");

    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&b.access)).await.unwrap()["type"], "connection_ack");
    app.gql(Some(&a.access), doc!("security/RevokeSession"), json!({ "id": b_row.id })).await.data();
    // Closed by the revocation itself (pushed over the event bus), not by the token running
    // out (15 minutes away, reason "access token expired"): no wall-clock bound needed.
    assert_eq!(ws.close_frame().await, Some((4401, "session revoked".to_string())));
    let r = app.gql(Some(&b.access), doc!("identity/Viewer"), json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED", "the revoked session's access token stops at once");

    // Another user's session id is simply not found.
    let other = app.verified_user("sess-other@example.com").await;
    let r = app.gql(Some(&other.access), doc!("security/RevokeSession"), json!({ "id": list[0].id })).await;
    assert_eq!(r.code(), "NOT_FOUND");

    let c = app.log_in("sess@example.com").await;
    let r = app.op::<RevokeOtherSessions>(Some(&a.access), revoke_other_sessions::Variables).await;
    assert_eq!(r.data().revoke_other_sessions.revoked_count, 1);
    assert_eq!(app.gql(Some(&c.access), doc!("identity/Viewer"), json!({})).await.code(), "UNAUTHENTICATED");
    assert!(event_kinds(&security(&app, &a).await).contains(&"SESSION_REVOKED".to_string()));
}

#[tokio::test]
async fn a_password_change_on_one_instance_closes_websockets_on_another() {
    let mut backend = Backend::fresh().await;
    backend.redis_url = Some(crate::event_bus::redis_url());
    let data_dir = std::env::temp_dir().join(format!("zygo-test-shared-{}", uuid::Uuid::new_v4().simple()));
    let opts = Options { data_dir: Some(data_dir), ..Default::default() };
    let one = spawn_app_on(backend.clone(), opts.clone()).await;
    let two = spawn_app_on(backend, opts).await;
    let a = one.verified_user("x-inst@example.com").await;
    let b = one.log_in("x-inst@example.com").await;
    let mut ws = WsClient::connect(&two, "graphql-transport-ws").await;
    assert_eq!(ws.init(Some(&b.access)).await.unwrap()["type"], "connection_ack");
    let mut own = WsClient::connect(&two, "graphql-transport-ws").await;
    assert_eq!(own.init(Some(&a.access)).await.unwrap()["type"], "connection_ack");
    one.gql(
        Some(&a.access),
        doc!("identity/ChangePassword"),
        json!({ "currentPassword": PASSWORD, "newPassword": "a much better secret" }),
    )
    .await
    .data();
    // Closed by the password change, pushed over the shared event bus from the other
    // instance, not by the token running out (15 minutes away, reason "access token
    // expired"): no wall-clock bound needed.
    assert_eq!(ws.close_frame().await, Some((4401, "password changed".to_string())));
    // The session that changed the password keeps its socket.
    own.subscribe("1", "query { viewer { id } }", json!({})).await;
    assert_eq!(own.next_json().await.unwrap()["type"], "next");
}

#[tokio::test]
async fn a_websocket_closes_when_its_token_expires_unless_the_client_reauthenticates() {
    let app = spawn_app_on(
        Backend::fresh().await,
        Options { env: vec![("ZYGO_ACCESS_TOKEN_TTL", "6".into())], ..Default::default() },
    )
    .await;
    let s = app.verified_user("expiry@example.com").await;
    let mut lapsing = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(lapsing.init(Some(&s.access)).await.unwrap()["type"], "connection_ack");
    let mut renewing = WsClient::connect(&app, "graphql-transport-ws").await;
    assert_eq!(renewing.init(Some(&s.access)).await.unwrap()["type"], "connection_ack");
    // Renew before the first token runs out (but late enough for the new one to outlive
    // it: expiry is in whole seconds), with a refreshed access token in a ping.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let vars = refresh_session::Variables { refresh_token: s.refresh.clone() };
    let fresh = app.op::<RefreshSession>(None, vars).await.into_data().refresh_session.access_token;
    renewing.send(json!({ "type": "ping", "payload": { "accessToken": fresh } })).await;
    assert_eq!(renewing.next_json().await.unwrap()["type"], "pong");

    assert_eq!(lapsing.close_code().await, Some(4401), "closes when the token expires");
    renewing.subscribe("1", "query { viewer { email } }", json!({})).await;
    let msg = renewing.next_json().await.unwrap();
    assert_eq!(msg["payload"]["data"]["viewer"]["email"], "expiry@example.com", "{msg}");
}

#[tokio::test]
async fn parallel_wrong_passwords_cannot_pass_the_lockout_and_unknown_emails_look_the_same() {
    let app = spawn_app_on(
        Backend::fresh().await,
        Options { env: vec![("ZYGO_LOGIN_MAX_FAILURES", "3".into())], ..Default::default() },
    )
    .await;
    let s = app.verified_user("locked@example.com").await;
    let attempt = |email: &'static str, password: &'static str| {
        let app = &app;
        async move { app.log_in_as(email, password, "attacker").await }
    };
    let tally = |rs: Vec<Gql>| {
        let mut wrong = 0;
        let mut limited = 0;
        for r in rs {
            match r.code().as_str() {
                "UNAUTHENTICATED" => wrong += 1,
                "RATE_LIMITED" => {
                    assert!(r.0["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap() > 0);
                    limited += 1
                }
                other => panic!("unexpected {other}"),
            }
        }
        (wrong, limited)
    };
    let known =
        futures::future::join_all((0..12).map(|_| attempt("locked@example.com", "not the password"))).await;
    assert_eq!(tally(known), (3, 9), "exactly the limit reached the password check");
    let unknown =
        futures::future::join_all((0..12).map(|_| attempt("ghost@example.com", "not the password"))).await;
    assert_eq!(tally(unknown), (3, 9), "an unknown address answers the same");
    // Locked: even the right password is refused, with the retry time.
    let r = attempt("locked@example.com", PASSWORD).await;
    assert_eq!(r.code(), "RATE_LIMITED");

    // The owner got an unlock link; it works once.
    let token = app.mailed_token_about("locked@example.com", "locked", 1).await;
    app.gql(None, doc!("security/UnlockAccount"), json!({ "token": token })).await.data();
    let r = app.gql(None, doc!("security/UnlockAccount"), json!({ "token": token })).await;
    assert_eq!(r.field(), "token");
    let r = attempt("locked@example.com", PASSWORD).await.typed::<LogIn>();
    assert!(r.data().log_in.tokens.as_ref().is_some_and(|t| !t.access_token.is_empty()));
    let kinds = event_kinds(&security(&app, &s).await);
    for k in ["LOGIN_FAILED", "ACCOUNT_LOCKED", "ACCOUNT_UNLOCKED"] {
        assert!(kinds.contains(&k.to_string()), "{k} in {kinds:?}");
    }
}

#[tokio::test]
async fn reset_and_verification_mails_are_throttled_alike_for_every_address() {
    let app = spawn_app().await;
    app.verified_user("reset-many@example.com").await;
    for email in ["reset-many@example.com", "nobody-here@example.com"] {
        for _ in 0..5 {
            app.gql(None, doc!("identity/RequestPasswordReset"), json!({ "email": email })).await.data();
        }
        let r = app.gql(None, doc!("identity/RequestPasswordReset"), json!({ "email": email })).await;
        assert_eq!(r.code(), "RATE_LIMITED", "{email}");
    }
    for _ in 0..5 {
        app.gql(None, doc!("identity/ResendVerification"), json!({ "email": "someone@example.com" }))
            .await
            .data();
    }
    let r =
        app.gql(None, doc!("identity/ResendVerification"), json!({ "email": "someone@example.com" })).await;
    assert_eq!(r.code(), "RATE_LIMITED");
}

#[tokio::test]
async fn the_password_policy_refuses_common_and_personal_passwords() {
    let app = spawn_app().await;
    let sign_up = |password: &'static str| {
        let app = &app;
        async move {
            app.gql(
                None,
                doc!("identity/SignUp"),
                json!({ "input": { "email": "grace.hopper@example.com", "password": password, "name": "Grace Hopper" } }),
            )
            .await
        }
    };
    for bad in ["1234567", "password1", "BASEBALL", "grace.hopper99", "I am Grace Hopper"] {
        let r = sign_up(bad).await;
        assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.password"), "{bad}");
    }
    sign_up("compilers and cobol").await.data();
}

#[tokio::test]
async fn turning_on_mfa_or_setting_a_first_password_needs_a_recent_sign_in() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = spawn_app().await;
    let s = app.verified_user("stale@example.com").await;
    // The session began an hour ago: a stolen access token looks like this.
    entity::session::Entity::update_many()
        .col_expr(
            entity::session::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
        )
        .filter(entity::session::Column::UserId.is_not_null())
        .exec(&app.db().await)
        .await
        .unwrap();
    let r = app.gql(Some(&s.access), doc!("security/StartTotpEnrollment"), json!({})).await;
    assert_eq!(r.code(), "REAUTHENTICATION_REQUIRED");
    let fresh = app.log_in("stale@example.com").await;
    app.gql(Some(&fresh.access), doc!("security/StartTotpEnrollment"), json!({})).await.data();
}

#[tokio::test]
async fn parallel_wrong_codes_cannot_pass_a_challenges_attempt_cap() {
    let app = spawn_app().await;
    let s = app.verified_user("mfa-race@example.com").await;
    let (secret, _) = enroll(&app, &s).await;
    let c = challenge(&app, "mfa-race@example.com").await;
    let answers = futures::future::join_all((0..30).map(|i| {
        let (app, c) = (&app, c.clone());
        async move {
            let code = format!("{:06}", 100_000 + i);
            app.gql(None, doc!("security/CompleteMfaChallenge"), json!({ "challenge": c, "code": code }))
                .await
        }
    }))
    .await;
    let checked = answers.iter().filter(|a| a.code() == "BAD_USER_INPUT").count();
    let refused = answers.iter().filter(|a| a.code() == "UNAUTHENTICATED").count();
    assert!(checked <= 5, "{checked} codes were checked against a cap of 5");
    assert_eq!(checked + refused, 30, "every other attempt is refused as a used-up challenge");
    // The used-up challenge takes no more codes, the right one included.
    let right = app
        .gql(
            None,
            doc!("security/CompleteMfaChallenge"),
            json!({ "challenge": c, "code": totp_code(&secret, 0).await }),
        )
        .await;
    assert_eq!(right.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_session_ended_on_one_instance_is_refused_by_another_that_had_it_cached() {
    let mut backend = Backend::fresh().await;
    backend.redis_url = Some(crate::event_bus::redis_url());
    let data_dir = std::env::temp_dir().join(format!("zygo-test-shared-{}", uuid::Uuid::new_v4().simple()));
    // An hour of trust: only the end announced over the bus can make instance two refuse.
    let opts = Options {
        data_dir: Some(data_dir),
        env: vec![("ZYGO_SESSION_CACHE_TTL", "3600".into())],
        ..Default::default()
    };
    let one = spawn_app_on(backend.clone(), opts.clone()).await;
    let two = spawn_app_on(backend, opts).await;
    let s = one.verified_user("cached@example.com").await;
    // Instance two finds the session open and caches it.
    assert!(two.gql(Some(&s.access), doc!("identity/Viewer"), json!({})).await.0["errors"].is_null());
    one.gql(Some(&s.access), doc!("identity/LogOut"), json!({})).await.data();
    // The same instance refuses at once; the other as soon as the end reaches it.
    let here = one.gql(Some(&s.access), doc!("identity/Viewer"), json!({})).await;
    assert_eq!(here.code(), "UNAUTHENTICATED");
    eventually(10, || async {
        let r = two.gql(Some(&s.access), doc!("identity/Viewer"), json!({})).await;
        (r.code() == "UNAUTHENTICATED").then_some(())
    })
    .await;
}
