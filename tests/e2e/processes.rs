//! Several kith processes on one Postgres: here two servers in the test's
//! process, each with its own caches, runtime and timer loop, as two
//! `kith serve` would have. (SQLite serves one process: see the store
//! tests.) The three-process SIGKILL test is in `tests/crash`.

use super::*;
use kith::dispatch::Clock;
use std::time::{Duration, Instant};

const AT: i64 = 1_790_000_000_000;

/// Evaluates `$check` (an expression that may `.await`) until it is true,
/// failing after the one second the docs promise.
macro_rules! within_a_second {
    ($what:expr, $check:expr) => {{
        let deadline = Instant::now() + Duration::from_secs(1);
        while !$check {
            assert!(Instant::now() < deadline, "not within 1 s: {}", $what);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }};
}

fn plugins_run(outcome: &Value) -> Vec<String> {
    outcome["invocations"]
        .as_array()
        .expect("invocations")
        .iter()
        .map(|i| i["plugin"].as_str().expect("plugin").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_process_takes_effect_in_the_others_within_a_second() {
    let Some(a) = TestServer::start(Db::Postgres).await else {
        return;
    };
    let b = a.start_beside().await;
    group_with(&a, "g", &[("daily-checkin", json!({"base_reward": 10}))]).await;
    for m in ["amy", "bob"] {
        a.ok("POST", "/v1/groups/g/members", Some(json!({ "member": m })))
            .await;
    }
    // b reads (and caches) the group and its plugins.
    say(&b, "g", "e0", "amy", "/checkin", AT).await;
    assert_eq!(member(&b, "g", "amy").await["points"], 10);
    assert_ne!(b.ok("GET", "/v1/groups/g", None).await["capacity"], 42);

    // A new config through a: b's next check-ins pay the new reward.
    a.ok(
        "PUT",
        "/v1/groups/g/plugins/daily-checkin",
        Some(json!({"config": {"language": "en", "base_reward": 25}})),
    )
    .await;
    let mut day = 0;
    within_a_second!("a new config", {
        day += 1;
        let before = member(&b, "g", "bob").await["points"].as_i64().unwrap();
        say(
            &b,
            "g",
            &format!("c{day}"),
            "bob",
            "/checkin",
            AT + day * 86_400_000,
        )
        .await;
        member(&b, "g", "bob").await["points"].as_i64().unwrap() - before == 25
    });

    // The group's capacity changed through a: b shows it.
    a.ok("PATCH", "/v1/groups/g", Some(json!({"capacity": 42})))
        .await;
    within_a_second!(
        "a group's new capacity",
        b.ok("GET", "/v1/groups/g", None).await["capacity"] == 42
    );

    // Disabled through a: b stops running it.
    a.ok("DELETE", "/v1/groups/g/plugins/daily-checkin", None)
        .await;
    let mut n = 0;
    within_a_second!("a disabled plugin", {
        n += 1;
        let out = say(&b, "g", &format!("d{n}"), "amy", "hi", AT).await;
        plugins_run(&out).is_empty()
    });

    // The first token created through a: b asks for one too.
    a.kith
        .bootstrap_admin("an-admin-secret-of-16+")
        .await
        .unwrap();
    within_a_second!(
        "authentication turned on",
        b.call("GET", "/v1/groups", None).await.0 == 401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spenders_in_two_processes_never_overdraw_a_wallet() {
    let Some(a) = TestServer::start(Db::Postgres).await else {
        return;
    };
    let b = a.start_beside().await;
    a.install_test_plugin("sequence").await;
    group_with(&a, "g", &[("sequence", json!({}))]).await;
    a.ok(
        "POST",
        "/v1/groups/g/members",
        Some(json!({"member": "amy"})),
    )
    .await;
    say(&a, "g", "fund", "amy", "fund:20", AT).await;
    // 40 spends of 1 at once, half through each process.
    let mut spends = tokio::task::JoinSet::new();
    for i in 0..40 {
        let server = if i % 2 == 0 { &a } else { &b };
        let request = server.http.post(server.url("/v1/events")).json(&json!({
            "id": format!("spend{i}"), "group": "g", "type": "message",
            "sender": "amy", "text": "spend", "at": AT
        }));
        spends.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    while let Some(status) = spends.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let ledger = |account: &str| format!("/v1/groups/g/ledger/{account}?asset=points");
    let wallet = a.ok("GET", &ledger("escrow:wallet"), None).await;
    assert_eq!(wallet["balance"], 0, "{wallet}");
    let spent = wallet["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["amount"] == -1)
        .count();
    assert_eq!(spent, 20, "only what the wallet held: {wallet}");
    a.assert_ledger_balances("g").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_occurrence_runs_in_one_process() {
    let Some(db) = test_db(Db::Postgres).await else {
        return;
    };
    let clock = Clock::manual(AT);
    let beside = db.beside();
    let a = TestServer::start_on(db, clock.clone()).await;
    let b = TestServer::start_on(beside, clock.clone()).await;
    a.install_test_plugin("sequence").await;
    group_with(&a, "g", &[("sequence", json!({"tick_ms": 1000}))]).await;
    a.kith.observe();
    b.kith.observe();
    for _ in 0..5 {
        clock.advance(1_000);
        // Both processes poll at the same instant (and their timer loops
        // beside them): one runs the occurrence.
        let (x, y) = tokio::join!(a.kith.fire_due_timers(), b.kith.fire_due_timers());
        x.unwrap();
        y.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let runs = |s: &TestServer| {
        s.kith
            .take_observed()
            .iter()
            .filter(|o| o.handler == "on-timer")
            .count()
    };
    assert_eq!(runs(&a) + runs(&b), 5, "each of 5 occurrences ran once");
}
