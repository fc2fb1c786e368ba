
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_PRESENCE_H_INCLUDED_
#define _NGX_GATEWAY_PRESENCE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_gateway.h"


/*
 * Presence (shared/PROTOCOL.md 1.15, 1.16): a user's status and activities
 * go out as PRESENCE_UPDATE in each of its guilds to the sessions with
 * GUILD_PRESENCES.  In a guild that is large for a session (more members
 * than its large_threshold) the session only hears about the members
 * whose presences it asked for with op 8 "presences": true; those
 * subscriptions are kept in the zone, keyed by (guild, user), and end
 * with the session.  A subscription to user 0 covers the whole guild (an
 * "all members" request).
 */

/* subscriptions a session may hold; the oldest give way to new ones */
#define NGX_GATEWAY_PRESENCE_SUBS_MAX   1000


typedef struct {
    ngx_rbtree_node_t          node;      /* key: guild and user mixed */
    uint64_t                   guild_id;
    uint64_t                   user_id;   /* 0: every member */
    ngx_gateway_session_t     *session;
    ngx_queue_t                link;      /* in session->presence_subs */
} ngx_gateway_presence_sub_t;


ngx_int_t ngx_gateway_presence_subscribe_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, uint64_t guild_id, uint64_t user_id);
void ngx_gateway_presence_unsubscribe_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s);
ngx_uint_t ngx_gateway_presence_subscribed_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, uint64_t guild_id, uint64_t user_id);

void ngx_gateway_presence_publish_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user);
void ngx_gateway_presence_offline_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user);

#define ngx_gateway_status_visible(status)                                    \
    ((status) != ngx_gateway_offline && (status) != ngx_gateway_invisible)


#endif /* _NGX_GATEWAY_PRESENCE_H_INCLUDED_ */
