//! Plugin versions side by side: installing a new version changes no
//! group; an upgrade checks the world, the config and the grant, keeps
//! storage and runs `on-enabled` again; a rollback is one call; a version
//! in use cannot be uninstalled. The test plugin "versioned" comes in three
//! builds (tests/plugins/versioned).

use super::*;

const AT: i64 = 1_790_000_000_000;

async fn hello(s: &TestServer, group: &str, id: &str) -> String {
    say(s, group, id, "amy", "/hello", AT).await;
    s.posted(group).await.pop().unwrap()
}

/// Group `g` with version 1 of "versioned" enabled (`config`) and a
/// member, amy.
pub(crate) async fn versioned_in_g(s: &TestServer, config: Value) {
    s.install_test_plugin("versioned").await;
    group_with(s, "g", &[("versioned", config)]).await;
    s.ok(
        "POST",
        "/v1/groups/g/members",
        Some(json!({"member": "amy"})),
    )
    .await;
}

fn sha_of(installed: &Value) -> String {
    installed["sha256"].as_str().unwrap().to_string()
}

on_both_databases!(
    versions_side_by_side_upgrade_and_rollback,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        let v1 = sha_of(&s.install_test_plugin("versioned").await);
        for g in ["g", "g2"] {
            group_with(&s, g, &[("versioned", json!({"greeting": "hi"}))]).await;
            s.ok(
                "POST",
                &format!("/v1/groups/{g}/members"),
                Some(json!({"member": "amy"})),
            )
            .await;
        }
        assert_eq!(hello(&s, "g", "e1").await, "v1: hi #1");

        // A new version is installed beside the first; the groups keep theirs.
        let v2 = sha_of(&s.install_test_plugin("versioned-2").await);
        let versions =
            s.ok("GET", "/v1/plugins/versioned/versions", None).await["versions"].clone();
        assert_eq!(versions.as_array().unwrap().len(), 2, "{versions}");
        assert_eq!(versions[0]["sha256"], v2.as_str());
        assert_eq!(versions[0]["latest"], true);
        assert_eq!(versions[1]["enabled_on"], json!(["g", "g2"]));
        assert_eq!(hello(&s, "g", "e2").await, "v1: hi #2", "still version 1");

        // The current config does not fit version 2's schema: refused, unchanged.
        let upgrade = "/v1/groups/g/plugins/versioned/upgrade";
        let (status, body) = s.call("POST", upgrade, Some(json!({}))).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("threshold"), "{body}");

        let config = json!({"greeting": "hi", "threshold": 2, "language": "en"});
        let done = s
            .ok("POST", upgrade, Some(json!({ "config": config })))
            .await;
        assert_eq!(done["from"]["sha256"], v1.as_str());
        assert_eq!(done["to"]["version"], "2.0.0");
        assert_eq!(done["capabilities"]["added"], json!(["ledger"]));
        assert_eq!(
            done["capabilities"]["not_granted"],
            json!(["ledger"]),
            "granted only on request"
        );
        assert_eq!(
            s.posted("g").await.last().unwrap(),
            "enabled 2.0.0",
            "on-enabled ran again"
        );
        assert_eq!(
            hello(&s, "g", "e3").await,
            "v2: hi #3",
            "its storage was kept"
        );
        let (status, _) = s.call("POST", upgrade, Some(json!({}))).await;
        assert_eq!(status, 409, "already on the latest");

        // A dry run changes nothing; a grant must be declared by the new version.
        let dry = json!({"config": config, "grant": ["ledger"], "dry_run": true});
        let plan = s
            .ok("POST", "/v1/groups/g2/plugins/versioned/upgrade", Some(dry))
            .await;
        assert!(plan["capabilities"]["granted"]
            .as_array()
            .unwrap()
            .contains(&json!("ledger")));
        let g2 = s.ok("GET", "/v1/groups/g2/plugins/versioned", None).await;
        assert_eq!(g2["sha256"], v1.as_str(), "a dry run changes nothing");

        // Rollback: the version, config and grant of before, in one call.
        let back = s
            .ok("POST", "/v1/groups/g/plugins/versioned/rollback", None)
            .await;
        assert_eq!(back["to"]["sha256"], v1.as_str());
        assert_eq!(back["enablement"]["config"]["greeting"], "hi");
        assert!(back["enablement"]["config"].get("threshold").is_none());
        assert_eq!(hello(&s, "g", "e4").await, "v1: hi #4");

        // A version in use cannot be uninstalled; the refusal names the groups.
        let (status, body) = s
            .call(
                "DELETE",
                &format!("/v1/plugins/versioned/versions/{v1}"),
                None,
            )
            .await;
        assert_eq!(status, 409, "{body}");
        assert!(body.to_string().contains("g, g2"), "{body}");

        // Another world is refused.
        s.install_test_plugin("versioned-gate").await;
        let to_gate = json!({"to": "3.0.0", "config": config});
        let (status, body) = s.call("POST", upgrade, Some(to_gate)).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("change of world"), "{body}");

        // All groups at once: all-or-nothing, the refusal names each group.
        let all = "/v1/plugins/versioned/upgrade";
        let only_g2 = json!({"to": "2.0.0", "configs": {"g2": config}});
        let (status, body) = s.call("POST", all, Some(only_g2)).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("g: config"), "{body}");
        let g2 = s.ok("GET", "/v1/groups/g2/plugins/versioned", None).await;
        assert_eq!(g2["sha256"], v1.as_str(), "nothing changed");
        let both = json!({"to": v2, "configs": {"g": config, "g2": config}});
        let report = s.ok("POST", all, Some(both)).await;
        assert_eq!(report["upgraded"].as_array().unwrap().len(), 2, "{report}");
        assert_eq!(hello(&s, "g2", "e5").await, "v2: hi #1");

        // The gate build runs nowhere: it goes. Version 1 is still a rollback target.
        s.ok("DELETE", "/v1/plugins/versioned/versions/3.0.0", None)
            .await;
        let (status, body) = s.call("DELETE", "/v1/plugins/versioned", None).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.to_string().contains("rollback target"), "{body}");
        let versions =
            s.ok("GET", "/v1/plugins/versioned/versions", None).await["versions"].clone();
        assert_eq!(versions.as_array().unwrap().len(), 2);
    }
);

