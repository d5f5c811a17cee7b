//! Custom scalars. `DateTime` (RFC 3339), `UUID` and `JSON` come from async-graphql's
//! chrono/uuid/serde_json integrations; `Email` is ours.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// An e-mail address (RFC 5322 addr-spec), normalised to lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.len() > 254 {
            return Err("an e-mail address is at most 254 characters".into());
        }
        match email_address::EmailAddress::parse_with_options(
            trimmed,
            email_address::Options::default().without_display_text().with_required_tld(),
        ) {
            Ok(addr) => Ok(Self(addr.as_str().to_lowercase())),
            Err(e) => Err(format!("not a valid e-mail address ({e})")),
        }
    }

    /// Wraps an address that was validated before it was stored.
    pub fn from_stored(address: &str) -> Self {
        Self(address.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An e-mail address such as `ada@example.com`.
#[Scalar(name = "Email", specified_by_url = "https://www.rfc-editor.org/rfc/rfc5322#section-3.4.1")]
impl ScalarType for Email {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => Email::parse(&s).map_err(InputValueError::custom),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn emails_are_validated_and_lowercased() {
        assert_eq!(Email::parse(" Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        for bad in
            ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "Ada <ada@example.com>"]
        {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
