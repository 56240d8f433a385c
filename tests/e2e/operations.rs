//! Operators' everyday work: editing one setting keeps the others, the run
//! order survives disable and enable, alerts when a plugin is switched off,
//! the audit log, archiving and deleting groups.

use super::*;

const ADMIN: &str = "admin-secret-for-operations-0123456789";

fn names(list: &Value) -> Vec<String> {
    list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["plugin"].as_str().unwrap().to_string())
        .collect()
}

fn positions(list: &Value) -> Vec<i64> {
    list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect()
}

async fn timer_names(s: &TestServer, group: &str) -> Vec<String> {
    let t = s
        .ok("GET", &format!("/v1/groups/{group}/timers"), None)
        .await;
    t["timers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

on_both_databases!(editing_one_setting_keeps_the_others, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let config = json!({"reminder_hour": 9, "base_reward": 20});
    group_with(&s, "g", &[("daily-checkin", config)]).await;
    let path = "/v1/groups/g/plugins/daily-checkin";
    s.ok("PUT", path, Some(json!({"limits": {"fuel": 500_000_000}})))
        .await;
    let first = s.ok("GET", path, None).await;
    assert_eq!(first["config"]["reminder_hour"], 9, "{first}");
    assert_eq!(first["limits"]["fuel"], 500_000_000, "{first}");
    assert_eq!(timer_names(&s, "g").await, ["reminder"]);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    // A reorder typed as an enable changes nothing else.
    let moved = s.ok("PUT", path, Some(json!({"position": 0}))).await;
    let stored = s.ok("GET", path, None).await;
    assert_eq!(moved["enablement"], stored, "the answer is what is stored");
    assert_eq!(stored["config"], first["config"]);
    assert_eq!(stored["limits"], first["limits"]);
    assert_eq!(stored["enabled_at"], first["enabled_at"], "first enabled");
    assert_eq!(timer_names(&s, "g").await, ["reminder"], "timer kept");

    // A config edit is a merge; a null removes a key.
    s.ok("PUT", path, Some(json!({"config": {"base_reward": 30}})))
        .await;
    let merged = s.ok("GET", path, None).await;
    assert_eq!(merged["config"]["base_reward"], 30);
    assert_eq!(merged["config"]["reminder_hour"], 9);
    assert_eq!(merged["config"]["language"], "en");
    assert_eq!(merged["limits"]["fuel"], 500_000_000, "limits kept");
    s.ok(
        "PUT",
        path,
        Some(json!({"config": {"reminder_hour": null}})),
    )
    .await;
    assert!(timer_names(&s, "g").await.is_empty(), "reminder cancelled");
    let limits = json!({"limits": {"timeout_ms": 2000}});
    let changed = s.ok("PUT", path, Some(limits)).await;
    assert_eq!(changed["enablement"]["limits"]["timeout_ms"], 2000);
    assert_eq!(changed["enablement"]["limits"]["fuel"], 500_000_000);

    // Replacing is on purpose.
    let whole = json!({"config": {"language": "en"}, "replace_config": true});
    let replaced = s.ok("PUT", path, Some(whole)).await;
    assert_eq!(replaced["enablement"]["config"], json!({"language": "en"}));
    assert_eq!(replaced["enablement"]["enabled_at"], first["enabled_at"]);
    let (st, v) = s
        .call("PUT", path, Some(json!({"config": {"base_reward": -1}})))
        .await;
    assert_eq!(st, 422, "a merged config is still checked: {v}");
});

on_both_databases!(order_survives_disable_and_enable, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let plugins = [
        ("ad-filter", json!({})),
        ("daily-checkin", json!({})),
        ("welcome-ritual", json!({})),
    ];
    group_with(&s, "g", &plugins).await;
    let list = s.ok("GET", "/v1/groups/g/plugins", None).await;
    assert_eq!(
        names(&list),
        ["ad-filter", "daily-checkin", "welcome-ritual"]
    );
    assert_eq!(list["warnings"], json!([]));

    s.ok("DELETE", "/v1/groups/g/plugins/ad-filter", None).await;
    let list = s.ok("GET", "/v1/groups/g/plugins", None).await;
    assert_eq!(positions(&list), [0, 1], "closed up");
    s.ok(
        "PUT",
        "/v1/groups/g/plugins/ad-filter",
        Some(json!({"config": {"language": "en"}})),
    )
    .await;
    let list = s.ok("GET", "/v1/groups/g/plugins", None).await;
    assert_eq!(
        names(&list),
        ["ad-filter", "daily-checkin", "welcome-ritual"],
        "back in its place"
    );
    assert_eq!(positions(&list), [0, 1, 2]);

    // Position 0 for another: it goes first, the rest move down.
    let moved = s
        .ok(
            "PUT",
            "/v1/groups/g/plugins/daily-checkin",
            Some(json!({"position": 0})),
        )
        .await;
    let list = s.ok("GET", "/v1/groups/g/plugins", None).await;
    assert_eq!(
        names(&list),
        ["daily-checkin", "ad-filter", "welcome-ritual"]
    );
    assert_eq!(positions(&list), [0, 1, 2]);
    let warned = moved["warnings"].to_string();
    assert!(
        warned.contains("ad-filter") && warned.contains("early"),
        "{moved}"
    );
    assert_eq!(list["warnings"], moved["warnings"]);

    let ordered = s
        .ok(
            "PUT",
            "/v1/groups/g/plugins/order",
            Some(json!({"plugins": ["ad-filter"]})),
        )
        .await;
    assert_eq!(
        names(&ordered),
        ["ad-filter", "daily-checkin", "welcome-ritual"]
    );
    assert_eq!(positions(&ordered), [0, 1, 2]);
    assert_eq!(ordered["warnings"], json!([]));
    let out = say(&s, "g", "m1", "amy", "hello", 1_790_000_000_000).await;
    assert_eq!(out["invocations"][0]["plugin"], "ad-filter", "{out}");
});

