//! The store's contract, run against SQLite and Postgres alike.

use kith::domain::*;
use kith::store::{MemberFilter, Store, StoreError, Timer, Transfer};
use kith_tests::*;

async fn store(db: Db) -> Option<(Store, TestDb)> {
    let t = test_db(db).await?;
    let s = Store::connect(&t.url).await.expect("connect and migrate");
    Some((s, t))
}

fn group(id: &str, parent: Option<&str>) -> Group {
    Group {
        id: id.into(),
        name: format!("Group {id}"),
        positioning: "photography".into(),
        category: "interest".into(),
        region: Some("Guangzhou".into()),
        capacity: 200,
        parent: parent.map(Into::into),
        timezone: "Asia/Shanghai".into(),
        settings: serde_json::json!({"rules": "be kind"}),
        created_at: 1,
        archived_at: None,
    }
}

fn active(group: &str, id: &str, role: Role, last_active: Option<i64>) -> Member {
    Member {
        role,
        status: MemberStatus::Active,
        joined_at: Some(10),
        last_active_at: last_active,
        ..Member::new(group, id, id)
    }
}

on_both_databases!(groups_and_members, |db| async move {
    let Some((s, _t)) = store(db).await else {
        return;
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_group(&group("club", None)).await.unwrap();
    tx.insert_group(&group("gz", Some("club"))).await.unwrap();
    tx.insert_group(&group("sz", Some("club"))).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.begin().await.unwrap();
    assert!(matches!(
        tx.insert_group(&group("gz", None)).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);

    assert_eq!(s.get_group("gz").await.unwrap(), group("gz", Some("club")));
    assert!(matches!(
        s.get_group("nope").await,
        Err(StoreError::NotFound(_))
    ));
    let siblings: Vec<String> = s
        .siblings(&group("gz", Some("club")))
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.id)
        .collect();
    assert_eq!(siblings, ["sz"]);

    let mut tx = s.begin().await.unwrap();
    tx.upsert_member(&active("gz", "ann", Role::Owner, Some(1_000)))
        .await
        .unwrap();
    tx.upsert_member(&active("gz", "bob", Role::Member, Some(5_000)))
        .await
        .unwrap();
    tx.upsert_member(&active("gz", "cat", Role::Member, None))
        .await
        .unwrap();
    tx.upsert_member(&Member::new("gz", "dan", "Dan"))
        .await
        .unwrap();
    tx.set_tag("gz", "bob", "bought", true).await.unwrap();
    tx.set_tag("gz", "bob", "bought", true).await.unwrap();
    tx.transfer(Transfer {
        group: "gz",
        id: "t1",
        from: &Account::Issuer,
        to: &Account::Member("bob".into()),
        asset: Asset::Points,
        amount: 30,
        memo: "hi",
        plugin: None,
        at: 5,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let bob = s.get_member("gz", "bob").await.unwrap().unwrap();
    assert_eq!(
        (bob.points, bob.tags.clone()),
        (30, vec!["bought".to_string()])
    );
    let counts = s.counts("gz").await.unwrap();
    assert_eq!((counts.active, counts.pending), (3, 1));
    let ids = |v: Vec<Member>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    let by = |f: MemberFilter| {
        let s = s.clone();
        async move { ids(s.list_members("gz", &f).await.unwrap()) }
    };
    assert_eq!(
        by(MemberFilter {
            tag: Some("bought".into()),
            ..Default::default()
        })
        .await,
        ["bob"]
    );
    assert_eq!(
        by(MemberFilter {
            role: Some(Role::Owner),
            ..Default::default()
        })
        .await,
        ["ann"]
    );
    assert_eq!(
        by(MemberFilter {
            status: Some(MemberStatus::Pending),
            ..Default::default()
        })
        .await,
        ["dan"]
    );
    // Silent since 2 000: ann (1 000) and cat (never spoke; joined at 10).
    let mut silent = by(MemberFilter {
        inactive_since: Some(2_000),
        status: Some(MemberStatus::Active),
        ..Default::default()
    })
    .await;
    silent.sort();
    assert_eq!(silent, ["ann", "cat"]);
    assert_eq!(
        by(MemberFilter {
            limit: 2,
            ..Default::default()
        })
        .await
        .len(),
        2
    );
});

on_both_databases!(ledger_never_creates_or_loses_value, |db| async move {
    let Some((s, _t)) = store(db).await else {
        return;
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_group(&group("g", None)).await.unwrap();
    let (a, b) = (Account::Member("a".into()), Account::Member("b".into()));
    let pay = Transfer {
        group: "g",
        id: "t1",
        from: &Account::External,
        to: &a,
        asset: Asset::Money,
        amount: 500,
        memo: "pay",
        plugin: None,
        at: 1,
    };
    tx.transfer(pay).await.unwrap();
    let gift = Transfer {
        id: "t2",
        from: &a,
        to: &b,
        amount: 200,
        memo: "gift",
        at: 2,
        ..pay
    };
    tx.transfer(gift).await.unwrap();
    let over = tx
        .transfer(Transfer {
            id: "t3",
            from: &b,
            to: &a,
            amount: 201,
            memo: "too much",
            at: 3,
            ..pay
        })
        .await;
    assert!(
        matches!(over, Err(StoreError::InsufficientFunds(_))),
        "{over:?}"
    );
    let nothing = Transfer {
        id: "t4",
        amount: 0,
        memo: "",
        at: 3,
        ..gift
    };
    // The caller's mistake (a 422), not a fault of the store (a 500).
    let refused = tx.transfer(nothing).await.unwrap_err();
    assert!(matches!(
        kith::dispatch::ServiceError::from(refused),
        kith::dispatch::ServiceError::Unprocessable(_)
    ));
    tx.commit().await.unwrap();
    assert_eq!(s.balance("g", "member:a", Asset::Money).await.unwrap(), 300);
    assert_eq!(s.balance("g", "member:b", Asset::Money).await.unwrap(), 200);
    assert_eq!(s.balance("g", "member:b", Asset::Points).await.unwrap(), 0);
    assert_eq!(s.ledger_sum("g", Asset::Money).await.unwrap(), 0);
    let history = s
        .ledger_history("g", "member:a", Asset::Money, 10)
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|e| e.amount).collect::<Vec<_>>(),
        [-200, 500]
    );
});

on_both_databases!(events_storage_timers_outbox, |db| async move {
    let Some((s, _t)) = store(db).await else {
        return;
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_group(&group("g", None)).await.unwrap();
    let outcome = serde_json::json!({"ok": true});
    assert!(tx
        .insert_event("e1", "g", "message", "{}", &outcome, 1, 1)
        .await
        .unwrap());
    assert!(
        !tx.insert_event("e1", "g", "message", "{}", &outcome, 1, 1)
            .await
            .unwrap(),
        "an event id is claimed once"
    );
    for key in ["user:b", "user:a", "other", "user:c"] {
        tx.storage_set("p", "g", key, key.as_bytes()).await.unwrap();
    }
    tx.storage_set("p2", "g", "user:z", b"elsewhere")
        .await
        .unwrap();
    tx.storage_delete("p", "g", "user:c").await.unwrap();
    let timer = Timer {
        plugin: "p".into(),
        group: "g".into(),
        name: "daily".into(),
        due_at: 100,
        period_ms: Some(50),
        payload: "x".into(),
    };
    tx.set_timer(&timer).await.unwrap();
    tx.set_timer(&Timer {
        name: "later".into(),
        due_at: 1_000,
        period_ms: None,
        ..timer.clone()
    })
    .await
    .unwrap();
    tx.push_outbox(
        "g",
        "post",
        &serde_json::json!({"text": "hi"}),
        Some("p"),
        5,
    )
    .await
    .unwrap();
    tx.push_outbox("g", "direct", &serde_json::json!({"text": "psst"}), None, 6)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Timers fire only for plugins enabled and not switched off.
    let meta = PluginMetadata {
        name: "p".into(),
        version: "1".into(),
        kind: PluginKind::ActivityGame,
        description: String::new(),
        config_schema: serde_json::json!({"type": "object"}),
        capabilities: vec![],
    };
    let mut enablement = kith::store::Enablement {
        group: "g".into(),
        plugin: "p".into(),
        position: 0,
        config: serde_json::json!({}),
        capabilities: vec![],
        limits: Limits::default(),
        enabled_at: 1,
        consecutive_failures: 0,
        last_error: None,
        policy: FailurePolicy::default(),
        disabled_reason: Some("off".into()),
        sha256: "sha".into(),
        previous: None,
        shadow: None,
    };
    let mut tx = s.begin().await.unwrap();
    tx.put_plugin(&meta, "sha", b"wasm", 1).await.unwrap();
    tx.put_enablement(&enablement).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.claim_due_timers(100, 200, 10).await.unwrap(),
        vec![],
        "switched off: no timers fire"
    );
    enablement.disabled_reason = None;
    let mut tx = s.begin().await.unwrap();
    tx.put_enablement(&enablement).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        s.event_record("g", "e1").await.unwrap(),
        Some(("{}".to_string(), outcome))
    );
    assert_eq!(
        s.event_record::<serde_json::Value>("g", "e2")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.storage_keys("p", "g", "user:", 0).await.unwrap().len(),
        0,
        "limit 0 means none here"
    );
    assert_eq!(
        s.storage_keys("p", "g", "user:", 10).await.unwrap(),
        ["user:a", "user:b"]
    );
    assert_eq!(
        s.storage_get("p", "g", "other").await.unwrap().as_deref(),
        Some(&b"other"[..])
    );
    assert_eq!(
        s.storage_get("p", "g", "user:z").await.unwrap(),
        None,
        "storage is per plugin"
    );
    assert_eq!(s.claim_due_timers(99, 129, 10).await.unwrap(), vec![]);
    assert_eq!(
        s.claim_due_timers(100, 130, 10).await.unwrap(),
        vec![timer.clone()]
    );
    assert_eq!(
        s.claim_due_timers(120, 150, 10).await.unwrap(),
        vec![],
        "claimed by another process until 130"
    );
    assert_eq!(
        s.claim_due_timers(130, 160, 10).await.unwrap(),
        vec![timer.clone()],
        "a claim that ran out (its process died) is taken over"
    );
    let mut tx = s.begin().await.unwrap();
    tx.set_timer(&timer).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.claim_due_timers(131, 161, 10).await.unwrap(),
        vec![timer],
        "setting a timer again ends its claim"
    );

    let actions = s.outbox(Some("g"), 0, 10).await.unwrap();
    assert_eq!(
        actions
            .iter()
            .map(|a| a.action.as_str())
            .collect::<Vec<_>>(),
        ["post", "direct"]
    );
    assert_eq!(s.ack_outbox(&[actions[0].id], 9).await.unwrap(), 1);
    assert_eq!(s.ack_outbox(&[actions[0].id], 9).await.unwrap(), 0);
    assert_eq!(s.outbox(None, 0, 10).await.unwrap().len(), 1);
});

