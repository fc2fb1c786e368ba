
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_ZONE_H_INCLUDED_
#define _NGX_GATEWAY_ZONE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_gateway.h"


/*
 * The shared-memory zone: the directory (users, guilds, channels,
 * members), the sessions with their resume rings, and one record per
 * worker slot.  Everything in it is reached under the slab pool's mutex,
 * which nginx force-unlocks when a worker dies holding it (DESIGN 2.5);
 * every critical section is short and does no I/O.
 */

#define NGX_GATEWAY_DOORBELL_NAME  48


typedef struct {
    ngx_pid_t                  pid;          /* 0: slot unused */
    uint32_t                   generation;
    uint32_t                   sessions;     /* attached sessions */
    ngx_queue_t                dirty;        /* sessions to deliver to */
    uint8_t                    doorbell_len;
    u_char                     doorbell[NGX_GATEWAY_DOORBELL_NAME];
} ngx_gateway_worker_sh_t;


struct ngx_gateway_sh_s {
    ngx_rbtree_t               users;
    ngx_rbtree_node_t          users_sentinel;
    ngx_rbtree_t               guilds;
    ngx_rbtree_node_t          guilds_sentinel;
    ngx_rbtree_t               channels;
    ngx_rbtree_node_t          channels_sentinel;
    ngx_rbtree_t               members;          /* by guild, then user */
    ngx_rbtree_node_t          members_sentinel;
    ngx_rbtree_t               memberships;      /* by user, then guild */
    ngx_rbtree_node_t          memberships_sentinel;
    ngx_rbtree_t               sessions;
    ngx_rbtree_node_t          sessions_sentinel;

    /* detached sessions, oldest first: the resume window runs out here */
    ngx_queue_t                detached;

    uint64_t                   users_n;
    uint64_t                   guilds_n;
    uint64_t                   members_n;
    uint64_t                   sessions_attached;
    uint64_t                   sessions_detached;

    /* the last snowflake handed out */
    uint64_t                   snowflake;

    ngx_gateway_worker_sh_t    workers[NGX_MAX_PROCESSES];
};


struct ngx_gateway_zone_s {
    ngx_gateway_sh_t          *sh;
    ngx_slab_pool_t           *shpool;
    ngx_str_t                  name;
};


#define ngx_gateway_lock(zone)    ngx_shmtx_lock(&(zone)->shpool->mutex)
#define ngx_gateway_unlock(zone)  ngx_shmtx_unlock(&(zone)->shpool->mutex)

#define ngx_gateway_zone_get(gmcf)                                            \
    ((ngx_gateway_zone_t *)                                                   \
         ((ngx_gateway_main_conf_t *) (gmcf))->shm_zone->data)


char *ngx_gateway_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
void *ngx_gateway_alloc_locked(ngx_gateway_zone_t *zone, size_t size);
void ngx_gateway_free_locked(ngx_gateway_zone_t *zone, void *p);
u_char *ngx_gateway_strdup_locked(ngx_gateway_zone_t *zone, u_char *s,
    size_t len);
uint64_t ngx_gateway_snowflake_locked(ngx_gateway_zone_t *zone,
    ngx_uint_t node);


#endif /* _NGX_GATEWAY_ZONE_H_INCLUDED_ */
