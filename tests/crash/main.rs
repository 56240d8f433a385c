//! Crash safety: the real `kith` binary is SIGKILLed again and again while
//! message events stream in, and restarted on the same data. Every event
//! acknowledged with a 2xx must be processed exactly once: one `events` row,
//! one stored message, one check-in invocation, one reward (no double
//! reward), one announcement, and a ledger that balances.
//!
//! The kill timing varies from run to run (it is seeded, but processes and
//! schedulers are not); the assertions hold whatever it is.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod processes;
mod server;

use kith_tests::{test_db, workspace_root, Db, TestDb};
use serde_json::{json, Value};
use server::{free_loopback_addr, ok, Rng, Server};
use sqlx::Row;

/// Distinct events streamed in.
const EVENTS: usize = 400;
/// Client tasks sending them; a member's events all come from one task, in
/// order, so that their days only go forward.
const CLIENTS: usize = 4;
/// Members u0..u19 (a multiple of CLIENTS).
const MEMBERS: usize = 20;
/// Points of one check-in: the plugin's `base_reward`, with the streak bonus
/// configured to 0 so that every check-in pays exactly this.
const REWARD: i64 = 10;
const DAY_MS: i64 = 86_400_000;
/// 2023-11-14T22:13:20Z: event k is at this plus k days, a distinct local day
/// for each event, so that every check-in rewards.
const FIRST_AT: i64 = 1_700_000_000_000;
const GROUP: &str = "g";

/// One test at a time: each kills and restarts a server, on 2 shared cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let _serial = SERIAL.lock().await;
    let db = test_db(Db::Sqlite).await.expect("SQLite is always there");
    run(db, 0x5eed_0001).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let _serial = SERIAL.lock().await;
    // Skips (with a message) when Postgres is unreachable, unless
    // KITH_REQUIRE_POSTGRES is set; DATABASE_URL points elsewhere.
    let Some(db) = test_db(Db::Postgres).await else {
        return;
    };
    run(db, 0x5eed_0002).await;
}

fn event_id(k: usize) -> String {
    format!("crash-{k:04}")
}

fn sender_of(k: usize) -> String {
    format!("u{}", k % MEMBERS)
}

fn event(k: usize) -> Value {
    json!({
        "id": event_id(k),
        "group": GROUP,
        "type": "message",
        "sender": sender_of(k),
        "text": "/checkin",
        "at": FIRST_AT + k as i64 * DAY_MS,
    })
}

/// What the clients saw, shared with the main task.
#[derive(Default)]
struct Progress {
    /// Events sent for the first time so far (all clients).
    started: AtomicUsize,
    /// Events acknowledged with a 2xx.
    acked: AtomicUsize,
    /// Kills done so far.
    kills: AtomicUsize,
    /// Set once the kill loop is over: no more quota.
    unthrottled: AtomicBool,
    /// Requests that failed (connection errors, 5xx) and were sent again.
    retries: AtomicUsize,
    /// Acknowledgements that said `duplicate: true`: processed before the
    /// response got lost to a kill.
    duplicates: AtomicUsize,
    /// Acknowledged event ids, with their outcome.
    outcomes: Mutex<BTreeMap<String, Value>>,
    /// Fatal answers (4xx): the test fails with them.
    errors: Mutex<Vec<String>>,
}

