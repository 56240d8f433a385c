//! The one place where Rust types are generated from `wit/`.
//!
//! The three worlds import the same interfaces; `with` makes the second and
//! third reuse the first one's generated modules, so every host interface is
//! implemented once and one `Linker` serves a plugin of any world.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "entry-gate",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub mod game {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "activity-game",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "kith:plugin/types": super::kith::plugin::types,
            "kith:plugin/members": super::kith::plugin::members,
            "kith:plugin/groups": super::kith::plugin::groups,
            "kith:plugin/messages": super::kith::plugin::messages,
            "kith:plugin/storage": super::kith::plugin::storage,
            "kith:plugin/ledger": super::kith::plugin::ledger,
            "kith:plugin/timers": super::kith::plugin::timers,
            "kith:plugin/log": super::kith::plugin::log,
            "kith:plugin/config": super::kith::plugin::config,
        },
    });
}

pub mod flow {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "conversion-flow",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "kith:plugin/types": super::kith::plugin::types,
            "kith:plugin/members": super::kith::plugin::members,
            "kith:plugin/groups": super::kith::plugin::groups,
            "kith:plugin/messages": super::kith::plugin::messages,
            "kith:plugin/storage": super::kith::plugin::storage,
            "kith:plugin/ledger": super::kith::plugin::ledger,
            "kith:plugin/timers": super::kith::plugin::timers,
            "kith:plugin/log": super::kith::plugin::log,
            "kith:plugin/config": super::kith::plugin::config,
        },
    });
}

pub use self::kith::plugin::types as wit;
