//! Plugin storage: each plugin's keys and values in a group.

use super::*;

impl Store {
    /// Bytes a plugin stores in a group.
    pub async fn storage_bytes(&self, plugin: &str, group: &str) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(LENGTH(value)), 0) AS BIGINT) FROM plugin_storage WHERE plugin = $1 AND group_id = $2",
        )
        .bind(plugin)
        .bind(group)
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u64)
    }

    /// A value a plugin stored in a group.
    pub async fn storage_get(
        &self,
        plugin: &str,
        group: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar(
            "SELECT value FROM plugin_storage WHERE plugin = $1 AND group_id = $2 AND key = $3",
        )
        .bind(plugin)
        .bind(group)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Keys from `prefix` on, sorted; the caller stops at the first key without the prefix.
    pub async fn storage_keys(
        &self,
        plugin: &str,
        group: &str,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>> {
        self.storage_keys_after(plugin, group, prefix, None, limit)
            .await
    }

    /// Like `storage_keys`, only keys that sort after `after`: the page
    /// after the one that ended with `after`.
    pub async fn storage_keys_after(
        &self,
        plugin: &str,
        group: &str,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT key FROM plugin_storage WHERE plugin = $1 AND group_id = $2 AND key >= $3 {} ORDER BY key LIMIT {}",
            if after.is_some() { "AND key > $4" } else { "" },
            limit.min(MAX_LIST)
        );
        let mut query = sqlx::query_scalar(&sql)
            .bind(plugin)
            .bind(group)
            .bind(prefix);
        if let Some(after) = after {
            query = query.bind(after);
        }
        let keys: Vec<String> = query.fetch_all(&self.pool).await?;
        Ok(keys
            .into_iter()
            .take_while(|k| k.starts_with(prefix))
            .collect())
    }
}

impl Tx<'_> {
    /// Stores a value, replacing the key's old one.
    pub async fn storage_set(
        &mut self,
        plugin: &str,
        group: &str,
        key: &str,
        value: &[u8],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO plugin_storage (plugin, group_id, key, value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (plugin, group_id, key) DO UPDATE SET value = $4",
        )
        .bind(plugin)
        .bind(group)
        .bind(key)
        .bind(value.to_vec())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Deletes a key; nothing if it does not exist.
    pub async fn storage_delete(&mut self, plugin: &str, group: &str, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM plugin_storage WHERE plugin = $1 AND group_id = $2 AND key = $3")
            .bind(plugin)
            .bind(group)
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
