
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * The owner's side of delivery (DESIGN 3): a session on this worker's
 * dirty queue has dispatches in its ring past what its connection was
 * given; each goes out as a frame whose head holds the WebSocket header
 * and the per-session prefix '{"op":0,"s":N,' and whose body is the
 * encoded dispatch in the zone, shared with every other recipient and
 * referenced until the frame is written.
 */

/* sessions served per drain before polling the sockets again */
#define NGX_GATEWAY_DELIVER_MAX     1024

/* sessions taken off the dirty queue under one lock */
#define NGX_GATEWAY_DELIVER_BATCH   64

/* the blobs a batch may hold: room for whole rings, at least 2 */
#define NGX_GATEWAY_DELIVER_BLOBS   8192

/* written frames whose blobs are released together, under one lock */
#define NGX_GATEWAY_RELEASE_BATCH   1024

#define NGX_GATEWAY_PREFIX_MAX      (sizeof("{\"op\":0,\"s\":,") - 1     \
                                     + NGX_INT64_LEN)


typedef struct {
    ngx_ws_out_t               out;
    ngx_gateway_zone_t        *zone;
    ngx_gateway_blob_t        *blob;
    ngx_ws_main_t             *mem;
} ngx_gateway_out_t;


/* one session of a batch, and what it is to be given */
typedef struct {
    ngx_ws_conn_t             *ws;
    ngx_uint_t                 first;         /* in the batch's blobs */
    ngx_uint_t                 n;
    ngx_uint_t                 kill_code;
    ngx_int_t                  rc;
} ngx_gateway_delivery_t;


static ngx_uint_t ngx_gateway_deliver_batch_locked(ngx_gateway_zone_t *zone,
    ngx_queue_t *dirty, ngx_gateway_delivery_t *batch,
    ngx_gateway_blob_t **blobs);
static ngx_ws_conn_t *ngx_gateway_session_conn(ngx_gateway_session_t *s);
static void ngx_gateway_out_free(ngx_ws_out_t *out);
static void ngx_gateway_release(ngx_gateway_zone_t *zone,
    ngx_gateway_blob_t *blob);
static size_t ngx_gateway_frame_head(u_char *head, uint64_t seq,
    size_t body_len);


/*
 * Blobs of written frames wait here to be released together: one lock
 * for many frames rather than one each.  The worker is single-threaded,
 * so plain static storage serves.
 */
static ngx_gateway_blob_t  *ngx_gateway_releases[NGX_GATEWAY_RELEASE_BATCH];
static ngx_uint_t           ngx_gateway_nreleases;


/*
 * The dirty queue, a batch of sessions per lock: each session's new ring
 * entries are referenced under the lock and written after it.
 */

void
ngx_gateway_deliver_queue(ngx_gateway_main_conf_t *gmcf)
{
    ngx_uint_t               i, n, total;
    ngx_queue_t             *dirty;
    ngx_gateway_zone_t      *zone;
    ngx_gateway_blob_t      *blobs[NGX_GATEWAY_DELIVER_BLOBS];
    ngx_gateway_delivery_t   batch[NGX_GATEWAY_DELIVER_BATCH], *d;

    zone = ngx_gateway_zone_get(gmcf);
    dirty = &zone->sh->workers[gmcf->slot].dirty;

    ngx_gateway_evictions(gmcf);

    for (total = 0; total < NGX_GATEWAY_DELIVER_MAX; total += n) {

        ngx_gateway_lock(zone);
        n = ngx_gateway_deliver_batch_locked(zone, dirty, batch, blobs);
        ngx_gateway_unlock(zone);

        if (n == 0) {
            ngx_gateway_release_flush(zone);
            return;
        }

        for (i = 0; i < n; i++) {
            d = &batch[i];

            if (d->ws == NULL) {
                continue;
            }

            /* written right here, not from a posted event per socket */

            ngx_ws_begin(d->ws);

            if (d->kill_code) {
                ngx_gateway_close(d->ws, d->kill_code);

            } else if (d->rc == NGX_DECLINED) {
                ngx_gateway_invalidate(d->ws,
                                       "dispatches outran the resume ring");

            } else {
                (void) ngx_gateway_write_blobs(d->ws, zone, &blobs[d->first],
                                               d->n);
            }

            ngx_ws_end(d->ws);
        }
    }

    ngx_gateway_release_flush(zone);

    /*
     * More to do: after the sockets have been polled once more, so that
     * new requests and client input are not starved by a long queue (a
     * drain posted to ngx_posted_events would run again in this round).
     */

    if (!gmcf->drain.posted) {
        ngx_post_event(&gmcf->drain, &ngx_posted_next_events);
    }
}


