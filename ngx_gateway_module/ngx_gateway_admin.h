
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_ADMIN_H_INCLUDED_
#define _NGX_GATEWAY_ADMIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/* results of the directory operations besides NGX_OK and NGX_ERROR */
#define NGX_GATEWAY_UNKNOWN_GUILD   -20
#define NGX_GATEWAY_UNKNOWN_USER    -21
#define NGX_GATEWAY_BAD_BODY        -22


typedef struct {
    uint64_t                   guild_id;
    uint64_t                   user_id;
} ngx_gateway_member_ref_t;


/* ngx_gateway_admin_ops.c: what the single calls and /admin/bulk share */
ngx_int_t ngx_gateway_admin_user_spec(json_t *root,
    ngx_gateway_user_spec_t *spec, u_char *err, size_t size);
ngx_int_t ngx_gateway_admin_user_apply(ngx_http_request_t *r,
    ngx_gateway_user_spec_t *spec, ngx_gateway_json_t *j);
ngx_int_t ngx_gateway_admin_guild_spec(ngx_pool_t *pool, json_t *root,
    ngx_str_t *id, ngx_gateway_guild_spec_t *spec, u_char *err,
    size_t size);
ngx_int_t ngx_gateway_admin_guild_apply(ngx_http_request_t *r,
    ngx_gateway_guild_spec_t *spec, ngx_gateway_json_t *j);
void ngx_gateway_admin_encode_guild(ngx_gateway_json_t *j,
    ngx_gateway_guild_t *g);
ngx_int_t ngx_gateway_admin_member_apply(ngx_http_request_t *r,
    ngx_gateway_member_ref_t *ref, json_t *root, ngx_uint_t events,
    u_char *err, size_t size);
ngx_int_t ngx_gateway_admin_member_remove(ngx_http_request_t *r,
    ngx_gateway_member_ref_t *ref, u_char *err, size_t size);
ngx_int_t ngx_gateway_admin_member_result(ngx_http_request_t *r,
    ngx_int_t rc, u_char *err);
void ngx_gateway_admin_member_leave_all_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *u, ngx_gateway_doorbells_t *doorbells,
    ngx_log_t *log);

/* ngx_gateway_admin_bulk.c */
ngx_int_t ngx_gateway_admin_bulk(ngx_http_request_t *r, ngx_str_t *body);

/* ngx_gateway_status.c */
ngx_int_t ngx_gateway_admin_status(ngx_http_request_t *r);


#endif /* _NGX_GATEWAY_ADMIN_H_INCLUDED_ */
