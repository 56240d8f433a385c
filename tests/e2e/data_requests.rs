//! A member's data on request (GDPR, PIPL): exported as JSON and erased,
//! in one group or every group, by an admin or the group's operator; the
//! ledger still balances after an erasure.

use super::*;
use kith::domain::Asset;

const ADMIN: &str = "admin-secret-0123456789";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn token(s: &TestServer, scope: &str, groups: &[&str]) -> String {
    let (status, v) = s
        .call_as(
            Some(ADMIN),
            "POST",
            "/v1/tokens",
            Some(json!({"name": scope, "scope": scope, "groups": groups})),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    v["token"].as_str().unwrap().to_string()
}

fn group_ids(export: &Value) -> Vec<String> {
    export["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap().to_string())
        .collect()
}

on_both_databases!(export_and_erase_a_members_data, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let at = now();
    for g in ["gz", "sz"] {
        group_with(&s, g, &[("daily-checkin", json!({"base_reward": 10}))]).await;
        for m in ["bob", "ann"] {
            let name = if m == "bob" { "Bob Li" } else { "Ann" };
            s.ok(
                "POST",
                &format!("/v1/groups/{g}/members"),
                Some(json!({"member": m, "display_name": name})),
            )
            .await;
            say(&s, g, &format!("{g}-checkin-{m}"), m, "/checkin", at).await;
        }
    }
    s.ok("PUT", "/v1/groups/gz/members/bob/tags/vip", None)
        .await;

    // The export of one group: everything about bob, nothing about ann.
    let export = s.ok("GET", "/v1/groups/gz/members/bob/data", None).await;
    assert_eq!(group_ids(&export), ["gz"]);
    let gz = &export["groups"][0];
    assert_eq!(gz["member"]["points"], 10, "{gz}");
    assert_eq!(gz["member"]["tags"], json!(["vip"]));
    assert_eq!(gz["balances"], json!([{"asset": "points", "balance": 10}]));
    assert!(!gz["ledger_entries"].as_array().unwrap().is_empty());
    let messages = gz["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{gz}");
    assert_eq!(messages[0]["sender"], "bob");
    assert_eq!(gz["storage"][0]["key"], "member:bob", "{gz}");
    let events: Vec<&str> = gz["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert!(events.contains(&"gz-checkin-bob"), "{events:?}");
    assert!(!events.contains(&"gz-checkin-ann"), "{events:?}");
    assert!(gz["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["event_id"] == "gz-checkin-bob" && i["plugin"] == "daily-checkin"));
    let everywhere = s.ok("GET", "/v1/members/bob/data", None).await;
    assert_eq!(group_ids(&everywhere), ["gz", "sz"]);

    // Tokens from here on: an operator of gz sees and erases gz only.
    s.kith.bootstrap_admin(ADMIN).await.unwrap();
    let op = token(&s, "operator", &["gz"]).await;
    let (status, mine) = s
        .call_as(Some(&op), "GET", "/v1/members/bob/data", None)
        .await;
    assert_eq!((status, group_ids(&mine)), (200, vec!["gz".to_string()]));
    let (status, _) = s
        .call_as(Some(&op), "GET", "/v1/groups/sz/members/bob/data", None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = s
        .call_as(Some(&op), "DELETE", "/v1/groups/sz/members/bob/data", None)
        .await;
    assert_eq!(status, 403);

    let (status, report) = s
        .call_as(Some(&op), "DELETE", "/v1/groups/gz/members/bob/data", None)
        .await;
    assert_eq!(status, 200, "{report}");
    let erased = &report["groups"][0];
    assert_eq!(erased["group"], "gz");
    assert_eq!(erased["members"], 1, "{erased}");
    assert_eq!(erased["tags"], 1);
    assert_eq!(erased["messages"], 1);
    assert_eq!(erased["storage_keys"], 1);
    assert!(erased["ledger_entries"].as_u64().unwrap() >= 1);
    assert!(erased["events"].as_u64().unwrap() >= 1);
    let anonymous = erased["anonymous_account"].as_str().unwrap().to_string();
    assert!(anonymous.starts_with("member:erased-"), "{anonymous}");

    // Gone from gz; the ledger balances, the points now belong to the
    // anonymous account; ann keeps hers; the audit log names the
    // anonymous id, not bob.
    let (status, _) = s
        .call_as(Some(ADMIN), "GET", "/v1/groups/gz/members/bob", None)
        .await;
    assert_eq!(status, 404);
    let (_, after) = s
        .call_as(Some(ADMIN), "GET", "/v1/groups/gz/members/bob/data", None)
        .await;
    let gz = &after["groups"][0];
    assert_eq!(gz["member"], Value::Null, "{gz}");
    for field in [
        "balances",
        "ledger_entries",
        "messages",
        "join_requests",
        "storage",
        "events",
        "invocations",
    ] {
        assert_eq!(gz[field], json!([]), "{field} after erasure: {gz}");
    }
    // The effects kept for replays name him no more (as id or account).
    let (_, kept) = s
        .call_as(
            Some(ADMIN),
            "GET",
            "/v1/groups/gz/invocations?limit=1000",
            None,
        )
        .await;
    let effects: Vec<String> = kept["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["effects"].to_string())
        .collect();
    assert!(
        effects.iter().any(|e| e.contains(&anonymous)),
        "{effects:?}"
    );
    assert!(
        !effects
            .iter()
            .any(|e| e.contains("\"bob\"") || e.contains("member:bob")),
        "{effects:?}"
    );
    let store = &s.kith.store;
    assert_eq!(store.ledger_sum("gz", Asset::Points).await.unwrap(), 0);
    assert_eq!(
        store
            .balance("gz", &anonymous, Asset::Points)
            .await
            .unwrap(),
        10
    );
    assert_eq!(
        store
            .balance("gz", "member:bob", Asset::Points)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store.get_member("gz", "ann").await.unwrap().unwrap().points,
        10
    );
    let audit = store.audit_log("gz", None, 10).await.unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "member.erase")
        .expect("audited");
    assert_eq!(format!("member:{}", entry.subject), anonymous);
    assert!(
        !entry.detail.to_string().contains("\"bob\""),
        "{:?}",
        entry.detail
    );
    // The event records that named bob now name the anonymous id, also
    // where they carried his display name.
    let anon_id = anonymous.trim_start_matches("member:");
    let (_, anon) = s
        .call_as(
            Some(ADMIN),
            "GET",
            &format!("/v1/groups/gz/members/{anon_id}/data"),
            None,
        )
        .await;
    let records = anon["groups"][0]["events"].to_string();
    assert!(records.contains(anon_id), "{records}");
    assert!(
        !records.contains("Bob Li") && !records.contains("\"bob\""),
        "{records}"
    );
    // An adapter retrying bob's old event is refused, not processed again.
    let (status, _) = s
        .call_as(
            Some(ADMIN),
            "POST",
            "/v1/events",
            Some(json!({"id": "gz-checkin-bob", "group": "gz", "type": "message", "sender": "bob", "text": "/checkin", "at": at})),
        )
        .await;
    assert_eq!(status, 409);
    assert!(store.get_member("gz", "bob").await.unwrap().is_none());

    // sz still has bob, until the admin erases him everywhere.
    assert_eq!(
        store.get_member("sz", "bob").await.unwrap().unwrap().points,
        10
    );
    let (status, report) = s
        .call_as(Some(ADMIN), "DELETE", "/v1/members/bob/data", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(group_ids(&report), ["sz"]);
    assert_eq!(store.ledger_sum("sz", Asset::Points).await.unwrap(), 0);
    let (_, left) = s
        .call_as(Some(ADMIN), "GET", "/v1/members/bob/data", None)
        .await;
    assert_eq!(left["groups"], json!([]), "{left}");
});
