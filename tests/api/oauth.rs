//! OAuth / OpenID Connect sign-in against a real provider on loopback
//! (`tests/clients/oidc-provider.mjs`: RS256-signed ID tokens, PKCE, single-use codes),
//! including a wrong state, a replayed code, a bad signature, a wrong audience, an
//! expired token and a wrong nonce.

use serde_json::{Value, json};

use crate::{doc, gql::*, helpers::*};

struct Setup {
    app: TestApp,
    _provider: NodeService,
    no_redirects: reqwest::Client,
}

async fn setup() -> Setup {
    let provider = NodeService::start("oidc-provider.mjs", &[], &[("OIDC_CLIENT_SECRET", "s3cret")]);
    let issuer = provider.info["issuer"].as_str().unwrap().to_string();
    let env = vec![
        ("ZYGO_OAUTH_PROVIDERS", "corp,github".to_string()),
        ("ZYGO_OAUTH_CORP_ISSUER", issuer.clone()),
        ("ZYGO_OAUTH_CORP_CLIENT_ID", "zygo-client".into()),
        ("ZYGO_OAUTH_CORP_CLIENT_SECRET", "s3cret".into()),
        ("ZYGO_OAUTH_CORP_DISPLAY_NAME", "Corp SSO".into()),
        ("ZYGO_OAUTH_GITHUB_CLIENT_ID", "gh-client".into()),
        ("ZYGO_OAUTH_GITHUB_CLIENT_SECRET", "s3cret".into()),
        ("ZYGO_OAUTH_GITHUB_AUTHORIZE_URL", format!("{issuer}/login/oauth/authorize")),
        ("ZYGO_OAUTH_GITHUB_TOKEN_URL", format!("{issuer}/login/oauth/access_token")),
        ("ZYGO_OAUTH_GITHUB_API_URL", format!("{issuer}/api")),
    ];
    let app = spawn_app_on(Backend::fresh().await, Options { env, ..Default::default() }).await;
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Setup { app, _provider: provider, no_redirects }
}

impl Setup {
    /// GET without following: the redirect target, and a cookie the answer set (if any).
    async fn redirect(&self, url: &str, cookie: Option<&str>) -> (String, Option<String>) {
        let mut req = self.no_redirects.get(url);
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 302, "{url}");
        let set =
            r.headers().get("set-cookie").map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
        (r.headers()["location"].to_str().unwrap().to_string(), set)
    }

    async fn location(&self, url: &str) -> String {
        self.redirect(url, None).await.0
    }

    /// The browser's part after the provider's page: the provider "logs in" the identity in
    /// `user` (query parameters, plus misbehaviour knobs) and sends the browser (carrying
    /// `cookie`) back to Zygo's callback. Returns the callback URL (pointed at the test app)
    /// and where Zygo sends the browser afterwards.
    async fn through_provider(&self, authorize: &str, user: &str, cookie: Option<&str>) -> (String, String) {
        let callback = self.location(&format!("{authorize}&{user}")).await;
        let callback = callback.replace("http://zygo.test", &format!("http://{}", self.app.addr));
        let landing = self.redirect(&callback, cookie).await.0;
        (callback, landing)
    }

    /// Starts a sign-in in a fresh browser: the provider URL and the browser's cookie.
    async fn start(&self, provider: &str) -> (String, String) {
        let (authorize, cookie) =
            self.redirect(&self.app.url(&format!("/auth/oauth/{provider}")), None).await;
        (authorize, cookie.expect("the sign-in binds the browser with a cookie"))
    }

    async fn sign_in(&self, provider: &str, user: &str) -> String {
        let (authorize, cookie) = self.start(provider).await;
        self.through_provider(&authorize, user, Some(&cookie)).await.1
    }
}

fn query_param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn exchange(app: &TestApp, landing: &str) -> Op<exchange_o_auth_code::ResponseData> {
    let code = query_param(landing, "code").unwrap_or_else(|| panic!("no code in {landing}"));
    app.op::<ExchangeOAuthCode>(None, exchange_o_auth_code::Variables { code }).await
}

/// The session an exchange signed in to (no second factor due).
fn signed_in(r: Op<exchange_o_auth_code::ResponseData>) -> Session {
    let t = r.into_data().exchange_o_auth_code.tokens.expect("tokens, no second factor");
    Session { access: t.access_token, refresh: t.refresh_token, user_id: t.viewer.id }
}

async fn viewer_security(app: &TestApp, s: &Session) -> viewer_security::ViewerSecurityViewer {
    let vars = viewer_security::Variables { events_last: None };
    app.op::<ViewerSecurity>(Some(&s.access), vars).await.into_data().viewer.expect("a signed-in viewer")
}

