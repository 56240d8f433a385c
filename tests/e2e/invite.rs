//! invite-only: codes issued by allowed roles, a use cap, expiry, the
//! inviter recorded.

use super::*;

fn code_from(actions: &[Value]) -> String {
    let text = actions
        .iter()
        .rev()
        .find(|a| {
            a["action"] == "direct"
                && a["payload"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("Your invite code")
        })
        .expect("an invite code was sent")["payload"]["text"]
        .as_str()
        .unwrap()
        .to_string();
    text.split_whitespace().nth(3).expect("code").to_string()
}

on_both_databases!(invite_codes_gate_entry, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(
        &s,
        "club",
        &[("invite-only", json!({"max_uses": 2, "ttl_hours": 1}))],
    )
    .await;

    // Without a code, or with a wrong one: rejected, with the reason.
    let j = join(&s, "club", json!({"member": "mallory"})).await;
    assert_eq!(j["status"], "rejected");
    assert_eq!(j["reason"], "an invite code is required to join this group");
    let j = join(
        &s,
        "club",
        json!({"member": "mallory", "invite_code": "AAAAAAAA"}),
    )
    .await;
    assert_eq!(j["reason"], "unknown invite code");

    // A plain member may not issue codes.
    s.ok(
        "POST",
        "/v1/groups/club/members",
        Some(json!({"member": "pat"})),
    )
    .await;
    // Join requests through the API happen now, so codes are issued now.
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    say(&s, "club", "e1", "pat", "/invite", t0).await;
    let denied = s.outbox("club").await;
    assert!(
        denied.iter().any(|a| a["action"] == "direct"
            && a["payload"]["member"] == "pat"
            && a["payload"]["text"]
                .as_str()
                .unwrap()
                .starts_with("Only owner, admin or core")),
        "{denied:?}"
    );

    // The owner issues one; two people use it, the third is refused.
    say(&s, "club", "e2", "owner", "/invite", t0).await;
    let code = code_from(&s.outbox("club").await);
    let j = join(
        &s,
        "club",
        json!({"member": "bob", "display_name": "Bob", "invite_code": code.to_lowercase()}),
    )
    .await;
    assert_eq!(j["status"], "admitted", "{j}");
    let j = join(&s, "club", json!({"member": "carol", "invite_code": code})).await;
    assert_eq!(j["status"], "admitted");
    let j = join(&s, "club", json!({"member": "dave", "invite_code": code})).await;
    assert_eq!(
        (j["status"].as_str(), j["reason"].as_str()),
        (Some("rejected"), Some("invite code has no uses left"))
    );

    let bob = member(&s, "club", "bob").await;
    assert_eq!(bob["status"], "active");
    assert_eq!(bob["inviter"], "owner");
    assert_eq!(bob["display_name"], "Bob");
    let dave = member(&s, "club", "dave").await;
    assert_ne!(dave["status"], "active");
    let requests = s
        .ok("GET", "/v1/groups/club/join-requests?status=rejected", None)
        .await;
    assert_eq!(requests["join_requests"].as_array().unwrap().len(), 3);

    // A code issued an hour ago has expired (the event time is the clock).
    say(&s, "club", "e3", "owner", "/invite", t0 - 2 * 3_600_000).await;
    let old = code_from(&s.outbox("club").await);
    let j = s
        .ok("POST", "/v1/events", Some(json!({"id": "e4", "group": "club", "type": "join_requested", "member": "erin", "invite_code": old, "at": t0})))
        .await;
    assert_eq!(j["join"]["reason"], "invite code expired");

    // The adapter is told what to do on the platform.
    let actions = s.outbox("club").await;
    assert!(actions
        .iter()
        .any(|a| a["action"] == "approve" && a["payload"]["member"] == "bob"));
    assert!(actions
        .iter()
        .any(|a| a["action"] == "decline" && a["payload"]["member"] == "dave"));
});
