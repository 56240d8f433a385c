//! Contract versions: a plugin binary built against kith:plugin@0.1.0 years
//! ago (kept in tests/fixtures, never rebuilt) and a 0.2.0 plugin run in
//! one group; what 0.2.0 added (one `handle` export, cursors, active-since)
//! works through a real server.

use super::*;

const AT: i64 = 1_790_000_000_000;

on_both_databases!(
    a_0_1_0_binary_and_a_0_2_0_plugin_in_one_group,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        let old = s.install_fixture("contract-0.1.0/daily-checkin.wasm").await;
        assert_eq!(old["metadata"]["name"], "daily-checkin");
        s.install_test_plugin("contract-v2").await;
        group_with(
            &s,
            "g",
            &[
                ("daily-checkin", json!({"base_reward": 10})),
                ("contract-v2", json!({})),
            ],
        )
        .await;

        // 0.2.0's `done` to a join request admits; its decision still decides.
        assert_eq!(
            join(&s, "g", json!({"member": "amy"})).await["status"],
            "admitted"
        );
        let bot = join(&s, "g", json!({"member": "b1", "display_name": "bot 1"})).await;
        assert_eq!(bot["status"], "rejected", "{bot}");

        // The 0.1.0 binary runs as it always did.
        say(&s, "g", "m1", "amy", "签到", AT).await;
        assert_eq!(member(&s, "g", "amy").await["points"], 10);

        // Cursors: every key and message, read two at a time.
        s.ok(
            "POST",
            "/v1/groups/g/members",
            Some(json!({"member": "bob"})),
        )
        .await;
        for (i, key) in ["c", "a", "e", "b", "d"].iter().enumerate() {
            say(
                &s,
                "g",
                &format!("k{i}"),
                "bob",
                &format!("set:{key}"),
                AT + 1 + i as i64,
            )
            .await;
        }
        say(&s, "g", "q1", "amy", "keys", AT + 10).await;
        say(&s, "g", "q2", "amy", "history", AT + 11).await;
        say(&s, "g", "q3", "amy", "active", AT + 12).await;
        let texts = s.posted("g").await;
        let last3 = &texts[texts.len() - 3..];
        assert_eq!(last3[0], "keys:a,b,c,d,e");
        // Newest first (the message being handled is not stored yet);
        // plugin posts are messages too: only the adapter's (`m-<event>`)
        // are compared.
        let history: Vec<&str> = last3[1]["history:".len()..]
            .split(',')
            .filter_map(|id| id.strip_prefix("m-"))
            .collect();
        assert_eq!(
            history,
            ["q1", "k4", "k3", "k2", "k1", "k0", "m1"],
            "{}",
            last3[1]
        );
        assert_eq!(last3[2], "active:amy,bob", "the bot never got in");

        // A refund request checks the payment and queues an outbox action;
        // no money moves until the adapter reports the refund.
        let paid = json!({"id": "pay", "group": "g", "type": "payment", "payment_id": "p-9",
            "member": "amy", "amount": 100, "currency": "CNY", "status": "succeeded",
            "purpose": "tip", "at": AT + 20});
        s.ok("POST", "/v1/events", Some(paid)).await;
        for (i, ask) in [
            "refund:nope:1",
            "refund:p-9:101",
            "refund:p-9:0",
            "refund:p-9:100",
        ]
        .iter()
        .enumerate()
        {
            say(&s, "g", &format!("r{i}"), "amy", ask, AT + 21 + i as i64).await;
        }
        let texts = s.posted("g").await;
        assert_eq!(
            texts[texts.len() - 4..],
            [
                "refund:not-found",
                "refund:invalid",
                "refund:invalid",
                "refund:ok"
            ]
        );
        let refunds = s.actions("g", "refund").await;
        assert_eq!(refunds.len(), 1, "{refunds:?}");
        assert_eq!(
            (
                &refunds[0]["payment_id"],
                &refunds[0]["member"],
                &refunds[0]["amount"]
            ),
            (&json!("p-9"), &json!("amy"), &json!(100))
        );
        assert_eq!(
            member(&s, "g", "amy").await["points"],
            10,
            "points untouched"
        );
        let wallet = s
            .ok("GET", "/v1/groups/g/ledger/member:amy?asset=money", None)
            .await;
        assert_eq!(wallet["balance"], 100, "{wallet}");
    }
);
