//! Many processes on one Postgres: three `kith serve` share it while a
//! driver streams events for 50 groups to random processes (retrying with
//! the same id elsewhere when one fails), 50 spenders empty one wallet,
//! timers tick and two adapter workers lease the outbox from random
//! processes; meanwhile one process after another is SIGKILLed and
//! restarted. Checks: every acknowledged event processed exactly once and
//! in the order sent (the `sequence` test plugin records what it saw), the
//! wallet never below zero, every ledger balanced, each timer occurrence
//! run once, each outbox action delivered (again only after a lost ack).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kith_tests::{test_db, workspace_root, Db};
use serde_json::{json, Value};
use sqlx::Row;

use crate::server::{free_loopback_addr, ok, Rng, Server};

const PROCESSES: usize = 3;
const GROUPS: usize = 50;
/// Two senders per group, each sending `seq:a1`..`seq:aN` (and `b`) one
/// after another.
const PER_STREAM: usize = 10;
/// Groups whose plugin ticks every second.
const TICKING: usize = 5;
const SPENDERS: usize = 50;
const FUNDS: i64 = 20;
const WORKERS: usize = 2;
const WALLET: &str = "wallet";
const AT: i64 = 1_790_000_000_000;

fn group(g: usize) -> String {
    format!("g{g:02}")
}

/// The three servers, shared by the driver, the workers and the killer.
struct Cluster {
    servers: Vec<tokio::sync::Mutex<Server>>,
    /// Their addresses, fixed across restarts (read without the locks).
    urls: Vec<String>,
    /// Set when the driver is done: the workers drain and stop.
    done: AtomicBool,
    retries: AtomicUsize,
}

impl Cluster {
    fn url(&self, rng: &mut Rng, path: &str) -> String {
        let which = rng.between(0, PROCESSES as u64 - 1) as usize;
        format!("{}{path}", self.urls[which])
    }

