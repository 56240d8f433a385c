//! `kith load`: generate load on a running host (the work is in
//! [`crate::loadgen`], which the benchmarks share).

use crate::loadgen::{self, LoadArgs};

/// Creates groups, members and enablements, then sends message events and
/// prints events/s and latency percentiles.
#[derive(clap::Args)]
pub struct LoadCommand {
    #[command(flatten)]
    args: LoadArgs,
}

impl LoadCommand {
    /// Runs the load.
    ///
    /// # Errors
    /// Bad arguments, a host that cannot be reached, a setup request refused.
    pub async fn execute(self) -> anyhow::Result<()> {
        loadgen::main(self.args).await
    }
}
