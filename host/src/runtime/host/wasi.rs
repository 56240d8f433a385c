//! The WASI a plugin gets: nothing from the machine. No preopened files, no
//! sockets, no environment or arguments, stdio discarded; the wall clock is
//! the event's time and randomness comes from the event's seed, so a
//! component built with WASI stays as deterministic as one without.

use rand::SeedableRng;
use std::time::Duration;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
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

/// How much of a plugin's stderr is kept: enough for a traceback. A
/// plugin that writes more finds stderr closed (its writes fail; it is not
/// stopped).
pub const STDERR_BYTES: usize = 16 << 10;

/// WASI with nothing from the machine; stderr goes to `stderr`, which the
/// host reads after the call (a Python traceback, a C `fprintf(stderr…)`).
pub fn sandboxed(now_ms: i64, seed: u64, stderr: MemoryOutputPipe) -> WasiCtx {
    let mut b = WasiCtxBuilder::new();
    b.stderr(stderr);
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
        let stderr = &mut self.stderr;
        let ctx = self.wasi.get_or_insert_with(|| {
            let pipe = MemoryOutputPipe::new(STDERR_BYTES);
            *stderr = Some(pipe.clone());
            sandboxed(now, seed, pipe)
        });
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}
