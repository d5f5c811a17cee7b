//! Where a person's data is, read off the database itself rather than listed by hand, so a new
//! area's tables are exported and erased without anyone remembering to add them: every table
//! with a column naming a person (`user_id`, `created_by`, `actor_id`, …) or an e-mail address
//! (`email`, `to_address`), and the tenant-owned tables of an organisation.
//! Columns holding secrets (hashes, encrypted values, tokens) are never exported.

/// Columns that name a person by id.
pub const PERSON_COLUMNS: &[&str] = &[
    "user_id",
    "created_by",
    "actor_id",
    "invited_by",
    "uploaded_by",
    "owner_id",
    "author_id",
    "requested_by",
    "granted_by",
    "updated_by",
];

/// Columns that name a person by e-mail address.
pub const EMAIL_COLUMNS: &[&str] = &["email", "to_address"];

/// Whether a column's value is never exported: credentials and secrets, hashed or sealed.
pub fn is_secret(column: &str) -> bool {
    let c = column.to_ascii_lowercase();
    ["hash", "secret", "ciphertext", "encrypted", "archive", "private_key", "nonce"]
        .iter()
        .any(|s| c.contains(s))
        || c.ends_with("token")
}

pub use crate::db::catalog::{ident, tables};

/// The columns of `columns` to select for an export, secrets left out.
pub fn exported(columns: &[String]) -> Vec<&String> {
    columns.iter().filter(|c| !is_secret(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_by_name() {
        for c in ["password_hash", "totp_secret", "secret_ciphertext", "token_hash", "key_hash", "archive"] {
            assert!(is_secret(c), "{c}");
        }
        for c in ["email", "name", "user_id", "created_at", "kind"] {
            assert!(!is_secret(c), "{c}");
        }
    }
}
