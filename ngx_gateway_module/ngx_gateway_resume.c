
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * op 6 Resume (shared/PROTOCOL.md 1.8, DESIGN 3): on any worker, a session
 * of the token's user whose ring still holds every dispatch after the
 * client's seq is taken over by this connection; the missed dispatches go
 * out with their original s, then RESUMED with the next one.  Anything
 * else (unknown, expired or ended session, another user's, a seq outside
 * the ring) is op 9 d:false, and nothing of the session is shown.
 *
 * A session still attached elsewhere (the client's old socket has not
 * noticed it is dead) changes owner here; its old worker is told through
 * its eviction queue in the zone and closes the old socket.
 */

/* the old socket of a taken-over session: "session invalidated" (1.9) */
#define NGX_GATEWAY_CLOSE_TAKEN_OVER  NGX_GATEWAY_CLOSE_NOT_AUTHENTICATED


static ngx_int_t ngx_gateway_resume_locked(ngx_ws_conn_t *ws,
    ngx_gateway_zone_t *zone, u_char *id, uint64_t user_id, uint64_t seq,
    ngx_gateway_blob_t **replay, ngx_uint_t *n);
static void ngx_gateway_evict_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s);


/* the slot and generation of the last full eviction queue warned about */
static ngx_int_t  ngx_gateway_evict_warned_slot = -1;
static uint32_t   ngx_gateway_evict_warned_generation;


ngx_int_t
ngx_gateway_op_resume(ngx_ws_conn_t *ws, json_t *d)
{
    u_char                    id[NGX_GATEWAY_SESSION_ID_LEN];
    json_t                   *v;
    uint64_t                  user_id;
    ngx_int_t                 rc;
    ngx_uint_t                n;
    ngx_gateway_blob_t       *replay[NGX_GATEWAY_RING_LIMIT];
    ngx_str_t                 token, sid;
    json_int_t                seq;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_main_conf_t  *gmcf;

    if (!json_is_object(d)
        || ngx_gateway_json_string(json_object_get(d, "token"), &token,
                                   NGX_GATEWAY_MAX_PAYLOAD)
           != NGX_OK
        || ngx_gateway_json_string(json_object_get(d, "session_id"), &sid,
                                   NGX_GATEWAY_MAX_PAYLOAD)
           != NGX_OK)
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Resume: token, session_id and seq are required");
        return NGX_OK;
    }

    /* seq: the last s the client received; null before the first one */

    v = json_object_get(d, "seq");

    if (json_is_null(v)) {
        seq = 0;

    } else if (json_is_integer(v) && json_integer_value(v) >= 0) {
        seq = json_integer_value(v);

    } else {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Resume: seq must be an integer from 0");
        return NGX_OK;
    }

    gmcf = ngx_gateway_main_conf();

    if (ngx_gateway_token_verify(&gmcf->token_secret, token.data, token.len,
                                 &user_id)
        != NGX_OK)
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_AUTH_FAILED, "invalid token");
        return NGX_OK;
    }

    if (ngx_gateway_session_id_parse(sid.data, sid.len, id) != NGX_OK) {
        return ngx_gateway_send_op(ws, NGX_GATEWAY_OP_INVALID_SESSION,
                                   "false");
    }

    zone = ngx_gateway_zone_get(gmcf);

    ngx_gateway_lock(zone);

    rc = ngx_gateway_resume_locked(ws, zone, id, user_id, (uint64_t) seq,
                                   replay, &n);

    ngx_gateway_unlock(zone);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                      "gateway: resume of session %*s at seq %L refused",
                      sid.len, sid.data, (int64_t) seq);

        return ngx_gateway_send_op(ws, NGX_GATEWAY_OP_INVALID_SESSION,
                                   "false");
    }

    if (rc != NGX_OK) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_UNKNOWN_ERROR,
                         "the gateway zone is full");
        return NGX_OK;
    }

    /* the missed dispatches, then RESUMED and what came since */

    if (ngx_gateway_write_blobs(ws, zone, replay, n) != NGX_OK) {
        return NGX_OK;
    }

    (void) ngx_gateway_deliver_session(ws);

    return NGX_OK;
}


/* NGX_OK: resumed; NGX_DECLINED: op 9 d:false; NGX_ERROR: the zone is full */

