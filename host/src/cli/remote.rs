//! What the commands that manage a running host share: where it is, the
//! token, and a client that prints the JSON answers.

use anyhow::{bail, Context};
use reqwest::{Method, RequestBuilder};

/// Where a running host is, and the token to call it with.
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

/// Calls a running host's API and prints its answers.
pub struct Client {
    http: reqwest::Client,
    base: String,
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
        })
    }

    /// A request to `path` (`/v1/...`) on the host.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// Sends `request` and prints the answer, as pretty JSON if it is JSON.
    ///
    /// # Errors
    /// A host that cannot be reached, or a 4xx/5xx answer (its body is the
    /// error's message).
    pub async fn send(&self, request: RequestBuilder) -> anyhow::Result<()> {
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach kith at {}", self.base))?;
        let status = response.status();
        let text = response.text().await?;
        let pretty = serde_json::from_str::<serde_json::Value>(&text)
            .map(|v| serde_json::to_string_pretty(&v).expect("json"))
            .unwrap_or(text);
        if status.is_success() {
            println!("{pretty}");
            Ok(())
        } else {
            bail!("{status}: {pretty}")
        }
    }
}
