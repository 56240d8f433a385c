//! kith's outbox actions → Matrix calls. Each action is carried out so that
//! doing it twice changes nothing: sends and redactions carry the action id
//! as transaction id, membership changes check the current membership first.

use serde_json::{json, Value};

use crate::failure::{Failure, Result};
use crate::kith::Action;
use crate::roles;
use crate::run::Adapter;
use crate::state::Restriction;

fn field<'a>(p: &'a Value, name: &str) -> Result<&'a str> {
    p[name]
        .as_str()
        .ok_or_else(|| Failure::Permanent(format!("the action's payload has no {name}")))
}

/// Carries out one action on the homeserver.
pub async fn deliver(a: &Adapter, act: &Action) -> Result<()> {
    let room = a
        .config
        .room_of(&act.group)
        .ok_or_else(|| Failure::Permanent(format!("group {} is mapped to no room", act.group)))?;
    let p = &act.payload;
    let txn = format!("kith-{}", act.id);
    let reason = p["reason"].as_str().unwrap_or("");
    match act.action.as_str() {
        "post" => post(a, room, &txn, p).await,
        "direct" => direct(a, &txn, field(p, "member")?, field(p, "text")?).await,
        "delete" => {
            let message = field(p, "message_id")?;
            let event = a.read(|s| s.event_of(message));
            a.matrix.redact(room, &event, &txn, reason).await
        }
        "approve" => {
            let member = field(p, "member")?;
            // Inviting a knocking member accepts the knock.
            set_membership(a, room, member, Want::Invited, reason).await?;
            a.update(|s| s.knock_decided(member, &act.group));
            Ok(())
        }
        "decline" | "remove" => {
            let member = field(p, "member")?;
            // Kicking a knocking member rejects the knock.
            set_membership(a, room, member, Want::Out, reason).await?;
            a.update(|s| s.knock_decided(member, &act.group));
            Ok(())
        }
        "redirect" => redirect(a, room, act, p).await,
        "restrict" => {
            let until = p["until"].as_i64().unwrap_or(0);
            restrict(a, room, field(p, "member")?, until).await
        }
        "operator-alert" => {
            // A DM to each owner and admin; each its own transaction id, so
            // a retry after a partial delivery sends nobody the alert twice.
            let text = field(p, "text")?;
            let to = p["to"].as_array().map_or(&[][..], |t| t.as_slice());
            for (i, member) in to.iter().filter_map(Value::as_str).enumerate() {
                direct(a, &format!("{txn}-{i}"), member, text).await?;
            }
            Ok(())
        }
        "role" => set_role(a, room, field(p, "member")?, field(p, "role")?).await,
        other => Err(Failure::Permanent(format!("unknown action {other:?}"))),
    }
}

async fn post(a: &Adapter, room: &str, txn: &str, p: &Value) -> Result<()> {
    let mentions: Vec<&str> = p["mentions"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut content = json!({
        "msgtype": "m.notice",
        "body": field(p, "text")?,
        "m.mentions": {"user_ids": mentions},
    });
    if let Some(reply_to) = p["reply_to"].as_str() {
        let event = a.read(|s| s.event_of(reply_to));
        content["m.relates_to"] = json!({"m.in_reply_to": {"event_id": event}});
    }
    let event = a.matrix.send(room, "m.room.message", txn, &content).await?;
    if let Some(id) = p["message_id"].as_str() {
        a.update(|s| s.remember_post(id, &event));
    }
    Ok(())
}

/// A message in the member's DM room, created on first use.
async fn direct(a: &Adapter, txn: &str, member: &str, text: &str) -> Result<()> {
    let known = a.read(|s| s.dms.get(member).cloned());
    let room = match known {
        Some(r) => r,
        None => {
            let r = a.matrix.create_dm(member).await?;
            a.update(|s| s.dms.insert(member.to_string(), r.clone()));
            r
        }
    };
    let content = json!({"msgtype": "m.notice", "body": text});
    match a.matrix.send(&room, "m.room.message", txn, &content).await {
        Err(Failure::Permanent(m)) => {
            // The room is gone or the bot was removed from it: the next
            // attempt makes a new one.
            a.update(|s| s.dms.remove(member));
            Err(Failure::Transient(format!("DM room {room} refused: {m}")))
        }
        r => r.map(drop),
    }
}

/// Membership the bot brings a member to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Invited (or already joined).
    Invited,
    /// Not in the room: kicked, knock rejected.
    Out,
}

