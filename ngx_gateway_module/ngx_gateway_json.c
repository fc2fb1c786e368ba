
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/* the buffers are short-lived blocks of the WebSocket core's cache */

ngx_int_t
ngx_gateway_json_init(ngx_gateway_json_t *j, size_t size, ngx_log_t *log)
{
    j->log = log;
    j->error = 0;
    j->mem = &ngx_gateway_main_conf()->ws;

    j->start = ngx_ws_alloc(j->mem, size, log);
    if (j->start == NULL) {
        j->pos = NULL;
        j->end = NULL;
        j->error = 1;
        return NGX_ERROR;
    }

    j->pos = j->start;
    j->end = j->start + ngx_max(size, ngx_ws_alloc_size(j->start));

    return NGX_OK;
}


void
ngx_gateway_json_free(ngx_gateway_json_t *j)
{
    if (j->start) {
        ngx_ws_free(j->mem, j->start);
        j->start = NULL;
        j->pos = NULL;
        j->end = NULL;
    }
}


/* room for n more bytes at j->pos, growing the buffer geometrically */

u_char *
ngx_gateway_json_reserve(ngx_gateway_json_t *j, size_t n)
{
    size_t   size, used;
    u_char  *p;

    if (j->error) {
        return NULL;
    }

    if ((size_t) (j->end - j->pos) >= n) {
        return j->pos;
    }

    used = j->pos - j->start;
    size = (j->end - j->start) * 2;

    while (size - used < n) {
        size *= 2;
    }

    p = ngx_ws_alloc(j->mem, size, j->log);
    if (p == NULL) {
        j->error = 1;
        return NULL;
    }

    ngx_memcpy(p, j->start, used);
    ngx_ws_free(j->mem, j->start);

    j->start = p;
    j->pos = p + used;
    j->end = p + ngx_max(size, ngx_ws_alloc_size(p));

    return j->pos;
}


void
ngx_gateway_json_raw(ngx_gateway_json_t *j, u_char *p, size_t n)
{
    if (ngx_gateway_json_reserve(j, n) == NULL) {
        return;
    }

    j->pos = ngx_cpymem(j->pos, p, n);
}


/*
 * RFC 8259 7: quotation mark, reverse solidus and the control characters
 * are escaped; everything else, UTF-8 included, is copied (input text was
 * validated as UTF-8 when it arrived).
 */

void
ngx_gateway_json_str(ngx_gateway_json_t *j, u_char *s, size_t len)
{
    u_char   ch, *p, *last;

    static u_char  hex[] = "0123456789abcdef";

    /* the worst case: every byte becomes \u00XX */

    p = ngx_gateway_json_reserve(j, len * 6 + 2);
    if (p == NULL) {
        return;
    }

    *p++ = '"';

    for (last = s + len; s < last; s++) {
        ch = *s;

        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            *p++ = ch;
            continue;
        }

        *p++ = '\\';

        switch (ch) {
        case '"':  *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\n': *p++ = 'n'; break;
        case '\r': *p++ = 'r'; break;
        case '\t': *p++ = 't'; break;
        case '\b': *p++ = 'b'; break;
        case '\f': *p++ = 'f'; break;
        default:
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 0xf];
        }
    }

    *p++ = '"';

    j->pos = p;
}


void
ngx_gateway_json_str_or_null(ngx_gateway_json_t *j, u_char *s, size_t len)
{
    if (len == 0) {
        ngx_gateway_json_lit(j, "null");
        return;
    }

    ngx_gateway_json_str(j, s, len);
}


/* snowflakes go out as strings (shared/PROTOCOL.md 1.13) */

void
ngx_gateway_json_id(ngx_gateway_json_t *j, uint64_t id)
{
    u_char  *p;

    p = ngx_gateway_json_reserve(j, NGX_INT64_LEN + 2);
    if (p == NULL) {
        return;
    }

    j->pos = ngx_sprintf(p, "\"%uL\"", id);
}


void
ngx_gateway_json_uint(ngx_gateway_json_t *j, uint64_t v)
{
    u_char  *p;

    p = ngx_gateway_json_reserve(j, NGX_INT64_LEN);
    if (p == NULL) {
        return;
    }

    j->pos = ngx_sprintf(p, "%uL", v);
}


