//! Operators' failure policies and per-plugin quotas.

use super::*;

async fn hostile(s: &TestServer, group: &str, enable: Value) {
    let wasm = std::fs::read(workspace_root().join("target/test-plugins/hostile.wasm")).unwrap();
    let r = s
        .http
        .post(s.url("/v1/plugins"))
        .header("content-type", "application/wasm")
        .body(wasm)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status() == 409);
    s.ok(
        "PUT",
        &format!("/v1/groups/{group}/plugins/hostile"),
        Some(enable),
    )
    .await;
}

on_both_databases!(
    a_failing_plugin_is_switched_off_with_the_reason,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        group_with(&s, "g", &[("daily-checkin", json!({}))]).await;
        hostile(&s, "g", json!({"policy": {"disable_after": 3}})).await;
        for i in 0..3 {
            say(&s, "g", &format!("p{i}"), "amy", "panic", 1_790_000_000_000).await;
        }
        let en = s.ok("GET", "/v1/groups/g/plugins/hostile", None).await;
        assert!(
            en["disabled_reason"]
                .as_str()
                .unwrap()
                .contains("3 failures in a row"),
            "{en}"
        );
        // Switched off: it no longer runs; the other plugin still does.
        let out = say(&s, "g", "p3", "amy", "/checkin", 1_790_000_000_000).await;
        let ran: Vec<&str> = out["invocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["plugin"].as_str().unwrap())
            .collect();
        assert_eq!(ran, ["daily-checkin"]);
        assert_eq!(member(&s, "g", "amy").await["points"], 10);
        // Enabling it again turns it back on.
        s.ok("PUT", "/v1/groups/g/plugins/hostile", Some(json!({})))
            .await;
        let en = s.ok("GET", "/v1/groups/g/plugins/hostile", None).await;
        assert_eq!(en["disabled_reason"], Value::Null);
        let out = say(&s, "g", "p4", "amy", "hello", 1_790_000_000_000).await;
        assert_eq!(out["invocations"].as_array().unwrap().len(), 2);
    }
);

on_both_databases!(gates_fail_closed_or_open_as_chosen, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "closed", &[]).await;
    group_with(&s, "open", &[]).await;
    s.install("invite-only").await;
    // Too little fuel: the gate fails on every request.
    s.ok(
        "PUT",
        "/v1/groups/closed/plugins/invite-only",
        Some(json!({"limits": {"fuel": 1000}})),
    )
    .await;
    s.ok(
        "PUT",
        "/v1/groups/open/plugins/invite-only",
        Some(json!({"limits": {"fuel": 1000}, "policy": {"gate_failure": "open"}})),
    )
    .await;
    let j = join(&s, "closed", json!({"member": "bob"})).await;
    assert_eq!(j["status"], "rejected");
    assert!(
        j["reason"]
            .as_str()
            .unwrap()
            .contains("gate invite-only failed"),
        "{j}"
    );
    let j = join(&s, "open", json!({"member": "bob"})).await;
    assert_eq!(j["status"], "admitted", "{j}");
    let (st, v) = s
        .call(
            "PUT",
            "/v1/groups/open/plugins/invite-only",
            Some(json!({"policy": {"gate_failure": "ajar"}})),
        )
        .await;
    assert_eq!(st, 422, "{v}");
    // Switching off after 0 failures means nothing: refused, not stored.
    let (st, v) = s
        .call(
            "PUT",
            "/v1/groups/open/plugins/invite-only",
            Some(json!({"policy": {"disable_after": 0}})),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disable_after"),
        "{v}"
    );
});

on_both_databases!(quotas_refuse_what_is_over, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[]).await;
    s.install("daily-checkin").await;
    s.ok(
        "PUT",
        "/v1/groups/g/plugins/daily-checkin",
        Some(json!({"limits": {"messages_per_minute": 2}})),
    )
    .await;
    let t = 1_790_000_000_000i64;
    for (i, m) in ["a", "b", "c"].iter().enumerate() {
        // Members kith admitted: an unknown sender would be announced too.
        let add = json!({"member": m});
        s.ok("POST", "/v1/groups/g/members", Some(add)).await;
        say(&s, "g", &format!("q{i}"), m, "/checkin", t + i as i64).await;
    }
    // The third check-in's announcement is over the quota: the handler
    // fails and its points are not credited.
    assert_eq!(member(&s, "g", "b").await["points"], 10);
    assert_eq!(member(&s, "g", "c").await["points"], 0);
    let log = s
        .ok(
            "GET",
            "/v1/groups/g/invocations?plugin=daily-checkin&limit=1",
            None,
        )
        .await;
    assert!(
        log["invocations"][0]["error"]
            .as_str()
            .unwrap()
            .contains("messages in a minute"),
        "{log}"
    );
    // A minute later there is room again.
    say(&s, "g", "q3", "c", "/checkin", t + 61_000).await;
    assert_eq!(member(&s, "g", "c").await["points"], 10);

    // Storage: a quota too small for one member's record.
    s.ok(
        "PUT",
        "/v1/groups/g/plugins/daily-checkin",
        Some(json!({"limits": {"storage_bytes": 200}})),
    )
    .await;
    s.ok("POST", "/v1/groups/g/members", Some(json!({"member": "d"})))
        .await;
    say(&s, "g", "q4", "d", "/checkin", t + 200_000).await;
    let log = s
        .ok(
            "GET",
            "/v1/groups/g/invocations?plugin=daily-checkin&limit=1",
            None,
        )
        .await;
    assert!(
        log["invocations"][0]["error"]
            .as_str()
            .unwrap()
            .contains("quota"),
        "{log}"
    );
    assert_eq!(member(&s, "g", "d").await["points"], 0);
    s.assert_ledger_balances("g").await;
});