/// A test's Postgres database is dropped with its `TestDb`, even when the
/// store still holds connections to it (a failing test drops it as it unwinds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_databases_are_dropped_with_the_test() {
    let Some((s, t)) = store(Db::Postgres).await else {
        return;
    };
    let name = t.url.rsplit('/').next().unwrap().to_string();
    assert!(postgres_database_exists(&name).await, "{name} was created");
    drop(t);
    assert!(
        !postgres_database_exists(&name).await,
        "{name} is left behind"
    );
    s.close().await;
}

async fn postgres_database_exists(name: &str) -> bool {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&postgres_admin_url())
        .await
        .unwrap();
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut conn)
        .await
        .unwrap();
    found.is_some()
}

/// SQLite is the single-process default: a second store (a second
/// `kith serve`) on the same database file is refused with a clear error
/// while the first is open, and may open once the first has closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_the_same_sqlite_file_is_refused() {
    let t = test_db(Db::Sqlite).await.expect("SQLite is always there");
    let first = Store::connect(&t.url).await.expect("first");
    let second = Store::connect(&t.url).await;
    let message = format!("{:#}", second.err().expect("a second store is refused"));
    assert!(
        message.contains("in use by another kith process"),
        "{message}"
    );
    assert!(
        message.contains(&std::process::id().to_string()),
        "names the holder: {message}"
    );
    first.close().await;
    let third = Store::connect(&t.url).await.expect("reopened after close");
    third.close().await;
}

