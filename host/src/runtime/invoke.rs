//! Running one handler of one plugin: a fresh `Store`, its limits, and a
//! report of what happened. Effects are returned only when the handler
//! succeeded; a trap, a timeout or an `Err` discards them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::Store as WasmStore;

use super::engine::{Loaded, Runtime};
use super::host::{HostState, InvocationContext};
use super::worlds::{self, Outcome};
use crate::domain::*;

/// What a handler returned when it succeeded.
#[derive(Debug, Clone, PartialEq)]
pub enum HandlerOutput {
    /// An event handler finished (`on-message`, `on-timer`, …).
    Done,
    /// A gate's decision on a join request or a challenge answer.
    Decision(Decision),
    /// The plugin's `metadata()`.
    Metadata(PluginMetadata),
}

/// How an invocation failed: the handler's own `Err`, or the host stopping it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The handler returned its own `Err`.
    HandlerError,
    /// The plugin trapped: a panic, a stack overflow, memory refused, or a
    /// host call that failed fatally.
    Trap,
    /// Its running-time budget (or the wall-clock cap) ran out.
    Timeout,
    /// Its fuel (instruction budget) ran out.
    OutOfFuel,
}

/// Everything about one invocation, success or not.
#[derive(Debug)]
pub struct InvocationReport {
    /// The handler's WIT name, e.g. `on-message`.
    pub handler: &'static str,
    /// `Err` for a trap, a timeout, exhausted fuel or memory, or the handler's own error.
    pub result: Result<HandlerOutput, String>,
    /// Why `result` is an `Err`.
    pub failure: Option<Failure>,
    /// The largest linear memory the plugin used, in bytes.
    pub peak_memory: usize,
    /// The invocation's effects; empty unless `result` is `Ok`.
    pub effects: Vec<Effect>,
    /// Log lines the plugin wrote (kept even when it failed).
    pub logs: Vec<LogLine>,
    /// Wasmtime fuel the invocation consumed.
    pub fuel_used: u64,
    /// Wall time of the invocation, waits for a turn included.
    pub duration: Duration,
}

/// What a plugin is asked to do.
enum Call<'a> {
    Metadata,
    Event(&'a PluginEvent),
}

impl Runtime {
    /// Runs the handler for `event`, seeing `earlier` effects as already made.
    pub async fn invoke(
        &self,
        loaded: &Loaded,
        ctx: InvocationContext,
        earlier: Vec<Effect>,
        event: &PluginEvent,
    ) -> InvocationReport {
        self.run(loaded, ctx, earlier, Call::Event(event)).await
    }

    /// Calls the plugin's `metadata` export and checks what it returns.
    pub async fn metadata(
        &self,
        loaded: &Loaded,
        ctx: InvocationContext,
    ) -> Result<PluginMetadata, String> {
        match self.run(loaded, ctx, vec![], Call::Metadata).await.result? {
            HandlerOutput::Metadata(m) => Ok(m),
            _ => unreachable!("metadata call returns metadata"),
        }
    }

    async fn run(
        &self,
        loaded: &Loaded,
        ctx: InvocationContext,
        earlier: Vec<Effect>,
        call: Call<'_>,
    ) -> InvocationReport {
        let limits = ctx.limits;
        let handler = match call {
            Call::Metadata => "metadata",
            Call::Event(e) => e.handler(),
        };
        // Never fails: the semaphore is not closed and no component needs more
        // than it holds (checked on load).
        let _slots = self
            .slots
            .acquire_many(loaded.slots)
            .await
            .expect("pool semaphore");
        let mut store = WasmStore::new(&self.engine, HostState::new(ctx, earlier));
        store.limiter(|s| &mut s.limits);
        store
            .set_fuel(limits.fuel)
            .expect("fuel is enabled on the engine");
        // A plugin still running after its first slice (YIELD_TICKS) takes
        // short turns (LANE_TICKS) in the slow lane, yielding after each:
        // however many plugins spin at once, they share the lane's cores and
        // leave the others to every group's short invocations. The budget
        // counts running time, not the wait for a turn; a wall-clock cap
        // bounds the wait.
        let started = Instant::now();
        let budget = Duration::from_millis(limits.timeout_ms);
        let turns = Turns(Arc::new(TurnState {
            lane: self.slow_lane.clone(),
            held: Mutex::new(None),
            waited: AtomicU64::new(0),
        }));
        let clock = turns.clone();
        store.epoch_deadline_callback(move |_| {
            let waited = turns.waited();
            if started.elapsed().saturating_sub(waited) >= budget
                || started.elapsed() >= budget * WALL_CLOCK_FACTOR
            {
                return Ok(wasmtime::UpdateDeadline::Interrupt);
            }
            Ok(wasmtime::UpdateDeadline::YieldCustom(
                LANE_TICKS,
                Box::pin(turns.clone().next()),
            ))
        });
        store.set_epoch_deadline(YIELD_TICKS);
        let outcome = {
            let running = async {
                match &call {
                    Call::Metadata => worlds::metadata(&loaded.pre, &mut store).await,
                    Call::Event(event) => worlds::dispatch(&loaded.pre, &mut store, event).await,
                }
            };
            within_budget(running, started, budget, &clock).await
        };
        let duration = started.elapsed();
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.into_data();
        let peak_memory = state.limits.peak_memory;
        let (effects, logs) = state.into_parts();
        let (result, failure) = judge(outcome, handler, &limits, &logs);
        let effects = if result.is_ok() { effects } else { vec![] };
        InvocationReport {
            handler,
            result,
            failure,
            peak_memory,
            effects,
            logs,
            fuel_used,
            duration,
        }
    }
}

