
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_ENCODE_H_INCLUDED_
#define _NGX_GATEWAY_ENCODE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_gateway.h"


/*
 * Discord objects as JSON (shared/PROTOCOL.md 1.7, 1.15, 1.16), written
 * straight from the zone's records; callers hold the zone lock.
 */

typedef struct {
    ngx_gateway_session_t     *session;
    ngx_str_t                  resume_url;
    ngx_uint_t                 shard_given;
} ngx_gateway_ready_t;


void ngx_gateway_encode_user(ngx_gateway_json_t *j, ngx_gateway_user_t *u,
    ngx_uint_t self);
void ngx_gateway_encode_member(ngx_gateway_json_t *j,
    ngx_gateway_member_t *m, ngx_uint_t with_user);
void ngx_gateway_encode_channel(ngx_gateway_json_t *j,
    ngx_gateway_channel_t *ch, ngx_uint_t with_guild);
void ngx_gateway_encode_guild(ngx_gateway_json_t *j,
    ngx_gateway_guild_t *g);
void ngx_gateway_encode_guild_create(ngx_gateway_json_t *j,
    ngx_gateway_zone_t *zone, ngx_gateway_guild_t *g,
    ngx_gateway_session_t *s);
void ngx_gateway_encode_ready(ngx_gateway_json_t *j,
    ngx_gateway_zone_t *zone, ngx_gateway_ready_t *ready);
void ngx_gateway_encode_presence(ngx_gateway_json_t *j,
    ngx_gateway_user_t *u, uint64_t guild_id);
void ngx_gateway_encode_dispatch(ngx_gateway_json_t *j, const char *name);

extern ngx_str_t  ngx_gateway_status_names[];


#endif /* _NGX_GATEWAY_ENCODE_H_INCLUDED_ */
