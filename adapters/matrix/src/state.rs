//! What the adapter remembers between runs, in one JSON file written
//! atomically: the sync token (so a restart neither replays nor loses
//! events), the bot's session, DM rooms, and what it delivered.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// How many delivered action ids and posted message ids are remembered.
const REMEMBERED: usize = 10_000;

/// The adapter's persistent state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The bot's session, so restarts reuse one device (and Matrix's
    /// transaction-id deduplication, which is per device).
    pub access_token: Option<String>,
    pub user_id: Option<String>,
    /// `next_batch` of the last sync whose events kith has taken.
    pub since: Option<String>,
    /// Member → their direct-message room with the bot.
    #[serde(default)]
    pub dms: BTreeMap<String, String>,
    /// kith message id → Matrix event id of the bot's posts, newest last.
    #[serde(default)]
    pub posts: VecDeque<(String, String)>,
    /// Outbox action ids Matrix accepted (kept in case the ack to kith was
    /// lost: the action is then acked again, not carried out twice).
    #[serde(default)]
    pub delivered: BTreeSet<i64>,
    /// Member → groups where their knock awaits kith's gates: their DM
    /// messages are answers to those groups' challenges.
    #[serde(default)]
    pub knocks: BTreeMap<String, BTreeSet<String>>,
    /// Mutes to lift when they expire.
    #[serde(default)]
    pub restrictions: Vec<Restriction>,
}

/// A member muted in a room until `until` (Unix ms); `previous` is their
/// power level before, restored afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restriction {
    pub room: String,
    pub member: String,
    pub until: i64,
    pub previous: Option<i64>,
}

impl State {
    /// Reads the state file; a missing file is a fresh start.
    pub fn load(path: &Path) -> anyhow::Result<State> {
        if !path.exists() {
            return Ok(State::default());
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Writes the file atomically (a temporary file renamed over it), so a
    /// crash leaves the old state or the new one. It holds the bot's access
    /// token: only the owner may read it.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
    }

    /// Remembers the Matrix event a kith post became.
    pub fn remember_post(&mut self, message_id: &str, event_id: &str) {
        self.posts.push_back((message_id.into(), event_id.into()));
        while self.posts.len() > REMEMBERED {
            self.posts.pop_front();
        }
    }

    /// The Matrix event of a kith message id: a post of the bot's, or a
    /// message that came from Matrix (whose kith id is its event id).
    pub fn event_of(&self, message_id: &str) -> String {
        self.posts
            .iter()
            .rev()
            .find(|(m, _)| m == message_id)
            .map(|(_, e)| e.clone())
            .unwrap_or_else(|| message_id.to_string())
    }

    /// Records a delivered action, forgetting the oldest beyond the cap.
    pub fn mark_delivered(&mut self, id: i64) {
        self.delivered.insert(id);
        while self.delivered.len() > REMEMBERED {
            self.delivered.pop_first();
        }
    }

    /// The member whose DM room this is.
    pub fn dm_member(&self, room: &str) -> Option<&str> {
        self.dms
            .iter()
            .find(|(_, r)| *r == room)
            .map(|(m, _)| m.as_str())
    }

    /// Forgets a knock once kith decided it (approve, decline, redirect).
    pub fn knock_decided(&mut self, member: &str, group: &str) {
        if let Some(groups) = self.knocks.get_mut(member) {
            groups.remove(group);
            if groups.is_empty() {
                self.knocks.remove(member);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_lookups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(State::load(&path).unwrap(), State::default());
        let mut s = State {
            since: Some("s1".into()),
            ..State::default()
        };
        s.remember_post("p-1", "$e1");
        s.mark_delivered(7);
        s.dms.insert("@a:hs".into(), "!dm:hs".into());
        s.knocks
            .entry("@a:hs".into())
            .or_default()
            .insert("g".into());
        s.save(&path).unwrap();
        let back = State::load(&path).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.event_of("p-1"), "$e1");
        assert_eq!(back.event_of("$from-matrix"), "$from-matrix");
        assert_eq!(back.dm_member("!dm:hs"), Some("@a:hs"));
        let mut s = back;
        s.knock_decided("@a:hs", "g");
        assert!(s.knocks.is_empty());
    }
}
