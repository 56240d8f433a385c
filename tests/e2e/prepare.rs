//! Starting with plugins to install: the server answers at once and reports
//! its plugins as preparing until they are installed and compiled.

use super::*;

on_both_databases!(plugins_are_prepared_in_the_background, |db| async move {
    let Some(db) = test_db(db).await else { return };
    let dir = tempfile::tempdir().unwrap();
    for name in ["daily-checkin", "invite-only", "ad-filter"] {
        std::fs::write(dir.path().join(format!("{name}.wasm")), plugin_file(name)).unwrap();
    }
    let s = TestServer::start_on(db, kith::dispatch::Clock::system()).await;
    let preparing = kith::app::prepare_plugins(s.kith.clone(), Some(dir.path().into()));
    // Preparing from the moment it is started, and /healthz says so.
    let health = s.ok("GET", "/healthz", None).await;
    assert_eq!(health["plugins"], "preparing", "{health}");
    preparing.await.unwrap();
    let health = s.ok("GET", "/healthz", None).await;
    assert_eq!(health["plugins"], "ready", "{health}");
    let listed = s.ok("GET", "/v1/plugins", None).await;
    let mut names: Vec<&str> = listed["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["ad-filter", "daily-checkin", "invite-only"]);
});
