//! `kith restore FILE`: puts a backup (`kith backup`) in place as a data
//! dir's database, with the server stopped.

use anyhow::{bail, Context};
use std::path::PathBuf;

/// Restores a SQLite backup into a data dir.
#[derive(clap::Args)]
pub struct RestoreCommand {
    /// The backup file (`kith backup`).
    file: PathBuf,
    /// The data dir to restore into; its kith.db is created.
    #[arg(long, env = "KITH_DATA_DIR", default_value = "kith-data")]
    data_dir: PathBuf,
    /// Replace the data dir's existing kith.db.
    #[arg(long)]
    force: bool,
}

impl RestoreCommand {
    /// Checks the backup, then copies it into place.
    ///
    /// # Errors
    /// A backup that fails its check, a server running on the data dir, an
    /// existing database without `--force`, or a failed copy.
    pub async fn execute(self) -> anyhow::Result<()> {
        let events = super::backup::check(&self.file).await?;
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let db = self.data_dir.join("kith.db");
        // Held while copying: no server can open the database meanwhile.
        let _lock = crate::store::ProcessLock::take(db.clone())?;
        if db.exists() && !self.force {
            bail!(
                "{} exists; restore into a new data dir, or give --force to replace it",
                db.display()
            );
        }
        let restoring = self.data_dir.join("kith.db.restoring");
        std::fs::copy(&self.file, &restoring)
            .with_context(|| format!("copying {}", self.file.display()))?;
        std::fs::File::open(&restoring)?.sync_all()?;
        // The old database's WAL must not be applied to the restored one.
        for side in ["kith.db-wal", "kith.db-shm"] {
            let _ = std::fs::remove_file(self.data_dir.join(side));
        }
        std::fs::rename(&restoring, &db)?;
        println!(
            "restored {} into {} ({events} events); start kith serve --data-dir {}",
            self.file.display(),
            db.display(),
            self.data_dir.display()
        );
        Ok(())
    }
}
