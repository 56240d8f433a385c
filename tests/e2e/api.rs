//! The API's contract: clear 4xx errors, idempotent events, enablement
//! without a restart, the OpenAPI document.

use super::*;

on_both_databases!(bad_input_gets_clear_errors, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or("").to_string();

    let raw = s
        .http
        .post(s.url("/v1/groups"))
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert!(raw.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("EOF"));
    let no_type = s
        .http
        .post(s.url("/v1/groups"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(no_type.status(), 415);

    let (st, v) = s
        .call("POST", "/v1/groups", Some(json!({"name": "x", "bogus": 1})))
        .await;
    assert_eq!((st, code(&v)), (422, "unprocessable".into()), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("bogus"));
    let (st, v) = s
        .call(
            "POST",
            "/v1/groups",
            Some(json!({"id": "bad id!", "name": "x"})),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = s
        .call(
            "POST",
            "/v1/groups",
            Some(json!({"name": "x", "timezone": "Mars/Olympus"})),
        )
        .await;
    assert!(
        st == 400
            && v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Mars/Olympus"),
        "{v}"
    );
    let (st, _) = s.call("GET", "/v1/groups/nope", None).await;
    assert_eq!(st, 404);
    let (st, _) = s.call("GET", "/v1/nowhere", None).await;
    assert_eq!(st, 404);
    s.ok("POST", "/v1/groups", Some(json!({"id": "g", "name": "G"})))
        .await;
    let (st, v) = s
        .call("POST", "/v1/groups", Some(json!({"id": "g", "name": "G"})))
        .await;
    assert_eq!((st, code(&v)), (409, "conflict".into()));
    let (st, v) = s.call("GET", "/v1/groups/g/members?role=boss", None).await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = s
        .call(
            "POST",
            "/v1/events",
            Some(json!({"id": "e", "group": "g", "type": "teleport"})),
        )
        .await;
    assert_eq!(st, 422, "{v}");
    let (st, v) = s.call("POST", "/v1/events", Some(json!({"id": "e", "group": "g", "type": "payment", "payment_id": "p", "member": "nobody", "amount": 100, "status": "succeeded"}))).await;
    assert_eq!(st, 422, "{v}");

    // Plugin uploads: not wasm, wrong media type, a module without a world.
    let up = |body: Vec<u8>, ct: &'static str| {
        s.http
            .post(s.url("/v1/plugins"))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let r = up(b"hello".to_vec(), "application/wasm").await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a WebAssembly file"));
    let r = up(plugin_file("daily-checkin"), "text/plain")
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let empty_module = b"\0asm\x01\0\0\0".to_vec();
    let r = up(empty_module, "application/wasm").await.unwrap();
    assert_eq!(r.status(), 422);

    // Built from source: a module of no kith world, an invalid config schema.
    let broken = |name: &str| {
        std::fs::read(workspace_root().join(format!("target/test-plugins/{name}.wasm"))).unwrap()
    };
    let r = up(broken("no-world"), "application/wasm").await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("exports none of kith:plugin"));
    let r = up(broken("bad-schema"), "application/wasm").await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a valid JSON Schema"));
    assert_eq!(
        s.call("GET", "/v1/plugins/bad-schema", None).await.0,
        404,
        "nothing was installed"
    );

    // A config that breaks the plugin's schema names the field.
    s.install("daily-checkin").await;
    let (st, v) = s
        .call(
            "PUT",
            "/v1/groups/g/plugins/daily-checkin",
            Some(json!({"config": {"language": "en", "base_reward": -5}})),
        )
        .await;
    assert_eq!(st, 422);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("base_reward"),
        "{v}"
    );
    let (st, v) = s
        .call(
            "PUT",
            "/v1/groups/g/plugins/daily-checkin",
            Some(json!({"config": {"language": "en", "colour": "red"}})),
        )
        .await;
    assert_eq!(st, 422, "{v}");
    let (st, v) = s
        .call(
            "PUT",
            "/v1/groups/g/plugins/daily-checkin",
            Some(json!({"capabilities": ["manage-members"]})),
        )
        .await;
    assert_eq!(st, 422, "{v}");
    let (st, _) = s
        .call("PUT", "/v1/groups/g/plugins/nope", Some(json!({})))
        .await;
    assert_eq!(st, 404);
});

