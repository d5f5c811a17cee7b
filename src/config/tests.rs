use super::*;

fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: std::collections::HashMap<String, String> =
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_are_the_embedded_development_setup() {
    let c = cfg(&[]).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.environment, Environment::Development);
    assert!(c.database_url.is_none() && c.redis_url.is_none() && c.jwt_secret.is_none());
    assert_eq!(c.public_url, "http://127.0.0.1:8080");
}

#[test]
fn production_requires_a_jwt_secret() {
    let e = cfg(&[("ZYGO_ENV", "production"), ("ZYGO_MAIL_URL", "smtp://mail")]).unwrap_err();
    assert_eq!(e.var, "ZYGO_JWT_SECRET");
}

#[test]
fn bad_values_name_their_variable() {
    assert_eq!(cfg(&[("ZYGO_LISTEN", "nope")]).unwrap_err().var, "ZYGO_LISTEN");
    assert_eq!(cfg(&[("ZYGO_ENV", "staging")]).unwrap_err().var, "ZYGO_ENV");
    assert_eq!(cfg(&[("ZYGO_DATABASE_URL", "mysql://x")]).unwrap_err().var, "ZYGO_DATABASE_URL");
    assert_eq!(cfg(&[("ZYGO_JWT_SECRET", "short")]).unwrap_err().var, "ZYGO_JWT_SECRET");
    assert_eq!(
        cfg(&[("ZYGO_WORKFLOW_MAX_VALUE_BYTES", "0")]).unwrap_err().var,
        "ZYGO_WORKFLOW_MAX_VALUE_BYTES"
    );
    assert_eq!(cfg(&[("ZYGO_WORKFLOW_MAX_ITEMS", "many")]).unwrap_err().var, "ZYGO_WORKFLOW_MAX_ITEMS");
    assert_eq!(
        cfg(&[("ZYGO_WORKFLOW_MAX_OUTPUT_BYTES", "-1")]).unwrap_err().var,
        "ZYGO_WORKFLOW_MAX_OUTPUT_BYTES"
    );
    assert_eq!(cfg(&[("ZYGO_METRICS_LISTEN", "nope")]).unwrap_err().var, "ZYGO_METRICS_LISTEN");
    assert_eq!(cfg(&[("ZYGO_METRICS_TOKEN", "short")]).unwrap_err().var, "ZYGO_METRICS_TOKEN");
    assert_eq!(
        cfg(&[("ZYGO_PERSISTED_QUERIES_MAX_ENTRIES", "0")]).unwrap_err().var,
        "ZYGO_PERSISTED_QUERIES_MAX_ENTRIES"
    );
    assert_eq!(
        cfg(&[("ZYGO_PERSISTED_QUERIES_ANONYMOUS", "maybe")]).unwrap_err().var,
        "ZYGO_PERSISTED_QUERIES_ANONYMOUS"
    );
    assert_eq!(
        cfg(&[("ZYGO_PASSWORD_HASH_CONCURRENCY", "0")]).unwrap_err().var,
        "ZYGO_PASSWORD_HASH_CONCURRENCY"
    );
}

#[test]
fn paypal_collects_by_vault_unless_subscriptions_mode_is_asked_for() {
    let paypal = [
        ("ZYGO_PAYPAL_CLIENT_ID", "id"),
        ("ZYGO_PAYPAL_CLIENT_SECRET", "secret"),
        ("ZYGO_PAYPAL_WEBHOOK_ID", "WH-1"),
    ];
    let mode = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = paypal.to_vec();
        pairs.extend_from_slice(extra);
        cfg(&pairs).map(|c| c.billing.paypal.expect("PayPal configured").mode)
    };
    assert_eq!(mode(&[]).unwrap(), PaypalMode::Vault);
    assert_eq!(mode(&[("ZYGO_PAYPAL_MODE", "subscriptions")]).unwrap(), PaypalMode::Subscriptions);
    assert_eq!(mode(&[("ZYGO_PAYPAL_MODE", "monthly")]).unwrap_err().var, "ZYGO_PAYPAL_MODE");
}
