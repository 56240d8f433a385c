//! `kith test` judged on real plugin files: the bundled plugins pass, and a
//! deliberately broken set fails, each for the right reason.

use kith::conformance::{self, Options, Report};
use kith::domain::Limits;
use kith_tests::workspace_root;

fn file(path: &str) -> Vec<u8> {
    let p = workspace_root().join(path);
    std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e}; run bash scripts/build-plugins.sh", p.display()))
}

/// A tight budget, so that hostile plugins are stopped quickly.
fn tight() -> Options {
    Options {
        events: 120,
        limits: Limits {
            fuel: 50_000_000,
            timeout_ms: 300,
            memory_bytes: 32 << 20,
            ..Limits::default()
        },
        ..Options::default()
    }
}

/// `kith test PLUGIN --scenarios DIR` with the tight budget.
async fn judge(plugin: &str, scenarios: Option<&std::path::Path>) -> Report {
    conformance::run(&file(plugin), scenarios, &tight())
        .await
        .unwrap()
}

fn check<'a>(report: &'a Report, name: &str) -> &'a conformance::Check {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}:\n{}", report.render()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundled_plugins_conform_with_their_scenarios() {
    for name in ["invite-only", "daily-checkin", "referral-fission"] {
        let wasm = file(&format!("target/plugins/{name}.wasm"));
        let scenarios = workspace_root().join(format!("plugins/rust/{name}/scenarios"));
        let report = conformance::run(&wasm, Some(&scenarios), &Options::default())
            .await
            .unwrap();
        assert!(report.passed(), "{name}:\n{}", report.render());
        assert!(
            report
                .checks
                .iter()
                .any(|c| c.name.starts_with("scenario ")),
            "{name} ships scenarios"
        );
        let xml = conformance::junit::render(&report);
        assert!(xml.contains("failures=\"0\""), "{xml}");
    }
}

#[tokio::test]
async fn a_module_of_no_kith_world_is_refused() {
    let report = judge("target/test-plugins/no-world.wasm", None).await;
    assert!(!report.passed());
    assert!(
        check(&report, "world")
            .detail
            .contains("exports none of kith:plugin"),
        "{}",
        report.render()
    );
}

