
/*
 * gwload: a small JSON scanner; see gwload_json.h.
 *
 * The hot path is skipping: a GUILD_CREATE may be hundreds of KB, of which
 * gwload wants one key.  Containers are skipped with a table lookup per
 * byte outside strings and memchr() inside them; the kinds of open brackets
 * are kept in a bit stack, so "[}" is an error, at no allocation.
 */


#include "gwload.h"


#define gwload_json_is_ws(c)                                                  \
    ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')


static const u_char *gwload_json_string_end(const u_char *p,
    const u_char *end, uint8_t *escaped);
static const u_char *gwload_json_container_end(const u_char *p,
    const u_char *end);
static const u_char *gwload_json_literal(const u_char *p, const u_char *end,
    const char *lit, size_t len);


/* the bytes that matter while skipping a container: " { } [ ] */
static const uint8_t  gwload_json_special[256] = {
    ['"'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1
};


const u_char *
gwload_json_skip_ws(const u_char *p, const u_char *end)
{
    while (p < end && gwload_json_is_ws(*p)) {
        p++;
    }

    return p;
}


/*
 * One value at p (after optional whitespace): fill v, return the byte after
 * the value, or NULL if the input is malformed or ends inside the value.
 */

const u_char *
gwload_json_value(const u_char *p, const u_char *end, gwload_json_t *v)
{
    int            digits;
    const u_char  *q;

    p = gwload_json_skip_ws(p, end);

    if (p >= end) {
        return NULL;
    }

    v->escaped = 0;

    switch (*p) {

    case '"':
        q = gwload_json_string_end(p + 1, end, &v->escaped);
        if (q == NULL) {
            return NULL;
        }

        v->type = GWLOAD_JSON_STRING;
        v->start = p + 1;
        v->end = q;

        return q + 1;

    case '{':
    case '[':
        q = gwload_json_container_end(p, end);
        if (q == NULL) {
            return NULL;
        }

        v->type = (*p == '{') ? GWLOAD_JSON_OBJECT : GWLOAD_JSON_ARRAY;
        v->start = p;
        v->end = q;

        return q;

    case 't':
        v->type = GWLOAD_JSON_TRUE;
        q = gwload_json_literal(p, end, "true", 4);
        break;

    case 'f':
        v->type = GWLOAD_JSON_FALSE;
        q = gwload_json_literal(p, end, "false", 5);
        break;

    case 'n':
        v->type = GWLOAD_JSON_NULL;
        q = gwload_json_literal(p, end, "null", 4);
        break;

    default:

        /* RFC 8259, 6: a number, loosely; gwload_json_int() is strict */

        if (*p != '-' && (*p < '0' || *p > '9')) {
            return NULL;
        }

        digits = 0;

        for (q = p; q < end; q++) {
            if (*q >= '0' && *q <= '9') {
                digits++;

            } else if (*q != '-' && *q != '+' && *q != '.' && *q != 'e'
                       && *q != 'E')
            {
                break;
            }
        }

        if (digits == 0) {
            return NULL;
        }

        v->type = GWLOAD_JSON_NUMBER;
        break;
    }

    if (q == NULL) {
        return NULL;
    }

    v->start = p;
    v->end = q;

    return q;
}


/* p is just after the opening quote; returns the closing quote */

static const u_char *
gwload_json_string_end(const u_char *p, const u_char *end, uint8_t *escaped)
{
    const u_char  *s, *q, *b;

    s = p;

    for ( ;; ) {
        q = memchr(p, '"', end - p);
        if (q == NULL) {
            return NULL;
        }

        /* an odd run of backslashes before the quote escapes it */

        for (b = q; b > s && b[-1] == '\\'; b--) {
            /* void */
        }

        if (((q - b) & 1) == 0) {
            break;
        }

        p = q + 1;
    }

    if (escaped) {
        *escaped = (memchr(s, '\\', q - s) != NULL);
    }

    return q;
}


/* p is at '{' or '['; returns the byte after the matching bracket */

static const u_char *
gwload_json_container_end(const u_char *p, const u_char *end)
{
    u_char    c;
    unsigned  depth, bit;
    uint8_t   kinds[GWLOAD_JSON_DEPTH / 8];    /* 1: object, 0: array */

    depth = 0;

    for ( ;; ) {

        while (p < end && !gwload_json_special[*p]) {
            p++;
        }

        if (p >= end) {
            return NULL;
        }

        c = *p;

        switch (c) {

        case '"':
            p = gwload_json_string_end(p + 1, end, NULL);
            if (p == NULL) {
                return NULL;
            }
            break;

        case '{':
        case '[':
            if (depth == GWLOAD_JSON_DEPTH) {
                return NULL;
            }

            bit = 1u << (depth & 7);

            if (c == '{') {
                kinds[depth >> 3] |= bit;

            } else {
                kinds[depth >> 3] &= ~bit;
            }

            depth++;
            break;

        default: /* '}' or ']' */
            if (depth == 0) {
                return NULL;
            }

            depth--;

            if (((kinds[depth >> 3] >> (depth & 7)) & 1) != (c == '}')) {
                return NULL;
            }

            if (depth == 0) {
                return p + 1;
            }

            break;
        }

        p++;
    }
}


static const u_char *
gwload_json_literal(const u_char *p, const u_char *end, const char *lit,
    size_t len)
{
    if ((size_t) (end - p) < len || memcmp(p, lit, len) != 0) {
        return NULL;
    }

    return p + len;
}


/* start walking an object or an array; "end" bounds the walk */

int
gwload_json_iter(gwload_json_iter_t *it, gwload_json_t *v, const u_char *end)
{
    if (v->type != GWLOAD_JSON_OBJECT && v->type != GWLOAD_JSON_ARRAY) {
        return GWLOAD_ERROR;
    }

    it->pos = v->start + 1;
    it->end = end;
    it->close = (v->type == GWLOAD_JSON_OBJECT) ? '}' : ']';
    it->first = 1;

    return GWLOAD_OK;
}


/*
 * The next member (key is set) or element (key is NULL): GWLOAD_OK, or
 * GWLOAD_DONE after the closing bracket, or GWLOAD_ERROR.
 */

int
gwload_json_next(gwload_json_iter_t *it, gwload_json_t *key,
    gwload_json_t *val)
{
    const u_char  *p, *end;

    end = it->end;
    p = gwload_json_skip_ws(it->pos, end);

    if (p >= end) {
        return GWLOAD_ERROR;
    }

    if (*p == it->close) {
        it->pos = p + 1;
        return GWLOAD_DONE;
    }

    if (!it->first) {
        if (*p != ',') {
            return GWLOAD_ERROR;
        }

        p++;
    }

    if (it->close == '}') {
        p = gwload_json_skip_ws(p, end);

        if (p >= end || *p != '"' || key == NULL) {
            return GWLOAD_ERROR;
        }

        p = gwload_json_value(p, end, key);
        if (p == NULL) {
            return GWLOAD_ERROR;
        }

        p = gwload_json_skip_ws(p, end);

        if (p >= end || *p != ':') {
            return GWLOAD_ERROR;
        }

        p++;
    }

    p = gwload_json_value(p, end, val);
    if (p == NULL) {
        return GWLOAD_ERROR;
    }

    it->pos = p;
    it->first = 0;

    return GWLOAD_OK;
}


/* a strict integer: -?[0-9]+ within int64 */

int
gwload_json_int(gwload_json_t *v, int64_t *n)
{
    int            neg;
    uint64_t       u;
    const u_char  *p;

    if (v->type != GWLOAD_JSON_NUMBER) {
        return GWLOAD_ERROR;
    }

    p = v->start;
    neg = (*p == '-');

    if (gwload_json_uint(p + neg, v->end, &u) != GWLOAD_OK
        || u > (uint64_t) INT64_MAX + neg)
    {
        return GWLOAD_ERROR;
    }

    *n = neg ? (int64_t) (0 - u) : (int64_t) u;

    return GWLOAD_OK;
}


/* [0-9]+ within uint64 */

int
gwload_json_uint(const u_char *p, const u_char *end, uint64_t *n)
{
    uint64_t  u, d;

    if (p >= end) {
        return GWLOAD_ERROR;
    }

    u = 0;

    for ( ; p < end; p++) {
        if (*p < '0' || *p > '9') {
            return GWLOAD_ERROR;
        }

        d = *p - '0';

        if (u > (UINT64_MAX - d) / 10) {
            return GWLOAD_ERROR;
        }

        u = u * 10 + d;
    }

    *n = u;

    return GWLOAD_OK;
}
