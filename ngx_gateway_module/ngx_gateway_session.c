
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"

#include <openssl/rand.h>


static void ngx_gateway_ring_drop_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s);
static ngx_gateway_ring_entry_t ngx_gateway_blob_offset(
    ngx_gateway_zone_t *zone, ngx_gateway_blob_t *blob);
static ngx_int_t ngx_gateway_ring_grow_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s);


void
ngx_gateway_session_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t      **p;
    ngx_gateway_session_t   *s, *t;

    s = (ngx_gateway_session_t *) node;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            t = (ngx_gateway_session_t *) temp;

            p = (ngx_memcmp(s->id, t->id, NGX_GATEWAY_SESSION_ID_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


ngx_gateway_session_t *
ngx_gateway_session_lookup_locked(ngx_gateway_zone_t *zone, u_char *id)
{
    ngx_int_t               rc;
    ngx_rbtree_key_t        key;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_gateway_session_t  *s;

    ngx_memcpy(&key, id, sizeof(ngx_rbtree_key_t));

    node = zone->sh->sessions.root;
    sentinel = zone->sh->sessions.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        s = (ngx_gateway_session_t *) node;

        rc = ngx_memcmp(id, s->id, NGX_GATEWAY_SESSION_ID_LEN);

        if (rc == 0) {
            return s;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * A new session, attached to the calling worker.  Its id is 128 bits from
 * the CSPRNG (TESTING 3.1: a resume must not be guessable).
 */

ngx_gateway_session_t *
ngx_gateway_session_create_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user, ngx_gateway_session_spec_t *spec)
{
    ngx_gateway_session_t  *s;

    s = ngx_gateway_alloc_locked(zone, sizeof(ngx_gateway_session_t));
    if (s == NULL) {
        return NULL;
    }

    ngx_memzero(s, sizeof(ngx_gateway_session_t));

    do {
        if (RAND_bytes(s->id, NGX_GATEWAY_SESSION_ID_LEN) != 1) {
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "RAND_bytes() failed");
            ngx_gateway_free_locked(zone, s);
            return NULL;
        }

    } while (ngx_gateway_session_lookup_locked(zone, s->id));

    ngx_memcpy(&s->node.key, s->id, sizeof(ngx_rbtree_key_t));

    s->user = user;
    s->replay_from = 1;
    s->intents = spec->intents;
    s->shard_id = spec->shard_id;
    s->num_shards = spec->num_shards;
    s->large_threshold = spec->large_threshold;
    s->status = spec->status;
    s->owner = NGX_GATEWAY_NO_OWNER;
    s->state = ngx_gateway_session_detached;

    ngx_queue_init(&s->presence_subs);
    ngx_queue_insert_tail(&user->sessions, &s->user_link);
    ngx_rbtree_insert(&zone->sh->sessions, &s->node);

    /* counted as detached until attached, without being in the queue */

    ngx_queue_init(&s->link);
    zone->sh->sessions_detached++;

    return s;
}


/*
 * The session now belongs to connection c of worker "slot"; a previous
 * owner (a take-over by a resume) loses it.
 */

void
ngx_gateway_session_attach_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_uint_t slot, uint32_t generation,
    ngx_connection_t *c)
{
    ngx_gateway_sh_t  *sh;

    sh = zone->sh;

    if (s->state == ngx_gateway_session_detached) {
        ngx_queue_remove(&s->link);
        sh->sessions_detached--;

    } else {
        if (s->dirty) {
            ngx_queue_remove(&s->link);
            s->dirty = 0;
        }

        sh->workers[s->owner].sessions--;
        sh->sessions_attached--;
    }

    s->state = ngx_gateway_session_attached;
    s->owner = (int16_t) slot;
    s->owner_generation = generation;
    s->conn_index = (uint32_t) (c - ngx_cycle->connections);
    s->conn_number = c->number;
    s->kill_code = 0;

    ngx_queue_init(&s->link);

    sh->workers[slot].sessions++;
    sh->sessions_attached++;
}


/* the connection is gone: keep the session for the resume window */

void
ngx_gateway_session_detach_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s)
{
    ngx_gateway_sh_t  *sh;

    sh = zone->sh;

    if (s->state == ngx_gateway_session_detached) {
        return;
    }

    if (s->dirty) {
        ngx_queue_remove(&s->link);
        s->dirty = 0;
    }

    sh->workers[s->owner].sessions--;
    sh->sessions_attached--;

    s->state = ngx_gateway_session_detached;
    s->owner = NGX_GATEWAY_NO_OWNER;
    s->detached_at = ngx_current_msec;

    ngx_queue_insert_tail(&sh->detached, &s->link);
    sh->sessions_detached++;
}