#[tokio::test]
async fn openid_connect_sign_in_creates_then_recognises_the_account() {
    let s = setup().await;
    let providers = s.app.op::<OAuthProviders>(None, o_auth_providers::Variables).await;
    assert_eq!(providers.data().oauth_providers[0].display_name, "Corp SSO");

    let user = "sub=u-1&email=Oidc.User%40example.com&email_verified=true&name=Oidc%20User";
    let landing = s.sign_in("corp", user).await;
    assert!(landing.starts_with("http://zygo.test/oauth/callback?code="), "{landing}");
    let r = exchange(&s.app, &landing).await;
    let tokens = r.data().exchange_o_auth_code.tokens.as_ref().expect("tokens");
    assert_eq!(tokens.viewer.email, "oidc.user@example.com");
    assert!(tokens.viewer.email_verified);
    let first = signed_in(r);
    // The code from the callback works once.
    let again = s
        .app
        .gql(None, doc!("security/ExchangeOAuthCode"), json!({ "code": query_param(&landing, "code") }))
        .await;
    assert_eq!(again.code(), "UNAUTHENTICATED");

    // Signing in again finds the same account.
    let second = exchange(&s.app, &s.sign_in("corp", user).await).await;
    assert_eq!(signed_in(second).user_id, first.user_id);
    let v = viewer_security(&s.app, &first).await;
    assert!(!v.has_password);
    assert_eq!(v.connected_accounts[0].provider, "corp");

    // Its only sign-in method cannot be unlinked.
    let r = s
        .app
        .gql(
            Some(&first.access),
            doc!("security/UnlinkOAuthAccount"),
            json!({ "id": v.connected_accounts[0].id }),
        )
        .await;
    assert_eq!(r.code(), "LAST_SIGN_IN_METHOD");
}

#[tokio::test]
async fn forged_replayed_and_misaddressed_answers_are_refused() {
    let s = setup().await;
    let user = "sub=u-2&email=careful%40example.com&email_verified=true";
    let error_of =
        |landing: &str| query_param(landing, "error").unwrap_or_else(|| panic!("no error in {landing}"));

    for (knob, why) in [
        ("bad_signature=1", "signed with another key"),
        ("aud=someone-else", "another audience"),
        ("iss=http%3A%2F%2Fevil.test", "another issuer"),
        ("expired=1", "expired"),
        ("nonce_override=stale", "another nonce"),
    ] {
        let landing = s.sign_in("corp", &format!("{user}&{knob}")).await;
        assert_eq!(error_of(&landing), "OAUTH_FAILED", "{why}: {landing}");
    }

    // A callback with a state Zygo never issued.
    let (authorize, cookie) = s.start("corp").await;
    let (callback, _) = s.through_provider(&authorize, user, Some(&cookie)).await;
    let state = query_param(&callback, "state").unwrap();
    let forged = callback.replace(&state, "forged-state");
    assert_eq!(error_of(&s.redirect(&forged, Some(&cookie)).await.0), "OAUTH_STATE_INVALID");
    // The real callback has been used up already (its state is single-use): replaying it,
    // code and all, fails.
    assert_eq!(error_of(&s.redirect(&callback, Some(&cookie)).await.0), "OAUTH_STATE_INVALID");

    // Login CSRF: a callback started in the attacker's browser, opened in another one.
    let (authorize, _attackers_cookie) = s.start("corp").await;
    let (_, landing) = s.through_provider(&authorize, user, None).await;
    assert_eq!(error_of(&landing), "OAUTH_STATE_INVALID", "another browser's callback");

    // A fresh state with a code that was already exchanged: the provider refuses it.
    let (authorize, cookie) = s.start("corp").await;
    let first_callback = s.location(&format!("{authorize}&{user}")).await;
    let used_code = query_param(&first_callback, "code").unwrap();
    let first_callback = first_callback.replace("http://zygo.test", &format!("http://{}", s.app.addr));
    assert!(query_param(&s.redirect(&first_callback, Some(&cookie)).await.0, "code").is_some());
    let (authorize, cookie) = s.start("corp").await;
    let fresh = s.location(&format!("{authorize}&{user}")).await;
    let replay = fresh
        .replace(&query_param(&fresh, "code").unwrap(), &used_code)
        .replace("http://zygo.test", &format!("http://{}", s.app.addr));
    assert_eq!(error_of(&s.redirect(&replay, Some(&cookie)).await.0), "OAUTH_FAILED", "a replayed code");

    // The provider said no.
    let landing = s.sign_in("corp", &format!("{user}&deny=1")).await;
    assert_eq!(error_of(&landing), "OAUTH_ACCESS_DENIED");
}

