// `referral-fission-js`: credits members for the friends they bring in and
// rewards them once when they reach a threshold. A JavaScript port of
// plugins/rust/referral-fission, held to the same scenarios: the same
// config schema, defaults, texts and storage format. kith:plugin@0.2.1: one
// `handle` export, and `members.referralCode`, the host-issued code a member
// shares (only a join naming it is attributed, so no referrer is forged).

import config from "kith:plugin/config@0.2.1";
import members from "kith:plugin/members@0.2.1";
import messages from "kith:plugin/messages@0.2.1";
import storage from "kith:plugin/storage@0.2.1";

const U32_MAX = 4294967295;

// ---- helpers shared with the other plugins' rules --------------------------

// Rust's `str::trim`: Unicode White_Space at both ends.
const WS = "\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
function trim(s) {
  let a = 0;
  let b = s.length;
  while (a < b && WS.includes(s[a])) a++;
  while (b > a && WS.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

function isCommand(text, command) {
  const c = trim(command);
  return c !== "" && trim(text) === c;
}

// QuickJS here has no TextEncoder/TextDecoder: storage values are UTF-8 JSON.
function utf8Encode(s) {
  const out = [];
  for (const ch of s) {
    let c = ch.codePointAt(0);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

function utf8Decode(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    let c;
    let n;
    if (b < 0x80) { c = b; n = 1; }
    else if ((b & 0xe0) === 0xc0) { c = b & 31; n = 2; }
    else if ((b & 0xf0) === 0xe0) { c = b & 15; n = 3; }
    else if ((b & 0xf8) === 0xf0) { c = b & 7; n = 4; }
    else throw new Error("invalid UTF-8");
    if (i + n > bytes.length) throw new Error("invalid UTF-8");
    for (let k = 1; k < n; k++) {
      const cb = bytes[i + k];
      if ((cb & 0xc0) !== 0x80) throw new Error("invalid UTF-8");
      c = (c << 6) | (cb & 63);
    }
    s += String.fromCodePoint(c);
    i += n;
  }
  return s;
}

const CODES = {
  notFound: "not-found", "not-found": "not-found",
  denied: "denied", invalid: "invalid",
  insufficientFunds: "insufficient-funds", "insufficient-funds": "insufficient-funds",
  quotaExceeded: "quota-exceeded", "quota-exceeded": "quota-exceeded",
  conflict: "conflict",
};

function errorCode(e) {
  const code = e && typeof e === "object" ? e.code : undefined;
  return CODES[code] ?? String(code);
}

// Names the host call that failed, as the Rust plugins do.
function hostErr(call, e) {
  if (e && typeof e === "object" && "code" in e) {
    return `${call} failed (${errorCode(e)}): ${e.message}`;
  }
  return `${call} failed: ${e}`;
}

function isU32(v) {
  return Number.isInteger(v) && v >= 0 && v <= U32_MAX;
}

// JSON.parse gives 1.0 and 1 alike; serde refuses a float for an integer.
// Every field of this config is an integer or a string, so any number with
// a fraction or an exponent (outside strings) in the raw text is an error.
function hasFloat(raw) {
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if ((c === "." || c === "e" || c === "E") && i > 0 && raw[i - 1] >= "0" && raw[i - 1] <= "9") {
      return true;
    }
  }
  return false;
}

function isInt(v) {
  return typeof v === "number" && Number.isSafeInteger(v);
}

function load(key, check) {
  const bytes = storage.get(key);
  if (bytes === null || bytes === undefined) return null;
  let v;
  try {
    v = JSON.parse(utf8Decode(bytes));
  } catch (e) {
    throw `corrupted state at key \`${key}\`: ${e.message ?? e}`;
  }
  if (!check(v)) throw `corrupted state at key \`${key}\`: invalid value ${JSON.stringify(v)}`;
  return v;
}

function save(key, value) {
  try {
    storage.set(key, utf8Encode(JSON.stringify(value)));
  } catch (e) {
    throw hostErr(`storage.set \`${key}\``, e);
  }
}

function exists(key) {
  const v = storage.get(key);
  return v !== null && v !== undefined;
}

// ---- the rules (logic.rs) ---------------------------------------------------

const DEFAULTS = {
  reward_threshold: 3,
  reward_points: 100,
  reward_tag: "referral-champion",
  link_command: "/mylink",
  language: "zh-CN",
  texts: {},
};

// Everything the plugin says: [key, zh-CN, en], as TEXTS in the Rust plugin.
const TEXTS = [
  ["link",
    "你的专属邀请码：{code}（好友入群时填写）。邀请 {threshold} 位好友入群，奖励 {points} 积分。",
    "Your personal invite code: {code} (friends give it when they join). Reward at {threshold} friends joined: {points} points."],
  ["reward",
    "你已邀请 {threshold} 位好友入群：+{points} 积分。",
    "You brought {threshold} friends: +{points} points."],
];
const LANGUAGES = ["zh-CN", "en"];

// kith_plugin_util::text::fill: each {name} that args names is replaced;
// other braces stay as they are.
function fill(template, args) {
  let out = "";
  let rest = template;
  for (let open = rest.indexOf("{"); open >= 0; open = rest.indexOf("{")) {
    out += rest.slice(0, open);
    const after = rest.slice(open + 1);
    const close = after.indexOf("}");
    const name = close >= 0 ? after.slice(0, close) : null;
    if (name !== null && Object.prototype.hasOwnProperty.call(args, name)) {
      out += String(args[name]);
      rest = after.slice(close + 1);
    } else {
      out += "{";
      rest = after;
    }
  }
  return out + rest;
}

function placeholders(template) {
  const names = [];
  let rest = template;
  for (let open = rest.indexOf("{"); open >= 0; open = rest.indexOf("{")) {
    rest = rest.slice(open + 1);
    const close = rest.indexOf("}");
    if (close < 0) break;
    const name = rest.slice(0, close);
    if (/^[A-Za-z0-9_]+$/.test(name) && !names.includes(name)) names.push(name);
    rest = rest.slice(close + 1);
  }
  return names;
}

// The message `key` in the configured language, the operator's override first.
function text(cfg, key, args) {
  let template = Object.prototype.hasOwnProperty.call(cfg.texts, key) ? cfg.texts[key] : undefined;
  if (template === undefined) {
    const t = TEXTS.find(([k]) => k === key);
    template = t ? (cfg.language === "en" ? t[2] : t[1]) : key;
  }
  return fill(template, args ?? {});
}

// The schema's `language` and `texts`, as kith_plugin_util::text_properties.
function textProperties() {
  const keys = {};
  for (const [key, zh, en] of TEXTS) {
    // Both languages' placeholders: one may show more than the other.
    const all = placeholders(en);
    for (const n of placeholders(zh)) if (!all.includes(n)) all.push(n);
    const names = all.map((n) => `{${n}}`).join(", ");
    const places = names ? `placeholders ${names}` : "no placeholders";
    keys[key] = { type: "string", default: zh, description: `English: "${en}" (${places}).` };
  }
  return {
    language: {
      type: "string", enum: LANGUAGES, default: "zh-CN",
      description: "Language of the messages the plugin sends: zh-CN (Simplified Chinese) or en (English).",
    },
    texts: {
      type: "object", additionalProperties: false, properties: keys, default: {},
      description: "Replaces messages: key -> template. A template names values in braces, "
        + "e.g. {member}; each key lists its placeholders. The default of each key "
        + "is its zh-CN text, the description its English one.",
    },
  };
}

const FIELDS = {
  reward_threshold: isU32,
  reward_points: isInt,
  reward_tag: (v) => typeof v === "string",
  link_command: (v) => typeof v === "string",
  language: (v) => LANGUAGES.includes(v),
  texts: (v) => v !== null && typeof v === "object" && !Array.isArray(v)
    && Object.values(v).every((t) => typeof t === "string"),
};

function parseConfig(raw) {
  raw = trim(raw);
  const cfg = { ...DEFAULTS, texts: {} };
  if (raw === "" || raw === "null") return cfg;
  let obj;
  try {
    obj = JSON.parse(raw);
  } catch (e) {
    throw `invalid plugin config: ${e.message ?? e}`;
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    throw "invalid plugin config: expected a JSON object";
  }
  if (hasFloat(raw)) throw "invalid plugin config: invalid type: floating point, expected an integer";
  for (const [k, v] of Object.entries(obj)) {
    const check = FIELDS[k];
    if (!check) {
      const names = Object.keys(DEFAULTS).map((n) => `\`${n}\``).join(", ");
      throw `invalid plugin config: unknown field \`${k}\`, expected one of ${names}`;
    }
    if (!check(v)) throw `invalid plugin config: invalid value for ${k}: ${JSON.stringify(v)}`;
    cfg[k] = v;
  }
  return cfg;
}

// The schema forbids these too; checked again because a threshold of 0 could
// never be met and negative points would debit the champion.
function validate(cfg) {
  if (cfg.reward_threshold < 1) throw "config: reward_threshold must be at least 1";
  if (cfg.reward_points < 0) throw "config: reward_points must not be negative";
  if (trim(cfg.reward_tag) === "") throw "config: reward_tag must not be empty";
  for (const key of Object.keys(cfg.texts)) {
    if (!TEXTS.some(([k]) => k === key)) throw `config: texts has no message \`${key}\``;
  }
  return cfg;
}

function loadConfig() {
  return validate(parseConfig(config.get()));
}

// Keys sorted, compact: the same text serde_json gives for the Rust plugin.
function sortedJson(v) {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

function configSchema() {
  const props = {
    reward_threshold: ["Friends a member must bring in to earn the reward (paid once).",
      { type: "integer", minimum: 1, maximum: 1000000 }],
    reward_points: ["Points credited when the threshold is reached.", { type: "integer", minimum: 0 }],
    reward_tag: ["Tag added to a member when the threshold is reached.", { type: "string", minLength: 1 }],
    link_command: ["Chat message that asks for one's personal referral link.",
      { type: "string", minLength: 1 }],
  };
  const properties = {};
  for (const [name, [description, schema]] of Object.entries(props)) {
    properties[name] = { ...schema, description, default: DEFAULTS[name] };
  }
  Object.assign(properties, textProperties());
  return sortedJson({
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    properties,
  });
}

const attributedKey = (member) => `attributed:${member}`;
const countKey = (referrer) => `count:${referrer}`;

// Self-referrals and members already attributed once (rejoins) earn nothing.
function referrerToCredit(member, inviter, alreadyAttributed) {
  if (inviter !== null && inviter !== undefined && inviter !== member && inviter !== "" && !alreadyAttributed) {
    return inviter;
  }
  return null;
}

// Exactly equal, so the reward unlocks once even as the count keeps growing.
const unlocksReward = (count, cfg) => count === cfg.reward_threshold;

const linkMessage = (code, cfg) =>
  text(cfg, "link", { code, threshold: cfg.reward_threshold, points: cfg.reward_points });
const awardReason = (cfg) => `referral reward: ${cfg.reward_threshold} friends joined`;
const rewardMessage = (cfg) =>
  text(cfg, "reward", { threshold: cfg.reward_threshold, points: cfg.reward_points });

// ---- exports ------------------------------------------------------------------

export function metadata() {
  return {
    name: "referral-fission-js",
    version: "0.2.0",
    kind: "conversion-flow",
    description:
      "Counts the friends each member brings in and rewards members who reach a threshold with points and a tag.",
    configSchema: configSchema(),
    capabilities: ["read-members", "manage-members", "direct-messages", "award-points", "storage"],
  };
}

function onMemberJoined(member) {
  const aKey = attributedKey(member.id);
  const referrer = referrerToCredit(member.id, member.inviter, exists(aKey));
  if (referrer === null) return;
  const cfg = loadConfig();
  const cKey = countKey(referrer);
  const prev = load(cKey, isU32) ?? 0;
  const count = Math.min(prev + 1, U32_MAX);
  const rewarded = unlocksReward(count, cfg);
  // Member writes are buffered and dropped if the handler fails, so they go
  // before the storage writes, and the message goes last.
  if (rewarded) {
    if (cfg.reward_points > 0) {
      try {
        members.awardPoints(referrer, cfg.reward_points, awardReason(cfg));
      } catch (e) {
        throw hostErr("members.award-points", e);
      }
    }
    try {
      members.addTag(referrer, cfg.reward_tag);
    } catch (e) {
      // Already tagged (e.g. by an operator): the goal is met.
      if (errorCode(e) !== "conflict") throw hostErr("members.add-tag", e);
    }
  }
  save(aKey, referrer);
  save(cKey, count);
  if (rewarded) {
    try {
      messages.direct(referrer, rewardMessage(cfg));
    } catch (e) {
      throw hostErr("messages.direct", e);
    }
  }
}

function onMessage(message) {
  const cfg = loadConfig();
  if (!isCommand(message.text, cfg.link_command)) return;
  let code;
  try {
    code = members.referralCode(message.sender);
  } catch (e) {
    // A sender who is not (or no longer) an active member has no code.
    if (errorCode(e) === "conflict" || errorCode(e) === "not-found") return;
    throw hostErr("members.referral-code", e);
  }
  try {
    messages.direct(message.sender, linkMessage(code, cfg));
  } catch (e) {
    throw hostErr("messages.direct", e);
  }
}

// Only the events this flow uses; every other one is `done`.
export const handler = {
  handle(_ctx, event) {
    if (event.tag === "enabled") loadConfig();
    else if (event.tag === "member-joined") onMemberJoined(event.val);
    else if (event.tag === "message") onMessage(event.val);
    return { tag: "done" };
  },
};
