
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * Guilds up to this size are walked member by member for a presence
 * change (a session's large_threshold is at most 250, so in a bigger
 * guild every session needs a subscription and the subscriptions are
 * walked instead).
 */
#define NGX_GATEWAY_PRESENCE_WALK_MAX   250


static ngx_rbtree_key_t ngx_gateway_presence_key(uint64_t guild_id,
    uint64_t user_id);
static ngx_gateway_presence_sub_t *ngx_gateway_presence_first_locked(
    ngx_gateway_zone_t *zone, uint64_t guild_id, uint64_t user_id);
static ngx_gateway_presence_sub_t *ngx_gateway_presence_next_locked(
    ngx_gateway_zone_t *zone, ngx_gateway_presence_sub_t *sub);
static ngx_uint_t ngx_gateway_presence_has_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, uint64_t guild_id, uint64_t user_id);
static void ngx_gateway_presence_remove_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_presence_sub_t *sub);
static void ngx_gateway_presence_guild_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *g, ngx_gateway_user_t *user, ngx_gateway_json_t *j);
static void ngx_gateway_presence_subscribers_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *g, uint64_t user_id, ngx_gateway_publish_t *pub);


static ngx_rbtree_key_t
ngx_gateway_presence_key(uint64_t guild_id, uint64_t user_id)
{
    /* snowflakes share their time bits: mix before combining */
    return (ngx_rbtree_key_t) (guild_id * 0x9e3779b97f4a7c15ULL
                               ^ user_id);
}


/*
 * The session hears about user_id's presence in the guild from now on
 * (user_id 0: every member's).  A repeated subscription is kept once; past
 * the cap the session's oldest subscription gives way.
 */

ngx_int_t
ngx_gateway_presence_subscribe_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, uint64_t guild_id, uint64_t user_id)
{
    ngx_queue_t                 *q;
    ngx_gateway_presence_sub_t  *sub;

    if (ngx_gateway_presence_has_locked(zone, s, guild_id, user_id)) {
        return NGX_OK;
    }

    if (s->presence_subs_n >= NGX_GATEWAY_PRESENCE_SUBS_MAX) {
        q = ngx_queue_head(&s->presence_subs);
        ngx_gateway_presence_remove_locked(zone,
                   ngx_queue_data(q, ngx_gateway_presence_sub_t, link));
    }

    sub = ngx_gateway_alloc_locked(zone, sizeof(ngx_gateway_presence_sub_t));
    if (sub == NULL) {
        return NGX_ERROR;
    }

    sub->node.key = ngx_gateway_presence_key(guild_id, user_id);
    sub->guild_id = guild_id;
    sub->user_id = user_id;
    sub->session = s;

    ngx_rbtree_insert(&zone->sh->presence_subs, &sub->node);
    ngx_queue_insert_tail(&s->presence_subs, &sub->link);
    s->presence_subs_n++;

    return NGX_OK;
}


/* all of a session's subscriptions, as it ends */

void
ngx_gateway_presence_unsubscribe_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s)
{
    ngx_queue_t  *q;

    while (!ngx_queue_empty(&s->presence_subs)) {
        q = ngx_queue_head(&s->presence_subs);
        ngx_gateway_presence_remove_locked(zone,
                   ngx_queue_data(q, ngx_gateway_presence_sub_t, link));
    }
}


static void
ngx_gateway_presence_remove_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_presence_sub_t *sub)
{
    ngx_rbtree_delete(&zone->sh->presence_subs, &sub->node);
    ngx_queue_remove(&sub->link);
    sub->session->presence_subs_n--;

    ngx_gateway_free_locked(zone, sub);
}


ngx_uint_t
ngx_gateway_presence_subscribed_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, uint64_t guild_id, uint64_t user_id)
{
    if (s->presence_subs_n == 0) {
        return 0;
    }

    return ngx_gateway_presence_has_locked(zone, s, guild_id, user_id)
           || ngx_gateway_presence_has_locked(zone, s, guild_id, 0);
}


static ngx_uint_t
ngx_gateway_presence_has_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, uint64_t guild_id, uint64_t user_id)
{
    ngx_gateway_presence_sub_t  *sub;

    for (sub = ngx_gateway_presence_first_locked(zone, guild_id, user_id);
         sub;
         sub = ngx_gateway_presence_next_locked(zone, sub))
    {
        if (sub->session == s) {
            return 1;
        }
    }

    return 0;
}


/* the leftmost subscription with the key of (guild_id, user_id) */

static ngx_gateway_presence_sub_t *
ngx_gateway_presence_first_locked(ngx_gateway_zone_t *zone,
    uint64_t guild_id, uint64_t user_id)
{
    ngx_rbtree_key_t             key;
    ngx_rbtree_node_t           *node, *sentinel, *found;
    ngx_gateway_presence_sub_t  *sub;

    key = ngx_gateway_presence_key(guild_id, user_id);

    node = zone->sh->presence_subs.root;
    sentinel = zone->sh->presence_subs.sentinel;
    found = NULL;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;

        } else if (key > node->key) {
            node = node->right;

        } else {
            found = node;
            node = node->left;
        }
    }

    if (found == NULL) {
        return NULL;
    }

    sub = (ngx_gateway_presence_sub_t *) found;

    if (sub->guild_id == guild_id && sub->user_id == user_id) {
        return sub;
    }

    return ngx_gateway_presence_next_locked(zone, sub);
}


