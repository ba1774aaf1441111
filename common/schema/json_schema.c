/*
 * json_schema — compile a draft-07 schema into a node tree once, then validate against it.
 *
 * Compilation: the documents are first walked to register every `$id` (and anchor) by its
 * absolute URI and to collect every `$ref` target; then the root is compiled node by node through
 * the keyword table below (keyword → compile handler). Each JSON subschema is compiled once
 * (a cache keyed by the jansson value), which is what makes recursive `$ref`s terminate. Every
 * node belongs to the schema's node list, so freeing the schema frees everything, including a
 * half-built schema after an error. `enum`, `const` and property names are borrowed from the
 * documents, which the schema holds a reference to.
 *
 * Validation walks the nodes. The instance path is a chain of stack frames (`struct seg`), turned
 * into a JSON pointer only when an error is reported, so a valid event costs no formatting.
 */
#include "schema/json_schema.h"

#include "base/rfc3339.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nested subschema applications (e.g. through `$ref`s) before validation gives up. */
#define MAX_DEPTH 256
/* Longest schema location kept for compile errors. */
#define SPATH_MAX 512

enum {
    T_NULL = 1,
    T_BOOLEAN = 2,
    T_OBJECT = 4,
    T_ARRAY = 8,
    T_NUMBER = 16,
    T_STRING = 32,
    T_INTEGER = 64,
};

static const struct {
    const char *name;
    unsigned bit;
} type_names[] = {
    {"null", T_NULL},     {"boolean", T_BOOLEAN}, {"object", T_OBJECT},   {"array", T_ARRAY},
    {"number", T_NUMBER}, {"string", T_STRING},   {"integer", T_INTEGER},
};

typedef struct node node;

struct list {
    node **v;
    size_t n;
};

struct prop {
    const char *name; /* borrowed from the document */
    size_t len;
    node *schema;
};

struct pprop {
    pcre2_code *re; /* owned */
    node *schema;
};

typedef int (*format_fn)(const char *s, size_t len);

struct node {
    int boolean;         /* 1: true schema, 0: false schema, -1: object schema */
    node *ref;           /* `$ref`: when set, the only check (siblings are ignored in draft-07) */
    unsigned types;      /* 0: any */
    const json_t *enums; /* borrowed */
    const json_t *konst; /* borrowed; `const` */
    const json_t *required;
    struct prop *props; /* sorted by name */
    size_t n_props;
    struct pprop *pprops;
    size_t n_pprops;
    node *additional_props;
    node *property_names;
    node *items;
    struct list tuple;
    int has_tuple;
    node *additional_items;
    json_int_t min_items, max_items, min_length, max_length; /* -1: none */
    int unique_items;
    const char *pattern_src;
    pcre2_code *pattern; /* owned */
    const json_t *minimum, *maximum, *excl_min, *excl_max;
    struct list all_of, any_of, one_of;
    format_fn format;
    const char *format_name;
};

struct cadence_json_schema {
    json_t **docs; /* own references */
    size_t n_docs;
    node **nodes; /* owned, every node of the schema */
    size_t n_nodes, cap_nodes;
    node *root;
};

/* ---------------------------------------------------------------- small helpers */

static int grow(void *vec, size_t *cap, size_t n, size_t elem)
{
    void **v = vec;
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*v, ncap * elem);
    if (!p)
        return -1;
    *v = p;
    *cap = ncap;
    return 0;
}

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void set_err(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t n, const char *fmt, ...)
{
    if (!err || n == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

/* Cuts a UTF-8 sequence that truncation left incomplete at the end of `s`. */
static void utf8_trim(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < need)
        s[i - 1] = '\0';
}

/* Appends `key` to the JSON pointer `base`, escaping `~` and `/`. Truncates silently. */
static void pointer_join(char *out, size_t size, const char *base, const char *key, size_t klen)
{
    size_t o = (size_t)snprintf(out, size, "%s/", base);
    for (size_t i = 0; i < klen && o + 3 < size; i++) {
        if (key[i] == '~' || key[i] == '/') {
            out[o++] = '~';
            out[o++] = key[i] == '~' ? '0' : '1';
        } else {
            out[o++] = key[i];
        }
    }
    if (o < size)
        out[o] = '\0';
    utf8_trim(out);
}

/* Formats a number the way JSON writes it (integers exactly, reals shortest round-trip). */
static void number_text(const json_t *v, char *out, size_t size)
{
    if (json_is_integer(v)) {
        snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    }
    double d = json_real_value(v);
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

/* Compares an integer with a double exactly (converting the integer to a double would round
 * 2^63 - 1 up to 2^63 and let 9.2233720368547758e18 pass a maximum of 9223372036854775807). */
static int int_real_cmp(json_int_t i, double d)
{
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    double t = trunc(d);
    json_int_t ti = (json_int_t)t; /* exact: |t| < 2^63 */
    if (i != ti)
        return i < ti ? -1 : 1;
    return (d < t) - (d > t);
}

/* Compares two numbers exactly: <0, 0, >0. */
static int number_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return (x > y) - (x < y);
    }
    if (json_is_integer(a))
        return int_real_cmp(json_integer_value(a), json_real_value(b));
    if (json_is_integer(b))
        return -int_real_cmp(json_integer_value(b), json_real_value(a));
    double x = json_real_value(a), y = json_real_value(b);
    return (x > y) - (x < y);
}

static int is_integral(const json_t *v)
{
    if (json_is_integer(v))
        return 1;
    if (!json_is_real(v))
        return 0;
    double d = json_real_value(v);
    /* Beyond ±2^53 every double is a whole number; within, the cast is exact and defined. */
    return d > 9e15 || d < -9e15 || d == (double)(long long)d;
}

