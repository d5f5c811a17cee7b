//! Settings of data collection (`modules::collection`).

use super::{ConfigError, Lookup, parse};

/// `ZYGO_COLLECTION_*` and `ZYGO_BRIGHTDATA_*`.
#[derive(Clone, Debug)]
pub struct CollectionSettings {
    /// `ZYGO_BRIGHTDATA_API_URL`: BrightData's API (default `https://api.brightdata.com`;
    /// tests point it at the local fake).
    pub brightdata_url: String,
    /// `ZYGO_COLLECTION_ENVIRONMENT`: whose BrightData credentials this instance uses —
    /// `development` (default), `staging` or `production`.
    pub environment: String,
    /// `ZYGO_COLLECTION_POLL_SECONDS`: how long after a trigger, and then between checks, a
    /// job asks BrightData for progress when no notification came (default 60).
    pub poll_seconds: i64,
    /// `ZYGO_COLLECTION_POLL_ATTEMPTS`: progress checks before a job is FAILED as lost
    /// (default 120).
    pub poll_attempts: i32,
}

pub(super) fn read(get: Lookup<'_>) -> Result<CollectionSettings, ConfigError> {
    let environment = get("ZYGO_COLLECTION_ENVIRONMENT").unwrap_or_else(|| "development".into());
    if !matches!(environment.as_str(), "development" | "staging" | "production") {
        return Err(ConfigError::new(
            "ZYGO_COLLECTION_ENVIRONMENT",
            "one of development, staging, production",
        ));
    }
    Ok(CollectionSettings {
        brightdata_url: get("ZYGO_BRIGHTDATA_API_URL")
            .unwrap_or_else(|| "https://api.brightdata.com".into())
            .trim_end_matches('/')
            .to_string(),
        environment,
        poll_seconds: parse("ZYGO_COLLECTION_POLL_SECONDS", get("ZYGO_COLLECTION_POLL_SECONDS"), "60")?,
        poll_attempts: parse("ZYGO_COLLECTION_POLL_ATTEMPTS", get("ZYGO_COLLECTION_POLL_ATTEMPTS"), "120")?,
    })
}
