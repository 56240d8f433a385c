"""Host-independent rules of the daily check-in game: the same rules, texts,
config schema and storage format as plugins/rust/daily-checkin (logic.rs)."""

import json

DAY_MS = 86_400_000
STATE_PREFIX = "member:"
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
U32_MAX = 2**32 - 1

# Rust's `str::trim` strips Unicode White_Space, a slightly smaller set than
# Python's `str.strip()` (which also strips U+001C..U+001F).
_WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def trim(s):
    return s.strip(_WHITE_SPACE)


def sat_i64(v):
    return max(I64_MIN, min(I64_MAX, v))


def is_command(text, command):
    command = trim(command)
    return command != "" and trim(text) == command


def display_name(name, member_id):
    name = trim(name) if name is not None else ""
    return name if name else member_id


def to_json_bytes(value):
    # serde_json's compact form: no spaces, non-ASCII kept as UTF-8.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# --- typed JSON fields, as serde would check them -------------------------

def _int(v, lo, hi, what):
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"invalid value for {what}: {json.dumps(v, ensure_ascii=False)}")
    return v


def _str(v, what):
    if not isinstance(v, str):
        raise ValueError(f"invalid type for {what}: expected a string")
    return v


DEFAULTS = {
    "commands": ["/checkin", "签到", "打卡"],
    "base_reward": 10,
    "streak_bonus": 2,
    "max_bonus": 20,
    "leaderboard_command": "/rank",
    "leaderboard_size": 10,
    "reminder_hour": None,
    "language": "zh-CN",
    "texts": {},
}

# Everything the game says: (key, zh-CN, en), as TEXTS in the Rust plugin.
TEXTS = [
    ("checked_in",
     "@{member} 签到成功：连续第 {streak} 天，+{points} 积分。",
     "@{member} checked in: day {streak} of the streak, +{points} points."),
    ("already",
     "@{member} 今天已经签到过了（已连续 {streak} 天）。",
     "@{member} already checked in today (streak {streak})."),
    ("leaderboard_empty", "还没有人签到。", "No check-ins yet."),
    ("leaderboard_title", "签到排行榜：", "Check-in leaderboard:"),
    ("leaderboard_row",
     "{rank}. {member} — 连续 {streak} 天，累计 {days} 天",
     "{rank}. {member} — streak {streak}, {days} days"),
    ("reminder",
     "今日签到开始啦：发送「{command}」，保持连续签到。",
     "Daily check-in is open: send {command} to keep your streak."),
]
LANGUAGES = ("zh-CN", "en")


def fill(template, args):
    """kith_plugin_util::text::fill: each {name} that args names is replaced;
    other braces stay as they are."""
    out, rest = [], template
    while "{" in rest:
        open_ = rest.index("{")
        out.append(rest[:open_])
        after = rest[open_ + 1:]
        close = after.find("}")
        if close >= 0 and after[:close] in args:
            out.append(str(args[after[:close]]))
            rest = after[close + 1:]
        else:
            out.append("{")
            rest = after
    out.append(rest)
    return "".join(out)


def placeholders(template):
    names, rest = [], template
    while "{" in rest:
        rest = rest[rest.index("{") + 1:]
        close = rest.find("}")
        if close < 0:
            break
        name = rest[:close]
        plain = name != "" and all(c.isascii() and (c.isalnum() or c == "_") for c in name)
        if plain and name not in names:
            names.append(name)
        rest = rest[close + 1:]
    return names


