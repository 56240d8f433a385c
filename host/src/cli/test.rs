//! `kith test`: the conformance suite on one plugin file, without a server.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::conformance;
use crate::domain::Limits;

/// Checks a plugin file and prints the report.
#[derive(clap::Args)]
pub struct TestCommand {
    file: PathBuf,
    /// A folder of scenario files (.yaml, .yml, .json).
    #[arg(long)]
    scenarios: Option<PathBuf>,
    /// Also write the results as JUnit XML.
    #[arg(long)]
    junit: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many events to generate.
    #[arg(long, default_value_t = 300)]
    events: usize,
    /// Budget per invocation (defaults: the host's defaults).
    #[arg(long)]
    fuel: Option<u64>,
    #[arg(long)]
    memory_bytes: Option<u64>,
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Keep compiled code here between runs (default: ~/.cache/kith).
    #[arg(long, env = "KITH_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
}

impl TestCommand {
    /// Runs every check; the exit code is a failure if any check fails.
    ///
    /// # Errors
    /// A file that cannot be read or written, or a plugin the suite cannot
    /// start on (a failed check is not an error).
    pub async fn execute(self) -> anyhow::Result<ExitCode> {
        let file = &self.file;
        let wasm = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let report = conformance::run(&wasm, self.scenarios.as_deref(), &self.options()).await?;
        println!("kith test {}", file.display());
        print!("{}", report.render());
        if let Some(path) = &self.junit {
            std::fs::write(path, conformance::junit::render(&report))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(if report.passed() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }

    fn options(&self) -> conformance::Options {
        let defaults = Limits::default();
        let limits = Limits {
            fuel: self.fuel.unwrap_or(defaults.fuel),
            memory_bytes: self.memory_bytes.unwrap_or(defaults.memory_bytes),
            timeout_ms: self.timeout_ms.unwrap_or(defaults.timeout_ms),
            ..defaults
        };
        let cache_dir = self
            .cache_dir
            .clone()
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kith")));
        conformance::Options {
            seed: self.seed,
            events: self.events,
            limits,
            cache_dir,
        }
    }
}
