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

/// Installs every `.wasm` file of a folder, as many at once as there are
/// cores; returns the plugins' names, sorted.
///
/// # Errors
/// A folder that cannot be read, or the first file that cannot be read or
/// installed (the others are still installed).
pub async fn install_dir(kith: &Arc<Kith>, dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    files.sort();
    let names = Arc::new(std::sync::Mutex::new(vec![]));
    crate::dispatch::for_each_on_cores(files, |file| {
        let (kith, names) = (kith.clone(), names.clone());
        async move {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let installed = kith
                .install_plugin(&bytes)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            names.lock().expect("names").push(installed.metadata.name);
            anyhow::Ok(())
        }
    })
    .await?;
    let mut names = std::mem::take(&mut *names.lock().expect("names"));
    names.sort();
    Ok(names)
}

/// Gets plugins ready in the background while the server already answers:
/// installs `--install`'s folder, then compiles every installed plugin.
/// An event for a plugin still compiling waits for it; a plugin that fails
/// to install is reported here and left out. `/healthz` says `"plugins":
/// "preparing"` until this is done, then `"ready"`.
pub fn prepare_plugins(kith: Arc<Kith>, install: Option<PathBuf>) -> tokio::task::JoinHandle<()> {
    kith.set_preparing_plugins(true);
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        if let Some(dir) = install {
            match install_dir(&kith, &dir).await {
                Ok(names) => println!(
                    "installed {} plugin(s) from {}: {}",
                    names.len(),
                    dir.display(),
                    names.join(", ")
                ),
                Err(e) => eprintln!("error: installing plugins from {}: {e:#}", dir.display()),
            }
        }
        match kith.warm_up().await {
            Ok(n) => println!(
                "{n} plugin(s) compiled and ready in {} ms",
                started.elapsed().as_millis()
            ),
            Err(e) => eprintln!("error: compiling the installed plugins: {e}"),
        }
        kith.set_preparing_plugins(false);
    })
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
    crate::telemetry::init();
    let listener = crate::edge::bind(listen).with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    // Stopped with the server, also when the future serving is dropped.
    let _timers = AbortOnDrop(Some(kith.spawn_timer_loop(timer_every)));
    let _changes = AbortOnDrop(kith.follow_changes().await);
    ready(addr);
    let app = crate::http::router(kith).layer(tower_http::trace::TraceLayer::new_for_http());
    Ok(crate::edge::serve(listener, app, edge, shutdown_signal()).await?)
}

/// A background task that ends with its owner.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
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
