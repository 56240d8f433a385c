//! The probes of issue 12 (money, limits and the network edge): each test
//! is one attack that used to succeed, on both databases. docs/security.md
//! lists them.

use super::*;

const ADMIN: &str = "admin-secret-for-tests-0123456789";

async fn event(s: &TestServer, body: Value) -> (u16, Value) {
    s.call("POST", "/v1/events", Some(body)).await
}

fn payment(id: &str, payment_id: &str, amount: i64, status: &str) -> Value {
    json!({"id": id, "group": "g", "type": "payment", "payment_id": payment_id,
           "member": "amy", "amount": amount, "status": status})
}

async fn money(s: &TestServer, account: &str) -> i64 {
    let v = s
        .ok(
            "GET",
            &format!("/v1/groups/g/ledger/{account}?asset=money"),
            None,
        )
        .await;
    v["balance"].as_i64().unwrap_or_else(|| panic!("{v}"))
}

/// A bearer-authenticated call, for the token probes.
async fn as_token(s: &TestServer, token: &str, method: &str, path: &str, body: Value) -> u16 {
    s.http
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            s.url(path),
        )
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

on_both_databases!(event_ids_are_per_group, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "cc1", &[]).await;
    group_with(&s, "cc2", &[]).await;
    let msg = |g: &str, text: &str| json!({"id": "shared-id", "group": g, "type": "message", "sender": "amy", "text": text});
    let first = event(&s, msg("cc1", "hi")).await;
    assert_eq!(first.0, 200, "{first:?}");
    let other = event(&s, msg("cc2", "hi")).await;
    assert_eq!(other.0, 200, "{other:?}");
    assert_eq!(other.1["duplicate"], false, "{other:?}");
    let stored = s.ok("GET", "/v1/groups/cc2/messages", None).await;
    assert_eq!(stored["messages"].as_array().unwrap().len(), 1, "{stored}");
    // The same id and body again: a retry. Another body: a conflict.
    let retry = event(&s, msg("cc2", "hi")).await;
    assert_eq!((retry.0, &retry.1["duplicate"]), (200, &json!(true)));
    let changed = event(&s, msg("cc2", "something else")).await;
    assert_eq!(changed.0, 409, "{changed:?}");
});

on_both_databases!(balances_cannot_overflow, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[]).await;
    s.ok(
        "POST",
        "/v1/groups/g/members",
        Some(json!({"member": "amy"})),
    )
    .await;
    let huge = event(&s, payment("e1", "p1", i64::MAX, "succeeded")).await;
    assert_eq!(huge.0, 422, "{huge:?}");
    let max = 1_000_000_000_000_000;
    assert_eq!(
        event(&s, payment("e2", "p2", max, "succeeded")).await.0,
        200
    );
    let over = event(&s, payment("e3", "p3", 1, "succeeded")).await;
    assert_eq!(over.0, 422, "{over:?}");
    assert_eq!(money(&s, "member:amy").await, max);
    s.ok("GET", "/v1/groups/g/members/amy", None).await;
    s.assert_ledger_balances("g").await;
});

on_both_databases!(payments_count_once_and_refunds_match, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[]).await;
    s.ok(
        "POST",
        "/v1/groups/g/members",
        Some(json!({"member": "amy"})),
    )
    .await;
    s.ok(
        "POST",
        "/v1/groups/g/members",
        Some(json!({"member": "bob"})),
    )
    .await;
    assert_eq!(
        event(&s, payment("e1", "p1", 100, "succeeded")).await.0,
        200
    );
    let again = event(&s, payment("e2", "p1", 100, "succeeded")).await;
    assert_eq!(again.0, 409, "{again:?}");
    assert_eq!(money(&s, "member:amy").await, 100);
    let unknown = event(&s, payment("e3", "p9", 50, "refunded")).await;
    assert_eq!(unknown.0, 422, "{unknown:?}");
    let too_much = event(&s, payment("e4", "p1", 150, "refunded")).await;
    assert_eq!(too_much.0, 422, "{too_much:?}");
    let mut other = payment("e5", "p1", 10, "refunded");
    other["member"] = json!("bob");
    assert_eq!(event(&s, other).await.0, 422);
    assert_eq!(event(&s, payment("e6", "p1", 60, "refunded")).await.0, 200);
    assert_eq!(event(&s, payment("e7", "p1", 40, "refunded")).await.0, 200);
    let spent = event(&s, payment("e8", "p1", 1, "refunded")).await;
    assert_eq!(spent.0, 422, "{spent:?}");
    assert_eq!(money(&s, "member:amy").await, 0);
    s.assert_ledger_balances("g").await;
});

on_both_databases!(a_parent_needs_rights_over_it, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    for g in ["ga", "club"] {
        s.ok("POST", "/v1/groups", Some(json!({"id": g, "name": g})))
            .await;
    }
    s.kith.bootstrap_admin(ADMIN).await.unwrap();
    let made = s
        .http
        .post(s.url("/v1/tokens"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "op", "scope": "operator", "groups": ["ga"]}))
        .send()
        .await
        .unwrap();
    let op = made.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let patch = |parent: &str| json!({"parent": parent});
    // Another's alliance and a group that does not exist look the same.
    assert_eq!(
        as_token(&s, &op, "PATCH", "/v1/groups/ga", patch("club")).await,
        403
    );
    assert_eq!(
        as_token(&s, &op, "PATCH", "/v1/groups/ga", patch("nope")).await,
        403
    );
    assert_eq!(
        as_token(&s, ADMIN, "PATCH", "/v1/groups/ga", patch("club")).await,
        200
    );
});

