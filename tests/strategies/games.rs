//! Scenario tests of the games strategy plugins, against the real host.

use kith::dispatch::Clock;
use kith_tests::*;
use serde_json::{json, Value};

/// 2026-03-01 00:30 in Shanghai (a Sunday).
const START: i64 = 1_772_296_200_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

async fn event(s: &TestServer, body: Value) -> Value {
    s.ok("POST", "/v1/events", Some(body)).await
}

async fn add(s: &TestServer, group: &str, id: &str, name: &str) {
    s.ok(
        "POST",
        &format!("/v1/groups/{group}/members"),
        Some(json!({"member": id, "display_name": name})),
    )
    .await;
}

async fn react(s: &TestServer, group: &str, id: &str, message: &str, member: &str, emoji: &str) {
    event(
        s,
        json!({"id": id, "group": group, "type": "reaction", "message_id": message, "member": member, "emoji": emoji}),
    )
    .await;
}

async fn react_at(s: &TestServer, group: &str, id: &str, message: &str, member: &str, at: i64) {
    event(
        s,
        json!({"id": id, "group": group, "type": "reaction", "message_id": message, "member": member, "emoji": "👍", "at": at}),
    )
    .await;
}

async fn tags(s: &TestServer, group: &str, id: &str) -> Vec<String> {
    serde_json::from_value(member(s, group, id).await["tags"].clone()).unwrap()
}

async fn balance(s: &TestServer, group: &str, account: &str, asset: &str) -> i64 {
    s.ok(
        "GET",
        &format!("/v1/groups/{group}/ledger/{account}?asset={asset}"),
        None,
    )
    .await["balance"]
        .as_i64()
        .unwrap()
}

async fn money(s: &TestServer, group: &str, account: &str) -> i64 {
    balance(s, group, account, "money").await
}

async fn points(s: &TestServer, group: &str, member_id: &str) -> i64 {
    member(s, group, member_id).await["points"]
        .as_i64()
        .unwrap()
}