static unsigned type_bits(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return T_OBJECT;
    case JSON_ARRAY:
        return T_ARRAY;
    case JSON_STRING:
        return T_STRING;
    case JSON_INTEGER:
        return T_NUMBER | T_INTEGER;
    case JSON_REAL:
        return T_NUMBER | (is_integral(v) ? T_INTEGER : 0);
    case JSON_TRUE:
    case JSON_FALSE:
        return T_BOOLEAN;
    case JSON_NULL:
        return T_NULL;
    }
    return 0;
}

static const char *type_name(const json_t *v)
{
    unsigned bits = type_bits(v);
    if (bits & T_INTEGER)
        return "integer";
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (bits & type_names[i].bit)
            return type_names[i].name;
    return "?";
}

/* JSON Schema equality: numbers by value (1 == 1.0), objects by members, arrays in order. */
static int equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return number_cmp(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return 0;
    if (json_is_string(a))
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!equal(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        const char *key;
        json_t *va;
        /* jansson's iteration API takes a non-const object; it does not modify it. */
        json_object_foreach((json_t *)a, key, va)
        {
            const json_t *vb = json_object_get(b, key);
            if (!vb || !equal(va, vb))
                return 0;
        }
        return 1;
    }
    return 1; /* true, false, null */
}

/* ---------------------------------------------------------------- RFC 3339 date-time */

int cadence_json_schema_is_date_time(const char *s, size_t len)
{
    return cadence_rfc3339_valid(s, len);
}

/* Formats `format` can check; NULL check = annotation only (used by the draft-07 metaschema). */
static const struct {
    const char *name;
    format_fn check;
} formats[] = {
    {"date-time", cadence_json_schema_is_date_time},
    {"uri", NULL},
    {"uri-reference", NULL},
    {"regex", NULL},
};

/* ---------------------------------------------------------------- URIs for $id / $ref */

static size_t scheme_len(const char *s)
{
    size_t i = 0;
    while (s[i] && (s[i] == '+' || s[i] == '-' || s[i] == '.' || (s[i] >= 'a' && s[i] <= 'z') ||
                    (s[i] >= 'A' && s[i] <= 'Z') || (i > 0 && s[i] >= '0' && s[i] <= '9')))
        i++;
    return i > 0 && s[i] == ':' ? i : 0;
}

/* Resolves `ref` against `base` (RFC 3986 §5.2, without dot-segment removal, which the
 * schemas we load do not use). Drops an empty trailing fragment. Returns a new string. */
static char *uri_resolve(const char *base, const char *ref)
{
    size_t blen = strcspn(base, "#"), keep;
    if (scheme_len(ref) || !base[0]) {
        keep = 0;
    } else if (ref[0] == '#') {
        keep = blen;
    } else if (ref[0] == '/' && ref[1] == '/') {
        keep = scheme_len(base) + 1;
    } else if (ref[0] == '/') {
        const char *auth = strstr(base, "//");
        keep = auth ? (size_t)(auth - base) + 2 + strcspn(auth + 2, "/#") : 0;
    } else {
        keep = 0;
        for (size_t i = 0; i < blen; i++)
            if (base[i] == '/')
                keep = i + 1;
    }
    size_t rlen = strlen(ref);
    char *out = malloc(keep + rlen + 1);
    if (!out)
        return NULL;
    memcpy(out, base, keep);
    memcpy(out + keep, ref, rlen + 1);
    size_t n = keep + rlen;
    if (n > 0 && out[n - 1] == '#')
        out[n - 1] = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one JSON-pointer token (percent-escapes, then ~1 and ~0) from p[0..n) into out. */
static size_t pointer_token(const char *p, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            c = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        }
        out[o++] = c;
    }
    size_t w = 0;
    for (size_t r = 0; r < o; r++) {
        if (out[r] == '~' && r + 1 < o && (out[r + 1] == '0' || out[r + 1] == '1')) {
            out[w++] = out[r + 1] == '0' ? '~' : '/';
            r++;
        } else {
            out[w++] = out[r];
        }
    }
    out[w] = '\0';
    return w;
}

/* Follows the JSON pointer `ptr` (starting with '/') from `doc`; NULL when it leads nowhere. */
static json_t *pointer_walk(json_t *doc, const char *ptr)
{
    json_t *cur = doc;
    while (cur && *ptr == '/') {
        ptr++;
        size_t n = strcspn(ptr, "/");
        char *tok = malloc(n + 1);
        if (!tok)
            return NULL;
        size_t tlen = pointer_token(ptr, n, tok);
        if (json_is_object(cur)) {
            cur = json_object_getn(cur, tok, tlen);
        } else if (json_is_array(cur)) {
            char *end;
            unsigned long idx = strtoul(tok, &end, 10);
            cur = tlen > 0 && *end == '\0' ? json_array_get(cur, idx) : NULL;
        } else {
            cur = NULL;
        }
        free(tok);
        ptr += n;
    }
    return cur;
}

/* ---------------------------------------------------------------- compile context */

struct resource {
    char *uri; /* owned, absolute, no empty fragment */
    json_t *raw;
};

struct cached {
    const json_t *raw;
    node *n;
};

struct cctx {
    cadence_json_schema *s;
    struct resource *res;
    size_t n_res, cap_res;
    struct cached *cache;
    size_t n_cache, cap_cache;
    const json_t **targets; /* what `$ref`s point at */
    size_t n_targets, cap_targets;
    char *err;
    size_t errsz;
};