/*
 * Up to a batch of sessions off the dirty queue, as long as the blob
 * buffer can take a whole ring more; kills are carried out here.
 */

static ngx_uint_t
ngx_gateway_deliver_batch_locked(ngx_gateway_zone_t *zone, ngx_queue_t *dirty,
    ngx_gateway_delivery_t *batch, ngx_gateway_blob_t **blobs)
{
    ngx_uint_t               n, used;
    ngx_queue_t             *q;
    ngx_ws_conn_t           *ws;
    ngx_gateway_conn_t      *ctx;
    ngx_gateway_session_t   *s;
    ngx_gateway_delivery_t  *d;

    used = 0;

    for (n = 0; n < NGX_GATEWAY_DELIVER_BATCH && !ngx_queue_empty(dirty);
         n++)
    {
        q = ngx_queue_head(dirty);
        s = ngx_queue_data(q, ngx_gateway_session_t, link);

        if (used + NGX_GATEWAY_RING_LIMIT > NGX_GATEWAY_DELIVER_BLOBS) {
            break;
        }

        ngx_queue_remove(q);
        ngx_queue_init(q);
        s->dirty = 0;

        d = &batch[n];
        d->n = 0;
        d->first = used;
        d->kill_code = 0;
        d->rc = NGX_OK;

        ws = ngx_gateway_session_conn(s);
        d->ws = ws;

        if (ws == NULL) {

            /* the connection went without detaching: should not happen */

            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "gateway: session without its connection");
            ngx_gateway_session_detach_locked(zone, s);
            continue;
        }

        ctx = ngx_ws_ctx(ws);

        if (s->kill_code) {
            d->kill_code = s->kill_code;
            ctx->session = NULL;
            ngx_gateway_session_delete_locked(zone, s);
            continue;
        }

        d->rc = ngx_gateway_collect_locked(zone, s, ctx, &blobs[used],
                                           &d->n);
        used += d->n;
    }

    return n;
}


/* what the owner delivers to one of its own sessions right now */

ngx_int_t
ngx_gateway_deliver_session(ngx_ws_conn_t *ws)
{
    ngx_int_t                 rc;
    ngx_uint_t                n;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_conn_t       *ctx;
    ngx_gateway_blob_t       *blobs[NGX_GATEWAY_RING_LIMIT];
    ngx_gateway_session_t    *s;

    ctx = ngx_ws_ctx(ws);
    s = ctx->session;

    if (s == NULL) {
        return NGX_OK;
    }

    zone = ngx_gateway_zone_get(ngx_gateway_main_conf());

    ngx_gateway_lock(zone);

    if (!ngx_gateway_session_is(s, ws->connection)) {
        ngx_gateway_unlock(zone);
        return NGX_OK;
    }

    if (s->dirty) {
        ngx_queue_remove(&s->link);
        ngx_queue_init(&s->link);
        s->dirty = 0;
    }

    rc = ngx_gateway_collect_locked(zone, s, ctx, blobs, &n);

    ngx_gateway_unlock(zone);

    if (rc == NGX_DECLINED) {
        ngx_gateway_invalidate(ws, "dispatches outran the resume ring");
        return NGX_ERROR;
    }

    return ngx_gateway_write_blobs(ws, zone, blobs, n);
}


/*
 * The connection of a session this worker owns, found by its slot in
 * nginx's connection array and checked by the connection's serial number:
 * the zone holds no pointers into a process.
 */

static ngx_ws_conn_t *
ngx_gateway_session_conn(ngx_gateway_session_t *s)
{
    ngx_ws_conn_t       *ws;
    ngx_connection_t    *c;
    ngx_gateway_conn_t  *ctx;

    if (!ngx_gateway_session_mine(s)
        || s->conn_index >= ngx_cycle->connection_n)
    {
        return NULL;
    }

    c = &ngx_cycle->connections[s->conn_index];

    if (c->fd == (ngx_socket_t) -1 || c->number != s->conn_number) {
        return NULL;
    }

    ws = c->data;
    ctx = ngx_ws_ctx(ws);

    return (ctx->session == s) ? ws : NULL;
}


/*
 * References (under the lock) to the dispatches the connection has not
 * been given yet.  NGX_DECLINED: some were dropped from the ring before
 * this connection took them (it fell more than a ring behind).
 */