async fn timers(s: &TestServer, group: &str) -> Vec<Value> {
    s.ok("GET", &format!("/v1/groups/{group}/timers"), None)
        .await["timers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

// ---- lucky-envelope ----

on_both_databases!(
    lucky_envelope_splits_exactly_and_refunds_on_expiry,
    |db| async move {
        let Some(db) = test_db(db).await else { return };
        let clock = Clock::manual(START);
        let s = TestServer::start_on(db, clock.clone()).await;
        group_with(&s, "red", &[("lucky-envelope", json!({}))]).await;
        add(&s, "red", "sam", "Sam").await;
        for i in 1..=6 {
            add(&s, "red", &format!("m{i}"), &format!("Member {i}")).await;
        }
        event(
        &s,
        json!({"id": "pay1", "group": "red", "type": "payment", "payment_id": "p1", "member": "sam",
               "amount": 2000, "currency": "CNY", "status": "succeeded", "purpose": "wallet top-up"}),
    )
    .await;
        assert_eq!(money(&s, "red", "member:sam").await, 2000);

        // Not enough money: a DM, nothing moves.
        event(
        &s,
        json!({"id": "e0", "group": "red", "type": "message", "sender": "m1", "text": "/envelope 5 2", "message_id": "poor"}),
    )
    .await;
        let dms = s.actions("red", "direct").await;
        assert_eq!(dms.len(), 1, "{dms:?}");
        assert_eq!(dms[0]["member"], "m1");
        assert!(
            dms[0]["text"]
                .as_str()
                .unwrap()
                .starts_with("insufficient balance"),
            "{dms:?}"
        );

        event(
        &s,
        json!({"id": "e1", "group": "red", "type": "message", "sender": "sam", "text": "/envelope 10.00 5", "message_id": "env1"}),
    )
    .await;
        assert_eq!(money(&s, "red", "member:sam").await, 1000);
        assert_eq!(money(&s, "red", "escrow:env-env1").await, 1000);
        let posts = s.actions("red", "post").await;
        assert_eq!(
            posts[0]["text"],
            "🧧 Sam sent a lucky envelope: 5 shares. React with 🧧 to grab!"
        );
        assert_eq!(posts[0]["reply_to"], "env1");
        let announcement = posts[0]["message_id"].as_str().unwrap().to_string();

        // A wrong emoji grabs nothing; the announcement works like the command.
        react(&s, "red", "r0", "env1", "m1", "👍").await;
        assert_eq!(money(&s, "red", "member:m1").await, 0);
        react(&s, "red", "r1", "env1", "m1", "🧧").await;
        react(&s, "red", "r1b", "env1", "m1", "🧧").await;
        react(&s, "red", "r2", &announcement, "m2", "🧧").await;
        for i in 3..=6 {
            react(&s, "red", &format!("r{i}"), "env1", &format!("m{i}"), "🧧").await;
        }
        let mut got = vec![];
        for i in 1..=5 {
            let b = money(&s, "red", &format!("member:m{i}")).await;
            assert!(b >= 1, "m{i} got {b}");
            got.push(b);
        }
        assert_eq!(got.iter().sum::<i64>(), 1000, "{got:?}");
        assert_eq!(
            money(&s, "red", "member:m6").await,
            0,
            "a sixth opener gets nothing"
        );
        assert_eq!(money(&s, "red", "escrow:env-env1").await, 0);
        let results = s.posted("red").await.last().unwrap().clone();
        assert!(
            results.starts_with(
                "🧧 All 5 shares of Sam's lucky envelope (¥10.00) are taken:\nMember 1: "
            ),
            "{results}"
        );
        let best = got.iter().copied().max().unwrap();
        assert!(
            results.contains(&format!(
                "Luckiest: @Member {} with ¥{}.{:02}!",
                got.iter().position(|g| *g == best).unwrap() + 1,
                best / 100,
                best % 100
            )),
            "{results} {got:?}"
        );
        // The expiry timer of a finished envelope is gone.
        assert!(timers(&s, "red").await.is_empty());

        // A second envelope, grabbed once, then left to expire.
        clock.advance(HOUR);
        event(
        &s,
        json!({"id": "e2", "group": "red", "type": "message", "sender": "sam", "text": "/envelope 3 3", "message_id": "env2"}),
    )
    .await;
        let t = timers(&s, "red").await;
        assert_eq!(t.len(), 1);
        assert_eq!(t[0]["name"], "expire:env2");
        assert_eq!(t[0]["due_at"], START + HOUR + 24 * HOUR);
        react(&s, "red", "r7", "env2", "m1", "🧧").await;
        let share = money(&s, "red", "member:m1").await - got[0];
        assert!((1..=199).contains(&share), "{share}");
        clock.advance(23 * HOUR);
        s.kith.fire_due_timers().await.unwrap();
        assert_eq!(money(&s, "red", "member:sam").await, 700);
        clock.advance(2 * HOUR);
        s.kith.fire_due_timers().await.unwrap();
        let left = 300 - share;
        assert_eq!(money(&s, "red", "member:sam").await, 700 + left);
        assert_eq!(money(&s, "red", "escrow:env-env2").await, 0);
        assert_eq!(
            s.posted("red").await.last().unwrap(),
            &format!(
                "🧧 Sam's lucky envelope expired, ¥{}.{:02} returned.",
                left / 100,
                left % 100
            )
        );
        // Expired: no more grabs.
        react(&s, "red", "r8", "env2", "m2", "🧧").await;
        assert_eq!(money(&s, "red", "member:m2").await, got[1]);
        s.assert_ledger_balances("red").await;
    }
);

// The defaults hold at the largest envelope they allow: 100 grabs in one
// minute all get their share though the DMs are over the message quota,
// and a member repeating a command they cannot pay for neither fails the
// plugin nor spends its quota.
on_both_databases!(lucky_envelope_defaults_hold_at_scale, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    group_with(&s, "red", &[("lucky-envelope", json!({}))]).await;
    add(&s, "red", "sam", "Sam").await;
    for i in 1..=100 {
        add(&s, "red", &format!("m{i}"), &format!("Member {i}")).await;
    }
    for i in 0..20 {
        event(
            &s,
            json!({"id": format!("poor{i}"), "group": "red", "type": "message", "sender": "m1", "text": "/envelope 1.00 1"}),
        )
        .await;
    }
    let nags = s.actions("red", "direct").await;
    assert_eq!(nags.len(), 1, "{nags:?}");
    event(
        &s,
        json!({"id": "pay1", "group": "red", "type": "payment", "payment_id": "p1", "member": "sam",
               "amount": 10_000, "currency": "CNY", "status": "succeeded", "purpose": "wallet top-up"}),
    )
    .await;
    event(
        &s,
        json!({"id": "big", "group": "red", "type": "message", "sender": "sam", "text": "/envelope 100 100", "message_id": "env"}),
    )
    .await;
    for i in 1..=100 {
        react(&s, "red", &format!("r{i}"), "env", &format!("m{i}"), "🧧").await;
    }
    for i in 1..=100 {
        assert!(money(&s, "red", &format!("member:m{i}")).await >= 1, "m{i}");
    }
    assert_eq!(money(&s, "red", "escrow:env-env").await, 0);
    let e = s
        .ok("GET", "/v1/groups/red/plugins/lucky-envelope", None)
        .await;
    assert_eq!(
        (&e["consecutive_failures"], &e["disabled_reason"]),
        (&json!(0), &Value::Null),
        "{e}"
    );
    s.assert_ledger_balances("red").await;
});

// ---- welcome-ritual ----

on_both_databases!(welcome_ritual_greets_after_the_delay, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    group_with(
        &s,
        "hi",
        &[("welcome-ritual", json!({"delay_seconds": 60}))],
    )
    .await;
    s.ok(
        "PATCH",
        "/v1/groups/hi",
        Some(json!({"settings": {"rules": "photos only, no ads"}})),
    )
    .await;
    let amy = join(&s, "hi", json!({"member": "amy", "display_name": "Amy"})).await;
    assert_eq!(amy["status"], "admitted", "{amy}");
    clock.advance(10_000);
    join(&s, "hi", json!({"member": "bob", "display_name": "Bob"})).await;
    let t = timers(&s, "hi").await;
    let due: Vec<(String, i64)> = t
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["due_at"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        due,
        [
            ("welcome:amy".to_string(), START + 60_000),
            ("welcome:bob".to_string(), START + 70_000)
        ]
    );

    // Nothing before the delay.
    clock.advance(40_000);
    s.kith.fire_due_timers().await.unwrap();
    assert!(s.actions("hi", "post").await.is_empty());

    // Bob leaves before his welcome; Amy is greeted with the group's rules.
    event(
        &s,
        json!({"id": "left1", "group": "hi", "type": "member_left", "member": "bob"}),
    )
    .await;
    clock.advance(30_000);
    s.kith.fire_due_timers().await.unwrap();
    let posts = s.actions("hi", "post").await;
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(
        posts[0]["text"],
        "Welcome @Amy! Please read the group rules: photos only, no ads"
    );
    assert_eq!(posts[0]["mentions"], json!(["amy"]));
    assert!(timers(&s, "hi").await.is_empty());

    // A configured text and rules win over the group settings.
    s.ok(
        "PUT",
        "/v1/groups/hi/plugins/welcome-ritual",
        Some(json!({"config": {"language": "en", "delay_seconds": 0, "message": "欢迎 {mention}，群规：{rules}", "rules": "no spam"}})),
    )
    .await;
    join(&s, "hi", json!({"member": "cat", "display_name": "Cat"})).await;
    s.kith.fire_due_timers().await.unwrap();
    let posts = s.actions("hi", "post").await;
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(posts[1]["text"], "欢迎 @Cat，群规：no spam");
    assert_eq!(posts[1]["mentions"], json!(["cat"]));
});

