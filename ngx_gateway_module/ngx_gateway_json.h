
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_JSON_H_INCLUDED_
#define _NGX_GATEWAY_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include "ngx_ws.h"


/*
 * JSON out: an append-only writer into a growing buffer, for the payloads
 * the gateway produces (READY, GUILD_CREATE, dispatches, API responses):
 * no tree is built, every value is written once where it goes.  A failed
 * allocation sets "error" and turns later calls into no-ops; the caller
 * checks once at the end.
 *
 * JSON in: jansson, with the input already bounded (4096-byte payloads,
 * the request body limit), duplicate keys rejected and only objects
 * accepted at the top level.
 */

typedef struct {
    u_char        *start;
    u_char        *pos;
    u_char        *end;
    ngx_log_t     *log;
    ngx_ws_main_t *mem;
    ngx_uint_t     error;
} ngx_gateway_json_t;


#define ngx_gateway_json_lit(j, s)                                            \
    ngx_gateway_json_raw(j, (u_char *) s, sizeof(s) - 1)

#define ngx_gateway_json_len(j)  ((size_t) ((j)->pos - (j)->start))


ngx_int_t ngx_gateway_json_init(ngx_gateway_json_t *j, size_t size,
    ngx_log_t *log);
void ngx_gateway_json_free(ngx_gateway_json_t *j);
u_char *ngx_gateway_json_reserve(ngx_gateway_json_t *j, size_t n);
void ngx_gateway_json_raw(ngx_gateway_json_t *j, u_char *p, size_t n);
void ngx_gateway_json_str(ngx_gateway_json_t *j, u_char *s, size_t len);
void ngx_gateway_json_str_or_null(ngx_gateway_json_t *j, u_char *s,
    size_t len);
void ngx_gateway_json_id(ngx_gateway_json_t *j, uint64_t id);
void ngx_gateway_json_uint(ngx_gateway_json_t *j, uint64_t v);
void ngx_gateway_json_bool(ngx_gateway_json_t *j, ngx_uint_t b);
void ngx_gateway_json_time(ngx_gateway_json_t *j, time_t sec);
void ngx_gateway_json_time_ms(ngx_gateway_json_t *j, uint64_t ms);

json_t *ngx_gateway_json_parse(u_char *data, size_t len, u_char *err,
    size_t err_size);
ngx_int_t ngx_gateway_json_snowflake(json_t *v, uint64_t *id);
ngx_int_t ngx_gateway_parse_snowflake(u_char *p, size_t len, uint64_t *id);
ngx_int_t ngx_gateway_json_string(json_t *v, ngx_str_t *s, size_t max);
size_t ngx_gateway_utf8_chars(u_char *p, size_t len);


#endif /* _NGX_GATEWAY_JSON_H_INCLUDED_ */
