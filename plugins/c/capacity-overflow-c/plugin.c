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
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"additionalProperties\":false,"
    "\"properties\":{\"language\":{\"default\":\"zh-CN\",\"description\":\"Language of the messages the plugin sends: zh-CN (Simplified Chinese) or en (English).\","
    "\"enum\":[\"zh-CN\",\"en\"],\"type\":\"string\"},\"max_members\":{\"default\":null,\"description\":\"Active members at which the group counts as full; null uses the group's own capacity.\","
    "\"maximum\":100000,\"minimum\":1,\"type\":[\"integer\",\"null\"]},\"redirect\":{\"default\":true,"
    "\"description\":\"Send newcomers to the sibling group (same alliance) with the fewest members instead of refusing them.\","
    "\"type\":\"boolean\"},\"texts\":{\"additionalProperties\":false,\"default\":{},\"description\":\"Replaces messages: key -> template. A template names values in braces,"
    " e.g. {member}; each key lists its placeholders. The default of each key is its zh-CN text,"
    " the description its English one.\",\"properties\":{\"admitted\":{\"default\":\"群内还有名额（{"
    "active}/{limit} 人）\",\"description\":\"English: \\\"room in the group ({active} of {limit} members)\\\" (placeholders {"
    "active}, {limit}).\",\"type\":\"string\"},\"full\":{\"default\":\"本群已满（{limit} 人）\","
    "\"description\":\"English: \\\"group is full ({limit} members)\\\" (placeholders {limit}).\","
    "\"type\":\"string\"},\"redirected\":{\"default\":\"本群已满（{limit} 人），已为你转到{"
    "group}\",\"description\":\"English: \\\"group is full ({limit} members); sent to {group}\\\" (placeholders {"
    "limit}, {group}).\",\"type\":\"string\"}},\"type\":\"object\"}},\"type\":\"object\"}";

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

// ---- texts: zh-CN by default, en by config, each overridable ----------------

// Everything the gate says: the same keys and templates as TEXTS in the
// Rust plugin.
enum { TEXT_ADMITTED, TEXT_FULL, TEXT_REDIRECTED, TEXT_COUNT };
static const struct {
    const char *key, *zh, *en;
} TEXTS[TEXT_COUNT] = {
    {"admitted", "群内还有名额（{active}/{limit} 人）", "room in the group ({active} of {limit} members)"},
    {"full", "本群已满（{limit} 人）", "group is full ({limit} members)"},
    {"redirected", "本群已满（{limit} 人），已为你转到{group}", "group is full ({limit} members); sent to {group}"},
};

// ---- config: {"max_members": null | 1.., "redirect": bool,
//              "language": "zh-CN" | "en", "texts": {key: template}} ---------

typedef struct {
    bool has_max;
    uint32_t max_members;
    bool redirect;
    bool english;
    // The operator's templates (NUL-terminated, malloc'd), NULL: built-in.
    char *texts[TEXT_COUNT];
} config_t;

static void config_free(config_t *cfg) {
    for (int i = 0; i < TEXT_COUNT; i++) {
        free(cfg->texts[i]);
        cfg->texts[i] = NULL;
    }
}

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

static void put_utf8(buf_t *b, uint32_t c) {
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c, n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | c >> 6), u[1] = (char)(0x80 | (c & 0x3F)), n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | c >> 12), u[1] = (char)(0x80 | (c >> 6 & 0x3F)), u[2] = (char)(0x80 | (c & 0x3F)), n = 3;
    } else {
        u[0] = (char)(0xF0 | c >> 18), u[1] = (char)(0x80 | (c >> 12 & 0x3F)), u[2] = (char)(0x80 | (c >> 6 & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F)), n = 4;
    }
    buf_add_n(b, u, n);
}

static bool hex4(json_t *j, uint32_t *out) {
    uint32_t v = 0;
    if (j->end - j->p < 4) return false;
    for (int i = 0; i < 4; i++) {
        char c = *j->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return false;
    }
    *out = v;
    return true;
}

// A JSON string, every escape decoded (templates may hold any text), into a
// fresh NUL-terminated buffer.
static bool json_text(json_t *j, buf_t *out) {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    buf_add_n(out, "", 0);
    if (j->p >= j->end || *j->p != '"') return false;
    j->p++;
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if ((unsigned char)c < 0x20) return false;
        if (c != '\\') {
            buf_add_n(out, &c, 1);
            continue;
        }
        if (j->p >= j->end) return false;
        c = *j->p++;
        const char *e = c ? strchr(from, c) : NULL;
        uint32_t u, low;
        if (e) {
            buf_add_n(out, &to[e - from], 1);
        } else if (c == 'u' && hex4(j, &u)) {
            // A surrogate pair is one character; a lone surrogate is refused.
            if (u >= 0xD800 && u < 0xDC00) {
                if (!lit(j, "\\u") || !hex4(j, &low) || low < 0xDC00 || low > 0xDFFF) return false;
                u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
            } else if (u >= 0xDC00 && u < 0xE000) {
                return false;
            }
            put_utf8(out, u);
        } else {
            return false;
        }
    }
    if (j->p >= j->end) return false;
    j->p++;
    return true;
}

