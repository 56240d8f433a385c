//! Shared helpers of kith's integration tests: databases (SQLite files and
//! fresh Postgres databases), the bundled plugin files, and a real server on
//! a loopback port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use kith::dispatch::{Clock, Kith};
use serde_json::{json, Value};

/// The database kinds every store and end-to-end test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Where the admin connection for Postgres tests goes; each test makes its
/// own database there.
pub fn postgres_admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database for one test, dropped with it (SQLite: the temp dir goes;
/// Postgres: the database is dropped, also when the test fails).
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    /// The Postgres database this test created, dropped with it.
    postgres: Option<String>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.postgres.take() {
            drop_postgres_database(name);
        }
    }
}

/// Drops a test's Postgres database, closing any connection still open to
/// it (a server the test left running). Drop cannot be async, and the
/// test's runtime may be the one dropping: a thread of its own does it.
fn drop_postgres_database(name: String) {
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&postgres_admin_url()).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await?;
            Ok::<_, sqlx::Error>(())
        })
    })
    .join();
    if let Ok(Err(e)) = dropped {
        eprintln!("warning: could not drop test database: {e}");
    }
}

impl TestDb {
    /// The same database for a second kith process, with a data dir of its
    /// own; the first keeps the database and drops it.
    pub fn beside(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: None,
        }
    }
}

/// A fresh database of the given kind, or `None` (with a message) when
/// Postgres is unreachable and `KITH_REQUIRE_POSTGRES` is not set. CI sets it,
/// so there a missing Postgres fails the run instead of skipping.
pub async fn test_db(kind: Db) -> Option<TestDb> {
    let dir = tempfile::tempdir().expect("temp dir");
    match kind {
        Db::Sqlite => Some(TestDb {
            url: format!("sqlite://{}", dir.path().join("kith.db").display()),
            dir,
            postgres: None,
        }),
        Db::Postgres => {
            use sqlx::Connection;
            let admin = postgres_admin_url();
            let mut conn = match sqlx::PgConnection::connect(&admin).await {
                Ok(c) => c,
                Err(e) if std::env::var_os("KITH_REQUIRE_POSTGRES").is_none() => {
                    eprintln!("SKIPPED: Postgres unreachable at {admin}: {e} (set DATABASE_URL, or KITH_REQUIRE_POSTGRES=1 to fail)");
                    return None;
                }
                Err(e) => panic!("Postgres required but unreachable at {admin}: {e}"),
            };
            let name = format!("kith_test_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create database");
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b)
                .expect("URL with a database name");
            Some(TestDb {
                url: format!("{base}/{name}"),
                dir,
                postgres: Some(name),
            })
        }
    }
}

/// A bundled plugin file, built by `scripts/build-plugins.sh`.
pub fn plugin_file(name: &str) -> Vec<u8> {
    let path = workspace_root()
        .join("target/plugins")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the plugins first: bash scripts/build-plugins.sh",
            path.display()
        )
    })
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// A kith server on a loopback port, with its own database and data dir.
pub struct TestServer {
    pub kith: Arc<Kith>,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub db: TestDb,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start(kind: Db) -> Option<TestServer> {
        let db = test_db(kind).await?;
        Some(Self::start_on(db, Clock::system()).await)
    }

    /// A server with the given connection caps, timeouts and rate limits.
    pub async fn start_with_edge(kind: Db, edge: kith::edge::EdgeConfig) -> Option<TestServer> {
        let db = test_db(kind).await?;
        Some(Self::start_on_with_edge(db, Clock::system(), edge).await)
    }

    /// Starts (or restarts) a server on an existing database and data dir.
    pub async fn start_on(db: TestDb, clock: Clock) -> TestServer {
        Self::start_on_with_edge(db, clock, kith::edge::EdgeConfig::default()).await
    }

    /// [`TestServer::start_on`] with the given edge limits.
    pub async fn start_on_with_edge(
        db: TestDb,
        clock: Clock,
        edge: kith::edge::EdgeConfig,
    ) -> TestServer {
        let kith = kith::app::open(db.dir.path(), Some(&db.url), clock)
            .await
            .expect("open kith");
        kith.warm_up().await.expect("warm up");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let served = kith.clone();
        let task = tokio::spawn(async move {
            kith::app::serve_with_edge(
                served,
                "127.0.0.1:0".parse().unwrap(),
                std::time::Duration::from_millis(50),
                &edge,
                |addr| {
                    let _ = tx.send(addr);
                },
            )
            .await
            .expect("serve");
        });
        let addr = rx.await.expect("server started");
        TestServer {
            kith,
            addr,
            http: reqwest::Client::new(),
            db,
            task,
        }
    }

