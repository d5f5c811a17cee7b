//! Talking to identity providers: OpenID Connect discovery, signing keys and the code
//! exchange with its ID-token checks, and GitHub's user API.

#[allow(unused_imports)]
use super::*;

pub(super) fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(StdDuration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("zygo")
            .build()
            .expect("HTTP client")
    })
}

/// The parts of an OpenID Connect discovery document Zygo uses.
#[derive(Clone, Debug, Deserialize)]
pub(super) struct Discovery {
    pub(super) issuer: String,
    pub(super) authorization_endpoint: String,
    pub(super) token_endpoint: String,
    pub(super) jwks_uri: String,
}

/// Discovery documents and key sets, per issuer, kept for an hour.
pub(super) fn cache() -> &'static Mutex<HashMap<String, (Instant, Discovery, Option<JwkSet>)>> {
    static CACHE: OnceLock<Mutex<HashMap<String, (Instant, Discovery, Option<JwkSet>)>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

pub(super) async fn discovery(issuer: &str) -> AppResult<Discovery> {
    if let Some((at, d, _)) = cache().lock().unwrap().get(issuer)
        && at.elapsed() < METADATA_TTL
    {
        return Ok(d.clone());
    }
    let url = format!("{issuer}/.well-known/openid-configuration");
    let d: Discovery =
        fetch_json(http().get(&url)).await.map_err(|e| provider_error(format!("discovery: {e}")))?;
    // Multi-tenant issuers (Microsoft's `common`) publish a template; the ID token's issuer
    // is then checked against it with the token's own tenant id.
    if d.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') && !d.issuer.contains("{tenantid}") {
        return Err(provider_error(format!("discovery names issuer {} instead of {issuer}", d.issuer)));
    }
    cache().lock().unwrap().insert(issuer.to_string(), (Instant::now(), d.clone(), None));
    Ok(d)
}

/// The provider's signing keys; fetched again when a token names a key not in the cache
/// (the provider rotated its keys).
pub(super) async fn jwks(issuer: &str, d: &Discovery, kid: Option<&str>) -> AppResult<JwkSet> {
    if let Some((_, _, Some(set))) = cache().lock().unwrap().get(issuer)
        && kid.is_none_or(|k| set.find(k).is_some())
    {
        return Ok(set.clone());
    }
    let set: JwkSet =
        fetch_json(http().get(&d.jwks_uri)).await.map_err(|e| provider_error(format!("keys: {e}")))?;
    if let Some(entry) = cache().lock().unwrap().get_mut(issuer) {
        entry.2 = Some(set.clone());
    }
    Ok(set)
}

pub(super) async fn fetch_json<T: serde::de::DeserializeOwned>(
    req: reqwest::RequestBuilder,
) -> Result<T, String> {
    let resp = req.header("Accept", "application/json").send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {}", body.chars().take(200).collect::<String>()));
    }
    serde_json::from_str(&body).map_err(|e| format!("unexpected answer: {e}"))
}

pub(super) fn provider_error(message: String) -> AppError {
    tracing::warn!(%message, "OAuth provider failed");
    AppError::rejected("OAUTH_FAILED", "provider", message)
}

