
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

/*
 * The zone outlives a reload, which may load a newer module: a zone laid
 * out by another version is refused instead of misread.  Bump this with
 * any change to the records below or in the other headers.
 */
#define NGX_GATEWAY_ZONE_LAYOUT    0x67770007

/* Discord's epoch, 2015-01-01T00:00:00Z, in milliseconds: snowflakes
 * carry the milliseconds since then in their top 42 bits */
#define NGX_GATEWAY_EPOCH_MS       1420070400000ULL

#define ngx_gateway_snowflake_ms(id)  (((id) >> 22) + NGX_GATEWAY_EPOCH_MS)

/* remembered "all members" requests of op 8, for their rate limit */
#define NGX_GATEWAY_MEMBER_REQUESTS_BITS  10
#define NGX_GATEWAY_MEMBER_REQUESTS  (1 << NGX_GATEWAY_MEMBER_REQUESTS_BITS)


/* the owners to ring once the zone is unlocked */
typedef struct {
    uint64_t                   bits[NGX_MAX_PROCESSES / 64];
    ngx_uint_t                 any;
} ngx_gateway_doorbells_t;


typedef struct {
    uint64_t                   guild_id;
    uint64_t                   user_id;
    ngx_msec_t                 at;
} ngx_gateway_member_request_t;


/* the last Identify of a user's bucket (1.11), for the identify interval */
#define NGX_GATEWAY_IDENTIFY_BUCKETS_BITS  12

typedef struct {
    uint64_t                   user_id;
    ngx_msec_t                 at;
    uint32_t                   bucket;
} ngx_gateway_identify_bucket_t;


/* sockets whose sessions were resumed elsewhere, for their worker to close */
#define NGX_GATEWAY_EVICTIONS      8

typedef struct {
    uint64_t                   conn_number;
    uint32_t                   conn_index;
} ngx_gateway_eviction_t;


typedef struct {
    ngx_pid_t                  pid;          /* 0: slot unused */
    uint32_t                   generation;
    uint32_t                   sessions;     /* attached sessions */
    ngx_queue_t                dirty;        /* sessions to deliver to */
    ngx_uint_t                 evict_n;
    ngx_gateway_eviction_t     evict[NGX_GATEWAY_EVICTIONS];
    uint8_t                    doorbell_len;
    u_char                     doorbell[NGX_GATEWAY_DOORBELL_NAME];
} ngx_gateway_worker_sh_t;


struct ngx_gateway_sh_s {
    uint64_t                   layout;           /* first, see above */
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

    /* upgrades per client address (gateway_upgrade_limit) */
    ngx_rbtree_t               upgrade_limits;
    ngx_rbtree_node_t          upgrade_limits_sentinel;
    ngx_queue_t                upgrade_lru;

    /* who asked for whose presence in large guilds (op 8 "presences") */
    ngx_rbtree_t               presence_subs;
    ngx_rbtree_node_t          presence_subs_sentinel;

    ngx_gateway_member_request_t  member_requests[NGX_GATEWAY_MEMBER_REQUESTS];
    ngx_gateway_identify_bucket_t
                  identify_buckets[1 << NGX_GATEWAY_IDENTIFY_BUCKETS_BITS];

    /* detached sessions, oldest first: the resume window runs out here */
    ngx_queue_t                detached;

    uint64_t                   users_n;
    uint64_t                   guilds_n;
    uint64_t                   members_n;
    uint64_t                   sessions_attached;
    uint64_t                   sessions_detached;

    /* the last snowflake handed out */
    uint64_t                   snowflake;

    /* resume rings: gateway_resume_buffer */
    uint32_t                   ring_max;
    uint32_t                   ring_bytes_max;

    ngx_gateway_worker_sh_t    workers[NGX_MAX_PROCESSES];
};


/* per process: the zone, and the owners that events under the lock made */
struct ngx_gateway_zone_s {
    ngx_gateway_sh_t          *sh;
    ngx_gateway_main_conf_t   *gmcf;
    ngx_slab_pool_t           *shpool;
    ngx_str_t                  name;
    ngx_gateway_doorbells_t    pending;
};


/*
 * Code that publishes deep inside other work (a presence going offline as
 * a session is deleted) adds owners to zone->pending; they are rung as the
 * lock is released, never under it.
 */
#define ngx_gateway_lock(zone)    ngx_shmtx_lock(&(zone)->shpool->mutex)

#define ngx_gateway_unlock(zone)                                              \
    do {                                                                      \
        ngx_shmtx_unlock(&(zone)->shpool->mutex);                             \
        if ((zone)->pending.any) {                                            \
            ngx_gateway_ring_pending(zone);                                   \
        }                                                                     \
    } while (0)

#define ngx_gateway_zone_get(gmcf)                                            \
    ((ngx_gateway_zone_t *)                                                   \
         ((ngx_gateway_main_conf_t *) (gmcf))->shm_zone->data)


char *ngx_gateway_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
void *ngx_gateway_alloc_locked(ngx_gateway_zone_t *zone, size_t size);
void ngx_gateway_free_locked(ngx_gateway_zone_t *zone, void *p);
u_char *ngx_gateway_strdup_locked(ngx_gateway_zone_t *zone, u_char *s,
    size_t len);
void ngx_gateway_ring_pending(ngx_gateway_zone_t *zone);
uint64_t ngx_gateway_snowflake_locked(ngx_gateway_zone_t *zone,
    ngx_uint_t node);


#endif /* _NGX_GATEWAY_ZONE_H_INCLUDED_ */