// ---- points-levels ----

on_both_databases!(
    points_levels_caps_levels_reactions_and_boards,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        group_with(
        &s,
        "pts",
        &[(
            "points-levels",
            json!({"levels": [{"name": "Newcomer", "min": 0}, {"name": "Regular", "min": 15}, {"name": "Core", "min": 22}]}),
        )],
    )
    .await;
        add(&s, "pts", "amy", "Amy").await;
        add(&s, "pts", "bob", "Bob").await;
        add(&s, "pts", "cat", "Cat").await;

        // Ten days ago (in Shanghai), Cat earned 21 points over several hours.
        let old = START - 10 * DAY;
        for i in 0..21 {
            say(
                &s,
                "pts",
                &format!("old{i}"),
                "cat",
                "hello",
                old + i * 18 * 60_000,
            )
            .await;
        }
        assert_eq!(points(&s, "pts", "cat").await, 21);

        // 25 messages in one hour: capped at 20. Level Regular at 15.
        for i in 0..25 {
            say(&s, "pts", &format!("a{i}"), "amy", "hi", START + i * 60_000).await;
        }
        assert_eq!(points(&s, "pts", "amy").await, 20);
        let t = tags(&s, "pts", "amy").await;
        assert_eq!(t, ["level:Regular"], "{t:?}");
        let posts = s.posted("pts").await;
        assert_eq!(
            posts,
            ["@Cat reached level Regular", "@Amy reached level Regular"],
            "{posts:?}"
        );
        assert_eq!(
            s.actions("pts", "post").await[1]["mentions"],
            json!(["amy"])
        );
        assert_eq!(tags(&s, "pts", "bob").await, Vec::<String>::new());

        // The next hour: a reply earns 2.
        let next = START + HOUR;
        event(
        &s,
        json!({"id": "reply1", "group": "pts", "type": "message", "sender": "amy", "text": "agreed",
               "reply_to": "x", "message_id": "amy-reply", "at": next}),
    )
    .await;
        assert_eq!(points(&s, "pts", "amy").await, 22);
        // Regular → Core: the old level tag goes.
        assert_eq!(tags(&s, "pts", "amy").await, ["level:Core"]);
        assert_eq!(
            s.posted("pts").await.last().unwrap(),
            "@Amy reached level Core"
        );

        // Reactions credit the author, not the reactor; self-reactions nothing.
        react_at(&s, "pts", "re1", "amy-reply", "bob", next + 1000).await;
        react_at(&s, "pts", "re2", "amy-reply", "cat", next + 2000).await;
        react_at(&s, "pts", "re3", "amy-reply", "amy", next + 3000).await;
        assert_eq!(points(&s, "pts", "amy").await, 24);
        assert_eq!(points(&s, "pts", "bob").await, 0);
        assert_eq!(points(&s, "pts", "cat").await, 21);

        // Bob: a few points today.
        say(&s, "pts", "b1", "bob", "hey", next + 5000).await;
        say(&s, "pts", "b2", "bob", "hey", next + 6000).await;

        // Boards: the 7-day one leaves Cat's old points out; commands earn nothing.
        say(&s, "pts", "board7", "bob", "/board 7", next + 10_000).await;
        say(&s, "pts", "board30", "bob", "/board 30", next + 11_000).await;
        say(&s, "pts", "boardall", "bob", "/board", next + 12_000).await;
        let posts = s.posted("pts").await;
        let n = posts.len();
        assert_eq!(
            posts[n - 3],
            "Points board (last 7 days):\n1. Amy — 24\n2. Bob — 2"
        );
        assert_eq!(
            posts[n - 2],
            "Points board (last 30 days):\n1. Amy — 24\n2. Cat — 21\n3. Bob — 2"
        );
        assert_eq!(
            posts[n - 1],
            "Points board (all time):\n1. Amy — 24\n2. Cat — 21\n3. Bob — 2"
        );
        assert_eq!(points(&s, "pts", "bob").await, 2);

        let issuer = s
            .ok("GET", "/v1/groups/pts/ledger/issuer?asset=points", None)
            .await;
        assert_eq!(issuer["balance"], -47);
        s.assert_ledger_balances("pts").await;
    }
);