def text_properties():
    """The schema's `language` and `texts`, as kith_plugin_util::text_properties."""
    keys = {}
    for key, zh, en in TEXTS:
        # Both languages' placeholders: one may show more than the other.
        names = placeholders(en)
        names += [n for n in placeholders(zh) if n not in names]
        names = ", ".join("{" + n + "}" for n in names)
        places = f"placeholders {names}" if names else "no placeholders"
        keys[key] = {"type": "string", "default": zh, "description": f'English: "{en}" ({places}).'}
    language = {
        "type": "string", "enum": list(LANGUAGES), "default": "zh-CN",
        "description": "Language of the messages the plugin sends: zh-CN (Simplified Chinese) or en (English).",
    }
    texts = {
        "type": "object", "additionalProperties": False, "properties": keys, "default": {},
        "description": "Replaces messages: key -> template. A template names values in braces, "
                       "e.g. {member}; each key lists its placeholders. The default of each key "
                       "is its zh-CN text, the description its English one.",
    }
    return {"language": language, "texts": texts}


class Config:
    def __init__(self, **fields):
        for k, v in DEFAULTS.items():
            setattr(self, k, fields.get(k, type(v)(v) if isinstance(v, (list, dict)) else v))

    @staticmethod
    def parse(raw):
        """Missing keys take their defaults; "" or null mean all defaults."""
        raw = trim(raw)
        if raw == "" or raw == "null":
            return Config()
        try:
            obj = json.loads(raw)
            if not isinstance(obj, dict):
                raise ValueError("expected a JSON object")
            fields = {}
            for k, v in obj.items():
                if k == "commands":
                    if not isinstance(v, list):
                        raise ValueError("invalid type for commands: expected a sequence")
                    fields[k] = [_str(c, "commands") for c in v]
                elif k in ("base_reward", "streak_bonus", "max_bonus"):
                    fields[k] = _int(v, I64_MIN, I64_MAX, k)
                elif k == "leaderboard_command":
                    fields[k] = _str(v, k)
                elif k == "leaderboard_size":
                    fields[k] = _int(v, 0, U32_MAX, k)
                elif k == "reminder_hour":
                    fields[k] = None if v is None else _int(v, 0, 255, k)
                elif k == "language":
                    if v not in LANGUAGES:
                        raise ValueError(f"unknown variant {json.dumps(v, ensure_ascii=False)}, expected `zh-CN` or `en`")
                    fields[k] = v
                elif k == "texts":
                    if not isinstance(v, dict):
                        raise ValueError("invalid type for texts: expected a map")
                    fields[k] = {key: _str(t, "texts") for key, t in v.items()}
                else:
                    raise ValueError(f"unknown field `{k}`, expected one of "
                                     + ", ".join(f"`{n}`" for n in DEFAULTS))
            return Config(**fields)
        except ValueError as e:
            raise ValueError(f"invalid plugin config: {e}") from None

    def validate(self):
        for name in ("base_reward", "streak_bonus", "max_bonus"):
            if getattr(self, name) < 0:
                raise ValueError(f"config: {name} must not be negative")
        if self.reminder_hour is not None and self.reminder_hour > 23:
            raise ValueError("config: reminder_hour must be 0-23")
        if self.leaderboard_size < 1:
            raise ValueError("config: leaderboard_size must be at least 1")
        known = {key for key, _, _ in TEXTS}
        for key in self.texts:
            if key not in known:
                raise ValueError(f"config: texts has no message `{key}`")
        return self

    def text(self, key, **args):
        """The message `key` in the configured language, the operator's
        override first, placeholders filled."""
        template = self.texts.get(key)
        if template is None:
            template = next((zh if self.language == "zh-CN" else en
                             for k, zh, en in TEXTS if k == key), key)
        return fill(template, args)

    def is_checkin(self, text):
        return any(is_command(text, c) for c in self.commands)

    def is_leaderboard(self, text):
        return is_command(text, self.leaderboard_command)


