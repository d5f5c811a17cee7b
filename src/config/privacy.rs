//! The platform's policy documents people accept (`modules::privacy::consents`).

use super::{ConfigError, Lookup};

/// A kind of policy document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    Terms,
    Privacy,
}

/// The current version of one policy document.
#[derive(Clone, Debug)]
pub struct PolicyVersion {
    pub kind: PolicyKind,
    /// As published, e.g. `2026-12-01`.
    pub version: String,
    pub url: String,
}

/// `ZYGO_TERMS_VERSION` + `ZYGO_TERMS_URL`, `ZYGO_PRIVACY_POLICY_VERSION` +
/// `ZYGO_PRIVACY_POLICY_URL`: each pair both or neither; none set, nothing to accept.
pub(super) fn read(get: Lookup<'_>) -> Result<Vec<PolicyVersion>, ConfigError> {
    let mut out = Vec::new();
    for (kind, version_var, url_var) in [
        (PolicyKind::Terms, "ZYGO_TERMS_VERSION", "ZYGO_TERMS_URL"),
        (PolicyKind::Privacy, "ZYGO_PRIVACY_POLICY_VERSION", "ZYGO_PRIVACY_POLICY_URL"),
    ] {
        let version = get(version_var).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let url = get(url_var).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        match (version, url) {
            (Some(version), Some(url)) => {
                if version.len() > 64 {
                    return Err(ConfigError::new(version_var, "at most 64 characters"));
                }
                if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/')) {
                    return Err(ConfigError::new(url_var, "must be an http(s) URL or a path"));
                }
                out.push(PolicyVersion { kind, version, url });
            }
            (None, None) => {}
            (Some(_), None) => return Err(ConfigError::new(url_var, format!("set it with {version_var}"))),
            (None, Some(_)) => return Err(ConfigError::new(version_var, format!("set it with {url_var}"))),
        }
    }
    Ok(out)
}
