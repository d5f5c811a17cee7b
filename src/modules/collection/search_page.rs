//! Paging a search: the cursor (sort tag, sort key, id) and the validated page request.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::search::{Sort, SortField};
use crate::error::{AppError, AppResult};

/// Where a cursor points: the sort key of a row and its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort's tag: a cursor of another sort is refused.
    s: String,
    /// The key: an integer, an RFC 3339 date or a float, as the sort says.
    k: serde_json::Value,
    i: Uuid,
}

impl Cursor {
    pub fn new(field: SortField, key: serde_json::Value, id: Uuid) -> Self {
        Self { s: field.tag().into(), k: key, i: id }
    }

    pub fn id(&self) -> Uuid {
        self.i
    }

    pub fn key(&self) -> &serde_json::Value {
        &self.k
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(field: &str, s: &str, sort: Sort) -> AppResult<Self> {
        let c: Cursor = URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| AppError::validation(field, "not a valid cursor"))?;
        if c.s != sort.field.tag() {
            return Err(AppError::validation(field, "a cursor of another sort"));
        }
        Ok(c)
    }
}

/// A page request over a search.
#[derive(Clone, Debug)]
pub struct SearchWindow {
    pub limit: usize,
    pub backward: bool,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
}

impl SearchWindow {
    /// Validates Relay arguments for `sort` (sizes within `0..=max`, cursors of this sort).
    pub fn new(args: &crate::db::page::PageArgs, sort: Sort, max: usize) -> AppResult<Self> {
        let size = |field: &str, v: Option<i32>| -> AppResult<Option<usize>> {
            match v {
                None => Ok(None),
                Some(n) if n < 0 || n as usize > max => {
                    Err(AppError::validation(field, format!("must be between 0 and {max}")))
                }
                Some(n) => Ok(Some(n as usize)),
            }
        };
        let (first, last) = (size("first", args.first)?, size("last", args.last)?);
        if first.is_some() && last.is_some() {
            return Err(AppError::validation("last", "cannot be combined with `first`"));
        }
        Ok(Self {
            limit: last.or(first).unwrap_or(crate::db::page::DEFAULT_PAGE_SIZE.min(max)),
            backward: last.is_some(),
            after: args.after.as_deref().map(|c| Cursor::decode("after", c, sort)).transpose()?,
            before: args.before.as_deref().map(|c| Cursor::decode("before", c, sort)).transpose()?,
        })
    }

    /// Everything from the start, `limit` rows a page (exports and workflow nodes).
    pub fn first(limit: usize) -> Self {
        Self { limit, backward: false, after: None, before: None }
    }
}