#[tokio::test]
async fn an_invalid_config_schema_is_refused() {
    let report = judge("target/test-plugins/bad-schema.wasm", None).await;
    let m = check(&report, "metadata");
    assert!(
        !m.passed && m.detail.contains("not a valid JSON Schema"),
        "{}",
        report.render()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_behaviour_fails_its_scenarios_with_the_reason() {
    let scenarios = workspace_root().join("tests/plugins/hostile/scenarios");
    let report = judge("target/test-plugins/hostile.wasm", Some(&scenarios)).await;
    assert!(!report.passed());
    // Generated events are harmless to it: only its scenarios fail.
    assert!(check(&report, "handlers").passed, "{}", report.render());
    let reason = |n: &str| check(&report, &format!("scenario {n}.yaml")).detail.clone();
    let loop_reason = reason("loop");
    assert!(
        loop_reason.contains("timed out after 300 ms") || loop_reason.contains("ran out of fuel"),
        "{loop_reason}"
    );
    // The panic hook of kith-plugin-util says what and where.
    let panic = reason("panic");
    assert!(
        panic.contains("panicked at ")
            && panic.contains("src/lib.rs:")
            && panic.contains("hostile plugin panics on purpose"),
        "{panic}"
    );
    assert!(reason("memory").contains("memory"), "{}", reason("memory"));
    assert!(reason("recurse").contains("stack"), "{}", reason("recurse"));
    assert!(
        reason("flood").contains("stopped after 60 posts"),
        "the per-minute message quota: {}",
        reason("flood")
    );
    assert!(reason("big").contains("memory"), "{}", reason("big"));
    assert!(
        reason("stash").contains("storage refused after 17 values"),
        "{}",
        reason("stash")
    );
    // Whatever it wrote before being stopped was discarded: no other diff.
    for n in ["loop", "panic", "memory", "recurse"] {
        assert!(
            !reason(n).contains("members[victim]") && !reason(n).contains("storage[mark]"),
            "{n}: {}",
            reason(n)
        );
    }
    let xml = conformance::junit::render(&report);
    assert!(xml.contains("<failure message="), "{xml}");
}

/// A plugin that never traps but lets what it did in `g` show in its
/// sibling and strands points in an escrow fails isolation and ledger, and
/// only those.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaks_between_groups_and_stranded_escrows_are_caught() {
    let report = judge("target/test-plugins/leaky.wasm", None).await;
    for passing in ["handlers", "determinism", "budget"] {
        assert!(check(&report, passing).passed, "{}", report.render());
    }
    let isolation = check(&report, "isolation");
    assert!(!isolation.passed, "{}", report.render());
    // The sibling's timer stored g's member count, which the plugin's
    // removals in g changed.
    assert!(
        isolation
            .detail
            .contains("differs from the run where the plugin is not enabled in g")
            && isolation.detail.contains("key: \"siblings\""),
        "{}",
        isolation.detail
    );
    let ledger = check(&report, "ledger");
    assert!(!ledger.passed, "{}", report.render());
    assert!(
        ledger.detail.contains("escrow:lost holds")
            && ledger.detail.contains("neither settled nor accounted for"),
        "{}",
        ledger.detail
    );
}

#[tokio::test]
async fn a_failing_scenario_shows_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("wrong.yaml"),
        "name: wrong reward\ngiven: {members: [{id: amy}]}\nwhen: [{message: {sender: amy, text: /checkin}}]\nexpect: {members: [{id: amy, points: 11}]}\n",
    )
    .unwrap();
    let report = judge("target/plugins/daily-checkin.wasm", Some(dir.path())).await;
    let s = check(&report, "scenario wrong.yaml");
    assert!(!s.passed);
    assert!(
        s.detail
            .contains("members[amy].points: expected 11, got 10"),
        "{}",
        s.detail
    );
}

/// A misspelled member is an error, not a newcomer; every problem of the
/// file is reported at once, each with its line; an action's fields (a
/// removal's reason) can be asserted.
#[tokio::test]
async fn scenario_files_report_every_problem_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("typos.yaml"),
        "name: typos\ngiven:\n  members: [{id: amy}]\nwhen:\n  - message: {sender: amy, text: hi}\n  - message: {sender: aym, text: hi}\n  - reaction: {message: m-s0, member: amy}\n  - leave: {member: bbo}\nexpect:\n  members: [{id: zed}]\n",
    )
    .unwrap();
    let report = judge("target/plugins/daily-checkin.wasm", Some(dir.path())).await;
    let s = check(&report, "scenario typos.yaml");
    assert!(!s.passed);
    for want in [
        "line 6: step 2: member \"aym\" is not in given.members",
        "line 7: step 3: missing field `emoji`",
        "line 8: step 4: member \"bbo\"",
        "expect.members: \"zed\"",
    ] {
        assert!(s.detail.contains(want), "{want:?} in:\n{}", s.detail);
    }
}

#[tokio::test]
async fn scenarios_assert_every_field_of_an_action() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = |reason: &str| {
        format!(
            "name: ad\nconfig: {{language: en, warnings_before_removal: 1}}\ngiven: {{members: [{{id: amy}}]}}\nwhen:\n  - message: {{sender: amy, text: \"buy now http://spam.example/x\"}}\nexpect:\n  actions: [{{action: delete}}, {{action: remove, member: amy, reason: \"{reason}\"}}]\n"
        )
    };
    std::fs::write(dir.path().join("wrong.yaml"), scenario("not the reason")).unwrap();
    let reason = "1 warnings, last: links are not allowed (spam.example)";
    std::fs::write(dir.path().join("right.yaml"), scenario(reason)).unwrap();
    let report = judge("target/plugins/ad-filter.wasm", Some(dir.path())).await;
    let wrong = check(&report, "scenario wrong.yaml");
    assert!(!wrong.passed, "a wrong reason must fail");
    assert!(wrong.detail.contains("not the reason"), "{}", wrong.detail);
    let right = check(&report, "scenario right.yaml");
    assert!(right.passed, "{}", right.detail);
}

