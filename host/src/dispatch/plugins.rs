//! Installing plugins and enabling them per group.

use super::*;
use crate::runtime::{InvocationContext, Loaded, PluginFile};
use crate::store::InstalledPlugin;

/// The largest plugin file accepted (a Python component is ~20 MB).
pub const MAX_PLUGIN_BYTES: usize = 64 << 20;

/// A group to run metadata calls against, which touch no group data.
fn no_group() -> Group {
    Group {
        id: "kith-install".into(),
        name: "install".into(),
        positioning: String::new(),
        category: String::new(),
        region: None,
        capacity: DEFAULT_CAPACITY,
        parent: None,
        timezone: "UTC".into(),
        settings: serde_json::json!({}),
        created_at: 0,
        archived_at: None,
    }
}

/// Checks a config schema against the JSON Schema meta-schema.
pub fn check_schema(schema: &serde_json::Value) -> std::result::Result<(), String> {
    if !schema.is_object() {
        return Err("config-schema must be a JSON object".into());
    }
    jsonschema::meta::validate(schema)
        .map_err(|e| format!("config-schema is not a valid JSON Schema: {e}"))?;
    jsonschema::validator_for(schema)
        .map(|_| ())
        .map_err(|e| format!("config-schema cannot be used: {e}"))
}

impl Kith {
    /// Reads, compiles and checks a plugin file, then records it as a
    /// version of its plugin, the latest: new enablements run it, existing
    /// ones keep their version until upgraded (`upgrade_plugin`).
    pub async fn install_plugin(&self, bytes: &[u8]) -> Result<InstalledPlugin> {
        if bytes.len() > MAX_PLUGIN_BYTES {
            return Err(ServiceError::Invalid(format!(
                "plugin is {} bytes; the limit is {MAX_PLUGIN_BYTES}",
                bytes.len()
            )));
        }
        let runtime = self.runtime.clone();
        let owned = bytes.to_vec();
        // `read_plugin_file` forgets what it compiled when it refuses a file.
        let (file, loaded) = tokio::task::spawn_blocking(move || {
            let file = runtime.read_plugin_file(&owned)?;
            let loaded = runtime.load(&file.sha256, &file.component);
            anyhow::Ok((file, loaded))
        })
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?
        .map_err(|e| ServiceError::Unprocessable(format!("{e:#}")))?;
        let checked = match loaded {
            Ok(loaded) => self.check_upload(&file, &loaded).await,
            Err(e) => Err(ServiceError::Unprocessable(format!("{e:#}"))),
        };
        // Nothing of a refused upload is kept, unless it was already here.
        let metadata = checked.inspect_err(|_| {
            if file.fresh {
                self.runtime.forget(&file.sha256);
            }
        })?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.put_plugin(&metadata, &file.sha256, &file.component, now)
            .await?;
        tx.commit().await?;
        Ok(InstalledPlugin {
            metadata,
            sha256: file.sha256,
            installed_at: now,
        })
    }

    /// The checks an uploaded plugin passes after compiling: its metadata
    /// runs, names the world it implements and has a usable schema.
    async fn check_upload(&self, file: &PluginFile, loaded: &Loaded) -> Result<PluginMetadata> {
        let metadata = self
            .plugin_metadata(loaded)
            .await
            .map_err(ServiceError::Unprocessable)?;
        if file.world.kind().is_some_and(|kind| kind != metadata.kind) {
            return Err(ServiceError::Unprocessable(format!(
                "metadata says kind {} but the component implements {}",
                metadata.kind, file.world
            )));
        }
        check_schema(&metadata.config_schema).map_err(ServiceError::Unprocessable)?;
        Ok(metadata)
    }

    async fn plugin_metadata(
        &self,
        loaded: &Loaded,
    ) -> std::result::Result<PluginMetadata, String> {
        let ctx = InvocationContext {
            store: self.store.clone(),
            group: no_group(),
            plugin: "install".into(),
            event_id: "install".into(),
            now: self.clock.now(),
            seed: 0,
            config: "{}".into(),
            granted: vec![],
            limits: Limits::default(),
        };
        self.runtime.metadata(loaded, ctx).await
    }

    /// The plugin's latest version, compiled (loaded from the store on
    /// first use): what a new enablement runs.
    pub(crate) async fn loaded(&self, name: &str) -> Result<(InstalledPlugin, Loaded)> {
        let latest = self.store.get_plugin(name).await?;
        load(&self.store, &self.runtime, name, &latest.sha256).await
    }

    /// Compiles the latest version of every installed plugin and every
    /// version an enablement runs, as many at once as there are cores, so
    /// the first events do not wait. An event for a plugin still compiling
    /// waits for that compilation (`Runtime::load`).
    ///
    /// # Errors
    /// The first plugin that cannot be read or compiled.
    pub async fn warm_up(self: &Arc<Self>) -> Result<usize> {
        let mut versions: Vec<(String, String)> = self
            .store
            .list_plugins()
            .await?
            .into_iter()
            .map(|p| (p.metadata.name, p.sha256))
            .collect();
        versions.extend(self.store.pinned_versions().await?);
        versions.sort();
        versions.dedup();
        let count = versions.len();
        for_each_on_cores(versions, |(name, sha)| {
            let kith = self.clone();
            async move {
                load(&kith.store, &kith.runtime, &name, &sha)
                    .await
                    .map(drop)
            }
        })
        .await?;
        Ok(count)
    }
}

/// A version of a plugin, compiled, loading it from `store` on first use
/// (an event loads through its own view of the store).
pub(super) async fn load(
    store: &Store,
    runtime: &Arc<Runtime>,
    name: &str,
    sha256: &str,
) -> Result<(InstalledPlugin, Loaded)> {
    let installed = store.get_plugin_version(name, sha256).await?;
    if !runtime.is_loaded(sha256) {
        let wasm = store.plugin_wasm(name, sha256).await?;
        let runtime = runtime.clone();
        let sha = sha256.to_string();
        let loaded = tokio::task::spawn_blocking(move || runtime.load(&sha, &wasm))
            .await
            .map_err(|e| ServiceError::Internal(e.into()))??;
        return Ok((installed, loaded));
    }
    let loaded = runtime.load(sha256, &[])?;
    Ok((installed, loaded))
}

/// Runs `work` on every item, at most as many at once as there are cores;
/// the first error is returned once the rest have finished.
pub async fn for_each_on_cores<T, F, Fut, E>(items: Vec<T>, work: F) -> Result<(), E>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>> + Send + 'static,
    E: Send + 'static,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let turns = Arc::new(tokio::sync::Semaphore::new(cores));
    let mut tasks = tokio::task::JoinSet::new();
    for item in items {
        let turn = turns.clone().acquire_owned().await.expect("never closed");
        let job = work(item);
        tasks.spawn(async move {
            let result = job.await;
            drop(turn);
            result
        });
    }
    let mut first_error = None;
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done.expect("a compile task panicked") {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}
