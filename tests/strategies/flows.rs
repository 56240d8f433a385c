//! Scenario tests of the flows strategy plugins, against the real host.

use kith::dispatch::Clock;
use kith_tests::*;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
/// 2026-03-01 00:30 in Shanghai.
const START: i64 = 1_772_296_200_000;

async fn add(s: &TestServer, g: &str, id: &str, name: &str, role: &str) {
    s.ok(
        "POST",
        &format!("/v1/groups/{g}/members"),
        Some(json!({"member": id, "display_name": name, "role": role})),
    )
    .await;
}

/// Whether the message an event outcome names was deleted.
async fn deleted(s: &TestServer, outcome: Value) -> bool {
    let id = outcome["message_id"].as_str().unwrap().to_string();
    message(s, "g", &id).await["deleted"] == true
}

async fn message(s: &TestServer, g: &str, id: &str) -> Value {
    let all = s
        .ok("GET", &format!("/v1/groups/{g}/messages?limit=200"), None)
        .await;
    all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no message {id}: {all}"))
}

fn plugins_run(outcome: &Value) -> Vec<String> {
    outcome["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["ok"], true, "{outcome}");
            i["plugin"].as_str().unwrap().to_string()
        })
        .collect()
}

async fn balance(s: &TestServer, g: &str, account: &str) -> i64 {
    s.ok(
        "GET",
        &format!("/v1/groups/{g}/ledger/{account}?asset=money"),
        None,
    )
    .await["balance"]
        .as_i64()
        .unwrap()
}

// ---- ad-filter ----

on_both_databases!(ad_filter_deletes_warns_and_removes, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[("ad-filter", json!({}))]).await;
    add(&s, "g", "amy", "Amy", "member").await;
    add(&s, "g", "boss", "Boss", "admin").await;

    let o = say(
        &s,
        "g",
        "a1",
        "amy",
        "cheap bags http://spam.example/x",
        START,
    )
    .await;
    assert_eq!(plugins_run(&o), ["ad-filter"]);
    let id = o["message_id"].as_str().unwrap().to_string();
    let m = message(&s, "g", &id).await;
    assert_eq!(m["deleted"], true, "{m}");
    let deletes = s.actions("g", "delete").await;
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0]["message_id"], id.as_str());
    assert_eq!(deletes[0]["reason"], "links are not allowed (spam.example)");
    assert_eq!(
        s.actions("g", "direct").await,
        [
            json!({"member": "amy", "text": "Warning 1/3: your message was deleted: links are not allowed (spam.example)."})
        ]
    );

    // An admin's link and an ordinary message stay.
    let o = say(
        &s,
        "g",
        "b1",
        "boss",
        "slides: https://spam.example/deck",
        START + 1_000,
    )
    .await;
    let boss_msg = o["message_id"].as_str().unwrap().to_string();
    assert_eq!(message(&s, "g", &boss_msg).await["deleted"], false);
    let o = say(&s, "g", "a2", "amy", "good morning", START + 2_000).await;
    assert_eq!(
        message(&s, "g", o["message_id"].as_str().unwrap()).await["deleted"],
        false
    );
    assert_eq!(s.actions("g", "delete").await.len(), 1);

    // Second offence by a blocked word (case-insensitive), third removes.
    say(&s, "g", "a3", "amy", "FREE MONEY for all", START + DAY).await;
    let dms = s.actions("g", "direct").await;
    assert_eq!(dms.len(), 2);
    assert_eq!(
        dms[1]["text"],
        "Warning 2/3: your message was deleted: blocked word \"free money\"."
    );
    assert_eq!(member(&s, "g", "amy").await["status"], "active");
    say(&s, "g", "a4", "amy", "做代理月入过万", START + 2 * DAY).await;
    assert_eq!(member(&s, "g", "amy").await["status"], "removed");
    let removes = s.actions("g", "remove").await;
    assert_eq!(removes.len(), 1);
    assert_eq!(removes[0]["member"], "amy");
    assert_eq!(
        removes[0]["reason"],
        "3 warnings, last: blocked word \"代理\""
    );
    let posts = s.actions("g", "post").await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["text"], "Amy was removed after 3 warnings");
    assert_eq!(s.actions("g", "delete").await.len(), 3);
    assert_eq!(s.actions("g", "direct").await.len(), 2);
    assert_eq!(member(&s, "g", "boss").await["status"], "active");
});

