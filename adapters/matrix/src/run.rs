//! The adapter at work: a sync loop (Matrix → kith) and an outbox loop
//! (kith → Matrix), sharing the persistent state.

use std::collections::{HashMap, HashSet};
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
/// Actions fetched per outbox page.
const PAGE: u32 = 100;

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

/// Retries of actions that failed, and actions that cannot succeed.
#[derive(Default)]
struct Retries {
    /// Action id → (attempts, not before).
    waiting: HashMap<i64, (u32, Instant)>,
    /// Refused by Matrix for good: left unacknowledged (kith keeps them,
    /// visible in its outbox) and not tried again by this process.
    parked: HashSet<i64>,
}

async fn outbox_loop(a: Arc<Adapter>) -> anyhow::Result<()> {
    let mut retries = Retries::default();
    let groups: Vec<String> = a.config.rooms.values().cloned().collect();
    loop {
        if let Err(e) = outbound::lift_expired(&a, now_ms()).await {
            tracing::warn!("lifting expired restrictions: {e}");
        }
        for group in &groups {
            if let Err(e) = drain_group(&a, group, &mut retries).await {
                tracing::warn!("outbox of {group}: {e}");
            }
        }
        tokio::time::sleep(Duration::from_millis(a.config.outbox_poll_ms)).await;
    }
}

async fn drain_group(a: &Adapter, group: &str, retries: &mut Retries) -> Result<()> {
    let mut after = 0;
    loop {
        let actions = a.kith.outbox(group, after, PAGE).await?;
        for act in &actions {
            after = act.id;
            handle(a, act, retries).await?;
        }
        if actions.len() < PAGE as usize {
            return Ok(());
        }
    }
}

/// Delivers one action (unless parked or waiting) and acks it once Matrix
/// accepted it. An action already delivered is only acked again.
async fn handle(a: &Adapter, act: &Action, retries: &mut Retries) -> Result<()> {
    if retries.parked.contains(&act.id)
        || retries
            .waiting
            .get(&act.id)
            .is_some_and(|(_, t)| *t > Instant::now())
    {
        return Ok(());
    }
    if !a.read(|s| s.delivered.contains(&act.id)) {
        match outbound::deliver(a, act).await {
            Ok(()) => {
                retries.waiting.remove(&act.id);
                a.update(|s| s.mark_delivered(act.id));
            }
            Err(Failure::Permanent(m)) => {
                tracing::error!(
                    "action {} ({}) refused, left unacknowledged: {m}",
                    act.id,
                    act.action
                );
                retries.parked.insert(act.id);
                return Ok(());
            }
            Err(e) => {
                let attempts = retries.waiting.get(&act.id).map_or(0, |(n, _)| *n) + 1;
                tracing::warn!(
                    "action {} ({}) failed (attempt {attempts}): {e}",
                    act.id,
                    act.action
                );
                retries
                    .waiting
                    .insert(act.id, (attempts, Instant::now() + backoff(attempts)));
                return Ok(());
            }
        }
    }
    // An ack that fails is sent again on the next pass: the action is
    // recorded as delivered, so it is not carried out twice.
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
