// `capacity-overflow-c`: keeps a group under its size limit and sends
// newcomers to the emptiest sibling group of the alliance when it is full.
// A C port of plugins/rust/capacity-overflow: the same rules, config schema,
// defaults and texts. Uses no stdio (nothing from WASI is imported), only
// malloc/free and string functions of wasi-libc.

#include "entry_gate.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// The same text serde_json gives for the Rust plugin's schema (keys sorted).
static const char CONFIG_SCHEMA[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"additionalProperties\":false,"
    "\"properties\":{"
    "\"max_members\":{\"default\":null,"
    "\"description\":\"Active members at which the group counts as full; null uses the group's own capacity.\","
    "\"maximum\":100000,\"minimum\":1,\"type\":[\"integer\",\"null\"]},"
    "\"redirect\":{\"default\":true,"
    "\"description\":\"Send newcomers to the sibling group (same alliance) with the fewest members instead of refusing them.\","
    "\"type\":\"boolean\"}},"
    "\"type\":\"object\"}";

// ---- a growable string, for messages -------------------------------------

typedef struct {
    char *ptr;
    size_t len, cap;
} buf_t;

static void buf_add_n(buf_t *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->ptr, cap);
        if (!p) abort();
        b->ptr = p;
        b->cap = cap;
    }
    memcpy(b->ptr + b->len, s, n);
    b->len += n;
    b->ptr[b->len] = 0;
}

static void buf_add(buf_t *b, const char *s) { buf_add_n(b, s, strlen(s)); }

static void buf_add_u64(buf_t *b, uint64_t v) {
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_add_n(b, digits + i, sizeof digits - i);
}

// Hands the buffer over as a WIT string (freed by the generated post-return).
static void buf_into(buf_t *b, entry_gate_string_t *out) {
    out->ptr = (uint8_t *)b->ptr;
    out->len = b->len;
    if (!b->ptr) entry_gate_string_dup(out, "");
}

// ---- config: {"max_members": null | 1.., "redirect": bool} -----------------

typedef struct {
    bool has_max;
    uint32_t max_members;
    bool redirect;
} config_t;

typedef struct {
    const char *p, *end;
} json_t;

// Rust's `char::is_whitespace` for the ASCII range (config is JSON: only
// JSON whitespace can appear between tokens, others fail to parse anyway).
static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static void skip_ws(json_t *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static bool lit(json_t *j, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0) return false;
    j->p += n;
    return true;
}

// A JSON string into `out` (NUL-terminated, at most cap-1 bytes; longer
// keys are unknown anyway). Escapes other than \" \\ \/ are kept verbatim:
// they only matter in field names, which are plain ASCII.
static bool json_string(json_t *j, char *out, size_t cap) {
    size_t n = 0;
    if (j->p >= j->end || *j->p != '"') return false;
    j->p++;
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if ((unsigned char)c < 0x20) return false;
        if (c == '\\') {
            if (j->p >= j->end) return false;
            c = *j->p++;
            if (c != '"' && c != '\\' && c != '/') {
                if (n + 1 < cap) out[n++] = '\\';
            }
        }
        if (n + 1 < cap) out[n++] = c;
    }
    if (j->p >= j->end) return false;
    j->p++;
    out[n] = 0;
    return true;
}

// An unsigned JSON integer that fits u32 (serde refuses fractions,
// exponents, negatives and overflow for a u32 field).
static bool json_u32(json_t *j, uint32_t *out) {
    uint64_t v = 0;
    const char *start = j->p;
    if (j->p < j->end && *j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9') return false;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        v = v * 10 + (uint64_t)(*j->p++ - '0');
        if (v > UINT32_MAX) return false;
    }
    if (j->p == start) return false;
    if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E')) return false;
    *out = (uint32_t)v;
    return true;
}