static int add_resource(struct cctx *c, const char *uri, json_t *raw)
{
    if (grow(&c->res, &c->cap_res, c->n_res, sizeof(*c->res)) != 0)
        return -1;
    char *u = dupn(uri, strlen(uri));
    if (!u)
        return -1;
    c->res[c->n_res++] = (struct resource){u, raw};
    return 0;
}

/* Finds what the absolute `uri` names. *base_out receives a new string: the target's base. */
static json_t *lookup(struct cctx *c, const char *uri, char **base_out)
{
    size_t dlen = strcspn(uri, "#");
    json_t *doc = NULL;
    for (size_t i = 0; i < c->n_res && !doc; i++)
        if (strcmp(c->res[i].uri, uri) == 0) /* a whole document or a plain-name anchor */
            doc = c->res[i].raw;
    if (doc) {
        *base_out = dupn(uri, dlen);
        return *base_out ? doc : NULL;
    }
    for (size_t i = 0; i < c->n_res && !doc; i++)
        if (strlen(c->res[i].uri) == dlen && strncmp(c->res[i].uri, uri, dlen) == 0)
            doc = c->res[i].raw;
    if (!doc || uri[dlen] != '#' || uri[dlen + 1] != '/')
        return NULL;
    json_t *target = pointer_walk(doc, uri + dlen + 1);
    if (!target)
        return NULL;
    *base_out = dupn(uri, dlen);
    return *base_out ? target : NULL;
}

/* Values under these keys are data, not schemas: the pre-scan does not look inside. */
static int is_data_keyword(const char *key)
{
    return strcmp(key, "enum") == 0 || strcmp(key, "const") == 0 || strcmp(key, "default") == 0 ||
           strcmp(key, "examples") == 0;
}

enum scan_mode { SCAN_IDS, SCAN_REFS };

/* Walks a document registering `$id`s (SCAN_IDS) or collecting `$ref` targets (SCAN_REFS). */
static int scan(struct cctx *c, json_t *v, const char *base, enum scan_mode mode)
{
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (scan(c, json_array_get(v, i), base, mode) != 0)
                return -1;
        return 0;
    }
    if (!json_is_object(v))
        return 0;
    json_t *ref = json_object_get(v, "$ref"), *id = json_object_get(v, "$id");
    if (json_is_string(ref)) { /* draft-07: siblings of $ref are ignored */
        if (mode == SCAN_REFS) {
            char *uri = uri_resolve(base, json_string_value(ref)), *tbase = NULL;
            json_t *t = uri ? lookup(c, uri, &tbase) : NULL;
            free(uri);
            free(tbase);
            if (t && grow(&c->targets, &c->cap_targets, c->n_targets, sizeof(const json_t *)) != 0)
                return -1;
            if (t)
                c->targets[c->n_targets++] = t;
        }
        return 0;
    }
    char *own = json_is_string(id) ? uri_resolve(base, json_string_value(id)) : NULL;
    int rc = 0;
    if (own && mode == SCAN_IDS)
        rc = add_resource(c, own, v);
    const char *key;
    json_t *member;
    json_object_foreach(v, key, member)
    {
        if (rc == 0 && !is_data_keyword(key))
            rc = scan(c, member, own ? own : base, mode);
    }
    free(own);
    return rc;
}

/* True when `v` is, or contains, the target of some `$ref`. */
static int holds_ref_target(const struct cctx *c, const json_t *v)
{
    for (size_t i = 0; i < c->n_targets; i++)
        if (c->targets[i] == v)
            return 1;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (holds_ref_target(c, json_array_get(v, i)))
                return 1;
    } else if (json_is_object(v)) {
        const char *key;
        json_t *member;
        json_object_foreach((json_t *)v, key, member)
        {
            if (holds_ref_target(c, member))
                return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- keyword compilers */

static node *compile(struct cctx *c, json_t *raw, const char *base, const char *spath);

typedef int (*compile_fn)(struct cctx *c, node *n, json_t *v, const char *base, const char *sp);

static int bad(struct cctx *c, const char *sp, const char *what)
{
    set_err(c->err, c->errsz, "schema %s: %s", sp[0] ? sp : "(root)", what);
    return -1;
}

static int c_type_name(struct cctx *c, node *n, const json_t *v, const char *sp)
{
    for (size_t i = 0; json_is_string(v) && i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (strcmp(type_names[i].name, json_string_value(v)) == 0) {
            n->types |= type_names[i].bit;
            return 0;
        }
    return bad(c, sp, "unknown type name");
}

static int c_type(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)
{
    (void)base;
    if (!json_is_array(v))
        return c_type_name(c, n, v, sp);
    for (size_t i = 0; i < json_array_size(v); i++)
        if (c_type_name(c, n, json_array_get(v, i), sp) != 0)
            return -1;
    return json_array_size(v) ? 0 : bad(c, sp, "type must not be an empty array");
}

static int c_enum(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)
{
    (void)base;
    n->enums = v;
    return json_is_array(v) ? 0 : bad(c, sp, "enum must be an array");
}

static int c_const(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)
{
    (void)c, (void)base, (void)sp;
    n->konst = v;
    return 0;
}

static int c_required(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)
{
    (void)base;
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++)
        if (!json_is_string(json_array_get(v, i)))
            return bad(c, sp, "required must be an array of strings");
    n->required = v;
    return json_is_array(v) ? 0 : bad(c, sp, "required must be an array of strings");
}

static int prop_cmp(const void *a, const void *b)
{
    const struct prop *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->name, y->name, n);
    return r ? r : (x->len > y->len) - (x->len < y->len);
}

static int c_properties(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)
{
    if (!json_is_object(v))
        return bad(c, sp, "properties must be an object");
    n->props = calloc(json_object_size(v) + 1, sizeof(*n->props));
    if (!n->props)
        return bad(c, sp, "out of memory");
    const char *key;
    size_t klen;
    json_t *sub;
    char child[SPATH_MAX];
    json_object_keylen_foreach(v, key, klen, sub)
    {
        pointer_join(child, sizeof(child), sp, key, klen);
        node *s = compile(c, sub, base, child);
        if (!s)
            return -1;
        n->props[n->n_props++] = (struct prop){key, klen, s};
    }
    qsort(n->props, n->n_props, sizeof(*n->props), prop_cmp);
    return 0;
}

static pcre2_code *regex_compile(struct cctx *c, const json_t *v, const char *sp)
{
    if (!json_is_string(v)) {
        bad(c, sp, "a pattern must be a string");
        return NULL;
    }
    int code;
    PCRE2_SIZE off;
    /* ECMA-262 semantics where PCRE2 differs by default: `$` only at the very end, \u escapes. */
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)json_string_value(v), json_string_length(v),
                      PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX, &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof(msg));
        set_err(c->err, c->errsz, "schema %s: bad pattern at offset %zu: %s", sp, (size_t)off,
                (const char *)msg);
        return NULL;
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* without JIT, the interpreter runs */
    return re;
}