// ---- scheduled-value ----

on_both_databases!(scheduled_value_lecture_and_lottery, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    // Shanghai midnight starting Sunday 2026-03-01.
    let midnight = START - 30 * 60_000;
    group_with(
        &s,
        "val",
        &[(
            "scheduled-value",
            json!({"lecture": {"weekday": 2, "hour": 20, "title": "Growth hacking"},
                   "lottery": {"day_of_month": 15, "hour": 10, "prize_points": 50, "winners": 2}}),
        )],
    )
    .await;
    let due = |t: Vec<Value>| -> Vec<(String, i64)> {
        let mut v: Vec<(String, i64)> = t
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_string(),
                    t["due_at"].as_i64().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let announce = midnight + DAY + 20 * HOUR; // Monday 20:00, 48 h before
    let remind = midnight + 3 * DAY + 19 * HOUR; // Wednesday 19:00
    let draw = midnight + 14 * DAY + 10 * HOUR; // March 15, 10:00
    assert_eq!(
        due(timers(&s, "val").await),
        [
            ("lecture-announce".to_string(), announce),
            ("lecture-reminder".to_string(), remind),
            ("lottery".to_string(), draw)
        ]
    );

    for (id, name) in [
        ("amy", "Amy"),
        ("bob", "Bob"),
        ("cat", "Cat"),
        ("dan", "Dan"),
    ] {
        add(&s, "val", id, name).await;
    }
    // Dan spoke too long ago; Cat spoke but left.
    say(&s, "val", "d1", "dan", "old news", START - 40 * DAY).await;
    say(&s, "val", "a1", "amy", "hello", START + 2 * DAY).await;
    say(&s, "val", "b1", "bob", "hi", START + 5 * DAY).await;
    say(&s, "val", "c1", "cat", "bye", START + 6 * DAY).await;
    event(&s, json!({"id": "cat-left", "group": "val", "type": "member_left", "member": "cat", "at": START + 6 * DAY})).await;

    clock.advance(announce - START + 1_000);
    s.kith.fire_due_timers().await.unwrap();
    assert_eq!(
        s.posted("val").await,
        ["This week's lecture: Growth hacking at Wednesday 20:00"]
    );
    clock.advance(remind - announce);
    s.kith.fire_due_timers().await.unwrap();
    assert_eq!(
        s.posted("val").await.last().unwrap(),
        "Reminder: Growth hacking starts in 60 minutes (Wednesday 20:00)."
    );

    clock.advance(draw - remind);
    s.kith.fire_due_timers().await.unwrap();
    let posts = s.actions("val", "post").await;
    let lottery = posts.last().unwrap();
    let text = lottery["text"].as_str().unwrap();
    assert!(text.starts_with("🎁 Monthly lottery winners: @"), "{text}");
    assert!(
        text.contains("@Amy") && text.contains("@Bob") && text.ends_with("— 50 points each!"),
        "{text}"
    );
    let mut mentions: Vec<String> = serde_json::from_value(lottery["mentions"].clone()).unwrap();
    mentions.sort();
    assert_eq!(mentions, ["amy", "bob"]);
    for (id, p) in [("amy", 50), ("bob", 50), ("cat", 0), ("dan", 0)] {
        assert_eq!(points(&s, "val", id).await, p, "{id}");
    }
    // Every timer moved on: lectures by whole weeks, the lottery to April 15.
    assert_eq!(
        due(timers(&s, "val").await),
        [
            ("lecture-announce".to_string(), announce + 14 * DAY),
            ("lecture-reminder".to_string(), remind + 14 * DAY),
            ("lottery".to_string(), midnight + 45 * DAY + 10 * HOUR)
        ]
    );
    s.assert_ledger_balances("val").await;

    // Configured with nothing scheduled (a replacement: a config edit is a
    // merge and would keep the schedule): no timers left.
    s.ok(
        "PUT",
        "/v1/groups/val/plugins/scheduled-value",
        Some(json!({"config": {"language": "en"}, "replace_config": true})),
    )
    .await;
    assert!(timers(&s, "val").await.is_empty());
});

