//! Password hashing with Argon2id (OWASP parameters: 19 MiB memory, 2 iterations, 1 lane)
//! on the blocking pool, and the password policy: 8–128 characters, not one of the 10,000
//! most common passwords (`assets/common-passwords.txt`), not the account's e-mail or name.
//!
//! Every hash and check goes through a [`Gate`]: at most `ZYGO_PASSWORD_HASH_CONCURRENCY` run
//! at once and at most `ZYGO_PASSWORD_HASH_QUEUE` wait; beyond that the caller gets
//! RATE_LIMITED at once, so a burst of sign-ins cannot take all memory and CPU.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// The bound on Argon2 work of one instance. Cheap to clone.
#[derive(Clone)]
pub struct Gate {
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    queue: usize,
}

/// Counts one waiter for as long as it waits (also when its request is dropped meanwhile).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Gate {
    /// `concurrency` jobs at once, `queue` more waiting.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        Self { slots: Arc::new(Semaphore::new(concurrency.max(1))), waiting: Arc::default(), queue }
    }

    /// A slot, waiting for one if the queue has room; RATE_LIMITED otherwise.
    async fn enter(&self) -> AppResult<OwnedSemaphorePermit> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(AppError::RateLimited { retry_after_secs: 1 });
        }
        let _waiting = Waiting(&self.waiting);
        self.slots.clone().acquire_owned().await.map_err(|e| AppError::from(anyhow::anyhow!(e)))
    }

    /// Hashes `password` into a PHC string, within the gate.
    pub async fn hash(&self, password: String) -> AppResult<String> {
        let permit = self.enter().await?;
        hash(password, permit).await
    }

    /// Verifies `password` against `hash` (see [`verify`]), within the gate.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        let permit = self.enter().await?;
        verify(password, hash, permit).await
    }
}

/// Hashes `password` into a PHC string. The permit is held by the blocking job itself, so a
/// request dropped meanwhile does not free its slot before the work ends.
async fn hash(password: String, permit: OwnedSemaphorePermit) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
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
async fn verify(password: String, hash: Option<String>, permit: OwnedSemaphorePermit) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
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

    #[tokio::test]
    async fn a_full_gate_refuses_with_rate_limited_and_frees_its_slots() {
        let gate = super::Gate::new(1, 1);
        let running = gate.enter().await.unwrap();
        // One may wait…
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter().await.map(drop) })
        };
        while gate.waiting.load(std::sync::atomic::Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        // …the next one is refused at once.
        let refused = gate.enter().await.unwrap_err();
        assert!(matches!(refused, crate::error::AppError::RateLimited { .. }), "{refused:?}");
        drop(running);
        waiter.await.unwrap().unwrap();
        assert_eq!(gate.waiting.load(std::sync::atomic::Ordering::Acquire), 0);
        assert!(gate.verify("correct horse battery".into(), None).await.is_ok());
    }

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
