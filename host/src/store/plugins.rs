//! Installed plugins and their enablements on groups.

use super::cache::Key;
use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A plugin as installed: its metadata and the hash of its component.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct InstalledPlugin {
    /// What the plugin says about itself, read at install.
    pub metadata: PluginMetadata,
    /// Hex SHA-256 of the plugin's component.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// When the plugin was installed. Unix epoch milliseconds.
    pub installed_at: Millis,
}

/// A plugin switched on for a group, with the operator's choices.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Enablement {
    /// The group it is enabled on.
    pub group: GroupId,
    /// The plugin's name.
    pub plugin: String,
    /// Run order among the group's plugins, lower first.
    pub position: i64,
    /// The plugin's config, valid against its config schema.
    pub config: serde_json::Value,
    /// Capabilities granted.
    pub capabilities: Vec<Capability>,
    /// The budget of each invocation.
    pub limits: Limits,
    /// When the plugin was first enabled on the group. Unix epoch milliseconds.
    pub enabled_at: Millis,
    /// Failed invocations in a row.
    pub consecutive_failures: i64,
    /// The message of the latest failure, if any (a success leaves it).
    pub last_error: Option<String>,
    /// What a failure means, and when the plugin is switched off.
    pub policy: FailurePolicy,
    /// Set when the host switched the plugin off (e.g. too many failures);
    /// enabling it again clears it.
    pub disabled_reason: Option<String>,
    /// The version it runs: the content hash of one of the plugin's
    /// installed versions (`GET /v1/plugins/{name}/versions`). Installing
    /// a newer version changes nothing here; an upgrade does.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    #[serde(default)]
    pub sha256: String,
    /// What it ran before its last upgrade, which `rollback` restores;
    /// null if it was never upgraded.
    #[serde(default)]
    pub previous: Option<PinnedVersion>,
    /// A candidate version running in shadow beside this one: it sees the
    /// same events, its effects are recorded, never applied.
    #[serde(default)]
    pub shadow: Option<Shadow>,
}

/// A version in shadow (`PUT /v1/groups/{group}/plugins/{name}/shadow`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Shadow {
    /// The candidate's content hash.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// The config it runs with.
    pub config: serde_json::Value,
    /// Since when it runs. Unix epoch milliseconds.
    pub since: Millis,
}

/// A version an enablement ran, with the config and grant it ran with.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PinnedVersion {
    /// The version's content hash.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// The config it ran with.
    pub config: serde_json::Value,
    /// The capabilities granted to it.
    pub capabilities: Vec<Capability>,
}

impl Enablement {
    /// What the plugin may do: what the operator granted, within what the
    /// plugin declares.
    pub fn granted(&self, declared: &[Capability]) -> Vec<Capability> {
        self.capabilities
            .iter()
            .copied()
            .filter(|c| declared.contains(c))
            .collect()
    }
}

fn installed_plugin_from_row(row: &AnyRow) -> Result<InstalledPlugin> {
    Ok(InstalledPlugin {
        metadata: json(&row.try_get::<String, _>("metadata")?)?,
        sha256: row.try_get("wasm_sha256")?,
        installed_at: row.try_get("installed_at")?,
    })
}

fn enablement_from_row(row: &AnyRow) -> Result<Enablement> {
    Ok(Enablement {
        group: row.try_get("group_id")?,
        plugin: row.try_get("plugin")?,
        position: row.try_get("position")?,
        config: json(&row.try_get::<String, _>("config")?)?,
        capabilities: json(&row.try_get::<String, _>("capabilities")?)?,
        limits: json(&row.try_get::<String, _>("limits")?)?,
        enabled_at: row.try_get("enabled_at")?,
        consecutive_failures: row.try_get("consecutive_failures")?,
        last_error: row.try_get("last_error")?,
        policy: json(&row.try_get::<String, _>("policy")?)?,
        disabled_reason: row.try_get("disabled_reason")?,
        sha256: row
            .try_get::<Option<String>, _>("sha256")?
            .unwrap_or_default(),
        previous: row
            .try_get::<Option<String>, _>("previous")?
            .map(|text| json(&text))
            .transpose()?,
        shadow: row
            .try_get::<Option<String>, _>("shadow")?
            .map(|text| json(&text))
            .transpose()?,
    })
}

