//! Helpers shared by the Rust kith plugins.
//!
//! This crate deliberately has no wit-bindgen bindings: each plugin generates
//! its own for its world, and a second copy of the import bindings here would
//! add a second component-type section to every module. Keeping it free of
//! host calls also lets everything here be unit-tested natively.

pub mod text;

pub use text::{
    check_overrides, config_schema_with_texts, format_money, join_or, role_label, Clock, Language,
    Overrides, Text, Texts,
};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Deterministic pseudo-random stream (SplitMix64).
///
/// Plugins must replay identically for the same event, so all randomness is
/// derived from `ctx.seed`; SplitMix64 is tiny, has no state beyond one u64
/// and gives well-mixed outputs even for adjacent seeds.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Unix ms of the next `hour`:00 in a group's local time (its UTC offset
/// in minutes), strictly after `now`: when daily timers should fire.
pub fn next_local_hour(now: i64, utc_offset_minutes: i32, hour: u8) -> i64 {
    const DAY_MS: i64 = 86_400_000;
    let offset = i64::from(utc_offset_minutes) * 60_000;
    let local = now + offset;
    let mut at = local.div_euclid(DAY_MS) * DAY_MS + i64::from(hour) * 3_600_000;
    if at <= local {
        at += DAY_MS;
    }
    at - offset
}

/// Parses the operator's config, letting `#[serde(default)]` on `T` fill in
/// missing keys.
///
/// The host validates config against the schema, but it may hand over an
/// empty string or `null` when the operator gave no config at all; both mean
/// "all defaults" rather than an error.
pub fn parse_config<T: DeserializeOwned + Default>(raw: &str) -> Result<T, String> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "null" {
        return Ok(T::default());
    }
    serde_json::from_str(raw).map_err(|e| format!("invalid plugin config: {e}"))
}

/// Builds the plugin's config schema (JSON Schema draft 2020-12).
///
/// `properties` maps each key to `(description, schema without default)`;
/// the defaults are taken from the serialized `Default` config so the schema
/// can never advertise a default the plugin does not actually use.
pub fn config_schema<T: Serialize + Default>(properties: &[(&str, &str, Value)]) -> String {
    let defaults = serde_json::to_value(T::default()).unwrap_or(Value::Null);
    let mut props = Map::new();
    for (name, description, schema) in properties {
        let mut prop = match schema {
            Value::Object(m) => m.clone(),
            _ => Map::new(),
        };
        prop.insert("description".into(), Value::String((*description).into()));
        if let Some(d) = defaults.get(*name) {
            prop.insert("default".into(), d.clone());
        }
        props.insert((*name).into(), Value::Object(prop));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": false,
        "properties": props,
    })
    .to_string()
}

/// Serializes a state record for `storage::set`.
pub fn to_json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain derive(Serialize) structs, strings and numbers into
    // memory cannot fail, so an empty fallback is never actually produced.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Parses a state record read from storage; the key goes into the error so
/// an operator can find a corrupted entry.
pub fn from_json_bytes<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("corrupted state at key `{key}`: {e}"))
}

/// True when a chat message is exactly `command`, ignoring surrounding
/// whitespace (chat clients often append a trailing space or newline).
/// Every item of a paged host call (kith:plugin@0.2.0's `active-since`,
/// `list-keys-after`, `recent-before`): `fetch` gets the last item read so
/// far (none for the first page) and returns the next page of at most
/// `page` items; a shorter page is the last.
pub fn all_pages<T>(page: u32, mut fetch: impl FnMut(Option<&T>) -> Vec<T>) -> Vec<T> {
    let mut all: Vec<T> = vec![];
    loop {
        let next = fetch(all.last());
        let full = next.len() >= page as usize;
        all.extend(next);
        if !full {
            return all;
        }
    }
}

pub fn is_command(text: &str, command: &str) -> bool {
    let command = command.trim();
    !command.is_empty() && text.trim() == command
}

