//! The runtime on its own: reading plugin files, worlds, caching.

use kith::domain::PluginKind;
use kith::runtime::{Runtime, World};
use kith_tests::plugin_file;

#[test]
fn core_modules_are_componentized_and_worlds_found() {
    let rt = Runtime::new(None).unwrap();
    for (name, world) in [
        ("invite-only", World::V0_1(PluginKind::EntryGate)),
        ("daily-checkin", World::V0_1(PluginKind::ActivityGame)),
        ("funnel-vip", World::V0_1(PluginKind::ConversionFlow)),
        ("scheduled-value", World::V0_2),
        // Built against 0.2.1: the same world as 0.2.0's.
        ("referral-fission", World::V0_2),
    ] {
        let core = plugin_file(name);
        let file = rt.read_plugin_file(&core).unwrap();
        assert_eq!(file.world, world, "{name}");
        // The component itself is accepted as it is, with the same hash.
        let again = rt.read_plugin_file(&file.component).unwrap();
        assert_eq!(again.sha256, file.sha256);
    }
}

#[test]
fn files_that_are_not_kith_plugins_are_refused_with_a_reason() {
    let rt = Runtime::new(None).unwrap();
    let err = |bytes: &[u8]| format!("{:#}", rt.read_plugin_file(bytes).err().expect("refused"));
    assert!(err(b"PK\x03\x04zip").contains("not a WebAssembly file"));
    // A core module without wit-bindgen's section, and an empty component,
    // implement no kith world.
    for bytes in [&b"\0asm\x01\0\0\0"[..], &b"\0asm\x0d\0\x01\0"[..]] {
        assert!(
            err(bytes).contains("exports none of kith:plugin"),
            "{}",
            err(bytes)
        );
    }
}

#[test]
fn compiled_code_is_cached_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let core = plugin_file("daily-checkin");
    let first = Runtime::new(Some(dir.path().to_path_buf())).unwrap();
    let file = first.read_plugin_file(&core).unwrap();
    first.load(&file.sha256, &file.component).unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].extension().unwrap() == "cwasm");
    // A new engine (a restart) loads the cached code instead of compiling.
    let modified = std::fs::metadata(&files[0]).unwrap().modified().unwrap();
    let second = Runtime::new(Some(dir.path().to_path_buf())).unwrap();
    second.load(&file.sha256, &file.component).unwrap();
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().modified().unwrap(),
        modified
    );
}

/// Loads of one component that race (an event for a plugin still compiling
/// in the background, say) wait for the one compilation under way.
#[test]
fn a_component_is_compiled_once_however_many_ask_at_once() {
    let rt = Runtime::new(None).unwrap();
    let file = rt.read_plugin_file(&plugin_file("daily-checkin")).unwrap();
    let before = rt.compilations();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| rt.load(&file.sha256, &file.component).unwrap());
        }
    });
    assert_eq!(rt.compilations() - before, 1);
    assert_eq!(rt.load_gates(), 0, "no load gate outlives its load");
}
