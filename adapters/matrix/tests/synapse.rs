//! The Matrix adapter end to end: a real Synapse (scripts/synapse.sh), a
//! real kith server (the `kith` binary) and `kith-matrix` itself. The room
//! is read through the client API as its members see it.
//!
//! Scenario: a knock-only room mapped to a group with quiz-gate,
//! daily-checkin and ad-filter, served by two adapter processes sharing
//! kith's outbox through leases; a user knocks, answers the quiz in the DM
//! the bot opens, is invited and joins; one adapter restarts; 签到 gets a
//! reply mentioning the user (once); a spammer's three ads are redacted and
//! the third gets them kicked; the operator makes the user an admin in kith
//! and the room gives them power level 50; each of kith's posts is in the
//! room once.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed with the test, pass or fail.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Synapse, stopped with the test.
struct Synapse {
    dir: PathBuf,
    url: String,
}

impl Synapse {
    fn start(dir: PathBuf) -> Synapse {
        let out = Command::new("bash")
            .arg(root().join("scripts/synapse.sh"))
            .arg("start")
            .arg(&dir)
            .stderr(Stdio::inherit())
            .output()
            .expect("running scripts/synapse.sh");
        assert!(out.status.success(), "synapse did not start");
        let url = std::fs::read_to_string(dir.join("url")).unwrap();
        Synapse {
            dir,
            url: url.trim().to_string(),
        }
    }

    fn register(&self, user: &str) {
        let out = Command::new("bash")
            .arg(root().join("scripts/synapse.sh"))
            .args(["register"])
            .arg(&self.dir)
            .args([user, &password(user)])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "registering {user}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("scripts/synapse.sh"))
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

fn password(user: &str) -> String {
    format!("{user}-password-1")
}

/// JSON over HTTP with an optional bearer token; panics on error statuses.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    fn new(base: &str, token: Option<String>) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.to_string(),
            token,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }
}

fn seg(s: &str) -> String {
    kith_matrix::matrix::segment(s)
}

const MX: &str = "/_matrix/client/v3";

/// A Matrix user of the test, logged in.
struct User {
    id: String,
    api: Api,
    since: std::sync::Mutex<Option<String>>,
    invited: std::sync::Mutex<Vec<String>>,
}

impl User {
    async fn login(hs: &Synapse, name: &str) -> User {
        let v = Api::new(&hs.url, None)
            .post(
                &format!("{MX}/login"),
                json!({"type": "m.login.password",
                       "identifier": {"type": "m.id.user", "user": name},
                       "password": password(name)}),
            )
            .await;
        User {
            id: v["user_id"].as_str().unwrap().into(),
            api: Api::new(&hs.url, v["access_token"].as_str().map(str::to_string)),
            since: Default::default(),
            invited: Default::default(),
        }
    }

    async fn say(&self, room: &str, text: &str) -> String {
        let txn = uuid_like();
        let path = format!("{MX}/rooms/{}/send/m.room.message/{txn}", seg(room));
        let v = self
            .api
            .put(&path, json!({"msgtype": "m.text", "body": text}))
            .await;
        v["event_id"].as_str().unwrap().to_string()
    }

