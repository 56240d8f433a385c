//! A small client of the Matrix client-server API (v3): only the endpoints
//! the adapter needs. Rate limits (429 with `retry_after_ms`) are waited out
//! here; other failures are classified for the caller's backoff.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::failure::{Failure, Result};

/// How many 429s one call waits out before it gives up (as transient).
const RATE_LIMIT_RETRIES: u32 = 5;
/// The longest a single 429 wait may be.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// A logged-in (or not yet) client of one homeserver.
#[derive(Debug, Clone)]
pub struct Matrix {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    /// The bot's own user id, once known.
    pub user_id: String,
}

/// Percent-encodes one path segment (room ids, event ids, user ids and
/// aliases carry `!`, `$`, `#`, `:` and `@`).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Matrix {
    /// A client of `homeserver` (its base URL), with an access token if one is known.
    pub fn new(homeserver: &str, token: Option<String>, user_id: String) -> Matrix {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(90))
            .build()
            .expect("an HTTP client without TLS options builds");
        Matrix {
            http,
            base: format!("{}/_matrix/client/v3", homeserver.trim_end_matches('/')),
            token,
            user_id,
        }
    }

    /// The access token in use.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// One API call; waits out rate limits, classifies other failures.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value> {
        let (status, value) = self.request(method.clone(), path, query, body).await?;
        if status < 300 {
            return Ok(value);
        }
        let what = format!(
            "{method} {path}: {status} {} {}",
            value["errcode"].as_str().unwrap_or(""),
            value["error"].as_str().unwrap_or("")
        );
        Err(Failure::from_status(status, what))
    }

    /// One request and its status and JSON body, 429s waited out (up to
    /// [`RATE_LIMIT_RETRIES`] times, each as long as the server asks).
    async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(u16, Value)> {
        let mut waited = 0;
        loop {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .query(query);
            if let Some(t) = &self.token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            let value: Value = resp.json().await.unwrap_or(Value::Null);
            if status != 429 || waited == RATE_LIMIT_RETRIES {
                return Ok((status, value));
            }
            waited += 1;
            let wait = value["retry_after_ms"]
                .as_u64()
                .map(Duration::from_millis)
                .unwrap_or(Duration::from_secs(1))
                .min(MAX_RATE_LIMIT_WAIT);
            tracing::info!("rate limited on {method} {path}: waiting {wait:?}");
            tokio::time::sleep(wait).await;
        }
    }

    /// Logs in with a password; keeps and returns the access token.
    pub async fn login(&mut self, user: &str, password: &str) -> Result<String> {
        let body = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
            "initial_device_display_name": "kith-matrix",
        });
        let v = self.call(Method::POST, "/login", &[], Some(&body)).await?;
        let token = v["access_token"]
            .as_str()
            .ok_or_else(|| Failure::Permanent("login: no access_token".into()))?;
        self.token = Some(token.to_string());
        self.user_id = v["user_id"].as_str().unwrap_or(user).to_string();
        Ok(token.to_string())
    }

    /// Checks the token and learns the bot's user id.
    pub async fn whoami(&mut self) -> Result<String> {
        let v = self.call(Method::GET, "/account/whoami", &[], None).await?;
        self.user_id = v["user_id"].as_str().unwrap_or_default().to_string();
        Ok(self.user_id.clone())
    }

    /// One sync: everything since `since` (long-polling `timeout_ms`).
    pub async fn sync(
        &self,
        since: Option<&str>,
        timeout_ms: u64,
        filter: &Value,
    ) -> Result<Value> {
        let mut q = vec![
            ("timeout", timeout_ms.to_string()),
            ("filter", filter.to_string()),
        ];
        if let Some(s) = since {
            q.push(("since", s.to_string()));
        }
        self.call(Method::GET, "/sync", &q, None).await
    }

    /// Events of a room between two tokens, oldest first: what a limited
    /// (gappy) sync left out.
    pub async fn messages_between(&self, room: &str, from: &str, to: &str) -> Result<Vec<Value>> {
        let mut events = Vec::new();
        let mut from = from.to_string();
        // Pages backwards from the gap's end to its start.
        for _ in 0..50 {
            let q = [
                ("from", from.clone()),
                ("to", to.to_string()),
                ("dir", "b".to_string()),
                ("limit", "100".to_string()),
            ];
            let path = format!("/rooms/{}/messages", segment(room));
            let v = self.call(Method::GET, &path, &q, None).await?;
            let chunk = v["chunk"].as_array().cloned().unwrap_or_default();
            let done = chunk.is_empty() || v["end"].is_null();
            events.extend(chunk);
            match v["end"].as_str() {
                Some(end) if !done => from = end.to_string(),
                _ => break,
            }
        }
        events.reverse();
        Ok(events)
    }

    /// Sends an event; `txn` makes a retried send one event.
    pub async fn send(&self, room: &str, kind: &str, txn: &str, content: &Value) -> Result<String> {
        let path = format!(
            "/rooms/{}/send/{}/{}",
            segment(room),
            segment(kind),
            segment(txn)
        );
        let v = self.call(Method::PUT, &path, &[], Some(content)).await?;
        Ok(v["event_id"].as_str().unwrap_or_default().to_string())
    }

    /// Redacts (deletes) an event.
    pub async fn redact(&self, room: &str, event: &str, txn: &str, reason: &str) -> Result<()> {
        let path = format!(
            "/rooms/{}/redact/{}/{}",
            segment(room),
            segment(event),
            segment(txn)
        );
        let body = json!({"reason": reason});
        self.call(Method::PUT, &path, &[], Some(&body))
            .await
            .map(drop)
    }

    /// A member's current membership in a room (`join`, `invite`, `knock`,
    /// `leave`, `ban`), or None if they never had one.
    pub async fn membership(&self, room: &str, user: &str) -> Result<Option<String>> {
        let path = format!(
            "/rooms/{}/state/m.room.member/{}",
            segment(room),
            segment(user)
        );
        let (status, v) = self.request(Method::GET, &path, &[], None).await?;
        if status == 404 {
            return Ok(None);
        }
        if status >= 300 {
            return Err(Failure::from_status(
                status,
                format!("membership of {user} in {room}: {status} {v}"),
            ));
        }
        Ok(v["membership"].as_str().map(str::to_string))
    }

    /// A membership change by the bot: `invite` or `kick`, with a reason.
    pub async fn member_action(
        &self,
        room: &str,
        action: &str,
        user: &str,
        reason: &str,
    ) -> Result<()> {
        let path = format!("/rooms/{}/{action}", segment(room));
        let body = json!({"user_id": user, "reason": reason});
        self.call(Method::POST, &path, &[], Some(&body))
            .await
            .map(drop)
    }

    /// Joins a room by id or alias; returns the room id.
    pub async fn join(&self, room: &str) -> Result<String> {
        let path = format!("/join/{}", segment(room));
        let v = self
            .call(Method::POST, &path, &[], Some(&json!({})))
            .await?;
        Ok(v["room_id"].as_str().unwrap_or(room).to_string())
    }

    /// A state event's content.
    pub async fn state(&self, room: &str, kind: &str, key: &str) -> Result<Value> {
        let path = format!(
            "/rooms/{}/state/{}/{}",
            segment(room),
            segment(kind),
            segment(key)
        );
        self.call(Method::GET, &path, &[], None).await
    }

    /// Replaces a state event's content.
    pub async fn put_state(
        &self,
        room: &str,
        kind: &str,
        key: &str,
        content: &Value,
    ) -> Result<()> {
        let path = format!(
            "/rooms/{}/state/{}/{}",
            segment(room),
            segment(kind),
            segment(key)
        );
        self.call(Method::PUT, &path, &[], Some(content))
            .await
            .map(drop)
    }

    /// The room's joined members.
    pub async fn joined_members(&self, room: &str) -> Result<Vec<String>> {
        let path = format!("/rooms/{}/joined_members", segment(room));
        let v = self.call(Method::GET, &path, &[], None).await?;
        Ok(v["joined"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// Creates a direct-message room with `user` (invited, marked direct).
    /// `private_chat`, not `trusted_private_chat`: in recent room versions
    /// the latter makes the invitee a creator of the room.
    pub async fn create_dm(&self, user: &str) -> Result<String> {
        let body = json!({
            "is_direct": true,
            "invite": [user],
            "preset": "private_chat",
        });
        let v = self
            .call(Method::POST, "/createRoom", &[], Some(&body))
            .await?;
        v["room_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Failure::Permanent("createRoom: no room_id".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("!a:hs"), "%21a%3Ahs");
        assert_eq!(segment("$ev/x"), "%24ev%2Fx");
        assert_eq!(segment("m.room.message"), "m.room.message");
        assert_eq!(segment("kith-12"), "kith-12");
    }
}