static int c_pattern_properties(struct cctx *c, node *n, json_t *v, const char *base,
                                const char *sp)
{
    if (!json_is_object(v))
        return bad(c, sp, "patternProperties must be an object");
    n->pprops = calloc(json_object_size(v) + 1, sizeof(*n->pprops));
    if (!n->pprops)
        return bad(c, sp, "out of memory");
    const char *key;
    size_t klen;
    json_t *sub;
    char child[SPATH_MAX];
    json_object_keylen_foreach(v, key, klen, sub)
    {
        pointer_join(child, sizeof(child), sp, key, klen);
        json_t *src = json_stringn(key, klen);
        pcre2_code *re = src ? regex_compile(c, src, child) : NULL;
        json_decref(src);
        if (!re)
            return -1;
        n->pprops[n->n_pprops++] = (struct pprop){re, NULL};
        if (!(n->pprops[n->n_pprops - 1].schema = compile(c, sub, base, child)))
            return -1;
    }
    return 0;
}

#define SUBSCHEMA_COMPILER(fname, field)                                                           \
    static int fname(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)         \
    {                                                                                              \
        return (n->field = compile(c, v, base, sp)) ? 0 : -1;                                      \
    }
SUBSCHEMA_COMPILER(c_additional_properties, additional_props)
SUBSCHEMA_COMPILER(c_property_names, property_names)
SUBSCHEMA_COMPILER(c_additional_items, additional_items)

static int compile_list(struct cctx *c, struct list *l, json_t *v, const char *base, const char *sp)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(c, sp, "must be a non-empty array of schemas");
    l->v = calloc(json_array_size(v), sizeof(node *));
    if (!l->v)
        return bad(c, sp, "out of memory");
    char child[SPATH_MAX];
    for (size_t i = 0; i < json_array_size(v); i++) {
        snprintf(child, sizeof(child), "%s/%zu", sp, i);
        if (!(l->v[l->n++] = compile(c, json_array_get(v, i), base, child)))
            return -1;
    }
    return 0;
}

static int c_items(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)
{
    if (!json_is_array(v))
        return (n->items = compile(c, v, base, sp)) ? 0 : -1;
    n->has_tuple = 1;
    return json_array_size(v) ? compile_list(c, &n->tuple, v, base, sp) : 0;
}

#define LIST_COMPILER(fname, field)                                                                \
    static int fname(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)         \
    {                                                                                              \
        return compile_list(c, &n->field, v, base, sp);                                            \
    }
LIST_COMPILER(c_all_of, all_of)
LIST_COMPILER(c_any_of, any_of)
LIST_COMPILER(c_one_of, one_of)

static int count_value(struct cctx *c, json_int_t *out, const json_t *v, const char *sp)
{
    if (!json_is_number(v) || !is_integral(v) || json_number_value(v) < 0)
        return bad(c, sp, "must be a non-negative integer");
    *out = json_is_integer(v) ? json_integer_value(v) : (json_int_t)json_real_value(v);
    return 0;
}

#define COUNT_COMPILER(fname, field)                                                               \
    static int fname(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)         \
    {                                                                                              \
        (void)base;                                                                                \
        return count_value(c, &n->field, v, sp);                                                   \
    }
COUNT_COMPILER(c_min_items, min_items)
COUNT_COMPILER(c_max_items, max_items)
COUNT_COMPILER(c_min_length, min_length)
COUNT_COMPILER(c_max_length, max_length)

#define NUMBER_COMPILER(fname, field)                                                              \
    static int fname(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)         \
    {                                                                                              \
        (void)base;                                                                                \
        n->field = v;                                                                              \
        return json_is_number(v) ? 0 : bad(c, sp, "must be a number");                             \
    }
NUMBER_COMPILER(c_minimum, minimum)
NUMBER_COMPILER(c_maximum, maximum)
NUMBER_COMPILER(c_exclusive_minimum, excl_min)
NUMBER_COMPILER(c_exclusive_maximum, excl_max)

static int c_unique_items(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)
{
    (void)base;
    n->unique_items = json_is_true(v);
    return json_is_boolean(v) ? 0 : bad(c, sp, "uniqueItems must be a boolean");
}

