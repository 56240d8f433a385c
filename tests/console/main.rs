//! The web console in a real headless Chromium (Debian's `chromium`,
//! driven through `chromedriver` over WebDriver): sign in with a token,
//! create a group, enable a plugin through the form generated from its
//! schema (an invalid value first, its error shown beside the field, then a
//! valid one), post a message and see its invocation, see the charts, check
//! a plugin file before installing it. Each page is saved as a screenshot
//! in `target/console-screenshots/` (docs/console.md shows copies).
//!
//! Without chromium and chromedriver the test fails when
//! `KITH_REQUIRE_BROWSER` is set (scripts/test.sh sets it) and is skipped
//! otherwise; `bash scripts/ensure-browser.sh` installs them.

mod webdriver;

use kith_tests::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use webdriver::{Element, Session, ENTER, TAB};

const ADMIN: &str = "console-admin-secret-0123456789";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WAIT: Duration = Duration::from_secs(20);

/// chromedriver on a free port, killed with the test.
struct Driver {
    child: Child,
    url: String,
    /// A fresh Chromium profile (`--user-data-dir`) for this run.
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn browser_present() -> bool {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present {
        let msg = format!(
            "{CHROMIUM} or {CHROMEDRIVER} missing: install them with `bash scripts/ensure-browser.sh` \
             (Debian's chromium and chromium-driver)"
        );
        assert!(
            std::env::var_os("KITH_REQUIRE_BROWSER").is_none(),
            "browser required (KITH_REQUIRE_BROWSER): {msg}"
        );
        eprintln!("SKIPPED: {msg}");
    }
    present
}

async fn start_driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + WAIT;
    loop {
        let ready = reqwest::get(format!("{url}/status")).await.ok();
        let ready = match ready {
            Some(r) => r.json::<Value>().await.ok(),
            None => None,
        };
        if ready.is_some_and(|v| v["value"]["ready"] == true) {
            break;
        }
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver {
        child,
        url,
        profile: tempfile::tempdir().expect("profile dir"),
    }
}

async fn browser(driver: &Driver) -> Session {
    let profile = format!("--user-data-dir={}", driver.profile.path().display());
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--lang=zh-CN",
        profile.as_str(),
    ];
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
    });
    Session::start(&driver.url, caps)
        .await
        .expect("browser session")
}