// Issue 20.10: the commonest Chinese spam carries a phone number, a WeChat
// id or a QR code, or is pasted by several accounts.
on_both_databases!(
    ad_filter_catches_contacts_qr_codes_and_repeats,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        group_with(
            &s,
            "g",
            &[("ad-filter", json!({"warnings_before_removal": 10}))],
        )
        .await;
        for id in ["amy", "bob", "cal"] {
            add(&s, "g", id, id, "member").await;
        }
        assert!(
            deleted(
                &s,
                say(&s, "g", "p1", "amy", "出二手镜头 电话 13812345678", START).await
            )
            .await
        );
        assert!(
            deleted(
                &s,
                say(&s, "g", "w1", "amy", "有意加V：lens_shop88", START).await
            )
            .await
        );
        let qr = |id: &str, text: &str| json!({"id": id, "group": "g", "type": "message", "sender": "amy", "kind": "image", "text": text, "at": START});
        let o = s
            .ok(
                "POST",
                "/v1/events",
                Some(qr("q1", "[二维码] https://u.wechat.com/x")),
            )
            .await;
        assert!(deleted(&s, o).await);
        let o = s.ok("POST", "/v1/events", Some(qr("q2", "sunset"))).await;
        assert!(!deleted(&s, o).await, "a plain photo stays");
        let reasons: Vec<Value> = s
            .actions("g", "delete")
            .await
            .iter()
            .map(|d| d["reason"].clone())
            .collect();
        assert_eq!(
            reasons,
            [json!("phone number"), json!("WeChat id"), json!("QR code")]
        );

        // The same advert from a third member within the hour goes; the first two stay.
        let ad = "特价出售 全新镜头 私聊";
        assert!(!deleted(&s, say(&s, "g", "r1", "amy", ad, START + 1_000).await).await);
        assert!(!deleted(&s, say(&s, "g", "r2", "bob", ad, START + 2_000).await).await);
        assert!(deleted(&s, say(&s, "g", "r3", "cal", ad, START + 3_000).await).await);
        let dms = s.actions("g", "direct").await;
        assert_eq!(
            dms.last().unwrap()["text"],
            "Warning 1/10: your message was deleted: the same message as 2 other members."
        );
    }
);

on_both_databases!(ad_filter_warnings_expire, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(
        &s,
        "g",
        &[(
            "ad-filter",
            json!({"warnings_before_removal": 2, "warning_ttl_days": 10, "allowed_domains": ["example.com"]}),
        )],
    )
    .await;
    add(&s, "g", "bob", "Bob", "member").await;
    // An allowed domain (and its subdomains) is not an offence.
    say(
        &s,
        "g",
        "b0",
        "bob",
        "docs at https://www.example.com/a",
        START,
    )
    .await;
    assert!(s.actions("g", "delete").await.is_empty());

    say(&s, "g", "b1", "bob", "加微信 abc123", START).await;
    // Eleven days later the first warning has expired: warned again, not removed.
    say(&s, "g", "b2", "bob", "兼职日结 call me", START + 11 * DAY).await;
    assert_eq!(member(&s, "g", "bob").await["status"], "active");
    let dms: Vec<Value> = s
        .actions("g", "direct")
        .await
        .iter()
        .map(|d| d["text"].clone())
        .collect();
    assert_eq!(
        dms,
        [
            json!("Warning 1/2: your message was deleted: blocked word \"加微信\"."),
            json!("Warning 1/2: your message was deleted: blocked word \"兼职日结\"."),
        ]
    );
    // Within ten days of the last one: removed.
    say(&s, "g", "b3", "bob", "www.spam.example", START + 12 * DAY).await;
    assert_eq!(member(&s, "g", "bob").await["status"], "removed");
    assert_eq!(s.actions("g", "delete").await.len(), 3);
});