/// Runs an invocation until it ends or its budget is spent. The epoch
/// deadline stops wasm that runs too long, but fires only inside wasm: a
/// host call that does not return (a database that does not answer) would
/// hold the invocation forever. This timer covers that time too: the budget
/// is running time, host calls included, not counting waits for a turn in
/// the slow lane; the wall-clock cap bounds those. Dropping the call cancels
/// it; its effects are discarded as for any timeout.
async fn within_budget(
    running: impl std::future::Future<Output = Outcome>,
    started: Instant,
    budget: Duration,
    turns: &Turns,
) -> Outcome {
    let mut running = std::pin::pin!(running);
    // Most invocations finish in their first poll: nothing they await is
    // pending (a trivial handler, or host calls answered from memory).
    // Those need no timer, whose registration in tokio's timer wheel and
    // removal cost more than such an invocation's host-side work. The
    // deadlines below still count from `started`.
    let first = std::future::poll_fn(|cx| {
        std::task::Poll::Ready(std::future::Future::poll(running.as_mut(), cx))
    })
    .await;
    if let std::task::Poll::Ready(outcome) = first {
        return outcome;
    }
    let cap = started + budget * WALL_CLOCK_FACTOR;
    loop {
        // Waits for turns move the deadline; look again when it passes.
        let deadline = (started + budget + turns.waited()).min(cap);
        tokio::select! {
            outcome = &mut running => return outcome,
            _ = tokio::time::sleep_until(deadline.into()) => {
                let now = Instant::now();
                if now >= cap || now >= started + budget + turns.waited() {
                    return Err(wasmtime::Trap::Interrupt.into());
                }
            }
        }
    }
}

/// How many epoch ticks a plugin runs before its first yield (a slice,
/// 5-10 ms): far longer than a well-behaved handler takes.
const YIELD_TICKS: u64 = 2;

/// A turn in the slow lane, in epoch ticks (0-5 ms): short, because while a
/// long run has its turn, tasks queued on its worker wait.
const LANE_TICKS: u64 = 1;

/// The longest an invocation may take in wall-clock time, waiting for
/// turns included, in multiples of its budget.
const WALL_CLOCK_FACTOR: u32 = 10;

/// One invocation's turns in the slow lane, shared by its epoch callback
/// and its budget timer (one allocation per invocation).
#[derive(Clone)]
struct Turns(Arc<TurnState>);

struct TurnState {
    lane: Arc<Semaphore>,
    held: Mutex<Option<OwnedSemaphorePermit>>,
    /// Time spent waiting for turns and yielding, in microseconds.
    waited: AtomicU64,
}

