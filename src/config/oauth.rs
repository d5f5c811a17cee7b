//! Sign-in providers (`ZYGO_OAUTH_<NAME>_*`): OpenID Connect issuers and GitHub.

use secrecy::SecretString;

use super::ConfigError;

/// How a provider signs users in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthKind {
    /// OpenID Connect: discovery document, ID token checked against the provider's keys.
    Oidc,
    /// GitHub's OAuth 2 flow: the user and their verified e-mails come from its REST API.
    Github,
}

/// One configured sign-in provider.
#[derive(Clone, Debug)]
pub struct OAuthProvider {
    /// Lower-case name used in URLs (`/auth/oauth/{name}`) and the API.
    pub name: String,
    /// Shown on buttons.
    pub display_name: String,
    pub kind: OAuthKind,
    pub client_id: String,
    pub client_secret: SecretString,
    /// OpenID Connect issuer (the discovery document is `{issuer}/.well-known/openid-configuration`).
    pub issuer: Option<String>,
    /// GitHub endpoints (overridable for GitHub Enterprise).
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub api_url: Option<String>,
    pub scopes: String,
}

/// Reads `ZYGO_OAUTH_PROVIDERS` (comma-separated names) and, for each name,
/// `ZYGO_OAUTH_{NAME}_CLIENT_ID`, `_CLIENT_SECRET`, `_ISSUER`, `_TYPE` (`oidc` or `github`),
/// `_DISPLAY_NAME`, `_SCOPES` and, for GitHub, `_AUTHORIZE_URL`, `_TOKEN_URL`, `_API_URL`.
/// `google`, `microsoft`, `apple` and `github` come with their issuers and endpoints preset.
pub(super) fn oauth_providers(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Vec<OAuthProvider>, ConfigError> {
    const VAR: &str = "ZYGO_OAUTH_PROVIDERS";
    let Some(list) = get(VAR) else { return Ok(vec![]) };
    let mut out: Vec<OAuthProvider> = vec![];
    for name in list.split(',').map(|n| n.trim().to_ascii_lowercase()).filter(|n| !n.is_empty()) {
        if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') || name.len() > 32
        {
            return Err(ConfigError::new(VAR, format!("`{name}`: names are up to 32 of a-z, 0-9 and -")));
        }
        if out.iter().any(|p| p.name == name) {
            return Err(ConfigError::new(VAR, format!("`{name}` is listed twice")));
        }
        let key =
            |suffix: &str| format!("ZYGO_OAUTH_{}_{suffix}", name.to_ascii_uppercase().replace('-', "_"));
        let need = |suffix: &str| {
            get(&key(suffix)).ok_or_else(|| ConfigError::new(VAR, format!("`{name}` needs {}", key(suffix))))
        };
        let (preset_kind, preset_issuer, preset_display) = match name.as_str() {
            "google" => (OAuthKind::Oidc, Some("https://accounts.google.com"), "Google"),
            "microsoft" => {
                (OAuthKind::Oidc, Some("https://login.microsoftonline.com/common/v2.0"), "Microsoft")
            }
            "apple" => (OAuthKind::Oidc, Some("https://appleid.apple.com"), "Apple"),
            "github" => (OAuthKind::Github, None, "GitHub"),
            _ => (OAuthKind::Oidc, None, ""),
        };
        let kind = match get(&key("TYPE")).as_deref() {
            None => preset_kind,
            Some("oidc") => OAuthKind::Oidc,
            Some("github") => OAuthKind::Github,
            Some(other) => {
                return Err(ConfigError::new(
                    VAR,
                    format!("{}: `{other}` is not oidc or github", key("TYPE")),
                ));
            }
        };
        let issuer = get(&key("ISSUER")).or(preset_issuer.map(str::to_string));
        if kind == OAuthKind::Oidc && issuer.is_none() {
            need("ISSUER")?;
        }
        let github = |suffix: &str, default: &str| {
            (kind == OAuthKind::Github).then(|| get(&key(suffix)).unwrap_or_else(|| default.to_string()))
        };
        out.push(OAuthProvider {
            display_name: get(&key("DISPLAY_NAME")).unwrap_or_else(|| {
                if preset_display.is_empty() { name.clone() } else { preset_display.to_string() }
            }),
            kind,
            client_id: need("CLIENT_ID")?,
            client_secret: SecretString::from(need("CLIENT_SECRET")?),
            issuer: issuer.map(|i| i.trim_end_matches('/').to_string()),
            authorize_url: github("AUTHORIZE_URL", "https://github.com/login/oauth/authorize"),
            token_url: github("TOKEN_URL", "https://github.com/login/oauth/access_token"),
            api_url: github("API_URL", "https://api.github.com").map(|u| u.trim_end_matches('/').to_string()),
            scopes: get(&key("SCOPES")).unwrap_or_else(|| match kind {
                // Apple knows no `profile` scope.
                OAuthKind::Oidc if name == "apple" => "openid email name".into(),
                OAuthKind::Oidc => "openid email profile".into(),
                OAuthKind::Github => "read:user user:email".into(),
            }),
            name,
        });
    }
    Ok(out)
}
