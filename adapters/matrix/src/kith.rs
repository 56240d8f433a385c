//! kith's adapter API: events in, outbox out, acknowledgements.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::failure::{Failure, Result};

/// One action of kith's outbox.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Action {
    pub id: i64,
    pub group: String,
    pub action: String,
    pub payload: Value,
    /// How many times kith leased it (this lease included).
    #[serde(default)]
    pub attempts: i64,
}

/// A client of one kith server.
#[derive(Debug, Clone)]
pub struct Kith {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Kith {
    /// A client of kith at `base`, with a bearer token when its API requires one.
    pub fn new(base: &str, token: Option<String>) -> Kith {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client without TLS options builds");
        Kith {
            http,
            base: base.trim_end_matches('/').to_string(),
            token,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let (status, value) = self.request(method.clone(), path, body).await?;
        if status < 300 {
            Ok(value)
        } else {
            Err(Failure::from_status(
                status,
                format!("kith {method} {path}: {status} {value}"),
            ))
        }
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value)> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// Posts one event (an `IncomingEvent`); kith processes an id once.
    pub async fn post_event(&self, event: &Value) -> Result<Value> {
        self.call(Method::POST, "/v1/events", Some(event)).await
    }

    /// Leases up to `limit` of a group's actions for `lease_ms`, oldest
    /// first: no other worker gets them (or anything else of the group)
    /// until they are acknowledged or the lease runs out.
    pub async fn lease(&self, group: &str, limit: u32, lease_ms: u64) -> Result<Vec<Action>> {
        let body = json!({"group": group, "limit": limit, "lease_ms": lease_ms});
        let v = self
            .call(Method::POST, "/v1/outbox/lease", Some(&body))
            .await?;
        serde_json::from_value(v["actions"].clone())
            .map_err(|e| Failure::Permanent(format!("kith outbox lease: {e}")))
    }

    /// Acknowledges delivered actions.
    pub async fn ack(&self, ids: &[i64]) -> Result<()> {
        self.call(Method::POST, "/v1/outbox/ack", Some(&json!({"ids": ids})))
            .await
            .map(drop)
    }

    /// Creates the group unless it exists (needs an admin token when kith
    /// requires tokens).
    pub async fn ensure_group(&self, id: &str, name: &str) -> Result<()> {
        let path = format!("/v1/groups/{}", crate::matrix::segment(id));
        let (status, v) = self.request(Method::GET, &path, None).await?;
        match status {
            200..=299 => Ok(()),
            404 => {
                let body = json!({"id": id, "name": name});
                self.call(Method::POST, "/v1/groups", Some(&body))
                    .await
                    .map(drop)
            }
            _ => Err(Failure::from_status(
                status,
                format!("kith GET {path}: {status} {v}"),
            )),
        }
    }

    /// Adds a member with a role (owner, admin): the operator's endpoint.
    pub async fn set_role(&self, group: &str, member: &str, role: &str) -> Result<()> {
        let path = format!("/v1/groups/{}/members", crate::matrix::segment(group));
        let body = json!({"member": member, "role": role});
        self.call(Method::POST, &path, Some(&body)).await.map(drop)
    }
}
