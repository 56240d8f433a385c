//! Several gates on one group: a challenge passed hands over to the next
//! gate, and plugin approvals respect the group's capacity.

use super::*;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

on_both_databases!(quiz_then_payment, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let quiz = json!({"questions": [{"question": "Which lens for portraits?", "answers": ["85mm"]}], "timeout_seconds": 3600});
    group_with(
        &s,
        "photo",
        &[("quiz-gate", quiz), ("paid-entry", json!({"price": 100}))],
    )
    .await;

    let j = join(&s, "photo", json!({"member": "amy"})).await;
    assert_eq!(j["status"], "pending");
    // The right answer passes the quiz; the payment gate comes next.
    let out = s
        .ok(
            "POST",
            "/v1/groups/photo/join-requests/amy/answer",
            Some(json!({"answer": "85mm"})),
        )
        .await;
    assert_eq!(out["join"]["status"], "pending", "{out}");
    assert!(
        out["join"]["reason"].as_str().unwrap().contains("pay"),
        "{out}"
    );
    assert_eq!(member(&s, "photo", "amy").await["status"], "pending");
    let pay = json!({"id": "p1", "group": "photo", "type": "payment", "payment_id": "p1", "member": "amy", "amount": 100, "status": "succeeded", "purpose": "entry", "at": now()});
    s.ok("POST", "/v1/events", Some(pay)).await;
    assert_eq!(member(&s, "photo", "amy").await["status"], "active");
    s.assert_ledger_balances("photo").await;
});

on_both_databases!(plugin_approvals_respect_capacity, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    s.ok(
        "POST",
        "/v1/groups",
        Some(json!({"id": "tiny", "name": "Tiny", "capacity": 2})),
    )
    .await;
    s.ok(
        "POST",
        "/v1/groups/tiny/members",
        Some(json!({"member": "owner", "role": "owner"})),
    )
    .await;
    s.install("paid-entry").await;
    s.ok(
        "PUT",
        "/v1/groups/tiny/plugins/paid-entry",
        Some(json!({"config": {"language": "en", "price": 100}})),
    )
    .await;
    for m in ["a", "b"] {
        assert_eq!(
            join(&s, "tiny", json!({"member": m})).await["status"],
            "pending"
        );
    }
    for (i, m) in ["a", "b"].iter().enumerate() {
        let pay = json!({"id": format!("p{i}"), "group": "tiny", "type": "payment", "payment_id": format!("p{i}"), "member": m, "amount": 100, "status": "succeeded", "purpose": "entry", "at": now()});
        s.ok("POST", "/v1/events", Some(pay)).await;
    }
    assert_eq!(member(&s, "tiny", "a").await["status"], "active");
    // Full: b's approval is refused, and its fee stays in b's wallet.
    assert_eq!(member(&s, "tiny", "b").await["status"], "pending");
    let wallet = s
        .ok("GET", "/v1/groups/tiny/ledger/member:b?asset=money", None)
        .await;
    assert_eq!(wallet["balance"], 100);
    let counts = s.ok("GET", "/v1/groups/tiny", None).await["counts"].clone();
    assert_eq!(counts["active"], 2);
    s.assert_ledger_balances("tiny").await;
});

// A gate's approval passes that gate only: the gates after it still
// decide, a gate that does not hold the request cannot admit it, and the
// operator's approval passes the holding gate within the group's capacity.
on_both_databases!(gates_cannot_be_skipped, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let quiz = json!({"questions": [{"question": "Which lens for portraits?", "answers": ["85mm"]}], "timeout_seconds": 3600});
    let review = json!({"min_length": 10});
    // Paying while the quiz holds the request does not skip the quiz.
    group_with(
        &s,
        "photo",
        &[
            ("quiz-gate", quiz.clone()),
            ("paid-entry", json!({"price": 100})),
        ],
    )
    .await;
    join(&s, "photo", json!({"member": "amy"})).await;
    let pay = json!({"id": "p1", "group": "photo", "type": "payment", "payment_id": "p1", "member": "amy", "amount": 100, "status": "succeeded", "purpose": "entry", "at": now()});
    s.ok("POST", "/v1/events", Some(pay)).await;
    assert_eq!(member(&s, "photo", "amy").await["status"], "pending");
    // The quiz passed, the payment already made is enough.
    let out = s
        .ok(
            "POST",
            "/v1/groups/photo/join-requests/amy/answer",
            Some(json!({"answer": "85mm"})),
        )
        .await;
    assert_eq!(out["join"]["status"], "admitted", "{out}");
    s.assert_ledger_balances("photo").await;

    // A reviewer's approval in chat, and the operator's, pass the review:
    // the quiz after it still asks.
    group_with(
        &s,
        "art",
        &[("submission-review", review.clone()), ("quiz-gate", quiz)],
    )
    .await;
    s.ok(
        "POST",
        "/v1/groups/art/members",
        Some(json!({"member": "ada", "role": "admin"})),
    )
    .await;
    for who in ["ben", "cat"] {
        let j = join(
            &s,
            "art",
            json!({"member": who, "payload": {"submission": "my portfolio of street shots"}}),
        )
        .await;
        assert_eq!(j["status"], "pending", "{j}");
    }
    say(&s, "art", "m1", "ada", "/approve ben", now()).await;
    assert_eq!(member(&s, "art", "ben").await["status"], "pending");
    let out = s
        .ok(
            "POST",
            "/v1/groups/art/join-requests/cat/approve",
            Some(json!({"reason": "ok"})),
        )
        .await;
    assert_eq!(out["join"]["status"], "pending", "{out}");
    assert_eq!(member(&s, "art", "cat").await["status"], "pending");
    let requests = s
        .ok("GET", "/v1/groups/art/join-requests?status=pending", None)
        .await["join_requests"]
        .clone();
    let waiting_on: Vec<&str> = requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["pending_plugin"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(waiting_on, ["quiz-gate", "quiz-gate"], "{requests}");

    // The operator's approval keeps to the capacity.
    s.ok(
        "POST",
        "/v1/groups",
        Some(json!({"id": "tiny", "name": "Tiny", "capacity": 2})),
    )
    .await;
    s.ok(
        "POST",
        "/v1/groups/tiny/members",
        Some(json!({"member": "owner", "role": "owner"})),
    )
    .await;
    s.ok(
        "PUT",
        "/v1/groups/tiny/plugins/submission-review",
        Some(json!({"config": in_english(&review)})),
    )
    .await;
    join(
        &s,
        "tiny",
        json!({"member": "dan", "payload": {"submission": "my portfolio of street shots"}}),
    )
    .await;
    s.ok(
        "POST",
        "/v1/groups/tiny/members",
        Some(json!({"member": "eve"})),
    )
    .await;
    let out = s
        .ok(
            "POST",
            "/v1/groups/tiny/join-requests/dan/approve",
            Some(json!({"reason": "ok"})),
        )
        .await;
    assert_eq!(out["join"]["status"], "rejected", "{out}");
    let counts = s.ok("GET", "/v1/groups/tiny", None).await["counts"].clone();
    assert_eq!(counts["active"], 2, "{counts}");
});
