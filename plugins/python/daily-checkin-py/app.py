"""`daily-checkin-py`: members check in once per local day, earn points that
grow with their streak, and can ask for a leaderboard. A Python port of
plugins/rust/daily-checkin, held to the same scenarios."""

import wit_world
from wit_world import exports
from wit_world.imports import config, groups, log, members, messages, storage, timers, types
from componentize_py_types import Err

import logic

REMINDER = "reminder"

_CODES = {
    types.ErrorCode.NOT_FOUND: "not-found",
    types.ErrorCode.DENIED: "denied",
    types.ErrorCode.INVALID: "invalid",
    types.ErrorCode.INSUFFICIENT_FUNDS: "insufficient-funds",
    types.ErrorCode.QUOTA_EXCEEDED: "quota-exceeded",
    types.ErrorCode.CONFLICT: "conflict",
}


class HandlerError(Exception):
    """The message a handler returns as `err`."""


def host_err(call, e):
    """Names the host call that failed, as the Rust plugins do."""
    if isinstance(e, Err) and isinstance(e.value, types.Error):
        return HandlerError(f"{call} failed ({_CODES[e.value.code]}): {e.value.message}")
    return HandlerError(f"{call} failed: {e}")


def load_config():
    try:
        return logic.Config.parse(config.get()).validate()
    except ValueError as e:
        raise HandlerError(str(e)) from None


def load_state(key):
    data = storage.get(key)
    return None if data is None else logic.parse_state(key, data)


def member_name(member_id):
    m = members.get(member_id)
    return logic.display_name(m.display_name if m is not None else None, member_id)


def post(text, mentions):
    try:
        messages.post(messages.Outgoing(text=text, mentions=mentions, reply_to=None))
    except Err as e:
        raise host_err("messages.post", e) from None


def check_in(ctx, cfg, sender):
    day = logic.day_index(ctx.now, groups.current().utc_offset_minutes)
    key = logic.state_key(sender)
    try:
        prev = load_state(key)
    except ValueError as e:
        raise HandlerError(str(e)) from None
    name = member_name(sender)
    outcome = logic.check_in(prev, day, cfg)
    if outcome[0] == "already":
        post(logic.already_message(cfg, name, outcome[1]), [sender])
        return
    _, state, reward = outcome
    # Points first (buffered, dropped if the handler fails), then the state,
    # then the announcement.
    if reward > 0:
        try:
            members.award_points(sender, reward, logic.award_reason(state["streak"]))
        except Err as e:
            raise host_err("members.award-points", e) from None
    try:
        storage.set(key, logic.to_json_bytes(state))
    except Err as e:
        raise host_err(f"storage.set `{key}`", e) from None
    post(logic.checked_in_message(cfg, name, state["streak"], reward), [sender])


def leaderboard(cfg):
    entries = []
    for key in storage.list_keys(logic.STATE_PREFIX, 0):
        if not key.startswith(logic.STATE_PREFIX):
            continue
        try:
            state = load_state(key)
        except ValueError as e:
            # One corrupted record should not take the whole board down.
            log.log(log.Level.WARN, str(e))
            continue
        if state is not None:
            entries.append((key[len(logic.STATE_PREFIX):], state))
    rows = [(member_name(i), s) for i, s in logic.rank(entries, cfg.leaderboard_size)]
    post(logic.leaderboard_message(cfg, rows), [])


def handler(f):
    """Turns a HandlerError into the `result<_, string>` error of the WIT."""
    def wrapped(*args):
        try:
            return f(*args)
        except HandlerError as e:
            raise Err(str(e)) from None
    return wrapped


class WitWorld(wit_world.WitWorld):
    def metadata(self):
        return types.PluginMetadata(
            name="daily-checkin-py",
            version="0.1.0",
            kind=types.PluginKind.ACTIVITY_GAME,
            description="Daily check-in with streak bonuses and a leaderboard.",
            config_schema=logic.config_schema(),
            capabilities=[
                types.Capability.READ_MEMBERS,
                types.Capability.POST_MESSAGES,
                types.Capability.AWARD_POINTS,
                types.Capability.STORAGE,
                types.Capability.TIMERS,
            ],
        )


class Game(exports.Game):
    @handler
    def on_enabled(self, ctx):
        """(Re)schedules the daily reminder for the current config."""
        cfg = load_config()
        try:
            if cfg.reminder_hour is not None:
                first = logic.next_local_hour(ctx.now, groups.current().utc_offset_minutes, cfg.reminder_hour)
                timers.set_recurring(REMINDER, first, 86_400_000, "")
            else:
                timers.cancel(REMINDER)
        except Err as e:
            raise host_err("timers", e) from None

    def on_member_joined(self, ctx, member):
        pass

    def on_member_left(self, ctx, member):
        pass

    @handler
    def on_message(self, ctx, message):
        cfg = load_config()
        # A check-in command wins if the same text is configured for both.
        if cfg.is_checkin(message.text):
            check_in(ctx, cfg, message.sender)
        elif cfg.is_leaderboard(message.text):
            leaderboard(cfg)

    def on_reaction(self, ctx, reaction):
        pass

    @handler
    def on_timer(self, ctx, timer):
        if timer.name != REMINDER:
            return
        post(logic.reminder_message(load_config()), [])
