//! my-plugin: a kith plugin of the `my-world` world, in Zig.
//!
//! Handlers get a context (group, event id, `now`, a `seed`): use `now` and
//! `seed` instead of a clock or randomness, so that the same events always give
//! the same effects. Host calls are buffered and applied only if the handler
//! returns true; returning false with a reason in `err` refuses the event.
//!
//! The contract is the C API that `wit-bindgen c` generates from `wit/`
//! (`target/bindings/my_world.h`, translated to Zig by build.sh and imported
//! here as `c`). Ownership, as wit-bindgen c has it: a handler owns its
//! arguments (free them) and hands over what it puts in `ret` and `err`
//! (allocated with libc `malloc`: the generated code `free`s them); host
//! calls only borrow their arguments.
//! No stdio: the module must import nothing from WASI (build.sh checks).

const std = @import("std");
const c = @import("bindings");

/// A panic (`@panic`, or a failed safety check in a safe build) traps: the
/// host records the trap and discards the event's effects. Zig's default
/// handler writes to stderr, which needs WASI (build.sh would refuse it).
pub const panic = std.debug.no_panic;

const String = c.my_world_string_t;

/// JSON Schema of the config operators give when enabling it.
const config_schema =
    \\{"type":"object","additionalProperties":false,"properties":{"greeting":{"type":"string","default":"hello","description":"What to answer to /hello."}}}
;

export fn exports_my_world_metadata(ret: *c.my_world_plugin_metadata_t) void {
    ret.name = dup("my-plugin");
    ret.version = dup("0.1.0");
    ret.kind = c.KITH_PLUGIN_TYPES_PLUGIN_KIND_MY_KIND;
    ret.description = dup("Describe what my-plugin does for a group.");
    ret.config_schema = dup(config_schema);
    const caps: [*]c.kith_plugin_types_capability_t = @ptrCast(@alignCast(alloc(null, @sizeOf(c.kith_plugin_types_capability_t))));
    caps[0] = c.KITH_PLUGIN_TYPES_CAPABILITY_POST_MESSAGES;
    ret.capabilities = .{ .ptr = caps, .len = 1 };
}

// ---- strings: malloc'd bytes, as the generated code frees them ------------

/// `realloc`, aborting when memory runs out (there is no one to tell).
fn alloc(old: ?*anyopaque, n: usize) *anyopaque {
    return std.c.realloc(old, n) orelse std.c.abort();
}

/// The bytes of a string (borrowed).
fn bytes(s: String) []const u8 {
    return if (s.len == 0) "" else s.ptr[0..s.len];
}

/// A new string with a copy of `text`.
fn dup(text: []const u8) String {
    var s: String = .{};
    append(&s, text);
    return s;
}

/// Appends `text` to `s`, a string that starts as `.{}`.
fn append(s: *String, text: []const u8) void {
    if (text.len == 0) return;
    const p: [*]u8 = @ptrCast(alloc(s.ptr, s.len + text.len));
    @memcpy(p[s.len..][0..text.len], text);
    s.ptr = p;
    s.len += text.len;
}

fn free(s: *String) void {
    c.my_world_string_free(s);
}

const spaces = " \t\r\n";

/// The configured greeting, or the default. The config is JSON, already
/// validated against the schema; a real plugin would use std.json (this keeps
/// escapes as they are written).
fn greeting(out: *String) void {
    var config: String = .{};
    c.kith_plugin_config_get(&config);
    defer free(&config);
    const json = bytes(config);
    const key = "\"greeting\"";
    if (std.mem.find(u8, json, key)) |at| {
        const rest = std.mem.trimStart(u8, json[at + key.len ..], spaces);
        if (rest.len > 0 and rest[0] == ':') {
            const value = std.mem.trimStart(u8, rest[1..], spaces);
            if (value.len > 0 and value[0] == '"') {
                var i: usize = 1;
                while (i < value.len and value[i] != '"') i += if (value[i] == '\\') 2 else 1;
                if (i < value.len) return append(out, value[1..i]);
            }
        }
    }
    append(out, "hello");
}

/// Answers "/hello" in the group.
fn onText(message: *c.kith_plugin_types_message_t, err: *String) bool {
    if (!std.mem.eql(u8, std.mem.trim(u8, bytes(message.text), spaces), "/hello")) return true;

    var line = dup("greeting ");
    append(&line, bytes(message.sender));
    c.kith_plugin_log_log(c.KITH_PLUGIN_LOG_LEVEL_INFO, &line);
    free(&line);

    var text: String = .{};
    greeting(&text);
    append(&text, " @");
    append(&text, bytes(message.sender));
    append(&text, "!");
    defer free(&text);
    var outgoing: c.kith_plugin_messages_outgoing_t = .{
        .text = text,
        .mentions = .{ .ptr = &message.sender, .len = 1 },
        .reply_to = .{ .is_some = true, .val = message.id },
    };
    var id: String = .{};
    var e: c.kith_plugin_messages_error_t = .{};
    if (c.kith_plugin_messages_post(&outgoing, &id, &e)) {
        free(&id);
        return true;
    }
    err.* = dup("post failed: ");
    append(err, bytes(e.message));
    c.kith_plugin_types_error_free(&e);
    return false;
}

