//! The adapter at work: a sync loop (Matrix → kith) and an outbox loop
//! (kith → Matrix), sharing the persistent state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use crate::config::Config;
use crate::failure::{Failure, Result};
use crate::inbound;
use crate::kith::{Action, Kith};
use crate::matrix::Matrix;
use crate::outbound;
use crate::state::State;

/// The longest wait between retries of a failing call.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Actions leased at a time, per group.
const LEASE_LIMIT: u32 = 100;

/// Everything both loops share.
pub struct Adapter {
    pub matrix: Matrix,
    pub kith: Kith,
    pub config: Config,
    state: Mutex<State>,
}

/// Exponential backoff from 500 ms, doubling per attempt, capped.
pub fn backoff(attempt: u32) -> Duration {
    (Duration::from_millis(500) * 2u32.saturating_pow(attempt.min(10))).min(MAX_BACKOFF)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Adapter {
    /// Loads the state and logs in (reusing the stored session when its
    /// token still works).
    pub async fn connect(config: Config) -> anyhow::Result<Adapter> {
        let mut state = State::load(&config.state_file)?;
        let token = config.access_token.clone().or(state.access_token.clone());
        let mut matrix = Matrix::new(&config.homeserver, token, config.user.clone());
        let valid = matrix.token().is_some() && matrix.whoami().await.is_ok();
        if !valid {
            let password = config
                .password
                .as_deref()
                .context("the access token was refused and no password is configured")?;
            matrix
                .login(&config.user, password)
                .await
                .context("logging in to the homeserver")?;
            state.access_token = matrix.token().map(str::to_string);
        }
        state.user_id = Some(matrix.user_id.clone());
        state.save(&config.state_file)?;
        tracing::info!("logged in to {} as {}", config.homeserver, matrix.user_id);
        Ok(Adapter {
            kith: Kith::new(&config.kith_url, config.kith_token.clone()),
            matrix,
            config,
            state: Mutex::new(state),
        })
    }

    /// Reads the state.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.lock().expect("state lock"))
    }

    /// Changes the state and writes it to disk before returning.
    pub fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.state.lock().expect("state lock");
        let r = f(&mut state);
        if let Err(e) = state.save(&self.config.state_file) {
            tracing::error!("could not save the state: {e:#}");
        }
        r
    }

    /// Makes sure a sync token exists: the first start takes the rooms as
    /// they are now, without posting their history to kith.
    pub async fn ensure_since(&self) -> Result<()> {
        if self.read(|s| s.since.is_some()) {
            return Ok(());
        }
        let filter = json!({"room": {"timeline": {"limit": 0}}, "presence": {"not_types": ["*"]}});
        let v = self.matrix.sync(None, 0, &filter).await?;
        let next = v["next_batch"].as_str().map(str::to_string);
        self.update(|s| s.since = next);
        Ok(())
    }
}