on_both_databases!(ad_filter_runs_before_later_plugins, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    // daily-checkin matches whole messages only: the spammy text is made one
    // of its commands, so that a run would visibly award points.
    let spam = "签到 http://spam.example";
    group_with(
        &s,
        "g",
        &[
            ("ad-filter", json!({})),
            ("daily-checkin", json!({"commands": ["签到", spam]})),
        ],
    )
    .await;
    add(&s, "g", "amy", "Amy", "member").await;
    let points = |v: Value| v["points"].as_i64().unwrap();

    let o = say(&s, "g", "s1", "amy", spam, START).await;
    assert_eq!(plugins_run(&o), ["ad-filter"]);
    assert_eq!(points(member(&s, "g", "amy").await), 0);
    assert!(s.actions("g", "post").await.is_empty());

    // A clean check-in reaches daily-checkin.
    let o = say(&s, "g", "s2", "amy", "签到", START + 1_000).await;
    assert_eq!(plugins_run(&o), ["ad-filter", "daily-checkin"]);
    assert_eq!(points(member(&s, "g", "amy").await), 10);

    // Reversed: the check-in is paid before the message is deleted.
    s.ok(
        "PUT",
        "/v1/groups/g/plugins/order",
        Some(json!({"plugins": ["daily-checkin", "ad-filter"]})),
    )
    .await;
    let o = say(&s, "g", "s3", "amy", spam, START + DAY).await;
    assert_eq!(plugins_run(&o), ["daily-checkin", "ad-filter"]);
    assert_eq!(points(member(&s, "g", "amy").await), 10 + 12);
    let id = o["message_id"].as_str().unwrap();
    assert_eq!(message(&s, "g", id).await["deleted"], true);
    assert_eq!(s.actions("g", "delete").await.len(), 2);
    s.assert_ledger_balances("g").await;
});

// ---- lurker-revival ----

/// Moves the manual clock to `at` and fires what is due.
async fn at_time(s: &TestServer, clock: &Clock, at: i64) {
    let now = clock.now();
    assert!(at >= now, "the clock only moves forward");
    clock.advance(at - now);
    s.kith.fire_due_timers().await.unwrap();
}