/// The name to show for a member: their display name, or their id when the
/// platform gave none.
pub fn display_name<'a>(display_name: Option<&'a str>, id: &'a str) -> &'a str {
    match display_name.map(str::trim) {
        Some(name) if !name.is_empty() => name,
        _ => id,
    }
}

// Re-exported so `host_glue!` expands the same way in every plugin crate,
// whatever names the plugin gives its own dependencies.
#[doc(hidden)]
pub use serde as __serde;

/// Makes a panic log its message and location (`panicked at FILE:LINE:COL:
/// MESSAGE`) through `report` before the instance traps.
#[doc(hidden)]
pub fn install_panic_hook(report: fn(&str)) {
    std::panic::set_hook(Box::new(move |info| report(&panic_report(info))));
}

/// The line a panic is reported by.
pub fn panic_report(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    match info.location() {
        Some(l) => format!(
            "panicked at {}:{}:{}: {message}",
            l.file(),
            l.line(),
            l.column()
        ),
        None => format!("panicked at an unknown place: {message}"),
    }
}

/// Defines a `host` module of small wrappers around the host imports.
///
/// Every plugin generates its own bindings (one per world), so this crate
/// cannot name the generated types; a macro expanded next to
/// `wit_bindgen::generate!` can, because every kith world includes
/// `host-api` and therefore yields the same `crate::kith::plugin::*` modules.
// `crate` is meant to be the plugin crate the macro expands in, not this one.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! host_glue {
    () => {
        // A panic traps the instance with nothing said (wasm32 has no
        // stderr): this hook first logs the message and file:line, which
        // the host puts into the invocation's error. Installed as a static
        // constructor, which wit-bindgen's exports run before the first call.
        #[used]
        #[link_section = ".init_array"]
        static __KITH_PANIC_HOOK: extern "C" fn() = {
            extern "C" fn install() {
                $crate::install_panic_hook(|report| {
                    crate::kith::plugin::log::log(crate::kith::plugin::log::Level::Error, report)
                });
            }
            install
        };

        #[allow(dead_code)]
        mod host {
            use crate::kith::plugin::{config, log, members, storage, types};
            use $crate::__serde::{de::DeserializeOwned, Serialize};

            /// Turns a host error into the `Err(String)` a handler returns,
            /// naming the call so the operator can tell which one failed.
            pub fn err(call: &str, e: types::Error) -> String {
                let code = match e.code {
                    types::ErrorCode::NotFound => "not-found",
                    types::ErrorCode::Denied => "denied",
                    types::ErrorCode::Invalid => "invalid",
                    types::ErrorCode::InsufficientFunds => "insufficient-funds",
                    types::ErrorCode::QuotaExceeded => "quota-exceeded",
                    types::ErrorCode::Conflict => "conflict",
                };
                format!("{call} failed ({code}): {}", e.message)
            }

            pub fn config<T: DeserializeOwned + Default>() -> Result<T, String> {
                $crate::parse_config(&config::get())
            }

            pub fn load<T: DeserializeOwned>(key: &str) -> Result<Option<T>, String> {
                match storage::get(key) {
                    Some(bytes) => $crate::from_json_bytes(key, &bytes).map(Some),
                    None => Ok(None),
                }
            }

            pub fn exists(key: &str) -> bool {
                storage::get(key).is_some()
            }

            pub fn save<T: Serialize>(key: &str, value: &T) -> Result<(), String> {
                storage::set(key, &$crate::to_json_bytes(value))
                    .map_err(|e| err(&format!("storage.set `{key}`"), e))
            }

            pub fn role_name(role: types::Role) -> &'static str {
                match role {
                    types::Role::Owner => "owner",
                    types::Role::Admin => "admin",
                    types::Role::Core => "core",
                    types::Role::Partner => "partner",
                    types::Role::Vip => "vip",
                    types::Role::Member => "member",
                }
            }

            /// The name to address a member by; falls back to the id when
            /// the member is unknown (e.g. already gone) or has no name.
            pub fn member_name(id: &str) -> String {
                let m = members::get(id);
                $crate::display_name(m.as_ref().map(|m| m.display_name.as_str()), id).to_string()
            }

            /// The current group's time zone, for showing times to members.
            pub fn clock() -> $crate::Clock {
                let g = crate::kith::plugin::groups::current();
                $crate::Clock {
                    utc_offset_minutes: g.utc_offset_minutes,
                    timezone: g.timezone,
                }
            }

            pub fn warn(message: &str) {
                log::log(log::Level::Warn, message);
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_pages_reads_until_a_short_page_and_passes_the_last_item() {
        let items: Vec<u32> = (1..=7).collect();
        let mut cursors = vec![];
        let all = all_pages(3, |last: Option<&u32>| {
            cursors.push(last.copied());
            let from = last.map_or(0, |l| *l as usize);
            items[from..(from + 3).min(items.len())].to_vec()
        });
        assert_eq!(all, items);
        assert_eq!(cursors, vec![None, Some(3), Some(6)]);
        let exact: Vec<u32> = all_pages(2, |last: Option<&u32>| match last {
            None => vec![1, 2],
            Some(_) => vec![],
        });
        assert_eq!(exact, vec![1, 2], "a full last page costs one empty call");
    }
    use serde::Deserialize;

    #[test]
    fn splitmix_is_deterministic_and_matches_reference() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        for _ in 0..10 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Cfg {
        a: u32,
        b: String,
    }

    impl Default for Cfg {
        fn default() -> Self {
            Cfg {
                a: 7,
                b: "x".into(),
            }
        }
    }

    #[test]
    fn config_defaults_fill_missing_keys() {
        assert_eq!(parse_config::<Cfg>("").unwrap(), Cfg::default());
        assert_eq!(parse_config::<Cfg>(" null ").unwrap(), Cfg::default());
        assert_eq!(parse_config::<Cfg>("{}").unwrap(), Cfg::default());
        assert_eq!(
            parse_config::<Cfg>(r#"{"a": 3}"#).unwrap(),
            Cfg {
                a: 3,
                b: "x".into()
            }
        );
        assert!(parse_config::<Cfg>(r#"{"a": -1}"#).is_err());
        assert!(parse_config::<Cfg>("not json").is_err());
    }

    #[test]
    fn schema_carries_defaults_and_descriptions() {
        let s = config_schema::<Cfg>(&[
            ("a", "an a", json!({"type": "integer", "minimum": 1})),
            ("b", "a b", json!({"type": "string"})),
        ]);
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["type"], "object");
        assert_eq!(v["additionalProperties"], false);
        assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(v["properties"]["a"]["default"], 7);
        assert_eq!(v["properties"]["a"]["minimum"], 1);
        assert_eq!(v["properties"]["a"]["description"], "an a");
        assert_eq!(v["properties"]["b"]["default"], "x");
    }

    #[test]
    fn json_state_round_trips_and_reports_key() {
        let c = Cfg {
            a: 1,
            b: "y".into(),
        };
        let bytes = to_json_bytes(&c);
        assert_eq!(from_json_bytes::<Cfg>("k", &bytes).unwrap(), c);
        let err = from_json_bytes::<Cfg>("member:42", b"{oops").unwrap_err();
        assert!(err.contains("member:42"), "{err}");
    }

    #[test]
    fn commands_match_trimmed_text_only() {
        assert!(is_command(" /invite\n", "/invite"));
        assert!(!is_command("/invite me", "/invite"));
        assert!(!is_command("", ""));
        assert!(is_command("签到", "签到"));
    }

    #[test]
    fn display_name_falls_back_to_id() {
        assert_eq!(display_name(Some("Ann"), "u1"), "Ann");
        assert_eq!(display_name(Some("  "), "u1"), "u1");
        assert_eq!(display_name(None, "u1"), "u1");
    }
}