/// Who the provider says signed in.
#[derive(Debug)]
pub(super) struct ExternalUser {
    pub(super) subject: String,
    pub(super) email: Option<String>,
    pub(super) email_verified: bool,
    pub(super) name: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct TokenResponse {
    pub(super) access_token: Option<String>,
    pub(super) id_token: Option<String>,
    pub(super) error: Option<String>,
    pub(super) error_description: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct IdClaims {
    pub(super) sub: String,
    pub(super) iss: String,
    /// Microsoft's tenant id, for its multi-tenant issuer template.
    pub(super) tid: Option<String>,
    pub(super) nonce: Option<String>,
    pub(super) email: Option<String>,
    /// A boolean, or the string "true"/"false" (Apple).
    pub(super) email_verified: Option<serde_json::Value>,
    pub(super) name: Option<String>,
}

pub(super) async fn exchange_code(
    p: &OAuthProvider,
    token_url: &str,
    redirect_uri: &str,
    code: &str,
    verifier: &str,
) -> AppResult<TokenResponse> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", p.client_id.as_str()),
        ("client_secret", p.client_secret.expose_secret()),
        ("code_verifier", verifier),
    ];
    let resp = http()
        .post(token_url)
        .header("Accept", "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| provider_error(format!("token request: {e}")))?;
    let body = resp.text().await.map_err(|e| provider_error(format!("token request: {e}")))?;
    let t: TokenResponse =
        serde_json::from_str(&body).map_err(|e| provider_error(format!("token answer unreadable: {e}")))?;
    if let Some(err) = &t.error {
        return Err(provider_error(format!(
            "the provider refused the code: {err} {}",
            t.error_description.as_deref().unwrap_or("")
        )));
    }
    Ok(t)
}

pub(super) async fn oidc_user(
    ctx: &Ctx,
    p: &OAuthProvider,
    code: &str,
    state: &oauth_state::Model,
) -> AppResult<ExternalUser> {
    let issuer = p.issuer.as_deref().unwrap_or_default();
    let d = discovery(issuer).await?;
    let t = exchange_code(p, &d.token_endpoint, &callback_url(ctx, p), code, &state.code_verifier).await?;
    let id_token = t.id_token.ok_or_else(|| provider_error("no ID token in the token answer".into()))?;
    let header =
        jsonwebtoken::decode_header(&id_token).map_err(|e| provider_error(format!("ID token: {e}")))?;
    let set = jwks(issuer, &d, header.kid.as_deref()).await?;
    let jwk = match &header.kid {
        Some(kid) => set.find(kid),
        None => set.keys.first(),
    }
    .ok_or_else(|| provider_error("ID token signed with an unknown key".into()))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| provider_error(format!("provider key: {e}")))?;
    // The algorithm comes from our allow-list, never from the token alone.
    if !matches!(
        header.alg,
        jsonwebtoken::Algorithm::RS256 | jsonwebtoken::Algorithm::ES256 | jsonwebtoken::Algorithm::PS256
    ) {
        return Err(provider_error(format!("ID token algorithm {:?} not accepted", header.alg)));
    }
    let mut v = Validation::new(header.alg);
    let templated = d.issuer.contains("{tenantid}");
    if !templated {
        // The discovered spelling (some issuers end with a slash) is what tokens carry.
        v.set_issuer(&[d.issuer.as_str()]);
    }
    v.set_audience(&[p.client_id.as_str()]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    v.leeway = 30;
    let claims = jsonwebtoken::decode::<IdClaims>(&id_token, &key, &v)
        .map_err(|e| provider_error(format!("ID token rejected: {e}")))?
        .claims;
    if templated {
        let expected = claims.tid.as_deref().map(|tid| d.issuer.replace("{tenantid}", tid));
        if expected.as_deref() != Some(claims.iss.as_str()) {
            return Err(provider_error("ID token issuer does not match the provider".into()));
        }
    }
    if claims.nonce.as_deref() != Some(state.nonce.as_str()) {
        return Err(provider_error("ID token nonce does not match".into()));
    }
    let verified = match &claims.email_verified {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s == "true",
        _ => false,
    };
    Ok(ExternalUser { subject: claims.sub, email: claims.email, email_verified: verified, name: claims.name })
}

#[derive(Deserialize)]
pub(super) struct GithubUser {
    pub(super) id: i64,
    pub(super) login: String,
    pub(super) name: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct GithubEmail {
    pub(super) email: String,
    pub(super) primary: bool,
    pub(super) verified: bool,
}

pub(super) async fn github_user(
    ctx: &Ctx,
    p: &OAuthProvider,
    code: &str,
    state: &oauth_state::Model,
) -> AppResult<ExternalUser> {
    let token_url = p.token_url.clone().unwrap_or_default();
    let t = exchange_code(p, &token_url, &callback_url(ctx, p), code, &state.code_verifier).await?;
    let access =
        t.access_token.ok_or_else(|| provider_error("no access token in the token answer".into()))?;
    let api = p.api_url.clone().unwrap_or_default();
    let get = |path: &str| http().get(format!("{api}{path}")).bearer_auth(&access);
    let u: GithubUser = fetch_json(get("/user")).await.map_err(|e| provider_error(format!("user: {e}")))?;
    let emails: Vec<GithubEmail> =
        fetch_json(get("/user/emails")).await.map_err(|e| provider_error(format!("e-mails: {e}")))?;
    let primary =
        emails.iter().find(|e| e.primary && e.verified).or_else(|| emails.iter().find(|e| e.verified));
    Ok(ExternalUser {
        subject: u.id.to_string(),
        email: primary.map(|e| e.email.clone()),
        email_verified: primary.is_some(),
        name: u.name.or(Some(u.login)),
    })
}
