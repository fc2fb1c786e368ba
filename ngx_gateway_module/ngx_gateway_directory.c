
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


static ngx_rbtree_node_t *ngx_gateway_tree_lookup(ngx_rbtree_t *tree,
    uint64_t key);
static ngx_rbtree_node_t *ngx_gateway_pair_lookup(ngx_rbtree_t *tree,
    uint64_t key, uint64_t pair);
static ngx_rbtree_node_t *ngx_gateway_pair_after(ngx_rbtree_t *tree,
    uint64_t key, uint64_t after);
static ngx_int_t ngx_gateway_channels_build_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *guild, ngx_gateway_guild_spec_t *spec,
    ngx_gateway_channel_t ***channels);
static ngx_int_t ngx_gateway_roles_build_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_spec_t *spec, ngx_gateway_role_t **roles,
    ngx_uint_t *n);
static void ngx_gateway_channels_free_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_channel_t **channels, ngx_uint_t n, ngx_uint_t in_tree);
static void ngx_gateway_roles_free_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_role_t *roles, ngx_uint_t n);


/* --- generic tree walks --------------------------------------------------- */

static ngx_rbtree_node_t *
ngx_gateway_tree_lookup(ngx_rbtree_t *tree, uint64_t key)
{
    ngx_rbtree_node_t  *node, *sentinel;

    node = tree->root;
    sentinel = tree->sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;

        } else if (key > node->key) {
            node = node->right;

        } else {
            return node;
        }
    }

    return NULL;
}


static ngx_rbtree_node_t *
ngx_gateway_pair_lookup(ngx_rbtree_t *tree, uint64_t key, uint64_t pair)
{
    uint64_t            other;
    ngx_rbtree_node_t  *node, *sentinel;

    node = tree->root;
    sentinel = tree->sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        other = ngx_gateway_member_pair(node);

        if (pair == other) {
            return node;
        }

        node = (pair < other) ? node->left : node->right;
    }

    return NULL;
}


/*
 * The leftmost node with this key whose pair is above "after" (ids start
 * at 1, so after = 0 finds the first): in-order walks then see the rest.
 */

static ngx_rbtree_node_t *
ngx_gateway_pair_after(ngx_rbtree_t *tree, uint64_t key, uint64_t after)
{
    ngx_rbtree_node_t  *node, *sentinel, *found;

    node = tree->root;
    sentinel = tree->sentinel;
    found = NULL;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;

        } else if (key > node->key) {
            node = node->right;

        } else if (ngx_gateway_member_pair(node) <= after) {
            node = node->right;

        } else {
            found = node;
            node = node->left;
        }
    }

    return found;
}


/* --- users ------------------------------------------------------------------ */

ngx_gateway_user_t *
ngx_gateway_user_lookup_locked(ngx_gateway_zone_t *zone, uint64_t id)
{
    return (ngx_gateway_user_t *) ngx_gateway_tree_lookup(&zone->sh->users,
                                                          id);
}


/*
 * Returns NGX_OK with *user, NGX_DECLINED when the id is taken, or
 * NGX_ERROR when the zone is full.
 */

ngx_int_t
ngx_gateway_user_create_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_spec_t *spec, ngx_gateway_user_t **user)
{
    size_t               size;
    ngx_gateway_user_t  *u;

    if (spec->id == 0) {
        spec->id = ngx_gateway_snowflake_locked(zone, 0);

    } else if (ngx_gateway_user_lookup_locked(zone, spec->id)) {
        return NGX_DECLINED;
    }

    size = offsetof(ngx_gateway_user_t, names)
           + spec->username.len + spec->global_name.len;

    u = ngx_gateway_alloc_locked(zone, size);
    if (u == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(u, offsetof(ngx_gateway_user_t, names));

    u->node.key = spec->id;
    ngx_queue_init(&u->sessions);
    u->privileged_intents = (uint32_t) spec->privileged_intents;
    u->status = ngx_gateway_offline;
    u->username_len = (uint8_t) spec->username.len;
    u->global_name_len = (uint8_t) spec->global_name.len;
    u->bot = spec->bot ? 1 : 0;

    ngx_memcpy(u->names, spec->username.data, spec->username.len);
    ngx_memcpy(u->names + spec->username.len, spec->global_name.data,
               spec->global_name.len);

    ngx_rbtree_insert(&zone->sh->users, &u->node);
    zone->sh->users_n++;

    *user = u;

    return NGX_OK;
}


/*
 * The user's sessions must have been invalidated first (they point at the
 * user); its memberships go with it.
 */

void
ngx_gateway_user_delete_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user)
{
    ngx_gateway_member_t  *m, *next;

    for (m = ngx_gateway_user_guilds_first_locked(zone, user->node.key);
         m;
         m = next)
    {
        next = ngx_gateway_user_guilds_next_locked(zone, m);
        ngx_gateway_member_remove_locked(zone, m);
    }

    ngx_rbtree_delete(&zone->sh->users, &user->node);
    zone->sh->users_n--;

    ngx_gateway_free_locked(zone, user->activities);
    ngx_gateway_free_locked(zone, user);
}


