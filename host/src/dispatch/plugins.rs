//! Installing plugins and enabling them per group.

use super::*;
use crate::runtime::{InvocationContext, Loaded};
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
    /// Reads, compiles and checks a plugin file, then records it. Installing
    /// a plugin of a name already present replaces it (an upgrade).
    pub async fn install_plugin(&self, bytes: &[u8]) -> Result<InstalledPlugin> {
        if bytes.len() > MAX_PLUGIN_BYTES {
            return Err(ServiceError::Invalid(format!(
                "plugin is {} bytes; the limit is {MAX_PLUGIN_BYTES}",
                bytes.len()
            )));
        }
        let runtime = self.runtime.clone();
        let owned = bytes.to_vec();
        let (file, loaded) = tokio::task::spawn_blocking(move || {
            let file = runtime.read_plugin_file(&owned)?;
            let loaded = runtime.load(&file.sha256, &file.component)?;
            anyhow::Ok((file, loaded))
        })
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?
        .map_err(|e| ServiceError::Unprocessable(format!("{e:#}")))?;
        let metadata = self
            .plugin_metadata(&loaded)
            .await
            .map_err(ServiceError::Unprocessable)?;
        if metadata.kind != file.kind {
            return Err(ServiceError::Unprocessable(format!(
                "metadata says kind {} but the component implements the {} world",
                metadata.kind, file.kind
            )));
        }
        check_schema(&metadata.config_schema).map_err(ServiceError::Unprocessable)?;
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

    /// The compiled plugin, loading it from the store on first use.
    pub(crate) async fn loaded(&self, name: &str) -> Result<(InstalledPlugin, Loaded)> {
        load(&self.store, &self.runtime, name).await
    }

    /// Compiles every installed plugin, so the first events do not wait.
    pub async fn warm_up(&self) -> Result<usize> {
        let plugins = self.store.list_plugins().await?;
        for p in &plugins {
            self.loaded(&p.metadata.name).await?;
        }
        Ok(plugins.len())
    }
}

/// The compiled plugin, loading it from `store` on first use (an event
/// loads through its own view of the store).
pub(super) async fn load(
    store: &Store,
    runtime: &Arc<Runtime>,
    name: &str,
) -> Result<(InstalledPlugin, Loaded)> {
    let installed = store.get_plugin(name).await?;
    if !runtime.is_loaded(&installed.sha256) {
        let wasm = store.plugin_wasm(name).await?;
        let runtime = runtime.clone();
        let sha = installed.sha256.clone();
        let loaded = tokio::task::spawn_blocking(move || runtime.load(&sha, &wasm))
            .await
            .map_err(|e| ServiceError::Internal(e.into()))??;
        return Ok((installed, loaded));
    }
    let loaded = runtime.load(&installed.sha256, &[])?;
    Ok((installed, loaded))
}
