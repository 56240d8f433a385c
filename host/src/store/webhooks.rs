//! Operators' alert webhooks: a URL per API token (`api_tokens.webhook_url`),
//! kept apart from the tokens' own reads and writes.

use super::*;
use sqlx::Row;

impl Store {
    /// The webhook URLs of the operator tokens that run `group`.
    pub async fn webhooks(&self, group: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT groups, webhook_url FROM api_tokens WHERE scope = $1 AND webhook_url IS NOT NULL ORDER BY id",
        )
        .bind(Scope::Operator.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut urls = vec![];
        for row in rows {
            let groups: Vec<GroupId> = json(&row.try_get::<String, _>("groups")?)?;
            if groups.iter().any(|g| g == group) {
                urls.push(row.try_get("webhook_url")?);
            }
        }
        Ok(urls)
    }
}

impl Tx<'_> {
    /// Sets or clears a token's webhook URL.
    pub async fn set_webhook(&mut self, token_id: &str, url: Option<&str>) -> Result<()> {
        let r = sqlx::query("UPDATE api_tokens SET webhook_url = $2 WHERE id = $1")
            .bind(token_id)
            .bind(url)
            .execute(&mut *self.tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("token {token_id:?}")));
        }
        Ok(())
    }
}