    /// The room's latest messages as this user sees them, newest first.
    async fn messages(&self, room: &str) -> Vec<Value> {
        let path = format!("{MX}/rooms/{}/messages?dir=b&limit=50", seg(room));
        self.api.get(&path).await["chunk"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn membership(&self, room: &str, user: &str) -> Option<String> {
        let path = format!("{MX}/rooms/{}/state/m.room.member/{}", seg(room), seg(user));
        let resp = self
            .api
            .http
            .get(format!("{}{path}", self.api.base))
            .bearer_auth(self.api.token.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        v["membership"].as_str().map(str::to_string)
    }

    /// Rooms this user was invited to, from incremental syncs (Synapse
    /// answers a repeated initial sync from a cache).
    async fn invites(&self) -> Vec<String> {
        let since = self.since.lock().unwrap().clone();
        let query = since.map_or(String::new(), |s| format!("&since={s}"));
        let v = self.api.get(&format!("{MX}/sync?timeout=0{query}")).await;
        *self.since.lock().unwrap() = v["next_batch"].as_str().map(str::to_string);
        let mut invited = self.invited.lock().unwrap();
        if let Some(rooms) = v["rooms"]["invite"].as_object() {
            invited.extend(rooms.keys().cloned());
        }
        invited.clone()
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "t{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Polls `probe` until it returns Some, failing after `secs` seconds.
async fn until<T>(what: &str, secs: u64, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The kith server on a loopback port, with only the plugins this test uses.
fn start_kith(dir: &Path, port: u16, admin_token: &str) -> Proc {
    let bin = std::env::var("KITH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target/debug/kith"));
    assert!(
        bin.exists(),
        "{} is missing: cargo build -p kith",
        bin.display()
    );
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for p in ["quiz-gate", "daily-checkin", "ad-filter"] {
        let wasm = root().join(format!("target/plugins/{p}.wasm"));
        assert!(
            wasm.exists(),
            "{} is missing: scripts/build-plugins.sh",
            wasm.display()
        );
        std::fs::copy(&wasm, plugins.join(format!("{p}.wasm"))).unwrap();
    }
    let child = Command::new(bin)
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.join("kith-data"))
        .arg("--install")
        .arg(&plugins)
        .arg("--admin-token")
        .arg(admin_token)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    Proc(child)
}

fn adapter(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kith-matrix"));
    c.arg("--config").arg(config).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.env("RUST_LOG", "kith_matrix=debug");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knock_quiz_checkin_and_spam_against_synapse() {
    let tmp = tempfile::tempdir().unwrap();
    let hs = Synapse::start(tmp.path().join("synapse"));
    let admin_token = "matrix-test-admin-token-0001";
    let kith_port = free_port();
    let _kith = start_kith(tmp.path(), kith_port, admin_token);
    let kith_url = format!("http://127.0.0.1:{kith_port}");
    let kith = Api::new(&kith_url, Some(admin_token.into()));
    until("kith to answer", 60, async || {
        // Up, with the plugins of `--install` installed and compiled.
        let r = reqwest::get(format!("{kith_url}/healthz")).await.ok()?;
        let health: serde_json::Value = r.json().await.ok()?;
        (health["plugins"] == "ready").then_some(())
    })
    .await;

    for u in ["kithbot", "owner", "alice", "spammer"] {
        hs.register(u);
    }
    let owner = User::login(&hs, "owner").await;
    let alice = User::login(&hs, "alice").await;
    let spammer = User::login(&hs, "spammer").await;
    let bot_id = "@kithbot:localhost";

    // The room: knock to enter, the bot a room admin, the spammer already in.
    let room = owner
        .api
        .post(
            &format!("{MX}/createRoom"),
            json!({
                "name": "Photography · Guangzhou",
                "room_version": "10",
                "invite": [bot_id, spammer.id],
                "initial_state": [{"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "knock"}}],
                "power_level_content_override": {"users": {owner.id.clone(): 100, bot_id: 100}},
            }),
        )
        .await["room_id"]
        .as_str()
        .unwrap()
        .to_string();
    spammer
        .api
        .post(&format!("{MX}/join/{}", seg(&room)), json!({}))
        .await;

    // kith: the group, its plugins, an adapter-scoped token.
    kith.post(
        "/v1/groups",
        json!({"id": "photo-gz", "name": "Photography · Guangzhou"}),
    )
    .await;
    let quiz =
        json!({"questions": [{"question": "2 + 2 = ?", "answers": ["4"]}], "timeout_seconds": 300});
    kith.put(
        "/v1/groups/photo-gz/plugins/quiz-gate",
        json!({"config": quiz}),
    )
    .await;
    kith.put("/v1/groups/photo-gz/plugins/daily-checkin", json!({}))
        .await;
    kith.put("/v1/groups/photo-gz/plugins/ad-filter", json!({}))
        .await;
    let adapter_token = kith
        .post("/v1/tokens", json!({"name": "matrix", "scope": "adapter"}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();

    // The adapter: config file with the adapter token; `map` with the admin
    // token from the environment (it sets roles from power levels).
    let config = tmp.path().join("kith-matrix.json");
    std::fs::write(
        &config,
        json!({
            "homeserver": hs.url, "user": "kithbot", "password": password("kithbot"),
            "kith_url": kith_url, "kith_token": adapter_token,
            "sync_timeout_ms": 1000, "outbox_poll_ms": 200, "outbox_lease_ms": 10_000,
        })
        .to_string(),
    )
    .unwrap();
    let mapped = adapter(
        &config,
        &["map", &room, "photo-gz"],
        &[("KITH_TOKEN", admin_token)],
    )
    .output()
    .unwrap();
    assert!(
        mapped.status.success(),
        "map: {}",
        String::from_utf8_lossy(&mapped.stderr)
    );
    let owner_in_kith = kith
        .get(&format!("/v1/groups/photo-gz/members/{}", seg(&owner.id)))
        .await;
    assert_eq!(
        owner_in_kith["role"], "owner",
        "power level 100 is the owner role"
    );
    let mut run = Proc(adapter(&config, &["run"], &[]).spawn().unwrap());
    // A second worker beside it: its own session and state file.
    let (config2, state2) = second_worker_config(&config);
    let _run2 = Proc(adapter(&config2, &["run"], &[]).spawn().unwrap());
    until("the second worker's first sync", 30, async || {
        let state = std::fs::read_to_string(&state2).ok()?;
        let state: Value = serde_json::from_str(&state).ok()?;
        state["since"].is_string().then_some(())
    })
    .await;

    // Alice knocks; the quiz question arrives in a DM room the bot opens.
    alice
        .api
        .post(
            &format!("{MX}/knock/{}", seg(&room)),
            json!({"reason": "hello"}),
        )
        .await;
    let dm = until("the bot's DM invite to alice", 30, async || {
        alice.invites().await.into_iter().find(|r| r != &room)
    })
    .await;
    alice
        .api
        .post(&format!("{MX}/join/{}", seg(&dm)), json!({}))
        .await;
    until("the quiz question in the DM", 30, async || {
        let msgs = alice.messages(&dm).await;
        msgs.iter()
            .any(|m| m["sender"] == bot_id && m["type"] == "m.room.message")
            .then_some(())
    })
    .await;
    alice.say(&dm, "4").await;

    // The right answer: the knock is accepted (an invite), alice joins.
    until("alice invited to the room", 30, async || {
        (owner.membership(&room, &alice.id).await.as_deref() == Some("invite")).then_some(())
    })
    .await;
    alice
        .api
        .post(&format!("{MX}/join/{}", seg(&room)), json!({}))
        .await;

    // A restart of one worker: its sync token and delivered actions are kept.
    drop(run);
    run = Proc(adapter(&config, &["run"], &[]).spawn().unwrap());

    // 签到 gets a reply in the room that mentions alice, once.
    let checkin = alice.say(&room, "签到").await;
    let mentions_alice = |m: &Value| {
        m["sender"] == bot_id
            && m["content"]["m.mentions"]["user_ids"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|i| *i == alice.id.as_str()))
    };
    until("the check-in reply mentioning alice", 30, async || {
        let msgs = alice.messages(&room).await;
        let after: Vec<&Value> = msgs
            .iter()
            .take_while(|m| m["event_id"] != checkin.as_str())
            .collect();
        after.iter().any(|m| mentions_alice(m)).then_some(())
    })
    .await;

    // The spammer's ads are redacted; the third gets them kicked.
    for n in 1..=3 {
        let ad = spammer
            .say(
                &room,
                &format!("cheap followers {n}: https://spam.example.com/buy"),
            )
            .await;
        until(&format!("ad {n} redacted"), 30, async || {
            let path = format!("{MX}/rooms/{}/event/{}", seg(&room), seg(&ad));
            let ev = owner.api.get(&path).await;
            ev["unsigned"]["redacted_because"].is_object().then_some(())
        })
        .await;
        if n < 3 {
            assert_eq!(
                owner.membership(&room, &spammer.id).await.as_deref(),
                Some("join")
            );
        }
    }
    until("the spammer kicked", 30, async || {
        (owner.membership(&room, &spammer.id).await.as_deref() == Some("leave")).then_some(())
    })
    .await;

    // Nothing was delivered twice across the restart, and everything was acked.
    let replies = alice
        .messages(&room)
        .await
        .iter()
        .filter(|m| mentions_alice(m))
        .count();
    assert_eq!(replies, 1, "one check-in reply");

    // The operator makes alice an admin: the room gives her power level 50.
    kith.put(
        &format!("/v1/groups/photo-gz/members/{}/role", seg(&alice.id)),
        json!({"role": "admin"}),
    )
    .await;
    until("alice at power level 50", 30, async || {
        let path = format!("{MX}/rooms/{}/state/m.room.power_levels/", seg(&room));
        let pl = owner.api.get(&path).await;
        (pl["users"][alice.id.as_str()] == 50).then_some(())
    })
    .await;
    until("the outbox drained", 30, async || {
        let v = kith.get("/v1/outbox?group=photo-gz").await;
        v["actions"]
            .as_array()
            .is_some_and(|a| a.is_empty())
            .then_some(())
    })
    .await;
    // Two workers, one restart: each of kith's posts is in the room once.
    let posts = kith.get("/v1/groups/photo-gz/messages?limit=1000").await["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["sender"]
                .as_str()
                .is_some_and(|s| s.starts_with("plugin:"))
        })
        .count();
    let in_room = owner
        .messages(&room)
        .await
        .iter()
        .filter(|m| m["sender"] == bot_id && m["type"] == "m.room.message")
        .count();
    assert!(
        posts >= 2,
        "kith posted the check-in reply and the kick notice"
    );
    assert_eq!(in_room, posts, "each post delivered once");
    drop(run);
}

/// A copy of the adapter's config for a second worker, with its own state
/// file (each worker logs in as its own device); returns it and the state
/// file's path.
fn second_worker_config(config: &Path) -> (PathBuf, PathBuf) {
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
    c["state_file"] = "kith-matrix-2-state.json".into();
    let path = config.with_file_name("kith-matrix-2.json");
    std::fs::write(&path, c.to_string()).unwrap();
    (
        path.clone(),
        path.with_file_name("kith-matrix-2-state.json"),
    )
}
