//! `kith backup FILE`: a consistent copy of a SQLite database, made while
//! the server runs (SQLite's `VACUUM INTO`, one read transaction: the copy
//! is the database as of one commit; writers go on meanwhile in WAL mode).

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// Copies the live SQLite database to a file.
#[derive(clap::Args)]
pub struct BackupCommand {
    /// The backup file to write; it must not exist.
    file: PathBuf,
    /// The data dir whose kith.db is copied.
    #[arg(long, env = "KITH_DATA_DIR", default_value = "kith-data")]
    data_dir: PathBuf,
    /// sqlite://FILE to copy instead (Postgres: use pg_dump, see docs/operating.md).
    #[arg(long, env = "KITH_DATABASE_URL")]
    database: Option<String>,
}

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupSummary {
    /// The backup file.
    pub file: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Processed events it holds.
    pub events: i64,
    /// How long it took.
    pub elapsed: std::time::Duration,
}

impl BackupCommand {
    /// Writes the backup and prints what it wrote.
    ///
    /// # Errors
    /// A Postgres URL, a database that does not exist, a file that exists,
    /// or a copy that fails or does not pass SQLite's integrity check.
    pub async fn execute(self) -> anyhow::Result<()> {
        let url = match self.database {
            Some(url) => url,
            None => format!("sqlite://{}", self.data_dir.join("kith.db").display()),
        };
        let s = backup(&url, &self.file).await?;
        println!(
            "backed up {url} to {} ({:.1} MB, {} events) in {} ms",
            s.file.display(),
            s.bytes as f64 / 1e6,
            s.events,
            s.elapsed.as_millis()
        );
        Ok(())
    }
}

/// Copies the SQLite database at `url` to `file` (see the module doc),
/// through a `.partial` file renamed once complete and checked.
///
/// # Errors
/// As [`BackupCommand::execute`].
pub async fn backup(url: &str, file: &Path) -> anyhow::Result<BackupSummary> {
    let started = std::time::Instant::now();
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        bail!(
            "kith backup copies SQLite databases; for Postgres use pg_dump, e.g. \
             pg_dump --format=custom --file=kith.dump \"$KITH_DATABASE_URL\" (docs/operating.md)"
        );
    }
    let Some(db) = crate::store::sqlite_path(url) else {
        bail!("{url:?} is not a sqlite://FILE URL");
    };
    if !db.exists() {
        bail!("{} does not exist", db.display());
    }
    if file.exists() {
        bail!("{} exists; give a new file", file.display());
    }
    let mut partial = file.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let target = partial
        .to_str()
        .context("the backup file's path is not UTF-8")?
        .replace('\'', "''");
    let mut conn = connect(&db, true).await?;
    sqlx::query(&format!("VACUUM INTO '{target}'"))
        .execute(&mut conn)
        .await
        .with_context(|| format!("copying {} to {}", db.display(), partial.display()))?;
    drop(conn);
    let events = check(&partial).await?;
    std::fs::rename(&partial, file)
        .with_context(|| format!("renaming {} to {}", partial.display(), file.display()))?;
    Ok(BackupSummary {
        file: file.to_path_buf(),
        bytes: std::fs::metadata(file)?.len(),
        events,
        elapsed: started.elapsed(),
    })
}

/// A connection to a SQLite file outside any `Store` (no process lock: the
/// server may hold it), read-only unless asked otherwise.
async fn connect(db: &Path, read_only: bool) -> anyhow::Result<sqlx::AnyConnection> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mode = if read_only { "ro" } else { "rw" };
    let url = format!("sqlite://{}?mode={mode}", db.display());
    let mut conn = sqlx::AnyConnection::connect(&url)
        .await
        .with_context(|| format!("opening {}", db.display()))?;
    sqlx::query("PRAGMA busy_timeout = 10000")
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// Checks a backup file with SQLite's integrity check; returns how many
/// processed events it holds.
///
/// # Errors
/// Not a SQLite database, not a kith one, or a failed check.
pub async fn check(file: &Path) -> anyhow::Result<i64> {
    let mut header = [0u8; 16];
    use std::io::Read;
    std::fs::File::open(file)
        .and_then(|mut f| f.read_exact(&mut header))
        .with_context(|| format!("reading {}", file.display()))?;
    if &header != b"SQLite format 3\0" {
        bail!("{} is not a SQLite database", file.display());
    }
    let mut conn = connect(file, true).await?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    if verdict != "ok" {
        bail!(
            "{} fails SQLite's integrity check: {verdict}",
            file.display()
        );
    }
    sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a kith database", file.display()))
}
