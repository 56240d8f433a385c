//! The host side of the WIT imports: one file per interface. Every write is
//! buffered as an [`Effect`]; reads go to the store and then through the
//! buffer, so an invocation sees its own writes before they are committed.

mod groups;
mod ledger;
mod members;
mod messages;
mod misc;
mod storage;
mod timers;
mod v0_2;
mod wasi;

use super::limiter::Limiter;

use super::bindings::wit::{Error as WitError, ErrorCode};
use crate::domain::*;
use crate::store::Store;

/// What one invocation runs against.
#[derive(Clone)]
pub struct InvocationContext {
    /// Reads go to the database; writes are buffered as effects.
    pub store: Store,
    /// The group the plugin runs for; every call is scoped to it.
    pub group: Group,
    /// The plugin's name, for its storage, timers and logs.
    pub plugin: String,
    /// The event being processed; seeds deterministic ids.
    pub event_id: String,
    /// The event's time, Unix epoch milliseconds: what the plugin sees as now.
    pub now: Millis,
    /// Seed of the plugin's randomness (derived from event, plugin and handler),
    /// so a replay gives the same result.
    pub seed: u64,
    /// The enablement's config, as JSON text.
    pub config: String,
    /// Capabilities granted by the operator and declared by the plugin.
    pub granted: Vec<Capability>,
    /// The budget of this invocation.
    pub limits: Limits,
}

/// The wasmtime `Store` data of one invocation.
pub struct HostState {
    /// What the invocation runs against.
    pub ctx: InvocationContext,
    /// Effects of the plugins that ran before on the same event, then this
    /// invocation's own, from `own_from` on.
    pub effects: Vec<Effect>,
    /// Where this invocation's own effects start in `effects`.
    pub own_from: usize,
    /// Log lines the plugin wrote.
    pub logs: Vec<LogLine>,
    /// Memory and table limits, enforced by wasmtime.
    pub limits: Limiter,
    /// WASI for components that import it (Python, JavaScript, C): no
    /// files, network or environment; clocks and randomness from the event.
    /// Built on first use: most plugins import no WASI.
    pub wasi: Option<wasmtime_wasi::WasiCtx>,
    /// What the plugin wrote to WASI's stderr (set up with `wasi`).
    stderr: Option<wasmtime_wasi::p2::pipe::MemoryOutputPipe>,
    /// Handles of WASI resources.
    pub table: wasmtime::component::ResourceTable,
    /// Deterministic ids for what the plugin creates (messages, transfers).
    next_id: u32,
}

pub type HostResult<T> = wasmtime::Result<T>;

/// How a line the plugin wrote to stderr starts among its logs.
pub const STDERR_PREFIX: &str = "stderr: ";

impl HostState {
    /// State for one invocation; `earlier` are the effects of plugins that
    /// already ran on the same event, which this one's reads see.
    pub fn new(ctx: InvocationContext, earlier: Vec<Effect>) -> Self {
        let limits = Limiter::new(ctx.limits.memory_bytes);
        HostState {
            own_from: earlier.len(),
            effects: earlier,
            ctx,
            logs: vec![],
            limits,
            wasi: None,
            stderr: None,
            table: wasmtime::component::ResourceTable::new(),
            next_id: 0,
        }
    }

    /// The effects this invocation asked for so far.
    pub fn own_effects(&self) -> &[Effect] {
        &self.effects[self.own_from..]
    }

