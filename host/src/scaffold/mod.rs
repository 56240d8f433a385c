//! `kith plugin new`: a buildable plugin skeleton with a scenario, so that a
//! newcomer goes from nothing to a passing `kith test` in minutes.
//!
//! The skeletons are the files under `templates/`, one folder per language,
//! included at build time; `templates/README.md` gives their placeholders and
//! the handler markers. Which handlers a world has comes from
//! [`PluginKind::handlers`].

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

use crate::domain::{validate_plugin_name, PluginKind};

/// The WIT package, shipped with every skeleton so it builds on its own.
const WIT: &[(&str, &str)] = &[
    ("types.wit", include_str!("../../../wit/0.1.0/types.wit")),
    (
        "members.wit",
        include_str!("../../../wit/0.1.0/members.wit"),
    ),
    ("groups.wit", include_str!("../../../wit/0.1.0/groups.wit")),
    (
        "messages.wit",
        include_str!("../../../wit/0.1.0/messages.wit"),
    ),
    (
        "storage.wit",
        include_str!("../../../wit/0.1.0/storage.wit"),
    ),
    ("ledger.wit", include_str!("../../../wit/0.1.0/ledger.wit")),
    ("timers.wit", include_str!("../../../wit/0.1.0/timers.wit")),
    ("host.wit", include_str!("../../../wit/0.1.0/host.wit")),
    ("worlds.wit", include_str!("../../../wit/0.1.0/worlds.wit")),
];

/// The languages a skeleton can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Rust with wit-bindgen, a core module for `wasm32-unknown-unknown` (`rust`).
    Rust,
    /// Python, built with componentize-py (`python`).
    Python,
    /// JavaScript, built with componentize-qjs (`js`).
    Js,
    /// C with `wit-bindgen c` and clang with wasi-libc (`c`).
    C,
    /// Zig over the `wit-bindgen c` bindings, built by Zig from PyPI (`zig`).
    Zig,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rust" => Ok(Lang::Rust),
            "python" => Ok(Lang::Python),
            "js" => Ok(Lang::Js),
            "c" => Ok(Lang::C),
            "zig" => Ok(Lang::Zig),
            other => Err(format!(
                "unknown language {other:?}; expected rust, python, js, c or zig"
            )),
        }
    }
}

/// A language's skeleton.
struct Templates {
    /// Named in the README.
    language: &'static str,
    /// Where the plugin's code goes (named in the README).
    source: &'static str,
    /// Each file's place in the skeleton, and its template.
    files: &'static [(&'static str, &'static str)],
}

/// A template file, by its path under `templates/`.
macro_rules! template {
    ($path:literal) => {
        include_str!(concat!("templates/", $path))
    };
}

const RUST: Templates = Templates {
    language: "Rust",
    source: "src/lib.rs",
    files: &[
        ("src/lib.rs", template!("rust/src/lib.rs")),
        ("Cargo.toml", template!("rust/Cargo.toml.tmpl")),
        ("build.sh", template!("rust/build.sh")),
        (".gitignore", template!("rust/gitignore")),
    ],
};

const PYTHON: Templates = Templates {
    language: "Python (componentize-py)",
    source: "app.py",
    files: &[
        ("app.py", template!("python/app.py")),
        ("build.sh", template!("python/build.sh")),
        (".gitignore", template!("python/gitignore")),
    ],
};

const JS: Templates = Templates {
    language: "JavaScript (componentize-qjs)",
    source: "plugin.js",
    files: &[
        ("plugin.js", template!("js/plugin.js")),
        ("build.sh", template!("js/build.sh")),
        (".gitignore", template!("js/gitignore")),
    ],
};

const C: Templates = Templates {
    language: "C (wit-bindgen c)",
    source: "plugin.c",
    files: &[
        ("plugin.c", template!("c/plugin.c")),
        ("build.sh", template!("c/build.sh")),
        (".gitignore", template!("c/gitignore")),
    ],
};

const ZIG: Templates = Templates {
    language: "Zig (over wit-bindgen c)",
    source: "plugin.zig",
    files: &[
        ("plugin.zig", template!("zig/plugin.zig")),
        ("build.sh", template!("zig/build.sh")),
        (".gitignore", template!("zig/gitignore")),
    ],
};

/// Every skeleton's README.
const README: &str = template!("common/README.md");
/// The scenario of a gate skeleton (a join, then /hello).
const GATE_SCENARIO: &str = template!("common/scenarios/gate.yaml");
/// The scenario of the other skeletons (/hello with a configured greeting).
const MESSAGE_SCENARIO: &str = template!("common/scenarios/message.yaml");

