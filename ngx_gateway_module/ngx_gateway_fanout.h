
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_FANOUT_H_INCLUDED_
#define _NGX_GATEWAY_FANOUT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_gateway.h"


/*
 * Publishing (DESIGN 3): an event encoded once into a blob goes into the
 * ring of every session that should see it (intents, the session's shard
 * of the guild), and each owner is rung once.  Callers hold the zone lock
 * and ring the doorbells after unlocking.
 */

typedef struct {
    ngx_gateway_blob_t        *blob;
    /* MESSAGE_CREATE as seen without MESSAGE_CONTENT (1.10), and the
     * users who see the content anyway: the author, those mentioned */
    ngx_gateway_blob_t        *redacted;
    uint64_t                  *content_users;
    ngx_uint_t                 content_users_n;
    uint64_t                   guild_id;      /* 0: not a guild event */
    ngx_uint_t                 intent;        /* 0: sent regardless */
    ngx_gateway_user_t        *except;        /* skip this user's sessions */
    /* PRESENCE_UPDATE: whose, and how many members the guild has */
    uint64_t                   presence_of;
    ngx_uint_t                 guild_members;
    ngx_gateway_doorbells_t   *doorbells;     /* NULL: zone->pending */
    ngx_uint_t                 delivered;     /* sessions reached */
} ngx_gateway_publish_t;


ngx_uint_t ngx_gateway_event_intent(u_char *name, size_t len);
ngx_gateway_blob_t *ngx_gateway_event_blob_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_json_t *j);
void ngx_gateway_event_done_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_blob_t *blob);
void ngx_gateway_publish_session_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_publish_t *pub);
void ngx_gateway_publish_user_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user, ngx_gateway_publish_t *pub);
void ngx_gateway_publish_guild_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *guild, ngx_gateway_publish_t *pub);


#endif /* _NGX_GATEWAY_FANOUT_H_INCLUDED_ */
