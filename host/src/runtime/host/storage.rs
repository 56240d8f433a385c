use super::*;
use crate::runtime::bindings::kith::plugin::storage::Host;

impl Host for HostState {
    async fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        self.require_or_trap(Capability::Storage)?;
        if let Some(buffered) = overlay_storage(&key, self.own_effects()) {
            return Ok(buffered.map(<[u8]>::to_vec));
        }
        Ok(self
            .ctx
            .store
            .storage_get(&self.ctx.plugin, &self.ctx.group.id, &key)
            .await?)
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<Result<(), WitError>> {
        if let Err(e) = self
            .require(Capability::Storage)
            .and_then(|()| check_text("storage key", &key, MAX_KEY))
            .and_then(|()| check_len("storage value", value.len(), MAX_VALUE))
        {
            return Ok(Err(e));
        }
        // The quota counts what is stored, minus the value being replaced,
        // plus what this invocation has buffered.
        let (plugin, group) = (&self.ctx.plugin, &self.ctx.group.id);
        let stored = self.ctx.store.storage_bytes(plugin, group).await?;
        let replaced = self
            .ctx
            .store
            .storage_get(plugin, group, &key)
            .await?
            .map_or(0, |v| v.len() as u64);
        let buffered: u64 = self
            .own_effects()
            .iter()
            .map(|e| match e {
                Effect::StorageSet { key: k, value } if *k != key => value.len() as u64,
                _ => 0,
            })
            .sum();
        let total = stored.saturating_sub(replaced) + buffered + value.len() as u64;
        if total > self.ctx.limits.storage_bytes {
            let quota = self.ctx.limits.storage_bytes;
            return Ok(Err(err(
                ErrorCode::QuotaExceeded,
                format!("storage would hold {total} bytes; the quota is {quota}"),
            )));
        }
        Ok(self.push(Effect::StorageSet { key, value }))
    }

    async fn delete(&mut self, key: String) -> HostResult<Result<(), WitError>> {
        if let Err(e) = self.require(Capability::Storage) {
            return Ok(Err(e));
        }
        Ok(self.push(Effect::StorageDelete { key }))
    }

    async fn list_keys(&mut self, prefix: String, limit: u32) -> HostResult<Vec<String>> {
        self.storage_keys(prefix, None, limit).await
    }
}

impl HostState {
    /// `list-keys` and, since 0.2.0, `list-keys-after`: stored keys and
    /// this invocation's own sets and deletes, sorted, after `after`.
    pub(super) async fn storage_keys(
        &mut self,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> HostResult<Vec<String>> {
        self.require_or_trap(Capability::Storage)?;
        let limit = if limit == 0 {
            crate::store::MAX_LIST
        } else {
            limit.min(crate::store::MAX_LIST)
        } as usize;
        if after.as_deref().is_some_and(has_nul) {
            return Ok(vec![]);
        }
        let mut keys = self
            .ctx
            .store
            .storage_keys_after(
                &self.ctx.plugin,
                &self.ctx.group.id,
                &prefix,
                after.as_deref(),
                crate::store::MAX_LIST,
            )
            .await?;
        for effect in self.own_effects() {
            match effect {
                Effect::StorageSet { key, .. } if key.starts_with(&prefix) => {
                    keys.push(key.clone())
                }
                Effect::StorageDelete { key } => keys.retain(|k| k != key),
                _ => {}
            }
        }
        keys.retain(|k| after.as_ref().is_none_or(|a| k > a));
        keys.sort();
        keys.dedup();
        keys.truncate(limit);
        Ok(keys)
    }
}
