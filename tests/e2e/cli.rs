//! The `kith` command line against a real server: readable tables by
//! default, JSON with `--json`, and commands for everyday work.

use super::versions::versioned_in_g;
use super::*;

/// Runs `kith ARGS --server <s>` in-process and returns what it prints.
async fn kith(s: &TestServer, args: &[&str]) -> String {
    let server = format!("http://{}", s.addr);
    let mut argv = vec!["kith"];
    argv.extend(args);
    argv.extend(["--server", &server]);
    let cli = kith::cli::Cli::from_args(argv).unwrap();
    cli.command
        .run_remote()
        .await
        .unwrap_or_else(|e| panic!("kith {args:?}: {e:#}"))
        .expect("a remote command")
}

on_both_databases!(
    the_cli_prints_tables_and_covers_daily_work,
    |db| async move {
        let Some(s) = TestServer::start(db).await else {
            return;
        };
        let checkin = json!({"base_reward": 20, "reminder_hour": 9});
        group_with(
            &s,
            "g",
            &[("daily-checkin", checkin), ("ad-filter", json!({}))],
        )
        .await;

        let list = kith(&s, &["plugin", "list"]).await;
        assert!(list.starts_with("NAME"), "{list}");
        assert_eq!(
            list.lines().count(),
            3,
            "a header and one line a plugin:\n{list}"
        );
        let json: Value =
            serde_json::from_str(&kith(&s, &["plugin", "list", "--json"]).await).unwrap();
        assert_eq!(json["plugins"].as_array().unwrap().len(), 2);

        // Typed to reorder: nothing else changes.
        let out = kith(
            &s,
            &["plugin", "enable", "g", "ad-filter", "--position", "0"],
        )
        .await;
        assert!(out.starts_with("ad-filter on g: position 0"), "{out}");
        let out = kith(
            &s,
            &["plugin", "enable", "g", "daily-checkin", "--position", "0"],
        )
        .await;
        assert!(
            out.contains("\"base_reward\":20") && out.contains("\"reminder_hour\":9"),
            "{out}"
        );
        assert!(
            out.contains("warning: ad-filter prefers to run early"),
            "{out}"
        );
        let ordered = kith(&s, &["plugin", "order", "g", "ad-filter,daily-checkin"]).await;
        let rows: Vec<Vec<&str>> = ordered
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            (rows[0][0], rows[0][1], rows[0][2]),
            ("0", "ad-filter", "on"),
            "{ordered}"
        );
        assert_eq!(
            (rows[1][0], rows[1][1]),
            ("1", "daily-checkin"),
            "{ordered}"
        );
        assert!(!ordered.contains("warning"), "{ordered}");

        // Members and messages.
        assert_eq!(
            kith(&s, &["member", "add", "g", "amy", "--name", "Amy"]).await,
            "amy in g: admitted\n"
        );
        let tagged = kith(&s, &["member", "tag", "g", "amy", "vip"]).await;
        assert!(tagged.lines().nth(1).unwrap().contains("vip"), "{tagged}");
        let posted = kith(&s, &["message", "post", "g", "--sender", "amy", "签到"]).await;
        assert!(posted.contains("daily-checkin on-message: ok"), "{posted}");
        let messages = kith(&s, &["message", "list", "g"]).await;
        assert!(
            messages.contains("签到") && messages.starts_with("SENT"),
            "{messages}"
        );
        let members = kith(&s, &["member", "list", "g", "--tag", "vip"]).await;
        assert_eq!(members.lines().count(), 2, "{members}");
        assert!(
            members.contains("Amy") && members.contains("20"),
            "{members}"
        );

        // An operator removes a member: the platform is told, the log says who.
        kith(&s, &["member", "add", "g", "zed"]).await;
        let removed = kith(&s, &["member", "remove", "g", "zed", "--reason", "spam"]).await;
        assert_eq!(removed, "removed zed from g\n");
        assert_eq!(member(&s, "g", "zed").await["status"], "removed");
        let kicks: Vec<Value> = s
            .outbox("g")
            .await
            .into_iter()
            .filter(|a| a["action"] == "remove")
            .collect();
        assert_eq!(
            kicks[0]["payload"],
            json!({"member": "zed", "reason": "spam"})
        );
        let audit = kith(&s, &["group", "audit", "g", "--limit", "1"]).await;
        assert!(
            audit.contains("member.remove") && audit.contains("zed"),
            "{audit}"
        );
        let server = format!("http://{}", s.addr);
        let again = kith::cli::Cli::from_args([
            "kith", "member", "remove", "g", "zed", "--server", &server,
        ])
        .unwrap()
        .command
        .run_remote()
        .await
        .unwrap_err();
        assert!(again.to_string().contains("422"), "{again}");
        // Lifting the removal lets them ask to join again.
        let lifted = kith(&s, &["member", "lift", "g", "zed"]).await;
        assert!(
            lifted.contains("zed") && lifted.contains("left"),
            "{lifted}"
        );
        assert_eq!(member(&s, "g", "zed").await["status"], "left");

        // A plugin switched off says so, and why.
        s.install_test_plugin("hostile").await;
        s.ok(
            "PUT",
            "/v1/groups/g/plugins/hostile",
            Some(json!({"policy": {"disable_after": 1}})),
        )
        .await;
        say(&s, "g", "p1", "amy", "panic", 1_790_000_000_000).await;
        let enabled = kith(&s, &["plugin", "enabled", "g"]).await;
        let hostile = enabled.lines().find(|l| l.contains("hostile")).unwrap();
        assert!(
            hostile.contains("OFF: switched off after 1 failures"),
            "{enabled}"
        );

        // The audit log, archiving, and the group list.
        let audit = kith(&s, &["group", "audit", "g", "--limit", "3"]).await;
        assert!(
            audit.starts_with("AT") && audit.lines().count() == 4,
            "{audit}"
        );
        assert!(
            audit.contains("plugin.switched-off") && audit.contains("kith"),
            "{audit}"
        );
        kith(&s, &["group", "archive", "g"]).await;
        let groups = kith(&s, &["group", "list"]).await;
        let row = groups.lines().nth(1).unwrap();
        assert!(
            row.starts_with("g ") && row.contains(" 20"),
            "archived shows when: {groups}"
        );
        let server = format!("http://{}", s.addr);
        let refused = kith::cli::Cli::from_args([
            "kith", "message", "post", "g", "--sender", "amy", "hi", "--server", &server,
        ])
        .unwrap()
        .command
        .run_remote()
        .await
        .unwrap_err();
        assert!(refused.to_string().contains("archived"), "{refused}");
        kith(&s, &["group", "unarchive", "g"]).await;
    }
);

