//! Postgres: several kith processes keep the same rows cached (`cache.rs`).
//! A commit that changes one notifies the others (`Tx::commit`, with
//! `pg_notify` inside the transaction, so the notification goes out exactly
//! when the change is visible); each process listens on one connection and
//! evicts what it hears. A notification missed while the connection was
//! down is unknowable, so a reconnect evicts everything.

use super::cache::Key;
use super::*;
use sqlx::postgres::PgListener;

/// The notification channel of cached-row changes.
pub(super) const CHANNEL: &str = "kith_changes";

/// Postgres refuses a notification payload of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7000;

/// What another process changed, as the listener reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// API tokens were created or revoked (they are not cached, but a
    /// process decides from them whether requests need a token at all).
    Tokens,
    /// Changes may have been missed (the listener reconnected): assume
    /// anything changed.
    Everything,
    /// A cached row changed: already evicted.
    Row,
}

/// The keys as one notification: one per line, `kind:id`.
pub(super) fn payload(keys: &[Key]) -> String {
    let text = keys
        .iter()
        .map(|key| match key {
            Key::Group(g) => format!("group:{g}"),
            Key::Enablements(g) => format!("enablements:{g}"),
            Key::Plugin(p) => format!("plugin:{p}"),
            Key::Tokens => "tokens:".to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    if text.len() > MAX_PAYLOAD {
        "everything:".into()
    } else {
        text
    }
}

/// The keys of a notification; `None`: evict everything.
fn parse_payload(text: &str) -> Option<Vec<Key>> {
    text.lines()
        .map(|line| {
            let (kind, id) = line.split_once(':')?;
            let id = id.to_string();
            match kind {
                "group" => Some(Key::Group(id)),
                "enablements" => Some(Key::Enablements(id)),
                "plugin" => Some(Key::Plugin(id)),
                "tokens" => Some(Key::Tokens),
                _ => None,
            }
        })
        .collect()
}

impl Store {
    /// Postgres: follows the other processes' changes until the process
    /// ends, evicting them from this one's cache and reporting each to
    /// `on_change` (after the eviction). `None` on SQLite, which one process
    /// serves. Returns once listening, so a change committed after this
    /// returns is heard.
    pub async fn follow_changes(
        &self,
        on_change: impl Fn(Change) + Send + Sync + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let url = self
            .url
            .clone()
            .filter(|_| self.backend == Backend::Postgres)?;
        let mut listener = listen(&url).await;
        let cache = self.cache.clone();
        Some(tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(note)) => match parse_payload(note.payload()) {
                        Some(keys) => {
                            cache.evict(&keys);
                            let tokens = keys.contains(&Key::Tokens);
                            on_change(if tokens { Change::Tokens } else { Change::Row });
                        }
                        None => {
                            cache.evict_all();
                            on_change(Change::Everything);
                        }
                    },
                    // The connection was lost; the next call reconnects and
                    // listens again. What was sent meanwhile is lost.
                    Ok(None) => {
                        tracing::warn!("change notifications: connection lost, reconnecting");
                        cache.evict_all();
                        on_change(Change::Everything);
                    }
                    Err(e) => {
                        tracing::warn!("change notifications: {e}; reconnecting in 1 s");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        listener = listen(&url).await;
                        cache.evict_all();
                        on_change(Change::Everything);
                    }
                }
            }
        }))
    }
}

/// A listener on [`CHANNEL`], retrying every second until Postgres answers.
async fn listen(url: &str) -> PgListener {
    loop {
        let attempt = async {
            let mut listener = PgListener::connect(url).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match attempt.await {
            Ok(listener) => return listener,
            Err(e) => {
                tracing::warn!("change notifications: cannot listen ({e}); retrying in 1 s");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_reads_back_as_its_keys() {
        let keys = vec![
            Key::Group("g:1".into()),
            Key::Enablements("g".into()),
            Key::Plugin("ad-filter".into()),
            Key::Tokens,
        ];
        assert_eq!(parse_payload(&payload(&keys)), Some(keys));
    }

    #[test]
    fn a_payload_too_long_for_postgres_means_everything() {
        let keys: Vec<Key> = (0..1000)
            .map(|i| Key::Group(format!("group-{i}")))
            .collect();
        let text = payload(&keys);
        assert!(text.len() < 8000);
        assert_eq!(parse_payload(&text), None);
    }
}