async fn dms(s: &TestServer, g: &str) -> Vec<(String, String)> {
    s.actions(g, "direct")
        .await
        .iter()
        .map(|d| {
            (
                d["member"].as_str().unwrap().to_string(),
                d["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn dm(member: &str, text: &str) -> (String, String) {
    (member.to_string(), text.to_string())
}

on_both_databases!(lurker_revival_invites_warns_removes, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    group_with(&s, "g", &[("lurker-revival", json!({}))]).await;
    add(&s, "g", "amy", "Amy", "member").await;
    add(&s, "g", "bob", "Bob", "member").await;
    add(&s, "g", "ada", "Ada", "admin").await;
    let timers = s.ok("GET", "/v1/groups/g/timers", None).await["timers"].clone();
    // 10:00 in Shanghai on the day the plugin was enabled.
    assert_eq!(
        timers[0]["due_at"],
        START + 9 * 3_600_000 + 1_800_000,
        "{timers}"
    );
    assert_eq!(timers[0]["period_ms"], DAY);

    // 13 days in: nobody has been silent for 14 days yet.
    at_time(&s, &clock, START + 13 * DAY + 10 * 3_600_000).await;
    assert!(dms(&s, "g").await.is_empty());

    let t1 = START + 14 * DAY + 10 * 3_600_000;
    at_time(&s, &clock, t1).await;
    let invite = |n: &str| {
        format!("Hi {n}, we miss you in group g! Drop by and tell us what you are up to.")
    };
    assert_eq!(
        dms(&s, "g").await,
        [dm("amy", &invite("Amy")), dm("bob", &invite("Bob"))]
    );

    // Bob answers the invitation.
    say(&s, "g", "b1", "bob", "still here!", t1 + 3_600_000).await;
    assert_eq!(
        dms(&s, "g").await[2],
        dm("bob", "Welcome back, Bob! Good to hear from you.")
    );

    at_time(&s, &clock, t1 + 6 * DAY).await;
    assert_eq!(dms(&s, "g").await.len(), 3);
    at_time(&s, &clock, t1 + 7 * DAY).await;
    let all = dms(&s, "g").await;
    assert_eq!(all.len(), 4, "{all:?}");
    assert_eq!(
        all[3],
        dm("amy", "Amy, you have not spoken in group g for a long time. Say hello, or your place will go to someone new.")
    );
    assert_eq!(member(&s, "g", "amy").await["status"], "active");

    at_time(&s, &clock, t1 + 13 * DAY).await;
    assert_eq!(member(&s, "g", "amy").await["status"], "active");
    at_time(&s, &clock, t1 + 14 * DAY).await;
    assert_eq!(member(&s, "g", "amy").await["status"], "removed");
    assert_eq!(
        s.actions("g", "remove").await,
        [json!({"member": "amy", "reason": "silent for 28 days"})]
    );
    assert_eq!(member(&s, "g", "bob").await["status"], "active");
    assert_eq!(member(&s, "g", "ada").await["status"], "active");
    assert_eq!(dms(&s, "g").await.len(), 4);
});

on_both_databases!(lurker_revival_steps_are_configurable, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    group_with(
        &s,
        "g",
        &[(
            "lurker-revival",
            json!({"silent_days": 5, "warn_after_days": null, "remove_after_days": 3,
                   "dm_text": "{name}, come back!", "welcome_back_text": null, "scan_hour": 20}),
        )],
    )
    .await;
    add(&s, "g", "amy", "Amy", "member").await;
    add(&s, "g", "cat", "Cat", "member").await;
    // 20:00 Shanghai on day 6.
    let t1 = START + 5 * DAY + 19 * 3_600_000 + 1_800_000;
    at_time(&s, &clock, t1).await;
    assert_eq!(
        dms(&s, "g").await,
        [dm("amy", "Amy, come back!"), dm("cat", "Cat, come back!")]
    );
    // Cat reacts: a sign of life, and no welcome-back DM is configured.
    let o = say(&s, "g", "o1", "owner", "anyone up for tea?", t1 + 1_000).await;
    s.ok(
        "POST",
        "/v1/events",
        Some(json!({"id": "r1", "group": "g", "type": "reaction",
                    "message_id": o["message_id"], "member": "cat", "emoji": "👍", "at": t1 + 2_000})),
    )
    .await;
    at_time(&s, &clock, t1 + 2 * DAY).await;
    assert_eq!(member(&s, "g", "amy").await["status"], "active");
    at_time(&s, &clock, t1 + 3 * DAY).await;
    assert_eq!(member(&s, "g", "amy").await["status"], "removed");
    assert_eq!(member(&s, "g", "cat").await["status"], "active");
    // No warning step: the invitations were the only DMs.
    assert_eq!(dms(&s, "g").await.len(), 2);
    assert_eq!(
        s.actions("g", "remove").await,
        [json!({"member": "amy", "reason": "silent for 8 days"})]
    );
});

// ---- group-buy ----

/// A payment event; `status` is "succeeded" unless [`Payment::refunded`].
/// Its payment id is `p-` and the event id up to a `:`, so event
/// `3:refund` reports on payment `p-3` (a refund matches its payment).
struct Payment<'a> {
    id: &'a str,
    who: &'a str,
    amount: i64,
    purpose: &'a str,
    status: &'a str,
    at: i64,
}

impl<'a> Payment<'a> {
    fn new(id: &'a str, who: &'a str, amount: i64, purpose: &'a str, at: i64) -> Self {
        Payment {
            id,
            who,
            amount,
            purpose,
            status: "succeeded",
            at,
        }
    }

    fn refunded(self) -> Self {
        Payment {
            status: "refunded",
            ..self
        }
    }
}

async fn pay(s: &TestServer, g: &str, p: Payment<'_>) -> Value {
    let Payment {
        id,
        who,
        amount,
        purpose,
        status,
        at,
    } = p;
    s.ok(
        "POST",
        "/v1/events",
        Some(json!({"id": id, "group": g, "type": "payment",
                    "payment_id": format!("p-{}", id.split(':').next().unwrap_or(id)),
                    "member": who, "amount": amount, "currency": "CNY", "status": status,
                    "purpose": purpose, "at": at})),
    )
    .await
}

async fn tags(s: &TestServer, g: &str, who: &str) -> Vec<String> {
    let mut t: Vec<String> =
        serde_json::from_value(member(s, g, who).await["tags"].clone()).unwrap();
    t.sort();
    t
}

on_both_databases!(group_buy_filled_goes_to_treasury, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    group_with(&s, "g", &[("group-buy", json!({}))]).await;
    for who in ["amy", "bob", "cat", "dan"] {
        add(&s, "g", who, who, "member").await;
    }
    // Members cannot open deals.
    let o = say(&s, "g", "x0", "amy", "/groupbuy My shop", START).await;
    assert_eq!(plugins_run(&o), ["group-buy"]);
    assert!(s.actions("g", "post").await.is_empty());
    assert_eq!(
        dms(&s, "g").await,
        [dm(
            "amy",
            "Only the owner or an admin can open a group buy."
        )]
    );

    let o = say(&s, "g", "open", "owner", "/groupbuy Tea set", START).await;
    let deal = o["message_id"].as_str().unwrap().to_string();
    let purpose = format!("group-buy:{deal}");
    let escrow = format!("escrow:deal-{deal}");
    assert_eq!(
        s.actions("g", "post").await[0]["text"],
        format!("Group buy: Tea set at ¥1.00 each. It goes ahead when 3 people join within 24 hours; otherwise everyone is refunded. Pay with purpose \"{purpose}\".")
    );
    let timers = s.ok("GET", "/v1/groups/g/timers", None).await["timers"].clone();
    assert_eq!(timers[0]["name"], format!("deadline:{deal}"));
    assert_eq!(timers[0]["due_at"], START + DAY);

    let t = START + 60_000;
    pay(&s, "g", Payment::new("1", "amy", 100, &purpose, t)).await;
    assert_eq!(balance(&s, "g", &escrow).await, 100);
    assert_eq!(balance(&s, "g", "member:amy").await, 0);
    // A second payment by the same buyer, and one below the price, stay in the wallet.
    pay(&s, "g", Payment::new("2", "amy", 100, &purpose, t + 1)).await;
    pay(&s, "g", Payment::new("3", "bob", 50, &purpose, t + 2)).await;
    assert_eq!(balance(&s, "g", &escrow).await, 100);
    assert_eq!(balance(&s, "g", "member:amy").await, 100);
    assert_eq!(balance(&s, "g", "member:bob").await, 50);
    // Payments for something else are not this plugin's business.
    pay(&s, "g", Payment::new("4", "bob", 100, "entry", t + 3)).await;
    assert_eq!(balance(&s, "g", &escrow).await, 100);
    pay(&s, "g", Payment::new("5", "bob", 100, &purpose, t + 4)).await;
    assert_eq!(balance(&s, "g", &escrow).await, 200);
    assert_eq!(balance(&s, "g", "group").await, 0);
    assert!(tags(&s, "g", "amy").await.is_empty());
    // The third buyer fills the deal; the extra 50 stays with cat.
    pay(&s, "g", Payment::new("6", "cat", 150, &purpose, t + 5)).await;
    assert_eq!(balance(&s, "g", &escrow).await, 0);
    assert_eq!(balance(&s, "g", "group").await, 300);
    assert_eq!(balance(&s, "g", "member:cat").await, 50);
    for who in ["amy", "bob", "cat"] {
        assert_eq!(tags(&s, "g", who).await, ["bought"], "{who}");
    }
    let posts = s.actions("g", "post").await;
    assert_eq!(
        posts.last().unwrap()["text"],
        "Group buy Tea set succeeded with 3 buyers!"
    );
    assert_eq!(
        posts.last().unwrap()["mentions"],
        json!(["amy", "bob", "cat"])
    );
    assert_eq!(
        s.ok("GET", "/v1/groups/g/timers", None).await["timers"],
        json!([])
    );
    // Too late: the deal is closed, dan keeps his money.
    pay(&s, "g", Payment::new("7", "dan", 100, &purpose, t + 6)).await;
    assert_eq!(balance(&s, "g", "member:dan").await, 100);
    assert_eq!(balance(&s, "g", "group").await, 300);
    assert!(tags(&s, "g", "dan").await.is_empty());
    assert_eq!(
        balance(&s, "g", "external").await,
        -(100 * 3 + 50 + 100 + 150 + 100)
    );
    s.assert_ledger_balances("g").await;
});

