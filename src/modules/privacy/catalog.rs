//! Where a person's data is, read off the database itself rather than listed by hand, so a new
//! area's tables are exported and erased without anyone remembering to add them: every table
//! with a column naming a person (`user_id`, `created_by`, `actor_id`, …) or an e-mail address
//! (`email`, `to_address`), and the tenant-owned tables of an organisation.
//! Columns holding secrets (hashes, encrypted values, tokens) are never exported.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

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

/// Every table of the database with its columns (`seaql_migrations` left out).
pub async fn tables(db: &impl ConnectionTrait) -> Result<BTreeMap<String, Vec<String>>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns
             WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        }
        _ => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid"
        }
    };
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows {
        let (t, c): (String, String) = (row.try_get("", "t")?, row.try_get("", "c")?);
        if t == "seaql_migrations" {
            continue;
        }
        out.entry(t).or_default().push(c);
    }
    Ok(out)
}

/// Quotes an identifier read off the catalog (they are plain snake_case names; a quote inside
/// would be doubled all the same).
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

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