on_both_databases!(events_are_processed_once, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    group_with(&s, "g", &[("daily-checkin", json!({}))]).await;
    let event = json!({"id": "same", "group": "g", "type": "message", "sender": "amy", "text": "/checkin", "at": 1_790_000_000_000i64});
    let first = s.ok("POST", "/v1/events", Some(event.clone())).await;
    assert_eq!(first["duplicate"], false);
    let again = s.ok("POST", "/v1/events", Some(event)).await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["message_id"], first["message_id"]);
    assert_eq!(member(&s, "g", "amy").await["points"], 10, "rewarded once");
    let msgs = s.ok("GET", "/v1/groups/g/messages", None).await;
    assert_eq!(
        msgs["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["sender"] == "amy")
            .count(),
        1
    );

    // The adapter acknowledges what it delivered; it is not offered again.
    let actions = s.outbox("g").await;
    let ids: Vec<i64> = actions.iter().map(|a| a["id"].as_i64().unwrap()).collect();
    let acked = s
        .ok("POST", "/v1/outbox/ack", Some(json!({"ids": ids})))
        .await;
    assert_eq!(acked["acknowledged"], ids.len());
    assert!(s.outbox("g").await.is_empty());

    // Another event naming a message id the group already has is refused
    // whole: the check-in its plugin made is not kept.
    let taken = first["message_id"].clone();
    let clash = json!({"id": "other", "group": "g", "type": "message", "sender": "bob",
        "text": "/checkin", "message_id": taken, "at": 1_790_000_000_000i64});
    let (st, v) = s.call("POST", "/v1/events", Some(clash.clone())).await;
    assert_eq!(
        (st, v["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{v}"
    );
    let (st, _) = s.call("GET", "/v1/groups/g/members/bob", None).await;
    assert_eq!(
        st, 404,
        "bob's first message was refused, so he is not registered"
    );
    assert!(s.outbox("g").await.is_empty(), "no check-in reply was kept");
    // Corrected, the same event id goes through.
    let mut fixed = clash;
    fixed["message_id"] = json!("m-bob-1");
    assert_eq!(
        s.ok("POST", "/v1/events", Some(fixed)).await["duplicate"],
        false
    );
    assert_eq!(member(&s, "g", "bob").await["points"], 10);

    // A retry that would now be refused (bob has left since the first
    // attempt) still gets the first attempt's outcome.
    let left = json!({"id": "left-1", "group": "g", "type": "member_left", "member": "bob"});
    assert_eq!(
        s.ok("POST", "/v1/events", Some(left.clone())).await["duplicate"],
        false
    );
    assert_eq!(
        s.ok("POST", "/v1/events", Some(left)).await["duplicate"],
        true
    );
    let (st, _) = s
        .call(
            "POST",
            "/v1/events",
            Some(json!({"id": "left-2", "group": "g", "type": "member_left", "member": "bob"})),
        )
        .await;
    assert_eq!(st, 422, "a new event for a member who has left is refused");
});

on_both_databases!(
    plugins_switch_without_restart_and_keep_order,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        group_with(
            &s,
            "g",
            &[
                ("daily-checkin", json!({})),
                ("referral-fission", json!({})),
            ],
        )
        .await;
        group_with(&s, "other", &[]).await;
        let names = |v: Value| {
            v["plugins"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["plugin"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(s.ok("GET", "/v1/groups/g/plugins", None).await),
            ["daily-checkin", "referral-fission"]
        );
        let reordered = s
            .ok(
                "PUT",
                "/v1/groups/g/plugins/order",
                Some(json!({"plugins": ["referral-fission"]})),
            )
            .await;
        assert_eq!(names(reordered), ["referral-fission", "daily-checkin"]);
        let amy = json!({"member": "amy"});
        s.ok("POST", "/v1/groups/g/members", Some(amy)).await;
        let out = say(&s, "g", "m1", "amy", "/checkin", 1_790_000_000_000).await;
        let ran: Vec<&str> = out["invocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["plugin"].as_str().unwrap())
            .collect();
        assert_eq!(ran, ["referral-fission", "daily-checkin"]);

        // A plugin acts only where it is enabled.
        say(&s, "other", "m2", "amy", "/checkin", 1_790_000_000_000).await;
        assert_eq!(member(&s, "other", "amy").await["points"], 0);

        s.ok("DELETE", "/v1/groups/g/plugins/daily-checkin", None)
            .await;
        let bob = json!({"member": "bob"});
        s.ok("POST", "/v1/groups/g/members", Some(bob)).await;
        let out = say(&s, "g", "m3", "bob", "/checkin", 1_790_000_000_000).await;
        assert_eq!(out["invocations"].as_array().unwrap().len(), 1);
        assert_eq!(member(&s, "g", "bob").await["points"], 0);
    }
);

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    let doc = s.ok("GET", "/openapi.json", None).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/groups",
        "/v1/events",
        "/v1/outbox",
        "/v1/plugins",
        "/v1/groups/{group}/plugins/{name}",
        "/v1/groups/{group}/join-requests",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from /openapi.json"
        );
    }
    assert_eq!(s.ok("GET", "/healthz", None).await["status"], "ok");
}

on_both_databases!(
    integer_configs_given_as_floats_are_stored_as_integers,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        s.install_test_plugin("versioned-2").await;
        s.ok("POST", "/v1/groups", Some(json!({"id": "g", "name": "g"})))
            .await;
        let path = "/v1/groups/g/plugins/versioned";
        let (status, body) = s
            .call("PUT", path, Some(json!({"config": {"threshold": 2.5}})))
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("threshold"), "{body}");
        s.ok("PUT", path, Some(json!({"config": {"threshold": 2.0}})))
            .await;
        let stored = s.ok("GET", path, None).await["config"]["threshold"].clone();
        assert!(stored.is_i64(), "stored as an integer, not {stored}");
        assert_eq!(stored, 2);
    }
);
