//! `kith plugin new`: a buildable plugin skeleton with a scenario, so that a
//! newcomer goes from nothing to a passing `kith test` in minutes.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

use crate::domain::{validate_plugin_name, PluginKind};

/// The WIT package, shipped with every skeleton so it builds on its own.
const WIT: &[(&str, &str)] = &[
    ("types.wit", include_str!("../../../wit/types.wit")),
    ("members.wit", include_str!("../../../wit/members.wit")),
    ("groups.wit", include_str!("../../../wit/groups.wit")),
    ("messages.wit", include_str!("../../../wit/messages.wit")),
    ("storage.wit", include_str!("../../../wit/storage.wit")),
    ("ledger.wit", include_str!("../../../wit/ledger.wit")),
    ("timers.wit", include_str!("../../../wit/timers.wit")),
    ("host.wit", include_str!("../../../wit/host.wit")),
    ("worlds.wit", include_str!("../../../wit/worlds.wit")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Rust,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rust" => Ok(Lang::Rust),
            "python" | "js" | "c" => Err(format!("--lang {s}: templates for {s} are not available yet; use rust")),
            other => Err(format!("unknown language {other:?}; expected rust")),
        }
    }
}

/// Writes a new plugin project into `dir/<name>` and returns its path.
///
/// # Errors
/// An invalid name, an existing folder, or a file that cannot be written.
pub fn new_plugin(dir: &Path, name: &str, kind: PluginKind, lang: Lang) -> anyhow::Result<PathBuf> {
    validate_plugin_name(name).map_err(anyhow::Error::msg)?;
    let root = dir.join(name);
    if root.exists() {
        bail!("{} already exists", root.display());
    }
    let files = match lang {
        Lang::Rust => rust_files(name, kind),
    };
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a file in a folder"))?;
        std::fs::write(&path, content).with_context(|| format!("writing {}", path.display()))?;
    }
    for (file, content) in WIT {
        let path = root.join("wit").join(file);
        std::fs::create_dir_all(path.parent().expect("wit folder"))?;
        std::fs::write(&path, content)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root.join("build.sh"), std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(root)
}

fn rust_files(name: &str, kind: PluginKind) -> Vec<(String, String)> {
    let crate_name = name.replace('-', "_");
    let (world, iface, trait_name, handlers) = match kind {
        PluginKind::EntryGate => ("entry-gate", "gate", "Gate", GATE_HANDLERS),
        PluginKind::ActivityGame => ("activity-game", "game", "Game", GAME_HANDLERS),
        PluginKind::ConversionFlow => ("conversion-flow", "flow", "Flow", FLOW_HANDLERS),
    };
    let kind_variant = match kind {
        PluginKind::EntryGate => "EntryGate",
        PluginKind::ActivityGame => "ActivityGame",
        PluginKind::ConversionFlow => "ConversionFlow",
    };
    let lib = RUST_LIB
        .replace("{name}", name)
        .replace("{world}", world)
        .replace("{iface}", iface)
        .replace("{Trait}", trait_name)
        .replace("{Kind}", kind_variant)
        .replace("{handlers}", handlers);
    let cargo = RUST_CARGO.replace("{name}", name);
    let build = RUST_BUILD.replace("{crate}", &crate_name).replace("{name}", name);
    let scenario = if kind == PluginKind::EntryGate { GATE_SCENARIO } else { MESSAGE_SCENARIO }.to_string();
    let readme = README.replace("{name}", name).replace("{world}", world);
    vec![
        ("Cargo.toml".into(), cargo),
        ("src/lib.rs".into(), lib),
        ("build.sh".into(), build),
        ("scenarios/hello.yaml".into(), scenario),
        ("README.md".into(), readme),
        (".gitignore".into(), "/target/\n/*.wasm\n".into()),
    ]
}

const RUST_CARGO: &str = r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
wit-bindgen = "0.63"

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
panic = "abort"
strip = true

# A workspace of its own, so it builds wherever it is copied.
[workspace]
"#;

const RUST_BUILD: &str = r#"#!/usr/bin/env bash
# Builds {name}.wasm: a core module carrying wit-bindgen's component-type
# section, which `kith test` and the host accept as it is.
# Uses Debian's rustc-web toolchain (apt-get install rustc-web cargo-web
# rust-web-src lld), because rustup cannot add wasm32 targets offline.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PATH="/usr/bin:$PATH" CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld RUSTC_BOOTSTRAP=1 \
    cargo build --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
cp "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/{crate}.wasm" {name}.wasm
echo "built {name}.wasm; now: kith test {name}.wasm --scenarios scenarios"
"#;

const RUST_LIB: &str = r##"//! {name}: a kith plugin of the `{world}` world.
//!
//! Handlers get a `Context` (group, event id, `now`, a `seed`): use `now`
//! and `seed` instead of a clock or randomness, so that the same events
//! always give the same effects. Host calls are buffered and applied only if
//! the handler returns `Ok`.