impl Lang {
    fn templates(self) -> &'static Templates {
        match self {
            Lang::Rust => &RUST,
            Lang::Python => &PYTHON,
            Lang::Js => &JS,
            Lang::C => &C,
            Lang::Zig => &ZIG,
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

/// The skeleton's files, filled in: each file's path and its text.
fn files(t: &Templates, name: &str, kind: PluginKind) -> Vec<(String, String)> {
    let vars = placeholders(t, name, kind);
    let scenario = if kind == PluginKind::EntryGate {
        GATE_SCENARIO
    } else {
        MESSAGE_SCENARIO
    };
    let mut files = vec![
        ("scenarios/hello.yaml".to_string(), scenario.to_string()),
        ("README.md".to_string(), fill(README, &vars)),
    ];
    files.extend(t.files.iter().map(|(path, text)| {
        let text = fill(&select_handlers(text, kind), &vars);
        (path.to_string(), text)
    }));
    files
}

/// The interface a world exports its handlers in (`wit/worlds.wit`).
fn interface(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::EntryGate => "gate",
        PluginKind::ActivityGame => "game",
        PluginKind::ConversionFlow => "flow",
    }
}

/// Each placeholder of the templates and its value (templates/README.md).
fn placeholders(t: &Templates, name: &str, kind: PluginKind) -> Vec<(&'static str, String)> {
    let world = kind.as_str();
    let iface = interface(kind);
    vec![
        ("my-plugin", name.to_string()),
        ("my_plugin", name.replace('-', "_")),
        ("my-world", world.to_string()),
        ("my_world", world.replace('-', "_")),
        ("my_iface", iface.to_string()),
        ("MyIface", pascal_case(iface)),
        ("MyKind", pascal_case(world)),
        ("MY_KIND", world.replace('-', "_").to_uppercase()),
        ("my-language", t.language.to_string()),
        ("my-source", t.source.to_string()),
    ]
}

/// `entry-gate` -> `EntryGate`.
fn pascal_case(words: &str) -> String {
    words
        .split('-')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

/// Replaces every placeholder in one pass, so that a value which spells a
/// placeholder (a plugin named `my-world`) stays as it is.
fn fill(text: &str, vars: &[(&'static str, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = vars
            .iter()
            .filter_map(|(key, value)| rest.find(key).map(|at| (at, *key, value)))
            .min_by_key(|(at, key, _)| (*at, std::cmp::Reverse(key.len())));
        let Some((at, key, value)) = next else { break };
        out.push_str(&rest[..at]);
        out.push_str(value);
        rest = &rest[at + key.len()..];
    }
    out.push_str(rest);
    out
}

/// A handler marker line: `Some(Some(name))` opens a handler's section,
/// `Some(None)` closes the last one.
fn marker(line: &str) -> Option<Option<&str>> {
    let line = line.trim();
    let comment = line
        .strip_prefix("//")
        .or_else(|| line.strip_prefix('#'))?
        .trim();
    if comment == "end of handlers" {
        Some(None)
    } else {
        comment.strip_prefix("handler: ").map(Some)
    }
}

/// Keeps the sections of the handlers `kind` has and drops the others; the
/// marker lines go (templates/README.md).
fn select_handlers(text: &str, kind: PluginKind) -> String {
    let mut keep = true;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match marker(line) {
            Some(Some(handler)) => keep = kind.handlers().contains(&handler),
            Some(None) => keep = true,
            None if keep => out.push_str(line),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LANGS: [Lang; 5] = [Lang::Rust, Lang::Python, Lang::Js, Lang::C, Lang::Zig];

    /// `PluginKind::handlers` is what each world's interface declares.
    #[test]
    fn handlers_are_those_of_the_wit() {
        let worlds = WIT.iter().find(|(f, _)| *f == "worlds.wit").unwrap().1;
        for &kind in PluginKind::ALL {
            let start = format!("interface {} {{", interface(kind));
            let block = worlds
                .split(&start)
                .nth(1)
                .unwrap()
                .split("\n}")
                .next()
                .unwrap();
            let declared: Vec<&str> = block
                .lines()
                .filter_map(|l| l.trim().split_once(": func"))
                .map(|(name, _)| name)
                .collect();
            assert_eq!(declared, kind.handlers(), "{kind}");
        }
    }

    /// Every language's source marks each handler of every world once, in
    /// the WIT's order, and nothing else.
    #[test]
    fn templates_mark_every_handler() {
        for lang in LANGS {
            let t = lang.templates();
            let source = t.files.iter().find(|(p, _)| *p == t.source).unwrap().1;
            let marked: Vec<&str> = source.lines().filter_map(|l| marker(l).flatten()).collect();
            for &kind in PluginKind::ALL {
                let kept: Vec<&str> = marked
                    .iter()
                    .copied()
                    .filter(|h| kind.handlers().contains(h))
                    .collect();
                assert_eq!(kept, kind.handlers(), "{lang:?} {kind}");
            }
            let known = |h: &&str| PluginKind::ALL.iter().any(|k| k.handlers().contains(h));
            assert!(marked.iter().all(known), "{lang:?}: {marked:?}");
        }
    }

    #[test]
    fn skeletons_have_no_placeholder_or_marker_left() {
        for lang in LANGS {
            for &kind in PluginKind::ALL {
                for (path, text) in files(lang.templates(), "new-one", kind) {
                    for (key, _) in placeholders(lang.templates(), "x", kind) {
                        assert!(!text.contains(key), "{lang:?} {kind} {path}: {key}");
                    }
                    assert!(text.lines().all(|l| marker(l).is_none()), "{path}");
                }
            }
        }
    }

    #[test]
    fn a_name_that_spells_a_placeholder_is_kept() {
        let files = files(&RUST, "my-world", PluginKind::ActivityGame);
        let cargo = &files.iter().find(|(p, _)| p == "Cargo.toml").unwrap().1;
        assert!(cargo.contains("name = \"my-world\""));
        let lib = &files.iter().find(|(p, _)| p == "src/lib.rs").unwrap().1;
        assert!(lib.contains("world: \"activity-game\""));
        assert!(lib.contains("PluginKind::ActivityGame"));
        assert!(!lib.contains("fn on_join_request"));
    }
}