fn version_from_row(row: &AnyRow) -> Result<InstalledPlugin> {
    Ok(InstalledPlugin {
        metadata: json(&row.try_get::<String, _>("metadata")?)?,
        sha256: row.try_get("sha256")?,
        installed_at: row.try_get("installed_at")?,
    })
}

impl Store {
    /// An installed plugin, from memory after the first read.
    pub async fn get_plugin(&self, name: &str) -> Result<InstalledPlugin> {
        if let Some(p) = self.cache.plugin(name) {
            return Ok(p);
        }
        let since = self.cache.generation();
        let row =
            sqlx::query("SELECT metadata, wasm_sha256, installed_at FROM plugins WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("plugin {name:?}")))?;
        let plugin = installed_plugin_from_row(&row)?;
        self.cache.keep_plugin(since, &plugin);
        Ok(plugin)
    }

    /// One installed version of a plugin, by its content hash; from memory
    /// after the first read (a version never changes).
    pub async fn get_plugin_version(&self, name: &str, sha256: &str) -> Result<InstalledPlugin> {
        if let Some(p) = self.cache.version(name, sha256) {
            return Ok(p);
        }
        let row = sqlx::query(
            "SELECT metadata, sha256, installed_at FROM plugin_versions WHERE name = $1 AND sha256 = $2",
        )
        .bind(name)
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("version {sha256:.12} of plugin {name:?}")))?;
        let plugin = version_from_row(&row)?;
        self.cache.keep_version(&plugin);
        Ok(plugin)
    }

    /// The installed versions of a plugin, newest first.
    pub async fn plugin_versions(&self, name: &str) -> Result<Vec<InstalledPlugin>> {
        let rows = sqlx::query(
            "SELECT metadata, sha256, installed_at FROM plugin_versions WHERE name = $1 \
             ORDER BY installed_at DESC, sha256",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// A version's component.
    pub async fn plugin_wasm(&self, name: &str, sha256: &str) -> Result<Vec<u8>> {
        sqlx::query_scalar("SELECT wasm FROM plugin_versions WHERE name = $1 AND sha256 = $2")
            .bind(name)
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("version {sha256:.12} of plugin {name:?}")))
    }

    /// The versions enablements run, as (plugin, content hash).
    pub async fn pinned_versions(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT DISTINCT plugin, sha256 FROM enablements ORDER BY plugin, sha256",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every enablement of a plugin, on any group, switched off or not.
    pub async fn enablements_of(&self, plugin: &str) -> Result<Vec<Enablement>> {
        let rows = sqlx::query("SELECT * FROM enablements WHERE plugin = $1 ORDER BY group_id")
            .bind(plugin)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(enablement_from_row).collect()
    }

    /// Every installed plugin, by name.
    pub async fn list_plugins(&self) -> Result<Vec<InstalledPlugin>> {
        let rows =
            sqlx::query("SELECT metadata, wasm_sha256, installed_at FROM plugins ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(installed_plugin_from_row).collect()
    }

    /// A group's enabled plugins in the operator's order.
    pub async fn enablements(&self, group: &str) -> Result<Vec<Enablement>> {
        let rows =
            sqlx::query("SELECT * FROM enablements WHERE group_id = $1 ORDER BY position, plugin")
                .bind(group)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(enablement_from_row).collect()
    }

    /// The plugins that run on a group's events, in order: those not
    /// switched off. From memory after the first call; the failure counters
    /// in it may lag (read `enablements` for those).
    pub async fn active_enablements(&self, group: &str) -> Result<Arc<Vec<Enablement>>> {
        if let Some(list) = self.cache.enablements(group) {
            return Ok(list);
        }
        let since = self.cache.generation();
        let mut list = self.enablements(group).await?;
        list.retain(|e| e.disabled_reason.is_none());
        let list = Arc::new(list);
        self.cache.keep_enablements(since, group, list.clone());
        Ok(list)
    }

    /// Where a plugin ran before it was disabled on a group, if it was.
    pub async fn remembered_place(&self, group: &str, plugin: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT position FROM plugin_places WHERE group_id = $1 AND plugin = $2",
        )
        .bind(group)
        .bind(plugin)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A plugin's enablement on a group, switched off or not.
    pub async fn get_enablement(&self, group: &str, plugin: &str) -> Result<Enablement> {
        let row = sqlx::query("SELECT * FROM enablements WHERE group_id = $1 AND plugin = $2")
            .bind(group)
            .bind(plugin)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(enablement_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("plugin {plugin:?} on group {group:?}")))
    }
}