/// Sends this client's events in order, each until it is acknowledged.
async fn client(url: String, which: usize, kills_planned: usize, progress: Arc<Progress>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    for k in (which..EVENTS).step_by(CLIENTS) {
        // A quota per kill, so that every planned kill lands while events
        // still stream, however fast this machine is.
        loop {
            let kills = progress.kills.load(Ordering::SeqCst);
            let quota = EVENTS * (kills + 1) / (kills_planned + 1);
            if progress.unthrottled.load(Ordering::SeqCst)
                || progress.started.load(Ordering::SeqCst) < quota
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        progress.started.fetch_add(1, Ordering::SeqCst);
        let body = event(k);
        let id = event_id(k);
        let give_up = Instant::now() + Duration::from_secs(45);
        loop {
            assert!(
                Instant::now() < give_up,
                "event {id} was never acknowledged"
            );
            match http.post(&url).json(&body).send().await {
                Ok(resp) if resp.status().is_success() => {
                    // An unreadable body (killed while sending it) is not an
                    // acknowledgement: the event is sent again.
                    if let Ok(outcome) = resp.json::<Value>().await {
                        if outcome["duplicate"] == json!(true) {
                            progress.duplicates.fetch_add(1, Ordering::SeqCst);
                        }
                        progress
                            .outcomes
                            .lock()
                            .unwrap()
                            .insert(id.clone(), outcome);
                        progress.acked.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                }
                Ok(resp) if resp.status().is_client_error() => {
                    let status = resp.status();
                    let text = resp.text().await.unwrap_or_default();
                    progress
                        .errors
                        .lock()
                        .unwrap()
                        .push(format!("{id} -> {status}: {text}"));
                    return;
                }
                // 5xx or a connection error (the server is down): the same
                // event again, with the same id.
                Ok(_) | Err(_) => {}
            }
            progress.retries.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn run(db: TestDb, seed: u64) {
    let started = Instant::now();
    let bin = workspace_root().join("target/debug/kith");
    assert!(
        bin.is_file(),
        "{} is missing: build it first with `cargo build -p kith`",
        bin.display()
    );
    // Only the plugin this test uses: `--install target/plugins` would also
    // compile the Python and JS plugins on the first start of each data dir,
    // ~45 s on 2 cores. The file is the bundled one, unchanged.
    let plugin = workspace_root().join("target/plugins/daily-checkin.wasm");
    assert!(
        plugin.is_file(),
        "{} is missing: build the plugins first: bash scripts/build-plugins.sh",
        plugin.display()
    );
    let plugins = db.dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    std::fs::copy(&plugin, plugins.join("daily-checkin.wasm")).expect("copy plugin");

    let mut rng = Rng(seed);
    let kills_planned = rng.between(5, 10) as usize;
    let mut server = Server {
        bin,
        addr: free_loopback_addr(),
        data_dir: db.dir.path().join("data"),
        plugins,
        database: db.url.clone(),
        log: db.dir.path().join("server.log"),
        child: None,
        starts: 0,
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    server.start(&http).await;

    // The group, its owner, and daily-checkin without a streak bonus.
    ok(
        &http,
        &server,
        "POST",
        "/v1/groups",
        Some(json!({"id": GROUP, "name": "crash", "timezone": "Asia/Shanghai"})),
    )
    .await;
    ok(
        &http,
        &server,
        "POST",
        &format!("/v1/groups/{GROUP}/members"),
        Some(json!({"member": "owner", "role": "owner"})),
    )
    .await;
    ok(
        &http,
        &server,
        "PUT",
        &format!("/v1/groups/{GROUP}/plugins/daily-checkin"),
        Some(json!({"config": {"base_reward": REWARD, "streak_bonus": 0, "language": "en"}})),
    )
    .await;

    // Stream the events from the clients, and kill the server under them.
    let progress = Arc::new(Progress::default());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|which| {
            tokio::spawn(client(
                server.url("/v1/events"),
                which,
                kills_planned,
                progress.clone(),
            ))
        })
        .collect();
    let mut kill_times = vec![];
    for _ in 0..kills_planned {
        let wait = rng.between(50, 300);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if progress.acked.load(Ordering::SeqCst) == EVENTS
            || !progress.errors.lock().unwrap().is_empty()
        {
            break;
        }
        server.kill();
        kill_times.push((wait, progress.acked.load(Ordering::SeqCst)));
        progress.kills.fetch_add(1, Ordering::SeqCst);
        server.start(&http).await;
    }
    progress.unthrottled.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.expect("client task");
    }
    let errors = progress.errors.lock().unwrap().clone();
    assert!(
        errors.is_empty(),
        "events refused:\n{}\n{}",
        errors.join("\n"),
        server.log_tail()
    );
    let kills = progress.kills.load(Ordering::SeqCst);
    eprintln!(
        "{}: {EVENTS} events, {kills} kills (after ms, acked so far: {kill_times:?}), {} starts, {} retries, {} duplicate acks, {:.1} s",
        db.url.split(':').next().unwrap_or("?"),
        server.starts,
        progress.retries.load(Ordering::SeqCst),
        progress.duplicates.load(Ordering::SeqCst),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        kills, kills_planned,
        "every planned kill landed while events streamed"
    );

    // Every event was acknowledged, each with its own message.
    let outcomes = progress.outcomes.lock().unwrap().clone();
    let expected_ids: BTreeSet<String> = (0..EVENTS).map(event_id).collect();
    assert_eq!(
        outcomes.keys().cloned().collect::<BTreeSet<_>>(),
        expected_ids
    );
    for (id, outcome) in &outcomes {
        assert_eq!(outcome["event_id"], json!(id), "{outcome}");
        assert_eq!(outcome["message_id"], json!(format!("m-{id}")), "{outcome}");
    }
    let mut per_member: BTreeMap<String, i64> = BTreeMap::new();
    for k in 0..EVENTS {
        *per_member.entry(sender_of(k)).or_default() += 1;
    }

    // Through the API, on the last server: points and the ledger.
    for (member, n) in &per_member {
        let m = ok(
            &http,
            &server,
            "GET",
            &format!("/v1/groups/{GROUP}/members/{member}"),
            None,
        )
        .await;
        assert_eq!(
            m["points"],
            json!(REWARD * n),
            "{member} has {n} acknowledged check-ins, each worth {REWARD}: {m}"
        );
    }
    let ledger = ok(
        &http,
        &server,
        "GET",
        &format!("/v1/groups/{GROUP}/ledger"),
        None,
    )
    .await;
    for (asset, sum) in ledger["sums"].as_object().expect("sums") {
        assert_eq!(sum, &json!(0), "{asset} does not balance: {ledger}");
    }
    server.kill();

    // In the database, after the last kill.
    verify_database(&db.url, &expected_ids, &per_member).await;
    eprintln!("verified in {:.1} s", started.elapsed().as_secs_f64());
}

async fn verify_database(url: &str, ids: &BTreeSet<String>, per_member: &BTreeMap<String, i64>) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    let pairs = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(sql)
                .bind(GROUP)
                .fetch_all(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .iter()
                .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
                .collect::<BTreeMap<String, i64>>()
        }
    };
    let once: BTreeMap<String, i64> = ids.iter().map(|id| (id.clone(), 1)).collect();

    // One `events` row per event id.
    let events = pairs(
        "SELECT id, COUNT(*) FROM events WHERE group_id = $1 AND kind = 'message' GROUP BY id",
    )
    .await;
    assert_eq!(events, once, "events rows per event id");

    // One stored message per event id, named after it.
    let messages = pairs(
        "SELECT id, COUNT(*) FROM messages WHERE group_id = $1 AND sender LIKE 'u%' GROUP BY id",
    )
    .await;
    let expected_messages: BTreeMap<String, i64> =
        ids.iter().map(|id| (format!("m-{id}"), 1)).collect();
    assert_eq!(messages, expected_messages, "messages per event id");

    // One check-in invocation per event id, and it succeeded.
    let invocations = pairs(
        "SELECT event_id, COUNT(*) FROM invocations WHERE group_id = $1 AND plugin = 'daily-checkin' AND handler = 'on-message' GROUP BY event_id",
    )
    .await;
    assert_eq!(invocations, once, "check-in invocations per event id");
    let failed = pairs(
        "SELECT event_id, COUNT(*) FROM invocations WHERE group_id = $1 AND ok = 0 GROUP BY event_id",
    )
    .await;
    assert!(failed.is_empty(), "failed invocations: {failed:?}");

    // One reward per acknowledged check-in: points per member, and no
    // transfer applied twice (each transfer is exactly two legs).
    let points = pairs(
        "SELECT account, CAST(SUM(amount) AS BIGINT) FROM ledger_entries WHERE group_id = $1 AND asset = 'points' AND account LIKE 'member:%' GROUP BY account",
    )
    .await;
    let expected_points: BTreeMap<String, i64> = per_member
        .iter()
        .map(|(m, n)| (format!("member:{m}"), REWARD * n))
        .collect();
    assert_eq!(points, expected_points, "points per member");
    let rewards = pairs(
        "SELECT account, COUNT(*) FROM ledger_entries WHERE group_id = $1 AND asset = 'points' AND account LIKE 'member:%' GROUP BY account",
    )
    .await;
    let expected_rewards: BTreeMap<String, i64> = per_member
        .iter()
        .map(|(m, n)| (format!("member:{m}"), *n))
        .collect();
    assert_eq!(rewards, expected_rewards, "reward entries per member");
    let legs = pairs(
        "SELECT transfer_id, COUNT(*) FROM ledger_entries WHERE group_id = $1 GROUP BY transfer_id",
    )
    .await;
    let odd: Vec<_> = legs.iter().filter(|(_, n)| **n != 2).collect();
    assert!(
        odd.is_empty(),
        "transfers not made of exactly two entries: {odd:?}"
    );
    assert_eq!(legs.len(), ids.len(), "one transfer per check-in");

    // The ledger balances, per asset.
    let sums = pairs("SELECT asset, CAST(SUM(amount) AS BIGINT) FROM ledger_entries WHERE group_id = $1 GROUP BY asset").await;
    for (asset, sum) in &sums {
        assert_eq!(*sum, 0, "{asset} does not balance: {sums:?}");
    }

    // One announcement per check-in in the outbox (a daily reminder, should
    // the plugin's timer fire meanwhile, is not one).
    let posts = pairs(
        "SELECT plugin, COUNT(*) FROM outbox WHERE group_id = $1 AND action = 'post' AND plugin IS NOT NULL AND payload LIKE '%checked in:%' GROUP BY plugin",
    )
    .await;
    assert_eq!(
        posts,
        BTreeMap::from([("daily-checkin".to_string(), ids.len() as i64)]),
        "check-in announcements"
    );
    pool.close().await;
}
