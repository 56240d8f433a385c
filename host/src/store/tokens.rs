//! API tokens, stored by the hash of their secret.

use super::cache::Key;
use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A token as listed: everything but its secret.
///
/// Fields in alphabetical order: the order the API has always listed them in
/// (as a `serde_json::Value`, which sorts its keys).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Token {
    /// When the token was created. Unix epoch milliseconds.
    pub created_at: Millis,
    /// When the token stops working; `null`: never. Unix epoch milliseconds.
    pub expires_at: Option<Millis>,
    /// For operators: the groups they run.
    pub groups: Vec<GroupId>,
    /// Token id, used to revoke it; not the secret.
    pub id: String,
    /// A name for people, e.g. "matrix adapter".
    pub name: String,
    /// What the token may call.
    pub scope: Scope,
}

fn token_from_row(row: &AnyRow) -> Result<Token> {
    Ok(Token {
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        groups: json(&row.try_get::<String, _>("groups")?)?,
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        scope: parse(&row.try_get::<String, _>("scope")?)?,
    })
}

impl Store {
    /// The principal of a token, by the SHA-256 of its secret, and when
    /// the token expires (`None`: never).
    pub async fn principal(&self, token_hash: &str) -> Result<Option<(Principal, Option<Millis>)>> {
        let row = sqlx::query(
            "SELECT id, scope, groups, expires_at FROM api_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let principal = Principal {
                token_id: r.try_get("id")?,
                scope: parse(&r.try_get::<String, _>("scope")?)?,
                groups: json(&r.try_get::<String, _>("groups")?)?,
            };
            Ok((principal, r.try_get("expires_at")?))
        })
        .transpose()
    }

    /// Tokens without their secrets, oldest first.
    pub async fn tokens(&self) -> Result<Vec<Token>> {
        let rows = sqlx::query(
            "SELECT id, name, scope, groups, created_at, expires_at FROM api_tokens \
             ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }
}

impl Tx<'_> {
    /// Records a token by the hash of its secret; `false` if the hash exists.
    pub async fn insert_token(&mut self, token: &Token, hash: &str) -> Result<bool> {
        self.changes(Key::Tokens);
        let r = sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, scope, groups, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(&token.id)
        .bind(&token.name)
        .bind(hash)
        .bind(token.scope.as_str())
        .bind(to_json(&token.groups))
        .bind(token.created_at)
        .bind(token.expires_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Deletes a token.
    pub async fn delete_token(&mut self, id: &str) -> Result<()> {
        self.changes(Key::Tokens);
        let r = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("token {id:?}")));
        }
        Ok(())
    }
}