on_both_databases!(group_buy_unfilled_refunds_everyone, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    group_with(
        &s,
        "g",
        &[(
            "group-buy",
            json!({"price": 990, "required": 4, "duration_hours": 2, "command": "拼团"}),
        )],
    )
    .await;
    add(&s, "g", "ada", "Ada", "admin").await;
    for who in ["amy", "bob", "cat"] {
        add(&s, "g", who, who, "member").await;
    }
    let o = say(&s, "g", "open", "ada", "拼团 茶具", START).await;
    let deal = o["message_id"].as_str().unwrap().to_string();
    let purpose = format!("group-buy:{deal}");
    let escrow = format!("escrow:deal-{deal}");
    pay(&s, "g", Payment::new("1", "amy", 990, &purpose, START + 1)).await;
    pay(&s, "g", Payment::new("2", "bob", 1000, &purpose, START + 2)).await;
    pay(&s, "g", Payment::new("3", "cat", 990, &purpose, START + 3)).await;
    assert_eq!(balance(&s, "g", &escrow).await, 3 * 990);
    assert_eq!(balance(&s, "g", "member:bob").await, 10);
    // Cat's payment is refunded by the provider while the deal is open: the
    // share leaves escrow for cat's wallet, which the host then debits.
    pay(
        &s,
        "g",
        Payment::new("3:refund", "cat", 990, &purpose, START + 4).refunded(),
    )
    .await;
    assert_eq!(balance(&s, "g", &escrow).await, 2 * 990);
    assert_eq!(balance(&s, "g", "member:cat").await, 0);
    s.assert_ledger_balances("g").await;

    at_time(&s, &clock, START + 2 * 3_600_000 - 1).await;
    assert_eq!(balance(&s, "g", &escrow).await, 2 * 990);
    at_time(&s, &clock, START + 2 * 3_600_000).await;
    assert_eq!(balance(&s, "g", &escrow).await, 0);
    assert_eq!(balance(&s, "g", "group").await, 0);
    assert_eq!(balance(&s, "g", "member:amy").await, 990);
    assert_eq!(balance(&s, "g", "member:bob").await, 1000);
    assert_eq!(balance(&s, "g", "member:cat").await, 0);
    let posts = s.actions("g", "post").await;
    assert_eq!(
        posts.last().unwrap()["text"],
        "Group buy 茶具 failed: 2 of 4 buyers by the deadline. Everyone has been refunded."
    );
    assert_eq!(posts.last().unwrap()["mentions"], json!(["amy", "bob"]));
    for who in ["amy", "bob", "cat"] {
        assert!(tags(&s, "g", who).await.is_empty(), "{who}");
    }
    // The real payments are refunded too: the adapter gets a `refund` action
    // per buyer, with the payment id (not cat's, refunded already) ...
    let refunds: Vec<(String, String, i64)> = s
        .actions("g", "refund")
        .await
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap().to_string();
            (
                text("payment_id"),
                text("member"),
                r["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        refunds,
        [
            ("p-1".to_string(), "amy".to_string(), 990),
            ("p-2".to_string(), "bob".to_string(), 990)
        ]
    );
    // ... and when it reports them done, the money leaves the wallets.
    pay(
        &s,
        "g",
        Payment::new("1:refund", "amy", 990, &purpose, START + 3 * 3_600_000).refunded(),
    )
    .await;
    pay(
        &s,
        "g",
        Payment::new("2:refund", "bob", 990, &purpose, START + 3 * 3_600_000).refunded(),
    )
    .await;
    assert_eq!(balance(&s, "g", "member:amy").await, 0);
    assert_eq!(balance(&s, "g", "member:bob").await, 10);
    s.assert_ledger_balances("g").await;
    // After the deadline a payment is not taken.
    pay(
        &s,
        "g",
        Payment::new("5", "cat", 990, &purpose, START + 3 * 3_600_000),
    )
    .await;
    assert_eq!(balance(&s, "g", "member:cat").await, 990);
    assert_eq!(balance(&s, "g", &escrow).await, 0);
    s.assert_ledger_balances("g").await;
});