impl Tx<'_> {
    /// Installs a version of a plugin beside the others (the same file
    /// again changes nothing but its install time) and makes it the latest:
    /// what new enablements run. Enablements keep the version they run.
    pub async fn put_plugin(
        &mut self,
        metadata: &PluginMetadata,
        sha256: &str,
        wasm: &[u8],
        at: Millis,
    ) -> Result<()> {
        self.changes(Key::Plugin(metadata.name.clone()));
        sqlx::query(
            "INSERT INTO plugin_versions (name, sha256, version, kind, metadata, wasm, installed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name, sha256) DO UPDATE SET installed_at = $7",
        )
        .bind(&metadata.name)
        .bind(sha256)
        .bind(&metadata.version)
        .bind(metadata.kind.as_str())
        .bind(to_json(metadata))
        .bind(wasm.to_vec())
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        self.point_at(metadata, sha256, at).await
    }

    /// Makes a version the plugin's latest (the row of `plugins`).
    async fn point_at(
        &mut self,
        metadata: &PluginMetadata,
        sha256: &str,
        at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO plugins (name, version, kind, metadata, wasm_sha256, wasm, installed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET version = $2, kind = $3, \
             metadata = $4, wasm_sha256 = $5, installed_at = $7",
        )
        .bind(&metadata.name)
        .bind(&metadata.version)
        .bind(metadata.kind.as_str())
        .bind(to_json(metadata))
        .bind(sha256)
        .bind(Vec::<u8>::new())
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Uninstalls one version (the caller checked that nothing runs it). If
    /// it was the latest, the newest remaining one becomes the latest; the
    /// last one goes with the plugin's name. Returns whether the name went.
    pub async fn delete_plugin_version(&mut self, name: &str, sha256: &str) -> Result<bool> {
        self.changes(Key::Plugin(name.to_string()));
        let deleted = sqlx::query("DELETE FROM plugin_versions WHERE name = $1 AND sha256 = $2")
            .bind(name)
            .bind(sha256)
            .execute(&mut *self.tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "version {sha256:.12} of plugin {name:?}"
            )));
        }
        let newest = sqlx::query(
            "SELECT metadata, sha256, installed_at FROM plugin_versions WHERE name = $1 \
             ORDER BY installed_at DESC, sha256 LIMIT 1",
        )
        .bind(name)
        .fetch_optional(&mut *self.tx)
        .await?;
        match newest {
            Some(row) => {
                let newest = version_from_row(&row)?;
                self.point_at(&newest.metadata, &newest.sha256, newest.installed_at)
                    .await?;
                Ok(false)
            }
            None => {
                for sql in [
                    "DELETE FROM plugin_places WHERE plugin = $1",
                    "DELETE FROM plugins WHERE name = $1",
                ] {
                    sqlx::query(sql).bind(name).execute(&mut *self.tx).await?;
                }
                Ok(true)
            }
        }
    }

    /// Enables a plugin on a group, or updates its enablement.
    pub async fn put_enablement(&mut self, e: &Enablement) -> Result<()> {
        self.changes(Key::Enablements(e.group.clone()));
        sqlx::query(
            "INSERT INTO enablements (group_id, plugin, position, config, capabilities, limits, enabled_at, \
             consecutive_failures, last_error, policy, disabled_reason, sha256, previous, shadow) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (group_id, plugin) DO UPDATE SET position = $3, config = $4, capabilities = $5, limits = $6, \
             consecutive_failures = $8, last_error = $9, policy = $10, disabled_reason = $11, sha256 = $12, \
             previous = $13, shadow = $14",
        )
        .bind(&e.group)
        .bind(&e.plugin)
        .bind(e.position)
        .bind(to_json(&e.config))
        .bind(to_json(&e.capabilities))
        .bind(to_json(&e.limits))
        .bind(e.enabled_at)
        .bind(e.consecutive_failures)
        .bind(&e.last_error)
        .bind(to_json(&e.policy))
        .bind(&e.disabled_reason)
        .bind(&e.sha256)
        .bind(e.previous.as_ref().map(to_json))
        .bind(e.shadow.as_ref().map(to_json))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Switches a plugin off for a group; its storage and timers stay for a
    /// re-enable. Its timers are paused, not lost: they fire (overdue ones
    /// once) when it is enabled again.
    pub async fn delete_enablement(&mut self, group: &str, plugin: &str) -> Result<()> {
        self.changes(Key::Enablements(group.to_string()));
        let result = sqlx::query("DELETE FROM enablements WHERE group_id = $1 AND plugin = $2")
            .bind(group)
            .bind(plugin)
            .execute(&mut *self.tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "plugin {plugin:?} on group {group:?}"
            )));
        }
        // Timers are kept: `due_timers` skips them while the plugin is off,
        // and overdue ones fire once it is enabled again (memberships expire,
        // escrow comes back).
        Ok(())
    }

    /// Moves a plugin to a position among its group's plugins (the caller
    /// keeps positions a clean 0..n).
    pub async fn set_position(&mut self, group: &str, plugin: &str, position: i64) -> Result<()> {
        self.changes(Key::Enablements(group.to_string()));
        sqlx::query("UPDATE enablements SET position = $3 WHERE group_id = $1 AND plugin = $2")
            .bind(group)
            .bind(plugin)
            .bind(position)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Remembers where a plugin being disabled ran, for when it is enabled again.
    pub async fn remember_place(&mut self, group: &str, plugin: &str, position: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO plugin_places (group_id, plugin, position) VALUES ($1, $2, $3) \
             ON CONFLICT (group_id, plugin) DO UPDATE SET position = $3",
        )
        .bind(group)
        .bind(plugin)
        .bind(position)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Counts a plugin's failure or resets the count after a success; a
    /// failure that reaches the policy's limit switches the plugin off.
    /// Returns the reason when this failure switched it off.
    pub async fn record_outcome(
        &mut self,
        group: &str,
        plugin: &str,
        error: Option<&str>,
    ) -> Result<Option<String>> {
        let Some(error) = error else {
            let reset = sqlx::query("UPDATE enablements SET consecutive_failures = 0 WHERE group_id = $1 AND plugin = $2 AND consecutive_failures <> 0")
                .bind(group)
                .bind(plugin)
                .execute(&mut *self.tx)
                .await?;
            if reset.rows_affected() > 0 {
                self.changes(Key::Enablements(group.to_string()));
            }
            return Ok(None);
        };
        // A failure may switch the plugin off; a success changes only counters.
        self.changes(Key::Enablements(group.to_string()));
        let row = sqlx::query(
            "UPDATE enablements SET consecutive_failures = consecutive_failures + 1, last_error = $3 \
             WHERE group_id = $1 AND plugin = $2 RETURNING consecutive_failures, policy",
        )
        .bind(group)
        .bind(plugin)
        .bind(error)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let failures: i64 = row.try_get("consecutive_failures")?;
        let policy: FailurePolicy = json(&row.try_get::<String, _>("policy")?)?;
        if policy
            .disable_after
            .is_some_and(|n| failures >= i64::from(n))
        {
            let reason =
                format!("switched off after {failures} failures in a row; the last: {error}");
            let switched = sqlx::query("UPDATE enablements SET disabled_reason = $3 WHERE group_id = $1 AND plugin = $2 AND disabled_reason IS NULL")
                .bind(group)
                .bind(plugin)
                .bind(&reason)
                .execute(&mut *self.tx)
                .await?;
            if switched.rows_affected() > 0 {
                return Ok(Some(reason));
            }
        }
        Ok(None)
    }
}