async fn set_membership(
    a: &Adapter,
    room: &str,
    member: &str,
    want: Want,
    reason: &str,
) -> Result<()> {
    let now = a.matrix.membership(room, member).await?;
    let done = match want {
        Want::Invited => matches!(now.as_deref(), Some("invite" | "join")),
        Want::Out => matches!(now.as_deref(), None | Some("leave" | "ban")),
    };
    if done {
        return Ok(());
    }
    let call = if want == Want::Invited {
        "invite"
    } else {
        "kick"
    };
    a.matrix.member_action(room, call, member, reason).await
}

/// Rejects the knock here and invites the member to the group's other room.
async fn redirect(a: &Adapter, room: &str, act: &Action, p: &Value) -> Result<()> {
    let member = field(p, "member")?;
    let reason = p["reason"].as_str().unwrap_or("");
    set_membership(a, room, member, Want::Out, reason).await?;
    a.update(|s| s.knock_decided(member, &act.group));
    match a.config.room_of(field(p, "to_group")?) {
        Some(to) => set_membership(a, to, member, Want::Invited, reason).await,
        None => {
            tracing::warn!(
                "redirect of {member}: group {} is mapped to no room",
                p["to_group"]
            );
            Ok(())
        }
    }
}

const POWER_LEVELS: &str = "m.room.power_levels";

/// Mutes a member: a power level below `events_default`, so they cannot
/// send; lifted by [`lift_expired`].
async fn restrict(a: &Adapter, room: &str, member: &str, until: i64) -> Result<()> {
    let mut pl = a.matrix.state(room, POWER_LEVELS, "").await?;
    let muted = pl["events_default"].as_i64().unwrap_or(0) - 1;
    let current = pl["users"][member].as_i64();
    if current != Some(muted) {
        pl["users"][member] = muted.into();
        a.matrix.put_state(room, POWER_LEVELS, "", &pl).await?;
    }
    a.update(|s| {
        // A second restriction extends the first and keeps its level to restore.
        let previous = s
            .restrictions
            .iter()
            .find(|r| r.room == room && r.member == member)
            .map_or(current, |r| r.previous);
        s.restrictions
            .retain(|r| !(r.room == room && r.member == member));
        s.restrictions.push(Restriction {
            room: room.into(),
            member: member.into(),
            until,
            previous,
        });
    });
    Ok(())
}

/// Restores the power level of members whose restriction ended.
pub async fn lift_expired(a: &Adapter, now: i64) -> Result<()> {
    let due: Vec<Restriction> = a.read(|s| {
        s.restrictions
            .iter()
            .filter(|r| r.until <= now)
            .cloned()
            .collect()
    });
    for r in due {
        let mut pl = a.matrix.state(&r.room, POWER_LEVELS, "").await?;
        match (r.previous, pl["users"].as_object_mut()) {
            (Some(level), _) => pl["users"][&r.member] = level.into(),
            (None, Some(users)) => drop(users.remove(&r.member)),
            (None, None) => {}
        }
        a.matrix.put_state(&r.room, POWER_LEVELS, "", &pl).await?;
        a.update(|s| s.restrictions.retain(|x| x != &r));
    }
    Ok(())
}

/// Gives a member the power level of their kith role ([`roles`]). A muted
/// member stays muted: the new level is the one restored afterwards.
async fn set_role(a: &Adapter, room: &str, member: &str, role: &str) -> Result<()> {
    let level = roles::level_of_role(role);
    let muted = a.update(|s| {
        s.restrictions
            .iter_mut()
            .find(|r| r.room == room && r.member == member)
            .map(|r| r.previous = Some(level))
            .is_some()
    });
    if muted {
        return Ok(());
    }
    let mut pl = a.matrix.state(room, POWER_LEVELS, "").await?;
    let default = pl["users_default"].as_i64().unwrap_or(0);
    if pl["users"][member].as_i64().unwrap_or(default) != level {
        pl["users"][member] = level.into();
        a.matrix.put_state(room, POWER_LEVELS, "", &pl).await?;
    }
    Ok(())
}
