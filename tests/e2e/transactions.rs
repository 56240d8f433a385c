//! A plugin that fails (out of fuel, out of time, out of memory) has its
//! effects discarded and the failure recorded; others' effects stand.
//! Restarts reuse compiled code.

use super::*;

on_both_databases!(failed_invocations_apply_nothing, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[("referral-fission", json!({}))]).await;
    s.install("daily-checkin").await;
    // A member kith admitted: an unknown sender would be announced first.
    let amy = json!({"member": "amy"});
    s.ok("POST", "/v1/groups/g/members", Some(amy)).await;
    // Far too little fuel to finish: the check-in's points must not land.
    s.ok(
        "PUT",
        "/v1/groups/g/plugins/daily-checkin",
        Some(json!({"limits": {"fuel": 2000}})),
    )
    .await;
    let out = say(&s, "g", "m1", "amy", "/checkin", 1_790_000_000_000).await;
    let inv = &out["invocations"];
    let checkin = inv
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["plugin"] == "daily-checkin")
        .unwrap();
    assert_eq!(checkin["ok"], false);
    assert!(
        checkin["error"]
            .as_str()
            .unwrap()
            .contains("ran out of fuel"),
        "{checkin}"
    );
    assert_eq!(member(&s, "g", "amy").await["points"], 0);
    assert!(s
        .outbox("g")
        .await
        .iter()
        .all(|a| a["plugin"] != "daily-checkin"));

    // The operator sees it: the invocation log and the enablement's last error.
    let log = s
        .ok("GET", "/v1/groups/g/invocations?plugin=daily-checkin", None)
        .await;
    assert_eq!(log["invocations"][0]["ok"], false);
    let en = s
        .ok("GET", "/v1/groups/g/plugins/daily-checkin", None)
        .await;
    // Two: `on-enabled` at the enable call ran out of fuel too.
    assert_eq!(en["consecutive_failures"], 2);
    assert!(en["last_error"].as_str().unwrap().contains("fuel"));

    // Memory capped below what the module needs: it cannot even start
    // (fuel back to the default, so memory is what fails).
    s.ok(
        "PUT",
        "/v1/groups/g/plugins/daily-checkin",
        Some(json!({"limits": {"memory_bytes": 1048576, "fuel": 2_000_000_000u64}})),
    )
    .await;
    let out = say(&s, "g", "m2", "amy", "/checkin", 1_790_000_000_000).await;
    let checkin = out["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["plugin"] == "daily-checkin")
        .unwrap()
        .clone();
    assert_eq!(checkin["ok"], false, "{checkin}");
    assert_eq!(member(&s, "g", "amy").await["points"], 0);

    // With the default memory back, the same event kind works.
    s.ok(
        "PUT",
        "/v1/groups/g/plugins/daily-checkin",
        Some(json!({"limits": {"memory_bytes": 67108864}})),
    )
    .await;
    say(&s, "g", "m3", "amy", "/checkin", 1_790_000_000_000).await;
    assert_eq!(member(&s, "g", "amy").await["points"], 10);
    let en = s
        .ok("GET", "/v1/groups/g/plugins/daily-checkin", None)
        .await;
    assert_eq!(en["consecutive_failures"], 0);
    s.assert_ledger_balances("g").await;
});

on_both_databases!(restart_keeps_state_and_compiled_code, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[("daily-checkin", json!({}))]).await;
    say(&s, "g", "m1", "amy", "/checkin", 1_790_000_000_000).await;
    let db = s.stop().await;
    let cached: Vec<_> = std::fs::read_dir(db.dir.path().join("cache"))
        .unwrap()
        .collect();
    assert_eq!(cached.len(), 1, "one compiled component on disk");

    let s = TestServer::start_on(db, kith::dispatch::Clock::system()).await;
    assert_eq!(member(&s, "g", "amy").await["points"], 10);
    say(
        &s,
        "g",
        "m2",
        "amy",
        "/checkin",
        1_790_000_000_000 + 86_400_000,
    )
    .await;
    assert_eq!(member(&s, "g", "amy").await["points"], 22);
    let cached: Vec<_> = std::fs::read_dir(s.db.dir.path().join("cache"))
        .unwrap()
        .collect();
    assert_eq!(cached.len(), 1, "nothing recompiled");
});