fn shots_dir() -> PathBuf {
    let dir = workspace_root().join("target/console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn shot(b: &Session, name: &str) {
    // Notices fade after seconds; they would cover the page.
    b.script("document.getElementById('toast').classList.remove('show')")
        .await
        .unwrap();
    // Let the last layout and paint land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = b.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    std::fs::write(shots_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Waits until `css` shows an element whose text contains `want`.
async fn wait_text(b: &Session, css: &str, want: &str) -> Element {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(e) = b.wait(css, Duration::from_millis(500)).await {
            if b.text(&e).await.unwrap_or_default().contains(want) {
                return e;
            }
        }
        assert!(Instant::now() < deadline, "{css} never said {want:?}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn fill(b: &Session, css: &str, text: &str) {
    let e = b.wait(css, WAIT).await.expect(css);
    b.clear(&e).await.expect("clear");
    b.type_into(&e, text).await.expect("type");
}

async fn click(b: &Session, css: &str) {
    let e = b.wait(css, WAIT).await.expect(css);
    b.click(&e).await.expect("click");
}

/// An operator token sees only its groups in the overview; the API check
/// beside the browser run (the browser signs in as an admin, who may
/// create groups).
async fn operator_sees_only_its_groups(s: &TestServer) {
    s.call_as(
        Some(ADMIN),
        "POST",
        "/v1/groups",
        Some(json!({"id": "other", "name": "Other"})),
    )
    .await;
    let created = s.operator_token(ADMIN, "op", &["gz"]).await;
    let op = created["token"].as_str().unwrap();
    let (status, overview) = s.call_as(Some(op), "GET", "/v1/overview", None).await;
    assert_eq!(status, 200, "{overview}");
    let ids: Vec<&str> = overview["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["gz"], "an operator of gz sees only gz");
    let (status, _) = s
        .call_as(Some(op), "GET", "/v1/groups/other/stats", None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = s.call_as(None, "GET", "/v1/overview", None).await;
    assert_eq!(status, 401);
}

async fn sign_in_and_create_group(b: &Session, s: &TestServer) {
    b.set_window(390, 844).await.unwrap();
    b.goto(&s.url("/console")).await.unwrap();
    b.wait("form.signin input[name=token]", WAIT).await.unwrap();
    shot(b, "signin-phone").await;
    // By keyboard: type the token, Enter submits.
    fill(
        b,
        "form.signin input[name=token]",
        &format!("{ADMIN}{ENTER}"),
    )
    .await;
    b.set_window(1280, 900).await.unwrap();
    b.wait("#group-list table", WAIT).await.unwrap();
    fill(b, "#create-group input[name=id]", "gz").await;
    fill(
        b,
        "#create-group input[name=name]",
        "广州摄影 Guangzhou photography",
    )
    .await;
    fill(b, "#create-group input[name=timezone]", "Asia/Shanghai").await;
    click(b, "#create-group button[type=submit]").await;
    wait_text(b, "main h1", "(gz)").await;
}

/// The generated form: -5 is below the schema's minimum, the API's error
/// shows beside the field; then 3 enables the plugin.
async fn enable_through_the_form(b: &Session) {
    b.wait("#plugins select[name=plugin]", WAIT).await.unwrap();
    click(
        b,
        "#plugins select[name=plugin] option[value=daily-checkin]",
    )
    .await;
    let field = "form.config[data-plugin=daily-checkin] [data-path='/base_reward']";
    b.wait(&format!("{field} label"), WAIT).await.unwrap();
    fill(b, &format!("{field} input"), "-5").await;
    click(
        b,
        "form.config[data-plugin=daily-checkin] > button[type=submit]",
    )
    .await;
    let error = wait_text(b, &format!("{field} .field-error"), "minimum").await;
    let text = b.text(&error).await.unwrap();
    assert!(text.contains("-5"), "the error names the value: {text}");
    b.script(
        "document.querySelector(\"[data-path='/base_reward']\").scrollIntoView({block: 'center'})",
    )
    .await
    .unwrap();
    shot(b, "config-error").await;
    fill(b, &format!("{field} input"), "3").await;
    click(
        b,
        "form.config[data-plugin=daily-checkin] > button[type=submit]",
    )
    .await;
    wait_text(
        b,
        "li.enabled-plugin[data-plugin=daily-checkin]",
        "daily-checkin",
    )
    .await;
}

async fn post_and_see_invocation(b: &Session) {
    fill(b, "#post-message input[name=sender]", "amy").await;
    fill(b, "#post-message input[name=text]", "签到").await;
    click(b, "#post-message button[type=submit]").await;
    // Enabling ran `on-enabled`; the message's run is `on-message`.
    let row = wait_text(b, "#invocations table", "on-message").await;
    let text = b.text(&row).await.unwrap();
    assert!(
        text.contains("daily-checkin") && text.contains("ok"),
        "{text}"
    );
}

/// The charts' figures: title, bar values, number of lines.
async fn chart_data(b: &Session) -> Value {
    b.script(
        "return [...document.querySelectorAll('#charts figure')].map(f => ({
                title: f.querySelector('figcaption').textContent,
                bars: [...f.querySelectorAll('rect.bar')].map(r => Number(r.dataset.value)),
                lines: f.querySelectorAll('polyline').length }))",
    )
    .await
    .unwrap()
}

/// The charts hold today's message and check-in (once redrawn after the post).
async fn see_charts(b: &Session) {
    let deadline = Instant::now() + WAIT;
    let mut charts = chart_data(b).await;
    loop {
        let messages: f64 = charts
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["title"]
                    .as_str()
                    .unwrap_or("")
                    .contains("Messages per day")
            })
            .flat_map(|c| c["bars"].as_array().cloned().unwrap_or_default())
            .map(|v| v.as_f64().unwrap_or(0.0))
            .sum();
        if messages >= 1.0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        charts = chart_data(b).await;
    }
    let find = |word: &str| {
        charts
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["title"].as_str().unwrap().contains(word))
            .unwrap_or_else(|| panic!("no {word} chart in {charts}"))
            .clone()
    };
    let total = |c: &Value| -> f64 {
        c["bars"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .sum()
    };
    assert_eq!(total(&find("Messages per day")), 1.0, "{charts}");
    assert_eq!(total(&find("Check-ins per day")), 1.0, "{charts}");
    assert_eq!(find("Members over time")["lines"], 1, "{charts}");
    assert!(
        total(&find("Funnel")) >= 2.0,
        "amy joined and is active: {charts}"
    );
}