void
ngx_gateway_session_delete_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s)
{
    uint64_t           seq;
    ngx_gateway_sh_t  *sh;

    sh = zone->sh;

    if (s->state == ngx_gateway_session_attached) {
        if (s->dirty) {
            ngx_queue_remove(&s->link);
        }

        sh->workers[s->owner].sessions--;
        sh->sessions_attached--;

    } else {
        ngx_queue_remove(&s->link);
        sh->sessions_detached--;
    }

    ngx_gateway_presence_unsubscribe_locked(zone, s);

    if (s->user) {
        ngx_queue_remove(&s->user_link);

        /* the user's last session: its presence goes offline (1.16) */

        if (ngx_queue_empty(&s->user->sessions)) {
            ngx_gateway_presence_offline_locked(zone, s->user);
        }
    }

    if (s->ring) {
        for (seq = s->replay_from; seq <= s->seq; seq++) {
            ngx_gateway_blob_release_locked(zone,
                                           ngx_gateway_ring_get(zone, s, seq));
        }

        ngx_gateway_free_locked(zone, s->ring);
    }

    ngx_rbtree_delete(&sh->sessions, &s->node);
    ngx_gateway_free_locked(zone, s);
}


/*
 * The session must end (its user was deleted): its owner closes the
 * socket with "code" and deletes it; a detached one goes at the next
 * sweep.
 */

void
ngx_gateway_session_kill_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_uint_t code)
{
    s->kill_code = (uint16_t) code;

    if (s->state == ngx_gateway_session_detached) {

        /*
         * Deleted by the next sweep rather than now: the caller may be
         * walking a list this session is in.  It cannot be resumed
         * meanwhile (kill_code is set).
         */

        ngx_queue_remove(&s->link);
        ngx_queue_insert_head(&zone->sh->detached, &s->link);
        return;
    }

    ngx_gateway_session_mark_dirty_locked(zone, s);
}


/* the resume window has run out for the oldest detached sessions */

ngx_uint_t
ngx_gateway_session_expire_locked(ngx_gateway_zone_t *zone,
    ngx_msec_t timeout, ngx_uint_t max)
{
    ngx_uint_t              n;
    ngx_queue_t            *q;
    ngx_gateway_session_t  *s;

    for (n = 0; n < max && !ngx_queue_empty(&zone->sh->detached); n++) {

        q = ngx_queue_head(&zone->sh->detached);
        s = ngx_queue_data(q, ngx_gateway_session_t, link);

        /* killed sessions wait at the head for this sweep */

        if (!s->kill_code
            && (ngx_msec_int_t) (ngx_current_msec - s->detached_at)
               < (ngx_msec_int_t) timeout)
        {
            break;
        }

        ngx_gateway_session_delete_locked(zone, s);
    }

    return n;
}


/*
 * Appends an encoded dispatch: the next seq, a reference in the ring, and
 * the owner told through its dirty queue.  A ring at its count or byte
 * limit drops its oldest entries first; a resume from before them then
 * gets op 9 d:false, and an attached connection that had not been given
 * them yet is told the same (invariant 1: never a silent gap).
 */

