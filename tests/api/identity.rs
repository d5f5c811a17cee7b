use chrono::Utc;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;
use uuid::Uuid;

use crate::{doc, gql::*, helpers::*};

/// The viewer without paging arguments.
fn viewer_vars() -> viewer::Variables {
    viewer::Variables { first: None, after: None, last: None, before: None }
}

#[tokio::test]
async fn sign_up_mails_a_link_that_verifies_the_address() {
    let app = spawn_app().await;
    let user = app.sign_up("Ada@Example.com").await.into_data().sign_up.user;
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    assert!(!user.email_verified);

    let mail = {
        app.mailed_token("ada@example.com").await;
        app.mails_to("ada@example.com").remove(0)
    };
    assert!(mail.contains("http://zygo.test/verify-email?token="), "link uses ZYGO_PUBLIC_URL:\n{mail}");
    let token = app.mailed_token("ada@example.com").await;
    let r = app.op::<VerifyEmail>(None, verify_email::Variables { token }).await;
    assert!(r.data().verify_email.user.email_verified);

    let s = app.log_in("ada@example.com").await;
    let viewer = app.op::<Viewer>(Some(&s.access), viewer_vars()).await.into_data().viewer.expect("a viewer");
    assert!(viewer.email_verified);
    assert_eq!(viewer.email, "ada@example.com");
}

#[tokio::test]
async fn verification_token_is_single_use() {
    let app = spawn_app().await;
    app.sign_up("once@example.com").await.data();
    let token = app.mailed_token("once@example.com").await;
    app.gql(None, doc!("identity/VerifyEmail"), json!({ "token": token })).await.data();
    let again = app.gql(None, doc!("identity/VerifyEmail"), json!({ "token": token })).await;
    assert_eq!(again.code(), "BAD_USER_INPUT");
    assert_eq!(again.field(), "token");
}

#[tokio::test]
async fn tampered_and_expired_verification_tokens_are_refused() {
    let app = spawn_app().await;
    app.sign_up("late@example.com").await.data();
    let token = app.mailed_token("late@example.com").await;
    let tampered = format!("{}x", &token[..token.len() - 1]);
    let r = app.gql(None, doc!("identity/VerifyEmail"), json!({ "token": tampered })).await;
    assert_eq!(r.code(), "BAD_USER_INPUT");

    let db = app.db().await;
    let past = Utc::now() - chrono::Duration::hours(1);
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => "UPDATE user_tokens SET expires_at = $1",
        _ => "UPDATE user_tokens SET expires_at = ?",
    };
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, [past.into()]))
        .await
        .unwrap();
    let r = app.gql(None, doc!("identity/VerifyEmail"), json!({ "token": token })).await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert!(r.message().contains("expired"));
}

#[tokio::test]
async fn resend_verification_answers_the_same_for_unknown_addresses_and_replaces_the_link() {
    let app = spawn_app().await;
    app.sign_up("again@example.com").await.data();
    let first = app.mailed_token_n("again@example.com", 1).await;
    let resend = |email: &str| {
        app.op::<ResendVerification>(None, resend_verification::Variables { email: email.into() })
    };
    let (known, unknown) = (resend("again@example.com").await, resend("nobody@example.com").await);
    assert_eq!(known.data(), unknown.data());
    let second = app.mailed_token_other_than("again@example.com", &first).await;
    assert_ne!(first, second);
    let old = app.gql(None, doc!("identity/VerifyEmail"), json!({ "token": first })).await;
    assert_eq!(old.code(), "BAD_USER_INPUT", "the older link stops working");
    app.gql(None, doc!("identity/VerifyEmail"), json!({ "token": second })).await.data();
    assert!(app.mails_to("nobody@example.com").is_empty());
}

#[tokio::test]
async fn sign_up_rejects_bad_input_naming_the_field_and_creates_nothing() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "email": "not-an-email", "password": PASSWORD, "name": "A" }), "input.email"),
        (json!({ "email": "a@example.com", "password": "short", "name": "A" }), "input.password"),
        (json!({ "email": "a@example.com", "password": "x".repeat(129), "name": "A" }), "input.password"),
        (json!({ "email": "a@example.com", "password": PASSWORD, "name": "  " }), "input.name"),
    ];
    for (input, field) in cases {
        let r = app.gql(None, doc!("identity/SignUp"), json!({ "input": input })).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{input}");
        assert_eq!(r.field(), field, "{input}");
    }
    // Nothing was created: the address is still free.
    app.sign_up("a@example.com").await.data();
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.sign_up("known@example.com").await.data();
    let wrong = app
        .gql(
            None,
            doc!("identity/LogIn"),
            json!({ "input": { "email": "known@example.com", "password": "wrong password!" } }),
        )
        .await;
    let unknown = app
        .gql(
            None,
            doc!("identity/LogIn"),
            json!({ "input": { "email": "ghost@example.com", "password": "wrong password!" } }),
        )
        .await;
    assert_eq!(wrong.code(), "UNAUTHENTICATED");
    assert_eq!(wrong.message(), unknown.message());
    assert_eq!(wrong.code(), unknown.code());
}

#[tokio::test]
async fn unverified_users_can_log_in() {
    let app = spawn_app().await;
    app.sign_up("fresh@example.com").await.data();
    let s = app.log_in("fresh@example.com").await;
    let viewer = app.op::<Viewer>(Some(&s.access), viewer_vars()).await.into_data().viewer.expect("a viewer");
    assert!(!viewer.email_verified);
}