async fn fits_the_phone(b: &Session, page: &str) {
    let fits = b
        .script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        .await
        .unwrap();
    assert_eq!(fits, true, "{page} is wider than the phone");
}

/// Tab from the top reaches the skip link first: the page is usable by keyboard.
async fn keyboard_reaches_the_page(b: &Session) {
    b.press(TAB).await.unwrap();
    let focused = b
        .script("return document.activeElement.className")
        .await
        .unwrap();
    assert_eq!(focused, "skip", "the first Tab stop is the skip link");
}

async fn check_a_file(b: &Session, s: &TestServer) {
    b.goto(&s.url("/console/#/plugins")).await.unwrap();
    let file = workspace_root().join("target/plugins/daily-checkin.wasm");
    let input = b.wait("#upload input[type=file]", WAIT).await.unwrap();
    b.type_into(&input, &file.display().to_string())
        .await
        .unwrap();
    click(b, "#upload button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(300);
    let verdict = loop {
        if let Some(v) = b.find("#verdict").await.unwrap() {
            break v;
        }
        assert!(Instant::now() < deadline, "no verdict");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let text = b.text(&verdict).await.unwrap();
    assert!(
        text.contains("all checks passed") && text.contains("determinism"),
        "{text}"
    );
    shot(b, "plugins").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_chromium() {
    if !browser_present() {
        return;
    }
    let started = Instant::now();
    let s = TestServer::start(Db::Sqlite).await.unwrap();
    s.install("daily-checkin").await;
    s.kith.bootstrap_admin(ADMIN).await.unwrap();
    let driver = start_driver().await;
    let b = browser(&driver).await;

    sign_in_and_create_group(&b, &s).await;
    enable_through_the_form(&b).await;
    post_and_see_invocation(&b).await;
    see_charts(&b).await;
    // Tall enough for the charts, the plugins and the invocations at once.
    b.set_window(1280, 2300).await.unwrap();
    b.script("window.scrollTo(0, 0)").await.unwrap();
    shot(&b, "group").await;

    b.set_window(390, 844).await.unwrap();
    b.goto("about:blank").await.unwrap();
    b.goto(&s.url("/console/#/g/gz")).await.unwrap();
    b.wait("#charts svg.plot", WAIT).await.unwrap();
    fits_the_phone(&b, "the group page").await;
    shot(&b, "group-phone").await;

    operator_sees_only_its_groups(&s).await;
    b.set_window(1280, 900).await.unwrap();
    // A fresh load, so that the first Tab starts at the top of the page.
    b.goto("about:blank").await.unwrap();
    b.goto(&s.url("/console/#/")).await.unwrap();
    wait_text(&b, "#group-list", "daily-checkin").await;
    shot(&b, "overview").await;
    keyboard_reaches_the_page(&b).await;

    check_a_file(&b, &s).await;
    b.quit().await.unwrap();
    eprintln!("console test: {:.1} s", started.elapsed().as_secs_f64());
}
