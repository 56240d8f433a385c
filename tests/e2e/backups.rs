//! `kith backup` under load and `kith restore` into a fresh data dir: every
//! event acknowledged before the backup started is in it, with its balance,
//! and the ledger balances (the copy is one consistent snapshot).

use super::*;
use std::sync::{Arc, Mutex};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn run(args: &[&str]) -> anyhow::Result<()> {
    let cli = kith::cli::Cli::from_args(args).map_err(anyhow::Error::msg)?;
    cli.command.execute().await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_every_acknowledged_event() {
    let s = TestServer::start(Db::Sqlite).await.expect("SQLite");
    group_with(&s, "bk", &[("daily-checkin", json!({"base_reward": 10}))]).await;
    let acked: Arc<Mutex<Vec<String>>> = Default::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let at = now();
    // Four senders, each a stream of new members checking in: 10 points each.
    let mut senders = vec![];
    for w in 0..4 {
        let (http, url, acked, stop) = (
            s.http.clone(),
            s.url("/v1/events"),
            acked.clone(),
            stop.clone(),
        );
        senders.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let id = format!("w{w}-{i}");
                let r = http
                    .post(&url)
                    .json(&json!({"id": id, "group": "bk", "type": "message", "sender": id, "text": "/checkin", "at": at}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                acked.lock().unwrap().push(id);
                i += 1;
            }
        }));
    }
    while acked.lock().unwrap().len() < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before: Vec<String> = acked.lock().unwrap().clone();
    let backup_dir = tempfile::tempdir().unwrap();
    let file = backup_dir.path().join("kith-backup.db");
    let data_dir = s.db.dir.path().display().to_string();
    run(&[
        "kith",
        "backup",
        file.to_str().unwrap(),
        "--data-dir",
        &data_dir,
    ])
    .await
    .expect("backup while the server runs");
    let during = acked.lock().unwrap().len();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in senders {
        t.await.unwrap();
    }
    let total = acked.lock().unwrap().len();
    assert!(
        total > during,
        "events went on after the backup ({during} → {total})"
    );

    // A second backup to the same file, and a restore under a running
    // server or over an existing database, are refused.
    assert!(run(&[
        "kith",
        "backup",
        file.to_str().unwrap(),
        "--data-dir",
        &data_dir
    ])
    .await
    .is_err());
    let err = run(&[
        "kith",
        "restore",
        file.to_str().unwrap(),
        "--data-dir",
        &data_dir,
        "--force",
    ])
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("in use by another kith process"),
        "{err}"
    );
    let err = run(&[
        "kith",
        "backup",
        "x.db",
        "--database",
        "postgres://127.0.0.1/kith",
    ])
    .await
    .unwrap_err();
    assert!(err.to_string().contains("pg_dump"), "{err}");
    let fresh = test_db(Db::Sqlite).await.unwrap();
    let fresh_dir = fresh.dir.path().display().to_string();
    run(&[
        "kith",
        "restore",
        file.to_str().unwrap(),
        "--data-dir",
        &fresh_dir,
    ])
    .await
    .expect("restore into a fresh data dir");
    let err = run(&[
        "kith",
        "restore",
        file.to_str().unwrap(),
        "--data-dir",
        &fresh_dir,
    ])
    .await
    .unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
    // Each sender checks in once: a balance is final once its event is
    // acknowledged (the plugin may be over its message rate, then nothing
    // is paid: the backup must say the same).
    let mut points = std::collections::HashMap::new();
    for id in &before {
        let m = s
            .kith
            .store
            .get_member("bk", id)
            .await
            .unwrap()
            .expect("member");
        points.insert(id.clone(), m.points);
    }
    assert!(points.values().any(|p| *p == 10), "some check-ins paid");
    s.stop().await;

    let r = TestServer::start_on(fresh, kith::dispatch::Clock::system()).await;
    r.assert_ledger_balances("bk").await;
    for id in &before {
        let outcome = r
            .ok("POST", "/v1/events", Some(json!({"id": id, "group": "bk", "type": "message", "sender": id, "text": "/checkin", "at": at})))
            .await;
        assert_eq!(
            outcome["duplicate"], true,
            "{id} was acknowledged before the backup: {outcome}"
        );
        assert_eq!(member(&r, "bk", id).await["points"], points[id], "{id}");
    }
    let restored = r.kith.store.row_counts().await.unwrap();
    let events = restored.iter().find(|(t, _)| t == "events").unwrap().1 as usize;
    assert!(
        events >= before.len() && events < total + 10,
        "{events} events restored; {} before, {total} in all",
        before.len()
    );
    r.assert_ledger_balances("bk").await;
}
