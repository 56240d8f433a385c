//! What the commands that manage a running host share: where it is, the
//! token, the output format, and a client that returns the JSON answers.

use anyhow::{bail, Context};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

/// Where a running host is, the token to call it with, and how to print.
#[derive(clap::Args)]
pub struct Remote {
    #[arg(
        long,
        env = "KITH_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    server: String,
    /// An API token, when the host requires one.
    #[arg(long, env = "KITH_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// Print the API's JSON answer instead of a table (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
}

/// A client builder that sends `token`, if any, as a bearer token on every
/// request (marked sensitive, so it is not logged).
///
/// # Errors
/// A token that is not a valid header value.
pub fn authorized(token: Option<&str>) -> anyhow::Result<reqwest::ClientBuilder> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .context("the token is not a valid header value")?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    Ok(reqwest::Client::builder().default_headers(headers))
}

/// Calls a running host's API.
pub struct Client {
    http: reqwest::Client,
    base: String,
    json: bool,
}

impl Client {
    /// A client for the host `remote` names.
    ///
    /// # Errors
    /// A token that is not a valid header value.
    pub fn new(remote: &Remote) -> anyhow::Result<Self> {
        Ok(Client {
            http: authorized(remote.token.as_deref())?.build()?,
            base: remote.server.trim_end_matches('/').to_string(),
            json: remote.json,
        })
    }

    /// A request to `path` (`/v1/...`) on the host.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// Sends `request` and returns the answer's JSON (null for no body).
    ///
    /// # Errors
    /// A host that cannot be reached, or a 4xx/5xx answer (its error
    /// message, or its body, is the error's message).
    pub async fn call(&self, request: RequestBuilder) -> anyhow::Result<Value> {
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach kith at {}", self.base))?;
        let status = response.status();
        let text = response.text().await?;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if !status.is_success() {
            match value["error"]["message"].as_str() {
                Some(message) => bail!("{status}: {message}"),
                None => bail!("{status}: {value}"),
            }
        }
        Ok(value)
    }

    /// Sends `request` and renders the answer: pretty JSON with `--json`,
    /// else what `render` makes of it.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn show(
        &self,
        request: RequestBuilder,
        render: impl FnOnce(&Value) -> String,
    ) -> anyhow::Result<String> {
        let value = self.call(request).await?;
        Ok(if self.json {
            let mut text = serde_json::to_string_pretty(&value).expect("json");
            text.push('\n');
            text
        } else {
            render(&value)
        })
    }
}
