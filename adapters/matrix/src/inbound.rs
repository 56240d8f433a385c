//! Matrix events → kith events. Pure functions: the run loop posts what
//! they return. A kith event's id is the Matrix event id, so a replayed
//! sync posts the same ids and kith processes each once.

use serde_json::{json, Value};

/// The kith event for one timeline event of a mapped room, or None for
/// what kith has no event for (the bot's own events, edits, topic changes,
/// joins: a member who joined without knocking is registered when they
/// first speak).
pub fn room_event(group: &str, bot: &str, ev: &Value) -> Option<Value> {
    let sender = ev["sender"].as_str()?;
    let id = ev["event_id"].as_str()?;
    let content = &ev["content"];
    let body = match ev["type"].as_str()? {
        _ if sender == bot => return None,
        "m.room.message" => message(sender, id, content)?,
        "m.reaction" => {
            let rel = &content["m.relates_to"];
            if rel["rel_type"] != "m.annotation" {
                return None;
            }
            json!({
                "type": "reaction",
                "message_id": rel["event_id"].as_str()?,
                "member": sender,
                "emoji": rel["key"].as_str()?,
            })
        }
        "m.room.member" => membership(ev)?,
        _ => return None,
    };
    let mut event = json!({"id": id, "group": group});
    if let Some(at) = ev["origin_server_ts"].as_i64() {
        event["at"] = at.into();
    }
    merge(&mut event, body);
    Some(event)
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}

fn message(sender: &str, id: &str, content: &Value) -> Option<Value> {
    // An edit repeats the message; kith keeps the original.
    if content["m.relates_to"]["rel_type"] == "m.replace" {
        return None;
    }
    let kind = match content["msgtype"].as_str()? {
        "m.image" => "image",
        _ => "text",
    };
    let reply_to = content["m.relates_to"]["m.in_reply_to"]["event_id"].as_str();
    let text = content["body"].as_str()?;
    let text = if reply_to.is_some() {
        strip_reply_fallback(text)
    } else {
        text
    };
    let mentions: Vec<&str> = content["m.mentions"]["user_ids"]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Some(json!({
        "type": "message",
        "sender": sender,
        "text": text,
        "kind": kind,
        "mentions": mentions,
        "reply_to": reply_to,
        "message_id": id,
    }))
}

/// Knocks are join requests (the knock's reason carries an invite code, for
/// invite-only); a member who leaves or is removed by someone other than
/// the bot has left (the bot's own kicks, which carry out kith's decisions,
/// are skipped with all its events).
fn membership(ev: &Value) -> Option<Value> {
    let member = ev["state_key"].as_str()?;
    let now = ev["content"]["membership"].as_str()?;
    let before = ev["unsigned"]["prev_content"]["membership"].as_str();
    match (before, now) {
        (_, "knock") => Some(json!({
            "type": "join_requested",
            "member": member,
            "display_name": ev["content"]["displayname"].as_str(),
            "invite_code": ev["content"]["reason"].as_str().filter(|r| !r.trim().is_empty()),
        })),
        (Some("join"), "leave" | "ban") => Some(json!({"type": "member_left", "member": member})),
        _ => None,
    }
}

/// Drops the quoted fallback (`> <@user> …` lines, then a blank line) that
/// clients put before a reply's text.
pub fn strip_reply_fallback(body: &str) -> &str {
    if !body.starts_with("> ") {
        return body;
    }
    match body.find("\n\n") {
        Some(i) if body[..i].lines().all(|l| l.starts_with('>')) => &body[i + 2..],
        _ => body,
    }
}

/// The text and event id of a message a member sent in their DM room with
/// the bot (an answer to a gate's challenge), if `ev` is one.
pub fn dm_message<'a>(member: &str, ev: &'a Value) -> Option<(&'a str, &'a str)> {
    if ev["type"] != "m.room.message" || ev["sender"] != member {
        return None;
    }
    Some((ev["event_id"].as_str()?, ev["content"]["body"].as_str()?))
}

/// Whether `ev` is `user`'s own membership event with the given membership.
pub fn is_membership(ev: &Value, user: &str, membership: &str) -> bool {
    ev["type"] == "m.room.member"
        && ev["state_key"] == user
        && ev["content"]["membership"] == membership
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, sender: &str, content: Value) -> Value {
        json!({"type": kind, "sender": sender, "event_id": "$e1", "origin_server_ts": 5, "content": content})
    }

    #[test]
    fn messages_with_mentions_and_replies() {
        let e = ev(
            "m.room.message",
            "@a:hs",
            json!({"msgtype": "m.text", "body": "> <@b:hs> hi\n\n签到",
                   "m.mentions": {"user_ids": ["@b:hs"]},
                   "m.relates_to": {"m.in_reply_to": {"event_id": "$e0"}}}),
        );
        let k = room_event("g", "@bot:hs", &e).unwrap();
        assert_eq!(k["id"], "$e1");
        assert_eq!(k["type"], "message");
        assert_eq!(k["text"], "签到");
        assert_eq!(k["mentions"], json!(["@b:hs"]));
        assert_eq!(k["reply_to"], "$e0");
        assert_eq!(k["at"], 5);
        assert!(
            room_event("g", "@a:hs", &e).is_none(),
            "the bot's own events"
        );
        let edit = ev(
            "m.room.message",
            "@a:hs",
            json!({"msgtype": "m.text", "body": "x", "m.relates_to": {"rel_type": "m.replace", "event_id": "$e0"}}),
        );
        assert!(room_event("g", "@bot:hs", &edit).is_none());
    }

    #[test]
    fn reactions_knocks_and_leaves() {
        let r = ev(
            "m.reaction",
            "@a:hs",
            json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$m", "key": "👍"}}),
        );
        let k = room_event("g", "@bot:hs", &r).unwrap();
        assert_eq!(
            (
                k["type"].as_str(),
                k["message_id"].as_str(),
                k["emoji"].as_str()
            ),
            (Some("reaction"), Some("$m"), Some("👍"))
        );
        let mut knock = ev(
            "m.room.member",
            "@a:hs",
            json!({"membership": "knock", "reason": "CODE1"}),
        );
        knock["state_key"] = "@a:hs".into();
        let k = room_event("g", "@bot:hs", &knock).unwrap();
        assert_eq!(
            (
                k["type"].as_str(),
                k["member"].as_str(),
                k["invite_code"].as_str()
            ),
            (Some("join_requested"), Some("@a:hs"), Some("CODE1"))
        );
        let mut leave = ev("m.room.member", "@a:hs", json!({"membership": "leave"}));
        leave["state_key"] = "@a:hs".into();
        leave["unsigned"] = json!({"prev_content": {"membership": "join"}});
        assert_eq!(
            room_event("g", "@bot:hs", &leave).unwrap()["type"],
            "member_left"
        );
        leave["unsigned"] = json!({"prev_content": {"membership": "knock"}});
        assert!(
            room_event("g", "@bot:hs", &leave).is_none(),
            "a withdrawn knock"
        );
    }

    #[test]
    fn reply_fallback_only_when_quoted() {
        assert_eq!(strip_reply_fallback("> <@a> x\n> y\n\nreal"), "real");
        assert_eq!(strip_reply_fallback("no quote"), "no quote");
        assert_eq!(strip_reply_fallback("> quote only"), "> quote only");
    }
}
