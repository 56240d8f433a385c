//! Putting the service together: store, runtime, clock, HTTP server.

use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::dispatch::{Clock, Kith};
use crate::edge::EdgeConfig;
use crate::runtime::Runtime;
use crate::store::Store;

/// Opens the database and the runtime, with compiled code cached under
/// `data_dir/cache`. `database` defaults to SQLite in `data_dir/kith.db`.
///
/// # Errors
/// If the data dir cannot be created or the database cannot be opened.
pub async fn open(
    data_dir: &Path,
    database: Option<&str>,
    clock: Clock,
) -> anyhow::Result<Arc<Kith>> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data dir {}", data_dir.display()))?;
    let url = match database {
        Some(url) => url.to_string(),
        None => format!("sqlite://{}", data_dir.join("kith.db").display()),
    };
    let store = Store::connect(&url).await?;
    let runtime = Runtime::new(Some(data_dir.join("cache")))?;
    let kith = Kith::new(store, runtime, clock);
    kith.load_auth().await?;
    Ok(kith)
}

/// Installs every `.wasm` file of a folder (sorted by name).
///
/// # Errors
/// The first file that cannot be read or installed.
pub async fn install_dir(kith: &Kith, dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    files.sort();
    let mut names = vec![];
    for file in files {
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        let installed = kith
            .install_plugin(&bytes)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        names.push(installed.metadata.name);
    }
    Ok(names)
}

/// Serves the API until the process is stopped, with the default edge
/// limits; calls `ready` with the bound address (port 0 picks a free one).
///
/// # Errors
/// If the address cannot be bound.
pub async fn serve(
    kith: Arc<Kith>,
    listen: SocketAddr,
    timer_every: Duration,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    serve_with_edge(kith, listen, timer_every, &EdgeConfig::default(), ready).await
}

/// [`serve`] with the given connection caps, timeouts and rate limits.
///
/// # Errors
/// If the address cannot be bound.
pub async fn serve_with_edge(
    kith: Arc<Kith>,
    listen: SocketAddr,
    timer_every: Duration,
    edge: &EdgeConfig,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let listener = crate::edge::bind(listen).with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    let timers = kith.spawn_timer_loop(timer_every);
    ready(addr);
    let app = crate::http::router(kith).layer(tower_http::trace::TraceLayer::new_for_http());
    let result = crate::edge::serve(listener, app, edge, shutdown_signal()).await;
    timers.abort();
    Ok(result?)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("signal handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}