ngx_int_t
ngx_gateway_user_set_activities_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user, ngx_str_t *activities)
{
    u_char  *p;

    p = NULL;

    if (activities->len) {
        p = ngx_gateway_strdup_locked(zone, activities->data,
                                      activities->len);
        if (p == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_gateway_free_locked(zone, user->activities);

    user->activities = p;
    user->activities_len = (uint16_t) activities->len;

    return NGX_OK;
}


/* --- guilds and channels ------------------------------------------------- */

ngx_gateway_guild_t *
ngx_gateway_guild_lookup_locked(ngx_gateway_zone_t *zone, uint64_t id)
{
    return (ngx_gateway_guild_t *) ngx_gateway_tree_lookup(&zone->sh->guilds,
                                                           id);
}


ngx_gateway_channel_t *
ngx_gateway_channel_lookup_locked(ngx_gateway_zone_t *zone, uint64_t id)
{
    return (ngx_gateway_channel_t *)
               ngx_gateway_tree_lookup(&zone->sh->channels, id);
}


/*
 * Creates the guild or replaces its name, owner, channels and roles; the
 * members stay.  Nothing changes unless everything could be allocated.
 * Returns NGX_OK, NGX_DECLINED when a channel id belongs to another guild,
 * or NGX_ERROR when the zone is full.
 */

ngx_int_t
ngx_gateway_guild_put_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_spec_t *spec, ngx_gateway_guild_t **guild)
{
    ngx_int_t                rc;
    ngx_uint_t               i, roles_n, created;
    ngx_time_t              *tp;
    ngx_gateway_role_t      *roles;
    ngx_gateway_guild_t     *g;
    ngx_gateway_channel_t   *ch, **channels;
    ngx_gateway_channel_spec_t  *cs;

    g = ngx_gateway_guild_lookup_locked(zone, spec->id);

    cs = spec->channels.elts;

    for (i = 0; i < spec->channels.nelts; i++) {
        ch = ngx_gateway_channel_lookup_locked(zone, cs[i].id);

        if (ch && (g == NULL || ch->guild != g)) {
            return NGX_DECLINED;
        }
    }

    created = 0;

    if (g == NULL) {
        g = ngx_gateway_alloc_locked(zone, sizeof(ngx_gateway_guild_t)
                                           + NGX_GATEWAY_MAX_GUILD_NAME);
        if (g == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(g, sizeof(ngx_gateway_guild_t));

        tp = ngx_timeofday();

        g->node.key = spec->id;
        g->created = (uint32_t) tp->sec;
        created = 1;
    }

    rc = ngx_gateway_channels_build_locked(zone, g, spec, &channels);

    if (rc == NGX_OK) {
        rc = ngx_gateway_roles_build_locked(zone, spec, &roles, &roles_n);

        if (rc != NGX_OK) {
            ngx_gateway_channels_free_locked(zone, channels,
                                             spec->channels.nelts, 0);
        }
    }

    if (rc != NGX_OK) {
        if (created) {
            ngx_gateway_free_locked(zone, g);
        }

        return rc;
    }

    /* everything is allocated: swap the new parts in */

    if (created) {
        ngx_rbtree_insert(&zone->sh->guilds, &g->node);
        zone->sh->guilds_n++;

    } else {
        ngx_gateway_channels_free_locked(zone, g->channels, g->channels_n,
                                         1);
        ngx_gateway_roles_free_locked(zone, g->roles, g->roles_n);
    }

    for (i = 0; i < spec->channels.nelts; i++) {
        ngx_rbtree_insert(&zone->sh->channels, &channels[i]->node);
    }

    g->owner_id = spec->owner_id;
    g->channels = channels;
    g->channels_n = (uint16_t) spec->channels.nelts;
    g->roles = roles;
    g->roles_n = (uint16_t) roles_n;
    g->name_len = (uint8_t) spec->name.len;
    ngx_memcpy(g->name, spec->name.data, spec->name.len);

    *guild = g;

    return NGX_OK;
}


static ngx_int_t
ngx_gateway_channels_build_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *guild, ngx_gateway_guild_spec_t *spec,
    ngx_gateway_channel_t ***channels)
{
    ngx_uint_t                   i, n;
    ngx_gateway_channel_t       *ch, **list;
    ngx_gateway_channel_spec_t  *cs;

    n = spec->channels.nelts;
    cs = spec->channels.elts;

    list = ngx_gateway_alloc_locked(zone, (n ? n : 1) * sizeof(void *));
    if (list == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        ch = ngx_gateway_alloc_locked(zone,
                                      offsetof(ngx_gateway_channel_t, name)
                                      + cs[i].name.len);
        if (ch == NULL) {
            ngx_gateway_channels_free_locked(zone, list, i, 0);
            return NGX_ERROR;
        }

        ngx_memzero(ch, offsetof(ngx_gateway_channel_t, name));

        ch->node.key = cs[i].id;
        ch->guild = guild;
        ch->type = (uint16_t) cs[i].type;
        ch->position = (uint16_t) i;
        ch->name_len = (uint8_t) cs[i].name.len;
        ngx_memcpy(ch->name, cs[i].name.data, cs[i].name.len);

        list[i] = ch;
    }

    *channels = list;

    return NGX_OK;
}


/* the @everyone role (id = guild id) is always there, first */

static ngx_int_t
ngx_gateway_roles_build_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_spec_t *spec, ngx_gateway_role_t **roles,
    ngx_uint_t *n)
{
    ngx_uint_t                i, k, everyone;
    ngx_gateway_role_t       *list;
    ngx_gateway_role_spec_t  *rs;

    rs = spec->roles.elts;
    everyone = 1;

    for (i = 0; i < spec->roles.nelts; i++) {
        if (rs[i].id == spec->id) {
            everyone = 0;
        }
    }

    *n = spec->roles.nelts + everyone;

    list = ngx_gateway_alloc_locked(zone, *n * sizeof(ngx_gateway_role_t));
    if (list == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(list, *n * sizeof(ngx_gateway_role_t));

    k = 0;

    if (everyone) {
        list[0].id = spec->id;
        list[0].name_len = sizeof("@everyone") - 1;

        /* no process memory in the zone: even this name lives there */

        list[0].name = ngx_gateway_strdup_locked(zone, (u_char *) "@everyone",
                                                 list[0].name_len);
        if (list[0].name == NULL) {
            ngx_gateway_free_locked(zone, list);
            return NGX_ERROR;
        }

        /* Discord's default @everyone permissions */
        list[0].permissions = NGX_GATEWAY_EVERYONE_PERMISSIONS;
        k = 1;
    }

    for (i = 0; i < spec->roles.nelts; i++, k++) {
        list[k].id = rs[i].id;
        list[k].permissions = rs[i].permissions;
        list[k].color = (uint32_t) rs[i].color;
        list[k].position = (uint16_t) rs[i].position;
        list[k].name_len = (uint8_t) rs[i].name.len;

        list[k].name = ngx_gateway_strdup_locked(zone, rs[i].name.data,
                                                 rs[i].name.len);
        if (list[k].name == NULL) {
            ngx_gateway_roles_free_locked(zone, list, k);
            return NGX_ERROR;
        }
    }

    *roles = list;

    return NGX_OK;
}


static void
ngx_gateway_channels_free_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_channel_t **channels, ngx_uint_t n, ngx_uint_t in_tree)
{
    ngx_uint_t  i;

    if (channels == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        if (in_tree) {
            ngx_rbtree_delete(&zone->sh->channels, &channels[i]->node);
        }

        ngx_gateway_free_locked(zone, channels[i]);
    }

    ngx_gateway_free_locked(zone, channels);
}


