use super::*;
use crate::runtime::bindings::kith::plugin::timers::Host;

/// The shortest period a recurring timer may have.
const MIN_PERIOD_MS: u64 = 1_000;

impl HostState {
    fn timer(
        &mut self,
        name: String,
        at: i64,
        period_ms: Option<u64>,
        payload: String,
    ) -> Result<(), WitError> {
        self.require(Capability::Timers)?;
        if name.is_empty() {
            return Err(err(ErrorCode::Invalid, "a timer needs a name"));
        }
        check_text("timer name", &name, MAX_KEY)?;
        check_text("timer payload", &payload, MAX_VALUE)?;
        if period_ms.is_some_and(|p| p < MIN_PERIOD_MS) {
            return Err(err(
                ErrorCode::Invalid,
                format!("a recurring timer's period is at least {MIN_PERIOD_MS} ms"),
            ));
        }
        self.push(Effect::SetTimer {
            name,
            at,
            period_ms,
            payload,
        })
    }
}

impl Host for HostState {
    async fn set_once(
        &mut self,
        name: String,
        at: i64,
        payload: String,
    ) -> HostResult<Result<(), WitError>> {
        Ok(self.timer(name, at, None, payload))
    }

    async fn set_recurring(
        &mut self,
        name: String,
        first: i64,
        period_ms: u64,
        payload: String,
    ) -> HostResult<Result<(), WitError>> {
        Ok(self.timer(name, first, Some(period_ms), payload))
    }

    async fn cancel(&mut self, name: String) -> HostResult<Result<(), WitError>> {
        if let Err(e) = self.require(Capability::Timers) {
            return Ok(Err(e));
        }
        Ok(self.push(Effect::CancelTimer { name }))
    }
}