/* the next one for the same pair (keys may collide: pairs are checked) */

static ngx_gateway_presence_sub_t *
ngx_gateway_presence_next_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_presence_sub_t *sub)
{
    uint64_t            guild_id, user_id;
    ngx_rbtree_key_t    key;
    ngx_rbtree_node_t  *node;

    guild_id = sub->guild_id;
    user_id = sub->user_id;
    key = sub->node.key;
    node = &sub->node;

    for ( ;; ) {
        node = ngx_rbtree_next(&zone->sh->presence_subs, node);

        if (node == NULL || node->key != key) {
            return NULL;
        }

        sub = (ngx_gateway_presence_sub_t *) node;

        if (sub->guild_id == guild_id && sub->user_id == user_id) {
            return sub;
        }
    }
}


/*
 * The user's presence changed: PRESENCE_UPDATE in each of its guilds,
 * encoded once per guild (the guild_id is in the payload).
 */

void
ngx_gateway_presence_publish_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user)
{
    ngx_gateway_json_t     j;
    ngx_gateway_guild_t   *g;
    ngx_gateway_member_t  *m;

    if (user->guilds == 0) {
        return;
    }

    if (ngx_gateway_json_init(&j, 512, ngx_cycle->log) != NGX_OK) {
        return;
    }

    for (m = ngx_gateway_user_guilds_first_locked(zone, user->node.key);
         m;
         m = ngx_gateway_user_guilds_next_locked(zone, m))
    {
        g = ngx_gateway_guild_lookup_locked(zone, m->guild_id);

        if (g) {
            j.pos = j.start;
            ngx_gateway_presence_guild_locked(zone, g, user, &j);
        }
    }

    ngx_gateway_json_free(&j);
}


static void
ngx_gateway_presence_guild_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *g, ngx_gateway_user_t *user, ngx_gateway_json_t *j)
{
    ngx_gateway_member_t   *m;
    ngx_gateway_publish_t   pub;

    ngx_gateway_encode_dispatch(j, "PRESENCE_UPDATE");
    ngx_gateway_encode_presence(j, user, g->node.key);
    ngx_gateway_json_lit(j, "}");

    ngx_memzero(&pub, sizeof(ngx_gateway_publish_t));

    pub.blob = ngx_gateway_event_blob_locked(zone, j);

    if (pub.blob == NULL) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "gateway: no room for a presence update%s",
                      zone->shpool->log_ctx);
        return;
    }

    pub.guild_id = g->node.key;
    pub.intent = NGX_GATEWAY_INTENT_GUILD_PRESENCES;
    pub.except = user;
    pub.presence_of = user->node.key;
    pub.guild_members = g->member_count;

    if (g->member_count <= NGX_GATEWAY_PRESENCE_WALK_MAX) {

        for (m = ngx_gateway_guild_members_first_locked(zone, g->node.key);
             m;
             m = ngx_gateway_guild_members_next_locked(zone, m))
        {
            if (!ngx_queue_empty(&m->user->sessions)) {
                ngx_gateway_publish_user_locked(zone, m->user, &pub);
            }
        }

    } else {
        ngx_gateway_presence_subscribers_locked(zone, g, user->node.key,
                                                &pub);
        ngx_gateway_presence_subscribers_locked(zone, g, 0, &pub);
    }

    ngx_gateway_event_done_locked(zone, pub.blob);
}


/*
 * A large guild: the sessions subscribed to this user (or to everyone),
 * while their users are still members.  A session subscribed both ways
 * hears it once: the second walk skips the sessions the first reached.
 */

static void
ngx_gateway_presence_subscribers_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *g, uint64_t user_id, ngx_gateway_publish_t *pub)
{
    ngx_gateway_session_t       *s;
    ngx_gateway_presence_sub_t  *sub, *next;

    for (sub = ngx_gateway_presence_first_locked(zone, g->node.key, user_id);
         sub;
         sub = next)
    {
        next = ngx_gateway_presence_next_locked(zone, sub);
        s = sub->session;

        if (s->user == NULL || s->user == pub->except || s->kill_code
            || ngx_gateway_member_lookup_locked(zone, g->node.key,
                                                s->user->node.key) == NULL)
        {
            continue;
        }

        if (user_id == 0
            && ngx_gateway_presence_has_locked(zone, s, g->node.key,
                                               pub->presence_of))
        {
            continue;
        }

        ngx_gateway_publish_session_locked(zone, s, pub);
    }
}


/* the user's last session ended: it is offline to everyone (1.16) */

void
ngx_gateway_presence_offline_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user)
{
    ngx_uint_t  visible;

    visible = ngx_gateway_status_visible(user->status);

    user->status = ngx_gateway_offline;

    if (user->activities) {
        ngx_gateway_free_locked(zone, user->activities);
        user->activities = NULL;
        user->activities_len = 0;
    }

    if (visible) {
        ngx_gateway_presence_publish_locked(zone, user);
    }
}