// ---- funnel-vip ----

on_both_databases!(funnel_vip_stages_vip_and_repurchase, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    group_with(&s, "g", &[("funnel-vip", json!({}))]).await;
    let o = join(&s, "g", json!({"member": "amy", "display_name": "Amy"})).await;
    assert_eq!(o["status"], "admitted");
    join(&s, "g", json!({"member": "bob", "display_name": "Bob"})).await;
    assert_eq!(tags(&s, "g", "amy").await, ["stage:newcomer"]);
    assert_eq!(tags(&s, "g", "bob").await, ["stage:newcomer"]);
    assert!(tags(&s, "g", "owner").await.is_empty());

    // Three messages within seven days: participant.
    say(&s, "g", "a1", "amy", "hi", START + 3_600_000).await;
    say(&s, "g", "a2", "amy", "hello", START + 2 * 3_600_000).await;
    assert_eq!(tags(&s, "g", "amy").await, ["stage:newcomer"]);
    say(&s, "g", "a3", "amy", "me again", START + DAY).await;
    assert_eq!(tags(&s, "g", "amy").await, ["stage:participant"]);
    // Twenty within thirty days: core.
    for i in 0..16 {
        say(
            &s,
            "g",
            &format!("b{i}"),
            "amy",
            "chat",
            START + 2 * DAY + i * 3_600_000,
        )
        .await;
    }
    assert_eq!(tags(&s, "g", "amy").await, ["stage:participant"]);
    say(
        &s,
        "g",
        "b16",
        "amy",
        "chat",
        START + 2 * DAY + 16 * 3_600_000,
    )
    .await;
    assert_eq!(tags(&s, "g", "amy").await, ["stage:core"]);

    // Bob stays silent for seven days: the daily scan makes him a lurker;
    // amy, active and core, is left alone.
    let scan = START + 7 * DAY + 9 * 3_600_000 + 1_800_000;
    at_time(&s, &clock, scan - DAY).await;
    assert_eq!(tags(&s, "g", "bob").await, ["stage:newcomer"]);
    at_time(&s, &clock, scan).await;
    assert_eq!(tags(&s, "g", "bob").await, ["stage:lurker"]);
    assert_eq!(tags(&s, "g", "amy").await, ["stage:core"]);

    // A big payment: VIP role, tags, and a reminder 30 days later.
    let paid = clock.now();
    pay(&s, "g", Payment::new("p1", "amy", 150_000, "course", paid)).await;
    let amy = member(&s, "g", "amy").await;
    assert_eq!(amy["role"], "vip");
    assert_eq!(
        tags(&s, "g", "amy").await,
        ["big-customer", "bought", "stage:vip", "vip"]
    );
    pay(&s, "g", Payment::new("p2", "bob", 5_000, "course", paid)).await;
    assert_eq!(member(&s, "g", "bob").await["role"], "vip");
    assert_eq!(tags(&s, "g", "bob").await, ["bought", "stage:vip", "vip"]);
    // Bob buys again ten days later: his reminder moves with it.
    at_time(&s, &clock, paid + 10 * DAY).await;
    pay(
        &s,
        "g",
        Payment::new("p3", "bob", 5_000, "course", paid + 10 * DAY),
    )
    .await;

    at_time(&s, &clock, paid + 30 * DAY - 1).await;
    assert!(dms(&s, "g").await.is_empty());
    at_time(&s, &clock, paid + 30 * DAY).await;
    let reminder = |n: &str| {
        format!("Hi {n}, it has been a while since your last order. Members get first pick of what is new: just reply if you want to order again.")
    };
    assert_eq!(dms(&s, "g").await, [dm("amy", &reminder("Amy"))]);
    at_time(&s, &clock, paid + 40 * DAY).await;
    assert_eq!(
        dms(&s, "g").await,
        [dm("amy", &reminder("Amy")), dm("bob", &reminder("Bob"))]
    );
    // A silent VIP is not demoted to lurker.
    assert_eq!(
        tags(&s, "g", "amy").await,
        ["big-customer", "bought", "stage:vip", "vip"]
    );
    s.assert_ledger_balances("g").await;
});