// The lottery draws among every member active in the window, not only
// among the senders of the latest 200 messages (it read those before
// kith:plugin@0.2.0's `active-since`).
on_both_databases!(
    scheduled_value_lottery_sees_past_200_messages,
    |db| async move {
        let Some(db) = test_db(db).await else { return };
        let clock = Clock::manual(START);
        let s = TestServer::start_on(db, clock.clone()).await;
        let draw = START - 30 * 60_000 + 14 * DAY + 10 * HOUR; // March 15, 10:00
        group_with(
        &s,
        "val",
        &[(
            "scheduled-value",
            json!({"lottery": {"day_of_month": 15, "hour": 10, "prize_points": 5, "winners": 2}}),
        )],
    )
    .await;
        add(&s, "val", "amy", "Amy").await;
        add(&s, "val", "bob", "Bob").await;
        say(&s, "val", "a1", "amy", "hello", START + DAY).await;
        for i in 0..205 {
            say(
                &s,
                "val",
                &format!("b{i}"),
                "bob",
                "again",
                START + 2 * DAY + i,
            )
            .await;
        }
        clock.advance(draw - START + 1_000);
        s.kith.fire_due_timers().await.unwrap();
        for id in ["amy", "bob"] {
            assert_eq!(points(&s, "val", id).await, 5, "{id}");
        }
    }
);

