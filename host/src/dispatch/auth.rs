//! API tokens: created by an admin, kept as hashes, checked per request.

use super::*;
use std::sync::atomic::Ordering;

/// Only the SHA-256 of a secret is stored or compared.
pub fn hash_token(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
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

    /// Registers the operator-supplied admin secret (idempotent) and turns
    /// authentication on.
    pub async fn bootstrap_admin(&self, secret: &str) -> Result<()> {
        if secret.len() < 16 {
            return Err(ServiceError::Invalid(
                "the admin token must be at least 16 characters".into(),
            ));
        }
        let mut tx = self.store.begin().await?;
        tx.insert_token(
            BOOTSTRAP_TOKEN_ID,
            "bootstrap admin",
            &hash_token(secret),
            Scope::Admin,
            &[],
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        self.auth_required.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Creates a token; the secret is returned once and never stored.
    pub async fn create_token(
        &self,
        name: &str,
        scope: Scope,
        groups: Vec<GroupId>,
    ) -> Result<(String, String)> {
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
        let id = format!("tok-{}", uuid::Uuid::now_v7().simple());
        let secret = format!(
            "kith_{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut tx = self.store.begin().await?;
        tx.insert_token(
            &id,
            name,
            &hash_token(&secret),
            scope,
            &groups,
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        self.auth_required.store(true, Ordering::Relaxed);
        Ok((id, secret))
    }

    /// Revokes a token. The bootstrap admin token comes from the server's
    /// configuration (`--admin-token`): revoking it would lock admins out
    /// until a restart, so it is refused.
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
    pub async fn authenticate(&self, header: Option<&str>) -> Result<Option<Principal>> {
        let Some(secret) = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
        else {
            return Ok(None);
        };
        Ok(self.store.principal(&hash_token(secret)).await?)
    }
}
