//! What the web console reads beyond the older API: the overview of all
//! groups, a group's stats per day, config errors naming their fields, and
//! checking a plugin file without installing it.

use super::*;

const ADMIN: &str = "console-api-admin-secret-0123";

on_both_databases!(overview_stats_and_field_errors, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    s.install("daily-checkin").await;
    for (id, parent) in [("club", None), ("gz", Some("club"))] {
        let mut g = json!({"id": id, "name": id, "timezone": "Asia/Shanghai"});
        if let Some(p) = parent {
            g["parent"] = json!(p);
        }
        s.ok("POST", "/v1/groups", Some(g)).await;
    }

    // A value below the schema's minimum: 422, the field named in details.
    let (status, body) = s
        .call(
            "PUT",
            "/v1/groups/gz/plugins/daily-checkin",
            Some(json!({"config": {"base_reward": -5, "leaderboard_size": 0}})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let details = body["error"]["details"].as_array().expect("details");
    let paths: Vec<&str> = details
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/base_reward", "/leaderboard_size"], "{body}");
    assert!(
        details[0]["message"].as_str().unwrap().contains("minimum"),
        "{body}"
    );
    // The message is as before: each problem with where it was found.
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("config/base_reward: -5"), "{message}");
    // Other errors carry no details.
    let (status, body) = s.call("GET", "/v1/groups/nope", None).await;
    assert_eq!(status, 404);
    assert!(body["error"].get("details").is_none(), "{body}");

    s.ok(
        "PUT",
        "/v1/groups/gz/plugins/daily-checkin",
        Some(json!({"config": {"base_reward": 3}})),
    )
    .await;
    s.ok(
        "POST",
        "/v1/groups/gz/messages",
        Some(json!({"sender": "amy", "text": "签到"})),
    )
    .await;
    s.ok(
        "POST",
        "/v1/groups/gz/messages",
        Some(json!({"sender": "bob", "text": "hi"})),
    )
    .await;

    let stats = s.ok("GET", "/v1/groups/gz/stats?days=7", None).await;
    let days = stats["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    let today = &days[6];
    assert_eq!(today["messages"], 2, "{stats}");
    assert_eq!(today["checkins"], 1, "{stats}");
    assert_eq!(today["joins"], 2, "{stats}");
    assert_eq!(today["members"], 2, "{stats}");
    assert_eq!(days[5]["members"], 0, "nobody yet yesterday: {stats}");
    assert_eq!(stats["funnel"]["joined"], 2);
    assert_eq!(stats["funnel"]["active"], 2);
    assert_eq!(stats["timezone"], "Asia/Shanghai");
    let (status, _) = s.call("GET", "/v1/groups/gz/stats?days=0", None).await;
    assert_eq!(status, 400);
    let (status, _) = s.call("GET", "/v1/groups/nope/stats", None).await;
    assert_eq!(status, 404);

    let overview = s.ok("GET", "/v1/overview", None).await;
    let gz = overview["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "gz")
        .expect("gz in the overview")
        .clone();
    assert_eq!(gz["members"], 2);
    assert_eq!(gz["joins_week"], 2);
    assert_eq!(gz["parent"], "club");
    assert_eq!(gz["plugins"], json!(["daily-checkin"]));
    assert_eq!(gz["failing"], json!([]));
    assert!((gz["messages_per_day"].as_f64().unwrap() - 2.0 / 7.0).abs() < 1e-9);

    // An operator sees only its groups, in the overview and the stats.
    s.kith.bootstrap_admin(ADMIN).await.unwrap();
    let created = s.operator_token(ADMIN, "op", &["gz"]).await;
    let op = created["token"].as_str().unwrap();
    let (status, mine) = s.call_as(Some(op), "GET", "/v1/overview", None).await;
    assert_eq!(status, 200);
    assert_eq!(mine["groups"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["groups"][0]["id"], "gz");
    let (status, _) = s
        .call_as(Some(op), "GET", "/v1/groups/club/stats", None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = s
        .call_as(Some(op), "GET", "/v1/groups/gz/stats", None)
        .await;
    assert_eq!(status, 200);
});

async fn check(s: &TestServer, wasm: Vec<u8>) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/v1/plugin-checks"))
        .header("content-type", "application/wasm")
        .body(wasm)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_file_is_checked_without_installing_it() {
    let s = TestServer::start(Db::Sqlite).await.unwrap();
    let (status, report) = check(&s, plugin_file("daily-checkin")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["plugin"], "daily-checkin");
    assert_eq!(report["passed"], true, "{report}");
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.starts_with(&["world", "metadata", "config-defaults"]),
        "{names:?}"
    );
    assert!(names.contains(&"determinism"), "{names:?}");

    let (status, report) = check(&s, b"\0asm\x01\0\0\0".to_vec()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["passed"], false);
    assert_eq!(report["checks"][0]["name"], "world");
    assert_eq!(report["checks"][0]["passed"], false);

    let plugins = s.ok("GET", "/v1/plugins", None).await;
    assert_eq!(plugins["plugins"], json!([]), "nothing was installed");
    let (status, _) = s.call("POST", "/v1/plugin-checks", Some(json!({}))).await;
    assert_eq!(status, 415);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_with_its_policy() {
    let s = TestServer::start(Db::Sqlite).await.unwrap();
    // Public even once tokens exist: the page holds no data.
    s.kith.bootstrap_admin(ADMIN).await.unwrap();
    let r = s.http.get(s.url("/console/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("/console/app.js"));
    let r = s.http.get(s.url("/console/app.js")).send().await.unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let r = s.http.get(s.url("/console/nope.js")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = s.http.get(s.url("/console")).send().await.unwrap();
    assert_eq!(r.status(), 200, "redirected to /console/");
}
