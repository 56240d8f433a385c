// my-plugin: a kith plugin of the `my-world` world.
//
// Handlers get a context (group, event id, `now`, a `seed`): use `now` and
// `seed` instead of a clock or randomness, so that the same events always give
// the same effects. Host calls are buffered and applied only if the handler
// returns true; returning false with a reason in `err` refuses the event.
// Ownership, as wit-bindgen c has it: a handler owns its arguments (free them)
// and hands over what it puts in `ret` and `err` (malloc'd; the generated code
// frees them); host calls only borrow their arguments.
// No stdio: the module must import nothing from WASI (build.sh checks).

#include "my_world.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef my_world_string_t string_t;

// JSON Schema of the config operators give when enabling it.
static const char CONFIG_SCHEMA[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"greeting\":{\"type\":\"string\",\"default\":\"hello\",\"description\":\"What to answer to /hello.\"}}}";

void exports_my_world_metadata(my_world_plugin_metadata_t *ret) {
    my_world_string_dup(&ret->name, "my-plugin");
    my_world_string_dup(&ret->version, "0.1.0");
    ret->kind = KITH_PLUGIN_TYPES_PLUGIN_KIND_MY_KIND;
    my_world_string_dup(&ret->description, "Describe what my-plugin does for a group.");
    my_world_string_dup(&ret->config_schema, CONFIG_SCHEMA);
    ret->capabilities.len = 1;
    ret->capabilities.ptr = malloc(sizeof *ret->capabilities.ptr);
    if (!ret->capabilities.ptr) abort();
    ret->capabilities.ptr[0] = KITH_PLUGIN_TYPES_CAPABILITY_POST_MESSAGES;
}

// Appends n bytes to a string that starts as {0}.
static void append(string_t *s, const void *bytes, size_t n) {
    if (n == 0) return;
    uint8_t *p = realloc(s->ptr, s->len + n);
    if (!p) abort();
    memcpy(p + s->len, bytes, n);
    s->ptr = p;
    s->len += n;
}

static void append_str(string_t *s, const char *text) { append(s, text, strlen(text)); }

static bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The configured greeting, or the default. The config is JSON, already
// validated against the schema; a real plugin would use a JSON parser (this
// keeps escapes as they are written).
static void greeting(string_t *out) {
    string_t config;
    kith_plugin_config_get(&config);
    static const char key[] = "\"greeting\"";
    size_t n = config.len, k = sizeof key - 1, i = 0;
    const uint8_t *p = config.ptr;
    while (i + k <= n && memcmp(p + i, key, k) != 0) i++;
    bool found = false;
    if (i + k <= n) {
        i += k;
        while (i < n && is_space(p[i])) i++;
        if (i < n && p[i] == ':') i++;
        while (i < n && is_space(p[i])) i++;
        if (i < n && p[i] == '"') {
            size_t start = ++i;
            while (i < n && p[i] != '"') i += p[i] == '\\' ? 2 : 1;
            if (i < n) {
                append(out, p + start, i - start);
                found = true;
            }
        }
    }
    if (!found) append_str(out, "hello");
    my_world_string_free(&config);
}

// Answers "/hello" in the group.
static bool on_text(kith_plugin_types_message_t *message, string_t *err) {
    const uint8_t *t = message->text.ptr;
    size_t n = message->text.len;
    while (n && is_space(*t)) t++, n--;
    while (n && is_space(t[n - 1])) n--;
    if (n != 6 || memcmp(t, "/hello", 6) != 0) return true;

    string_t line = {0};
    append_str(&line, "greeting ");
    append(&line, message->sender.ptr, message->sender.len);
    kith_plugin_log_log(KITH_PLUGIN_LOG_LEVEL_INFO, &line);
    my_world_string_free(&line);

    string_t text = {0};
    greeting(&text);
    append_str(&text, " @");
    append(&text, message->sender.ptr, message->sender.len);
    append_str(&text, "!");
    kith_plugin_messages_outgoing_t outgoing = {
        .text = text,
        .mentions = {.ptr = &message->sender, .len = 1},
        .reply_to = {.is_some = true, .val = message->id},
    };
    string_t id;
    kith_plugin_messages_error_t e;
    bool ok = kith_plugin_messages_post(&outgoing, &id, &e);
    my_world_string_free(&text);
    if (ok) {
        my_world_string_free(&id);
        return true;
    }
    *err = (string_t){0};
    append_str(err, "post failed: ");
    append(err, e.message.ptr, e.message.len);
    kith_plugin_types_error_free(&e);
    return false;
}

// handler: on-enabled
bool exports_kith_plugin_my_iface_on_enabled(exports_kith_plugin_my_iface_context_t *ctx, string_t *err) {
    (void)err;
    exports_kith_plugin_my_iface_context_free(ctx);
    return true;
}

// handler: on-join-request
// Every applicant is admitted: put your threshold here.
bool exports_kith_plugin_my_iface_on_join_request(exports_kith_plugin_my_iface_context_t *ctx,
                                              exports_kith_plugin_my_iface_join_request_t *request,
                                              exports_kith_plugin_my_iface_decision_t *ret, string_t *err) {
    (void)err;
    string_t reason = {0};
    append_str(&reason, "welcome, ");
    append(&reason, request->display_name.ptr, request->display_name.len);
    ret->tag = KITH_PLUGIN_TYPES_DECISION_ADMIT;
    ret->val.admit = reason;
    exports_kith_plugin_my_iface_context_free(ctx);
    exports_kith_plugin_my_iface_join_request_free(request);
    return true;
}

// handler: on-challenge-answer
bool exports_kith_plugin_my_iface_on_challenge_answer(exports_kith_plugin_my_iface_context_t *ctx,
                                                  exports_kith_plugin_my_iface_join_request_t *request,
                                                  string_t *answer, exports_kith_plugin_my_iface_decision_t *ret,
                                                  string_t *err) {
    (void)err;
    ret->tag = KITH_PLUGIN_TYPES_DECISION_REJECT;
    my_world_string_dup(&ret->val.reject, "this gate asks no questions");
    exports_kith_plugin_my_iface_context_free(ctx);
    exports_kith_plugin_my_iface_join_request_free(request);
    my_world_string_free(answer);
    return true;
}

// handler: on-member-joined
bool exports_kith_plugin_my_iface_on_member_joined(exports_kith_plugin_my_iface_context_t *ctx,
                                               exports_kith_plugin_my_iface_member_t *member, string_t *err) {
    (void)err;
    exports_kith_plugin_my_iface_context_free(ctx);
    exports_kith_plugin_my_iface_member_free(member);
    return true;
}

// handler: on-member-left
bool exports_kith_plugin_my_iface_on_member_left(exports_kith_plugin_my_iface_context_t *ctx,
                                             exports_kith_plugin_my_iface_member_t *member, string_t *err) {
    (void)err;
    exports_kith_plugin_my_iface_context_free(ctx);
    exports_kith_plugin_my_iface_member_free(member);
    return true;
}

// handler: on-message
bool exports_kith_plugin_my_iface_on_message(exports_kith_plugin_my_iface_context_t *ctx,
                                         exports_kith_plugin_my_iface_message_t *message, string_t *err) {
    bool ok = on_text(message, err);
    exports_kith_plugin_my_iface_context_free(ctx);
    exports_kith_plugin_my_iface_message_free(message);
    return ok;
}

// handler: on-reaction
bool exports_kith_plugin_my_iface_on_reaction(exports_kith_plugin_my_iface_context_t *ctx,
                                          exports_kith_plugin_my_iface_reaction_t *reaction, string_t *err) {
    (void)err;
    exports_kith_plugin_my_iface_context_free(ctx);
    exports_kith_plugin_my_iface_reaction_free(reaction);
    return true;
}

// handler: on-payment
bool exports_kith_plugin_my_iface_on_payment(exports_kith_plugin_my_iface_context_t *ctx,
                                         exports_kith_plugin_my_iface_payment_t *payment, string_t *err) {
    (void)err;
    exports_kith_plugin_my_iface_context_free(ctx);
    exports_kith_plugin_my_iface_payment_free(payment);
    return true;
}

// handler: on-timer
bool exports_kith_plugin_my_iface_on_timer(exports_kith_plugin_my_iface_context_t *ctx,
                                       exports_kith_plugin_my_iface_timer_fired_t *timer, string_t *err) {
    (void)err;
    exports_kith_plugin_my_iface_context_free(ctx);
    exports_kith_plugin_my_iface_timer_fired_free(timer);
    return true;
}
// end of handlers
