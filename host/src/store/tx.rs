//! Writes, always inside a transaction: an event's effects commit together.
//! Each entity's file adds its writes to `Tx`.

use super::cache::{Cache, Key};
use super::*;
use sqlx::{Any, Transaction};

/// A writing transaction; dropped without `commit`, it rolls back.
pub struct Tx<'c> {
    // Declared before `_turn`: a dropped transaction rolls back before the
    // next writer's turn.
    pub(super) tx: Transaction<'c, Any>,
    /// Where the few backend-specific statements differ.
    pub(super) backend: Backend,
    cache: Arc<Cache>,
    /// Cached rows this transaction changes, evicted when it commits.
    evict: Vec<Key>,
    /// SQLite's writer turn (see `Store::writer`).
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Store {
    /// Starts a transaction; on SQLite, waits for the writer's turn first.
    pub async fn begin(&self) -> Result<Tx<'static>> {
        // SQLite's writer turn (see `writer`); Postgres needs none.
        let turn = match &self.writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        Ok(Tx {
            tx: self.pool.begin().await?,
            backend: self.backend,
            cache: self.cache.clone(),
            evict: vec![],
            _turn: turn,
        })
    }
}

impl Tx<'_> {
    /// Commits, then evicts the cached rows the transaction changed.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        self.cache.evict(&self.evict);
        Ok(())
    }

    /// Notes a cached row this transaction changes.
    pub(super) fn changes(&mut self, key: Key) {
        if !self.evict.contains(&key) {
            self.evict.push(key);
        }
    }
}
