"""my-plugin: a kith plugin of the `my-world` world.

Handlers get a `ctx` (group, event id, `now`, a `seed`): use `ctx.now` and
`ctx.seed` instead of a clock or randomness, so that the same events always
give the same effects. Host calls are buffered and applied only if the handler
returns; `raise Err("reason")` refuses the event and discards them.
"""

import json

import wit_world
from wit_world import exports
from wit_world.imports import config, log, messages, types
from componentize_py_types import Err

# JSON Schema of the config operators give when enabling it.
CONFIG_SCHEMA = """{
    "type": "object",
    "additionalProperties": false,
    "properties": {
        "greeting": {"type": "string", "default": "hello", "description": "What to answer to /hello."}
    }
}"""


class WitWorld(wit_world.WitWorld):
    def metadata(self):
        return types.PluginMetadata(
            name="my-plugin",
            version="0.1.0",
            kind=types.PluginKind.MY_KIND,
            description="Describe what my-plugin does for a group.",
            config_schema=CONFIG_SCHEMA,
            capabilities=[types.Capability.POST_MESSAGES],
        )


def greeting():
    """The configured greeting, or the default."""
    raw = config.get().strip()
    cfg = json.loads(raw) if raw else None
    value = cfg.get("greeting") if isinstance(cfg, dict) else None
    return value if isinstance(value, str) else "hello"


def on_text(message):
    """Answers "/hello" in the group."""
    if message.text.strip() != "/hello":
        return
    log.log(log.Level.INFO, f"greeting {message.sender}")
    text = f"{greeting()} @{message.sender}!"
    try:
        messages.post(messages.Outgoing(text=text, mentions=[message.sender], reply_to=message.id))
    except Err as e:
        raise Err(f"post failed: {e.value.code.name.lower()}: {e.value.message}") from None


class MyIface(exports.MyIface):
    # handler: on-enabled
    def on_enabled(self, ctx):
        pass

    # handler: on-join-request
    def on_join_request(self, ctx, request):
        """Every applicant is admitted: put your threshold here."""
        return types.Decision_Admit(f"welcome, {request.display_name}")

    # handler: on-challenge-answer
    def on_challenge_answer(self, ctx, request, answer):
        return types.Decision_Reject("this gate asks no questions")

    # handler: on-member-joined
    def on_member_joined(self, ctx, member):
        pass

    # handler: on-member-left
    def on_member_left(self, ctx, member):
        pass

    # handler: on-message
    def on_message(self, ctx, message):
        on_text(message)

    # handler: on-reaction
    def on_reaction(self, ctx, reaction):
        pass

    # handler: on-payment
    def on_payment(self, ctx, payment):
        pass

    # handler: on-timer
    def on_timer(self, ctx, timer):
        pass
    # end of handlers