// handler: on-enabled
export fn exports_kith_plugin_my_iface_on_enabled(ctx: *c.exports_kith_plugin_my_iface_context_t, err: *String) bool {
    _ = err;
    c.exports_kith_plugin_my_iface_context_free(ctx);
    return true;
}

// handler: on-join-request
// Every applicant is admitted: put your threshold here.
export fn exports_kith_plugin_my_iface_on_join_request(
    ctx: *c.exports_kith_plugin_my_iface_context_t,
    request: *c.exports_kith_plugin_my_iface_join_request_t,
    ret: *c.exports_kith_plugin_my_iface_decision_t,
    err: *String,
) bool {
    _ = err;
    var reason = dup("welcome, ");
    append(&reason, bytes(request.display_name));
    ret.tag = c.KITH_PLUGIN_TYPES_DECISION_ADMIT;
    ret.val = .{ .admit = reason };
    c.exports_kith_plugin_my_iface_context_free(ctx);
    c.exports_kith_plugin_my_iface_join_request_free(request);
    return true;
}

// handler: on-challenge-answer
export fn exports_kith_plugin_my_iface_on_challenge_answer(
    ctx: *c.exports_kith_plugin_my_iface_context_t,
    request: *c.exports_kith_plugin_my_iface_join_request_t,
    answer: *String,
    ret: *c.exports_kith_plugin_my_iface_decision_t,
    err: *String,
) bool {
    _ = err;
    ret.tag = c.KITH_PLUGIN_TYPES_DECISION_REJECT;
    ret.val = .{ .reject = dup("this gate asks no questions") };
    c.exports_kith_plugin_my_iface_context_free(ctx);
    c.exports_kith_plugin_my_iface_join_request_free(request);
    free(answer);
    return true;
}

// handler: on-member-joined
export fn exports_kith_plugin_my_iface_on_member_joined(
    ctx: *c.exports_kith_plugin_my_iface_context_t,
    member: *c.exports_kith_plugin_my_iface_member_t,
    err: *String,
) bool {
    _ = err;
    c.exports_kith_plugin_my_iface_context_free(ctx);
    c.exports_kith_plugin_my_iface_member_free(member);
    return true;
}

// handler: on-member-left
export fn exports_kith_plugin_my_iface_on_member_left(
    ctx: *c.exports_kith_plugin_my_iface_context_t,
    member: *c.exports_kith_plugin_my_iface_member_t,
    err: *String,
) bool {
    _ = err;
    c.exports_kith_plugin_my_iface_context_free(ctx);
    c.exports_kith_plugin_my_iface_member_free(member);
    return true;
}

// handler: on-message
export fn exports_kith_plugin_my_iface_on_message(
    ctx: *c.exports_kith_plugin_my_iface_context_t,
    message: *c.exports_kith_plugin_my_iface_message_t,
    err: *String,
) bool {
    const ok = onText(message, err);
    c.exports_kith_plugin_my_iface_context_free(ctx);
    c.exports_kith_plugin_my_iface_message_free(message);
    return ok;
}

// handler: on-reaction
export fn exports_kith_plugin_my_iface_on_reaction(
    ctx: *c.exports_kith_plugin_my_iface_context_t,
    reaction: *c.exports_kith_plugin_my_iface_reaction_t,
    err: *String,
) bool {
    _ = err;
    c.exports_kith_plugin_my_iface_context_free(ctx);
    c.exports_kith_plugin_my_iface_reaction_free(reaction);
    return true;
}

// handler: on-payment
export fn exports_kith_plugin_my_iface_on_payment(
    ctx: *c.exports_kith_plugin_my_iface_context_t,
    payment: *c.exports_kith_plugin_my_iface_payment_t,
    err: *String,
) bool {
    _ = err;
    c.exports_kith_plugin_my_iface_context_free(ctx);
    c.exports_kith_plugin_my_iface_payment_free(payment);
    return true;
}

// handler: on-timer
export fn exports_kith_plugin_my_iface_on_timer(
    ctx: *c.exports_kith_plugin_my_iface_context_t,
    timer: *c.exports_kith_plugin_my_iface_timer_fired_t,
    err: *String,
) bool {
    _ = err;
    c.exports_kith_plugin_my_iface_context_free(ctx);
    c.exports_kith_plugin_my_iface_timer_fired_free(timer);
    return true;
}
// end of handlers
