//! Scenario tests of the gates strategy plugins, against the real host.

use kith_tests::*;
use serde_json::{json, Value};

/// A group with the given capacity and parent, without members.
async fn branch(s: &TestServer, id: &str, name: &str, capacity: u32, parent: Option<&str>) {
    s.ok(
        "POST",
        "/v1/groups",
        Some(json!({"id": id, "name": name, "timezone": "Asia/Shanghai", "capacity": capacity, "parent": parent})),
    )
    .await;
}

async fn add(s: &TestServer, group: &str, id: &str, role: &str) {
    s.ok(
        "POST",
        &format!("/v1/groups/{group}/members"),
        Some(json!({"member": id, "role": role})),
    )
    .await;
}

async fn enable(s: &TestServer, group: &str, plugin: &str, config: Value) {
    if s.call("GET", &format!("/v1/plugins/{plugin}"), None)
        .await
        .0
        == 404
    {
        s.install(plugin).await;
    }
    s.ok(
        "PUT",
        &format!("/v1/groups/{group}/plugins/{plugin}"),
        Some(json!({"config": kith_tests::in_english(&config)})),
    )
    .await;
}

/// Outbox actions of one kind for one member.
fn actions_for<'a>(actions: &'a [Value], action: &str, member: &str) -> Vec<&'a Value> {
    actions
        .iter()
        .filter(|a| a["action"] == action && a["payload"]["member"] == member)
        .collect()
}

fn direct_texts(actions: &[Value], member: &str) -> Vec<String> {
    actions_for(actions, "direct", member)
        .iter()
        .map(|a| a["payload"]["text"].as_str().unwrap_or("").to_string())
        .collect()
}

// ---- capacity-overflow ----

