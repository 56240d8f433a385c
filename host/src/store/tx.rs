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
    /// Cached rows this transaction changes, evicted when it commits (and,
    /// on Postgres, in every other process: see `changes.rs`).
    evict: Vec<Key>,
    /// Groups whose turn this transaction holds (`lock_group`).
    locked: Vec<GroupId>,
    /// SQLite's writer turn (see `Store::writer`).
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// A group turn's place among those the pool can hold (`turn_slots`).
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
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
            locked: vec![],
            _turn: turn,
            _slot: None,
        })
    }

    /// Postgres: a transaction holding `group`'s turn across every kith
    /// process on the database until it commits or rolls back (see
    /// [`Tx::lock_group`]); the caller reads, decides and writes the group
    /// while no other process can. SQLite: `None`, one process serves the
    /// database and its in-memory lock is the turn.
    pub async fn begin_group_turn(&self, group: &str) -> Result<Option<Tx<'static>>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        // A turn keeps its connection while the event runs, and the event
        // reads through others: turns may take at most half the pool, so
        // that reads always find a connection.
        let slot = self
            .turn_slots
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        let mut tx = self.begin().await?;
        tx._slot = Some(slot);
        tx.lock_group(group).await?;
        Ok(Some(tx))
    }
}

impl Tx<'_> {
    /// Commits, then evicts the cached rows the transaction changed. On
    /// Postgres the other processes hear of them at the same instant: the
    /// notification is sent by the commit itself.
    pub async fn commit(mut self) -> Result<()> {
        if self.backend == Backend::Postgres && !self.evict.is_empty() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(super::changes::CHANNEL)
                .bind(super::changes::payload(&self.evict))
                .execute(&mut *self.tx)
                .await?;
        }
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

    /// Postgres: takes `group`'s advisory lock for the rest of the
    /// transaction (`pg_advisory_xact_lock`), waiting for the process that
    /// holds it. Every write that reads before it writes a group's state
    /// (an event's commit, a ledger transfer, a role change) holds it, so
    /// those read-then-write steps are atomic across processes. The lock
    /// ends with the transaction, also when its process dies: nothing to
    /// expire or fence. Taken once per transaction; SQLite: nothing (one
    /// process, one writer).
    pub async fn lock_group(&mut self, group: &str) -> Result<()> {
        if self.backend != Backend::Postgres || self.locked.iter().any(|g| g == group) {
            return Ok(());
        }
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("kith:group:{group}"))
            .execute(&mut *self.tx)
            .await?;
        self.locked.push(group.to_string());
        Ok(())
    }
}