on_both_databases!(the_cli_upgrades_and_rolls_back, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    s.install_test_plugin("versioned").await;
    group_with(&s, "g", &[("versioned", json!({}))]).await;
    s.install_test_plugin("versioned-2").await;
    let versions = kith(&s, &["plugin", "versions", "versioned"]).await;
    assert!(versions.starts_with("VERSION"), "{versions}");
    let lines: Vec<&str> = versions.lines().collect();
    assert!(
        lines[1].starts_with("2.0.0") && lines[1].contains("yes"),
        "{versions}"
    );
    assert!(
        lines[2].starts_with("1.0.0") && lines[2].ends_with('g'),
        "{versions}"
    );

    let config = r#"{"threshold": 3}"#;
    let args = [
        "plugin",
        "upgrade",
        "versioned",
        "--group",
        "g",
        "--config",
        config,
    ];
    let out = kith(&s, &[&args[..], &["--dry-run"]].concat()).await;
    assert!(
        out.contains("1.0.0") && out.contains("-> 2.0.0") && out.contains("[dry run]"),
        "{out}"
    );
    let out = kith(&s, &[&args[..], &["--grant", "ledger"]].concat()).await;
    assert!(out.contains("capabilities added: ledger"), "{out}");
    assert!(!out.contains("not granted"), "granted: {out}");
    let out = kith(&s, &["plugin", "rollback", "g", "versioned"]).await;
    assert!(out.contains("2.0.0") && out.contains("-> 1.0.0"), "{out}");
    s.install_test_plugin("versioned-gate").await;
    let out = kith(
        &s,
        &["plugin", "uninstall", "versioned", "--version", "3.0.0"],
    )
    .await;
    assert_eq!(out, "uninstalled version 3.0.0 of versioned\n");
});

