//! The rows every event reads and operators rarely change (a group, its
//! enablements, an installed plugin), kept in memory.
//!
//! Writes go through `Tx`, which notes what it touches; `Tx::commit` evicts
//! those entries after the database has the new rows. On Postgres, where
//! several processes share the database, the commit also notifies the
//! others, which evict the same entries (`changes.rs`).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{Enablement, InstalledPlugin};
use crate::domain::{Group, GroupId};

/// What a transaction changed, to evict on commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Key {
    Group(GroupId),
    Enablements(GroupId),
    Plugin(String),
    /// API tokens: not cached, but other processes must hear of them.
    Tokens,
}

#[derive(Default)]
pub(super) struct Cache {
    /// Bumped by every eviction. A read that started before one must not
    /// store what it read: it may be the row the eviction replaced.
    generation: AtomicU64,
    groups: Table<GroupId, Group>,
    enablements: Table<GroupId, Arc<Vec<Enablement>>>,
    plugins: Table<String, InstalledPlugin>,
    /// Installed versions by `name@sha256`: a version never changes.
    versions: Table<String, InstalledPlugin>,
}

struct Table<K, V>(Mutex<HashMap<K, V>>);

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table(Mutex::new(HashMap::new()))
    }
}

impl<V: Clone> Table<String, V> {
    fn get(&self, key: &str) -> Option<V> {
        self.0.lock().expect("cache").get(key).cloned()
    }
    fn remove(&self, key: &str) {
        self.0.lock().expect("cache").remove(key);
    }
}

impl Cache {
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(super) fn group(&self, id: &str) -> Option<Group> {
        self.groups.get(id)
    }
    pub(super) fn enablements(&self, group: &str) -> Option<Arc<Vec<Enablement>>> {
        self.enablements.get(group)
    }
    pub(super) fn plugin(&self, name: &str) -> Option<InstalledPlugin> {
        self.plugins.get(name)
    }

    pub(super) fn version(&self, name: &str, sha256: &str) -> Option<InstalledPlugin> {
        self.versions.get(&format!("{name}@{sha256}"))
    }
    pub(super) fn keep_version(&self, p: &InstalledPlugin) {
        let key = format!("{}@{}", p.metadata.name, p.sha256);
        self.versions
            .0
            .lock()
            .expect("cache")
            .insert(key, p.clone());
    }

    pub(super) fn keep_group(&self, since: u64, g: &Group) {
        self.keep(since, &self.groups, g.id.clone(), g.clone());
    }
    pub(super) fn keep_enablements(&self, since: u64, group: &str, list: Arc<Vec<Enablement>>) {
        self.keep(since, &self.enablements, group.to_string(), list);
    }
    pub(super) fn keep_plugin(&self, since: u64, p: &InstalledPlugin) {
        self.keep(since, &self.plugins, p.metadata.name.clone(), p.clone());
    }

    /// Stores a value read from the database, unless an eviction happened
    /// since the read began (`since`, a generation).
    fn keep<K: Eq + Hash + Clone, V: Clone>(
        &self,
        since: u64,
        table: &Table<K, V>,
        key: K,
        value: V,
    ) {
        let mut map = table.0.lock().expect("cache");
        // Checked under the table's lock, which `evict` also takes.
        if self.generation() == since {
            map.insert(key, value);
        }
    }

    pub(super) fn evict(&self, keys: &[Key]) {
        if keys.is_empty() {
            return;
        }
        // First the generation, then the entries: a read racing with this
        // either sees the new generation and keeps nothing, or keeps its
        // value before the removal below.
        self.generation.fetch_add(1, Ordering::AcqRel);
        for key in keys {
            match key {
                Key::Group(g) => self.groups.remove(g),
                Key::Enablements(g) => self.enablements.remove(g),
                Key::Plugin(p) => self.plugins.remove(p),
                Key::Tokens => {}
            }
        }
    }

    /// Forgets every cached row: after changes that may have been missed.
    pub(super) fn evict_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.groups.0.lock().expect("cache").clear();
        self.enablements.0.lock().expect("cache").clear();
        self.plugins.0.lock().expect("cache").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str) -> Group {
        Group {
            id: "g".into(),
            name: name.into(),
            positioning: String::new(),
            category: String::new(),
            region: None,
            capacity: 10,
            parent: None,
            timezone: "UTC".into(),
            settings: serde_json::json!({}),
            created_at: 0,
            archived_at: None,
        }
    }

    #[test]
    fn a_read_older_than_an_eviction_is_not_kept() {
        let cache = Cache::default();
        let before = cache.generation();
        // A write commits and evicts while a read of the old row is in flight.
        cache.evict(&[Key::Group("g".into())]);
        cache.keep_group(before, &group("old"));
        assert_eq!(cache.group("g"), None);
        // A read that starts after the eviction is kept, until the next one.
        cache.keep_group(cache.generation(), &group("new"));
        assert_eq!(cache.group("g").map(|g| g.name), Some("new".into()));
        cache.evict(&[Key::Group("g".into())]);
        assert_eq!(cache.group("g"), None);
    }

    #[test]
    fn evicting_nothing_keeps_the_generation() {
        let cache = Cache::default();
        let before = cache.generation();
        cache.evict(&[]);
        cache.keep_group(before, &group("kept"));
        assert!(cache.group("g").is_some());
    }
}
