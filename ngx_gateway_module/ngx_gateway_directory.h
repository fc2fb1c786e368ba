
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_DIRECTORY_H_INCLUDED_
#define _NGX_GATEWAY_DIRECTORY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_gateway.h"


/*
 * The directory of embedded mode: users, guilds with their channels and
 * roles, and members, all in the gateway zone.  Every function here must
 * be called with the zone locked.  Records are sized for the slab's
 * power-of-two classes: a member is 128 bytes, a user 128 with short
 * names, so a 100k-member guild costs about 12.5 MB.
 */

#define NGX_GATEWAY_MAX_NAME        32      /* username, global_name, nick */
#define NGX_GATEWAY_MAX_GUILD_NAME  100
#define NGX_GATEWAY_MAX_CHANNELS    500     /* Discord's limit per guild */
#define NGX_GATEWAY_MAX_ROLES       250     /* Discord's limit per guild */

/* what Discord gives @everyone in a new guild */
#define NGX_GATEWAY_EVERYONE_PERMISSIONS  104324673


struct ngx_gateway_user_s {
    ngx_rbtree_node_t          node;             /* key: user id */
    ngx_queue_t                sessions;         /* .user_link */
    u_char                    *activities;       /* a JSON array, or NULL */
    uint32_t                   guilds;           /* memberships */
    uint32_t                   privileged_intents;
    uint32_t                   starts_window;    /* unix seconds */
    uint32_t                   starts;           /* identifies in it */
    uint16_t                   activities_len;
    uint8_t                    status;           /* ngx_gateway_status_e */
    uint8_t                    username_len;
    uint8_t                    global_name_len;
    uint8_t                    bot;
    u_char                     names[1];         /* username, global_name */
};


struct ngx_gateway_channel_s {
    ngx_rbtree_node_t          node;             /* key: channel id */
    ngx_gateway_guild_t       *guild;
    uint16_t                   type;
    uint16_t                   position;
    uint8_t                    name_len;
    u_char                     name[1];
};


struct ngx_gateway_role_s {
    uint64_t                   id;
    uint64_t                   permissions;
    u_char                    *name;
    uint32_t                   color;
    uint16_t                   position;
    uint8_t                    name_len;
};


struct ngx_gateway_guild_s {
    ngx_rbtree_node_t          node;             /* key: guild id */
    uint64_t                   owner_id;
    ngx_gateway_channel_t    **channels;
    ngx_gateway_role_t        *roles;
    uint32_t                   member_count;
    uint32_t                   voice_n;          /* members in voice */
    uint32_t                   created;          /* unix seconds */
    uint16_t                   channels_n;
    uint16_t                   roles_n;
    uint8_t                    name_len;
    u_char                     name[1];
};


/* what few members have: a nickname, roles */
typedef struct {
    uint16_t                   roles_n;
    uint8_t                    nick_len;
    u_char                     nick[NGX_GATEWAY_MAX_NAME];
    uint64_t                   roles[1];
} ngx_gateway_member_extra_t;


/*
 * One member record sits in two trees, by (guild, user) and by
 * (user, guild); each node is followed by the second half of its key.
 */
struct ngx_gateway_member_s {
    ngx_rbtree_node_t          by_guild;         /* key: guild id */
    uint64_t                   user_id;
    ngx_rbtree_node_t          by_user;          /* key: user id */
    uint64_t                   guild_id;
    ngx_gateway_user_t        *user;
    ngx_gateway_member_extra_t *extra;
    uint64_t                   voice_channel;    /* 0: not in voice */
    uint32_t                   joined_at;        /* unix seconds */
    uint8_t                    self_mute;
    uint8_t                    self_deaf;
};


#define ngx_gateway_member_pair(node)                                         \
    (*(uint64_t *) ((u_char *) (node) + sizeof(ngx_rbtree_node_t)))

#define ngx_gateway_member_of_user_node(node)                                 \
    ((ngx_gateway_member_t *)                                                 \
         ((u_char *) (node) - offsetof(ngx_gateway_member_t, by_user)))

#define ngx_gateway_user_global_name(u)  ((u)->names + (u)->username_len)


/* the fields of a new or replaced record, as parsed from JSON */

typedef struct {
    uint64_t                   id;
    ngx_str_t                  username;
    ngx_str_t                  global_name;
    ngx_uint_t                 bot;
    ngx_uint_t                 privileged_intents;
} ngx_gateway_user_spec_t;


typedef struct {
    uint64_t                   id;
    ngx_str_t                  name;
    ngx_uint_t                 type;
} ngx_gateway_channel_spec_t;


typedef struct {
    uint64_t                   id;
    ngx_str_t                  name;
    uint64_t                   permissions;
    ngx_uint_t                 color;
    ngx_uint_t                 position;
} ngx_gateway_role_spec_t;


typedef struct {
    uint64_t                   id;
    uint64_t                   owner_id;
    ngx_str_t                  name;
    ngx_array_t                channels;     /* ngx_gateway_channel_spec_t */
    ngx_array_t                roles;        /* ngx_gateway_role_spec_t */
} ngx_gateway_guild_spec_t;


ngx_gateway_user_t *ngx_gateway_user_lookup_locked(ngx_gateway_zone_t *zone,
    uint64_t id);
ngx_int_t ngx_gateway_user_create_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_spec_t *spec, ngx_gateway_user_t **user);
void ngx_gateway_user_delete_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user);
ngx_int_t ngx_gateway_user_set_activities_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user, ngx_str_t *activities);

ngx_gateway_guild_t *ngx_gateway_guild_lookup_locked(
    ngx_gateway_zone_t *zone, uint64_t id);
ngx_int_t ngx_gateway_guild_put_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_spec_t *spec, ngx_gateway_guild_t **guild);
void ngx_gateway_guild_delete_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *guild);

ngx_gateway_channel_t *ngx_gateway_channel_lookup_locked(
    ngx_gateway_zone_t *zone, uint64_t id);

ngx_gateway_member_t *ngx_gateway_member_lookup_locked(
    ngx_gateway_zone_t *zone, uint64_t guild_id, uint64_t user_id);
ngx_int_t ngx_gateway_member_add_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *guild, ngx_gateway_user_t *user,
    ngx_gateway_member_t **member);
void ngx_gateway_member_remove_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_member_t *member);

ngx_gateway_member_t *ngx_gateway_guild_members_first_locked(
    ngx_gateway_zone_t *zone, uint64_t guild_id);
ngx_gateway_member_t *ngx_gateway_guild_members_after_locked(
    ngx_gateway_zone_t *zone, uint64_t guild_id, uint64_t user_id);
ngx_gateway_member_t *ngx_gateway_guild_members_next_locked(
    ngx_gateway_zone_t *zone, ngx_gateway_member_t *member);
ngx_gateway_member_t *ngx_gateway_user_guilds_first_locked(
    ngx_gateway_zone_t *zone, uint64_t user_id);
ngx_gateway_member_t *ngx_gateway_user_guilds_next_locked(
    ngx_gateway_zone_t *zone, ngx_gateway_member_t *member);


#endif /* _NGX_GATEWAY_DIRECTORY_H_INCLUDED_ */