on_both_databases!(kith_replay_gates_a_release, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    versioned_in_g(&s, json!({})).await;
    say(&s, "g", "e1", "amy", "/hello", 1_790_000_000_000).await;
    let server = format!("http://{}", s.addr);
    let replay = |file: &str, extra: &[&str]| {
        let path = workspace_root().join(format!("target/test-plugins/{file}.wasm"));
        let mut argv = vec!["kith".to_string(), "replay".into(), "g".into()];
        argv.push(path.display().to_string());
        argv.extend(extra.iter().map(|a| a.to_string()));
        argv.extend(["--server".into(), server.clone()]);
        let cli = kith::cli::Cli::from_args(argv).unwrap();
        async move {
            match cli.command {
                kith::cli::Command::Replay(command) => command.run().await.unwrap(),
                _ => unreachable!(),
            }
        }
    };
    let (text, differs) = replay("versioned", &[]).await;
    assert!(!differs, "{text}");
    assert!(text.starts_with("versioned 1.0.0"), "{text}");
    assert!(text.contains("0 differ"), "{text}");
    let (text, differs) = replay("versioned-2", &["--config", r#"{"threshold": 1}"#]).await;
    assert!(differs, "{text}");
    assert!(
        text.contains("\"v1: hello #1\"") && text.contains("\"v2: hello #1\""),
        "{text}"
    );
});

on_both_databases!(the_cli_runs_a_version_in_shadow, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    versioned_in_g(&s, json!({})).await;
    s.install_test_plugin("versioned-2").await;
    let config = r#"{"threshold": 1}"#;
    let out = kith(
        &s,
        &["plugin", "shadow", "g", "versioned", "--config", config],
    )
    .await;
    assert!(out.contains("2.0.0") && out.contains("0 runs"), "{out}");
    say(&s, "g", "e1", "amy", "/hello", 1_790_000_000_000).await;
    let out = kith(&s, &["plugin", "shadow", "g", "versioned", "--status"]).await;
    assert!(
        out.contains("1 runs, 1 differ") && out.contains("v2: hello #1"),
        "{out}"
    );
    let out = kith(&s, &["plugin", "promote", "g", "versioned"]).await;
    assert!(out.contains("-> 2.0.0"), "{out}");
});

on_both_databases!(the_cli_reads_a_plugins_storage, |db| async move {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    s.install_test_plugin("sequence").await;
    group_with(&s, "g", &[("sequence", json!({}))]).await;
    s.ok(
        "POST",
        "/v1/groups/g/members",
        Some(json!({"member": "amy"})),
    )
    .await;
    for n in 1..=3 {
        let id = format!("e{n}");
        say(&s, "g", &id, "amy", &format!("seq:{n}"), 1_790_000_000_000).await;
    }
    let out = kith(&s, &["storage", "g", "sequence"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("KEY"), "{out}");
    assert!(
        lines[1].starts_with("seen") && lines[1].ends_with("1,2,3"),
        "{out}"
    );
    let none = kith(&s, &["storage", "g", "sequence", "--prefix", "zzz"]).await;
    assert_eq!(none.lines().count(), 1, "a header only: {none}");
});