static int c_pattern(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)
{
    (void)base;
    n->pattern_src = json_string_value(v);
    return (n->pattern = regex_compile(c, v, sp)) ? 0 : -1;
}

static int c_format(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)
{
    (void)base;
    for (size_t i = 0; json_is_string(v) && i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(formats[i].name, json_string_value(v)) == 0) {
            n->format = formats[i].check;
            n->format_name = formats[i].name;
            return 0;
        }
    set_err(c->err, c->errsz, "schema %s: unsupported format \"%.100s\"", sp,
            json_is_string(v) ? json_string_value(v) : "?");
    return -1;
}

/* `definitions` are compiled too (and so checked) even where nothing refers to them. */
static int c_definitions(struct cctx *c, node *n, json_t *v, const char *base, const char *sp)
{
    (void)n;
    if (!json_is_object(v))
        return bad(c, sp, "definitions must be an object");
    const char *key;
    size_t klen;
    json_t *sub;
    char child[SPATH_MAX];
    json_object_keylen_foreach(v, key, klen, sub)
    {
        pointer_join(child, sizeof(child), sp, key, klen);
        if (!compile(c, sub, base, child))
            return -1;
    }
    return 0;
}

/* Every keyword a schema may use. A NULL handler marks an annotation (accepted, no check). */
static const struct keyword {
    const char *name;
    compile_fn compile;
} keywords[] = {
    {"type", c_type},
    {"enum", c_enum},
    {"const", c_const},
    {"required", c_required},
    {"properties", c_properties},
    {"patternProperties", c_pattern_properties},
    {"additionalProperties", c_additional_properties},
    {"propertyNames", c_property_names},
    {"items", c_items},
    {"additionalItems", c_additional_items},
    {"minItems", c_min_items},
    {"maxItems", c_max_items},
    {"uniqueItems", c_unique_items},
    {"minLength", c_min_length},
    {"maxLength", c_max_length},
    {"pattern", c_pattern},
    {"minimum", c_minimum},
    {"maximum", c_maximum},
    {"exclusiveMinimum", c_exclusive_minimum},
    {"exclusiveMaximum", c_exclusive_maximum},
    {"allOf", c_all_of},
    {"anyOf", c_any_of},
    {"oneOf", c_one_of},
    {"format", c_format},
    {"definitions", c_definitions},
    {"$id", NULL},
    {"$schema", NULL},
    {"$comment", NULL},
    {"title", NULL},
    {"description", NULL},
    {"default", NULL},
    {"examples", NULL},
};

static const struct keyword *find_keyword(const char *name)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (strcmp(keywords[i].name, name) == 0)
            return &keywords[i];
    return NULL;
}

static node *new_node(struct cctx *c, const json_t *raw)
{
    cadence_json_schema *s = c->s;
    if (grow(&s->nodes, &s->cap_nodes, s->n_nodes, sizeof(node *)) != 0 ||
        grow(&c->cache, &c->cap_cache, c->n_cache, sizeof(*c->cache)) != 0)
        return NULL;
    node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->boolean = -1;
    n->min_items = n->max_items = n->min_length = n->max_length = -1;
    s->nodes[s->n_nodes++] = n;
    c->cache[c->n_cache++] = (struct cached){raw, n};
    return n;
}

static int compile_ref(struct cctx *c, node *n, const char *ref, const char *base, const char *sp)
{
    char *uri = uri_resolve(base, ref), *tbase = NULL;
    json_t *target = uri ? lookup(c, uri, &tbase) : NULL;
    int rc = -1;
    if (!target)
        set_err(c->err, c->errsz, "schema %s: cannot resolve $ref \"%.200s\"",
                sp[0] ? sp : "(root)", ref);
    else if ((n->ref = compile(c, target, tbase, uri)) != NULL)
        rc = 0;
    free(uri);
    free(tbase);
    return rc;
}

static int compile_member(struct cctx *c, node *n, const char *key, json_t *v, const char *base,
                          const char *sp)
{
    char child[SPATH_MAX];
    pointer_join(child, sizeof(child), sp, key, strlen(key));
    const struct keyword *kw = find_keyword(key);
    if (kw)
        return kw->compile ? kw->compile(c, n, v, base, child) : 0;
    if (holds_ref_target(c, v)) /* a subschema location a $ref names, not a keyword */
        return compile(c, v, base, child) ? 0 : -1;
    set_err(c->err, c->errsz, "schema %s: unsupported keyword \"%.100s\"", sp[0] ? sp : "(root)",
            key);
    return -1;
}

static node *compile(struct cctx *c, json_t *raw, const char *base, const char *spath)
{
    for (size_t i = 0; i < c->n_cache; i++)
        if (c->cache[i].raw == raw)
            return c->cache[i].n;
    node *n = new_node(c, raw);
    if (!n) {
        set_err(c->err, c->errsz, "out of memory");
        return NULL;
    }
    if (json_is_boolean(raw)) {
        n->boolean = json_is_true(raw);
        return n;
    }
    if (!json_is_object(raw)) {
        bad(c, spath, "a schema must be an object or a boolean");
        return NULL;
    }
    json_t *ref = json_object_get(raw, "$ref"), *id = json_object_get(raw, "$id");
    if (json_is_string(ref))
        return compile_ref(c, n, json_string_value(ref), base, spath) == 0 ? n : NULL;
    char *own = json_is_string(id) ? uri_resolve(base, json_string_value(id)) : NULL;
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(raw, key, v)
    {
        if (rc == 0)
            rc = compile_member(c, n, key, v, own ? own : base, spath);
    }
    free(own);
    return rc == 0 ? n : NULL;
}

