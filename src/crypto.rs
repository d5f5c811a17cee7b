//! AES-256-GCM with a key per tenant (workflow secrets) or per user (TOTP seeds), derived from
//! the master key by HKDF-SHA256 with a salt per purpose.
//!
//! A ciphertext is `v1:` + base64(nonce ‖ ciphertext ‖ tag) with a fresh random 96-bit nonce
//! per value. The associated data binds it to its row (`secret:{id}`), so a ciphertext copied
//! into another row, or another tenant, does not decrypt.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use anyhow::Context as _;
use base64::{Engine as _, engine::general_purpose::STANDARD};
use hkdf::Hkdf;
use rand::RngCore;
use secrecy::ExposeSecret;
use sha2::Sha256;
use uuid::Uuid;

use crate::config::Config;

/// The deployment's master key. Never printed.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

/// 32 bytes from 64 hex digits or base64.
pub fn parse_key(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    let bytes = if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        (0..32).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()).collect::<Option<Vec<u8>>>()?
    } else {
        STANDARD.decode(s).ok()?
    };
    bytes.try_into().ok()
}

impl MasterKey {
    /// `ZYGO_MASTER_KEY`, or in development a key generated once and kept in the data dir.
    pub fn resolve(config: &Config) -> anyhow::Result<Self> {
        if let Some(k) = &config.workflows.master_key {
            return Ok(Self(parse_key(k.expose_secret()).context("ZYGO_MASTER_KEY: not 32 bytes")?));
        }
        let path = config.data_dir.join("master_key");
        if let Some(k) = std::fs::read_to_string(&path).ok().and_then(|s| parse_key(&s)) {
            return Ok(Self(k));
        }
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        crate::startup::write_private(&path, &hex)
            .with_context(|| format!("cannot write {}", path.display()))?;
        tracing::info!(path = %path.display(), "ZYGO_MASTER_KEY not set: generated one and kept it in the data dir");
        Ok(Self(key))
    }

    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// The key of one subject (a tenant, or a user) within one purpose (`salt`).
    fn cipher(&self, salt: &[u8], subject: Uuid) -> Aes256Gcm {
        let hk = Hkdf::<Sha256>::new(Some(salt), &self.0);
        let mut key = [0u8; 32];
        hk.expand(subject.as_bytes(), &mut key).expect("32 bytes is a valid HKDF output length");
        Aes256Gcm::new(&key.into())
    }

    /// Encrypts `plaintext` for `tenant_id`, bound to `aad`.
    pub fn encrypt(&self, tenant_id: Uuid, aad: &str, plaintext: &str) -> String {
        seal(&self.cipher(TENANT_SALT, tenant_id), aad, plaintext)
    }

    /// Decrypts what [`Self::encrypt`] produced for the same tenant and `aad`.
    pub fn decrypt(&self, tenant_id: Uuid, aad: &str, stored: &str) -> anyhow::Result<String> {
        open(&self.cipher(TENANT_SALT, tenant_id), aad, stored)
    }

    /// Encrypts a user's own secret (a TOTP seed) under that user's key, bound to `aad`.
    pub fn encrypt_for_user(&self, user_id: Uuid, aad: &str, plaintext: &str) -> String {
        seal(&self.cipher(USER_SALT, user_id), aad, plaintext)
    }

    /// Decrypts what [`Self::encrypt_for_user`] produced for the same user and `aad`.
    pub fn decrypt_for_user(&self, user_id: Uuid, aad: &str, stored: &str) -> anyhow::Result<String> {
        open(&self.cipher(USER_SALT, user_id), aad, stored)
    }
}

impl MasterKey {
    /// The signature of `message` for `purpose` (a short-lived download link, say): HMAC-SHA256
    /// under a key derived for the purpose, base64url without padding.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        let hk = Hkdf::<Sha256>::new(Some(SIGNING_SALT), &self.0);
        let mut key = [0u8; 32];
        hk.expand(purpose.as_bytes(), &mut key).expect("32 bytes is a valid HKDF output length");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hmac_sha256(&key, message.as_bytes()))
    }

    /// Whether `signature` is [`Self::sign`]'s for `purpose` and `message` (constant time).
    pub fn verify(&self, purpose: &str, message: &str, signature: &str) -> bool {
        constant_time_eq(self.sign(purpose, message).as_bytes(), signature.as_bytes())
    }
}

/// HMAC-SHA256 (webhook signatures of payment providers, signed links).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Lower-case hexadecimal of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// HKDF salt of signing keys.
const SIGNING_SALT: &[u8] = b"zygo-signing-v1";

/// HKDF salts: tenants' workflow secrets and users' own secrets never share a key.
const TENANT_SALT: &[u8] = b"zygo-tenant-secrets-v1";
const USER_SALT: &[u8] = b"zygo-user-secrets-v1";

fn seal(cipher: &Aes256Gcm, aad: &str, plaintext: &str) -> String {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(&Nonce::from(nonce), Payload { msg: plaintext.as_bytes(), aad: aad.as_bytes() })
        .expect("AES-GCM encryption of an in-memory buffer does not fail");
    let mut out = nonce.to_vec();
    out.extend(ct);
    format!("v1:{}", STANDARD.encode(out))
}

fn open(cipher: &Aes256Gcm, aad: &str, stored: &str) -> anyhow::Result<String> {
    let raw = stored.strip_prefix("v1:").context("unknown ciphertext version")?;
    let raw = STANDARD.decode(raw).context("ciphertext is not base64")?;
    anyhow::ensure!(raw.len() > 12, "ciphertext too short");
    let (nonce, ct) = raw.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().expect("split at 12");
    let pt = cipher
        .decrypt(&Nonce::from(nonce), Payload { msg: ct, aad: aad.as_bytes() })
        .map_err(|_| anyhow::anyhow!("ciphertext does not decrypt (wrong key, subject or row)"))?;
    String::from_utf8(pt).context("plaintext is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_tenant_and_row() {
        let key = MasterKey([7; 32]);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let ct = key.encrypt(a, "secret:1", "hunter2");
        assert_ne!(ct, key.encrypt(a, "secret:1", "hunter2"), "fresh nonce per value");
        assert!(!ct.contains("hunter2"));
        assert_eq!(key.decrypt(a, "secret:1", &ct).unwrap(), "hunter2");
        assert!(key.decrypt(b, "secret:1", &ct).is_err(), "another tenant's key");
        assert!(key.decrypt(a, "secret:2", &ct).is_err(), "another row");
        assert!(MasterKey([8; 32]).decrypt(a, "secret:1", &ct).is_err(), "another master key");
    }

    #[test]
    fn a_users_key_is_not_the_tenant_key_of_the_same_id() {
        let key = MasterKey([7; 32]);
        let id = Uuid::now_v7();
        let ct = key.encrypt_for_user(id, "totp:1", "JBSWY3DP");
        assert_eq!(key.decrypt_for_user(id, "totp:1", &ct).unwrap(), "JBSWY3DP");
        assert!(key.decrypt(id, "totp:1", &ct).is_err(), "purposes never share a key");
        assert!(key.decrypt_for_user(Uuid::now_v7(), "totp:1", &ct).is_err(), "another user");
    }

    #[test]
    fn parses_hex_and_base64_keys() {
        assert_eq!(parse_key(&"ab".repeat(32)), Some([0xab; 32]));
        assert_eq!(parse_key(&STANDARD.encode([1u8; 32])), Some([1; 32]));
        assert_eq!(parse_key("short"), None);
    }
}
