//! Password hashing with Argon2id (OWASP parameters: 19 MiB memory, 2 iterations, 1 lane)
//! on the blocking pool, and the password policy: 8–128 characters, not one of the 10,000
//! most common passwords (`assets/common-passwords.txt`), not the account's e-mail or name.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::SaltString,
};

use crate::error::{AppError, AppResult};

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid params"),
    )
}

/// The common-password list, lower-cased.
fn common_passwords() -> &'static std::collections::HashSet<String> {
    static LIST: std::sync::OnceLock<std::collections::HashSet<String>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../../assets/common-passwords.txt").lines().map(|l| l.trim().to_lowercase()).collect()
    })
}

/// Checks the password policy for an account with this e-mail and name; `field` names the
/// input field in the error.
pub fn validate(field: &str, password: &str, email: &str, name: &str) -> AppResult<()> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(AppError::validation(field, format!("must be at least {MIN_LEN} characters")));
    }
    if len > MAX_LEN {
        return Err(AppError::validation(field, format!("must be at most {MAX_LEN} characters")));
    }
    let lower = password.trim().to_lowercase();
    if common_passwords().contains(&lower) {
        return Err(AppError::validation(field, "is one of the most common passwords; choose another"));
    }
    let email = email.to_lowercase();
    let local = email.split('@').next().unwrap_or("");
    let name: String = name.to_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    let personal = lower == email
        || (local.chars().count() >= 4 && lower.contains(local))
        || (name.chars().count() >= 4 && lower.replace(char::is_whitespace, "").contains(&name));
    if personal {
        return Err(AppError::validation(field, "must not contain your e-mail address or name"));
    }
    Ok(())
}

/// Hashes `password` into a PHC string.
pub async fn hash(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
    })
    .await
    .map_err(|e| anyhow::anyhow!(e))?
    .map_err(AppError::from)
}

/// Verifies `password` against `hash`. With `hash = None` it verifies against a fixed dummy
/// hash so that an unknown e-mail costs the same time as a wrong password.
pub async fn verify(password: String, hash: Option<String>) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let stored = hash.as_deref().unwrap_or(dummy_hash());
        let parsed = PasswordHash::new(stored).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
        let ok = argon2().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok::<_, anyhow::Error>(ok && hash.is_some())
    })
    .await
    .map_err(|e| anyhow::anyhow!(e))?
    .map_err(AppError::from)
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2().hash_password(b"zygo-dummy-password", &salt).expect("hash").to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn policy() {
        assert!(validate("p", "short", "a@b.c", "Ann").is_err());
        assert!(validate("p", &"x".repeat(129), "a@b.c", "Ann").is_err());
        assert_eq!(super::common_passwords().len(), 10_000);
        assert!(validate("p", "password1", "a@b.c", "Ann").is_err());
        assert!(validate("p", "PASSWORD1", "a@b.c", "Ann").is_err());
        assert!(validate("p", "ada.lovelace@example.com", "ada.lovelace@example.com", "Ada").is_err());
        assert!(validate("p", "xxada.lovelacexx", "ada.lovelace@example.com", "Ada").is_err());
        assert!(validate("p", "Grace Hopper 1906", "g@example.com", "Grace Hopper").is_err());
        assert!(validate("p", "correct horse battery", "ada@example.com", "Ada").is_ok());
    }
}