// ---- group-competition ----

on_both_databases!(
    group_competition_rewards_the_most_active_group,
    |db| async move {
        let Some(db) = test_db(db).await else { return };
        let clock = Clock::manual(START);
        let s = TestServer::start_on(db, clock.clone()).await;
        let midnight = START - 30 * 60_000;
        // An alliance: a parent club and three city branches.
        s.ok(
            "POST",
            "/v1/groups",
            Some(json!({"id": "club", "name": "Buyers Club", "timezone": "Asia/Shanghai"})),
        )
        .await;
        for (id, name) in [
            ("gz", "Club Guangzhou"),
            ("sz", "Club Shenzhen"),
            ("bj", "Club Beijing"),
        ] {
            s.ok(
                "POST",
                "/v1/groups",
                Some(
                    json!({"id": id, "name": name, "timezone": "Asia/Shanghai", "parent": "club"}),
                ),
            )
            .await;
        }
        s.install("group-competition").await;
        for g in ["gz", "sz"] {
            s.ok(
                "PUT",
                &format!("/v1/groups/{g}/plugins/group-competition"),
                Some(json!({"config": {"language": "en", "language": "en"}})),
            )
            .await;
        }
        // Sunday 00:30 → the first close is Saturday 21:00 local.
        let close = midnight + 6 * DAY + 21 * HOUR;
        for g in ["gz", "sz"] {
            let t = timers(&s, g).await;
            assert_eq!(t.len(), 1, "{g}: {t:?}");
            assert_eq!(
                (t[0]["name"].as_str(), t[0]["due_at"].as_i64()),
                (Some("close"), Some(close)),
                "{g}"
            );
        }
        assert!(timers(&s, "bj").await.is_empty());

        for (g, id, name) in [
            ("gz", "amy", "Amy"),
            ("gz", "bob", "Bob"),
            ("gz", "cat", "Cat"),
            ("gz", "dan", "Dan"),
            ("sz", "eve", "Eve"),
            ("sz", "fay", "Fay"),
            ("bj", "gus", "Gus"),
        ] {
            add(&s, g, id, name).await;
        }
        // Guangzhou: 6 messages in the period from Amy, Bob and Cat (who then
        // leaves); Dan spoke only before the period.
        say(&s, "gz", "g0", "dan", "old news", START - 10 * DAY).await;
        for (i, (who, at)) in [
            ("amy", START + HOUR),
            ("amy", START + DAY),
            ("amy", START + 2 * DAY),
            ("bob", START + 3 * DAY),
            ("bob", START + 4 * DAY),
            ("cat", START + 4 * DAY + HOUR),
        ]
        .into_iter()
        .enumerate()
        {
            say(&s, "gz", &format!("g{}", i + 1), who, "hello", at).await;
        }
        event(&s, json!({"id": "cat-left", "group": "gz", "type": "member_left", "member": "cat", "at": START + 5 * DAY})).await;
        // Shenzhen and Beijing tie on 4 messages; Shenzhen has more speakers.
        for (i, (who, at)) in [
            ("eve", START + DAY),
            ("fay", START + 2 * DAY),
            ("eve", START + 3 * DAY),
            ("fay", START + 4 * DAY),
        ]
        .into_iter()
        .enumerate()
        {
            say(&s, "sz", &format!("s{i}"), who, "hi", at).await;
            say(&s, "bj", &format!("b{i}"), "gus", "hey", at + HOUR).await;
        }
        say(&s, "sz", "s-cmd", "eve", "/competition", START + 5 * DAY).await;
        assert_eq!(
            s.posted("sz").await,
            ["🏁 Competition standings this period:\n\
          #1 Club Guangzhou — 6 messages, 3 active members\n\
          #2 Club Shenzhen — 4 messages, 2 active members\n\
          #3 Club Beijing — 4 messages, 1 active members"]
        );
        assert!(s.posted("gz").await.is_empty());

        clock.advance(close - START + 60_000);
        assert_eq!(s.kith.fire_due_timers().await.unwrap(), 2);
        let gz_posts = s.actions("gz", "post").await;
        assert_eq!(gz_posts.len(), 1);
        assert_eq!(
        gz_posts[0]["text"],
        "🏆 Club Guangzhou placed #1 of 3 this period with 6 messages; +100 points to each of 2 active members"
    );
        assert_eq!(gz_posts[0]["mentions"], json!([]));
        for (id, p) in [("amy", 100), ("bob", 100), ("cat", 0), ("dan", 0)] {
            assert_eq!(points(&s, "gz", id).await, p, "{id}");
        }
        assert_eq!(balance(&s, "gz", "issuer", "points").await, -200);
        // Shenzhen's command message counts too: 5 messages.
        assert_eq!(
            s.posted("sz").await.last().unwrap(),
            "This period: #2 of 3 with 5 messages. The winner: gz (6)."
        );
        for id in ["eve", "fay"] {
            assert_eq!(points(&s, "sz", id).await, 0, "{id}");
        }
        assert_eq!(balance(&s, "sz", "issuer", "points").await, 0);
        assert!(s.posted("bj").await.is_empty());
        for g in ["gz", "sz"] {
            assert_eq!(
                timers(&s, g).await[0]["due_at"].as_i64(),
                Some(close + 7 * DAY),
                "{g}"
            );
            s.assert_ledger_balances(g).await;
        }
        // Firing again does nothing: the next close is a week away.
        assert_eq!(s.kith.fire_due_timers().await.unwrap(), 0);

        // A new period: standings count only what was said since the close.
        say(&s, "sz", "s-new", "fay", "new week", close + HOUR).await;
        say(&s, "gz", "g-cmd", "bob", "/competition", close + 2 * HOUR).await;
        assert_eq!(
            s.posted("gz").await.last().unwrap(),
            "🏁 Competition standings this period:\n\
         #1 Club Shenzhen — 1 messages, 1 active members\n\
         #2 Club Beijing — 0 messages, 0 active members\n\
         #3 Club Guangzhou — 0 messages, 0 active members"
        );
        assert_eq!(points(&s, "gz", "bob").await, 100);
        s.assert_ledger_balances("gz").await;
    }
);
