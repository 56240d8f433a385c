//! The adapter's configuration: a JSON file, each field overridable from
//! the environment, so a container can run it without a file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// Where the homeserver and kith are, who the bot is, and which room is
/// which group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The homeserver's client API base URL, e.g. `https://matrix.example.org`.
    pub homeserver: String,
    /// The bot's user id (`@kith:example.org`) or localpart.
    pub user: String,
    /// The bot's password, used to log in when no access token is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// An access token to use instead of logging in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// kith's base URL.
    pub kith_url: String,
    /// A kith token with the `adapter` scope (or `admin`, which `map` needs
    /// to create the group); none when kith's API is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kith_token: Option<String>,
    /// Where the adapter keeps its state (sync token, DM rooms, delivered
    /// actions); relative paths are relative to the config file.
    #[serde(default = "default_state_file")]
    pub state_file: PathBuf,
    /// Room id → kith group id. `kith-matrix map` adds to it.
    #[serde(default)]
    pub rooms: BTreeMap<String, String>,
    /// How long a sync waits for new events (long poll), in milliseconds.
    #[serde(default = "default_sync_timeout")]
    pub sync_timeout_ms: u64,
    /// How often the outbox is polled, in milliseconds.
    #[serde(default = "default_poll")]
    pub outbox_poll_ms: u64,
    /// How long a lease of outbox actions lasts, in milliseconds (kith
    /// accepts 1 to 600000): the time this worker has to deliver and
    /// acknowledge them before kith hands them to another worker.
    #[serde(default = "default_lease")]
    pub outbox_lease_ms: u64,
}

fn default_state_file() -> PathBuf {
    "kith-matrix-state.json".into()
}

fn default_sync_timeout() -> u64 {
    10_000
}

fn default_poll() -> u64 {
    500
}

fn default_lease() -> u64 {
    30_000
}

/// The environment variables that override the file, with their fields.
pub const ENV: &[(&str, &str)] = &[
    ("KITH_MATRIX_HOMESERVER", "homeserver"),
    ("KITH_MATRIX_USER", "user"),
    ("KITH_MATRIX_PASSWORD", "password"),
    ("KITH_MATRIX_ACCESS_TOKEN", "access_token"),
    ("KITH_URL", "kith_url"),
    ("KITH_TOKEN", "kith_token"),
    ("KITH_MATRIX_STATE", "state_file"),
    ("KITH_MATRIX_ROOMS", "rooms"),
];

impl Config {
    /// Reads `path` (if given and present), then applies the environment.
    /// `KITH_MATRIX_ROOMS` is `!room:hs=group,!other:hs=group2` and adds to
    /// the file's rooms.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let mut value = match path {
            Some(p) if p.exists() => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?
            }
            _ => serde_json::json!({}),
        };
        let vars: Vec<(String, String)> = ENV
            .iter()
            .filter_map(|(var, _)| std::env::var(var).ok().map(|v| (var.to_string(), v)))
            .collect();
        apply_env(&mut value, &vars)?;
        let mut config: Config = serde_json::from_value(value)
            .context("the configuration (file and KITH_MATRIX_* variables)")?;
        if config.state_file.is_relative() {
            if let Some(dir) = path.and_then(Path::parent) {
                config.state_file = dir.join(&config.state_file);
            }
        }
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.homeserver.is_empty() || self.user.is_empty() || self.kith_url.is_empty() {
            bail!("homeserver, user and kith_url are required");
        }
        if self.password.is_none() && self.access_token.is_none() {
            bail!("the bot needs a password or an access_token");
        }
        Ok(())
    }

    /// The group a room is mapped to.
    pub fn group_of(&self, room: &str) -> Option<&str> {
        self.rooms.get(room).map(String::as_str)
    }

    /// The room a group is mapped to.
    pub fn room_of(&self, group: &str) -> Option<&str> {
        self.rooms
            .iter()
            .find(|(_, g)| *g == group)
            .map(|(r, _)| r.as_str())
    }
}

/// Overlays environment variables (name, value) on the file's JSON.
fn apply_env(value: &mut serde_json::Value, vars: &[(String, String)]) -> anyhow::Result<()> {
    let obj = value
        .as_object_mut()
        .context("the configuration file must hold a JSON object")?;
    for (var, v) in vars {
        let Some((_, field)) = ENV.iter().find(|(name, _)| name == var) else {
            continue;
        };
        if *field == "rooms" {
            let rooms = obj
                .entry("rooms")
                .or_insert_with(|| serde_json::json!({}))
                .as_object_mut()
                .context("rooms must be an object")?;
            for pair in v.split(',').filter(|p| !p.trim().is_empty()) {
                let (room, group) = pair
                    .split_once('=')
                    .with_context(|| format!("{var}: {pair:?} is not ROOM=GROUP"))?;
                rooms.insert(room.trim().into(), group.trim().into());
            }
        } else {
            obj.insert(field.to_string(), v.clone().into());
        }
    }
    Ok(())
}

/// Adds a room → group mapping to the config file, keeping what else it holds.
pub fn add_mapping(path: &Path, room: &str, group: &str) -> anyhow::Result<()> {
    let mut value: serde_json::Value = if path.exists() {
        serde_json::from_str(&std::fs::read_to_string(path)?)
            .with_context(|| format!("parsing {}", path.display()))?
    } else {
        serde_json::json!({})
    };
    let obj = value
        .as_object_mut()
        .context("the configuration file must hold a JSON object")?;
    let rooms = obj.entry("rooms").or_insert_with(|| serde_json::json!({}));
    rooms
        .as_object_mut()
        .context("rooms must be an object")?
        .insert(room.into(), group.into());
    std::fs::write(path, serde_json::to_string_pretty(&value)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_and_adds_rooms() {
        let mut v = serde_json::json!({"homeserver": "http://a", "rooms": {"!a:hs": "g1"}});
        let vars = vec![
            ("KITH_MATRIX_HOMESERVER".to_string(), "http://b".to_string()),
            (
                "KITH_MATRIX_ROOMS".to_string(),
                "!b:hs=g2, !c:hs=g3".to_string(),
            ),
        ];
        apply_env(&mut v, &vars).unwrap();
        assert_eq!(v["homeserver"], "http://b");
        assert_eq!(v["rooms"]["!a:hs"], "g1");
        assert_eq!(v["rooms"]["!c:hs"], "g3");
        let bad = vec![("KITH_MATRIX_ROOMS".to_string(), "nogroup".to_string())];
        assert!(apply_env(&mut v, &bad).is_err());
    }

    #[test]
    fn lookups_both_ways() {
        let mut c = Config::default();
        c.rooms.insert("!r:hs".into(), "g".into());
        assert_eq!(c.group_of("!r:hs"), Some("g"));
        assert_eq!(c.room_of("g"), Some("!r:hs"));
        assert_eq!(c.room_of("other"), None);
    }
}