void
ngx_gateway_json_bool(ngx_gateway_json_t *j, ngx_uint_t b)
{
    if (b) {
        ngx_gateway_json_lit(j, "true");

    } else {
        ngx_gateway_json_lit(j, "false");
    }
}


/* Discord's ISO 8601 form: "2024-01-01T00:00:00.000000+00:00" */

void
ngx_gateway_json_time(ngx_gateway_json_t *j, time_t sec)
{
    ngx_gateway_json_time_ms(j, (uint64_t) sec * 1000);
}


/* ISO 8601 as Discord writes it: "2024-01-01T00:00:00.123000+00:00" */

void
ngx_gateway_json_time_ms(ngx_gateway_json_t *j, uint64_t ms)
{
    u_char    *p;
    ngx_tm_t   tm;

    p = ngx_gateway_json_reserve(j, sizeof("\"2024-01-01T00:00:00.000000"
                                           "+00:00\"") - 1);
    if (p == NULL) {
        return;
    }

    ngx_gmtime((time_t) (ms / 1000), &tm);

    j->pos = ngx_sprintf(p, "\"%4d-%02d-%02dT%02d:%02d:%02d.%03ui000+00:00\"",
                         tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                         tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                         (ngx_uint_t) (ms % 1000));
}


/*
 * Characters (code points) in a string jansson has already checked as
 * UTF-8: the bytes that do not continue a sequence.  Discord's limits
 * count characters.
 */

size_t
ngx_gateway_utf8_chars(u_char *p, size_t len)
{
    size_t   n;
    u_char  *last;

    n = 0;

    for (last = p + len; p < last; p++) {
        n += ((*p & 0xc0) != 0x80);
    }

    return n;
}


/* an object, or NULL with the reason in err */

json_t *
ngx_gateway_json_parse(u_char *data, size_t len, u_char *err,
    size_t err_size)
{
    json_t        *root;
    json_error_t   error;

    root = json_loadb((const char *) data, len, JSON_REJECT_DUPLICATES,
                      &error);

    if (root == NULL) {
        ngx_snprintf(err, err_size, "invalid JSON at %d: %s%Z",
                     error.position, error.text);
        return NULL;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        ngx_snprintf(err, err_size, "not a JSON object%Z");
        return NULL;
    }

    return root;
}


/*
 * A snowflake: a decimal string of an unsigned 64-bit value above zero,
 * without sign, blanks or leading zeros; a non-negative JSON integer is
 * accepted too (some clients send numbers).
 */

ngx_int_t
ngx_gateway_json_snowflake(json_t *v, uint64_t *id)
{
    json_int_t  n;

    if (json_is_string(v)) {
        return ngx_gateway_parse_snowflake((u_char *) json_string_value(v),
                                           json_string_length(v), id);
    }

    if (json_is_integer(v)) {
        n = json_integer_value(v);

        if (n <= 0) {
            return NGX_ERROR;
        }

        *id = (uint64_t) n;
        return NGX_OK;
    }

    return NGX_ERROR;
}


ngx_int_t
ngx_gateway_parse_snowflake(u_char *p, size_t len, uint64_t *id)
{
    uint64_t  v, d;
    u_char   *last;

    if (len == 0 || len > NGX_INT64_LEN || *p == '0') {
        return NGX_ERROR;
    }

    v = 0;

    for (last = p + len; p < last; p++) {
        if (*p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        d = *p - '0';

        if (v > (UINT64_MAX - d) / 10) {
            return NGX_ERROR;
        }

        v = v * 10 + d;
    }

    *id = v;

    return NGX_OK;
}


/* a string of at most max bytes (pointing into the JSON value) */

ngx_int_t
ngx_gateway_json_string(json_t *v, ngx_str_t *s, size_t max)
{
    if (!json_is_string(v)) {
        return NGX_ERROR;
    }

    s->len = json_string_length(v);
    s->data = (u_char *) json_string_value(v);

    if (s->len > max) {
        return NGX_ERROR;
    }

    return NGX_OK;
}
