//! daily-checkin: days in the group's time zone, streaks, rewards, the board.

use super::*;

/// 2026-03-01 00:30 in Shanghai (UTC+8) is still 2026-02-28 in UTC: the
/// group's day, not UTC's, decides.
const DAY1_0030_SHANGHAI: i64 = 1_772_296_200_000;
const DAY: i64 = 86_400_000;

on_both_databases!(streaks_and_rewards, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(
        &s,
        "fit",
        &[(
            "daily-checkin",
            json!({"base_reward": 10, "streak_bonus": 2, "max_bonus": 4}),
        )],
    )
    .await;
    s.ok(
        "POST",
        "/v1/groups/fit/members",
        Some(json!({"member": "amy", "display_name": "Amy"})),
    )
    .await;
    let points = |v: Value| v["points"].as_i64().unwrap();

    say(&s, "fit", "c1", "amy", "签到", DAY1_0030_SHANGHAI).await;
    assert_eq!(points(member(&s, "fit", "amy").await), 10);
    // The same Shanghai day, 20 hours later: no second reward.
    say(
        &s,
        "fit",
        "c2",
        "amy",
        "/checkin",
        DAY1_0030_SHANGHAI + 20 * 3_600_000,
    )
    .await;
    assert_eq!(points(member(&s, "fit", "amy").await), 10);
    // 23 h 40 min after the first: a new day in Shanghai, streak 2 → 10 + 2.
    say(
        &s,
        "fit",
        "c3",
        "amy",
        "打卡",
        DAY1_0030_SHANGHAI + DAY - 20 * 60_000,
    )
    .await;
    assert_eq!(points(member(&s, "fit", "amy").await), 22);
    // Day 3 → 10 + 4, day 4 → 10 + min(6, 4).
    say(
        &s,
        "fit",
        "c4",
        "amy",
        "/checkin",
        DAY1_0030_SHANGHAI + 2 * DAY,
    )
    .await;
    say(
        &s,
        "fit",
        "c5",
        "amy",
        "/checkin",
        DAY1_0030_SHANGHAI + 3 * DAY,
    )
    .await;
    assert_eq!(points(member(&s, "fit", "amy").await), 22 + 14 + 14);
    // A missed day restarts the streak at 1.
    say(
        &s,
        "fit",
        "c6",
        "amy",
        "/checkin",
        DAY1_0030_SHANGHAI + 5 * DAY,
    )
    .await;
    assert_eq!(points(member(&s, "fit", "amy").await), 60);

    let posts: Vec<String> = s
        .outbox("fit")
        .await
        .iter()
        .filter(|a| a["action"] == "post")
        .map(|a| a["payload"]["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        posts[0],
        "@Amy checked in: day 1 of the streak, +10 points."
    );
    assert!(posts[1].contains("already checked in today"), "{posts:?}");
    assert!(
        posts.last().unwrap().contains("day 1 of the streak"),
        "{posts:?}"
    );

    // The board, and the ledger: points come from the issuer, nothing else.
    say(
        &s,
        "fit",
        "c7",
        "amy",
        "/rank",
        DAY1_0030_SHANGHAI + 5 * DAY,
    )
    .await;
    let board = s.outbox("fit").await.last().unwrap()["payload"]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        board.starts_with("Check-in leaderboard:\n1. Amy"),
        "{board}"
    );
    let issuer = s
        .ok("GET", "/v1/groups/fit/ledger/issuer?asset=points", None)
        .await;
    assert_eq!(issuer["balance"], -60);
    s.assert_ledger_balances("fit").await;
});