    /// A second server on this one's database, as a second kith process
    /// would be (its own runtime, caches and data dir).
    pub async fn start_beside(&self) -> TestServer {
        Self::start_on(self.db.beside(), Clock::system()).await
    }

    /// Stops the server and hands back its database, for a restart.
    pub async fn stop(self) -> TestDb {
        self.task.abort();
        let _ = self.task.await;
        self.kith.store.close().await;
        self.db
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends a request and returns (status, JSON body).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_as(None, method, path, body).await
    }

    /// Creates an operator token for `groups` with the admin token `admin`;
    /// the created token as the API returns it (`id`, `token`, …).
    pub async fn operator_token(&self, admin: &str, name: &str, groups: &[&str]) -> Value {
        let body = json!({"name": name, "scope": "operator", "groups": groups});
        let (status, created) = self
            .call_as(Some(admin), "POST", "/v1/tokens", Some(body))
            .await;
        assert_eq!(status, 201, "{created}");
        created
    }

    /// Like `call`, with a bearer token when one is given.
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    /// Like `call`, but panics unless the status is 2xx.
    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, json) = self.call(method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} -> {status}: {json}"
        );
        json
    }

    pub async fn install(&self, plugin: &str) -> Value {
        self.upload(plugin, plugin_file(plugin)).await
    }

    /// Installs a test plugin (`tests/plugins`, built to `target/test-plugins`).
    pub async fn install_test_plugin(&self, plugin: &str) -> Value {
        let path = workspace_root().join(format!("target/test-plugins/{plugin}.wasm"));
        let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        self.upload(plugin, wasm).await
    }

    /// Installs a plugin file kept in the repository (`tests/fixtures`).
    pub async fn install_fixture(&self, path: &str) -> Value {
        let path = workspace_root().join("tests/fixtures").join(path);
        let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        self.upload(&path.display().to_string(), wasm).await
    }

    /// Uploads a plugin file; panics unless it is installed (201).
    async fn upload(&self, plugin: &str, wasm: Vec<u8>) -> Value {
        let resp = self
            .http
            .post(self.url("/v1/plugins"))
            .header("content-type", "application/wasm")
            .body(wasm)
            .send()
            .await
            .expect("upload");
        let status = resp.status().as_u16();
        let json: Value = resp.json().await.expect("json");
        assert_eq!(status, 201, "install {plugin}: {json}");
        json
    }

    /// Outbox actions of a group, oldest first.
    pub async fn outbox(&self, group: &str) -> Vec<Value> {
        let v = self
            .ok("GET", &format!("/v1/outbox?group={group}&limit=1000"), None)
            .await;
        v["actions"].as_array().cloned().unwrap_or_default()
    }

    /// The payloads of a group's outbox actions of one kind, oldest first.
    pub async fn actions(&self, group: &str, action: &str) -> Vec<Value> {
        self.outbox(group)
            .await
            .into_iter()
            .filter(|a| a["action"] == action)
            .map(|a| a["payload"].clone())
            .collect()
    }

    /// The texts posted in a group (outbox `post` actions), oldest first.
    pub async fn posted(&self, group: &str) -> Vec<String> {
        let posts = self.actions(group, "post").await;
        posts
            .iter()
            .map(|p| p["text"].as_str().expect("text").to_string())
            .collect()
    }

    /// Asserts that no asset's ledger sum in the group is off zero.
    pub async fn assert_ledger_balances(&self, group: &str) {
        let v = self
            .ok("GET", &format!("/v1/groups/{group}/ledger"), None)
            .await;
        for (asset, sum) in v["sums"].as_object().expect("sums") {
            assert_eq!(
                sum.as_i64(),
                Some(0),
                "{asset} in {group} does not balance: {v}"
            );
        }
    }
}

/// Runs a test body against both databases.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)($crate::Db::Postgres).await
            }
        }
    };
}

// ---- scenario helpers, shared by every end-to-end test ----

/// A group with an owner, and the named plugins installed and enabled.
/// A bundled plugin's config with `"language": "en"` unless it names a
/// language: the plugins speak Chinese by default, and these tests assert
/// their English texts.
pub fn in_english(config: &Value) -> Value {
    let mut config = config.clone();
    if let Some(obj) = config.as_object_mut() {
        obj.entry("language").or_insert_with(|| json!("en"));
    }
    config
}

/// Creates `group` (Asia/Shanghai, with an owner) and enables `plugins`
/// with their configs, in English (see [`in_english`]).
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
                Some(json!({"config": in_english(config)})),
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
