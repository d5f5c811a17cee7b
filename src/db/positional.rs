//! Positional decoding of PostgreSQL rows for the models a request loads by the thousand
//! (the user profiles, memberships and team members of a list of members).
//!
//! SeaORM's derived `FromQueryResult` finds every column by name and, for every NULL in an
//! optional column, formats an error message that it then discards: for a page of 1,000
//! users with nine empty optional columns each, 9,000 strings, about 6 % of the CPU of the
//! API bench's nested list (perf). A [`Positional`] model reads its columns by position, in
//! the order SeaORM selects them (the model's field order: [`positional!`] lists the
//! fields, and a test compares that list with the entity's columns), and a NULL is just
//! `None`. Rows of other backends keep SeaORM's decoding.

use sea_orm::{DbErr, FromQueryResult, QueryResult, TryGetError, sqlx::Row};

/// A model decoded by position from a PostgreSQL row selected with all its columns.
pub trait Positional: FromQueryResult {
    /// The model's fields, in the order they are declared (and selected).
    const FIELDS: &'static [&'static str];

    /// Decodes a PostgreSQL row; [`decode_all`] calls it only for those.
    fn from_pg(res: &QueryResult) -> Result<Self, TryGetError> {
        Self::from_pg_at(res, 0)
    }

    /// Decodes the model from the columns of a PostgreSQL row that begin at `start` (a row
    /// of several models joined).
    fn from_pg_at(res: &QueryResult, start: usize) -> Result<Self, TryGetError>;
}

/// How the batch loaders read a model from the rows of a select of all its columns (in
/// order, possibly followed by others): by position where the model is [`Positional`]
/// ([`positional!`] implements both), by name through SeaORM for the models listed in
/// [`by_name!`].
pub trait Decode: FromQueryResult + Sized {
    fn decode_all(rows: Vec<QueryResult>) -> Result<Vec<Self>, DbErr> {
        rows.iter().map(|row| Self::from_query_result(row, "")).collect()
    }
}

/// [`Decode`] by name (SeaORM's) for each model given.
macro_rules! by_name {
    ($($model:ty),+ $(,)?) => {
        $(impl $crate::db::positional::Decode for $model {})+
    };
}

/// Whether column `i` of a PostgreSQL row is NULL.
pub fn is_null(res: &QueryResult, i: usize) -> Result<bool, TryGetError> {
    let row = res.try_as_pg_row().expect("called for PostgreSQL rows only");
    let raw = row.try_get_raw(i).map_err(|e| TryGetError::DbErr(DbErr::Type(e.to_string())))?;
    Ok(sea_orm::sqlx::ValueRef::is_null(&raw))
}

/// Implements [`Positional`] for a model: `req field` for a column that is never NULL,
/// `opt field` for an optional one, every field in declaration order.
macro_rules! positional {
    ($model:ty { $($kind:ident $field:ident),+ $(,)? }) => {
        impl $crate::db::positional::Positional for $model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];

            fn from_pg_at(res: &sea_orm::QueryResult, start: usize) -> Result<Self, sea_orm::TryGetError> {
                let mut at = start..;
                Ok(Self { $($field: positional!(@$kind res, at.next().expect("a column index"))),+ })
            }
        }

        impl $crate::db::positional::Decode for $model {
            fn decode_all(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<Self>, sea_orm::DbErr> {
                $crate::db::positional::decode_all(rows)
            }
        }
    };
    (@req $res:ident, $i:expr) => {
        sea_orm::TryGetable::try_get_by_index($res, $i)?
    };
    (@opt $res:ident, $i:expr) => {{
        let i = $i;
        if $crate::db::positional::is_null($res, i)? {
            None
        } else {
            sea_orm::TryGetable::try_get_by_index($res, i)?
        }
    }};
}

positional!(entity::user::Model {
    req id,
    req email,
    req name,
    req password_hash,
    opt email_verified_at,
    opt avatar_url,
    opt locale,
    opt time_zone,
    opt preferences,
    req created_at,
    req updated_at,
    opt totp_secret,
    opt totp_pending_secret,
    opt totp_enabled_at,
    opt totp_last_step,
    opt deletion_scheduled_at,
});

positional!(entity::user::Profile {
    req id,
    req email,
    req name,
    opt email_verified_at,
    req created_at,
});

positional!(entity::membership::Model {
    req id,
    req tenant_id,
    req user_id,
    req role_id,
    req status,
    req created_at,
    req updated_at,
});

positional!(entity::team_member::Model {
    req id,
    req tenant_id,
    req team_id,
    req membership_id,
    req role,
    req created_at,
});

by_name!(
    entity::role::Model,
    entity::invitation::Model,
    entity::api_key::Model,
    entity::team::Model,
    entity::workflow_version::Model,
    entity::execution::Model,
    entity::execution_log::Model,
    entity::secret_access::Model,
    entity::secret::Model,
    entity::invoice::Model,
    entity::resource_version::Model,
    entity::resource_share_link::Model,
    entity::resource_download::Model,
    entity::webhook_endpoint::Model,
    entity::webhook_delivery::Model,
    entity::document_version::Model,
    entity::document::Model,
);

/// `M` from a row of several models joined: on PostgreSQL from the columns that begin at
/// `start`, elsewhere from the columns whose names begin with `prefix`.
pub fn decode_joined<M: Positional>(row: &QueryResult, start: usize, prefix: &str) -> Result<M, DbErr> {
    match row.try_as_pg_row() {
        Some(_) => M::from_pg_at(row, start).map_err(DbErr::from),
        None => M::from_query_result(row, prefix),
    }
}

/// Decodes the rows of a select of all of `M`'s columns.
pub fn decode_all<M: Positional>(rows: Vec<QueryResult>) -> Result<Vec<M>, DbErr> {
    rows.iter()
        .map(|row| match row.try_as_pg_row() {
            Some(_) => M::from_pg(row).map_err(DbErr::from),
            None => M::from_query_result(row, ""),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use sea_orm::{Iden, Iterable};

    use super::Positional;

    fn columns<C: Iterable + Iden>() -> Vec<String> {
        C::iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn positional_fields_are_the_selected_columns_in_order() {
        assert_eq!(<entity::user::Model as Positional>::FIELDS, columns::<entity::user::Column>());
        let profile: Vec<String> = entity::user::Profile::COLUMNS.iter().map(|c| c.to_string()).collect();
        assert_eq!(<entity::user::Profile as Positional>::FIELDS, profile);
        assert_eq!(
            <entity::membership::Model as Positional>::FIELDS,
            columns::<entity::membership::Column>()
        );
        assert_eq!(
            <entity::team_member::Model as Positional>::FIELDS,
            columns::<entity::team_member::Column>()
        );
    }
}