#[tokio::test]
async fn an_existing_account_links_only_through_a_verified_address_and_can_link_more() {
    let s = setup().await;
    let owner = s.app.verified_user("owner.of@example.com").await;
    let unverified = s.sign_in("corp", "sub=u-3&email=owner.of%40example.com&email_verified=false").await;
    assert_eq!(query_param(&unverified, "error").as_deref(), Some("OAUTH_EMAIL_NOT_VERIFIED"));
    let verified = s.sign_in("corp", "sub=u-3&email=owner.of%40example.com&email_verified=true").await;
    let r = exchange(&s.app, &verified).await;
    assert_eq!(signed_in(r).user_id, owner.user_id);

    // Unverified addresses neither create accounts nor join unverified local ones.
    let r = s.sign_in("corp", "sub=u-9&email=fresh%40example.com&email_verified=false").await;
    assert_eq!(query_param(&r, "error").as_deref(), Some("OAUTH_EMAIL_NOT_VERIFIED"));
    s.app.sign_up("squatted@example.com").await.data();
    let r = s.sign_in("corp", "sub=u-8&email=squatted%40example.com&email_verified=true").await;
    assert_eq!(query_param(&r, "error").as_deref(), Some("OAUTH_ACCOUNT_UNVERIFIED"));

    // Linking GitHub from the signed-in account (GitHub's OAuth 2 flow and REST API).
    let github_user = "sub=4242&login=octo&email=octo%40example.com&email_verified=true";
    let vars = link_o_auth_account::Variables { provider: "github".into() };
    let r = s.app.op::<LinkOAuthAccount>(Some(&owner.access), vars).await;
    let authorize = r.into_data().link_o_auth_account.authorization_url;
    let (_, landing) = s.through_provider(&authorize, github_user, None).await;
    assert!(landing.starts_with("http://zygo.test/settings/security?provider=github&linkCode="), "{landing}");
    let link_code = query_param(&landing, "linkCode").unwrap();
    // Only the session that asked can complete it: a link URL sent to someone else does not
    // attach their provider account to the asker's Zygo account.
    let victim = s.app.verified_user("victim@example.com").await;
    let r = s
        .app
        .gql(Some(&victim.access), doc!("security/CompleteOAuthLink"), json!({ "code": link_code }))
        .await;
    assert_eq!(r.field(), "code");
    let vars = complete_o_auth_link::Variables { code: link_code.clone() };
    let r = s.app.op::<CompleteOAuthLink>(Some(&owner.access), vars).await;
    assert_eq!(r.data().complete_o_auth_link.connected_account.as_ref().unwrap().provider, "github");
    let r = s
        .app
        .gql(Some(&owner.access), doc!("security/CompleteOAuthLink"), json!({ "code": link_code }))
        .await;
    assert_eq!(r.field(), "code", "a link code works once");
    let accounts = viewer_security(&s.app, &owner).await.connected_accounts;
    let providers: Vec<&str> = accounts.iter().map(|a| a.provider.as_str()).collect();
    assert_eq!(providers.len(), 2, "{providers:?}");
    assert!(providers.contains(&"github"));
    // GitHub now signs in to the same account.
    let r = exchange(
        &s.app,
        &s.sign_in("github", "sub=4242&login=octo&email=octo%40example.com&email_verified=true").await,
    )
    .await;
    assert_eq!(signed_in(r).user_id, owner.user_id);
    // With a password, unlinking is fine.
    let gh = accounts.iter().find(|a| a.provider == "github").unwrap();
    s.app.gql(Some(&owner.access), doc!("security/UnlinkOAuthAccount"), json!({ "id": gh.id })).await.data();
    let kinds: Vec<Value> = viewer_security(&s.app, &owner)
        .await
        .security_events
        .edges
        .iter()
        .map(|e| serde_json::to_value(&e.node.kind).unwrap())
        .collect();
    assert!(
        kinds.contains(&json!("OAUTH_ACCOUNT_LINKED")) && kinds.contains(&json!("OAUTH_ACCOUNT_UNLINKED"))
    );
}

#[tokio::test]
async fn an_oauth_sign_in_still_asks_for_the_second_factor() {
    let s = setup().await;
    let user = "sub=u-5&email=two.factor%40example.com&email_verified=true";
    let r = exchange(&s.app, &s.sign_in("corp", user).await).await;
    let session = signed_in(r);
    let e = s.app.op::<StartTotpEnrollment>(Some(&session.access), start_totp_enrollment::Variables).await;
    let secret = e.into_data().start_totp_enrollment.secret;
    s.app
        .gql(
            Some(&session.access),
            doc!("security/ConfirmTotpEnrollment"),
            json!({ "code": totp_code(&secret, 0).await }),
        )
        .await
        .data();
    let r = exchange(&s.app, &s.sign_in("corp", user).await).await;
    let d = &r.data().exchange_o_auth_code;
    assert!(d.tokens.is_none());
    assert!(d.mfa_challenge.is_some());
}
