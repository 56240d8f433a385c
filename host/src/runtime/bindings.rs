//! The one place where Rust types are generated from `wit/`.
//!
//! The three worlds import the same interfaces; `with` makes the second and
//! third reuse the first one's generated modules (one entry for the whole
//! `kith:plugin` package, as wasmtime-wasi-http maps `wasi:io`), so every
//! host interface is implemented once and one `Linker` serves a plugin of
//! any world. Each world's own export is still generated in its module.

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
        with: { "kith:plugin": super::kith::plugin },
    });
}

pub mod flow {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "conversion-flow",
        imports: { default: async | trappable },
        exports: { default: async },
        with: { "kith:plugin": super::kith::plugin },
    });
}

pub use self::kith::plugin::types as wit;