static ngx_int_t
ngx_gateway_resume_locked(ngx_ws_conn_t *ws, ngx_gateway_zone_t *zone,
    u_char *id, uint64_t user_id, uint64_t seq, ngx_gateway_blob_t **replay,
    ngx_uint_t *n)
{
    ngx_uint_t                i;
    ngx_gateway_json_t        j;
    ngx_gateway_conn_t       *ctx;
    ngx_gateway_blob_t       *blob;
    ngx_gateway_session_t    *s;
    ngx_gateway_main_conf_t  *gmcf;

    ctx = ngx_ws_ctx(ws);
    gmcf = zone->gmcf;
    *n = 0;

    s = ngx_gateway_session_lookup_locked(zone, id);

    /* another user's session looks like no session at all */

    if (s == NULL || s->kill_code || s->user == NULL
        || s->user->node.key != user_id)
    {
        return NGX_DECLINED;
    }

    /*
     * Everything after seq must still be in the ring: seq at most the last
     * dispatched, seq + 1 at least the oldest kept (the Identify burst is
     * never kept, so a client that missed part of it identifies anew).
     */

    if (seq > s->seq || seq + 1 < s->replay_from) {
        return NGX_DECLINED;
    }

    if (ngx_gateway_json_init(&j, 128, ws->connection->log) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_gateway_encode_dispatch(&j, "RESUMED");
    ngx_gateway_json_lit(&j, "{\"_trace\":[\"gateway\"]}}");

    blob = ngx_gateway_event_blob_locked(zone, &j);

    ngx_gateway_json_free(&j);

    if (blob == NULL) {
        return NGX_ERROR;
    }

    if (s->state == ngx_gateway_session_attached) {
        ngx_gateway_evict_locked(zone, s);
    }

    ngx_gateway_session_attach_locked(zone, s, gmcf->slot, gmcf->generation,
                                      ws->connection);

    ctx->session = s;
    ctx->written = seq;
    ctx->phase = ngx_gateway_phase_ready;

    /*
     * The replay is referenced before RESUMED is appended: in a full ring
     * the append drops the oldest entry, which may be the first one the
     * client needs.
     */

    (void) ngx_gateway_collect_locked(zone, s, ctx, replay, n);

    if (ngx_gateway_session_dispatch_locked(zone, s, blob) != NGX_OK) {
        ngx_gateway_event_done_locked(zone, blob);

        for (i = 0; i < *n; i++) {
            ngx_gateway_blob_release_locked(zone, replay[i]);
        }

        *n = 0;

        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The session's current socket must go: its worker gets the socket's
 * place in its eviction queue and a doorbell.  A full queue drops the
 * eviction; that socket then only learns when it next does something (or
 * misses its heartbeats), and never touches the session again either way.
 */

static void
ngx_gateway_evict_locked(ngx_gateway_zone_t *zone, ngx_gateway_session_t *s)
{
    ngx_gateway_worker_sh_t  *w;
    ngx_gateway_eviction_t   *e;

    w = &zone->sh->workers[s->owner];

    if (w->evict_n == NGX_GATEWAY_EVICTIONS) {

        /*
         * Once per worker generation from this process: a herd resuming
         * the sessions of a killed worker fills its queue at once (its
         * sockets died with it, nothing is lost), one line is enough.
         */

        if (ngx_gateway_evict_warned_slot == (ngx_int_t) s->owner
            && ngx_gateway_evict_warned_generation == w->generation)
        {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                           "gateway: eviction queue of worker slot %d is "
                           "full", (int) s->owner);
            return;
        }

        ngx_gateway_evict_warned_slot = s->owner;
        ngx_gateway_evict_warned_generation = w->generation;

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "gateway: eviction queue of worker slot %d (pid %P) "
                      "is full: its sockets of resumed sessions are closed "
                      "when they next read, or by their heartbeat timeout "
                      "(further ones not logged)",
                      (int) s->owner, w->pid);
        return;
    }

    e = &w->evict[w->evict_n++];
    e->conn_index = s->conn_index;
    e->conn_number = s->conn_number;

    ngx_gateway_doorbells_add_locked(&zone->pending, s);
}


/* the owner's side: close the sockets whose sessions were resumed elsewhere */

void
ngx_gateway_evictions(ngx_gateway_main_conf_t *gmcf)
{
    ngx_uint_t                i, n;
    ngx_ws_conn_t            *ws;
    ngx_connection_t         *c;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_conn_t       *ctx;
    ngx_gateway_eviction_t    evict[NGX_GATEWAY_EVICTIONS];
    ngx_gateway_worker_sh_t  *w;

    zone = ngx_gateway_zone_get(gmcf);
    w = &zone->sh->workers[gmcf->slot];

    if (w->evict_n == 0) {
        return;
    }

    ngx_gateway_lock(zone);

    n = w->evict_n;
    ngx_memcpy(evict, w->evict, n * sizeof(ngx_gateway_eviction_t));
    w->evict_n = 0;

    ngx_gateway_unlock(zone);

    for (i = 0; i < n; i++) {

        if (evict[i].conn_index >= ngx_cycle->connection_n) {
            continue;
        }

        c = &ngx_cycle->connections[evict[i].conn_index];

        if (c->fd == (ngx_socket_t) -1 || c->number != evict[i].conn_number) {
            continue;
        }

        ws = c->data;
        ctx = ngx_ws_ctx(ws);
        ctx->session = NULL;

        ngx_ws_begin(ws);
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_TAKEN_OVER,
                         "session resumed on another connection");
        ngx_ws_end(ws);
    }
}