ngx_int_t
ngx_gateway_collect_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_conn_t *ctx,
    ngx_gateway_blob_t **blobs, ngx_uint_t *n)
{
    uint64_t             seq;
    ngx_gateway_blob_t  *blob;

    *n = 0;

    if (ctx->written >= s->seq) {
        return NGX_OK;
    }

    if (ctx->written + 1 < s->replay_from) {
        return NGX_DECLINED;
    }

    for (seq = ctx->written + 1; seq <= s->seq; seq++) {
        blob = ngx_gateway_ring_get(zone, s, seq);
        blob->refs++;
        blobs[(*n)++] = blob;
    }

    ctx->written = s->seq;

    return NGX_OK;
}


/* the collected blobs as frames; the last of them is seq ctx->written */

ngx_int_t
ngx_gateway_write_blobs(ngx_ws_conn_t *ws, ngx_gateway_zone_t *zone,
    ngx_gateway_blob_t **blobs, ngx_uint_t n)
{
    uint64_t             seq;
    ngx_uint_t           i;
    ngx_gateway_out_t   *o;
    ngx_gateway_conn_t  *ctx;

    ctx = ngx_ws_ctx(ws);
    seq = ctx->written - n;

    for (i = 0; i < n; i++) {
        seq++;

        o = ngx_ws_alloc(ws->conf->main, sizeof(ngx_gateway_out_t),
                         ws->connection->log);

        if (o == NULL) {
            ngx_gateway_lock(zone);

            for ( /* void */ ; i < n; i++) {
                ngx_gateway_blob_release_locked(zone, blobs[i]);
            }

            ngx_gateway_unlock(zone);

            ngx_ws_abort(ws, "out of memory");
            return NGX_ERROR;
        }

        o->zone = zone;
        o->blob = blobs[i];
        o->mem = ws->conf->main;

        o->out.free = ngx_gateway_out_free;
        o->out.data = o;
        o->out.head_pos = 0;
        o->out.head_last = (uint8_t) ngx_gateway_frame_head(o->out.head, seq,
                                                         blobs[i]->len);
        o->out.pos = blobs[i]->data;
        o->out.last = blobs[i]->data + blobs[i]->len;

        /* a failure here (slow consumer) has freed the entry already */

        if (ngx_ws_send_out(ws, &o->out, o->out.head_last + blobs[i]->len)
            != NGX_OK)
        {
            ngx_gateway_lock(zone);

            for (i++; i < n; i++) {
                ngx_gateway_blob_release_locked(zone, blobs[i]);
            }

            ngx_gateway_unlock(zone);

            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_gateway_out_free(ngx_ws_out_t *out)
{
    ngx_gateway_out_t  *o;

    o = out->data;

    ngx_gateway_release(o->zone, o->blob);

    ngx_ws_free(o->mem, o);
}


static void
ngx_gateway_release(ngx_gateway_zone_t *zone, ngx_gateway_blob_t *blob)
{
    if (ngx_gateway_nreleases == NGX_GATEWAY_RELEASE_BATCH) {
        ngx_gateway_release_flush(zone);
    }

    ngx_gateway_releases[ngx_gateway_nreleases++] = blob;
}


/* the blobs of written frames, released at the end of a drain or sooner */

void
ngx_gateway_release_flush(ngx_gateway_zone_t *zone)
{
    ngx_uint_t  i;

    if (ngx_gateway_nreleases == 0) {
        return;
    }

    ngx_gateway_lock(zone);

    for (i = 0; i < ngx_gateway_nreleases; i++) {
        ngx_gateway_blob_release_locked(zone, ngx_gateway_releases[i]);
    }

    ngx_gateway_unlock(zone);

    ngx_gateway_nreleases = 0;
}


/* the WebSocket header and '{"op":0,"s":N,' in front of an encoded body */

static size_t
ngx_gateway_frame_head(u_char *head, uint64_t seq, size_t body_len)
{
    u_char   prefix[NGX_GATEWAY_PREFIX_MAX];
    size_t   n, len;

    len = ngx_sprintf(prefix, "{\"op\":0,\"s\":%uL,", seq) - prefix;

    n = ngx_ws_frame_header(head, NGX_WS_OPCODE_TEXT, 1, len + body_len);

    ngx_memcpy(head + n, prefix, len);

    return n + len;
}


/*
 * A dispatch that is not in the ring (the READY and GUILD_CREATE burst of
 * an Identify): a private copy, framed the same way.
 */

ngx_int_t
ngx_gateway_send_dispatch(ngx_ws_conn_t *ws, uint64_t seq, u_char *body,
    size_t len)
{
    ngx_ws_out_t  *out;

    out = ngx_ws_out_alloc(ws, len);
    if (out == NULL) {
        return NGX_ERROR;
    }

    out->head_last = (uint8_t) ngx_gateway_frame_head(out->head, seq, len);
    out->last = ngx_cpymem(out->pos, body, len);

    return ngx_ws_send_out(ws, out, out->head_last + len);
}