on_both_databases!(
    capacity_overflow_redirects_to_emptiest_sibling,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        // The Buyers Club alliance: three city branches of two places each.
        branch(&s, "club", "Buyers Club", 350, None).await;
        branch(&s, "gz", "Buyers Club Guangzhou", 2, Some("club")).await;
        branch(&s, "sz", "Buyers Club Shenzhen", 2, Some("club")).await;
        branch(&s, "bj", "Buyers Club Beijing", 2, Some("club")).await;
        for g in ["gz", "sz", "bj"] {
            add(&s, g, &format!("{g}-owner"), "owner").await;
        }
        enable(&s, "gz", "capacity-overflow", json!({})).await;

        let j = join(&s, "gz", json!({"member": "amy"})).await;
        assert_eq!(
            (j["status"].as_str(), j["reason"].as_str()),
            (Some("admitted"), Some("room in the group (1 of 2 members)")),
            "{j}"
        );

        // Full: sz and bj both hold one member, the lower id wins the tie.
        let j = join(&s, "gz", json!({"member": "ben"})).await;
        assert_eq!(j["status"], "redirected", "{j}");
        assert_eq!(j["redirect_to"], "bj");
        assert_eq!(
            j["reason"],
            "group is full (2 members); sent to Buyers Club Beijing"
        );
        assert_eq!(member(&s, "gz", "ben").await["status"], "redirected");
        // Ben arrives in bj as an applicant there; no gate objects.
        assert_eq!(member(&s, "bj", "ben").await["status"], "active");

        // bj is full now: the next one goes to sz.
        let j = join(&s, "gz", json!({"member": "dan"})).await;
        assert_eq!(j["redirect_to"], "sz", "{j}");
        assert_eq!(
            j["reason"],
            "group is full (2 members); sent to Buyers Club Shenzhen"
        );

        // Every branch full (dan is in sz): refused.
        assert_eq!(member(&s, "sz", "dan").await["status"], "active");
        let j = join(&s, "gz", json!({"member": "fay"})).await;
        assert_eq!(
            (j["status"].as_str(), j["reason"].as_str()),
            (Some("rejected"), Some("group is full (2 members)")),
            "{j}"
        );

        let actions = s.outbox("gz").await;
        let redirects: Vec<(&str, &str)> = actions
            .iter()
            .filter(|a| a["action"] == "redirect")
            .map(|a| {
                (
                    a["payload"]["member"].as_str().unwrap(),
                    a["payload"]["to_group"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(redirects, vec![("ben", "bj"), ("dan", "sz")]);
        assert_eq!(actions_for(&actions, "decline", "fay").len(), 1);
        assert_eq!(actions_for(&actions, "approve", "amy").len(), 1);

        // A new empty branch has room, but redirecting is switched off.
        branch(&s, "sh", "Buyers Club Shanghai", 2, Some("club")).await;
        enable(&s, "gz", "capacity-overflow", json!({"redirect": false})).await;
        let j = join(&s, "gz", json!({"member": "gil"})).await;
        assert_eq!(
            (j["status"].as_str(), j["reason"].as_str()),
            (Some("rejected"), Some("group is full (2 members)"))
        );
        enable(&s, "gz", "capacity-overflow", json!({"redirect": true})).await;
        let j = join(&s, "gz", json!({"member": "gil"})).await;
        assert_eq!(j["redirect_to"], "sh", "{j}");

        // max_members below the group's capacity is the limit; null is the capacity.
        s.ok("PATCH", "/v1/groups/gz", Some(json!({"capacity": 10})))
            .await;
        enable(
            &s,
            "gz",
            "capacity-overflow",
            json!({"max_members": 2, "redirect": false}),
        )
        .await;
        let j = join(&s, "gz", json!({"member": "hal"})).await;
        assert_eq!(j["reason"], "group is full (2 members)", "{j}");
        enable(&s, "gz", "capacity-overflow", json!({"max_members": null})).await;
        let j = join(&s, "gz", json!({"member": "hal"})).await;
        assert_eq!(j["reason"], "room in the group (2 of 10 members)", "{j}");
        assert_eq!(member(&s, "gz", "hal").await["status"], "active");
        // The operator's config is validated against the plugin's schema.
        let (status, _) = s
            .call(
                "PUT",
                "/v1/groups/gz/plugins/capacity-overflow",
                Some(json!({"config": {"language": "en", "max_members": 0}})),
            )
            .await;
        assert_eq!(status, 422);
    }
);

// ---- quiz-gate ----

/// 2026-03-01 00:30 in Shanghai.
const START: i64 = 1_772_296_200_000;

fn quiz_config() -> Value {
    json!({
        "questions": [
            {"question": "Which aperture lets in more light, f/2 or f/8?", "answers": ["f/2", "f2"]},
            {"question": "Is the rule of thirds about composition or exposure?", "answers": ["composition"]}
        ],
        "timeout_seconds": 60
    })
}

/// The question the applicant was sent, and its right answer (in a
/// different case and spacing than configured: both must not matter).
fn quiz_question(actions: &[Value], member: &str) -> (String, &'static str) {
    let texts = direct_texts(actions, member);
    let last = texts.last().expect("a question was sent").clone();
    let prefix = "To join Photo Club, answer within 60 seconds: ";
    let question = last
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("unexpected question message {last:?}"))
        .to_string();
    let answer = match question.as_str() {
        "Which aperture lets in more light, f/2 or f/8?" => " F/2 ",
        "Is the rule of thirds about composition or exposure?" => "Composition",
        other => panic!("not a configured question: {other:?}"),
    };
    (question, answer)
}

async fn timer_names(s: &TestServer, group: &str) -> Vec<(String, i64)> {
    s.ok("GET", &format!("/v1/groups/{group}/timers"), None)
        .await["timers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["due_at"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn answer(s: &TestServer, group: &str, member: &str, text: &str) -> Value {
    s.ok(
        "POST",
        &format!("/v1/groups/{group}/join-requests/{member}/answer"),
        Some(json!({"answer": text})),
    )
    .await["join"]
        .clone()
}

on_both_databases!(quiz_gate_right_wrong_late_and_silent, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = kith::dispatch::Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    branch(&s, "photo", "Photo Club", 350, None).await;
    add(&s, "photo", "owner", "owner").await;
    enable(&s, "photo", "quiz-gate", quiz_config()).await;

    // Right answer: pending with a DM'd question, then admitted.
    let j = join(&s, "photo", json!({"member": "amy", "answer": "f/2"})).await;
    assert_eq!(
        (j["status"].as_str(), j["reason"].as_str()),
        (
            Some("pending"),
            Some("answer the question within 60 seconds")
        ),
        "{j}"
    );
    assert_eq!(member(&s, "photo", "amy").await["status"], "pending");
    assert_eq!(
        timer_names(&s, "photo").await,
        vec![("expire:amy".to_string(), START + 60_000)]
    );
    let (_, right) = quiz_question(&s.outbox("photo").await, "amy");
    let j = answer(&s, "photo", "amy", right).await;
    assert_eq!(
        (j["status"].as_str(), j["reason"].as_str()),
        (
            Some("admitted"),
            Some("answered the entry question correctly")
        ),
        "{j}"
    );
    assert_eq!(member(&s, "photo", "amy").await["status"], "active");
    assert_eq!(timer_names(&s, "photo").await, vec![]);

    // Wrong answer: rejected, and the question is used up.
    join(&s, "photo", json!({"member": "ben"})).await;
    let j = answer(&s, "photo", "ben", "f/8 I think").await;
    assert_eq!(
        (j["status"].as_str(), j["reason"].as_str()),
        (Some("rejected"), Some("wrong answer"))
    );
    assert_eq!(member(&s, "photo", "ben").await["status"], "declined");

    // Late: the right answer, one millisecond after the deadline. Sent as an
    // adapter event with its platform time, because advancing the manual
    // clock would let the background timer loop decline first.
    join(&s, "photo", json!({"member": "cat"})).await;
    let (_, right) = quiz_question(&s.outbox("photo").await, "cat");
    let out = s
        .ok("POST", "/v1/events", Some(json!({"id": "late-1", "group": "photo", "type": "challenge_answer", "member": "cat", "answer": right, "at": START + 60_001})))
        .await;
    assert_eq!(
        (
            out["join"]["status"].as_str(),
            out["join"]["reason"].as_str()
        ),
        (Some("rejected"), Some("too late")),
        "{out}"
    );
    assert_eq!(member(&s, "photo", "cat").await["status"], "declined");
    assert_eq!(timer_names(&s, "photo").await, vec![]);

    // No answer at all: the timer declines.
    join(&s, "photo", json!({"member": "dan"})).await;
    assert_eq!(
        timer_names(&s, "photo").await,
        vec![("expire:dan".to_string(), START + 60_000)]
    );
    clock.advance(60_001);
    s.kith.fire_due_timers().await.unwrap();
    let dan = member(&s, "photo", "dan").await;
    assert_eq!(dan["status"], "declined", "{dan}");
    let actions = s.outbox("photo").await;
    let declines: Vec<(&str, &str)> = actions
        .iter()
        .filter(|a| a["action"] == "decline")
        .map(|a| {
            (
                a["payload"]["member"].as_str().unwrap(),
                a["payload"]["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        declines,
        vec![
            ("ben", "wrong answer"),
            ("cat", "too late"),
            ("dan", "no answer within 60 seconds")
        ]
    );
    assert_eq!(actions_for(&actions, "approve", "amy").len(), 1);
    assert_eq!(timer_names(&s, "photo").await, vec![]);
    let rejected = s
        .ok(
            "GET",
            "/v1/groups/photo/join-requests?status=rejected",
            None,
        )
        .await;
    let dan_request = rejected["join_requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["member"] == "dan")
        .expect("dan's request")
        .clone();
    assert_eq!(dan_request["reason"], "no answer within 60 seconds");

    // Asking again gives a fresh question and a fresh deadline.
    let j = join(&s, "photo", json!({"member": "dan"})).await;
    assert_eq!(j["status"], "pending");
    assert_eq!(direct_texts(&s.outbox("photo").await, "dan").len(), 2);
    assert_eq!(
        timer_names(&s, "photo").await,
        vec![("expire:dan".to_string(), START + 60_001 + 60_000)]
    );
});

on_both_databases!(
    quiz_gate_default_questions_are_not_arithmetic,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        branch(&s, "photo", "Photo Club", 350, None).await;
        enable(&s, "photo", "quiz-gate", json!({})).await;
        join(&s, "photo", json!({"member": "amy"})).await;
        let texts = direct_texts(&s.outbox("photo").await, "amy");
        let defaults = [
            "Which aperture lets in more light, f/2 or f/8?",
            "The rule of thirds is a guideline for composition or for exposure?",
            "What do photographers call the hour just after sunrise or before sunset?",
        ];
        assert_eq!(texts.len(), 1);
        assert!(
            defaults
                .iter()
                .any(|q| texts[0] == format!("To join Photo Club, answer within 60 seconds: {q}")),
            "{texts:?}"
        );
        // An empty question list is refused by the schema.
        let (status, _) = s
            .call(
                "PUT",
                "/v1/groups/photo/plugins/quiz-gate",
                Some(json!({"config": {"language": "en", "questions": []}})),
            )
            .await;
        assert_eq!(status, 422);
    }
);

// ---- paid-entry ----

const DAY: i64 = 86_400_000;

async fn pay(
    s: &TestServer,
    group: &str,
    id: &str,
    payment: &str,
    member: &str,
    amount: i64,
    status: &str,
) -> Value {
    s.ok(
        "POST",
        "/v1/events",
        Some(json!({"id": id, "group": group, "type": "payment", "payment_id": payment, "member": member, "amount": amount, "currency": "CNY", "status": status, "purpose": "entry"})),
    )
    .await
}

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

async fn balances(s: &TestServer, group: &str, member: &str) -> (i64, i64, i64) {
    (
        money(s, group, &format!("member:{member}")).await,
        money(s, group, "group").await,
        money(s, group, "external").await,
    )
}

on_both_databases!(paid_entry_pay_underpay_refund_expire, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let clock = kith::dispatch::Clock::manual(START);
    let s = TestServer::start_on(db, clock.clone()).await;
    branch(&s, "vip", "VIP Club", 350, None).await;
    add(&s, "vip", "owner", "owner").await;
    enable(
        &s,
        "vip",
        "paid-entry",
        json!({"price": 100, "period_days": 30}),
    )
    .await;

    // Asking to join: pending, and told the price.
    let j = join(&s, "vip", json!({"member": "amy"})).await;
    assert_eq!(
        (j["status"].as_str(), j["reason"].as_str()),
        (Some("pending"), Some("pay ¥1.00 to join")),
        "{j}"
    );
    assert_eq!(
        direct_texts(&s.outbox("vip").await, "amy"),
        vec!["To join VIP Club, pay ¥1.00 (payment purpose \"entry\"); it makes you a member member for 30 days."]
    );

    // Underpaid: still pending, the money stays in the wallet.
    pay(&s, "vip", "e-p1", "p1", "amy", 50, "succeeded").await;
    assert_eq!(member(&s, "vip", "amy").await["status"], "pending");
    assert_eq!(
        direct_texts(&s.outbox("vip").await, "amy").last().unwrap(),
        "payment of ¥0.50 is below the price ¥1.00"
    );
    assert_eq!(balances(&s, "vip", "amy").await, (50, 0, -50));
    // Refunding the underpayment changes nothing but the money.
    pay(&s, "vip", "e-p1r", "p1", "amy", 50, "refunded").await;
    assert_eq!(member(&s, "vip", "amy").await["status"], "pending");
    assert_eq!(balances(&s, "vip", "amy").await, (0, 0, 0));

    // Paid (more than the price): admitted, the price moves to the group.
    pay(&s, "vip", "e-p2", "p2", "amy", 150, "succeeded").await;
    let amy = member(&s, "vip", "amy").await;
    assert_eq!(amy["status"], "active", "{amy}");
    assert_eq!(amy["paid_tier"], "member");
    assert_eq!(amy["paid_until"], START + 30 * DAY);
    assert_eq!(balances(&s, "vip", "amy").await, (50, 100, -150));
    let fee = s
        .ok("GET", "/v1/groups/vip/ledger/group?asset=money", None)
        .await["entries"][0]
        .clone();
    assert_eq!(fee["amount"], 100);
    assert_eq!(fee["memo"], "entry fee, payment p2");
    assert_eq!(
        timer_names(&s, "vip").await,
        vec![("expire:amy".to_string(), START + 30 * DAY)]
    );
    let actions = s.outbox("vip").await;
    assert_eq!(
        actions_for(&actions, "approve", "amy")[0]["payload"]["reason"],
        "paid entry"
    );
    assert_eq!(
        direct_texts(&actions, "amy").last().unwrap(),
        "Payment received: member membership confirmed for 30 days."
    );
    s.assert_ledger_balances("vip").await;

    // Refunded: removed, paid state cleared, timer gone; the host takes the
    // 150 back from the wallet (50) and the group (100).
    pay(&s, "vip", "e-p2r", "p2", "amy", 150, "refunded").await;
    let amy = member(&s, "vip", "amy").await;
    assert_eq!(amy["status"], "removed", "{amy}");
    assert_eq!(amy["paid_tier"], Value::Null);
    assert_eq!(amy["paid_until"], Value::Null);
    assert_eq!(balances(&s, "vip", "amy").await, (0, 0, 0));
    assert_eq!(timer_names(&s, "vip").await, vec![]);
    assert_eq!(
        actions_for(&s.outbox("vip").await, "remove", "amy")[0]["payload"]["reason"],
        "entry refunded"
    );
    s.assert_ledger_balances("vip").await;

    // Expiry with on_expiry = remove.
    join(&s, "vip", json!({"member": "ben"})).await;
    pay(&s, "vip", "e-p3", "p3", "ben", 100, "succeeded").await;
    assert_eq!(member(&s, "vip", "ben").await["status"], "active");
    assert_eq!(balances(&s, "vip", "ben").await, (0, 100, -100));
    clock.advance(30 * DAY);
    s.kith.fire_due_timers().await.unwrap();
    let ben = member(&s, "vip", "ben").await;
    assert_eq!(ben["status"], "removed", "{ben}");
    assert_eq!(ben["paid_tier"], Value::Null);
    let actions = s.outbox("vip").await;
    assert_eq!(
        actions_for(&actions, "remove", "ben")[0]["payload"]["reason"],
        "paid membership expired"
    );
    assert_eq!(
        direct_texts(&actions, "ben").last().unwrap(),
        "Your member membership has expired; pay ¥1.00 to renew."
    );
    // An expiry keeps the fee: external is payments minus refunds.
    assert_eq!(balances(&s, "vip", "ben").await, (0, 100, -100));

    // Expiry with on_expiry = downgrade: still a member, tagged, unpaid.
    enable(
        &s,
        "vip",
        "paid-entry",
        json!({"price": 100, "period_days": 30, "on_expiry": "downgrade"}),
    )
    .await;
    let t1 = START + 30 * DAY;
    join(&s, "vip", json!({"member": "cat"})).await;
    pay(&s, "vip", "e-p4", "p4", "cat", 100, "succeeded").await;
    assert_eq!(member(&s, "vip", "cat").await["paid_until"], t1 + 30 * DAY);
    clock.advance(30 * DAY);
    s.kith.fire_due_timers().await.unwrap();
    let cat = member(&s, "vip", "cat").await;
    assert_eq!(cat["status"], "active", "{cat}");
    assert_eq!(cat["paid_tier"], Value::Null);
    assert_eq!(cat["paid_until"], Value::Null);
    assert_eq!(cat["tags"], json!(["expired"]));
    // Paying again renews and drops the tag.
    pay(&s, "vip", "e-p5", "p5", "cat", 100, "succeeded").await;
    let cat = member(&s, "vip", "cat").await;
    assert_eq!(cat["paid_tier"], "member");
    assert_eq!(cat["paid_until"], t1 + 60 * DAY);
    assert_eq!(cat["tags"], json!([]));
    assert_eq!(
        direct_texts(&s.outbox("vip").await, "cat").last().unwrap(),
        "Payment received: member membership confirmed for 30 days."
    );
    assert_eq!(money(&s, "vip", "group").await, 300);
    assert_eq!(money(&s, "vip", "external").await, -300);
    s.assert_ledger_balances("vip").await;
});

// ---- submission-review ----

on_both_databases!(submission_review_by_chat_and_operator, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    branch(&s, "photo", "Photo Club", 350, None).await;
    add(&s, "photo", "owner", "owner").await;
    add(&s, "photo", "ada", "admin").await;
    add(&s, "photo", "pat", "member").await;
    enable(&s, "photo", "submission-review", json!({"min_length": 20})).await;
    let posts = |actions: &[Value]| -> Vec<(String, Value)> {
        actions
            .iter()
            .filter(|a| a["action"] == "post")
            .map(|a| {
                (
                    a["payload"]["text"].as_str().unwrap().to_string(),
                    a["payload"]["mentions"].clone(),
                )
            })
            .collect()
    };

    // A submission: pending, and the reviewers are @mentioned in the group.
    let work = "Street photography from Guangzhou: https://example.com/amy";
    let j = join(
        &s,
        "photo",
        json!({"member": "amy", "display_name": "Amy", "payload": {"submission": work}}),
    )
    .await;
    assert_eq!(
        (j["status"].as_str(), j["reason"].as_str()),
        (
            Some("pending"),
            Some("submission received; awaiting review")
        ),
        "{j}"
    );
    assert_eq!(
        posts(&s.outbox("photo").await),
        vec![(
            format!(
                "New application from Amy: {work}. Reply /approve amy or /decline amy <reason>"
            ),
            json!(["owner", "ada"])
        )]
    );

    // A plain member cannot decide.
    say(&s, "photo", "m1", "pat", "/approve amy", START).await;
    assert_eq!(member(&s, "photo", "amy").await["status"], "pending");
    assert_eq!(
        direct_texts(&s.outbox("photo").await, "pat"),
        vec!["only reviewers can decide applications"]
    );

    // The admin approves in chat.
    say(&s, "photo", "m2", "ada", "/approve amy", START + 1).await;
    assert_eq!(member(&s, "photo", "amy").await["status"], "active");
    let actions = s.outbox("photo").await;
    assert_eq!(
        actions_for(&actions, "approve", "amy")[0]["payload"]["reason"],
        "approved by ada"
    );
    let admitted = s
        .ok(
            "GET",
            "/v1/groups/photo/join-requests?status=admitted",
            None,
        )
        .await;
    let amy_request = admitted["join_requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["member"] == "amy")
        .expect("amy's request")
        .clone();
    assert_eq!(amy_request["reason"], "approved by ada");

    // The owner declines another, with a reason.
    join(
        &s,
        "photo",
        json!({"member": "ben", "payload": {"submission": "My best food pictures, all taken on a phone"}}),
    )
    .await;
    say(
        &s,
        "photo",
        "m3",
        "owner",
        "/decline ben  blurry photos, try again next month",
        START + 2,
    )
    .await;
    assert_eq!(member(&s, "photo", "ben").await["status"], "declined");
    assert_eq!(
        actions_for(&s.outbox("photo").await, "decline", "ben")[0]["payload"]["reason"],
        "blurry photos, try again next month"
    );
    // Nothing left to decide for ben.
    say(&s, "photo", "m4", "owner", "/approve ben", START + 3).await;
    assert_eq!(member(&s, "photo", "ben").await["status"], "declined");
    assert_eq!(
        direct_texts(&s.outbox("photo").await, "owner"),
        vec!["no application from ben is awaiting review"]
    );

    // Too short, or no submission at all: rejected with the prompt.
    let prompt = "Tell us about yourself and share a sample of your work. (at least 20 characters)";
    let j = join(
        &s,
        "photo",
        json!({"member": "cal", "payload": {"submission": "   nice pics  "}}),
    )
    .await;
    assert_eq!(
        (j["status"].as_str(), j["reason"].as_str()),
        (Some("rejected"), Some(prompt))
    );
    let j = join(&s, "photo", json!({"member": "dee"})).await;
    assert_eq!(j["reason"], prompt);

    // The operator's review endpoint decides a pending submission too.
    join(
        &s,
        "photo",
        json!({"member": "eve", "payload": {"submission": "Portfolio: twelve night-market portraits"}}),
    )
    .await;
    let out = s
        .ok(
            "POST",
            "/v1/groups/photo/join-requests/eve/approve",
            Some(json!({"reason": "portfolio checked by the operator"})),
        )
        .await;
    assert_eq!(
        (
            out["join"]["status"].as_str(),
            out["join"]["reason"].as_str()
        ),
        (Some("admitted"), Some("portfolio checked by the operator")),
        "{out}"
    );
    assert_eq!(member(&s, "photo", "eve").await["status"], "active");
    // A later chat command finds nothing to decide and says so.
    say(&s, "photo", "m5", "ada", "/decline eve too late", START + 4).await;
    assert_eq!(member(&s, "photo", "eve").await["status"], "active");
    assert_eq!(
        direct_texts(&s.outbox("photo").await, "ada"),
        vec!["no application from eve is awaiting review"]
    );
    // Exactly three review requests were posted: amy, ben, eve.
    assert_eq!(posts(&s.outbox("photo").await).len(), 3);
});
