//! What both crash tests use: the real `kith serve` process, started,
//! SIGKILLed and restarted; a seeded generator for kill timings.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A small seeded generator (xorshift64*), enough for kill timings.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// The `kith serve` process on a fixed port, data dir and database.
pub struct Server {
    pub bin: PathBuf,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub plugins: PathBuf,
    pub database: String,
    pub log: PathBuf,
    pub child: Option<Child>,
    pub starts: usize,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Starts the process and waits until it answers /healthz.
    pub async fn start(&mut self, http: &reqwest::Client) {
        assert!(self.child.is_none(), "already running");
        // Right after a kill the port can still be busy for a moment: a
        // process that cannot bind exits, and is started again.
        for attempt in 0..20 {
            self.starts += 1;
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .expect("server log");
            let child = Command::new(&self.bin)
                .arg("serve")
                .arg("--listen")
                .arg(self.addr.to_string())
                .arg("--data-dir")
                .arg(&self.data_dir)
                .arg("--database")
                .arg(&self.database)
                .arg("--install")
                .arg(&self.plugins)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", self.bin.display()));
            self.child = Some(child);
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                // Up, and its plugins compiled (`--install` runs in the background).
                if let Ok(r) = http.get(self.url("/healthz")).send().await {
                    let health: Value = r.json().await.unwrap_or_default();
                    if health["plugins"] == "ready" {
                        return;
                    }
                }
                let child = self.child.as_mut().expect("child");
                if let Some(status) = child.try_wait().expect("try_wait") {
                    self.child = None;
                    eprintln!("kith exited at start ({status}), attempt {attempt}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "kith did not answer /healthz within 60 s\n{}",
                    self.log_tail()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        panic!("kith would not start\n{}", self.log_tail());
    }

    /// SIGKILL (what `Child::kill` sends on Unix), and reap the process.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(30);
        format!(
            "last lines of {}:\n{}",
            self.log.display(),
            lines[from..].join("\n")
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn free_loopback_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr")
}

/// Sends one request and insists on a 2xx (setup and final reads only).
pub async fn ok(
    http: &reqwest::Client,
    server: &Server,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = http.request(method.parse().expect("method"), server.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = resp.status();
    let text = resp.text().await.expect("body");
    assert!(status.is_success(), "{method} {path} -> {status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}