static void node_free(node *n)
{
    for (size_t i = 0; i < n->n_pprops; i++)
        pcre2_code_free(n->pprops[i].re);
    pcre2_code_free(n->pattern);
    free(n->props);
    free(n->pprops);
    free(n->tuple.v);
    free(n->all_of.v);
    free(n->any_of.v);
    free(n->one_of.v);
    free(n);
}

void cadence_json_schema_free(cadence_json_schema *schema)
{
    if (!schema)
        return;
    for (size_t i = 0; i < schema->n_nodes; i++)
        node_free(schema->nodes[i]);
    free(schema->nodes);
    for (size_t i = 0; i < schema->n_docs; i++)
        json_decref(schema->docs[i]);
    free(schema->docs);
    free(schema);
}

static void cctx_free(struct cctx *c)
{
    for (size_t i = 0; i < c->n_res; i++)
        free(c->res[i].uri);
    free(c->res);
    free(c->cache);
    free(c->targets);
}

/* The base URI of a document: its `$id`, or "" (refs are then fragment-only). */
static const char *doc_base(const json_t *doc)
{
    const json_t *id = json_is_object(doc) ? json_object_get(doc, "$id") : NULL;
    return json_is_string(id) ? json_string_value(id) : "";
}

static int prepare(struct cctx *c)
{
    cadence_json_schema *s = c->s;
    for (size_t i = 0; i < s->n_docs; i++) {
        char *uri = uri_resolve("", doc_base(s->docs[i]));
        int rc = uri ? add_resource(c, uri, s->docs[i]) : -1;
        free(uri);
        if (rc != 0 || scan(c, s->docs[i], doc_base(s->docs[i]), SCAN_IDS) != 0)
            return -1;
    }
    for (size_t i = 0; i < s->n_docs; i++)
        if (scan(c, s->docs[i], doc_base(s->docs[i]), SCAN_REFS) != 0)
            return -1;
    return 0;
}

