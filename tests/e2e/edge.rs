//! The network edge: slow clients are cut off, a flood of idle connections
//! does not lock anyone out, request rates are limited per token and per
//! address, and tokens expire.

use super::*;
use kith::edge::{EdgeConfig, Rate};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ADMIN: &str = "admin-secret-for-tests-0123456789";

fn edge() -> EdgeConfig {
    EdgeConfig {
        header_timeout: Duration::from_millis(500),
        body_timeout: Duration::from_millis(700),
        ..EdgeConfig::default()
    }
}

/// `/healthz` answers, on a new connection, within a second.
async fn healthz_answers(s: &TestServer) {
    let fresh = reqwest::Client::new();
    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(1), fresh.get(s.url("/healthz")).send())
        .await
        .expect("/healthz answers within a second")
        .unwrap();
    assert_eq!(r.status(), 200, "after {:?}", started.elapsed());
}

/// Reads until the server closes; what it sent, or `None` if it is still
/// open after `wait`.
async fn read_until_closed(
    stream: &mut tokio::net::tcp::OwnedReadHalf,
    wait: Duration,
) -> Option<String> {
    let mut got = vec![];
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|_| String::from_utf8_lossy(&got).into_owned())
}

on_both_databases!(slow_headers_and_bodies_are_cut_off, |db| async move {
    let Some(s) = TestServer::start_with_edge(db, edge()).await else {
        return;
    };
    // Headers a byte every 50 ms: 4 s to send, cut off after 0.5 s.
    let (mut read, mut write) = TcpStream::connect(s.addr).await.unwrap().into_split();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let head = b"GET /v1/groups HTTP/1.1\r\nhost: kith\r\nx-padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
        for byte in head {
            if write.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    healthz_answers(&s).await;
    assert!(
        read_until_closed(&mut read, Duration::from_secs(3))
            .await
            .is_some(),
        "a connection trickling its headers is still open after {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() >= Duration::from_millis(450));
    trickle.abort();

    // A body a byte every 50 ms: 408 after 0.7 s, and the connection closes.
    let (mut read, mut write) = TcpStream::connect(s.addr).await.unwrap().into_split();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let head = "POST /v1/groups HTTP/1.1\r\nhost: kith\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
        write.write_all(head.as_bytes()).await.unwrap();
        for _ in 0..100 {
            if write.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let answer = read_until_closed(&mut read, Duration::from_secs(3))
        .await
        .unwrap_or_else(|| panic!("a trickled body still open after {:?}", started.elapsed()));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    healthz_answers(&s).await;
    trickle.abort();
});

on_both_databases!(idle_connections_beyond_the_cap_give_way, |db| async move {
    let cap = 50;
    let config = EdgeConfig {
        max_connections: cap,
        ..EdgeConfig::default()
    };
    let Some(s) = TestServer::start_with_edge(db, config).await else {
        return;
    };
    // Four times the cap, sending nothing (they would be kept 10 s).
    let mut idle = vec![];
    for _ in 0..4 * cap {
        idle.push(TcpStream::connect(s.addr).await.unwrap().into_split());
        tokio::task::yield_now().await;
    }
    for _ in 0..5 {
        healthz_answers(&s).await;
    }
    let (status, _) = s
        .call(
            "POST",
            "/v1/groups",
            Some(json!({"id": "gz", "name": "gz"})),
        )
        .await;
    assert_eq!(status, 201);
    // The server keeps at most `cap` of them (the newest): the rest are closed.
    let checks = idle.into_iter().map(|(mut read, write)| {
        tokio::spawn(async move {
            let closed = read_until_closed(&mut read, Duration::from_secs(2)).await;
            drop(write);
            closed.is_some()
        })
    });
    let mut closed = 0;
    for check in checks {
        closed += usize::from(check.await.unwrap());
    }
    assert!(
        closed >= 3 * cap,
        "only {closed} of {} idle connections closed",
        4 * cap
    );
});

async fn token_named(s: &TestServer, name: &str) -> String {
    let r = s
        .http
        .post(s.url("/v1/tokens"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": name, "scope": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Asserts a 429 with `Retry-After` and the JSON error body.
async fn assert_limited(r: reqwest::Response) {
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("retry"),
        "{body}"
    );
}

on_both_databases!(requests_per_token_are_limited, |db| async move {
    let config = EdgeConfig {
        token_rate: Rate {
            per_second: 1.0,
            burst: 3.0,
        },
        ip_rate: Rate::OFF,
        ..EdgeConfig::default()
    };
    let Some(s) = TestServer::start_with_edge(db, config).await else {
        return;
    };
    s.kith.bootstrap_admin(ADMIN).await.unwrap();
    let busy = token_named(&s, "busy").await;
    let calm = token_named(&s, "calm").await;
    let get = |t: &str| s.http.get(s.url("/v1/groups")).bearer_auth(t).send();
    for _ in 0..3 {
        assert_eq!(get(&busy).await.unwrap().status(), 200);
    }
    assert_limited(get(&busy).await.unwrap()).await;
    assert_eq!(
        get(&calm).await.unwrap().status(),
        200,
        "another token is not limited"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        get(&busy).await.unwrap().status(),
        200,
        "refilled after Retry-After"
    );
});

on_both_databases!(requests_per_address_are_limited, |db| async move {
    let config = EdgeConfig {
        token_rate: Rate::OFF,
        ip_rate: Rate {
            per_second: 1.0,
            burst: 5.0,
        },
        ..EdgeConfig::default()
    };
    let Some(s) = TestServer::start_with_edge(db, config).await else {
        return;
    };
    for _ in 0..5 {
        assert_eq!(
            s.http
                .get(s.url("/v1/groups"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    // Unknown paths count too: the limit applies before routing.
    assert_limited(s.http.get(s.url("/nowhere")).send().await.unwrap()).await;
    // Health checks are exempt.
    for _ in 0..20 {
        assert_eq!(
            s.http.get(s.url("/healthz")).send().await.unwrap().status(),
            200
        );
    }
});

on_both_databases!(tokens_expire, |db| async move {
    let Some(db) = test_db(db).await else {
        return;
    };
    let start = 1_700_000_000_000;
    let s = TestServer::start_on(db, kith::dispatch::Clock::manual(start)).await;
    s.kith.bootstrap_admin(ADMIN).await.unwrap();
    let create = |body: Value| {
        s.http
            .post(s.url("/v1/tokens"))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
    };
    let r = create(json!({"name": "short", "scope": "admin", "ttl_seconds": 60}))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let short: Value = r.json().await.unwrap();
    assert_eq!(short["expires_at"], start + 60_000);
    let at = start + 3_600_000;
    let r = create(json!({"name": "dated", "scope": "admin", "expires_at": at}))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    for bad in [
        json!({"name": "past", "scope": "admin", "expires_at": start - 1}),
        json!({"name": "both", "scope": "admin", "expires_at": at, "ttl_seconds": 5}),
        json!({"name": "zero", "scope": "admin", "ttl_seconds": 0}),
    ] {
        assert_eq!(create(bad.clone()).await.unwrap().status(), 400, "{bad}");
    }
    let list: Value = s
        .http
        .get(s.url("/v1/tokens"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expiry = |name: &str| {
        list["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["expires_at"]
            .clone()
    };
    assert_eq!(expiry("short"), start + 60_000);
    assert_eq!(expiry("dated"), at);
    assert_eq!(expiry("bootstrap admin"), Value::Null);

    let secret = short["token"].as_str().unwrap();
    let groups = || s.http.get(s.url("/v1/groups")).bearer_auth(secret).send();
    assert_eq!(groups().await.unwrap().status(), 200);
    s.kith.clock.advance(60_000);
    let r = groups().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
});
