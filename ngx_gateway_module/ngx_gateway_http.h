
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_HTTP_H_INCLUDED_
#define _NGX_GATEWAY_HTTP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/* what the admin and REST APIs share: JSON responses, Discord's error
 * shape, request bodies, authentication (docs/API.md) */

#define NGX_GATEWAY_ERR_GENERAL            0
#define NGX_GATEWAY_ERR_UNKNOWN_CHANNEL    10003
#define NGX_GATEWAY_ERR_UNKNOWN_GUILD      10004
#define NGX_GATEWAY_ERR_UNKNOWN_MEMBER     10007
#define NGX_GATEWAY_ERR_UNKNOWN_USER       10013
#define NGX_GATEWAY_ERR_TOO_LARGE          40005
#define NGX_GATEWAY_ERR_MISSING_ACCESS     50001
#define NGX_GATEWAY_ERR_INVALID_BODY       50035

#define NGX_GATEWAY_HTTP_INSUFFICIENT_STORAGE  507


/* a request's path split at "/", after the API prefix */
typedef struct {
    ngx_str_t                  seg[6];
    ngx_uint_t                 n;
} ngx_gateway_path_t;


ngx_int_t ngx_gateway_http_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_gateway_json_t *j);
ngx_int_t ngx_gateway_http_send_type(ngx_http_request_t *r,
    ngx_uint_t status, ngx_gateway_json_t *j, ngx_str_t *type);
ngx_int_t ngx_gateway_http_error(ngx_http_request_t *r, ngx_uint_t status,
    ngx_uint_t code, const char *fmt, ...);
ngx_int_t ngx_gateway_http_status(ngx_http_request_t *r, ngx_uint_t status);
ngx_int_t ngx_gateway_http_body(ngx_http_request_t *r, ngx_str_t *body);
ngx_int_t ngx_gateway_http_path(ngx_http_request_t *r, const char *prefix,
    ngx_gateway_path_t *path);
ngx_uint_t ngx_gateway_http_is(ngx_str_t *seg, const char *s);
ngx_uint_t ngx_gateway_http_loopback(ngx_http_request_t *r);
ngx_int_t ngx_gateway_http_user(ngx_http_request_t *r, uint64_t *user_id);
void ngx_gateway_http_gateway_url(ngx_http_request_t *r,
    ngx_gateway_json_t *j);


#endif /* _NGX_GATEWAY_HTTP_H_INCLUDED_ */
