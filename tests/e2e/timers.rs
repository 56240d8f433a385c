//! Timers: set by a plugin, fired by the host's clock, recurring ones
//! rescheduled, each occurrence fired once.

use super::*;
use kith::dispatch::Clock;

/// 2026-03-01 00:30 in Shanghai.
const START: i64 = 1_772_296_200_000;
/// 2026-03-01 09:00 in Shanghai.
const NINE_AM: i64 = 1_772_326_800_000;
const DAY: i64 = 86_400_000;

on_both_databases!(daily_reminder_fires_once_per_day, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    group_with(&s, "g", &[("daily-checkin", json!({"reminder_hour": 9}))]).await;
    let timers = s.ok("GET", "/v1/groups/g/timers", None).await["timers"].clone();
    assert_eq!(timers[0]["due_at"], NINE_AM, "{timers}");
    assert_eq!(timers[0]["period_ms"], DAY);

    let reminders = |actions: Vec<Value>| {
        actions
            .iter()
            .filter(|a| {
                a["payload"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("Daily check-in is open")
            })
            .count()
    };
    assert_eq!(s.kith.fire_due_timers().await.unwrap(), 0);
    clock.advance(NINE_AM - START + 1_000);
    // The background loop may fire it too: the occurrence is one event id.
    s.kith.fire_due_timers().await.unwrap();
    s.kith.fire_due_timers().await.unwrap();
    assert_eq!(reminders(s.outbox("g").await), 1);
    let timers = s.ok("GET", "/v1/groups/g/timers", None).await["timers"].clone();
    assert_eq!(timers[0]["due_at"], NINE_AM + DAY, "rescheduled: {timers}");

    // Three days later: the missed days are skipped, one reminder now.
    clock.advance(3 * DAY);
    s.kith.fire_due_timers().await.unwrap();
    assert_eq!(reminders(s.outbox("g").await), 2);
    assert_eq!(
        s.ok("GET", "/v1/groups/g/timers", None).await["timers"][0]["due_at"],
        NINE_AM + 4 * DAY
    );

    // Reconfigured without a reminder: the timer is cancelled.
    s.ok(
        "PUT",
        "/v1/groups/g/plugins/daily-checkin",
        Some(json!({"config": {"language": "en", "reminder_hour": null}})),
    )
    .await;
    assert_eq!(
        s.ok("GET", "/v1/groups/g/timers", None).await["timers"],
        json!([])
    );
});

async fn money(s: &TestServer, group: &str, account: &str) -> i64 {
    s.ok(
        "GET",
        &format!("/v1/groups/{group}/ledger/{account}?asset=money"),
        None,
    )
    .await["balance"]
        .as_i64()
        .unwrap()
}

async fn timer_count(s: &TestServer, group: &str) -> usize {
    s.ok("GET", &format!("/v1/groups/{group}/timers"), None)
        .await["timers"]
        .as_array()
        .map_or(0, Vec::len)
}

async fn pay(s: &TestServer, group: &str, id: &str, member: &str, amount: i64, purpose: &str) {
    s.ok(
        "POST",
        "/v1/events",
        Some(
            json!({"id": id, "group": group, "type": "payment", "payment_id": format!("p-{id}"),
                    "member": member, "amount": amount, "currency": "CNY", "status": "succeeded",
                    "purpose": purpose}),
        ),
    )
    .await;
}

// Disabling a plugin pauses its timers: none fires while it is off, none
// is lost, and overdue ones fire once it is enabled again. Paid
// memberships, quiz applicants, group buys and envelopes all rely on it.
on_both_databases!(timers_survive_a_disable, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    let quiz = json!({"questions": [{"question": "Which lens?", "answers": ["85mm"]}], "timeout_seconds": 60});
    let (vip, quiz_cfg) = (json!({"price": 100, "period_days": 1}), quiz);
    let buy = json!({"required": 2, "duration_hours": 2});
    group_with(&s, "vip", &[("paid-entry", vip.clone())]).await;
    group_with(&s, "quiz", &[("quiz-gate", quiz_cfg.clone())]).await;
    group_with(
        &s,
        "g",
        &[("group-buy", buy.clone()), ("lucky-envelope", json!({}))],
    )
    .await;
    for (g, m) in [("g", "amy"), ("g", "sam")] {
        s.ok(
            "POST",
            &format!("/v1/groups/{g}/members"),
            Some(json!({"member": m})),
        )
        .await;
    }
    // A paid member (expires in a day), a quiz applicant (60 s to answer),
    // an open group buy (2 hours) with one share paid, an envelope (24 hours).
    join(&s, "vip", json!({"member": "amy"})).await;
    pay(&s, "vip", "v1", "amy", 100, "entry").await;
    assert_eq!(member(&s, "vip", "amy").await["status"], "active");
    assert_eq!(
        join(&s, "quiz", json!({"member": "ben"})).await["status"],
        "pending"
    );
    let deal = say(&s, "g", "open", "owner", "/groupbuy Tea", START).await["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    pay(&s, "g", "b1", "amy", 100, &format!("group-buy:{deal}")).await;
    pay(&s, "g", "top", "sam", 300, "top-up").await;
    say(&s, "g", "env", "sam", "/envelope 3 3", START).await;
    let escrows = [
        format!("escrow:deal-{deal}"),
        "escrow:env-m-env".to_string(),
    ];
    assert_eq!(money(&s, "g", &escrows[0]).await, 100);
    assert_eq!(money(&s, "g", &escrows[1]).await, 300);
    let enabled = [
        ("vip", "paid-entry", vip),
        ("quiz", "quiz-gate", quiz_cfg),
        ("g", "group-buy", buy),
        ("g", "lucky-envelope", json!({})),
    ];
    for (g, p, _) in &enabled {
        s.ok("DELETE", &format!("/v1/groups/{g}/plugins/{p}"), None)
            .await;
    }

    // Two days pass while the plugins are off: nothing fires, nothing is lost.
    clock.advance(2 * DAY);
    assert_eq!(s.kith.fire_due_timers().await.unwrap(), 0);
    assert_eq!(timer_count(&s, "vip").await, 1);
    assert_eq!(timer_count(&s, "quiz").await, 1);
    assert_eq!(timer_count(&s, "g").await, 2);
    assert_eq!(member(&s, "vip", "amy").await["status"], "active");
    assert_eq!(member(&s, "quiz", "ben").await["status"], "pending");
    assert_eq!(money(&s, "g", &escrows[0]).await, 100);

    // Enabled again: each overdue timer fires once.
    for (g, p, config) in &enabled {
        s.ok(
            "PUT",
            &format!("/v1/groups/{g}/plugins/{p}"),
            Some(json!({"config": in_english(config)})),
        )
        .await;
    }
    // (The server's own timer loop may fire some of them first.)
    s.kith.fire_due_timers().await.unwrap();
    assert_eq!(s.kith.fire_due_timers().await.unwrap(), 0);
    assert_eq!(member(&s, "vip", "amy").await["status"], "removed");
    assert_ne!(member(&s, "quiz", "ben").await["status"], "pending");
    for escrow in &escrows {
        assert_eq!(money(&s, "g", escrow).await, 0, "{escrow}");
    }
    assert_eq!(money(&s, "g", "member:amy").await, 100);
    assert_eq!(money(&s, "g", "member:sam").await, 300);
    for g in ["vip", "quiz", "g"] {
        assert_eq!(timer_count(&s, g).await, 0, "{g}");
        s.assert_ledger_balances(g).await;
    }
});