ngx_int_t
ngx_gateway_session_dispatch_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_blob_t *blob)
{
    uint64_t           next;
    ngx_gateway_sh_t  *sh;

    sh = zone->sh;
    next = s->seq + 1;

    if (s->ring == NULL
        || (next - s->replay_from >= s->ring_size
            && s->ring_size < sh->ring_max))
    {
        if (ngx_gateway_ring_grow_locked(zone, s) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    while (s->replay_from < next
           && (next - s->replay_from >= s->ring_size
               || s->ring_bytes + blob->len > sh->ring_bytes_max))
    {
        ngx_gateway_ring_drop_locked(zone, s);
    }

    s->seq = next;
    s->ring[next & (s->ring_size - 1)] = ngx_gateway_blob_offset(zone, blob);
    s->ring_bytes += blob->len;
    blob->refs++;

    ngx_gateway_session_mark_dirty_locked(zone, s);

    return NGX_OK;
}


static void
ngx_gateway_ring_drop_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s)
{
    ngx_gateway_blob_t  *blob;

    blob = ngx_gateway_ring_get(zone, s, s->replay_from);

    s->ring_bytes -= blob->len;
    s->replay_from++;

    ngx_gateway_blob_release_locked(zone, blob);
}


static ngx_int_t
ngx_gateway_ring_grow_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s)
{
    uint32_t                   size;
    uint64_t                   seq;
    ngx_gateway_ring_entry_t  *ring;

    size = s->ring ? s->ring_size * 2u : NGX_GATEWAY_RING_MIN;

    ring = ngx_gateway_alloc_locked(zone,
                                    size * sizeof(ngx_gateway_ring_entry_t));
    if (ring == NULL) {
        return NGX_ERROR;
    }

    if (s->ring) {
        for (seq = s->replay_from; seq <= s->seq; seq++) {
            ring[seq & (size - 1)] = s->ring[seq & (s->ring_size - 1)];
        }

        ngx_gateway_free_locked(zone, s->ring);
    }

    s->ring = ring;
    s->ring_size = (uint16_t) size;

    return NGX_OK;
}


void
ngx_gateway_session_mark_dirty_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s)
{
    if (s->state != ngx_gateway_session_attached || s->dirty) {
        return;
    }

    ngx_queue_insert_tail(&zone->sh->workers[s->owner].dirty, &s->link);
    s->dirty = 1;
}


ngx_gateway_blob_t *
ngx_gateway_ring_get(ngx_gateway_zone_t *zone, ngx_gateway_session_t *s,
    uint64_t seq)
{
    if (s->ring == NULL || seq < s->replay_from || seq > s->seq) {
        return NULL;
    }

    return (ngx_gateway_blob_t *)
               ((u_char *) zone->shpool
                + ((size_t) s->ring[seq & (s->ring_size - 1)] << 3));
}


static ngx_gateway_ring_entry_t
ngx_gateway_blob_offset(ngx_gateway_zone_t *zone, ngx_gateway_blob_t *blob)
{
    return (ngx_gateway_ring_entry_t)
               (((u_char *) blob - (u_char *) zone->shpool) >> 3);
}


ngx_gateway_blob_t *
ngx_gateway_blob_create_locked(ngx_gateway_zone_t *zone, u_char *data,
    size_t len)
{
    ngx_gateway_blob_t  *blob;

    blob = ngx_gateway_alloc_locked(zone, offsetof(ngx_gateway_blob_t, data)
                                          + len);
    if (blob == NULL) {
        return NULL;
    }

    blob->refs = 0;
    blob->len = (uint32_t) len;
    ngx_memcpy(blob->data, data, len);

    return blob;
}


void
ngx_gateway_blob_release_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_blob_t *blob)
{
    if (blob && --blob->refs == 0) {
        ngx_gateway_free_locked(zone, blob);
    }
}


u_char *
ngx_gateway_session_id_hex(u_char *p, ngx_gateway_session_t *s)
{
    return ngx_hex_dump(p, s->id, NGX_GATEWAY_SESSION_ID_LEN);
}


ngx_int_t
ngx_gateway_session_id_parse(u_char *hex, size_t len, u_char *id)
{
    ngx_int_t   hi, lo;
    ngx_uint_t  i;

    if (len != 2 * NGX_GATEWAY_SESSION_ID_LEN) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_GATEWAY_SESSION_ID_LEN; i++) {
        hi = ngx_hextoi(&hex[2 * i], 1);
        lo = ngx_hextoi(&hex[2 * i + 1], 1);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_ERROR;
        }

        id[i] = (u_char) (hi * 16 + lo);
    }

    return NGX_OK;
}