wit_bindgen::generate!({ path: "wit", world: "{world}" });

use exports::kith::plugin::{iface}::Guest as {Trait};
use kith::plugin::types::*;
use kith::plugin::{config, log, messages};

struct Plugin;

impl Guest for Plugin {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "{name}".into(),
            version: "0.1.0".into(),
            kind: PluginKind::{Kind},
            description: "Describe what {name} does for a group.".into(),
            // JSON Schema of the config operators give when enabling it.
            config_schema: r#"{
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "greeting": {"type": "string", "default": "hello", "description": "What to answer to /hello."}
                }
            }"#
            .into(),
            capabilities: vec![Capability::PostMessages],
        }
    }
}

/// The configured greeting, or the default.
fn greeting() -> String {
    let config = config::get();
    // A real plugin would parse this with serde_json.
    match config.split("\"greeting\":\"").nth(1).and_then(|rest| rest.split('"').next()) {
        Some(g) => g.to_string(),
        None => "hello".to_string(),
    }
}

/// Answers "/hello" in the group.
fn on_text(message: &Message) -> Result<(), String> {
    if message.text.trim() != "/hello" {
        return Ok(());
    }
    log::log(log::Level::Info, &format!("greeting {}", message.sender));
    let text = format!("{} @{}!", greeting(), message.sender);
    messages::post(&messages::Outgoing { text, mentions: vec![message.sender.clone()], reply_to: Some(message.id.clone()) })
        .map(|_| ())
        .map_err(|e| format!("post failed: {:?}: {}", e.code, e.message))
}

impl {Trait} for Plugin {
{handlers}
}

export!(Plugin);
"##;

const GATE_HANDLERS: &str = r#"    fn on_enabled(_ctx: Context) -> Result<(), String> {
        Ok(())
    }

    /// Every applicant is admitted: put your threshold here.
    fn on_join_request(_ctx: Context, request: JoinRequest) -> Result<Decision, String> {
        Ok(Decision::Admit(format!("welcome, {}", request.display_name)))
    }

    fn on_challenge_answer(_ctx: Context, _request: JoinRequest, _answer: String) -> Result<Decision, String> {
        Ok(Decision::Reject("this gate asks no questions".into()))
    }

    fn on_message(_ctx: Context, message: Message) -> Result<(), String> {
        on_text(&message)
    }

    fn on_payment(_ctx: Context, _payment: Payment) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(_ctx: Context, _timer: TimerFired) -> Result<(), String> {
        Ok(())
    }"#;

const GAME_HANDLERS: &str = r#"    fn on_enabled(_ctx: Context) -> Result<(), String> {
        Ok(())
    }

    fn on_member_joined(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_member_left(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_message(_ctx: Context, message: Message) -> Result<(), String> {
        on_text(&message)
    }

    fn on_reaction(_ctx: Context, _reaction: Reaction) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(_ctx: Context, _timer: TimerFired) -> Result<(), String> {
        Ok(())
    }"#;

const FLOW_HANDLERS: &str = r#"    fn on_enabled(_ctx: Context) -> Result<(), String> {
        Ok(())
    }

    fn on_member_joined(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_member_left(_ctx: Context, _member: Member) -> Result<(), String> {
        Ok(())
    }

    fn on_message(_ctx: Context, message: Message) -> Result<(), String> {
        on_text(&message)
    }

    fn on_reaction(_ctx: Context, _reaction: Reaction) -> Result<(), String> {
        Ok(())
    }

    fn on_payment(_ctx: Context, _payment: Payment) -> Result<(), String> {
        Ok(())
    }

    fn on_timer(_ctx: Context, _timer: TimerFired) -> Result<(), String> {
        Ok(())
    }"#;

const MESSAGE_SCENARIO: &str = r#"name: /hello is answered with the configured greeting
config: {greeting: 你好}
given:
  members:
    - {id: ann, display_name: Ann}
when:
  - message: {sender: ann, text: /hello}
  - message: {sender: ann, text: something else}
expect:
  posts:
    - {text: "你好 @ann!", mentions: [ann]}
"#;

const GATE_SCENARIO: &str = r#"name: applicants are admitted, and /hello is answered
given:
  members:
    - {id: ann, display_name: Ann, role: owner}
when:
  - join: {member: bob, display_name: Bob}
  - message: {sender: bob, text: /hello}
expect:
  members:
    - {id: bob, status: active}
  joins:
    - {member: bob, status: admitted, reason_contains: welcome}
  posts:
    - {text: "hello @bob!", mentions: [bob]}
"#;

const README: &str = r#"# {name}

A kith plugin of the `{world}` world.

    ./build.sh                                      # -> {name}.wasm
    kith test {name}.wasm --scenarios scenarios     # the conformance suite and your scenarios

Edit `src/lib.rs` (the rules) and `scenarios/*.yaml` (what must happen).
The contract is in `wit/`; the guide is docs/plugin-guide.md in the kith repository.
"#;
