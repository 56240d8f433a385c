//! The WASI a plugin gets: nothing from the machine. No preopened files, no
//! sockets, no environment or arguments, stdio discarded; the wall clock is
//! the event's time and randomness comes from the event's seed, so a
//! component built with WASI stays as deterministic as one without.

use rand::SeedableRng;
use std::time::Duration;
use wasmtime_wasi::{
    HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView,
};

use super::HostState;

/// Always the event's time.
struct EventClock(Duration);

impl HostWallClock for EventClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        self.0
    }
}

/// Starts at zero and moves one microsecond per reading: elapsed-time code
/// works, and two runs read the same values.
struct StepClock(std::sync::atomic::AtomicU64);

impl HostMonotonicClock for StepClock {
    fn resolution(&self) -> u64 {
        1_000
    }
    fn now(&self) -> u64 {
        self.0
            .fetch_add(1_000, std::sync::atomic::Ordering::Relaxed)
    }
}

pub fn sandboxed(now_ms: i64, seed: u64) -> WasiCtx {
    let mut b = WasiCtxBuilder::new();
    b.wall_clock(EventClock(Duration::from_millis(now_ms.max(0) as u64)))
        .monotonic_clock(StepClock(Default::default()))
        .secure_random(rand::rngs::StdRng::seed_from_u64(seed))
        .insecure_random(rand::rngs::StdRng::seed_from_u64(seed ^ 0x5eed))
        .insecure_random_seed(u128::from(seed))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    b.build()
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let (now, seed) = (self.ctx.now, self.ctx.seed);
        let ctx = self.wasi.get_or_insert_with(|| sandboxed(now, seed));
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}