    /// Posts to a random process until one answers 2xx with a JSON body;
    /// a 4xx fails the test.
    async fn post(&self, http: &reqwest::Client, rng: &mut Rng, path: &str, body: &Value) -> Value {
        let give_up = Instant::now() + Duration::from_secs(120);
        loop {
            assert!(
                Instant::now() < give_up,
                "{path} {body}: never acknowledged"
            );
            match http.post(self.url(rng, path)).json(body).send().await {
                Ok(r) if r.status().is_client_error() => {
                    let status = r.status();
                    panic!(
                        "{path} {body} -> {status}: {}",
                        r.text().await.unwrap_or_default()
                    )
                }
                Ok(r) if r.status().is_success() => {
                    if let Ok(v) = r.json::<Value>().await {
                        return v;
                    }
                }
                _ => {}
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn message(id: String, group: &str, text: &str) -> Value {
    json!({"id": id, "group": group, "type": "message", "sender": "amy", "text": text, "at": AT})
}

/// One of a group's two senders: its events `seq:<stream><n>` in order,
/// each to a random process, paced so that the run spans the kills. The
/// other sender's events race with these, in other processes.
async fn send_sequence(cluster: Arc<Cluster>, g: usize, stream: char) {
    let (http, mut rng) = (
        reqwest::Client::new(),
        Rng(0x5e9 + g as u64 * 2 + stream as u64),
    );
    for n in 1..=PER_STREAM {
        tokio::time::sleep(Duration::from_millis(rng.between(300, 700))).await;
        let id = format!("{}-{stream}{n}", group(g));
        let event = message(id, &group(g), &format!("seq:{stream}{n}"));
        cluster.post(&http, &mut rng, "/v1/events", &event).await;
    }
}

/// A spender: waits for the others, then all spend at once.
async fn spend(cluster: Arc<Cluster>, i: usize, start: Arc<tokio::sync::Barrier>) {
    let (http, mut rng) = (reqwest::Client::new(), Rng(0x5be + i as u64));
    start.wait().await;
    let event = message(format!("spend-{i}"), WALLET, "spend");
    cluster.post(&http, &mut rng, "/v1/events", &event).await;
}

/// What the adapter workers saw: each delivery (action id → how many
/// times), and the ids whose acknowledgement may have been lost.
#[derive(Default)]
struct Deliveries {
    count: BTreeMap<i64, usize>,
    unsure: BTreeSet<i64>,
    /// Per group, the `ack:N` texts in delivery order.
    texts: BTreeMap<String, Vec<String>>,
}

/// An adapter worker: leases from random processes, acknowledges, until
/// the driver is done and nothing is left.
async fn worker(cluster: Arc<Cluster>, w: usize, seen: Arc<Mutex<Deliveries>>) {
    let (http, mut rng) = (reqwest::Client::new(), Rng(0x3a + w as u64));
    loop {
        let lease = json!({"limit": 20, "lease_ms": 2000});
        let leased = http
            .post(cluster.url(&mut rng, "/v1/outbox/lease"))
            .json(&lease)
            .send()
            .await;
        let actions = match leased {
            Ok(r) if r.status().is_success() => r.json::<Value>().await.ok(),
            _ => None,
        };
        let Some(actions) = actions.and_then(|v| v["actions"].as_array().cloned()) else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        if actions.is_empty() {
            if cluster.done.load(Ordering::SeqCst) && pending(&cluster, &http).await == Some(0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let ids: Vec<i64> = actions.iter().map(|a| a["id"].as_i64().unwrap()).collect();
        record(&seen, &actions);
        let acked = http
            .post(cluster.url(&mut rng, "/v1/outbox/ack"))
            .json(&json!({"ids": ids}))
            .send()
            .await;
        if !acked.is_ok_and(|r| r.status().is_success()) {
            seen.lock().unwrap().unsure.extend(ids);
        }
    }
}

fn record(seen: &Mutex<Deliveries>, actions: &[Value]) {
    let mut seen = seen.lock().unwrap();
    for a in actions {
        *seen.count.entry(a["id"].as_i64().unwrap()).or_default() += 1;
        let text = a["payload"]["text"].as_str().unwrap_or_default();
        if text.starts_with("ack:") {
            let group = a["group"].as_str().unwrap().to_string();
            seen.texts.entry(group).or_default().push(text.to_string());
        }
    }
}

/// Actions still to deliver, asked of the first process that answers.
async fn pending(cluster: &Cluster, http: &reqwest::Client) -> Option<usize> {
    for url in &cluster.urls {
        let r = http.get(format!("{url}/v1/outbox?limit=1000")).send().await;
        if let Ok(r) = r {
            if let Ok(v) = r.json::<Value>().await {
                return v["actions"].as_array().map(Vec::len);
            }
        }
    }
    None
}

/// Kills a random process, restarts it, again and again until the driver is done.
async fn killer(cluster: Arc<Cluster>, seed: u64) -> usize {
    let (http, mut rng, mut kills) = (reqwest::Client::new(), Rng(seed), 0);
    while !cluster.done.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(rng.between(500, 1000))).await;
        if cluster.done.load(Ordering::SeqCst) {
            break;
        }
        let which = rng.between(0, PROCESSES as u64 - 1) as usize;
        let mut server = cluster.servers[which].lock().await;
        server.kill();
        kills += 1;
        tokio::time::sleep(Duration::from_millis(rng.between(100, 500))).await;
        server.start(&http).await;
    }
    kills
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_on_one_postgres() {
    let _serial = crate::SERIAL.lock().await;
    let Some(db) = test_db(Db::Postgres).await else {
        return;
    };
    let started = Instant::now();
    let plugins = db.dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let plugin = workspace_root().join("target/test-plugins/sequence.wasm");
    std::fs::copy(&plugin, plugins.join("sequence.wasm"))
        .unwrap_or_else(|e| panic!("{}: {e}: run scripts/build-plugins.sh", plugin.display()));
    let http = reqwest::Client::new();
    let mut servers = vec![];
    for p in 0..PROCESSES {
        let mut server = Server {
            bin: workspace_root().join("target/debug/kith"),
            addr: free_loopback_addr(),
            data_dir: db.dir.path().join(format!("data{p}")),
            plugins: plugins.clone(),
            database: db.url.clone(),
            log: db.dir.path().join(format!("server{p}.log")),
            child: None,
            starts: 0,
        };
        server.start(&http).await;
        servers.push(server);
    }
    set_up(&http, &servers[0]).await;
    let cluster = Arc::new(Cluster {
        urls: servers.iter().map(|s| s.url("")).collect(),
        servers: servers.into_iter().map(tokio::sync::Mutex::new).collect(),
        done: AtomicBool::new(false),
        retries: AtomicUsize::new(0),
    });

    let seen = Arc::new(Mutex::new(Deliveries::default()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| tokio::spawn(worker(cluster.clone(), w, seen.clone())))
        .collect();
    let killer = tokio::spawn(killer(cluster.clone(), 0x6b11));
    let mut driver = tokio::task::JoinSet::new();
    for g in 0..GROUPS {
        for stream in ['a', 'b'] {
            driver.spawn(send_sequence(cluster.clone(), g, stream));
        }
    }
    let start = Arc::new(tokio::sync::Barrier::new(SPENDERS));
    for i in 0..SPENDERS {
        driver.spawn(spend(cluster.clone(), i, start.clone()));
    }
    while let Some(r) = driver.join_next().await {
        r.expect("driver task");
    }
    cluster.done.store(true, Ordering::SeqCst);
    let kills = killer.await.unwrap();
    for w in workers {
        w.await.expect("worker");
    }
    eprintln!(
        "{PROCESSES} processes, {} events, {kills} kills, {} retries, {:.1} s",
        GROUPS * 2 * PER_STREAM + SPENDERS,
        cluster.retries.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    assert!(
        kills >= 3,
        "only {kills} kills landed while events streamed"
    );
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    check(&db.url, &cluster, &seen).await;
}

/// Groups with amy and the plugin (some ticking), and the funded wallet.
async fn set_up(http: &reqwest::Client, s: &Server) {
    let groups = (0..GROUPS).map(group).chain([WALLET.to_string()]);
    for (i, g) in groups.enumerate() {
        ok(
            http,
            s,
            "POST",
            "/v1/groups",
            Some(json!({"id": g, "name": g})),
        )
        .await;
        let path = format!("/v1/groups/{g}/members");
        ok(http, s, "POST", &path, Some(json!({"member": "amy"}))).await;
        let config = if i < TICKING {
            json!({"tick_ms": 1000})
        } else {
            json!({})
        };
        let path = format!("/v1/groups/{g}/plugins/sequence");
        ok(http, s, "PUT", &path, Some(json!({ "config": config }))).await;
    }
    let fund = message("fund".into(), WALLET, &format!("fund:{FUNDS}"));
    ok(http, s, "POST", "/v1/events", Some(fund)).await;
}

async fn check(url: &str, cluster: &Cluster, seen: &Deliveries) {
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    for g in (0..GROUPS).map(group) {
        let stored = storage(&pool, &g, "seen").await;
        let seen_in_group: Vec<&str> = stored.split(',').collect();
        let acks: Vec<&str> = firsts(&seen.texts[&g]);
        for stream in ["a", "b"] {
            let sent: Vec<String> = (1..=PER_STREAM).map(|n| format!("{stream}{n}")).collect();
            let of = |list: &[&str]| -> Vec<String> {
                list.iter()
                    .filter(|x| x.starts_with(stream))
                    .map(|x| x.to_string())
                    .collect()
            };
            assert_eq!(
                of(&seen_in_group),
                sent,
                "{g}: each event once, in the order sent: {stored}"
            );
            let acked: Vec<&str> = acks.iter().map(|t| t.trim_start_matches("ack:")).collect();
            assert_eq!(of(&acked), sent, "{g}: its outbox delivered in order");
        }
        assert_eq!(
            seen_in_group.len(),
            2 * PER_STREAM,
            "{g}: nothing else: {stored}"
        );
    }
    check_wallet(&pool).await;
    check_timers(&pool, cluster).await;
    let redelivered: Vec<_> = seen.count.iter().filter(|(_, n)| **n > 1).collect();
    for (id, _) in &redelivered {
        assert!(
            seen.unsure.contains(id),
            "action {id} delivered twice, though acknowledged"
        );
    }
    let dead: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE acked_at IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(dead, 0, "every outbox action acknowledged");
}

/// Each text once, where it first appears.
fn firsts(texts: &[String]) -> Vec<&str> {
    let mut firsts: Vec<&str> = vec![];
    for t in texts {
        if !firsts.contains(&t.as_str()) {
            firsts.push(t);
        }
    }
    firsts
}

async fn storage(pool: &sqlx::PgPool, group: &str, key: &str) -> String {
    let value: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT value FROM plugin_storage WHERE plugin = 'sequence' AND group_id = $1 AND key = $2",
    )
    .bind(group)
    .bind(key)
    .fetch_optional(pool)
    .await
    .unwrap();
    String::from_utf8(value.unwrap_or_default()).unwrap()
}

async fn check_wallet(pool: &sqlx::PgPool) {
    let rows = sqlx::query(
        "SELECT account, CAST(SUM(amount) AS BIGINT) AS balance, COUNT(*) AS entries \
         FROM ledger_entries WHERE group_id = $1 GROUP BY account",
    )
    .bind(WALLET)
    .fetch_all(pool)
    .await
    .unwrap();
    let balance = |account: &str| -> (i64, i64) {
        rows.iter()
            .find(|r| r.get::<String, _>("account") == account)
            .map(|r| (r.get("balance"), r.get("entries")))
            .unwrap_or((0, 0))
    };
    let (wallet, entries) = balance("escrow:wallet");
    assert_eq!(wallet, 0, "50 spenders took the 20 points, not one more");
    assert_eq!(entries, 1 + FUNDS, "one funding and 20 spends");
    let sums: Vec<(String, i64)> = sqlx::query_as(
        "SELECT group_id, CAST(SUM(amount) AS BIGINT) FROM ledger_entries GROUP BY group_id, asset",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(
        sums.iter().all(|(_, s)| *s == 0),
        "every ledger balances: {sums:?}"
    );
}

async fn check_timers(pool: &sqlx::PgPool, cluster: &Cluster) {
    for g in (0..TICKING).map(group) {
        // A claim left by a killed process is taken over after 30 s: wait
        // for that. The processes still tick: count and storage are read
        // in one statement, from one snapshot.
        let give_up = Instant::now() + Duration::from_secs(45);
        let (fired, ticks) = loop {
            let (fired, ticks): (i64, Option<Vec<u8>>) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM events WHERE group_id = $1 AND kind = 'timer'), \
                 (SELECT value FROM plugin_storage WHERE plugin = 'sequence' AND group_id = $1 \
                 AND key = 'ticks')",
            )
            .bind(&g)
            .fetch_one(pool)
            .await
            .unwrap();
            if fired > 0 || Instant::now() > give_up {
                break (fired, ticks);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let ticks: i64 = String::from_utf8(ticks.unwrap_or_default())
            .unwrap()
            .parse()
            .unwrap_or(0);
        assert!(fired > 0, "{g}: its timer fired");
        assert_eq!(ticks, fired, "{g}: each occurrence's effects once");
    }
    for server in &cluster.servers {
        let log = std::fs::read_to_string(&server.lock().await.log).unwrap_or_default();
        let twice: Vec<&str> = log.lines().filter(|l| l.contains("ran twice")).collect();
        assert!(
            twice.is_empty(),
            "timer occurrences run by two processes:\n{}",
            twice.join("\n")
        );
    }
}
