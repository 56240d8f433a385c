//! API tokens: created by an admin, kept as hashes, checked per request.

use super::*;
use crate::store::Token;
use std::sync::atomic::Ordering;

/// Only the SHA-256 of a secret is stored or compared.
pub fn hash_token(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// When a new token stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// At this time (Unix epoch milliseconds), which must be in the future.
    At(Millis),
    /// This many seconds after it is created (at least 1).
    AfterSeconds(u64),
}

/// What an `Authorization` header proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// A live token: its caller.
    Valid(Principal),
    /// No bearer token, or one that is not known.
    Invalid,
    /// A known token that expired at this time.
    Expired(Millis),
}

/// The id of the admin token given by the server's configuration.
pub const BOOTSTRAP_TOKEN_ID: &str = "admin";

impl Kith {
    /// Whether requests need a token: once any token exists, always.
    pub fn auth_required(&self) -> bool {
        self.auth_required.load(Ordering::Relaxed)
    }

    /// Turns authentication on if tokens exist (a restart keeps it on).
    pub async fn load_auth(&self) -> Result<()> {
        if !self.store.tokens().await?.is_empty() {
            self.auth_required.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Postgres: follows the changes other kith processes make to cached
    /// rows and tokens (`Store::follow_changes`); when tokens appear there,
    /// requests here need one too. `None` on SQLite.
    pub async fn follow_changes(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let kith = Arc::downgrade(self);
        self.store
            .follow_changes(move |change| {
                if change == crate::store::Change::Row {
                    return;
                }
                let Some(kith) = kith.upgrade() else { return };
                tokio::spawn(async move {
                    if let Err(e) = kith.load_auth().await {
                        tracing::warn!("reloading tokens after a change elsewhere: {e}");
                    }
                });
            })
            .await
    }

    /// Registers the operator-supplied admin secret (idempotent) and turns
    /// authentication on.
    pub async fn bootstrap_admin(&self, secret: &str) -> Result<()> {
        if secret.len() < 16 {
            return Err(ServiceError::Invalid(
                "the admin token must be at least 16 characters".into(),
            ));
        }
        let admin = Token {
            created_at: self.clock.now(),
            expires_at: None,
            groups: vec![],
            id: BOOTSTRAP_TOKEN_ID.into(),
            name: "bootstrap admin".into(),
            scope: Scope::Admin,
        };
        let mut tx = self.store.begin().await?;
        tx.insert_token(&admin, &hash_token(secret)).await?;
        tx.commit().await?;
        self.auth_required.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Creates a token; the secret is returned once and never stored.
    ///
    /// # Errors
    /// `Invalid` for a bad name, an operator without groups, an unknown
    /// group, or an expiry that is not in the future.
    pub async fn create_token(
        &self,
        name: &str,
        scope: Scope,
        groups: Vec<GroupId>,
        expiry: Option<Expiry>,
    ) -> Result<(Token, String)> {
        if name.trim().is_empty() || name.len() > 100 {
            return Err(ServiceError::Invalid(
                "a token needs a name of 1-100 bytes".into(),
            ));
        }
        if scope == Scope::Operator && groups.is_empty() {
            return Err(ServiceError::Invalid(
                "an operator token needs the groups it may manage".into(),
            ));
        }
        for g in &groups {
            self.store
                .get_group(g)
                .await
                .map_err(|_| ServiceError::Invalid(format!("group {g:?} does not exist")))?;
        }
        let now = self.clock.now();
        let token = Token {
            created_at: now,
            expires_at: expiry.map(|e| expires_at(e, now)).transpose()?,
            groups,
            id: format!("tok-{}", uuid::Uuid::now_v7().simple()),
            name: name.to_string(),
            scope,
        };
        let secret = format!(
            "kith_{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut tx = self.store.begin().await?;
        tx.insert_token(&token, &hash_token(&secret)).await?;
        tx.commit().await?;
        self.auth_required.store(true, Ordering::Relaxed);
        Ok((token, secret))
    }

    /// Revokes an API token by id. The bootstrap admin token comes from the
    /// server's configuration (`--admin-token`): revoking it would lock
    /// admins out until a restart, so it is refused.
    ///
    /// # Errors
    ///
    /// [`ServiceError::NotFound`] if no token has that id;
    /// [`ServiceError::Conflict`] for the bootstrap admin token.
    pub async fn delete_token(&self, id: &str) -> Result<()> {
        if id == BOOTSTRAP_TOKEN_ID {
            return Err(ServiceError::Conflict(
                "the bootstrap admin token cannot be revoked; change --admin-token (KITH_ADMIN_TOKEN) and restart to replace it".into(),
            ));
        }
        let mut tx = self.store.begin().await?;
        tx.delete_token(id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The caller of a request from its `Authorization: Bearer …` header.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<Authentication> {
        let Some(secret) = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
        else {
            return Ok(Authentication::Invalid);
        };
        Ok(match self.store.principal(&hash_token(secret)).await? {
            None => Authentication::Invalid,
            Some((_, Some(at))) if at <= self.clock.now() => Authentication::Expired(at),
            Some((principal, _)) => Authentication::Valid(principal),
        })
    }
}

/// The time an expiry names, checked to be in the future.
fn expires_at(expiry: Expiry, now: Millis) -> Result<Millis> {
    let at = match expiry {
        Expiry::At(at) => at,
        Expiry::AfterSeconds(seconds) => i64::try_from(seconds)
            .ok()
            .and_then(|s| s.checked_mul(1000))
            .and_then(|ms| now.checked_add(ms))
            .ok_or_else(|| ServiceError::Invalid("ttl_seconds is too large".into()))?,
    };
    if at <= now {
        return Err(ServiceError::Invalid(format!(
            "a token must expire in the future: expires_at {at} is not after now ({now}), \
             and ttl_seconds must be at least 1"
        )));
    }
    Ok(at)
}
