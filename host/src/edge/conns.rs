//! The open connections: at most `cap` of them. At the cap, a new
//! connection closes the one that has been idle (no request in progress)
//! the longest, so that a flood of idle connections cannot lock anyone
//! out; only when every connection is busy does a new one wait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// The table of open connections.
pub struct Conns {
    cap: usize,
    slots: Arc<Semaphore>,
    open: Mutex<HashMap<u64, Arc<ConnState>>>,
    next_id: AtomicU64,
    idle_timeout: Duration,
    /// Times are kept as milliseconds since this instant, in atomics.
    epoch: Instant,
}

/// What the table knows of one connection.
pub struct ConnState {
    in_flight: AtomicUsize,
    last_active_ms: AtomicU64,
    closing: AtomicBool,
    close: Notify,
}

/// A connection's place in the table, freed when dropped.
pub struct Slot {
    id: u64,
    state: Arc<ConnState>,
    conns: Arc<Conns>,
    _permit: OwnedSemaphorePermit,
}

/// A request in progress on a connection, counted until dropped.
pub struct Busy {
    state: Arc<ConnState>,
    conns: Arc<Conns>,
}

impl Conns {
    /// A table for `cap` connections, closing those idle for `idle_timeout`.
    pub fn new(cap: usize, idle_timeout: Duration) -> Arc<Self> {
        Arc::new(Conns {
            cap: cap.max(1),
            slots: Arc::new(Semaphore::new(cap.max(1))),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            idle_timeout,
            epoch: Instant::now(),
        })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// A place for a new connection: a free one, or the one of the longest
    /// idle connection once it has closed, or else the first to close.
    pub async fn admit(self: &Arc<Self>) -> Slot {
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                self.close_idlest();
                self.slots
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed")
            }
        };
        let state = Arc::new(ConnState {
            in_flight: AtomicUsize::new(0),
            last_active_ms: AtomicU64::new(self.now_ms()),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.open
            .lock()
            .expect("connections")
            .insert(id, state.clone());
        Slot {
            id,
            state,
            conns: self.clone(),
            _permit: permit,
        }
    }

    /// Asks the idle connections least recently active to close: 1% of
    /// the cap at a time, so that under a flood the scan of the table is
    /// paid once per many new connections, not for each.
    fn close_idlest(&self) {
        let batch = (self.cap / 100).max(1);
        let open = self.open.lock().expect("connections");
        let mut idle: Vec<&Arc<ConnState>> = open
            .values()
            .filter(|c| c.in_flight.load(Ordering::Relaxed) == 0)
            .filter(|c| !c.closing.load(Ordering::Relaxed))
            .collect();
        let key = |c: &&Arc<ConnState>| c.last_active_ms.load(Ordering::Relaxed);
        if idle.len() > batch {
            idle.select_nth_unstable_by_key(batch, key);
            idle.truncate(batch);
        }
        for conn in idle {
            conn.ask_to_close();
        }
    }

    /// Asks every connection to close once its requests are done.
    pub fn close_all(&self) {
        for conn in self.open.lock().expect("connections").values() {
            conn.ask_to_close();
        }
    }

    /// The number of open connections.
    pub fn len(&self) -> usize {
        self.open.lock().expect("connections").len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ConnState {
    fn ask_to_close(&self) {
        self.closing.store(true, Ordering::Relaxed);
        // notify_one keeps the wake-up if the connection is not waiting yet.
        self.close.notify_one();
    }
}

impl Slot {
    /// Counts a request in progress until the returned guard is dropped.
    pub fn busy(&self) -> Busy {
        self.state.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy {
            state: self.state.clone(),
            conns: self.conns.clone(),
        }
    }

    /// Whether a request is in progress.
    pub fn is_busy(&self) -> bool {
        self.state.in_flight.load(Ordering::Relaxed) > 0
    }

    /// Resolves when the connection should close: it was asked to (a newer
    /// connection needs its place, or the server is stopping), or it has
    /// had no request in progress for the idle timeout.
    pub async fn should_close(&self) {
        loop {
            let idle_for = Duration::from_millis(
                self.conns
                    .now_ms()
                    .saturating_sub(self.state.last_active_ms.load(Ordering::Relaxed)),
            );
            if !self.is_busy() && idle_for >= self.conns.idle_timeout {
                return;
            }
            let wait = self.conns.idle_timeout.saturating_sub(idle_for);
            tokio::select! {
                _ = self.state.close.notified() => return,
                _ = tokio::time::sleep(wait.max(Duration::from_millis(10))) => {}
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.conns
            .open
            .lock()
            .expect("connections")
            .remove(&self.id);
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.state
            .last_active_ms
            .store(self.conns.now_ms(), Ordering::Relaxed);
        self.state.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn at_the_cap_the_longest_idle_connection_gives_way() {
        let conns = Conns::new(2, Duration::from_secs(60));
        let first = conns.admit().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = conns.admit().await;
        let _request = first.busy();
        // `first` is busy, so `second` is asked to close.
        let third = tokio::spawn({
            let conns = conns.clone();
            async move { conns.admit().await }
        });
        tokio::time::timeout(Duration::from_secs(1), second.should_close())
            .await
            .expect("the idle connection is asked to close");
        drop(second);
        let third = tokio::time::timeout(Duration::from_secs(1), third)
            .await
            .expect("the new connection gets its place")
            .unwrap();
        assert_eq!(conns.len(), 2);
        drop((first, third));
        assert!(conns.is_empty());
    }
}
