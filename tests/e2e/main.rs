//! End to end: a real server on loopback, the real plugins built from
//! `plugins/`, on SQLite and on Postgres.

mod api;
mod checkin;
mod invite;
mod referral;
mod timers;
mod transactions;

pub use kith_tests::*;
pub use serde_json::{json, Value};

/// A group with an owner, and the named plugins installed and enabled.
pub async fn group_with(server: &TestServer, group: &str, plugins: &[(&str, Value)]) {
    server
        .ok(
            "POST",
            "/v1/groups",
            Some(
                json!({"id": group, "name": format!("group {group}"), "timezone": "Asia/Shanghai"}),
            ),
        )
        .await;
    server
        .ok(
            "POST",
            &format!("/v1/groups/{group}/members"),
            Some(json!({"member": "owner", "role": "owner"})),
        )
        .await;
    for (plugin, config) in plugins {
        if server
            .call("GET", &format!("/v1/plugins/{plugin}"), None)
            .await
            .0
            == 404
        {
            server.install(plugin).await;
        }
        server
            .ok(
                "PUT",
                &format!("/v1/groups/{group}/plugins/{plugin}"),
                Some(json!({"config": config})),
            )
            .await;
    }
}

/// Posts a message as an adapter event at a given time.
pub async fn say(
    server: &TestServer,
    group: &str,
    id: &str,
    sender: &str,
    text: &str,
    at: i64,
) -> Value {
    server
        .ok("POST", "/v1/events", Some(json!({"id": id, "group": group, "type": "message", "sender": sender, "text": text, "at": at})))
        .await
}

pub async fn member(server: &TestServer, group: &str, id: &str) -> Value {
    server
        .ok("GET", &format!("/v1/groups/{group}/members/{id}"), None)
        .await
}

pub async fn join(server: &TestServer, group: &str, body: Value) -> Value {
    let outcome = server
        .ok(
            "POST",
            &format!("/v1/groups/{group}/join-requests"),
            Some(body),
        )
        .await;
    outcome["join"].clone()
}