static void
ngx_gateway_roles_free_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_role_t *roles, ngx_uint_t n)
{
    ngx_uint_t  i;

    if (roles == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        ngx_gateway_free_locked(zone, roles[i].name);
    }

    ngx_gateway_free_locked(zone, roles);
}


void
ngx_gateway_guild_delete_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *guild)
{
    ngx_gateway_member_t  *m, *next;

    for (m = ngx_gateway_guild_members_first_locked(zone, guild->node.key);
         m;
         m = next)
    {
        next = ngx_gateway_guild_members_next_locked(zone, m);
        ngx_gateway_member_remove_locked(zone, m);
    }

    ngx_gateway_channels_free_locked(zone, guild->channels,
                                     guild->channels_n, 1);
    ngx_gateway_roles_free_locked(zone, guild->roles, guild->roles_n);

    ngx_rbtree_delete(&zone->sh->guilds, &guild->node);
    zone->sh->guilds_n--;

    ngx_gateway_free_locked(zone, guild);
}


/* --- members ------------------------------------------------------------ */

ngx_gateway_member_t *
ngx_gateway_member_lookup_locked(ngx_gateway_zone_t *zone, uint64_t guild_id,
    uint64_t user_id)
{
    ngx_rbtree_node_t  *node;

    node = ngx_gateway_pair_lookup(&zone->sh->members, guild_id, user_id);

    return (ngx_gateway_member_t *) node;
}