static const char *parse_config(const char *s, size_t len, config_t *cfg) {
    cfg->has_max = false;
    cfg->max_members = 0;
    cfg->redirect = true;
    // Rust trims before comparing with "" and "null": all defaults.
    while (len && is_ws(*s)) s++, len--;
    while (len && is_ws(s[len - 1])) len--;
    if (len == 0 || (len == 4 && memcmp(s, "null", 4) == 0)) return NULL;

    json_t j = {s, s + len};
    bool seen_max = false, seen_redirect = false;
    char key[32];
    skip_ws(&j);
    if (!lit(&j, "{")) return "invalid plugin config: expected a JSON object";
    skip_ws(&j);
    if (lit(&j, "}")) goto done;
    for (;;) {
        skip_ws(&j);
        if (!json_string(&j, key, sizeof key)) return "invalid plugin config: expected a field name";
        skip_ws(&j);
        if (!lit(&j, ":")) return "invalid plugin config: expected `:`";
        skip_ws(&j);
        if (strcmp(key, "max_members") == 0) {
            if (seen_max) return "invalid plugin config: duplicate field `max_members`";
            seen_max = true;
            if (lit(&j, "null")) {
                cfg->has_max = false;
            } else if (json_u32(&j, &cfg->max_members)) {
                cfg->has_max = true;
            } else {
                return "invalid plugin config: max_members must be null or an integer in u32";
            }
        } else if (strcmp(key, "redirect") == 0) {
            if (seen_redirect) return "invalid plugin config: duplicate field `redirect`";
            seen_redirect = true;
            if (lit(&j, "true")) {
                cfg->redirect = true;
            } else if (lit(&j, "false")) {
                cfg->redirect = false;
            } else {
                return "invalid plugin config: redirect must be a boolean";
            }
        } else {
            return "invalid plugin config: unknown field, expected `max_members` or `redirect`";
        }
        skip_ws(&j);
        if (lit(&j, "}")) break;
        if (!lit(&j, ",")) return "invalid plugin config: expected `,` or `}`";
    }
done:
    skip_ws(&j);
    if (j.p != j.end) return "invalid plugin config: trailing characters";
    // validate(): the schema forbids 0 too, checked again here.
    if (cfg->has_max && cfg->max_members == 0) return "config: max_members must be at least 1";
    return NULL;
}

// ---- the rules (logic.rs) ------------------------------------------------

// Rust's `String` order: bytes, then length.
static int cmp_str(const entry_gate_string_t *a, const entry_gate_string_t *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->ptr, b->ptr, n) : 0;
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

// The sibling with room and the fewest members; the lowest id breaks ties
// so that the same state always sends newcomers to the same place.
static const kith_plugin_types_group_t *pick_sibling(const kith_plugin_groups_list_group_t *s) {
    const kith_plugin_types_group_t *best = NULL;
    for (size_t i = 0; i < s->len; i++) {
        const kith_plugin_types_group_t *g = &s->ptr[i];
        if (g->member_count >= g->capacity) continue;
        if (!best || g->member_count < best->member_count ||
            (g->member_count == best->member_count && cmp_str(&g->id, &best->id) < 0)) {
            best = g;
        }
    }
    return best;
}

static void decide(uint32_t active, uint32_t limit, bool redirect, exports_kith_plugin_gate_decision_t *ret) {
    buf_t reason = {0};
    if (active < limit) {
        buf_add(&reason, "room in the group (");
        buf_add_u64(&reason, active);
        buf_add(&reason, " of ");
        buf_add_u64(&reason, limit);
        buf_add(&reason, " members)");
        ret->tag = KITH_PLUGIN_TYPES_DECISION_ADMIT;
        buf_into(&reason, &ret->val.admit);
        return;
    }
    buf_add(&reason, "group is full (");
    buf_add_u64(&reason, limit);
    buf_add(&reason, " members)");
    if (redirect) {
        // Siblings are only worth a host call when they can matter.
        kith_plugin_groups_list_group_t siblings;
        kith_plugin_groups_siblings(&siblings);
        const kith_plugin_types_group_t *s = pick_sibling(&siblings);
        if (s) {
            buf_add(&reason, "; sent to ");
            buf_add_n(&reason, (const char *)s->name.ptr, s->name.len);
            ret->tag = KITH_PLUGIN_TYPES_DECISION_REDIRECT;
            entry_gate_string_dup_n(&ret->val.redirect.group, (const char *)s->id.ptr, s->id.len);
            buf_into(&reason, &ret->val.redirect.reason);
            kith_plugin_groups_list_group_free(&siblings);
            return;
        }
        kith_plugin_groups_list_group_free(&siblings);
    }
    ret->tag = KITH_PLUGIN_TYPES_DECISION_REJECT;
    buf_into(&reason, &ret->val.reject);
}

