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
    Python,
    Js,
    C,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rust" => Ok(Lang::Rust),
            "python" => Ok(Lang::Python),
            "js" => Ok(Lang::Js),
            "c" => Ok(Lang::C),
            other => Err(format!(
                "unknown language {other:?}; expected rust, python, js or c"
            )),
        }
    }
}

/// A language's template set. Placeholders, filled by [`files`]:
/// `{name}`, `{crate}` (the name with `_`), `{world}` (`entry-gate`),
/// `{world_}` (`entry_gate`), `{iface}` (`gate`), `{Iface}` (`Gate`),
/// `{Kind}` (`EntryGate`), `{KIND}` (`ENTRY_GATE`); `{handlers}` in `source`
/// is replaced first by the world's handlers.
struct Templates {
    /// Named in the README.
    language: &'static str,
    /// Where the plugin's code goes, and its text.
    source: (&'static str, &'static str),
    /// Every handler of the gate, game and flow worlds.
    handlers: [&'static str; 3],
    build: &'static str,
    /// Other files: manifests, .gitignore.
    extra: &'static [(&'static str, &'static str)],
}

impl Lang {
    fn templates(self) -> &'static Templates {
        match self {
            Lang::Rust => &RUST,
            Lang::Python => &PYTHON,
            Lang::Js => &JS,
            Lang::C => &C,
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
    for (path, content) in files(lang.templates(), name, kind) {
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
        std::fs::set_permissions(
            root.join("build.sh"),
            std::fs::Permissions::from_mode(0o755),
        )?;
    }
    Ok(root)
}

fn files(t: &Templates, name: &str, kind: PluginKind) -> Vec<(String, String)> {
    let (world, iface, iface_title, kind_title, handlers) = match kind {
        PluginKind::EntryGate => ("entry-gate", "gate", "Gate", "EntryGate", t.handlers[0]),
        PluginKind::ActivityGame => (
            "activity-game",
            "game",
            "Game",
            "ActivityGame",
            t.handlers[1],
        ),
        PluginKind::ConversionFlow => (
            "conversion-flow",
            "flow",
            "Flow",
            "ConversionFlow",
            t.handlers[2],
        ),
    };
    let vars = [
        ("{name}", name.to_string()),
        ("{crate}", name.replace('-', "_")),
        ("{world}", world.to_string()),
        ("{world_}", world.replace('-', "_")),
        ("{iface}", iface.to_string()),
        ("{Iface}", iface_title.to_string()),
        ("{Kind}", kind_title.to_string()),
        ("{KIND}", world.replace('-', "_").to_uppercase()),
        ("{language}", t.language.to_string()),
        ("{source}", t.source.0.to_string()),
    ];
    let fill = |text: &str| {
        vars.iter().fold(text.to_string(), |text, (key, value)| {
            text.replace(key, value)
        })
    };
    let scenario = if kind == PluginKind::EntryGate {
        GATE_SCENARIO
    } else {
        MESSAGE_SCENARIO
    };
    let mut files = vec![
        (
            t.source.0.to_string(),
            fill(&t.source.1.replace("{handlers}", handlers)),
        ),
        ("build.sh".to_string(), fill(t.build)),
        ("scenarios/hello.yaml".to_string(), scenario.to_string()),
        ("README.md".to_string(), fill(README)),
    ];
    files.extend(
        t.extra
            .iter()
            .map(|(path, text)| (path.to_string(), fill(text))),
    );
    files
}

// ---- Rust ------------------------------------------------------------------------

const RUST: Templates = Templates {
    language: "Rust",
    source: ("src/lib.rs", RUST_LIB),
    handlers: [RUST_GATE_HANDLERS, RUST_GAME_HANDLERS, RUST_FLOW_HANDLERS],
    build: RUST_BUILD,
    extra: &[
        ("Cargo.toml", RUST_CARGO),
        (".gitignore", "/target/\n/*.wasm\n"),
    ],
};

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

use exports::kith::plugin::{iface}::Guest as {Iface};
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

impl {Iface} for Plugin {
{handlers}
}

export!(Plugin);
"##;

const RUST_GATE_HANDLERS: &str = r#"    fn on_enabled(_ctx: Context) -> Result<(), String> {
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

const RUST_GAME_HANDLERS: &str = r#"    fn on_enabled(_ctx: Context) -> Result<(), String> {
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

const RUST_FLOW_HANDLERS: &str = r#"    fn on_enabled(_ctx: Context) -> Result<(), String> {
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

// ---- Python (componentize-py) ----------------------------------------------------

const PYTHON: Templates = Templates {
    language: "Python (componentize-py)",
    source: ("app.py", PYTHON_APP),
    handlers: [
        PYTHON_GATE_HANDLERS,
        PYTHON_GAME_HANDLERS,
        PYTHON_FLOW_HANDLERS,
    ],
    build: PYTHON_BUILD,
    extra: &[(".gitignore", "/*.wasm\n__pycache__/\n")],
};

const PYTHON_BUILD: &str = r#"#!/usr/bin/env bash
# Builds {name}.wasm with componentize-py 0.25.1: a component bundling CPython
# (~18 MB; a host compiles it once, ~70 s in a debug build, then caches it).
# The componentize-py used: $COMPONENTIZE_PY, else the one in the venv $KITH_PY,
# else the one on PATH. In a kith checkout, `bash scripts/build-lang-plugins.sh`
# installs it in target/toolchains/py: KITH_PY=<kith>/target/toolchains/py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ -z "${COMPONENTIZE_PY:-}" ]]; then
    if [[ -n "${KITH_PY:-}" ]]; then COMPONENTIZE_PY="$KITH_PY/bin/componentize-py"; else COMPONENTIZE_PY=componentize-py; fi
fi
if ! command -v "$COMPONENTIZE_PY" >/dev/null; then
    echo "error: no componentize-py at $COMPONENTIZE_PY: set COMPONENTIZE_PY or KITH_PY (a venv with pip install componentize-py==0.25.1)" >&2
    exit 1
fi
"$COMPONENTIZE_PY" -d wit -w {world} componentize -p . app -o {name}.wasm >/dev/null
echo "built {name}.wasm; now: kith test {name}.wasm --scenarios scenarios"
"#;

const PYTHON_APP: &str = r#""""{name}: a kith plugin of the `{world}` world.

Handlers get a `ctx` (group, event id, `now`, a `seed`): use `ctx.now` and
`ctx.seed` instead of a clock or randomness, so that the same events always
give the same effects. Host calls are buffered and applied only if the handler
returns; `raise Err("reason")` refuses the event and discards them.
"""

import json

import wit_world
from wit_world import exports
from wit_world.imports import config, log, messages, types
from componentize_py_types import Err

# JSON Schema of the config operators give when enabling it.
CONFIG_SCHEMA = """{
    "type": "object",
    "additionalProperties": false,
    "properties": {
        "greeting": {"type": "string", "default": "hello", "description": "What to answer to /hello."}
    }
}"""


class WitWorld(wit_world.WitWorld):
    def metadata(self):
        return types.PluginMetadata(
            name="{name}",
            version="0.1.0",
            kind=types.PluginKind.{KIND},
            description="Describe what {name} does for a group.",
            config_schema=CONFIG_SCHEMA,
            capabilities=[types.Capability.POST_MESSAGES],
        )


def greeting():
    """The configured greeting, or the default."""
    raw = config.get().strip()
    cfg = json.loads(raw) if raw else None
    value = cfg.get("greeting") if isinstance(cfg, dict) else None
    return value if isinstance(value, str) else "hello"


def on_text(message):
    """Answers "/hello" in the group."""
    if message.text.strip() != "/hello":
        return
    log.log(log.Level.INFO, f"greeting {message.sender}")
    text = f"{greeting()} @{message.sender}!"
    try:
        messages.post(messages.Outgoing(text=text, mentions=[message.sender], reply_to=message.id))
    except Err as e:
        raise Err(f"post failed: {e.value.code.name.lower()}: {e.value.message}") from None


class {Iface}(exports.{Iface}):
{handlers}
"#;

const PYTHON_GATE_HANDLERS: &str = r#"    def on_enabled(self, ctx):
        pass

    def on_join_request(self, ctx, request):
        """Every applicant is admitted: put your threshold here."""
        return types.Decision_Admit(f"welcome, {request.display_name}")

    def on_challenge_answer(self, ctx, request, answer):
        return types.Decision_Reject("this gate asks no questions")

    def on_message(self, ctx, message):
        on_text(message)

    def on_payment(self, ctx, payment):
        pass

    def on_timer(self, ctx, timer):
        pass"#;

const PYTHON_GAME_HANDLERS: &str = r#"    def on_enabled(self, ctx):
        pass

    def on_member_joined(self, ctx, member):
        pass

    def on_member_left(self, ctx, member):
        pass

    def on_message(self, ctx, message):
        on_text(message)

    def on_reaction(self, ctx, reaction):
        pass

    def on_timer(self, ctx, timer):
        pass"#;

const PYTHON_FLOW_HANDLERS: &str = r#"    def on_enabled(self, ctx):
        pass

    def on_member_joined(self, ctx, member):
        pass

    def on_member_left(self, ctx, member):
        pass

    def on_message(self, ctx, message):
        on_text(message)

    def on_reaction(self, ctx, reaction):
        pass

    def on_payment(self, ctx, payment):
        pass

    def on_timer(self, ctx, timer):
        pass"#;

// ---- JavaScript (componentize-qjs) -----------------------------------------------

const JS: Templates = Templates {
    language: "JavaScript (componentize-qjs)",
    source: ("plugin.js", JS_PLUGIN),
    handlers: [JS_GATE_HANDLERS, JS_GAME_HANDLERS, JS_FLOW_HANDLERS],
    build: JS_BUILD,
    extra: &[(".gitignore", "/*.wasm\n/node_modules/\n")],
};

const JS_BUILD: &str = r#"#!/usr/bin/env bash
# Builds {name}.wasm with componentize-qjs 0.4.5 (QuickJS; WASI stubbed out,
# so the component imports only kith:plugin).
# KITH_JS_MODULES: a node_modules folder holding componentize-qjs; by default
# ./node_modules (npm install --save-dev componentize-qjs@0.4.5). In a kith
# checkout, `bash scripts/build-lang-plugins.sh` installs it in plugins/js/node_modules.
# The tool reads only files under its working folder: this one, with wit/ in it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
MODULES="${KITH_JS_MODULES:-node_modules}"
if [[ ! -x "$MODULES/.bin/componentize-qjs" ]]; then
    echo "error: no componentize-qjs in $MODULES: set KITH_JS_MODULES, or npm install --save-dev componentize-qjs@0.4.5" >&2
    exit 1
fi
"$MODULES/.bin/componentize-qjs" -w wit -j plugin.js -n {world} --sync --stub-wasi -o {name}.wasm >/dev/null
echo "built {name}.wasm; now: kith test {name}.wasm --scenarios scenarios"
"#;

const JS_PLUGIN: &str = r#"// {name}: a kith plugin of the `{world}` world.
//
// Handlers get a `ctx` (group, eventId, `now`, a `seed`): use `ctx.now` and
// `ctx.seed` instead of a clock or randomness, so that the same events always
// give the same effects. Host calls are buffered and applied only if the
// handler returns; `throw "reason"` refuses the event and discards them.
// Records have camelCase keys, enums are their case names ("post-messages"),
// variants are { tag, val }, and none is null.

import config from "kith:plugin/config@0.1.0";
import log from "kith:plugin/log@0.1.0";
import messages from "kith:plugin/messages@0.1.0";

// JSON Schema of the config operators give when enabling it.
const CONFIG_SCHEMA = JSON.stringify({
  type: "object",
  additionalProperties: false,
  properties: {
    greeting: { type: "string", default: "hello", description: "What to answer to /hello." },
  },
});

export function metadata() {
  return {
    name: "{name}",
    version: "0.1.0",
    kind: "{world}",
    description: "Describe what {name} does for a group.",
    configSchema: CONFIG_SCHEMA,
    capabilities: ["post-messages"],
  };
}

// The configured greeting, or the default.
function greeting() {
  const raw = config.get().trim();
  const cfg = raw === "" ? null : JSON.parse(raw);
  return cfg !== null && typeof cfg === "object" && typeof cfg.greeting === "string" ? cfg.greeting : "hello";
}

// Answers "/hello" in the group.
function onText(message) {
  if (message.text.trim() !== "/hello") return;
  log.log("info", `greeting ${message.sender}`);
  const text = `${greeting()} @${message.sender}!`;
  try {
    messages.post({ text, mentions: [message.sender], replyTo: message.id });
  } catch (e) {
    throw `post failed: ${e && e.code}: ${e && e.message}`;
  }
}

export const {iface} = {
{handlers}
};
"#;

const JS_GATE_HANDLERS: &str = r#"  onEnabled(_ctx) {},
  // Every applicant is admitted: put your threshold here.
  onJoinRequest(_ctx, request) {
    return { tag: "admit", val: `welcome, ${request.displayName}` };
  },
  onChallengeAnswer(_ctx, _request, _answer) {
    return { tag: "reject", val: "this gate asks no questions" };
  },
  onMessage(_ctx, message) {
    onText(message);
  },
  onPayment(_ctx, _payment) {},
  onTimer(_ctx, _timer) {},"#;

const JS_GAME_HANDLERS: &str = r#"  onEnabled(_ctx) {},
  onMemberJoined(_ctx, _member) {},
  onMemberLeft(_ctx, _member) {},
  onMessage(_ctx, message) {
    onText(message);
  },
  onReaction(_ctx, _reaction) {},
  onTimer(_ctx, _timer) {},"#;

const JS_FLOW_HANDLERS: &str = r#"  onEnabled(_ctx) {},
  onMemberJoined(_ctx, _member) {},
  onMemberLeft(_ctx, _member) {},
  onMessage(_ctx, message) {
    onText(message);
  },
  onReaction(_ctx, _reaction) {},
  onPayment(_ctx, _payment) {},
  onTimer(_ctx, _timer) {},"#;

// ---- C (wit-bindgen c) -----------------------------------------------------------

const C: Templates = Templates {
    language: "C (wit-bindgen c)",
    source: ("plugin.c", C_PLUGIN),
    handlers: [C_GATE_HANDLERS, C_GAME_HANDLERS, C_FLOW_HANDLERS],
    build: C_BUILD,
    extra: &[(".gitignore", "/target/\n/*.wasm\n")],
};

const C_BUILD: &str = r#"#!/usr/bin/env bash
# Builds {name}.wasm: a core module carrying wit-bindgen's component-type
# section, which `kith test` and the host accept as it is.
# Needs wit-bindgen-cli 0.63.0 (cargo install wit-bindgen-cli --version 0.63.0
# --locked) and clang-14 with wasi-libc (apt-get install clang-14 wasi-libc
# libclang-rt-14-dev-wasm32); override with WIT_BINDGEN, CLANG, WASI_SYSROOT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PATH="$PATH:$HOME/.cargo/bin"
WIT_BINDGEN="${WIT_BINDGEN:-wit-bindgen}"
CLANG="${CLANG:-clang-14}"
WASI_SYSROOT="${WASI_SYSROOT:-/usr}"
gen=target/bindings
rm -rf "$gen"
mkdir -p "$gen"
if ! "$WIT_BINDGEN" c wit --world {world} --out-dir "$gen" >target/bindings.log 2>&1; then
    cat target/bindings.log >&2
    exit 1
fi
"$CLANG" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" -mexec-model=reactor -Os -Wall -Werror \
    -Wl,--strip-all -Wl,--gc-sections -I "$gen" \
    -o {name}.wasm plugin.c "$gen/{world_}.c" "$gen/{world_}_component_type.o"
# The host gives core modules no WASI: stdio (printf...) would need it.
if grep -q wasi_snapshot_preview1 {name}.wasm; then
    echo "error: {name}.wasm imports wasi_snapshot_preview1 (stdio?); use kith_plugin_log_log" >&2
    exit 1
fi
echo "built {name}.wasm; now: kith test {name}.wasm --scenarios scenarios"
"#;

const C_PLUGIN: &str = r#"// {name}: a kith plugin of the `{world}` world.
//
// Handlers get a context (group, event id, `now`, a `seed`): use `now` and
// `seed` instead of a clock or randomness, so that the same events always give
// the same effects. Host calls are buffered and applied only if the handler
// returns true; returning false with a reason in `err` refuses the event.
// Ownership, as wit-bindgen c has it: a handler owns its arguments (free them)
// and hands over what it puts in `ret` and `err` (malloc'd; the generated code
// frees them); host calls only borrow their arguments.
// No stdio: the module must import nothing from WASI (build.sh checks).

#include "{world_}.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef {world_}_string_t string_t;

// JSON Schema of the config operators give when enabling it.
static const char CONFIG_SCHEMA[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"greeting\":{\"type\":\"string\",\"default\":\"hello\",\"description\":\"What to answer to /hello.\"}}}";

void exports_{world_}_metadata({world_}_plugin_metadata_t *ret) {
    {world_}_string_dup(&ret->name, "{name}");
    {world_}_string_dup(&ret->version, "0.1.0");
    ret->kind = KITH_PLUGIN_TYPES_PLUGIN_KIND_{KIND};
    {world_}_string_dup(&ret->description, "Describe what {name} does for a group.");
    {world_}_string_dup(&ret->config_schema, CONFIG_SCHEMA);
    ret->capabilities.len = 1;
    ret->capabilities.ptr = malloc(sizeof *ret->capabilities.ptr);
    if (!ret->capabilities.ptr) abort();
    ret->capabilities.ptr[0] = KITH_PLUGIN_TYPES_CAPABILITY_POST_MESSAGES;
}

// Appends n bytes to a string that starts as {0}.
static void append(string_t *s, const void *bytes, size_t n) {
    if (n == 0) return;
    uint8_t *p = realloc(s->ptr, s->len + n);
    if (!p) abort();
    memcpy(p + s->len, bytes, n);
    s->ptr = p;
    s->len += n;
}

static void append_str(string_t *s, const char *text) { append(s, text, strlen(text)); }

static bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The configured greeting, or the default. The config is JSON, already
// validated against the schema; a real plugin would use a JSON parser (this
// keeps escapes as they are written).
static void greeting(string_t *out) {
    string_t config;
    kith_plugin_config_get(&config);
    static const char key[] = "\"greeting\"";
    size_t n = config.len, k = sizeof key - 1, i = 0;
    const uint8_t *p = config.ptr;
    while (i + k <= n && memcmp(p + i, key, k) != 0) i++;
    bool found = false;
    if (i + k <= n) {
        i += k;
        while (i < n && is_space(p[i])) i++;
        if (i < n && p[i] == ':') i++;
        while (i < n && is_space(p[i])) i++;
        if (i < n && p[i] == '"') {
            size_t start = ++i;
            while (i < n && p[i] != '"') i += p[i] == '\\' ? 2 : 1;
            if (i < n) {
                append(out, p + start, i - start);
                found = true;
            }
        }
    }
    if (!found) append_str(out, "hello");
    {world_}_string_free(&config);
}

// Answers "/hello" in the group.
static bool on_text(kith_plugin_types_message_t *message, string_t *err) {
    const uint8_t *t = message->text.ptr;
    size_t n = message->text.len;
    while (n && is_space(*t)) t++, n--;
    while (n && is_space(t[n - 1])) n--;
    if (n != 6 || memcmp(t, "/hello", 6) != 0) return true;

    string_t line = {0};
    append_str(&line, "greeting ");
    append(&line, message->sender.ptr, message->sender.len);
    kith_plugin_log_log(KITH_PLUGIN_LOG_LEVEL_INFO, &line);
    {world_}_string_free(&line);

    string_t text = {0};
    greeting(&text);
    append_str(&text, " @");
    append(&text, message->sender.ptr, message->sender.len);
    append_str(&text, "!");
    kith_plugin_messages_outgoing_t outgoing = {
        .text = text,
        .mentions = {.ptr = &message->sender, .len = 1},
        .reply_to = {.is_some = true, .val = message->id},
    };
    string_t id;
    kith_plugin_messages_error_t e;
    bool ok = kith_plugin_messages_post(&outgoing, &id, &e);
    {world_}_string_free(&text);
    if (ok) {
        {world_}_string_free(&id);
        return true;
    }
    *err = (string_t){0};
    append_str(err, "post failed: ");
    append(err, e.message.ptr, e.message.len);
    kith_plugin_types_error_free(&e);
    return false;
}

{handlers}
"#;

const C_GATE_HANDLERS: &str = r#"bool exports_kith_plugin_gate_on_enabled(exports_kith_plugin_gate_context_t *ctx, string_t *err) {
    (void)err;
    exports_kith_plugin_gate_context_free(ctx);
    return true;
}

// Every applicant is admitted: put your threshold here.
bool exports_kith_plugin_gate_on_join_request(exports_kith_plugin_gate_context_t *ctx,
                                              exports_kith_plugin_gate_join_request_t *request,
                                              exports_kith_plugin_gate_decision_t *ret, string_t *err) {
    (void)err;
    string_t reason = {0};
    append_str(&reason, "welcome, ");
    append(&reason, request->display_name.ptr, request->display_name.len);
    ret->tag = KITH_PLUGIN_TYPES_DECISION_ADMIT;
    ret->val.admit = reason;
    exports_kith_plugin_gate_context_free(ctx);
    exports_kith_plugin_gate_join_request_free(request);
    return true;
}

bool exports_kith_plugin_gate_on_challenge_answer(exports_kith_plugin_gate_context_t *ctx,
                                                  exports_kith_plugin_gate_join_request_t *request,
                                                  string_t *answer, exports_kith_plugin_gate_decision_t *ret,
                                                  string_t *err) {
    (void)err;
    ret->tag = KITH_PLUGIN_TYPES_DECISION_REJECT;
    {world_}_string_dup(&ret->val.reject, "this gate asks no questions");
    exports_kith_plugin_gate_context_free(ctx);
    exports_kith_plugin_gate_join_request_free(request);
    {world_}_string_free(answer);
    return true;
}

bool exports_kith_plugin_gate_on_message(exports_kith_plugin_gate_context_t *ctx,
                                         exports_kith_plugin_gate_message_t *message, string_t *err) {
    bool ok = on_text(message, err);
    exports_kith_plugin_gate_context_free(ctx);
    exports_kith_plugin_gate_message_free(message);
    return ok;
}

bool exports_kith_plugin_gate_on_payment(exports_kith_plugin_gate_context_t *ctx,
                                         exports_kith_plugin_gate_payment_t *payment, string_t *err) {
    (void)err;
    exports_kith_plugin_gate_context_free(ctx);
    exports_kith_plugin_gate_payment_free(payment);
    return true;
}

bool exports_kith_plugin_gate_on_timer(exports_kith_plugin_gate_context_t *ctx,
                                       exports_kith_plugin_gate_timer_fired_t *timer, string_t *err) {
    (void)err;
    exports_kith_plugin_gate_context_free(ctx);
    exports_kith_plugin_gate_timer_fired_free(timer);
    return true;
}"#;

const C_GAME_HANDLERS: &str = r#"bool exports_kith_plugin_game_on_enabled(exports_kith_plugin_game_context_t *ctx, string_t *err) {
    (void)err;
    exports_kith_plugin_game_context_free(ctx);
    return true;
}

bool exports_kith_plugin_game_on_member_joined(exports_kith_plugin_game_context_t *ctx,
                                               exports_kith_plugin_game_member_t *member, string_t *err) {
    (void)err;
    exports_kith_plugin_game_context_free(ctx);
    exports_kith_plugin_game_member_free(member);
    return true;
}

bool exports_kith_plugin_game_on_member_left(exports_kith_plugin_game_context_t *ctx,
                                             exports_kith_plugin_game_member_t *member, string_t *err) {
    (void)err;
    exports_kith_plugin_game_context_free(ctx);
    exports_kith_plugin_game_member_free(member);
    return true;
}

bool exports_kith_plugin_game_on_message(exports_kith_plugin_game_context_t *ctx,
                                         exports_kith_plugin_game_message_t *message, string_t *err) {
    bool ok = on_text(message, err);
    exports_kith_plugin_game_context_free(ctx);
    exports_kith_plugin_game_message_free(message);
    return ok;
}

bool exports_kith_plugin_game_on_reaction(exports_kith_plugin_game_context_t *ctx,
                                          exports_kith_plugin_game_reaction_t *reaction, string_t *err) {
    (void)err;
    exports_kith_plugin_game_context_free(ctx);
    exports_kith_plugin_game_reaction_free(reaction);
    return true;
}

bool exports_kith_plugin_game_on_timer(exports_kith_plugin_game_context_t *ctx,
                                       exports_kith_plugin_game_timer_fired_t *timer, string_t *err) {
    (void)err;
    exports_kith_plugin_game_context_free(ctx);
    exports_kith_plugin_game_timer_fired_free(timer);
    return true;
}"#;

const C_FLOW_HANDLERS: &str = r#"bool exports_kith_plugin_flow_on_enabled(exports_kith_plugin_flow_context_t *ctx, string_t *err) {
    (void)err;
    exports_kith_plugin_flow_context_free(ctx);
    return true;
}

bool exports_kith_plugin_flow_on_member_joined(exports_kith_plugin_flow_context_t *ctx,
                                               exports_kith_plugin_flow_member_t *member, string_t *err) {
    (void)err;
    exports_kith_plugin_flow_context_free(ctx);
    exports_kith_plugin_flow_member_free(member);
    return true;
}

bool exports_kith_plugin_flow_on_member_left(exports_kith_plugin_flow_context_t *ctx,
                                             exports_kith_plugin_flow_member_t *member, string_t *err) {
    (void)err;
    exports_kith_plugin_flow_context_free(ctx);
    exports_kith_plugin_flow_member_free(member);
    return true;
}

bool exports_kith_plugin_flow_on_message(exports_kith_plugin_flow_context_t *ctx,
                                         exports_kith_plugin_flow_message_t *message, string_t *err) {
    bool ok = on_text(message, err);
    exports_kith_plugin_flow_context_free(ctx);
    exports_kith_plugin_flow_message_free(message);
    return ok;
}

bool exports_kith_plugin_flow_on_reaction(exports_kith_plugin_flow_context_t *ctx,
                                          exports_kith_plugin_flow_reaction_t *reaction, string_t *err) {
    (void)err;
    exports_kith_plugin_flow_context_free(ctx);
    exports_kith_plugin_flow_reaction_free(reaction);
    return true;
}

bool exports_kith_plugin_flow_on_payment(exports_kith_plugin_flow_context_t *ctx,
                                         exports_kith_plugin_flow_payment_t *payment, string_t *err) {
    (void)err;
    exports_kith_plugin_flow_context_free(ctx);
    exports_kith_plugin_flow_payment_free(payment);
    return true;
}

bool exports_kith_plugin_flow_on_timer(exports_kith_plugin_flow_context_t *ctx,
                                       exports_kith_plugin_flow_timer_fired_t *timer, string_t *err) {
    (void)err;
    exports_kith_plugin_flow_context_free(ctx);
    exports_kith_plugin_flow_timer_fired_free(timer);
    return true;
}"#;

// ---- shared by every language ----------------------------------------------------

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

A kith plugin of the `{world}` world, in {language}.

    ./build.sh                                      # -> {name}.wasm
    kith test {name}.wasm --scenarios scenarios     # the conformance suite and your scenarios

`build.sh` says which toolchain it needs and where it looks for it.
Edit `{source}` (the rules) and `scenarios/*.yaml` (what must happen).
The contract is in `wit/`; the guide is docs/plugin-guide.md in the kith repository.
"#;
