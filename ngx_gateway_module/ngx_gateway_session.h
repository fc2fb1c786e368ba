
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_SESSION_H_INCLUDED_
#define _NGX_GATEWAY_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_gateway.h"


/*
 * Sessions live in the zone so that any worker can resume them (DESIGN 3):
 * looked up by session_id, owned by one worker slot and generation while
 * attached, kept for the resume window once detached.  A session's
 * dispatches are numbered by "seq" and their encoded bodies, shared
 * between recipients (encode once), are referenced by its resume ring:
 * the ring is the delivery truth, and the owner writes from it.  All
 * functions ending in _locked need the zone locked.
 */

#define NGX_GATEWAY_SESSION_ID_LEN   16     /* bytes; 32 hex digits */

/*
 * The ring starts small and doubles up to the zone's ring_max dispatches
 * (gateway_resume_buffer, at most NGX_GATEWAY_RING_LIMIT), and holds at
 * most ring_bytes_max bytes of their bodies: past either, the oldest
 * entry goes, and a resume from before it gets op 9 d:false.
 */
#define NGX_GATEWAY_RING_MIN         8
#define NGX_GATEWAY_RING_LIMIT       4096

/* "no owner": the session is detached */
#define NGX_GATEWAY_NO_OWNER         -1


typedef enum {
    ngx_gateway_session_attached = 0,
    ngx_gateway_session_detached
} ngx_gateway_session_state_e;


/*
 * An encoded dispatch after its sequence number: the bytes that follow
 * '{"op":0,"s":N,' on the wire, i.e. '"t":"NAME","d":{...}}'.
 */
struct ngx_gateway_blob_s {
    uint32_t                   refs;
    uint32_t                   len;
    u_char                     data[1];
};


/*
 * A ring entry is a blob's place in the zone in 8-byte units from the
 * start of the zone (32 bits reach 32 GB): 128 entries take 512 bytes.
 */
typedef uint32_t  ngx_gateway_ring_entry_t;


struct ngx_gateway_session_s {
    ngx_rbtree_node_t          node;          /* key: the id's first bytes */
    u_char                     id[NGX_GATEWAY_SESSION_ID_LEN];
    ngx_gateway_user_t        *user;
    ngx_queue_t                user_link;     /* in user->sessions */
    ngx_queue_t                link;          /* detached or dirty queue */
    ngx_gateway_ring_entry_t  *ring;          /* seq s at [s & (size-1)] */
    ngx_queue_t                presence_subs; /* its subscriptions */
    uint64_t                   seq;           /* the last dispatched */
    uint64_t                   replay_from;   /* the first the ring holds */
    uint64_t                   conn_number;   /* the owner's connection */
    uint32_t                   conn_index;
    uint32_t                   owner_generation;
    uint32_t                   intents;
    ngx_msec_t                 detached_at;   /* monotonic ms */
    uint32_t                   ring_bytes;    /* of the bodies it holds */
    uint16_t                   ring_size;     /* a power of two */
    int16_t                    owner;         /* worker slot, or -1 */
    uint16_t                   shard_id;
    uint16_t                   num_shards;
    uint16_t                   large_threshold;
    uint16_t                   kill_code;     /* close the owner's socket */
    uint16_t                   presence_subs_n;
    uint8_t                    state;
    uint8_t                    dirty;         /* in the owner's queue */
    uint8_t                    status;        /* presence */
};


typedef struct {
    uint32_t                   intents;
    uint16_t                   shard_id;
    uint16_t                   num_shards;
    uint16_t                   large_threshold;
    uint8_t                    status;
} ngx_gateway_session_spec_t;


void ngx_gateway_session_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
ngx_gateway_session_t *ngx_gateway_session_lookup_locked(
    ngx_gateway_zone_t *zone, u_char *id);
ngx_gateway_session_t *ngx_gateway_session_create_locked(
    ngx_gateway_zone_t *zone, ngx_gateway_user_t *user,
    ngx_gateway_session_spec_t *spec);
void ngx_gateway_session_attach_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_uint_t slot, uint32_t generation,
    ngx_connection_t *c);
void ngx_gateway_session_detach_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s);
void ngx_gateway_session_delete_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s);
void ngx_gateway_session_kill_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_uint_t code);
ngx_uint_t ngx_gateway_session_expire_locked(ngx_gateway_zone_t *zone,
    ngx_msec_t timeout, ngx_uint_t max);
ngx_int_t ngx_gateway_session_dispatch_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_blob_t *blob);
void ngx_gateway_session_mark_dirty_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s);
ngx_uint_t ngx_gateway_session_owned(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s);
u_char *ngx_gateway_session_id_hex(u_char *p, ngx_gateway_session_t *s);
ngx_int_t ngx_gateway_session_id_parse(u_char *hex, size_t len, u_char *id);

ngx_gateway_blob_t *ngx_gateway_blob_create_locked(ngx_gateway_zone_t *zone,
    u_char *data, size_t len);
void ngx_gateway_blob_release_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_blob_t *blob);
ngx_gateway_blob_t *ngx_gateway_ring_get(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, uint64_t seq);


#endif /* _NGX_GATEWAY_SESSION_H_INCLUDED_ */
