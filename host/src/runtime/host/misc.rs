//! `log` and `config`, open to every plugin, and the empty `types` interface.

use super::*;
use crate::runtime::bindings::kith::plugin::{config, log, types};

/// Lines kept per invocation; past it the log says how many were dropped.
const MAX_LOG_LINES: usize = 200;

impl log::Host for HostState {
    async fn log(&mut self, level: log::Level, message: String) -> HostResult<()> {
        if self.logs.len() >= MAX_LOG_LINES {
            return Ok(());
        }
        let level = match level {
            log::Level::Trace => LogLevel::Trace,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Error => LogLevel::Error,
        };
        let mut message = message;
        if message.len() > MAX_TEXT {
            let mut cut = MAX_TEXT;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        self.logs.push(LogLine { level, message });
        Ok(())
    }
}

impl config::Host for HostState {
    async fn get(&mut self) -> HostResult<String> {
        Ok(self.ctx.config.clone())
    }
}

impl types::Host for HostState {}