/// Runs both loops until one fails for good or the process is stopped.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let a = Arc::new(Adapter::connect(config).await?);
    for room in a.config.rooms.keys() {
        if let Err(e) = a.matrix.join(room).await {
            tracing::warn!("could not join {room}: {e}");
        }
    }
    a.ensure_since().await.map_err(anyhow::Error::new)?;
    tokio::select! {
        r = sync_loop(a.clone()) => r,
        r = outbox_loop(a.clone()) => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

fn sync_filter() -> Value {
    json!({
        "room": {
            "timeline": {"limit": 100},
            "state": {"lazy_load_members": true},
            "ephemeral": {"not_types": ["*"]},
            "account_data": {"not_types": ["*"]},
        },
        "presence": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    })
}

async fn sync_loop(a: Arc<Adapter>) -> anyhow::Result<()> {
    let mut failures = 0;
    loop {
        let since = a.read(|s| s.since.clone());
        let step = async {
            let resp = a
                .matrix
                .sync(since.as_deref(), a.config.sync_timeout_ms, &sync_filter())
                .await?;
            take_sync(&a, &resp, since.as_deref()).await?;
            Ok::<_, Failure>(resp["next_batch"].as_str().map(str::to_string))
        };
        match step.await {
            Ok(next) => {
                failures = 0;
                // Only now: a crash before this replays the batch, and kith
                // takes each event id once.
                a.update(|s| s.since = next.or(since));
            }
            Err(e) => {
                failures += 1;
                tracing::warn!("sync failed (attempt {failures}): {e}");
                tokio::time::sleep(backoff(failures)).await;
            }
        }
    }
}

/// Posts one sync batch's events to kith; fails (so the token is kept)
/// only on what may succeed later.
async fn take_sync(a: &Adapter, resp: &Value, since: Option<&str>) -> Result<()> {
    if let Some(invites) = resp["rooms"]["invite"].as_object() {
        for (room, data) in invites {
            accept_dm_invite(a, room, data).await;
        }
    }
    let Some(joined) = resp["rooms"]["join"].as_object() else {
        return Ok(());
    };
    for (room, data) in joined {
        let group = a.config.group_of(room).map(str::to_string);
        let dm_member = a.read(|s| s.dm_member(room).map(str::to_string));
        if group.is_none() && dm_member.is_none() {
            continue;
        }
        let events = timeline(a, room, data, since).await?;
        if let Some(group) = group {
            room_events(a, &group, &events).await?;
        } else if let Some(member) = dm_member {
            dm_events(a, &member, room, &events).await?;
        }
    }
    Ok(())
}

/// A room's new events, oldest first, with what a limited sync left out.
async fn timeline(
    a: &Adapter,
    room: &str,
    data: &Value,
    since: Option<&str>,
) -> Result<Vec<Value>> {
    let mut events = data["timeline"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let limited = data["timeline"]["limited"].as_bool().unwrap_or(false);
    if let (true, Some(since), Some(prev)) =
        (limited, since, data["timeline"]["prev_batch"].as_str())
    {
        let mut gap = a.matrix.messages_between(room, prev, since).await?;
        gap.append(&mut events);
        events = gap;
    }
    Ok(events)
}

async fn room_events(a: &Adapter, group: &str, events: &[Value]) -> Result<()> {
    let bot = a.matrix.user_id.as_str();
    // Before the bot's (last) join it was not there: history, not news.
    let start = events
        .iter()
        .rposition(|e| inbound::is_membership(e, bot, "join"))
        .map_or(0, |i| i + 1);
    for ev in &events[start..] {
        let Some(event) = inbound::room_event(group, bot, ev) else {
            continue;
        };
        if post_event(a, &event).await? && event["type"] == "join_requested" {
            let member = event["member"].as_str().unwrap_or_default().to_string();
            a.update(|s| s.knocks.entry(member).or_default().insert(group.into()));
        }
    }
    Ok(())
}

/// A member's DM messages answer the challenges of the groups they knocked on.
async fn dm_events(a: &Adapter, member: &str, room: &str, events: &[Value]) -> Result<()> {
    for ev in events {
        if inbound::is_membership(ev, member, "leave") {
            a.update(|s| s.dms.remove(member));
            continue;
        }
        let Some((id, text)) = inbound::dm_message(member, ev) else {
            continue;
        };
        let groups: Vec<String> = a.read(|s| {
            s.knocks
                .get(member)
                .map(|g| g.iter().cloned().collect())
                .unwrap_or_default()
        });
        for group in groups {
            let event = json!({
                "id": format!("{id}:{group}"),
                "group": group,
                "type": "challenge_answer",
                "member": member,
                "answer": text,
            });
            if !post_event(a, &event).await? {
                // No question pending there any more.
                a.update(|s| s.knock_decided(member, &group));
            }
        }
    }
    tracing::debug!("DM room {room} of {member} read");
    Ok(())
}

/// Joins a DM room a member opened with the bot.
async fn accept_dm_invite(a: &Adapter, room: &str, data: &Value) {
    let bot = a.matrix.user_id.as_str();
    let invite = data["invite_state"]["events"].as_array().and_then(|evs| {
        evs.iter()
            .find(|e| inbound::is_membership(e, bot, "invite"))
    });
    let Some(invite) = invite else { return };
    if invite["content"]["is_direct"] != true {
        return;
    }
    let Some(member) = invite["sender"].as_str() else {
        return;
    };
    match a.matrix.join(room).await {
        Ok(room) => a.update(|s| {
            s.dms.insert(member.to_string(), room);
        }),
        Err(e) => tracing::warn!("could not join the DM room {room} of {member}: {e}"),
    }
}

/// Posts an event to kith, retrying what may succeed later. Ok(false):
/// kith refused it for good (logged; the adapter moves on).
async fn post_event(a: &Adapter, event: &Value) -> Result<bool> {
    let mut attempt = 0;
    loop {
        match a.kith.post_event(event).await {
            Ok(_) => return Ok(true),
            Err(Failure::Permanent(m)) => {
                tracing::info!("kith refused event {}: {m}", event["id"]);
                return Ok(false);
            }
            Err(e) if attempt >= 5 => return Err(e),
            Err(e) => {
                attempt += 1;
                tracing::warn!("posting event {} to kith: {e}", event["id"]);
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
    }
}

/// The outbox loop: per poll, each mapped group's next actions are leased
/// and delivered (several `run` processes share the work: kith leases a
/// group to one of them at a time). A group whose delivery failed is left
/// alone for its backoff.
async fn outbox_loop(a: Arc<Adapter>) -> anyhow::Result<()> {
    // Group → (consecutive failures, not before).
    let mut failing: HashMap<String, (u32, Instant)> = HashMap::new();
    let groups: Vec<String> = a.config.rooms.values().cloned().collect();
    loop {
        if let Err(e) = outbound::lift_expired(&a, now_ms()).await {
            tracing::warn!("lifting expired restrictions: {e}");
        }
        for group in &groups {
            if failing.get(group).is_some_and(|(_, t)| *t > Instant::now()) {
                continue;
            }
            match deliver_lease(&a, group).await {
                Ok(()) => drop(failing.remove(group)),
                Err(e) => {
                    let failures = failing.get(group).map_or(0, |(n, _)| *n) + 1;
                    tracing::warn!("outbox of {group} (failure {failures}): {e}");
                    failing.insert(
                        group.clone(),
                        (failures, Instant::now() + backoff(failures)),
                    );
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(a.config.outbox_poll_ms)).await;
    }
}

/// Leases a group's next actions and carries them out in order, acking
/// each one Matrix accepted. Stops at the first transient failure (Err):
/// the rest of the lease comes back once it runs out, so the group's
/// actions stay in order.
async fn deliver_lease(a: &Adapter, group: &str) -> Result<()> {
    let lease = Duration::from_millis(a.config.outbox_lease_ms);
    // Measured from before the request, so it ends no later than kith's.
    let leased_at = Instant::now();
    let lease_end = leased_at + lease;
    // Actions start only in the lease's first three quarters: the last one
    // is for the action in flight to finish.
    let last_start = leased_at + lease * 3 / 4;
    let actions = a
        .kith
        .lease(group, LEASE_LIMIT, a.config.outbox_lease_ms)
        .await?;
    for act in &actions {
        if Instant::now() >= last_start {
            tracing::debug!("lease of {group} running out: the rest comes back later");
            break;
        }
        handle(a, act, lease_end).await?;
    }
    Ok(())
}

/// Delivers one leased action and acks it once Matrix accepted it; an
/// action already delivered is only acked again. A refusal for good is
/// logged and left unacknowledged: kith leases it again a few times, then
/// sets it aside as dead (`GET /v1/outbox?state=dead`).
async fn handle(a: &Adapter, act: &Action, lease_end: Instant) -> Result<()> {
    if !a.read(|s| s.delivered.contains(&act.id)) {
        // Abandoned when the lease runs out: by then kith may hand the
        // action to another worker, and two must not carry it out at once.
        let delivered = tokio::time::timeout_at(lease_end.into(), outbound::deliver(a, act))
            .await
            .unwrap_or_else(|_| Err(Failure::Transient("the lease ran out".into())));
        match delivered {
            Ok(()) => a.update(|s| s.mark_delivered(act.id)),
            Err(Failure::Permanent(m)) => {
                tracing::error!(
                    "action {} ({}) refused (attempt {}), left unacknowledged: {m}",
                    act.id,
                    act.action,
                    act.attempts
                );
                return Ok(());
            }
            Err(e) => {
                return Err(Failure::Transient(format!(
                    "action {} ({}), attempt {}: {e}",
                    act.id, act.action, act.attempts
                )))
            }
        }
    }
    // An ack that fails comes back with the lease: the action is recorded
    // as delivered, so it is only acked then, not carried out twice.
    a.kith.ack(&[act.id]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}