/* Returns NGX_OK, NGX_DECLINED (already a member) or NGX_ERROR (full). */

ngx_int_t
ngx_gateway_member_add_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *guild, ngx_gateway_user_t *user,
    ngx_gateway_member_t **member)
{
    ngx_gateway_member_t  *m;

    m = ngx_gateway_member_lookup_locked(zone, guild->node.key,
                                         user->node.key);
    if (m) {
        *member = m;
        return NGX_DECLINED;
    }

    m = ngx_gateway_alloc_locked(zone, sizeof(ngx_gateway_member_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(m, sizeof(ngx_gateway_member_t));

    m->by_guild.key = guild->node.key;
    m->user_id = user->node.key;
    m->by_user.key = user->node.key;
    m->guild_id = guild->node.key;
    m->user = user;
    m->joined_at = (uint32_t) ngx_time();

    ngx_rbtree_insert(&zone->sh->members, &m->by_guild);
    ngx_rbtree_insert(&zone->sh->memberships, &m->by_user);

    guild->member_count++;
    user->guilds++;
    zone->sh->members_n++;

    *member = m;

    return NGX_OK;
}


void
ngx_gateway_member_remove_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_member_t *member)
{
    ngx_gateway_guild_t  *guild;

    guild = ngx_gateway_guild_lookup_locked(zone, member->guild_id);

    if (guild) {
        guild->member_count--;
    }

    member->user->guilds--;
    zone->sh->members_n--;

    ngx_rbtree_delete(&zone->sh->members, &member->by_guild);
    ngx_rbtree_delete(&zone->sh->memberships, &member->by_user);

    ngx_gateway_free_locked(zone, member->extra);
    ngx_gateway_free_locked(zone, member);
}


ngx_gateway_member_t *
ngx_gateway_guild_members_first_locked(ngx_gateway_zone_t *zone,
    uint64_t guild_id)
{
    return (ngx_gateway_member_t *)
               ngx_gateway_pair_after(&zone->sh->members, guild_id, 0);
}


/* the guild's members with ids above user_id, in order of their ids */

ngx_gateway_member_t *
ngx_gateway_guild_members_after_locked(ngx_gateway_zone_t *zone,
    uint64_t guild_id, uint64_t user_id)
{
    return (ngx_gateway_member_t *)
               ngx_gateway_pair_after(&zone->sh->members, guild_id, user_id);
}


ngx_gateway_member_t *
ngx_gateway_guild_members_next_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_member_t *member)
{
    ngx_rbtree_node_t  *node;

    node = ngx_rbtree_next(&zone->sh->members, &member->by_guild);

    if (node == NULL || node->key != member->by_guild.key) {
        return NULL;
    }

    return (ngx_gateway_member_t *) node;
}


ngx_gateway_member_t *
ngx_gateway_user_guilds_first_locked(ngx_gateway_zone_t *zone,
    uint64_t user_id)
{
    ngx_rbtree_node_t  *node;

    node = ngx_gateway_pair_after(&zone->sh->memberships, user_id, 0);

    return node ? ngx_gateway_member_of_user_node(node) : NULL;
}


ngx_gateway_member_t *
ngx_gateway_user_guilds_next_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_member_t *member)
{
    ngx_rbtree_node_t  *node;

    node = ngx_rbtree_next(&zone->sh->memberships, &member->by_user);

    if (node == NULL || node->key != member->by_user.key) {
        return NULL;
    }

    return ngx_gateway_member_of_user_node(node);
}