    /// This invocation's own effects and its log lines; what it wrote to
    /// stderr ends them, one error line each (`stderr: …`).
    pub fn into_parts(mut self) -> (Vec<Effect>, Vec<LogLine>) {
        let own = self.effects.split_off(self.own_from);
        if let Some(pipe) = &self.stderr {
            let text = String::from_utf8_lossy(&pipe.contents()).into_owned();
            self.logs.extend(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| LogLine {
                        level: LogLevel::Error,
                        message: format!("{STDERR_PREFIX}{l}"),
                    }),
            );
        }
        (own, self.logs)
    }

    fn new_id(&mut self, what: &str) -> String {
        self.next_id += 1;
        format!(
            "{}:{}:{what}{}",
            self.ctx.event_id, self.ctx.plugin, self.next_id
        )
    }

    /// Checks a capability; the denial is also logged for the operator.
    fn require(&mut self, cap: Capability) -> Result<(), WitError> {
        if self.ctx.granted.contains(&cap) {
            return Ok(());
        }
        let message = format!(
            "capability {cap} is not granted to plugin {}",
            self.ctx.plugin
        );
        self.logs.push(LogLine {
            level: LogLevel::Warn,
            message: format!("denied: {message}"),
        });
        Err(err(ErrorCode::Denied, message))
    }

    /// For reads that return no `result`: a denied read traps the invocation.
    fn require_or_trap(&mut self, cap: Capability) -> HostResult<()> {
        self.require(cap)
            .map_err(|e| wasmtime::Error::msg(e.message))
    }

    fn push(&mut self, effect: Effect) -> Result<(), WitError> {
        if self.own_effects().len() >= self.ctx.limits.max_effects as usize {
            return Err(err(
                ErrorCode::QuotaExceeded,
                format!(
                    "more than {} effects in one invocation",
                    self.ctx.limits.max_effects
                ),
            ));
        }
        self.effects.push(effect);
        Ok(())
    }

    /// A member of the current group as this invocation sees it.
    async fn member(&mut self, id: &str) -> HostResult<Option<Member>> {
        let stored = self.ctx.store.get_member(&self.ctx.group.id, id).await?;
        Ok(resolve_member(stored, id, &self.effects, self.ctx.now))
    }

    async fn member_in(
        &mut self,
        id: &str,
        allowed: &[MemberStatus],
    ) -> HostResult<Result<Member, WitError>> {
        Ok(match self.member(id).await? {
            None => Err(err(
                ErrorCode::NotFound,
                format!("no member {id:?} in group {:?}", self.ctx.group.id),
            )),
            Some(m) if !allowed.contains(&m.status) => Err(err(
                ErrorCode::Conflict,
                format!("member {id:?} is {}", m.status),
            )),
            Some(m) => Ok(m),
        })
    }

    async fn balance(&mut self, account: &str, asset: Asset) -> HostResult<i64> {
        let stored = self
            .ctx
            .store
            .balance(&self.ctx.group.id, account, asset)
            .await?;
        Ok(stored.saturating_add(balance_delta(account, asset, &self.effects)))
    }

    /// Buffers a transfer after checking it as the commit will.
    async fn transfer(
        &mut self,
        from: &str,
        to: &str,
        asset: Asset,
        amount: i64,
        memo: String,
    ) -> HostResult<Result<String, WitError>> {
        let parsed = Account::parse(from).and_then(|f| Ok((f, Account::parse(to)?)));
        let (from_account, to_account) = match parsed {
            Ok(pair) => pair,
            Err(message) => return Ok(Err(err(ErrorCode::Invalid, message))),
        };
        if from_account == Account::External || to_account == Account::External {
            return Ok(Err(err(
                ErrorCode::Denied,
                "only the host moves money from or to `external`",
            )));
        }
        if amount <= 0 {
            return Ok(Err(err(
                ErrorCode::Invalid,
                format!("amount must be positive, got {amount}"),
            )));
        }
        if let Err(message) = check_amount(amount) {
            return Ok(Err(err(ErrorCode::Invalid, message)));
        }
        if from_account == to_account {
            return Ok(Err(err(
                ErrorCode::Invalid,
                format!("transfer from {from} to itself"),
            )));
        }
        if !from_account.may_go_negative() {
            let balance = self.balance(from, asset).await?;
            if balance < amount {
                return Ok(Err(err(
                    ErrorCode::InsufficientFunds,
                    format!("{from} holds {balance} {asset}, cannot pay {amount}"),
                )));
            }
        }
        if !to_account.may_go_negative() {
            let held = self.balance(to, asset).await?;
            if let Err(message) = credited(to, held, amount) {
                return Ok(Err(err(ErrorCode::QuotaExceeded, message)));
            }
        }
        let id = self.new_id("transfer");
        let effect = Effect::Transfer {
            id: id.clone(),
            from: from.into(),
            to: to.into(),
            asset,
            amount,
            memo,
        };
        Ok(self.push(effect).map(|()| id))
    }
}

fn err(code: ErrorCode, message: impl Into<String>) -> WitError {
    WitError {
        code,
        message: message.into(),
    }
}

/// Bytes a plugin may hand the host in one string or value.
const MAX_TEXT: usize = 4_000;
const MAX_KEY: usize = 256;
const MAX_VALUE: usize = 64 * 1024;

fn check_len(what: &str, len: usize, max: usize) -> Result<(), WitError> {
    if len > max {
        Err(err(
            ErrorCode::Invalid,
            format!("{what} is {len} bytes; the limit is {max}"),
        ))
    } else {
        Ok(())
    }
}

/// Checks a text a plugin hands the host: its length, and no U+0000, which
/// Postgres cannot store (the API refuses it too).
fn check_text(what: &str, text: &str, max: usize) -> Result<(), WitError> {
    check_len(what, text.len(), max)?;
    if has_nul(text) {
        return Err(err(ErrorCode::Invalid, format!("{what} holds U+0000")));
    }
    Ok(())
}
