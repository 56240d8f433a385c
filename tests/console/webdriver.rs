//! A small W3C WebDriver client over reqwest: the handful of commands the
//! console test needs (a session, navigation, elements, keys, scripts,
//! screenshots). chromedriver speaks this protocol.

use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The key every element reference is sent under (W3C WebDriver).
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// WebDriver's code points for special keys.
pub const ENTER: &str = "\u{E007}";
pub const TAB: &str = "\u{E004}";

/// A browser session.
pub struct Session {
    http: reqwest::Client,
    base: String,
}

/// An element of the current page.
#[derive(Clone)]
pub struct Element(String);

impl Session {
    /// Opens a session on the driver at `driver` (e.g. `http://127.0.0.1:9515`).
    pub async fn start(driver: &str, capabilities: Value) -> anyhow::Result<Session> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(180))
            .build()?;
        let body = json!({"capabilities": {"alwaysMatch": capabilities}});
        let resp: Value = http
            .post(format!("{driver}/session"))
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        let id = resp["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no session: {resp}"))?;
        Ok(Session {
            http,
            base: format!("{driver}/session/{id}"),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let json: Value = resp.json().await?;
        if !status.is_success() {
            anyhow::bail!("{path}: {status}: {}", json["value"]);
        }
        Ok(json["value"].clone())
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.post("/url", json!({"url": url})).await.map(|_| ())
    }

    pub async fn set_window(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await
            .map(|_| ())
    }

    /// The first element matching a CSS selector, if any.
    pub async fn find(&self, css: &str) -> anyhow::Result<Option<Element>> {
        let found = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await?;
        Ok(found
            .as_array()
            .and_then(|a| a.first())
            .and_then(|e| e[ELEMENT].as_str())
            .map(|id| Element(id.to_string())))
    }

    /// Waits up to `timeout` for an element matching `css` that is displayed.
    pub async fn wait(&self, css: &str, timeout: Duration) -> anyhow::Result<Element> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.find(css).await? {
                if self.displayed(&e).await.unwrap_or(false) {
                    return Ok(e);
                }
            }
            if Instant::now() > deadline {
                anyhow::bail!("no visible {css} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn displayed(&self, e: &Element) -> anyhow::Result<bool> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/displayed", e.0),
                None,
            )
            .await?;
        Ok(v.as_bool().unwrap_or(false))
    }

    pub async fn click(&self, e: &Element) -> anyhow::Result<()> {
        self.post(&format!("/element/{}/click", e.0), json!({}))
            .await
            .map(|_| ())
    }

    pub async fn clear(&self, e: &Element) -> anyhow::Result<()> {
        self.post(&format!("/element/{}/clear", e.0), json!({}))
            .await
            .map(|_| ())
    }

    /// Types into an element (keys such as [`ENTER`] included).
    pub async fn type_into(&self, e: &Element, text: &str) -> anyhow::Result<()> {
        self.post(&format!("/element/{}/value", e.0), json!({"text": text}))
            .await
            .map(|_| ())
    }

    pub async fn text(&self, e: &Element) -> anyhow::Result<String> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/text", e.0),
                None,
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Presses a key on whatever has the focus.
    pub async fn press(&self, key: &str) -> anyhow::Result<()> {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]});
        self.post("/actions", actions).await.map(|_| ())
    }

    /// Runs a script in the page; its return value.
    pub async fn script(&self, script: &str) -> anyhow::Result<Value> {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// A PNG of the page as the window shows it.
    pub async fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await?;
        decode_base64(v.as_str().unwrap_or_default())
    }

    pub async fn quit(&self) -> anyhow::Result<()> {
        self.call(reqwest::Method::DELETE, "", None)
            .await
            .map(|_| ())
    }
}

/// Standard base64 (the screenshot's encoding), padding and newlines allowed.
fn decode_base64(text: &str) -> anyhow::Result<Vec<u8>> {
    let value = |c: u8| -> anyhow::Result<u32> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => anyhow::bail!("not base64: {c}"),
        } as u32)
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Ok(out)
}

#[test]
fn base64_decodes() {
    assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
    assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
    assert_eq!(decode_base64("YWJj").unwrap(), b"abc");
}
