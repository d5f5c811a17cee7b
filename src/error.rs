//! The one error type of Zygo and its conversion into GraphQL errors.
//!
//! Services return [`AppError`]; resolvers turn it into an `async_graphql::Error` with
//! `extensions.code` (and `field` for validation errors). Internal errors reach the client
//! as a generic message and the log with their whole cause chain. The request id is added
//! to every error by [`crate::graphql::answer::shape_errors`].

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// Every error a service can report.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("missing permission `{permission}`")]
    Forbidden { permission: &'static str },
    #[error("{0}")]
    ForbiddenWith(String),
    #[error("the e-mail address must be verified first")]
    EmailNotVerified,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("{message}")]
    Conflict { field: Option<String>, message: String },
    /// A request refused for a domain reason with its own code, e.g. `INVITATION_EXPIRED`.
    #[error("{message}")]
    Rejected { code: &'static str, field: Option<String>, message: String },
    /// A workflow that cannot run or be published, with every problem found.
    #[error("{message}")]
    WorkflowInvalid { message: String, problems: serde_json::Value },
    /// Beyond what the organisation's plan allows: `PLAN_REQUIRED` (a feature),
    /// `QUOTA_EXCEEDED` (a limit) or `OVER_PLAN_LIMITS` (a downgrade that would not fit);
    /// `details` become the error's extensions (the feature and cheapest plan, or the limit,
    /// use and reset time).
    #[error("{message}")]
    Plan { code: &'static str, message: String, details: serde_json::Value },
    /// A request refused for a domain reason with its own code and what the client needs to
    /// recover as the error's extensions: `CONFLICT` for a stale edit (with the current
    /// revision and content), `LOCKED` for a section someone else holds (holder and expiry).
    #[error("{message}")]
    RejectedWith { code: &'static str, message: String, details: serde_json::Value },
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Result alias of the service layer.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation { field: field.into(), message: message.into() }
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict { field: Some(field.into()), message: message.into() }
    }

    pub fn rejected(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self::Rejected { code, field: Some(field.into()), message: message.into() }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::Unauthenticated(message.into())
    }

    /// The machine-readable `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden { .. } | Self::ForbiddenWith(_) => "FORBIDDEN",
            Self::EmailNotVerified => "EMAIL_NOT_VERIFIED",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Validation { .. } => "BAD_USER_INPUT",
            Self::Conflict { .. } => "CONFLICT",
            Self::Rejected { code, .. } => code,
            Self::Plan { code, .. } => code,
            Self::RejectedWith { code, .. } => code,
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::WorkflowInvalid { .. } => "WORKFLOW_INVALID",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// Maps a unique-constraint violation to a CONFLICT on `field`, anything else to INTERNAL.
    pub fn from_db_unique(err: DbErr, field: &str, message: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::conflict(field, message),
            _ => Self::Internal(err.into()),
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        Self::Internal(err.into())
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        if let AppError::Internal(cause) = &err {
            // The client learns nothing about the cause; the log gets all of it, inside the
            // request's span (request id, operation, user).
            tracing::error!(error = ?cause, "internal error");
            return async_graphql::Error::new("Internal server error")
                .extend_with(|_, e| e.set("code", code));
        }
        let message = err.to_string();
        async_graphql::Error::new(message).extend_with(|_, e| {
            e.set("code", code);
            match &err {
                AppError::Validation { field, .. } => e.set("field", field.as_str()),
                AppError::Conflict { field: Some(field), .. } => e.set("field", field.as_str()),
                AppError::Rejected { field: Some(field), .. } => e.set("field", field.as_str()),
                AppError::Forbidden { permission } => e.set("permission", *permission),
                AppError::RateLimited { retry_after_secs } => e.set("retryAfter", *retry_after_secs),
                AppError::Plan { details: serde_json::Value::Object(map), .. }
                | AppError::RejectedWith { details: serde_json::Value::Object(map), .. } => {
                    for (k, v) in map {
                        if let Ok(v) = async_graphql::Value::from_json(v.clone()) {
                            e.set(k.as_str(), v);
                        }
                    }
                }
                AppError::WorkflowInvalid { problems, .. } => {
                    if let Ok(v) = async_graphql::Value::from_json(problems.clone()) {
                        e.set("problems", v);
                    }
                }
                _ => {}
            }
        })
    }
}

impl From<crate::config::ConfigError> for AppError {
    fn from(err: crate::config::ConfigError) -> Self {
        Self::Internal(err.into())
    }
}