on_both_databases!(
    calls_outside_the_grant_are_denied_and_logged,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        group_with(&s, "g", &[]).await;
        s.install("daily-checkin").await;
        // Granted everything it declares but award-points.
        let grant = json!({"capabilities": ["read-members", "post-messages", "storage", "timers"]});
        s.ok("PUT", "/v1/groups/g/plugins/daily-checkin", Some(grant))
            .await;
        let amy = json!({"member": "amy"});
        s.ok("POST", "/v1/groups/g/members", Some(amy)).await;
        say(&s, "g", "c1", "amy", "/checkin", 1_790_000_000_000).await;
        assert_eq!(member(&s, "g", "amy").await["points"], 0);
        let log = s
            .ok(
                "GET",
                "/v1/groups/g/invocations?plugin=daily-checkin&limit=1",
                None,
            )
            .await;
        let inv = &log["invocations"][0];
        assert!(inv["error"].as_str().unwrap().contains("denied"), "{inv}");
        assert!(
            inv["logs"]
                .to_string()
                .contains("capability award-points is not granted"),
            "{inv}"
        );
        assert!(
            s.outbox("g")
                .await
                .iter()
                .all(|a| a["plugin"] != "daily-checkin"),
            "nothing was posted"
        );
    }
);

/// More plugins spinning at once than there are cores: they take turns in the
/// slow lane, each is still stopped at its budget of running time, and a
/// calm group's events go through meanwhile. (What it costs the calm group
/// in latency is measured by `scripts/bench-load.sh hostile`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spinning_plugins_take_turns_and_stop_at_their_budget() {
    let s = TestServer::start(Db::Sqlite).await.expect("sqlite");
    let spinners = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    group_with(&s, "calm", &[("daily-checkin", json!({}))]).await;
    for g in 0..spinners {
        group_with(&s, &format!("busy-{g}"), &[]).await;
        let enable = json!({"policy": {"disable_after": null}, "limits": {"fuel": 1_000_000_000_000_000u64, "timeout_ms": 400}});
        hostile(&s, &format!("busy-{g}"), enable).await;
    }
    let t = 1_790_000_000_000i64;
    let mut spinning = Vec::new();
    for g in 0..spinners {
        let (url, http) = (s.url("/v1/events"), s.http.clone());
        let event = json!({"id": format!("spin-{g}"), "group": format!("busy-{g}"), "type": "message", "sender": "amy", "text": "loop", "at": t});
        spinning.push(tokio::spawn(async move {
            http.post(url)
                .json(&event)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    for i in 0..5 {
        let out = say(
            &s,
            "calm",
            &format!("calm-{i}"),
            &format!("m{i}"),
            "/checkin",
            t,
        )
        .await;
        assert_eq!(out["invocations"][0]["ok"], true, "{out}");
    }
    for task in spinning {
        let out = task.await.unwrap();
        let error = out["invocations"][0]["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(error.contains("timed out after 400 ms"), "{out}");
    }
    for g in 0..spinners {
        let inv = s
            .ok("GET", &format!("/v1/groups/busy-{g}/invocations"), None)
            .await;
        let spin = inv["invocations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["handler"] == "on-message")
            .unwrap()
            .clone();
        let wall_ms = spin["duration_us"].as_i64().unwrap() / 1000;
        // At least its budget of running time; at most the wall-clock cap.
        assert!((400..4_000).contains(&wall_ms), "{spin}");
    }
}

/// The time budget covers host calls too: a plugin whose storage read is
/// stuck (the test holds a lock on plugin storage in Postgres) is stopped
/// at its budget, its event answered with the failure, instead of waiting
/// for the database as long as it takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_host_call_is_cut_off_at_the_budget() {
    use sqlx::Connection;
    let Some(s) = TestServer::start(Db::Postgres).await else {
        return;
    };
    group_with(&s, "g", &[]).await;
    hostile(
        &s,
        "g",
        json!({"limits": {"timeout_ms": 300}, "policy": {"disable_after": null}}),
    )
    .await;
    let mut locker = sqlx::PgConnection::connect(&s.db.url).await.unwrap();
    let mut lock = locker.begin().await.unwrap();
    sqlx::query("LOCK TABLE plugin_storage IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let event = s
        .http
        .post(s.url("/v1/events"))
        .json(&json!({"id": "e1", "group": "g", "type": "message", "sender": "owner", "text": "lookup"}))
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await;
    lock.rollback().await.unwrap();
    let outcome: Value = event
        .expect("answered while the lock was held")
        .json()
        .await
        .unwrap();
    let run = &outcome["invocations"][0];
    assert_eq!(run["ok"], false, "{outcome}");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("timed out after 300 ms"),
        "{outcome}"
    );
}