// ---- exports ----------------------------------------------------------------

void exports_entry_gate_metadata(entry_gate_plugin_metadata_t *ret) {
    entry_gate_string_dup(&ret->name, "capacity-overflow-c");
    entry_gate_string_dup(&ret->version, "0.1.0");
    ret->kind = KITH_PLUGIN_TYPES_PLUGIN_KIND_ENTRY_GATE;
    entry_gate_string_dup(&ret->description,
                          "Refuses newcomers when the group is full, or redirects them to the "
                          "sibling group with the fewest members.");
    entry_gate_string_dup(&ret->config_schema, CONFIG_SCHEMA);
    // Group reads need no capability: this gate only decides.
    ret->capabilities.ptr = NULL;
    ret->capabilities.len = 0;
}

bool exports_kith_plugin_gate_on_enabled(exports_kith_plugin_gate_context_t *ctx, entry_gate_string_t *err) {
    (void)err;
    exports_kith_plugin_gate_context_free(ctx);
    return true;
}

bool exports_kith_plugin_gate_on_join_request(exports_kith_plugin_gate_context_t *ctx,
                                              exports_kith_plugin_gate_join_request_t *request,
                                              exports_kith_plugin_gate_decision_t *ret,
                                              entry_gate_string_t *err) {
    exports_kith_plugin_gate_context_free(ctx);
    exports_kith_plugin_gate_join_request_free(request);

    entry_gate_string_t raw;
    kith_plugin_config_get(&raw);
    config_t cfg;
    const char *problem = parse_config((const char *)raw.ptr, raw.len, &cfg);
    entry_gate_string_free(&raw);
    if (problem) {
        entry_gate_string_dup(err, problem);
        return false;
    }

    kith_plugin_types_group_t group;
    kith_plugin_groups_current(&group);
    uint32_t limit = cfg.has_max ? cfg.max_members : group.capacity;
    kith_plugin_types_group_free(&group);

    kith_plugin_types_group_counts_t counts;
    kith_plugin_groups_counts(&counts);
    decide(counts.active, limit, cfg.redirect, ret);
    return true;
}

bool exports_kith_plugin_gate_on_challenge_answer(exports_kith_plugin_gate_context_t *ctx,
                                                  exports_kith_plugin_gate_join_request_t *request,
                                                  entry_gate_string_t *answer,
                                                  exports_kith_plugin_gate_decision_t *ret,
                                                  entry_gate_string_t *err) {
    (void)err;
    exports_kith_plugin_gate_context_free(ctx);
    exports_kith_plugin_gate_join_request_free(request);
    entry_gate_string_free(answer);
    ret->tag = KITH_PLUGIN_TYPES_DECISION_REJECT;
    entry_gate_string_dup(&ret->val.reject, "this gate asks no questions");
    return true;
}

bool exports_kith_plugin_gate_on_message(exports_kith_plugin_gate_context_t *ctx,
                                         exports_kith_plugin_gate_message_t *message,
                                         entry_gate_string_t *err) {
    (void)err;
    exports_kith_plugin_gate_context_free(ctx);
    exports_kith_plugin_gate_message_free(message);
    return true;
}

bool exports_kith_plugin_gate_on_payment(exports_kith_plugin_gate_context_t *ctx,
                                         exports_kith_plugin_gate_payment_t *payment,
                                         entry_gate_string_t *err) {
    (void)err;
    exports_kith_plugin_gate_context_free(ctx);
    exports_kith_plugin_gate_payment_free(payment);
    return true;
}

bool exports_kith_plugin_gate_on_timer(exports_kith_plugin_gate_context_t *ctx,
                                       exports_kith_plugin_gate_timer_fired_t *timer,
                                       entry_gate_string_t *err) {
    (void)err;
    exports_kith_plugin_gate_context_free(ctx);
    exports_kith_plugin_gate_timer_fired_free(timer);
    return true;
}
