//! Telling operators what needs them: an `operator-alert` outbox action for
//! the adapter to deliver to the group's owner and admins, an audit entry,
//! a warning in the log, and a POST to operator tokens' webhooks.

use super::*;
use crate::store::{MemberFilter, Tx};
use serde_json::{json, Value};

impl Kith {
    /// Records, in the event's transaction, that the host switched `plugin`
    /// off; returns the alert for [`Kith::send_webhooks`] after the commit.
    pub(super) async fn alert_switched_off(
        &self,
        tx: &mut Tx<'_>,
        group: &str,
        plugin: &str,
        reason: &str,
        now: Millis,
    ) -> Result<Value> {
        tracing::warn!(group = %group, plugin = %plugin, "plugin switched off: {reason}");
        let mut to = vec![];
        for role in [Role::Owner, Role::Admin] {
            let filter = MemberFilter {
                role: Some(role),
                status: Some(MemberStatus::Active),
                ..Default::default()
            };
            let members = self.store.list_members(group, &filter).await?;
            to.extend(members.into_iter().map(|m| m.id));
        }
        let text = format!(
            "Plugin {plugin} in group {group} was {reason}. Fix the cause, then \
             enable it again: kith plugin enable {group} {plugin}"
        );
        let alert = json!({"kind": "plugin-switched-off", "plugin": plugin, "reason": reason, "text": text, "to": to});
        tx.push_outbox(group, "operator-alert", &alert, Some(plugin), now)
            .await?;
        let detail = json!({"reason": reason});
        tx.audit(
            group,
            &Actor::Kith,
            "plugin.switched-off",
            plugin,
            &detail,
            now,
        )
        .await?;
        Ok(json!({"group": group, "at": now, "alert": alert}))
    }
}

impl Kith {
    /// POSTs `alert` as JSON to the webhook of every operator token that
    /// runs `group`, in the background: a slow or failing receiver delays
    /// nothing, and its failure is logged, not retried (the outbox action
    /// is the durable copy).
    pub(super) fn send_webhooks(&self, group: &str, alert: Value) {
        let store = self.store.clone();
        let group = group.to_string();
        tokio::spawn(async move {
            let urls = match store.webhooks(&group).await {
                Ok(urls) => urls,
                Err(e) => {
                    tracing::warn!(group = %group, "cannot read operators' webhooks: {e}");
                    return;
                }
            };
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("a plain client builds");
            for url in urls {
                let sent = client.post(&url).json(&alert).send().await;
                if let Err(e) = sent.and_then(|r| r.error_for_status()) {
                    tracing::warn!(group = %group, "operator webhook {url} failed: {e}");
                }
            }
        });
    }

    /// Sets (or with `None` clears) where a token's alerts are POSTed.
    ///
    /// # Errors
    /// `Invalid` for a URL that is not http(s), `NotFound` for no such token.
    pub async fn set_webhook(&self, token_id: &str, url: Option<&str>) -> Result<()> {
        if let Some(url) = url {
            let parsed = url::Url::parse(url)
                .map_err(|e| ServiceError::Invalid(format!("webhook URL {url:?}: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ServiceError::Invalid(format!(
                    "webhook URL {url:?} must be http or https"
                )));
            }
        }
        let mut tx = self.store.begin().await?;
        tx.set_webhook(token_id, url).await?;
        tx.commit().await?;
        Ok(())
    }
}