on_both_databases!(a_reenabled_plugin_keeps_its_version, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    versioned_in_g(&s, json!({})).await;
    s.install_test_plugin("versioned-2").await;
    // Reconfiguring keeps version 1 (whose schema needs no threshold).
    s.ok(
        "PUT",
        "/v1/groups/g/plugins/versioned",
        Some(json!({"config": {"greeting": "yo"}})),
    )
    .await;
    assert_eq!(hello(&s, "g", "e1").await, "v1: yo #1");
    // A plugin disabled and enabled again starts on the latest.
    s.ok("DELETE", "/v1/groups/g/plugins/versioned", None).await;
    let config = json!({"config": {"greeting": "yo", "threshold": 1}});
    s.ok("PUT", "/v1/groups/g/plugins/versioned", Some(config))
        .await;
    assert_eq!(hello(&s, "g", "e2").await, "v2: yo #2");
});

/// Posts a candidate file to the group's replay endpoint.
async fn replay(s: &TestServer, group: &str, file: &str, query: &str) -> (u16, Value) {
    let path = workspace_root().join(format!("target/test-plugins/{file}.wasm"));
    let response = s
        .http
        .post(s.url(&format!("/v1/groups/{group}/replay{query}")))
        .header("content-type", "application/wasm")
        .body(std::fs::read(path).unwrap())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

on_both_databases!(
    a_replay_reports_where_a_candidate_differs,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        versioned_in_g(&s, json!({"greeting": "hi"})).await;
        hello(&s, "g", "e1").await;
        say(&s, "g", "e2", "amy", "hey", AT).await;
        hello(&s, "g", "e3").await;

        // The version that runs, replayed: nothing differs.
        let (status, same) = replay(&s, "g", "versioned", "").await;
        assert_eq!(status, 200, "{same}");
        assert_eq!(same["differing"], 0, "{same}");
        assert!(
            same["compared"].as_u64().unwrap() >= 4,
            "enable and three messages: {same}"
        );
        assert_eq!(same["totals"]["post"], json!([3, 3]), "{same}");

        // Version 2 needs a threshold: without a config that fits, a 422.
        let (status, body) = replay(&s, "g", "versioned-2", "").await;
        assert_eq!(status, 422, "{body}");
        let config = "?config=%7B%22greeting%22%3A%22hi%22%2C%22threshold%22%3A1%7D";
        let (status, diff) = replay(&s, "g", "versioned-2", config).await;
        assert_eq!(status, 200, "{diff}");
        assert_eq!(diff["differing"], 3, "on-enabled and two hellos: {diff}");
        let text = diff["diffs"].to_string();
        assert!(
            text.contains("v1: hi #1") && text.contains("v2: hi #1"),
            "{text}"
        );
        assert_eq!(diff["candidate_version"], "2.0.0");
        // Nothing of the replay is left in the group.
        assert_eq!(s.posted("g").await.len(), 3);

        // A plugin not enabled on the group.
        s.install_test_plugin("sequence").await;
        let (status, body) = replay(&s, "g", "sequence", "").await;
        assert_eq!(status, 404, "{body}");
    }
);

on_both_databases!(
    a_version_in_shadow_sees_live_events_and_changes_nothing,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        versioned_in_g(&s, json!({"greeting": "hi"})).await;
        let v2 = sha_of(&s.install_test_plugin("versioned-2").await);
        let shadow = "/v1/groups/g/plugins/versioned/shadow";
        let (status, body) = s.call("PUT", shadow, Some(json!({}))).await;
        assert_eq!(status, 422, "version 2 needs a threshold: {body}");
        let config = json!({"greeting": "hi", "threshold": 1});
        let started = s.ok("PUT", shadow, Some(json!({ "config": config }))).await;
        assert_eq!(started["runs"], 0);
        assert_eq!(started["version"], "2.0.0");

        // Live events: version 1 acts, version 2 is recorded beside it.
        assert_eq!(hello(&s, "g", "e1").await, "v1: hi #1");
        say(&s, "g", "e2", "amy", "hey", AT).await;
        assert_eq!(
            hello(&s, "g", "e3").await,
            "v1: hi #2",
            "the shadow's storage writes are not kept"
        );
        let report = s.ok("GET", shadow, None).await;
        assert_eq!(report["runs"], 3, "{report}");
        assert_eq!(
            report["differing"], 2,
            "the hellos differ, the plain message not: {report}"
        );
        let newest = &report["diffs"][0];
        assert_eq!(newest["event_id"], "e3");
        assert!(
            newest["shadow"].to_string().contains("v2: hi #2"),
            "{newest}"
        );
        assert!(newest["live"].to_string().contains("v1: hi #2"), "{newest}");
        let versions = s.ok("GET", "/v1/plugins/versioned/versions", None).await;
        assert_eq!(versions["versions"][0]["shadow_on"], json!(["g"]));

        // Promoting it is an upgrade, with its config; the shadow ends.
        let promoted = s.ok("POST", &format!("{shadow}/promote"), None).await;
        assert_eq!(promoted["to"]["sha256"], v2.as_str());
        assert_eq!(hello(&s, "g", "e4").await, "v2: hi #3");
        assert_eq!(s.call("GET", shadow, None).await.0, 404);
    }
);