/// `kith plugin new` gives a skeleton that builds and passes `kith test`,
/// for each world in Rust, and for one world in each other language (their
/// toolchains, from scripts/build-lang-plugins.sh, are slow enough).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_skeletons_build_and_conform() {
    use kith::domain::PluginKind;
    use kith::scaffold::Lang;
    let root = workspace_root();
    let toolchain = |path: &str| {
        let p = root.join(path);
        assert!(
            p.exists(),
            "{}: missing; run bash scripts/build-lang-plugins.sh",
            p.display()
        );
        p
    };
    let dir = tempfile::tempdir().unwrap();
    // Shares the compiled wasm std of the bundled plugins.
    let rust_env = || vec![("CARGO_TARGET_DIR", root.join("plugins/rust/target"))];
    let rust_events = Options {
        events: 80,
        ..Options::default()
    };
    let lang_events = Options {
        events: 40,
        cache_dir: None,
        ..Default::default()
    };
    let skeletons = [
        (
            "new-gate",
            PluginKind::EntryGate,
            Lang::Rust,
            rust_env(),
            &rust_events,
        ),
        (
            "new-game",
            PluginKind::ActivityGame,
            Lang::Rust,
            rust_env(),
            &rust_events,
        ),
        (
            "new-flow",
            PluginKind::ConversionFlow,
            Lang::Rust,
            rust_env(),
            &rust_events,
        ),
        (
            "new-gate-c",
            PluginKind::EntryGate,
            Lang::C,
            vec![],
            &lang_events,
        ),
        (
            "new-gate-zig",
            PluginKind::EntryGate,
            Lang::Zig,
            vec![("KITH_PY", toolchain("target/toolchains/py"))],
            &lang_events,
        ),
        (
            "new-flow-js",
            PluginKind::ConversionFlow,
            Lang::Js,
            vec![("KITH_JS_MODULES", toolchain("plugins/js/node_modules"))],
            &lang_events,
        ),
        (
            "new-game-py",
            PluginKind::ActivityGame,
            Lang::Python,
            vec![("KITH_PY", toolchain("target/toolchains/py"))],
            &lang_events,
        ),
    ];
    for (name, kind, lang, env, opts) in skeletons {
        let started = std::time::Instant::now();
        let plugin = kith::scaffold::new_plugin(dir.path(), name, kind, lang).unwrap();
        let status = std::process::Command::new("bash")
            .arg(plugin.join("build.sh"))
            .envs(env)
            .status()
            .expect("bash");
        assert!(status.success(), "{name} ({lang:?}): build.sh failed");
        let built = started.elapsed();
        let wasm = std::fs::read(plugin.join(format!("{name}.wasm"))).unwrap();
        let report = conformance::run(&wasm, Some(&plugin.join("scenarios")), opts)
            .await
            .unwrap();
        eprintln!(
            "{name} ({lang:?}): {} bytes, built in {built:.1?}, kith test in {:.1?}",
            wasm.len(),
            started.elapsed() - built
        );
        assert!(report.passed(), "{name} ({lang:?}):\n{}", report.render());
        assert_eq!(
            check(&report, "world").detail,
            format!("{kind} (kith:plugin@0.1.0)")
        );
        assert!(
            check(&report, "scenario hello.yaml").passed,
            "{name} ({lang:?}) runs its scenario"
        );
    }
    assert!(
        kith::scaffold::new_plugin(dir.path(), "new-gate", PluginKind::EntryGate, Lang::Rust)
            .is_err(),
        "no overwrite"
    );
    assert!(
        kith::scaffold::new_plugin(dir.path(), "Bad Name", PluginKind::EntryGate, Lang::Rust)
            .is_err()
    );
    assert!("cobol".parse::<Lang>().is_err());
}