/// Accepts one HTTP request on a loopback port and hands back its body.
async fn webhook_receiver() -> (String, tokio::sync::oneshot::Receiver<Value>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut data = vec![];
        let mut buf = [0u8; 4096];
        loop {
            let n = conn.read(&mut buf).await.unwrap();
            data.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&data).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    conn.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .unwrap();
                    let _ = tx.send(serde_json::from_str(body).unwrap());
                    return;
                }
            }
            if n == 0 {
                return;
            }
        }
    });
    (url, rx)
}

on_both_databases!(
    operators_hear_when_a_plugin_is_switched_off,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        group_with(&s, "g", &[]).await;
        s.ok(
            "POST",
            "/v1/groups/g/members",
            Some(json!({"member": "ada", "role": "admin"})),
        )
        .await;
        s.install_test_plugin("hostile").await;
        s.ok(
            "PUT",
            "/v1/groups/g/plugins/hostile",
            Some(json!({"policy": {"disable_after": 2}})),
        )
        .await;
        s.kith.bootstrap_admin(ADMIN).await.unwrap();
        let op = s.operator_token(ADMIN, "ops", &["g"]).await;
        let (url, received) = webhook_receiver().await;
        let hook = format!("/v1/tokens/{}/webhook", op["id"].as_str().unwrap());
        let (st, v) = s
            .call_as(Some(ADMIN), "PUT", &hook, Some(json!({"url": url})))
            .await;
        assert_eq!(st, 204, "{v}");

        for i in 0..2 {
            let event = json!({"id": format!("p{i}"), "group": "g", "type": "message", "sender": "amy", "text": "panic", "at": 1_790_000_000_000i64});
            let (st, v) = s
                .call_as(Some(ADMIN), "POST", "/v1/events", Some(event))
                .await;
            assert_eq!(st, 200, "{v}");
        }
        let (_, outbox) = s
            .call_as(Some(ADMIN), "GET", "/v1/outbox?group=g", None)
            .await;
        let alerts: Vec<&Value> = outbox["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["action"] == "operator-alert")
            .collect();
        assert_eq!(alerts.len(), 1, "{outbox}");
        let alert = &alerts[0]["payload"];
        assert_eq!(alert["plugin"], "hostile");
        assert_eq!(alert["to"], json!(["owner", "ada"]), "{alert}");
        assert!(
            alert["reason"].as_str().unwrap().contains("2 failures"),
            "{alert}"
        );
        let posted = tokio::time::timeout(std::time::Duration::from_secs(10), received)
            .await
            .expect("the webhook was called")
            .unwrap();
        assert_eq!(posted["group"], "g");
        assert_eq!(posted["alert"]["plugin"], "hostile");
        let (_, audit) = s
            .call_as(Some(ADMIN), "GET", "/v1/groups/g/audit", None)
            .await;
        let last = &audit["entries"][0];
        assert_eq!(
            (last["action"].as_str(), last["actor"].as_str()),
            (Some("plugin.switched-off"), Some("kith")),
            "{audit}"
        );
    }
);

