//! Membership states: a removal holds until the operator lifts it, and
//! applicants who never got in are declined or redirected, not "left".

use super::*;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn pay(s: &TestServer, id: &str, status: &str) {
    let body = json!({"id": format!("{id}-{status}"), "group": "vip", "type": "payment", "payment_id": id, "member": "amy", "amount": 100, "status": status, "purpose": "entry", "at": now()});
    s.ok("POST", "/v1/events", Some(body)).await;
}

async fn counts(s: &TestServer, group: &str) -> Value {
    s.ok("GET", &format!("/v1/groups/{group}"), None).await["counts"].clone()
}

on_both_databases!(a_removal_holds_until_lifted, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "vip", &[("paid-entry", json!({"price": 100}))]).await;
    join(&s, "vip", json!({"member": "amy"})).await;
    pay(&s, "p1", "succeeded").await;
    pay(&s, "p1", "refunded").await;
    let removed = member(&s, "vip", "amy").await;
    assert_eq!(removed["status"], "removed", "{removed}");
    let before = counts(&s, "vip").await;

    // Asking again: refused, and the removal and the counts stay as they were.
    let j = join(&s, "vip", json!({"member": "amy"})).await;
    assert_eq!(j["status"], "rejected", "{j}");
    assert_eq!(member(&s, "vip", "amy").await, removed);
    assert_eq!(counts(&s, "vip").await, before);
    let declines = s
        .outbox("vip")
        .await
        .into_iter()
        .filter(|a| a["action"] == "decline" && a["payload"]["member"] == "amy")
        .count();
    assert_eq!(declines, 1);

    // Lifted by the operator: the next request goes to the gates again.
    let lifted = s
        .ok("POST", "/v1/groups/vip/members/amy/lift-removal", None)
        .await;
    assert_eq!(lifted["status"], "left", "{lifted}");
    assert_eq!(lifted["joined_at"], removed["joined_at"]);
    let (status, _) = s
        .call("POST", "/v1/groups/vip/members/amy/lift-removal", None)
        .await;
    assert_eq!(status, 409);
    let j = join(&s, "vip", json!({"member": "amy"})).await;
    assert_eq!(j["status"], "pending", "{j}");
});

on_both_databases!(applicants_who_never_joined_are_not_left, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    for (id, capacity, parent) in [
        ("club", 10, None),
        ("a", 1, Some("club")),
        ("b", 10, Some("club")),
    ] {
        s.ok(
            "POST",
            "/v1/groups",
            Some(json!({"id": id, "name": id, "capacity": capacity, "parent": parent})),
        )
        .await;
    }
    s.ok(
        "POST",
        "/v1/groups/a/members",
        Some(json!({"member": "owner", "role": "owner"})),
    )
    .await;
    // Full, no gate: declined by the host.
    let j = join(&s, "a", json!({"member": "cat"})).await;
    assert_eq!(j["status"], "rejected", "{j}");
    let cat = member(&s, "a", "cat").await;
    assert_eq!(
        (cat["status"].as_str(), &cat["joined_at"]),
        (Some("declined"), &Value::Null)
    );
    // Sent on by capacity-overflow: redirected, and an applicant in the
    // target group, whose own gates decide.
    s.install("paid-entry").await;
    s.ok(
        "PUT",
        "/v1/groups/b/plugins/paid-entry",
        Some(json!({"config": {"language": "en", "price": 100}})),
    )
    .await;
    s.install("capacity-overflow").await;
    s.ok(
        "PUT",
        "/v1/groups/a/plugins/capacity-overflow",
        Some(json!({"config": {"language": "en"}})),
    )
    .await;
    let j = join(&s, "a", json!({"member": "dan"})).await;
    assert_eq!(j["status"], "redirected", "{j}");
    assert_eq!(member(&s, "a", "dan").await["status"], "redirected");
    let there = member(&s, "b", "dan").await;
    assert_eq!(there["status"], "pending", "{there}");
    let requests = s
        .ok("GET", "/v1/groups/b/join-requests?status=pending", None)
        .await["join_requests"]
        .clone();
    assert_eq!(requests[0]["pending_plugin"], "paid-entry", "{requests}");
    let c = counts(&s, "a").await;
    assert_eq!(
        (&c["active"], &c["left"], &c["declined"], &c["redirected"]),
        (&json!(1), &json!(0), &json!(1), &json!(1)),
        "{c}"
    );
});

// Someone kith never admitted who speaks in the group (they joined outside
// kith) is an *observed* member: flagged, announced to games and flows,
// counted apart, and counted toward the capacity unless the group's
// `observed_count_toward_capacity` setting says otherwise.
on_both_databases!(unknown_senders_are_observed_members, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[("welcome-ritual", json!({}))]).await;
    s.ok("PATCH", "/v1/groups/g", Some(json!({"capacity": 2})))
        .await;
    let o = say(&s, "g", "m1", "stranger", "hello", 1_790_000_000_000).await;
    let runs = o["invocations"].as_array().unwrap();
    assert!(
        runs.iter().any(|i| i["handler"] == "on-member-joined"),
        "announced: {o}"
    );
    let m = member(&s, "g", "stranger").await;
    assert_eq!(
        (m["status"].as_str(), m["observed"].as_bool()),
        (Some("active"), Some(true)),
        "{m}"
    );
    assert_eq!(member(&s, "g", "owner").await["observed"], false);
    let g = s.ok("GET", "/v1/groups/g", None).await;
    assert_eq!(
        (
            g["counts"]["active"].as_u64(),
            g["counts"]["observed"].as_u64()
        ),
        (Some(2), Some(1)),
        "{g}"
    );
    // Owner + stranger fill a group of 2.
    let j = join(&s, "g", json!({"member": "ann"})).await;
    assert_eq!(j["status"], "rejected", "{j}");
    // Unless observed members do not count toward the capacity.
    s.ok(
        "PATCH",
        "/v1/groups/g",
        Some(json!({"settings": {"observed_count_toward_capacity": false}})),
    )
    .await;
    let j = join(&s, "g", json!({"member": "bob"})).await;
    assert_eq!(j["status"], "admitted", "{j}");
    assert_eq!(member(&s, "g", "bob").await["observed"], false);
});
