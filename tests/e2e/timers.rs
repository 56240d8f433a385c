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