cadence_json_schema *cadence_json_schema_new(json_t *doc, json_t *const *extra, size_t n_extra,
                                             char *errstr, size_t errstr_size)
{
    cadence_json_schema *s = calloc(1, sizeof(*s));
    if (!s || !(s->docs = calloc(n_extra + 1, sizeof(json_t *)))) {
        free(s);
        set_err(errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->docs[s->n_docs++] = json_incref(doc);
    for (size_t i = 0; i < n_extra; i++)
        s->docs[s->n_docs++] = json_incref(extra[i]);
    struct cctx c = {.s = s, .err = errstr, .errsz = errstr_size};
    if (prepare(&c) != 0) {
        set_err(errstr, errstr_size, "out of memory");
    } else {
        s->root = compile(&c, doc, doc_base(doc), "");
    }
    cctx_free(&c);
    if (!s->root) {
        cadence_json_schema_free(s);
        return NULL;
    }
    return s;
}

/* ---------------------------------------------------------------- validation */

/* One step of the instance path, on the C stack: a member name, or an index when key is NULL. */
struct seg {
    const struct seg *up;
    const char *key;
    size_t len; /* key length, or the index */
};

struct vctx {
    pcre2_match_data *md; /* created on first use, freed by the caller of validate() */
    char *err;
    size_t errsz;
    int depth;
};

static size_t path_write(const struct seg *at, char *out, size_t size)
{
    if (!at)
        return 0;
    size_t o = path_write(at->up, out, size);
    char buf[SPATH_MAX];
    if (at->key)
        pointer_join(buf, sizeof(buf), "", at->key, at->len);
    else
        snprintf(buf, sizeof(buf), "/%zu", at->len);
    if (o < size)
        o += (size_t)snprintf(out + o, size - o, "%s", buf);
    return o < size ? o : size;
}

static void path_text(const struct seg *at, char *out, size_t size)
{
    out[0] = '\0';
    path_write(at, out, size);
    if (!out[0])
        snprintf(out, size, "(root)");
}

static int fail(struct vctx *vc, const struct seg *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* How many of the first `len` bytes of `s` to show: at most `max`, never half a character. */
static int shown(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return (int)len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

static int fail(struct vctx *vc, const struct seg *at, const char *fmt, ...)
{
    if (!vc->err || vc->errsz == 0)
        return -1;
    char path[SPATH_MAX];
    path_text(at, path, sizeof(path));
    int n = snprintf(vc->err, vc->errsz, "%s: ", path);
    if (n >= 0 && (size_t)n < vc->errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(vc->err + n, vc->errsz - (size_t)n, fmt, ap);
        va_end(ap);
    }
    utf8_trim(vc->err);
    return -1;
}

static int validate(struct vctx *vc, const node *n, const json_t *v, const struct seg *at);

/* Appends the text of a value as error messages show it: strings bare, the rest as JSON. */
static size_t value_text(const json_t *v, char *out, size_t size)
{
    if (json_is_string(v))
        return (size_t)snprintf(out, size, "%s", json_string_value(v));
    char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = (size_t)snprintf(out, size, "%s", dump ? dump : "?");
    free(dump);
    return n;
}

static int check_type(struct vctx *vc, const node *n, const json_t *v, const struct seg *at)
{
    if (!n->types || (n->types & type_bits(v)))
        return 0;
    char want[128] = "";
    size_t o = 0;
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (n->types & type_names[i].bit && o < sizeof(want))
            o += (size_t)snprintf(want + o, sizeof(want) - o, "%s%s", o ? " or " : "",
                                  type_names[i].name);
    return fail(vc, at, "expected %s, got %s", want, type_name(v));
}

static int check_enum(struct vctx *vc, const node *n, const json_t *v, const struct seg *at)
{
    if (n->konst && !equal(n->konst, v)) {
        char text[256];
        char *dump = json_dumps(n->konst, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(text, sizeof(text), "%s", dump ? dump : "?");
        free(dump);
        return fail(vc, at, "must be %s", text);
    }
    if (!n->enums)
        return 0;
    for (size_t i = 0; i < json_array_size(n->enums); i++)
        if (equal(json_array_get(n->enums, i), v))
            return 0;
    char list[512] = "";
    size_t o = 0;
    for (size_t i = 0; i < json_array_size(n->enums) && o < sizeof(list); i++) {
        if (i)
            o += (size_t)snprintf(list + o, sizeof(list) - o, ", ");
        if (o < sizeof(list))
            o += value_text(json_array_get(n->enums, i), list + o, sizeof(list) - o);
    }
    return fail(vc, at, "not one of %s", list);
}

static const struct prop *find_prop(const node *n, const char *key, size_t len)
{
    struct prop k = {key, len, NULL};
    return n->n_props ? bsearch(&k, n->props, n->n_props, sizeof(k), prop_cmp) : NULL;
}

static int regex_match(struct vctx *vc, pcre2_code *re, const char *s, size_t len)
{
    if (!vc->md && !(vc->md = pcre2_match_data_create(1, NULL)))
        return 0;
    /* jansson only holds valid UTF-8, so PCRE2 need not check it again. */
    return pcre2_match(re, (PCRE2_SPTR)s, len, 0, PCRE2_NO_UTF_CHECK, vc->md, NULL) >= 0;
}

static int check_property_name(struct vctx *vc, const node *n, const char *key, size_t len,
                               const struct seg *at)
{
    json_t *name = json_stringn(key, len);
    char inner[256] = "";
    struct vctx sub = {vc->md, inner, sizeof(inner), vc->depth};
    int rc = name ? validate(&sub, n->property_names, name, NULL) : -1;
    vc->md = sub.md;
    json_decref(name);
    if (rc == 0)
        return 0;
    const char *msg = strncmp(inner, "(root): ", 8) == 0 ? inner + 8 : inner;
    return fail(vc, at, "property name \"%.*s\": %s", shown(key, len, 100), key, msg);
}

static int check_member(struct vctx *vc, const node *n, const char *key, size_t len,
                        const json_t *v, const struct seg *at)
{
    struct seg here = {at, key, len};
    const struct prop *p = find_prop(n, key, len);
    int matched = p != NULL;
    if (p && validate(vc, p->schema, v, &here) != 0)
        return -1;
    for (size_t i = 0; i < n->n_pprops; i++) {
        if (!regex_match(vc, n->pprops[i].re, key, len))
            continue;
        matched = 1;
        if (validate(vc, n->pprops[i].schema, v, &here) != 0)
            return -1;
    }
    if (matched || !n->additional_props)
        return 0;
    if (n->additional_props->boolean == 0)
        return fail(vc, at, "unexpected property \"%.*s\"", shown(key, len, 100), key);
    return validate(vc, n->additional_props, v, &here);
}

static int check_object(struct vctx *vc, const node *n, const json_t *v, const struct seg *at)
{
    for (size_t i = 0; n->required && i < json_array_size(n->required); i++) {
        const json_t *name = json_array_get(n->required, i);
        if (!json_object_getn(v, json_string_value(name), json_string_length(name)))
            return fail(vc, at, "missing required property \"%s\"", json_string_value(name));
    }
    const char *key;
    size_t len;
    json_t *member;
    if (!n->n_props && !n->n_pprops && !n->additional_props && !n->property_names)
        return 0;
    /* jansson's iteration API takes a non-const object; it does not modify it. */
    json_object_keylen_foreach((json_t *)v, key, len, member)
    {
        if (n->property_names && check_property_name(vc, n, key, len, at) != 0)
            return -1;
        if (check_member(vc, n, key, len, member, at) != 0)
            return -1;
    }
    return 0;
}

static int check_array(struct vctx *vc, const node *n, const json_t *v, const struct seg *at)
{
    size_t size = json_array_size(v);
    if (n->min_items >= 0 && size < (size_t)n->min_items)
        return fail(vc, at, "has %zu items, fewer than the minimum %" JSON_INTEGER_FORMAT, size,
                    n->min_items);
    if (n->max_items >= 0 && size > (size_t)n->max_items)
        return fail(vc, at, "has %zu items, more than the maximum %" JSON_INTEGER_FORMAT, size,
                    n->max_items);
    for (size_t i = 0; n->unique_items && i < size; i++)
        for (size_t j = i + 1; j < size; j++)
            if (equal(json_array_get(v, i), json_array_get(v, j)))
                return fail(vc, at, "items %zu and %zu are equal; items must be unique", i, j);
    for (size_t i = 0; i < size; i++) {
        const node *item = !n->has_tuple    ? n->items
                           : i < n->tuple.n ? n->tuple.v[i]
                                            : n->additional_items;
        struct seg here = {at, NULL, i};
        if (item && validate(vc, item, json_array_get(v, i), &here) != 0)
            return -1;
    }
    return 0;
}

static size_t utf8_length(const char *s, size_t bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static int check_string(struct vctx *vc, const node *n, const json_t *v, const struct seg *at)
{
    const char *s = json_string_value(v);
    size_t bytes = json_string_length(v);
    if (n->min_length >= 0 || n->max_length >= 0) {
        size_t len = utf8_length(s, bytes);
        if (n->min_length >= 0 && len < (size_t)n->min_length)
            return fail(vc, at,
                        "is %zu characters long, shorter than the minimum %" JSON_INTEGER_FORMAT,
                        len, n->min_length);
        if (n->max_length >= 0 && len > (size_t)n->max_length)
            return fail(vc, at,
                        "is %zu characters long, longer than the maximum %" JSON_INTEGER_FORMAT,
                        len, n->max_length);
    }
    if (n->pattern && !regex_match(vc, n->pattern, s, bytes))
        return fail(vc, at, "does not match the pattern %s", n->pattern_src);
    if (n->format && !n->format(s, bytes))
        return fail(vc, at, "not an RFC 3339 %s (like 2026-01-31T09:30:00Z)", n->format_name);
    return 0;
}

/* Numeric bounds: which comparison result breaks the rule, and how to say so. */
static const struct bound {
    size_t offset; /* of the bound in struct node */
    int broken_when;
    int or_equal;
    const char *words;
} bounds[] = {
    {offsetof(node, minimum), -1, 0, "less than the minimum"},
    {offsetof(node, maximum), 1, 0, "greater than the maximum"},
    {offsetof(node, excl_min), -1, 1, "not greater than the exclusive minimum"},
    {offsetof(node, excl_max), 1, 1, "not less than the exclusive maximum"},
};

static int check_number(struct vctx *vc, const node *n, const json_t *v, const struct seg *at)
{
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        const json_t *b = *(const json_t *const *)((const char *)n + bounds[i].offset);
        if (!b)
            continue;
        int cmp = number_cmp(v, b);
        if (cmp == bounds[i].broken_when || (bounds[i].or_equal && cmp == 0)) {
            char vt[64], bt[64];
            number_text(v, vt, sizeof(vt));
            number_text(b, bt, sizeof(bt));
            return fail(vc, at, "%s is %s %s", vt, bounds[i].words, bt);
        }
    }
    return 0;
}

/* Validates `v` against each alternative; *passed counts the matches. On none, `why` gets a
 * short "[i] reason" per alternative (reasons at the same path lose the path prefix). */
static void try_alternatives(struct vctx *vc, const struct list *l, const json_t *v,
                             const struct seg *at, size_t *passed, char *why, size_t whysz)
{
    char here[SPATH_MAX], inner[256];
    path_text(at, here, sizeof(here));
    size_t hlen = strlen(here), o = 0;
    *passed = 0;
    why[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        struct vctx sub = {vc->md, inner, sizeof(inner), vc->depth};
        inner[0] = '\0';
        int rc = validate(&sub, l->v[i], v, at);
        vc->md = sub.md;
        if (rc == 0) {
            (*passed)++;
            continue;
        }
        const char *msg = strncmp(inner, here, hlen) == 0 && strncmp(inner + hlen, ": ", 2) == 0
                              ? inner + hlen + 2
                              : inner;
        if (o < whysz)
            o += (size_t)snprintf(why + o, whysz - o, "%s[%zu] %s", o ? "; " : "", i, msg);
    }
}

static int check_combinators(struct vctx *vc, const node *n, const json_t *v, const struct seg *at)
{
    for (size_t i = 0; i < n->all_of.n; i++)
        if (validate(vc, n->all_of.v[i], v, at) != 0)
            return -1;
    char why[768];
    size_t passed;
    if (n->any_of.n) {
        try_alternatives(vc, &n->any_of, v, at, &passed, why, sizeof(why));
        if (!passed)
            return fail(vc, at, "matches none of the alternatives (anyOf): %s", why);
    }
    if (n->one_of.n) {
        try_alternatives(vc, &n->one_of, v, at, &passed, why, sizeof(why));
        if (!passed)
            return fail(vc, at, "matches none of the alternatives (oneOf): %s", why);
        if (passed > 1)
            return fail(vc, at, "matches %zu alternatives, but exactly one is allowed (oneOf)",
                        passed);
    }
    return 0;
}

static int validate(struct vctx *vc, const node *n, const json_t *v, const struct seg *at)
{
    if (n->boolean >= 0)
        return n->boolean ? 0 : fail(vc, at, "no value is allowed here");
    if (vc->depth >= MAX_DEPTH)
        return fail(vc, at, "schema nesting deeper than %d (a $ref loop?)", MAX_DEPTH);
    int rc;
    vc->depth++;
    if (n->ref) {
        rc = validate(vc, n->ref, v, at);
    } else {
        rc = check_type(vc, n, v, at);
        if (rc == 0)
            rc = check_enum(vc, n, v, at);
        if (rc == 0 && json_is_object(v))
            rc = check_object(vc, n, v, at);
        if (rc == 0 && json_is_array(v))
            rc = check_array(vc, n, v, at);
        if (rc == 0 && json_is_string(v))
            rc = check_string(vc, n, v, at);
        if (rc == 0 && json_is_number(v))
            rc = check_number(vc, n, v, at);
        if (rc == 0)
            rc = check_combinators(vc, n, v, at);
    }
    vc->depth--;
    return rc;
}

int cadence_json_schema_validate(const cadence_json_schema *schema, const json_t *instance,
                                 char *errstr, size_t errstr_size)
{
    struct vctx vc = {NULL, errstr, errstr_size, 0};
    int rc = validate(&vc, schema->root, instance, NULL);
    pcre2_match_data_free(vc.md);
    return rc;
}
