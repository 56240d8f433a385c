// my-plugin: a kith plugin of the `my-world` world.
//
// Handlers get a `ctx` (group, eventId, `now`, a `seed`): use `ctx.now` and
// `ctx.seed` instead of a clock or randomness, so that the same events always
// give the same effects. Host calls are buffered and applied only if the
// handler returns; `throw "reason"` refuses the event and discards them.
// Records have camelCase keys, enums are their case names ("post-messages"),
// variants are { tag, val }, and none is null.

import config from "kith:plugin/config@0.1.0";
import log from "kith:plugin/log@0.1.0";
import messages from "kith:plugin/messages@0.1.0";

// JSON Schema of the config operators give when enabling it.
const CONFIG_SCHEMA = JSON.stringify({
  type: "object",
  additionalProperties: false,
  properties: {
    greeting: { type: "string", default: "hello", description: "What to answer to /hello." },
  },
});

export function metadata() {
  return {
    name: "my-plugin",
    version: "0.1.0",
    kind: "my-world",
    description: "Describe what my-plugin does for a group.",
    configSchema: CONFIG_SCHEMA,
    capabilities: ["post-messages"],
  };
}

// The configured greeting, or the default.
function greeting() {
  const raw = config.get().trim();
  const cfg = raw === "" ? null : JSON.parse(raw);
  return cfg !== null && typeof cfg === "object" && typeof cfg.greeting === "string" ? cfg.greeting : "hello";
}

// Answers "/hello" in the group.
function onText(message) {
  if (message.text.trim() !== "/hello") return;
  log.log("info", `greeting ${message.sender}`);
  const text = `${greeting()} @${message.sender}!`;
  try {
    messages.post({ text, mentions: [message.sender], replyTo: message.id });
  } catch (e) {
    throw `post failed: ${e && e.code}: ${e && e.message}`;
  }
}

export const my_iface = {
  // handler: on-enabled
  onEnabled(_ctx) {},
  // handler: on-join-request
  // Every applicant is admitted: put your threshold here.
  onJoinRequest(_ctx, request) {
    return { tag: "admit", val: `welcome, ${request.displayName}` };
  },
  // handler: on-challenge-answer
  onChallengeAnswer(_ctx, _request, _answer) {
    return { tag: "reject", val: "this gate asks no questions" };
  },
  // handler: on-member-joined
  onMemberJoined(_ctx, _member) {},
  // handler: on-member-left
  onMemberLeft(_ctx, _member) {},
  // handler: on-message
  onMessage(_ctx, message) {
    onText(message);
  },
  // handler: on-reaction
  onReaction(_ctx, _reaction) {},
  // handler: on-payment
  onPayment(_ctx, _payment) {},
  // handler: on-timer
  onTimer(_ctx, _timer) {},
  // end of handlers
};
