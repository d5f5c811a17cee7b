//! Access JWTs (HS256 pinned, `iss`/`aud`/`exp`/`nbf`/`iat`/`sub`/`typ`) and opaque random
//! tokens (refresh, e-mail verification) that are stored only as SHA-256 hashes.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const ISSUER: &str = "zygo";
pub const AUDIENCE: &str = "zygo-api";
/// The `typ` claim of an access token; other token kinds must never pass as one.
pub const ACCESS_TYP: &str = "access";

/// Claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub typ: String,
}

/// Keys for signing and verifying access tokens.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// What an access token must satisfy, built once (its sets of issuers, audiences and
    /// required claims were otherwise allocated again for every request).
    validation: std::sync::Arc<Validation>,
    /// Tokens this process verified, with what they stand for: a token is sent with every
    /// request of its holder for its whole life, and checking its signature, decoding it and
    /// parsing its claims again each time was most of what authentication cost. Keyed by the
    /// whole token (an exact match, never a hash of it); expiry is checked on every use.
    verified: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Box<str>, (Uuid, Uuid, i64)>>>,
}

/// Tokens [`JwtKeys`] remembers before it starts over (each entry is a few hundred bytes).
const MAX_VERIFIED: usize = 20_000;

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "iss", "aud"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation: std::sync::Arc::new(validation),
            verified: Default::default(),
        }
    }

    /// Signs an access token for `user_id` in `session_id`, valid until `expires_at`.
    pub fn issue_access(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: Uuid::new_v4().to_string(),
            typ: ACCESS_TYP.into(),
        };
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// Verifies signature, algorithm, issuer, audience, time claims and `typ`.
    pub fn verify_access(&self, token: &str) -> Result<(Uuid, Uuid), &'static str> {
        self.verify_access_until(token).map(|(u, s, _)| (u, s))
    }

    /// [`Self::verify_access`], also returning the token's expiry (Unix seconds).
    pub fn verify_access_until(&self, token: &str) -> Result<(Uuid, Uuid, i64), &'static str> {
        let now = Utc::now().timestamp();
        let leeway = self.validation.leeway as i64;
        if let Some(&(user, session, exp)) = self.verified.lock().unwrap().get(token) {
            // As jsonwebtoken judges `exp` (its `nbf` passed when the token was verified).
            return if exp < now - leeway { Err("access token expired") } else { Ok((user, session, exp)) };
        }
        let verified = self.verify_uncached(token)?;
        let mut cache = self.verified.lock().unwrap();
        if cache.len() >= MAX_VERIFIED {
            cache.retain(|_, (_, _, exp)| *exp >= now - leeway);
            if cache.len() >= MAX_VERIFIED {
                cache.clear();
            }
        }
        cache.insert(token.into(), verified);
        Ok(verified)
    }

    fn verify_uncached(&self, token: &str) -> Result<(Uuid, Uuid, i64), &'static str> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).map_err(
            |e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "access token expired",
                _ => "invalid access token",
            },
        )?;
        if data.claims.typ != ACCESS_TYP {
            return Err("invalid access token");
        }
        let user = Uuid::parse_str(&data.claims.sub).map_err(|_| "invalid access token")?;
        let session = Uuid::parse_str(&data.claims.sid).map_err(|_| "invalid access token")?;
        Ok((user, session, data.claims.exp))
    }
}

/// A new random opaque token (256 bits, URL-safe).
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of an opaque token.
pub fn hash_token(token: &str) -> String {
    hex_encode(&Sha256::digest(token.as_bytes()))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time that depends on their length only, not on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_round_trip_and_tamper() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let (u, s) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Utc::now();
        let t = keys.issue_access(u, s, now, now + chrono::Duration::minutes(5)).unwrap();
        assert_eq!(keys.verify_access(&t).unwrap(), (u, s));
        let mut tampered = t.clone();
        tampered.push('x');
        assert!(keys.verify_access(&tampered).is_err());
        let other = JwtKeys::new(b"another-secret-another-secret-00");
        assert!(other.verify_access(&t).is_err());
        let expired = keys
            .issue_access(u, s, now - chrono::Duration::hours(2), now - chrono::Duration::hours(1))
            .unwrap();
        assert_eq!(keys.verify_access(&expired), Err("access token expired"));
    }

    #[test]
    fn a_remembered_token_is_still_judged_by_its_expiry_and_only_by_exact_match() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let (u, s) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Utc::now();
        let t = keys.issue_access(u, s, now, now + chrono::Duration::minutes(5)).unwrap();
        assert_eq!(keys.verify_access(&t).unwrap(), (u, s));
        assert!(keys.verified.lock().unwrap().contains_key(t.as_str()), "remembered");
        assert_eq!(keys.verify_access(&t).unwrap(), (u, s), "and answered from memory");
        // A token one character off is verified, not matched.
        let mut tampered = t.clone();
        tampered.pop();
        assert!(keys.verify_access(&tampered).is_err());
        // Expiry is judged on every use, remembered or not.
        keys.verified.lock().unwrap().insert(t.as_str().into(), (u, s, now.timestamp() - 60));
        assert_eq!(keys.verify_access(&t), Err("access token expired"));
    }
}
