//! A group's history, as replay needs it: every event recorded with its
//! true body (the host's own events too: timers, enables, operator
//! additions), and every invocation with the version that ran and the
//! effects it asked for.

use super::*;
use kith::dispatch::Clock;

const AT: i64 = 1_790_000_000_000;

on_both_databases!(
    events_and_invocations_are_recorded_as_they_were,
    |db| async move {
        let Some(db) = test_db(db).await else {
            return;
        };
        let clock = Clock::manual(AT);
        let s = TestServer::start_on(db, clock.clone()).await;
        let sha = s.install_test_plugin("sequence").await["sha256"].clone();
        group_with(&s, "g", &[("sequence", json!({"tick_ms": 1000}))]).await;
        s.ok(
            "POST",
            "/v1/groups/g/members",
            Some(json!({"member": "amy", "role": "admin"})),
        )
        .await;
        say(&s, "g", "m1", "amy", "seq:1", AT).await;
        clock.advance(1_000);
        s.kith.fire_due_timers().await.unwrap();

        let events = s.ok("GET", "/v1/groups/g/events?limit=100", None).await["events"].clone();
        let of_kind = |kind: &str| -> Value {
            events
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["kind"] == kind)
                .unwrap_or_else(|| panic!("no {kind} event in {events}"))["body"]
                .clone()
        };
        assert_eq!(
            of_kind("enabled"),
            json!({"type": "enabled", "plugin": "sequence"})
        );
        let amy_added = events.as_array().unwrap().iter().any(|e| {
            e["kind"] == "operator_add"
                && e["body"]["member"] == "amy"
                && e["body"]["role"] == "admin"
        });
        assert!(
            amy_added,
            "the operator's addition, with the role: {events}"
        );
        assert_eq!(of_kind("message")["text"], "seq:1");
        let timer = of_kind("timer");
        assert_eq!(timer["type"], "timer");
        assert_eq!(
            (timer["plugin"].clone(), timer["name"].clone()),
            (json!("sequence"), json!("tick"))
        );
        assert_eq!(timer["due_at"], AT + 1_000);

        let invocations =
            s.ok("GET", "/v1/groups/g/invocations", None).await["invocations"].clone();
        let on_message = invocations
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["handler"] == "on-message" && i["event_id"] == "m1")
            .expect("the message's invocation")
            .clone();
        assert_eq!(on_message["sha256"], sha, "the version that ran");
        let effects = on_message["effects"].to_string();
        assert!(
            effects.contains("storage_set") && effects.contains("ack:1"),
            "{effects}"
        );
    }
);