def config_schema():
    points = {"type": "integer", "minimum": 0}
    props = {
        "commands": ("Chat messages that count as a check-in.",
                     {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True}),
        "base_reward": ("Points for every check-in.", dict(points)),
        "streak_bonus": ("Extra points per consecutive day after the first.", dict(points)),
        "max_bonus": ("Cap on the streak bonus of one check-in.", dict(points)),
        "leaderboard_command": ("Chat message that posts the leaderboard.",
                                {"type": "string", "minLength": 1}),
        "leaderboard_size": ("How many members the leaderboard shows.",
                             {"type": "integer", "minimum": 1, "maximum": 100}),
        "reminder_hour": ("Local hour (0-23) of a daily reminder post; null for none.",
                          {"type": ["integer", "null"], "minimum": 0, "maximum": 23}),
    }
    properties = {}
    for name, (description, schema) in props.items():
        schema["description"] = description
        schema["default"] = DEFAULTS[name]
        properties[name] = schema
    properties.update(text_properties())
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    # serde_json::Value sorts object keys: the same text as the Rust plugin.
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- member state, stored at member:<id> -----------------------------------

STATE_FIELDS = ("last_day", "streak", "total_days", "total_points")


def state(last_day, streak, total_days, total_points):
    return {"last_day": last_day, "streak": streak, "total_days": total_days, "total_points": total_points}


def state_key(member):
    return STATE_PREFIX + member


def parse_state(key, data):
    try:
        obj = json.loads(data.decode("utf-8"))
        if not isinstance(obj, dict):
            raise ValueError("expected struct MemberState")
        for f in STATE_FIELDS:
            if f not in obj:
                raise ValueError(f"missing field `{f}`")
        return state(
            _int(obj["last_day"], I64_MIN, I64_MAX, "last_day"),
            _int(obj["streak"], 0, U32_MAX, "streak"),
            _int(obj["total_days"], 0, U32_MAX, "total_days"),
            _int(obj["total_points"], I64_MIN, I64_MAX, "total_points"),
        )
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"corrupted state at key `{key}`: {e}") from None


def day_index(now_ms, utc_offset_minutes):
    """The group's local calendar day number (floor division)."""
    return sat_i64(now_ms + utc_offset_minutes * 60_000) // DAY_MS


def reward(cfg, streak):
    bonus = sat_i64(max(streak - 1, 0) * cfg.streak_bonus)
    return sat_i64(cfg.base_reward + min(bonus, cfg.max_bonus))


def check_in(prev, day, cfg):
    """("already", streak) or ("done", new_state, reward)."""
    if prev is not None and prev["last_day"] >= day:
        return ("already", prev["streak"])
    if prev is not None and prev["last_day"] == day - 1:
        streak = min(prev["streak"] + 1, U32_MAX)
    else:
        streak = 1
    r = reward(cfg, streak)
    base = prev if prev is not None else state(0, 0, 0, 0)
    return ("done", state(day, streak, min(base["total_days"] + 1, U32_MAX),
                          sat_i64(base["total_points"] + r)), r)


def award_reason(streak):
    return f"daily check-in, streak {streak}"


def already_message(cfg, name, streak):
    return cfg.text("already", member=name, streak=streak)


def checked_in_message(cfg, name, streak, reward):
    return cfg.text("checked_in", member=name, streak=streak, points=reward)


def rank(entries, size):
    """Longest streak, then most days, then id: stable whatever the key order."""
    entries = sorted(entries, key=lambda e: (-e[1]["streak"], -e[1]["total_days"], e[0]))
    return entries[:size]


def leaderboard_message(cfg, rows):
    if not rows:
        return cfg.text("leaderboard_empty")
    text = cfg.text("leaderboard_title")
    for i, (name, s) in enumerate(rows):
        text += "\n" + cfg.text("leaderboard_row", rank=i + 1, member=name,
                                streak=s["streak"], days=s["total_days"])
    return text


def next_local_hour(now, utc_offset_minutes, hour):
    """Unix ms of the next `hour`:00 local time, strictly after `now`."""
    offset = utc_offset_minutes * 60_000
    local = now + offset
    at = (local // DAY_MS) * DAY_MS + hour * 3_600_000
    if at <= local:
        at += DAY_MS
    return at - offset


def reminder_message(cfg):
    command = cfg.commands[0] if cfg.commands else "/checkin"
    return cfg.text("reminder", command=command)