on_both_databases!(operator_limits_have_ceilings, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[]).await;
    s.install("daily-checkin").await;
    for limits in [
        json!({"memory_bytes": 4u64 << 30}),
        json!({"storage_bytes": 1u64 << 40}),
        json!({"timeout_ms": 60_000}),
    ] {
        let (status, body) = s
            .call(
                "PUT",
                "/v1/groups/g/plugins/daily-checkin",
                Some(json!({"limits": limits})),
            )
            .await;
        assert_eq!(status, 422, "{limits}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("ceiling"),
            "{body}"
        );
    }
    let within = json!({"limits": {"memory_bytes": 128u64 << 20, "timeout_ms": 2_000}});
    s.ok("PUT", "/v1/groups/g/plugins/daily-checkin", Some(within))
        .await;
});

on_both_databases!(nul_is_refused_everywhere, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[]).await;
    let text =
        json!({"id": "n1", "group": "g", "type": "message", "sender": "amy", "text": "a\u{0}b"});
    assert_eq!(event(&s, text).await.0, 400);
    let id =
        json!({"id": "n\u{0}2", "group": "g", "type": "message", "sender": "amy", "text": "ab"});
    assert_eq!(event(&s, id).await.0, 400);
    let name = json!({"id": "x", "name": "a\u{0}"});
    assert_eq!(s.call("POST", "/v1/groups", Some(name)).await.0, 400);
    assert_eq!(s.call("GET", "/v1/groups/g%00x", None).await.0, 400);
    // A backslash before `u0000` is text, not a NUL.
    let escaped =
        json!({"id": "n3", "group": "g", "type": "message", "sender": "amy", "text": "\\u0000"});
    assert_eq!(event(&s, escaped).await.0, 200);
});

/// Files in the server's compiled-code cache.
fn cached(s: &TestServer) -> usize {
    std::fs::read_dir(s.db.dir.path().join("cache")).map_or(0, |d| d.count())
}

on_both_databases!(
    malformed_uploads_are_refused_and_forgotten,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        let upload = |bytes: Vec<u8>| async {
            let resp = s
                .http
                .post(s.url("/v1/plugins"))
                .header("content-type", "application/wasm")
                .body(bytes)
                .send()
                .await
                .unwrap();
            resp.status().as_u16()
        };
        let whole = plugin_file("daily-checkin");
        for cut in [9, 100, whole.len() / 3, whole.len() / 2, whole.len() - 1] {
            assert_eq!(upload(whole[..cut].to_vec()).await, 422, "cut at {cut}");
        }
        let before = cached(&s);
        let bad =
            std::fs::read(workspace_root().join("target/test-plugins/bad-schema.wasm")).unwrap();
        assert_eq!(upload(bad).await, 422);
        assert_eq!(
            cached(&s),
            before,
            "a rejected upload left compiled code behind"
        );
    }
);

on_both_databases!(event_times_are_bounded, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[]).await;
    for (i, at) in [i64::MAX, -1, i64::MIN].into_iter().enumerate() {
        let e = json!({"id": format!("t{i}"), "group": "g", "type": "message", "sender": "amy", "text": "hi", "at": at});
        let (status, body) = event(&s, e).await;
        assert_eq!(status, 422, "at {at}: {body}");
    }
});

on_both_databases!(bootstrap_admin_token_stays, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    s.kith.bootstrap_admin(ADMIN).await.unwrap();
    assert_eq!(
        as_token(&s, ADMIN, "DELETE", "/v1/tokens/admin", json!({})).await,
        409
    );
    assert_eq!(
        as_token(&s, ADMIN, "GET", "/v1/tokens", json!({})).await,
        200
    );
});

#[tokio::test]
async fn metrics_are_served_in_the_prometheus_format() {
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    group_with(&s, "g", &[("daily-checkin", json!({}))]).await;
    s.ok(
        "POST",
        "/v1/groups/g/members",
        Some(json!({"member": "amy"})),
    )
    .await;
    say(&s, "g", "m1", "amy", "/checkin", 1_790_000_000_000).await;
    let response = s.http.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    for expected in [
        "kith_events_total{kind=\"message\",outcome=\"ok\"}",
        "kith_invocations_total{plugin=\"daily-checkin\",outcome=\"ok\"}",
        "kith_invocation_duration_seconds_bucket{plugin=\"daily-checkin\",le=\"0.005\"}",
        "kith_invocation_fuel_bucket{plugin=\"daily-checkin\",le=\"1000000\"}",
        "kith_store_commit_seconds_count",
        "kith_outbox_pending",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}

#[test]
fn logs_can_be_json_lines() {
    let cli = kith::cli::Cli::from_args(["kith", "--log-format", "json", "openapi"]).unwrap();
    assert_eq!(cli.log_format, kith::cli::LogFormat::Json);
    let cli = kith::cli::Cli::from_args(["kith", "openapi"]).unwrap();
    assert_eq!(cli.log_format, kith::cli::LogFormat::Text);
    assert!(kith::cli::Cli::from_args(["kith", "--log-format", "xml", "openapi"]).is_err());
}