impl Turns {
    /// Gives up the lane, then waits for the next turn (the semaphore is
    /// fair: first come, first served), so spinning plugins alternate.
    async fn next(self) {
        let asked = Instant::now();
        drop(self.0.held.lock().expect("turn").take());
        let permit = self
            .0
            .lane
            .clone()
            .acquire_owned()
            .await
            .expect("the lane is never closed");
        *self.0.held.lock().expect("turn") = Some(permit);
        // Hand the thread back to the executor every slice, even when the
        // lane was free at once: otherwise tasks queued behind this one on
        // its worker wait a whole budget (measured: p99 963 ms on Postgres
        // with the lane but without this yield, docs/benchmarks.md §5).
        tokio::task::yield_now().await;
        // Not running: neither the wait nor the yield counts against the budget.
        self.0
            .waited
            .fetch_add(asked.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    fn waited(&self) -> Duration {
        Duration::from_micros(self.0.waited.load(Ordering::Relaxed))
    }
}

/// The invocation's result as the host reports it, and why it failed.
fn judge(
    outcome: Outcome,
    handler: &str,
    limits: &Limits,
    logs: &[LogLine],
) -> (Result<HandlerOutput, String>, Option<Failure>) {
    match outcome {
        Ok(Ok(output)) => (Ok(output), None),
        Ok(Err(handler_error)) => (
            Err(format!("{handler} returned an error: {handler_error}")),
            Some(Failure::HandlerError),
        ),
        Err(trap) => {
            let failure = match trap.downcast_ref::<wasmtime::Trap>() {
                Some(wasmtime::Trap::Interrupt) => Failure::Timeout,
                Some(wasmtime::Trap::OutOfFuel) => Failure::OutOfFuel,
                _ => Failure::Trap,
            };
            let panicked = matches!(
                trap.downcast_ref::<wasmtime::Trap>(),
                Some(wasmtime::Trap::UnreachableCodeReached)
            );
            let said = panic_report(logs).filter(|_| panicked);
            let described = match (said, last_words(logs)) {
                (Some(report), _) => format!("{handler} {report}"),
                (None, Some(words)) if failure == Failure::Trap => {
                    format!(
                        "{}; it wrote to stderr:\n{words}",
                        describe_trap(&trap, handler, limits)
                    )
                }
                _ => describe_trap(&trap, handler, limits),
            };
            (Err(described), Some(failure))
        }
    }
}

/// What a plugin said of its own panic just before it trapped: the last
/// error line that starts with "panicked at" (`kith-plugin-util`'s panic
/// hook writes one with the message and file:line; any SDK may).
fn panic_report(logs: &[LogLine]) -> Option<&str> {
    logs.iter()
        .rev()
        .find(|l| l.level == LogLevel::Error && l.message.starts_with("panicked at"))
        .map(|l| l.message.as_str())
}

/// The end of what the plugin wrote to stderr before it trapped: where a
/// Python traceback or a C program's message is.
fn last_words(logs: &[LogLine]) -> Option<String> {
    let lines: Vec<&str> = logs
        .iter()
        .filter_map(|l| l.message.strip_prefix(super::host::STDERR_PREFIX))
        .collect();
    let tail = &lines[lines.len().saturating_sub(20)..];
    (!tail.is_empty()).then(|| tail.join("\n"))
}

/// Says in plain words why an invocation was stopped.
fn describe_trap(error: &wasmtime::Error, handler: &str, limits: &Limits) -> String {
    // The wasm backtrace stays in the host's log; the operator gets the cause.
    tracing::debug!("{handler}: {error:?}");
    let cause = error.root_cause().to_string();
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => {
            format!("{handler} timed out after {} ms", limits.timeout_ms)
        }
        Some(wasmtime::Trap::OutOfFuel) => {
            format!("{handler} ran out of fuel ({} units)", limits.fuel)
        }
        Some(wasmtime::Trap::StackOverflow) => {
            format!("{handler} overflowed its stack (too deep recursion)")
        }
        Some(wasmtime::Trap::UnreachableCodeReached) => {
            format!("{handler} trapped: the plugin panicked or hit `unreachable`")
        }
        Some(trap) => format!("{handler} trapped: {trap}"),
        None if cause.contains("growing memory") => {
            format!(
                "{handler} exceeded its memory limit of {} bytes ({cause})",
                limits.memory_bytes
            )
        }
        None => format!("{handler} failed: {cause}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(level: LogLevel, message: &str) -> LogLine {
        LogLine {
            level,
            message: message.into(),
        }
    }

    #[test]
    fn a_trap_says_what_the_plugin_said_last() {
        let logs = [
            line(LogLevel::Info, "panicked at nothing: info is not a report"),
            line(LogLevel::Error, "panicked at src/lib.rs:3:5: boom"),
            line(
                LogLevel::Error,
                "stderr: Traceback (most recent call last):",
            ),
            line(LogLevel::Error, "stderr: KeyError: 'x'"),
        ];
        assert_eq!(
            panic_report(&logs),
            Some("panicked at src/lib.rs:3:5: boom")
        );
        assert_eq!(
            last_words(&logs).as_deref(),
            Some("Traceback (most recent call last):\nKeyError: 'x'")
        );
        assert_eq!(panic_report(&logs[..1]), None);
        assert_eq!(last_words(&logs[..2]), None);
    }
}