// {"key": "template", ...}: only the keys of TEXTS.
static const char *parse_texts(json_t *j, config_t *cfg) {
    char key[32];
    skip_ws(j);
    if (!lit(j, "{")) return "invalid plugin config: texts must be an object";
    skip_ws(j);
    if (lit(j, "}")) return NULL;
    for (;;) {
        skip_ws(j);
        if (!json_string(j, key, sizeof key)) return "invalid plugin config: expected a message key";
        skip_ws(j);
        if (!lit(j, ":")) return "invalid plugin config: expected `:`";
        skip_ws(j);
        int id = -1;
        for (int i = 0; i < TEXT_COUNT; i++) {
            if (strcmp(key, TEXTS[i].key) == 0) id = i;
        }
        buf_t t = {0};
        if (!json_text(j, &t)) {
            free(t.ptr);
            return "invalid plugin config: texts values must be strings";
        }
        if (id < 0) {
            free(t.ptr);
            return "config: texts has no such message";
        }
        free(cfg->texts[id]);
        cfg->texts[id] = t.ptr;
        skip_ws(j);
        if (lit(j, "}")) return NULL;
        if (!lit(j, ",")) return "invalid plugin config: expected `,` or `}`";
    }
}

// Fills `cfg` (release it with config_free whatever the outcome); NULL or
// what is wrong with the config.
static const char *parse_config(const char *s, size_t len, config_t *cfg) {
    cfg->has_max = false;
    cfg->max_members = 0;
    cfg->redirect = true;
    cfg->english = false;
    for (int i = 0; i < TEXT_COUNT; i++) cfg->texts[i] = NULL;
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
        } else if (strcmp(key, "language") == 0) {
            if (lit(&j, "\"zh-CN\"")) {
                cfg->english = false;
            } else if (lit(&j, "\"en\"")) {
                cfg->english = true;
            } else {
                return "invalid plugin config: language must be \"zh-CN\" or \"en\"";
            }
        } else if (strcmp(key, "texts") == 0) {
            const char *problem = parse_texts(&j, cfg);
            if (problem) return problem;
        } else {
            return "invalid plugin config: unknown field, expected `max_members`, `redirect`, `language` or `texts`";
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

// The template of text `id`: the operator's, else the configured language's.
static const char *template_of(const config_t *cfg, int id) {
    if (cfg->texts[id]) return cfg->texts[id];
    return cfg->english ? TEXTS[id].en : TEXTS[id].zh;
}

// kith_plugin_util::text::fill: each {name} that `names` lists is replaced by
// the matching value; other braces stay as they are.
static void fill(buf_t *out, const char *tpl, int n, const char *const names[], const buf_t values[]) {
    const char *rest = tpl;
    for (const char *open; (open = strchr(rest, '{'));) {
        buf_add_n(out, rest, (size_t)(open - rest));
        const char *after = open + 1, *close = strchr(after, '}');
        int found = -1;
        for (int i = 0; close && i < n; i++) {
            if (strlen(names[i]) == (size_t)(close - after) && memcmp(names[i], after, (size_t)(close - after)) == 0) found = i;
        }
        if (found >= 0) {
            buf_add_n(out, values[found].ptr ? values[found].ptr : "", values[found].len);
            rest = close + 1;
        } else {
            buf_add_n(out, "{", 1);
            rest = after;
        }
    }
    buf_add(out, rest);
}

static buf_t num(uint64_t v) {
    buf_t b = {0};
    buf_add_u64(&b, v);
    return b;
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

static void decide(const config_t *cfg, uint32_t active, uint32_t limit, exports_kith_plugin_gate_decision_t *ret) {
    static const char *const names[] = {"active", "limit", "group"};
    buf_t values[3] = {num(active), num(limit), {0}};
    buf_t reason = {0};
    if (active < limit) {
        fill(&reason, template_of(cfg, TEXT_ADMITTED), 3, names, values);
        ret->tag = KITH_PLUGIN_TYPES_DECISION_ADMIT;
        buf_into(&reason, &ret->val.admit);
        goto out;
    }
    if (cfg->redirect) {
        // Siblings are only worth a host call when they can matter.
        kith_plugin_groups_list_group_t siblings;
        kith_plugin_groups_siblings(&siblings);
        const kith_plugin_types_group_t *s = pick_sibling(&siblings);
        if (s) {
            buf_add_n(&values[2], (const char *)s->name.ptr, s->name.len);
            fill(&reason, template_of(cfg, TEXT_REDIRECTED), 3, names, values);
            ret->tag = KITH_PLUGIN_TYPES_DECISION_REDIRECT;
            entry_gate_string_dup_n(&ret->val.redirect.group, (const char *)s->id.ptr, s->id.len);
            buf_into(&reason, &ret->val.redirect.reason);
            kith_plugin_groups_list_group_free(&siblings);
            goto out;
        }
        kith_plugin_groups_list_group_free(&siblings);
    }
    fill(&reason, template_of(cfg, TEXT_FULL), 3, names, values);
    ret->tag = KITH_PLUGIN_TYPES_DECISION_REJECT;
    buf_into(&reason, &ret->val.reject);
out:
    for (int i = 0; i < 3; i++) free(values[i].ptr);
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
        config_free(&cfg);
        entry_gate_string_dup(err, problem);
        return false;
    }

    kith_plugin_types_group_t group;
    kith_plugin_groups_current(&group);
    uint32_t limit = cfg.has_max ? cfg.max_members : group.capacity;
    kith_plugin_types_group_free(&group);

    kith_plugin_types_group_counts_t counts;
    kith_plugin_groups_counts(&counts);
    decide(&cfg, counts.active, limit, ret);
    config_free(&cfg);
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
