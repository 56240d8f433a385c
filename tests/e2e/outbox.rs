//! The outbox for several adapter workers: leases, redelivery, dead letters.

use super::*;

/// Leases `limit` actions of group `g` for `lease_ms`; returns their ids and attempts.
async fn lease(s: &TestServer, limit: u32, lease_ms: u64) -> Vec<(i64, i64)> {
    let v = s
        .ok(
            "POST",
            "/v1/outbox/lease",
            Some(json!({"group": "g", "limit": limit, "lease_ms": lease_ms})),
        )
        .await;
    v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_i64().unwrap(), a["attempts"].as_i64().unwrap()))
        .collect()
}

/// An `approve` for the owner, then a DM with a code per `/invite`.
async fn queue_actions(s: &TestServer, n: usize) {
    group_with(s, "g", &[("invite-only", json!({"max_uses": 1}))]).await;
    for i in 0..n {
        say(
            s,
            "g",
            &format!("m{i}"),
            "owner",
            "/invite",
            1_790_000_000_000 + i as i64,
        )
        .await;
    }
}

on_both_databases!(each_action_is_leased_to_one_worker, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    queue_actions(&s, 6).await;
    // One group's actions go to one worker at a time, in order: a second
    // worker gets nothing of that group while the first holds a lease.
    let first = lease(&s, 4, 60_000).await;
    assert_eq!(first.len(), 4, "{first:?}");
    assert!(
        first.windows(2).all(|w| w[0].0 < w[1].0),
        "in order: {first:?}"
    );
    assert!(first.iter().all(|(_, attempts)| *attempts == 1));
    assert!(lease(&s, 4, 60_000).await.is_empty(), "the group is leased");
    // Acknowledged actions are done; the next lease continues after them.
    let ids: Vec<i64> = first.iter().map(|(id, _)| *id).collect();
    let acked = s
        .ok("POST", "/v1/outbox/ack", Some(json!({"ids": ids})))
        .await;
    assert_eq!(acked["acknowledged"], 4);
    let rest = lease(&s, 10, 60_000).await;
    assert_eq!(rest.len(), 3);
    assert!(
        rest[0].0 > ids[3],
        "no action skipped or repeated: {rest:?}"
    );
});

on_both_databases!(
    unacknowledged_actions_are_redelivered_then_dead_lettered,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        queue_actions(&s, 1).await;
        // A worker that never acknowledges: its lease runs out, the action comes
        // back with one more attempt, until it is set aside as dead.
        let mut attempts = vec![];
        for _ in 0..20 {
            let got = lease(&s, 10, 1).await;
            if got.is_empty() {
                break;
            }
            attempts.push(got[0].1);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(
            attempts,
            (1..=10).collect::<Vec<i64>>(),
            "redelivered 10 times"
        );
        let dead = s.ok("GET", "/v1/outbox?group=g&state=dead", None).await;
        let dead = dead["actions"].as_array().unwrap().clone();
        assert_eq!(dead.len(), 2, "{dead:?}");
        assert!(dead.iter().all(|a| a["attempts"] == 10), "{dead:?}");
        assert!(
            s.outbox("g").await.is_empty(),
            "a dead action is no longer pending"
        );
    }
);

/// The `role` actions queued in group `g`: (member, role, plugin).
async fn role_actions(s: &TestServer) -> Vec<(Value, Value, Value)> {
    s.outbox("g")
        .await
        .into_iter()
        .filter(|a| a["action"] == "role")
        .map(|a| {
            let p = &a["payload"];
            (p["member"].clone(), p["role"].clone(), a["plugin"].clone())
        })
        .collect()
}

on_both_databases!(a_role_change_queues_a_role_action, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[("funnel-vip", json!({}))]).await;
    join(&s, "g", json!({"member": "amy"})).await;
    assert!(role_actions(&s).await.is_empty(), "joining sets no role");
    // The operator's change: the platform is told; the same role again is no change.
    for _ in 0..2 {
        s.ok(
            "PUT",
            "/v1/groups/g/members/amy/role",
            Some(json!({"role": "admin"})),
        )
        .await;
    }
    assert_eq!(
        role_actions(&s).await,
        [(json!("amy"), json!("admin"), Value::Null)]
    );
    // A plugin's change (funnel-vip makes payers VIPs) is queued in its name.
    join(&s, "g", json!({"member": "bob"})).await;
    s.ok(
        "POST",
        "/v1/events",
        Some(
            json!({"id": "p1", "group": "g", "type": "payment", "payment_id": "p1",
                    "member": "bob", "amount": 5_000, "currency": "CNY",
                    "status": "succeeded", "purpose": "course"}),
        ),
    )
    .await;
    assert_eq!(member(&s, "g", "bob").await["role"], "vip");
    assert_eq!(
        role_actions(&s).await[1..],
        [(json!("bob"), json!("vip"), json!("funnel-vip"))]
    );
});