on_both_databases!(the_audit_log_says_who_did_what, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[("daily-checkin", json!({}))]).await;
    s.install("ad-filter").await;
    s.kith.bootstrap_admin(ADMIN).await.unwrap();
    let op = s.operator_token(ADMIN, "ops", &["g"]).await;
    let (op_id, op) = (op["id"].as_str().unwrap(), op["token"].as_str().unwrap());
    let steps = [
        (
            "PUT",
            "/v1/groups/g/plugins/ad-filter",
            json!({"config": {"language": "en"}}),
        ),
        (
            "PUT",
            "/v1/groups/g/plugins/daily-checkin",
            json!({"config": {"base_reward": 5}}),
        ),
        (
            "PUT",
            "/v1/groups/g/plugins/order",
            json!({"plugins": ["ad-filter"]}),
        ),
        ("PATCH", "/v1/groups/g", json!({"capacity": 200})),
        ("PUT", "/v1/groups/g/members/owner/tags/vip", json!(null)),
    ];
    for (method, path, body) in steps {
        let body = (!body.is_null()).then_some(body);
        let (st, v) = s.call_as(Some(op), method, path, body).await;
        assert!(st < 300, "{method} {path}: {st} {v}");
    }
    let (st, _) = s
        .call_as(Some(op), "DELETE", "/v1/groups/g/plugins/ad-filter", None)
        .await;
    assert_eq!(st, 204);
    let (st, audit) = s.call_as(Some(op), "GET", "/v1/groups/g/audit", None).await;
    assert_eq!(st, 200, "{audit}");
    let entries = audit["entries"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["subject"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("plugin.disable", "ad-filter"),
            ("member.tag", "owner"),
            ("group.update", "g"),
            ("plugin.order", "g"),
            ("plugin.configure", "daily-checkin"),
            ("plugin.enable", "ad-filter"),
            // Before tokens existed: the open API.
            ("plugin.enable", "daily-checkin"),
        ]
    );
    for e in &entries[..6] {
        assert_eq!(
            (e["actor"].as_str(), e["token_id"].as_str()),
            (Some("token"), Some(op_id)),
            "{e}"
        );
    }
    assert_eq!(entries[6]["actor"], "open-api");
    assert_eq!(entries[4]["detail"], json!({"config": {"base_reward": 5}}));
    assert_eq!(
        entries[3]["detail"]["order"],
        json!(["ad-filter", "daily-checkin"])
    );
    let (_, page) = s
        .call_as(
            Some(op),
            "GET",
            &format!("/v1/groups/g/audit?limit=2&before={}", entries[1]["id"]),
            None,
        )
        .await;
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    assert_eq!(page["entries"][0]["id"], entries[2]["id"]);
});

on_both_databases!(groups_are_archived_and_deleted, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let t = 1_790_000_000_000i64;
    group_with(&s, "g", &[("daily-checkin", json!({}))]).await;
    say(&s, "g", "m1", "amy", "/checkin", t).await;
    let archived = s.ok("POST", "/v1/groups/g/archive", None).await;
    assert!(archived["archived_at"].is_i64(), "{archived}");
    let event = json!({"id": "m2", "group": "g", "type": "message", "sender": "amy", "text": "/checkin", "at": t + 86_400_000});
    let (st, v) = s.call("POST", "/v1/events", Some(event.clone())).await;
    assert_eq!(st, 409, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("archived"),
        "{v}"
    );
    let (st, _) = s
        .call("PUT", "/v1/groups/g/plugins/daily-checkin", Some(json!({})))
        .await;
    assert_eq!(st, 409);
    let (st, _) = s
        .call("PATCH", "/v1/groups/g", Some(json!({"capacity": 10})))
        .await;
    assert_eq!(st, 409);
    // Read-only, not gone.
    assert_eq!(member(&s, "g", "amy").await["points"], 10);
    s.ok("POST", "/v1/groups/g/unarchive", None).await;
    s.ok("POST", "/v1/events", Some(event)).await;
    let points = member(&s, "g", "amy").await["points"].as_i64().unwrap();
    assert!(points > 10, "checked in again: {points}");

    // Delete: refused while it has children, then with all its data.
    s.ok(
        "POST",
        "/v1/groups",
        Some(json!({"id": "kid", "name": "kid", "parent": "g"})),
    )
    .await;
    let (st, v) = s.call("DELETE", "/v1/groups/g", None).await;
    assert_eq!(st, 409, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("kid"),
        "{v}"
    );
    let (st, _) = s.call("DELETE", "/v1/groups/kid", None).await;
    assert_eq!(st, 204);
    let (st, _) = s.call("DELETE", "/v1/groups/g", None).await;
    assert_eq!(st, 204);
    let (st, _) = s.call("GET", "/v1/groups/g", None).await;
    assert_eq!(st, 404);
    group_with(&s, "g", &[]).await;
    let (st, _) = s.call("GET", "/v1/groups/g/members/amy", None).await;
    assert_eq!(st, 404, "the old group's members went with it");
    assert!(
        s.outbox("g").await.iter().all(|a| a["plugin"].is_null()),
        "the old group's plugin posts went with it"
    );
    let (_, audit) = s.call("GET", "/v1/groups/g/audit", None).await;
    assert_eq!(audit["entries"], json!([]));
    s.assert_ledger_balances("g").await;
});
