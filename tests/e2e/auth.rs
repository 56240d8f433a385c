//! API tokens: every endpoint needs one once tokens exist, and each scope
//! reaches only its endpoints (role × endpoint matrix).

use super::*;

const ADMIN: &str = "admin-secret-for-tests-0123456789";

async fn send(
    s: &TestServer,
    method: &str,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> u16 {
    let mut req = s.http.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        s.url(path),
    );
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req = match body {
        // A tiny module: the server answers 401/403 before reading a body,
        // and a large one would still be in flight when it closes.
        Some(Value::String(wasm)) if wasm == "wasm" => req
            .header("content-type", "application/wasm")
            .body(b"\0asm\x01\0\0\0".to_vec()),
        Some(b) => req.json(&b),
        None => req,
    };
    req.send().await.unwrap().status().as_u16()
}

async fn token(s: &TestServer, scope: &str, groups: &[&str]) -> String {
    let r = s
        .http
        .post(s.url("/v1/tokens"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": scope, "scope": scope, "groups": groups}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

on_both_databases!(scopes_by_endpoint, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    for g in ["gz", "sz"] {
        s.ok("POST", "/v1/groups", Some(json!({"id": g, "name": g})))
            .await;
    }
    s.install("daily-checkin").await;
    s.kith.bootstrap_admin(ADMIN).await.unwrap();
    let op = token(&s, "operator", &["gz"]).await;
    let ad = token(&s, "adapter", &[]).await;
    let event =
        json!({"id": "e1", "group": "gz", "type": "message", "sender": "amy", "text": "hi"});

    // (method, path, body, allowed for: admin, operator, adapter)
    let matrix: Vec<(&str, String, Option<Value>, [bool; 3])> = vec![
        ("GET", "/v1/groups".into(), None, [true, true, false]),
        (
            "POST",
            "/v1/groups".into(),
            Some(json!({"id": "new", "name": "n"})),
            [true, false, false],
        ),
        ("GET", "/v1/groups/gz".into(), None, [true, true, false]),
        ("GET", "/v1/groups/sz".into(), None, [true, false, false]),
        (
            "PATCH",
            "/v1/groups/gz".into(),
            Some(json!({"name": "Guangzhou"})),
            [true, true, false],
        ),
        (
            "POST",
            "/v1/groups/gz/members".into(),
            Some(json!({"member": "ann"})),
            [true, true, false],
        ),
        (
            "POST",
            "/v1/groups/sz/members".into(),
            Some(json!({"member": "ann"})),
            [true, false, false],
        ),
        (
            "GET",
            "/v1/groups/gz/members".into(),
            None,
            [true, true, false],
        ),
        (
            "POST",
            "/v1/groups/gz/join-requests".into(),
            Some(json!({"member": "bob"})),
            [true, true, false],
        ),
        (
            "POST",
            "/v1/groups/gz/messages".into(),
            Some(json!({"sender": "ann", "text": "hi"})),
            [true, true, false],
        ),
        (
            "PUT",
            "/v1/groups/gz/plugins/daily-checkin".into(),
            Some(json!({})),
            [true, true, false],
        ),
        (
            "PUT",
            "/v1/groups/sz/plugins/daily-checkin".into(),
            Some(json!({})),
            [true, false, false],
        ),
        (
            "GET",
            "/v1/groups/gz/ledger".into(),
            None,
            [true, true, false],
        ),
        (
            "GET",
            "/v1/groups/gz/invocations".into(),
            None,
            [true, true, false],
        ),
        ("GET", "/v1/plugins".into(), None, [true, true, false]),
        (
            "POST",
            "/v1/plugins".into(),
            Some(json!("wasm")),
            [true, false, false],
        ),
        (
            "POST",
            "/v1/events".into(),
            Some(event),
            [true, false, true],
        ),
        ("GET", "/v1/outbox".into(), None, [true, false, true]),
        (
            "POST",
            "/v1/outbox/ack".into(),
            Some(json!({"ids": []})),
            [true, false, true],
        ),
        ("GET", "/v1/tokens".into(), None, [true, false, false]),
        (
            "POST",
            "/v1/tokens".into(),
            Some(json!({"name": "x", "scope": "adapter"})),
            [true, false, false],
        ),
    ];
    for (method, path, body, allowed) in &matrix {
        assert_eq!(
            send(&s, method, path, body.clone(), None).await,
            401,
            "{method} {path} without a token"
        );
        assert_eq!(
            send(&s, method, path, body.clone(), Some("kith_wrong")).await,
            401,
            "{method} {path} with a bad token"
        );
        for (who, secret) in [("operator", op.as_str()), ("adapter", ad.as_str())] {
            let i = if who == "operator" { 1 } else { 2 };
            let status = send(&s, method, path, body.clone(), Some(secret)).await;
            if allowed[i] {
                assert!(
                    status != 401 && status != 403,
                    "{who} {method} {path} -> {status}"
                );
            } else {
                assert_eq!(status, 403, "{who} {method} {path}");
            }
        }
        let status = send(&s, method, path, body.clone(), Some(ADMIN)).await;
        assert!(
            allowed[0] && status != 401 && status != 403,
            "admin {method} {path} -> {status}"
        );
    }
    // Public endpoints stay public.
    assert_eq!(send(&s, "GET", "/healthz", None, None).await, 200);
    assert_eq!(send(&s, "GET", "/openapi.json", None, None).await, 200);

    // Operators see their groups only; secrets are shown once, never listed.
    let groups: Value = s
        .http
        .get(s.url("/v1/groups"))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["gz"]);
    let listed: Value = s
        .http
        .get(s.url("/v1/tokens"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!listed.to_string().contains(&op) && !listed.to_string().contains(ADMIN));

    // A deleted token stops working.
    let id = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["scope"] == "adapter")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        send(&s, "DELETE", &format!("/v1/tokens/{id}"), None, Some(ADMIN)).await,
        204
    );
    assert_eq!(send(&s, "GET", "/v1/outbox", None, Some(&ad)).await, 401);
});

/// Every operation of the OpenAPI document refuses a request without a token.
#[tokio::test]
async fn every_documented_endpoint_needs_a_token() {
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    s.kith.bootstrap_admin(ADMIN).await.unwrap();
    let doc = s.ok("GET", "/openapi.json", None).await;
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if path == "/healthz" || path == "/openapi.json" {
            continue;
        }
        let concrete = path
            .replace("{group}", "g")
            .replace("{member}", "m")
            .replace("{name}", "p")
            .replace("{account}", "group")
            .replace("{tag}", "t")
            .replace("{id}", "i");
        for method in ops
            .as_object()
            .unwrap()
            .keys()
            .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
        {
            let status = send(&s, &method.to_uppercase(), &concrete, Some(json!({})), None).await;
            assert_eq!(status, 401, "{method} {path}");
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} operations found");
}