#[tokio::test]
async fn viewer_is_null_without_a_token() {
    let app = spawn_app().await;
    let r = app.op::<Viewer>(None, viewer_vars()).await;
    assert!(r.data().viewer.is_none());
}

#[tokio::test]
async fn expired_and_tampered_access_tokens_are_refused() {
    let app = spawn_app().await;
    let s = app.verified_user("tok@example.com").await;
    let mut tampered = s.access.clone();
    tampered.pop();
    tampered.push(if s.access.ends_with('A') { 'B' } else { 'A' });
    let r = app.gql(Some(&tampered), "mutation { logOut { success } }", json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");

    // A correctly signed token whose time is up.
    let keys = zygo::auth::tokens::JwtKeys::new(JWT_SECRET.as_bytes());
    let (user, _) = keys.verify_access(&s.access).unwrap();
    let session = Uuid::now_v7();
    let past = Utc::now() - chrono::Duration::hours(2);
    let expired = keys.issue_access(user, session, past, past + chrono::Duration::minutes(15)).unwrap();
    let r = app.gql(Some(&expired), "mutation { logOut { success } }", json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
    assert!(r.message().contains("expired"), "{}", r.message());

    // A token signed with another key.
    let forged = zygo::auth::tokens::JwtKeys::new(b"some-other-secret-some-other-secret!")
        .issue_access(user, session, Utc::now(), Utc::now() + chrono::Duration::minutes(5))
        .unwrap();
    let r = app.gql(Some(&forged), "mutation { logOut { success } }", json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_ends_the_session() {
    let app = spawn_app().await;
    let s = app.verified_user("rot@example.com").await;
    let refresh = |token: &str| {
        app.op::<RefreshSession>(None, refresh_session::Variables { refresh_token: token.into() })
    };
    let next = refresh(&s.refresh).await.into_data().refresh_session;
    let (access2, refresh2) = (next.access_token.as_str(), next.refresh_token.as_str());
    assert_ne!(refresh2, s.refresh);
    app.op::<Viewer>(Some(access2), viewer_vars()).await.data();

    // The old refresh token again: reuse. The whole session family ends.
    let reuse = refresh(&s.refresh).await;
    assert_eq!(reuse.code(), "UNAUTHENTICATED");
    let after = refresh(refresh2).await;
    assert_eq!(after.code(), "UNAUTHENTICATED", "the rotated-in token dies with the family");
    let viewer = app.gql(Some(access2), "mutation { logOut { success } }", json!({})).await;
    assert_eq!(viewer.code(), "UNAUTHENTICATED", "access tokens of the session stop working");
}

#[tokio::test]
async fn log_out_ends_the_session() {
    let app = spawn_app().await;
    let s = app.verified_user("bye@example.com").await;
    let r = app.op::<LogOut>(Some(&s.access), log_out::Variables).await;
    assert!(r.data().log_out.success);
    let r = app.gql(Some(&s.access), doc!("identity/Viewer"), json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED", "a revoked session's token no longer identifies anyone");
    let r = app.gql(Some(&s.access), doc!("identity/LogOut"), json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
    let r = app.gql(None, doc!("identity/RefreshSession"), json!({ "refreshToken": s.refresh })).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn sign_up_answers_a_taken_address_like_a_new_one_and_tells_only_its_owner() {
    let app = spawn_app().await;
    let owner = app.verified_user("taken@example.com").await;
    let attempt = |email: &'static str| {
        let input = sign_up::SignUpInput {
            email: email.into(),
            password: "another long passphrase 42".into(),
            name: "Mallory".into(),
        };
        app.op::<SignUp>(None, sign_up::Variables { input })
    };
    let taken = attempt("Taken@Example.com").await;
    let fresh = attempt("fresh@example.com").await;

    // The same answer, field for field, but for the address itself and the opaque id.
    assert!(!taken.has_errors(), "{:?}", taken.raw.0);
    let (t, f) = (&taken.data().sign_up, &fresh.data().sign_up);
    assert_eq!(t.verification_mail_sent, f.verification_mail_sent);
    assert_eq!(t.user.email.as_deref(), Some("taken@example.com"));
    assert_eq!(t.user.name, f.user.name);
    assert!(!t.user.email_verified);
    assert_ne!(t.user.id, owner.user_id, "the existing account's id is not revealed");
    // The same keys on the wire (a typed decode would accept a missing nullable one).
    let keys = |r: &Op<sign_up::ResponseData>| {
        r.raw.0["data"]["signUp"]["user"].as_object().unwrap().keys().cloned().collect::<Vec<_>>()
    };
    assert_eq!(keys(&taken), keys(&fresh));

    // The owner is told; the account is unchanged: its password still works, the new one not.
    let notice = app.mail_about("taken@example.com", "tried to sign up", 1).await;
    assert!(notice.contains("http://zygo.test/forgot-password"), "{notice}");
    app.mail_about("fresh@example.com", "Confirm your e-mail", 1).await;
    assert_eq!(
        app.mails_to("taken@example.com").len(),
        2,
        "verification of the real sign-up + the notice only"
    );
    app.log_in("taken@example.com").await;
    let wrong = app.log_in_as("taken@example.com", "another long passphrase 42", "test").await;
    assert_eq!(wrong.code(), "UNAUTHENTICATED");
}