// Retention deletes processing records past their window, in batches,
// and nothing else: pending outbox actions, members, ledger entries and
// storage stay.
on_both_databases!(retention_prunes_old_records_in_batches, |db| async move {
    use kith::retention::{prune, Retention};
    use kith::store::{LeaseRequest, Prunable};
    let Some((s, _t)) = store(db).await else {
        return;
    };
    const DAY: i64 = 24 * 3600 * 1000;
    let now = 100 * DAY;
    let mut tx = s.begin().await.unwrap();
    tx.insert_group(&group("g", None)).await.unwrap();
    tx.upsert_member(&active("g", "ann", Role::Member, None))
        .await
        .unwrap();
    // 25 events: 15 older than 30 days, 10 recent; an invocation each.
    // An event of long ago processed today (a late or retried one) is kept
    // its whole window: a retry of it must still be recognised.
    assert!(tx
        .insert_event(
            "late",
            "g",
            "message",
            "{}",
            &serde_json::json!({}),
            now - 40 * DAY,
            now
        )
        .await
        .unwrap());
    for i in 0..25i64 {
        let at = if i < 15 {
            now - 40 * DAY + i
        } else {
            now - DAY + i
        };
        let id = format!("e{i}");
        assert!(tx
            .insert_event(&id, "g", "message", "{}", &serde_json::json!({}), at, at)
            .await
            .unwrap());
        let inv = kith::store::Invocation {
            id: 0,
            event_id: id,
            group: "g".into(),
            plugin: "p".into(),
            handler: "on-message".into(),
            ok: true,
            error: None,
            fuel_used: 1,
            duration_us: 1,
            logs: vec![],
            at: if i < 20 { now - 20 * DAY } else { now },
            sha256: None,
            effects: vec![],
        };
        let ran = inv.at;
        tx.insert_invocations(&[inv], ran).await.unwrap();
    }
    // Shadow runs of an old-dated event: one ran long ago, one today.
    let run = |event_id: &str| kith::store::ShadowRun {
        event_id: event_id.into(),
        sha256: "sha".into(),
        handler: "on-message".into(),
        live: vec![],
        shadow: vec![],
        live_error: None,
        shadow_error: None,
        differs: false,
        at: now - 40 * DAY,
    };
    for (event_id, ran) in [("old", now - 40 * DAY), ("late", now)] {
        let runs = [("p".to_string(), run(event_id))];
        tx.insert_shadow_runs("g", &runs, ran).await.unwrap();
    }
    // Outbox: 4 to ack long ago, 1 acked recently, 1 to set aside as
    // dead long ago; a pending one comes after.
    for i in 0..6 {
        tx.push_outbox(
            "g",
            "post",
            &serde_json::json!({"n": i}),
            None,
            now - 50 * DAY,
        )
        .await
        .unwrap();
    }
    tx.transfer(Transfer {
        group: "g",
        id: "t1",
        from: &Account::Issuer,
        to: &Account::Member("ann".into()),
        asset: Asset::Points,
        amount: 5,
        memo: "old",
        plugin: None,
        at: now - 90 * DAY,
    })
    .await
    .unwrap();
    tx.storage_set("p", "g", "k", b"v").await.unwrap();
    tx.commit().await.unwrap();
    let ids: Vec<i64> = s
        .outbox(Some("g"), 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    s.ack_outbox(&ids[..4], now - 8 * DAY).await.unwrap();
    s.ack_outbox(&ids[4..5], now - DAY).await.unwrap();
    // ids[5] is leased and never acknowledged until it is set aside as
    // dead, 40 days ago.
    let dead_at = now - 40 * DAY;
    for attempt in 0..=kith::store::MAX_DELIVERY_ATTEMPTS {
        let leased = s
            .lease_outbox(LeaseRequest {
                group: Some("g"),
                limit: 10,
                now: dead_at - 100 + attempt,
                lease_ms: 0,
            })
            .await
            .unwrap();
        assert!(leased.iter().all(|a| a.id == ids[5]));
    }
    let dead = s
        .outbox_in(kith::store::OutboxState::Dead, Some("g"), 0, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1, "an action was set aside as dead");
    let mut tx = s.begin().await.unwrap();
    tx.push_outbox(
        "g",
        "post",
        &serde_json::json!({"n": 6}),
        None,
        now - 50 * DAY,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let policy = Retention {
        // Invocations are kept at least the replay window: 14 days here.
        replay: Some(14 * DAY),
        batch: 4,
        pause: std::time::Duration::from_millis(1),
        ..Retention::default()
    };
    let pruned = prune(&s, &policy, now).await.unwrap();
    assert_eq!(pruned.of(Prunable::Events), 15, "{pruned}");
    assert_eq!(pruned.of(Prunable::Invocations), 20, "{pruned}");
    assert_eq!(
        pruned.of(Prunable::ShadowRuns),
        1,
        "the run of long ago, not today's: {pruned}"
    );
    assert_eq!(pruned.of(Prunable::AckedOutbox), 4, "{pruned}");
    assert_eq!(pruned.of(Prunable::DeadOutbox), 1, "{pruned}");
    let counts: std::collections::HashMap<String, u64> =
        s.row_counts().await.unwrap().into_iter().collect();
    assert_eq!(counts["events"], 11, "10 recent, and the late one");
    assert_eq!(counts["invocations"], 5);
    assert_eq!(
        counts["outbox"], 2,
        "the recently acked and the pending stay"
    );
    assert_eq!(
        counts["ledger_entries"], 2,
        "ledger entries are never pruned"
    );
    assert!(s.get_member("g", "ann").await.unwrap().is_some());
    assert_eq!(
        s.storage_get("p", "g", "k").await.unwrap(),
        Some(b"v".to_vec())
    );
    assert_eq!(
        s.outbox(Some("g"), 0, 10).await.unwrap().len(),
        1,
        "pending"
    );
    // A pruned event id is new again (the documented trade-off); a kept one is a duplicate.
    assert!(s
        .event_record::<serde_json::Value>("g", "e0")
        .await
        .unwrap()
        .is_none());
    assert!(s
        .event_record::<serde_json::Value>("g", "e20")
        .await
        .unwrap()
        .is_some());
    // A second pass finds nothing; "off" keeps everything.
    assert_eq!(prune(&s, &policy, now).await.unwrap().total(), 0);
    let off = Retention {
        events: None,
        invocations: None,
        acked_outbox: None,
        ..policy
    };
    assert_eq!(prune(&s, &off, now + 365 * DAY).await.unwrap().total(), 0);
    // Messages only with a window of their own.
    let mut tx = s.begin().await.unwrap();
    for (id, at) in [("old", now - 100 * DAY + 1), ("new", now)] {
        tx.insert_message(&Message {
            id: id.into(),
            group: "g".into(),
            sender: "ann".into(),
            kind: MessageKind::Text,
            text: "hi".into(),
            mentions: vec![],
            reply_to: None,
            links: vec![],
            sent_at: at,
            deleted: false,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(
        prune(&s, &policy, now)
            .await
            .unwrap()
            .of(Prunable::Messages),
        0
    );
    let keep_90d = Retention {
        messages: Some(90 * DAY),
        ..policy
    };
    assert_eq!(
        prune(&s, &keep_90d, now)
            .await
            .unwrap()
            .of(Prunable::Messages),
        1
    );
    assert!(s.get_message("g", "new").await.unwrap().is_some());
    let stats = s.database_stats().await.unwrap();
    assert!(stats.bytes > 0);
    assert_eq!(stats.rows.len(), 5);
});

fn message(id: &str, sender: &str, sent_at: i64) -> Message {
    Message {
        id: id.into(),
        group: "g".into(),
        sender: sender.into(),
        kind: MessageKind::Text,
        text: "hi".into(),
        mentions: vec![],
        reply_to: None,
        links: vec![],
        sent_at,
        deleted: false,
    }
}

// kith:plugin@0.2.0's cursors: each page starts after the last item of the
// one before, so reading page by page gives everything once, in order.
on_both_databases!(pages_of_keys_messages_and_active_members, |db| async move {
    let Some((s, _t)) = store(db).await else {
        return;
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_group(&group("g", None)).await.unwrap();
    for key in ["u:c", "u:a", "u:b", "v:a", ""] {
        tx.storage_set("p", "g", key, b"1").await.unwrap();
    }
    // Two messages at the same time: the id breaks the tie.
    for (id, at) in [("m1", 10), ("m2", 20), ("m3", 20), ("m4", 30)] {
        tx.insert_message(&message(id, "ann", at)).await.unwrap();
    }
    for (id, last) in [
        ("ann", Some(50)),
        ("bob", Some(100)),
        ("cat", Some(5)),
        ("dan", None),
    ] {
        tx.upsert_member(&active("g", id, Role::Member, last))
            .await
            .unwrap();
    }
    tx.upsert_member(&Member {
        last_active_at: Some(100),
        ..Member::new("g", "eve", "Eve")
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let keys = |after: Option<&'static str>| {
        let s = s.clone();
        async move {
            s.storage_keys_after("p", "g", "u:", after, 2)
                .await
                .unwrap()
        }
    };
    assert_eq!(keys(None).await, ["u:a", "u:b"]);
    assert_eq!(keys(Some("u:b")).await, ["u:c"]);
    assert_eq!(keys(Some("u:c")).await, Vec::<String>::new());
    assert_eq!(
        keys(Some("a")).await,
        ["u:a", "u:b"],
        "a cursor before the prefix"
    );

    let ids = |v: Vec<Message>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    let page = |before: Option<&'static str>| {
        let s = s.clone();
        async move { ids(s.messages_before("g", 2, None, before).await.unwrap()) }
    };
    assert_eq!(page(None).await, ["m4", "m3"]);
    assert_eq!(page(Some("m3")).await, ["m2", "m1"]);
    assert_eq!(page(Some("m1")).await, Vec::<String>::new());
    assert_eq!(
        page(Some("nope")).await,
        Vec::<String>::new(),
        "unknown cursor"
    );
    assert_eq!(
        ids(s
            .messages_before("g", 10, Some(20), Some("m4"))
            .await
            .unwrap()),
        ["m3", "m2"],
        "`since` still holds"
    );

    let active = |after: Option<&'static str>| {
        let s = s.clone();
        async move {
            let v = s.active_members_since("g", 50, after, 1).await.unwrap();
            v.into_iter().map(|m| m.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(active(None).await, ["ann"], "pending eve is not active");
    assert_eq!(active(Some("ann")).await, ["bob"]);
    assert_eq!(active(Some("bob")).await, Vec::<String>::new());
});

// The console's counts: rows per time bucket of each kind, and the funnel,
// the same on both databases.
on_both_databases!(activity_buckets_and_funnel, |db| async move {
    use kith::store::Activity;
    let Some((s, _t)) = store(db).await else {
        return;
    };
    const HOUR: i64 = 3_600_000;
    let mut tx = s.begin().await.unwrap();
    tx.insert_group(&group("g", None)).await.unwrap();
    // Messages at 0:30, 1:10, 1:50 and one by a plugin, which does not count.
    for (id, sender, at) in [
        ("m1", "ann", HOUR / 2),
        ("m2", "bob", HOUR + 600_000),
        ("m3", "ann", 2 * HOUR - 600_000),
        ("m4", "plugin:x", HOUR),
    ] {
        tx.insert_message(&message(id, sender, at)).await.unwrap();
    }
    let joined = |id: &str, at: i64, status: MemberStatus| Member {
        status,
        joined_at: Some(at),
        last_active_at: Some(at),
        ..Member::new("g", id, id)
    };
    tx.upsert_member(&joined("ann", 10, MemberStatus::Active))
        .await
        .unwrap();
    tx.upsert_member(&Member {
        paid_tier: Some("vip".into()),
        paid_until: Some(100 * HOUR),
        ..joined("bob", HOUR + 1, MemberStatus::Active)
    })
    .await
    .unwrap();
    tx.upsert_member(&joined("cy", HOUR + 2, MemberStatus::Left))
        .await
        .unwrap();
    tx.upsert_member(&Member::new("g", "dee", "dee"))
        .await
        .unwrap();
    tx.set_tag("g", "ann", "vip", true).await.unwrap();
    let outcome = serde_json::json!({"ok": true});
    tx.insert_event("l1", "g", "member_left", "{}", &outcome, HOUR + 5, HOUR + 5)
        .await
        .unwrap();
    tx.insert_event("e1", "g", "message", "{}", &outcome, HOUR + 6, HOUR + 6)
        .await
        .unwrap();
    for (id, plugin) in [
        ("c1", "daily-checkin"),
        ("c2", "daily-checkin-py"),
        ("x1", "lucky-envelope"),
    ] {
        tx.transfer(Transfer {
            group: "g",
            id,
            from: &Account::Issuer,
            to: &Account::Member("ann".into()),
            asset: Asset::Points,
            amount: 5,
            memo: "",
            plugin: Some(plugin),
            at: HOUR + 7,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let buckets = |what| s.activity_buckets("g", what, 0, 3 * HOUR, HOUR);
    let mut messages = buckets(Activity::Messages).await.unwrap();
    messages.sort();
    assert_eq!(messages, [(0, 1), (1, 2)]);
    let mut joins = buckets(Activity::Joins).await.unwrap();
    joins.sort();
    assert_eq!(joins, [(0, 1), (1, 2)], "pending dee has not joined");
    assert_eq!(buckets(Activity::Leaves).await.unwrap(), [(1, 1)]);
    assert_eq!(
        buckets(Activity::CheckIns).await.unwrap(),
        [(1, 2)],
        "both twins, one per transfer"
    );
    // The end is exclusive.
    assert!(s
        .activity_buckets("g", Activity::Messages, 0, HOUR / 2, HOUR)
        .await
        .unwrap()
        .is_empty());

    let f = s.funnel("g", HOUR, 2 * HOUR).await.unwrap();
    assert_eq!((f.joined, f.active, f.paid, f.vip), (2, 1, 1, 2), "{f:?}");
    let later = s.funnel("g", 0, 200 * HOUR).await.unwrap();
    assert_eq!(
        (later.active, later.paid),
        (2, 0),
        "bob's paid time ran out"
    );
});
