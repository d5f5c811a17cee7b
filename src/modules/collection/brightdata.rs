//! A small client of BrightData's Datasets API (v3): `trigger` a collection with the inputs
//! and a notify URL (→ a snapshot id), read its `progress`, and download the `snapshot` as
//! JSON. Bearer-token authentication; errors keep BrightData's message and say whether a
//! retry may help.

use std::time::Duration;

use serde_json::{Value, json};

/// Why a call did not work.
#[derive(Debug)]
pub enum CallError {
    /// Worth trying again (unreachable, 429, 5xx).
    Transient(String),
    /// BrightData refused the request (401, 400, 404): trying again changes nothing.
    Refused(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transient(m) | Self::Refused(m) => f.write_str(m),
        }
    }
}

/// A collection's state, as `progress` reports it.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// `starting` or `running`.
    Running,
    Ready,
    Failed(String),
}

/// What downloading a snapshot gave.
pub enum Download {
    /// Still being built (202): ask again later.
    NotReady,
    Items(Vec<Value>),
}

/// The Datasets API at `base` with `token`.
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

async fn error_of(res: reqwest::Response) -> CallError {
    let status = res.status();
    let body = res.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("error")
                .or_else(|| v.get("message"))
                .or_else(|| v.get("error_message"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.chars().take(200).collect());
    let m = format!("BrightData answered {}: {message}", status.as_u16());
    if status.is_server_error() || status.as_u16() == 429 {
        CallError::Transient(m)
    } else {
        CallError::Refused(m)
    }
}

fn unreachable(e: reqwest::Error) -> CallError {
    CallError::Transient(format!("BrightData unreachable: {}", e.without_url()))
}

impl Client {
    pub fn new(base: &str, token: &str) -> Self {
        Self { base: base.trim_end_matches('/').to_string(), token: token.to_string(), http: client() }
    }

    /// Starts collecting `urls` (each with `parameters` merged in) with dataset `dataset`;
    /// BrightData calls `notify` with `Authorization: <auth>` when it ends.
    pub async fn trigger(
        &self,
        dataset: &str,
        urls: &[String],
        parameters: &Value,
        notify: &str,
        auth: &str,
    ) -> Result<String, CallError> {
        let inputs: Vec<Value> = urls
            .iter()
            .map(|u| {
                let mut o = parameters.as_object().cloned().unwrap_or_default();
                o.insert("url".into(), json!(u));
                Value::Object(o)
            })
            .collect();
        let res = self
            .http
            .post(format!("{}/datasets/v3/trigger", self.base))
            .bearer_auth(&self.token)
            .query(&[
                ("dataset_id", dataset),
                ("format", "json"),
                ("include_errors", "true"),
                ("notify", notify),
                ("auth_header", auth),
            ])
            .json(&inputs)
            .send()
            .await
            .map_err(unreachable)?;
        if !res.status().is_success() {
            return Err(error_of(res).await);
        }
        let body: Value =
            res.json().await.map_err(|e| CallError::Transient(format!("unreadable answer: {e}")))?;
        body.get("snapshot_id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| CallError::Transient("the answer has no snapshot_id".into()))
    }

    /// Where collection `snapshot` stands.
    pub async fn progress(&self, snapshot: &str) -> Result<Progress, CallError> {
        let res = self
            .http
            .get(format!("{}/datasets/v3/progress/{snapshot}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(unreachable)?;
        if !res.status().is_success() {
            return Err(error_of(res).await);
        }
        let body: Value =
            res.json().await.map_err(|e| CallError::Transient(format!("unreadable answer: {e}")))?;
        Ok(match body.get("status").and_then(Value::as_str) {
            Some("ready") => Progress::Ready,
            Some("failed") => Progress::Failed(
                body.get("error_message")
                    .or_else(|| body.get("error"))
                    .and_then(Value::as_str)
                    .unwrap_or("failed")
                    .to_string(),
            ),
            _ => Progress::Running,
        })
    }

    /// The collected items of `snapshot`, in JSON.
    pub async fn download(&self, snapshot: &str) -> Result<Download, CallError> {
        let res = self
            .http
            .get(format!("{}/datasets/v3/snapshot/{snapshot}", self.base))
            .bearer_auth(&self.token)
            .query(&[("format", "json")])
            .send()
            .await
            .map_err(unreachable)?;
        if res.status().as_u16() == 202 {
            return Ok(Download::NotReady);
        }
        if !res.status().is_success() {
            return Err(error_of(res).await);
        }
        let body: Value =
            res.json().await.map_err(|e| CallError::Transient(format!("unreadable snapshot: {e}")))?;
        match body {
            Value::Array(items) => Ok(Download::Items(items)),
            _ => Err(CallError::Transient("the snapshot is not a JSON array".into())),
        }
    }
}

impl Client {
    /// How many datasets the account reaches (`GET /datasets/list`): the harmless read that
    /// checks a token.
    pub async fn list_datasets(&self) -> Result<usize, CallError> {
        let body = self.get_json("datasets/list").await?;
        body.as_array()
            .map(Vec::len)
            .ok_or_else(|| CallError::Transient("the dataset list is not a list".into()))
    }

    /// The field names of dataset `dataset` (`GET /datasets/{id}/metadata`).
    pub async fn dataset_fields(&self, dataset: &str) -> Result<Vec<String>, CallError> {
        let body = self.get_json(&format!("datasets/{dataset}/metadata")).await?;
        let fields = body
            .get("fields")
            .and_then(Value::as_object)
            .ok_or_else(|| CallError::Transient("the dataset's metadata has no fields".into()))?;
        Ok(fields.keys().cloned().collect())
    }

    /// Cancels the running collection `snapshot` (`POST /datasets/v3/snapshot/{id}/cancel`).
    pub async fn cancel(&self, snapshot: &str) -> Result<(), CallError> {
        let res = self
            .http
            .post(format!("{}/datasets/v3/snapshot/{snapshot}/cancel", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(unreachable)?;
        if !res.status().is_success() {
            return Err(error_of(res).await);
        }
        Ok(())
    }

    async fn get_json(&self, path: &str) -> Result<Value, CallError> {
        let res = self
            .http
            .get(format!("{}/{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(unreachable)?;
        if !res.status().is_success() {
            return Err(error_of(res).await);
        }
        res.json().await.map_err(|e| CallError::Transient(format!("unreadable answer: {e}")))
    }
}
