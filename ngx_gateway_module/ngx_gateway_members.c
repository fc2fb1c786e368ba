
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * op 8 Request Guild Members (shared/PROTOCOL.md 1.15): the answer is one
 * or more GUILD_MEMBERS_CHUNK dispatches, numbered like every other
 * dispatch and kept in the resume ring.  Lookups by user_ids and username
 * prefixes fit one chunk; the whole member list of a large guild goes out
 * a chunk at a time, the next one made only when the previous ones have
 * been written (ngx_ws drained()), so a 100k-member guild never sits
 * whole in memory and other sessions are served between chunks.
 */

#define NGX_GATEWAY_CHUNK_MEMBERS        1000
#define NGX_GATEWAY_QUERY_LIMIT_MAX      100
#define NGX_GATEWAY_USER_IDS_MAX         100
#define NGX_GATEWAY_NONCE_MAX            32

/* 1.12: the "all members" form, once per guild per 30 s for a user */
#define NGX_GATEWAY_ALL_MEMBERS_INTERVAL 30000


struct ngx_gateway_chunking_s {
    ngx_gateway_chunking_t    *next;
    uint64_t                   guild_id;
    uint64_t                   cursor;        /* the last user id sent */
    ngx_uint_t                 left;          /* members still to send */
    uint32_t                   chunk_index;
    uint32_t                   chunk_count;
    uint8_t                    presences;
    uint8_t                    subscribe_each; /* presences of a part */
    uint8_t                    has_nonce;
    uint8_t                    nonce_len;
    u_char                     nonce[NGX_GATEWAY_NONCE_MAX];
};


typedef struct {
    uint64_t                   guild_id;
    ngx_str_t                  query;
    ngx_uint_t                 has_query;
    ngx_uint_t                 limit;
    uint64_t                   user_ids[NGX_GATEWAY_USER_IDS_MAX];
    ngx_uint_t                 user_ids_n;
    ngx_uint_t                 presences;
    ngx_str_t                  nonce;
    ngx_uint_t                 has_nonce;     /* "" is a nonce too */
} ngx_gateway_members_req_t;


/* one chunk as it is encoded */
typedef struct {
    uint64_t                   guild_id;
    ngx_gateway_member_t     **members;
    ngx_uint_t                 n;
    ngx_uint_t                 index;
    ngx_uint_t                 count;
    uint64_t                  *not_found;
    ngx_uint_t                 not_found_n;
    ngx_uint_t                 presences;
    ngx_str_t                  nonce;
    ngx_uint_t                 has_nonce;
} ngx_gateway_chunk_t;


static ngx_int_t ngx_gateway_members_parse(json_t *d,
    ngx_gateway_members_req_t *req, const char **error);
static ngx_int_t ngx_gateway_members_lookup_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_members_req_t *req,
    ngx_uint_t is_member);
static ngx_uint_t ngx_gateway_members_match(ngx_gateway_member_t *m,
    ngx_str_t *query);
static ngx_uint_t ngx_gateway_members_limited_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, uint64_t guild_id, ngx_msec_t *retry);
static ngx_int_t ngx_gateway_members_rate_limited_locked(
    ngx_gateway_zone_t *zone, ngx_gateway_session_t *s,
    ngx_gateway_members_req_t *req, ngx_msec_t retry);
static ngx_int_t ngx_gateway_members_queue(ngx_ws_conn_t *ws,
    ngx_gateway_zone_t *zone, ngx_gateway_members_req_t *req,
    ngx_gateway_guild_t *g);
static ngx_int_t ngx_gateway_members_stream(ngx_ws_conn_t *ws);
static ngx_int_t ngx_gateway_chunk_send_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_chunk_t *chunk);
static ngx_int_t ngx_gateway_dispatch_to_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_json_t *j);


ngx_int_t
ngx_gateway_op_request_members(ngx_ws_conn_t *ws, json_t *d)
{
    ngx_int_t                   rc;
    ngx_msec_t                  retry;
    const char                 *error;
    ngx_gateway_zone_t         *zone;
    ngx_gateway_conn_t         *ctx;
    ngx_gateway_guild_t        *g;
    ngx_gateway_session_t      *s;
    ngx_gateway_members_req_t   req;

    ctx = ngx_ws_ctx(ws);
    s = ctx->session;

    if (ngx_gateway_members_parse(d, &req, &error) != NGX_OK) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Request Guild Members: %s", error);
        return NGX_OK;
    }

    zone = ngx_gateway_zone_get(ngx_gateway_main_conf());

    ngx_gateway_lock(zone);

    /* presences need the intent, or are quietly left out (1.15) */

    if (!(s->intents & NGX_GATEWAY_INTENT_GUILD_PRESENCES)) {
        req.presences = 0;
    }

    g = ngx_gateway_guild_lookup_locked(zone, req.guild_id);

    if (g == NULL
        || ngx_gateway_member_lookup_locked(zone, req.guild_id,
                                            s->user->node.key) == NULL)
    {
        /* not the session's guild: nothing found, and said so */
        rc = ngx_gateway_members_lookup_locked(zone, s, &req, 0);

    } else if (req.user_ids_n || req.query.len
               || !(s->intents & NGX_GATEWAY_INTENT_GUILD_MEMBERS))
    {
        /* the full list needs GUILD_MEMBERS: without it, an empty chunk */
        rc = ngx_gateway_members_lookup_locked(zone, s, &req,
                                   req.user_ids_n || req.query.len);

    } else if (req.limit == 0
               && ngx_gateway_members_limited_locked(zone, s, req.guild_id,
                                                     &retry))
    {
        rc = ngx_gateway_members_rate_limited_locked(zone, s, &req, retry);

    } else {
        rc = ngx_gateway_members_queue(ws, zone, &req, g);
    }

    ngx_gateway_unlock(zone);

    if (rc != NGX_OK) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_UNKNOWN_ERROR,
                         "the gateway zone is full");
        return NGX_OK;
    }

    (void) ngx_gateway_deliver_session(ws);

    return NGX_OK;
}


/*
 * 1.15: {guild_id, query?, limit, presences?, user_ids?, nonce?}; one
 * guild, query or user_ids, limit with query, at most 100 user_ids.  A
 * nonce over 32 bytes is ignored (the chunks then carry none).
 */

static ngx_int_t
ngx_gateway_members_parse(json_t *d, ngx_gateway_members_req_t *req,
    const char **error)
{
    size_t       i;
    json_t      *v, *id;
    json_int_t   limit;

    ngx_memzero(req, sizeof(ngx_gateway_members_req_t));

    if (!json_is_object(d)) {
        *error = "d must be an object";
        return NGX_ERROR;
    }

    v = json_object_get(d, "guild_id");

    if (json_is_array(v)) {
        *error = "one guild_id per request";
        return NGX_ERROR;
    }

    if (ngx_gateway_json_snowflake(v, &req->guild_id) != NGX_OK) {
        *error = "guild_id must be a snowflake";
        return NGX_ERROR;
    }

    v = json_object_get(d, "user_ids");

    if (v && !json_is_null(v)) {

        if (json_is_array(v)) {
            if (json_array_size(v) > NGX_GATEWAY_USER_IDS_MAX) {
                *error = "at most 100 user_ids";
                return NGX_ERROR;
            }

            json_array_foreach(v, i, id) {
                if (ngx_gateway_json_snowflake(id,
                                               &req->user_ids[req->user_ids_n])
                    != NGX_OK)
                {
                    *error = "user_ids must be snowflakes";
                    return NGX_ERROR;
                }

                req->user_ids_n++;
            }

        } else if (ngx_gateway_json_snowflake(v, &req->user_ids[0])
                   == NGX_OK)
        {
            req->user_ids_n = 1;

        } else {
            *error = "user_ids must be a snowflake or an array of them";
            return NGX_ERROR;
        }

        if (req->user_ids_n == 0) {
            *error = "user_ids is empty";
            return NGX_ERROR;
        }
    }

    v = json_object_get(d, "query");

    if (v && !json_is_null(v)) {
        if (ngx_gateway_json_string(v, &req->query, NGX_GATEWAY_MAX_NAME)
            != NGX_OK)
        {
            *error = "query must be a string of at most 32 bytes";
            return NGX_ERROR;
        }

        req->has_query = 1;
    }

    if (!req->has_query && req->user_ids_n == 0) {
        *error = "query or user_ids is required";
        return NGX_ERROR;
    }

    v = json_object_get(d, "limit");

    if (req->has_query && req->user_ids_n == 0) {
        if (!json_is_integer(v)) {
            *error = "limit is required with query";
            return NGX_ERROR;
        }
    }

    if (v && !json_is_null(v)) {
        limit = json_is_integer(v) ? json_integer_value(v) : -1;

        if (limit < 0) {
            *error = "limit must be an integer from 0";
            return NGX_ERROR;
        }

        req->limit = (ngx_uint_t) limit;
    }

    v = json_object_get(d, "presences");

    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            *error = "presences must be a boolean";
            return NGX_ERROR;
        }

        req->presences = json_is_true(v);
    }

    v = json_object_get(d, "nonce");

    req->has_nonce = (v && ngx_gateway_json_string(v, &req->nonce,
                                                   NGX_GATEWAY_NONCE_MAX)
                           == NGX_OK);

    if (!req->has_nonce) {
        ngx_str_null(&req->nonce);
    }

    return NGX_OK;
}


/*
 * One chunk: the members with the given user_ids (and the ids not found),
 * or those whose username or nickname starts with the query (at most
 * 100), or none.
 */

static ngx_int_t
ngx_gateway_members_lookup_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_members_req_t *req,
    ngx_uint_t is_member)
{
    uint64_t               not_found[NGX_GATEWAY_USER_IDS_MAX];
    ngx_uint_t             i, limit;
    ngx_gateway_chunk_t    chunk;
    ngx_gateway_member_t  *found[NGX_GATEWAY_QUERY_LIMIT_MAX], *m;

    ngx_memzero(&chunk, sizeof(ngx_gateway_chunk_t));

    chunk.guild_id = req->guild_id;
    chunk.members = found;
    chunk.count = 1;
    chunk.not_found = not_found;
    chunk.presences = req->presences;
    chunk.nonce = req->nonce;
    chunk.has_nonce = req->has_nonce;

    if (req->user_ids_n) {

        for (i = 0; i < req->user_ids_n; i++) {
            m = is_member ? ngx_gateway_member_lookup_locked(zone,
                                             req->guild_id, req->user_ids[i])
                          : NULL;

            if (m) {
                found[chunk.n++] = m;

            } else {
                not_found[chunk.not_found_n++] = req->user_ids[i];
            }
        }

    } else if (is_member) {

        limit = req->limit;

        if (limit == 0 || limit > NGX_GATEWAY_QUERY_LIMIT_MAX) {
            limit = NGX_GATEWAY_QUERY_LIMIT_MAX;
        }

        for (m = ngx_gateway_guild_members_first_locked(zone, req->guild_id);
             m && chunk.n < limit;
             m = ngx_gateway_guild_members_next_locked(zone, m))
        {
            if (ngx_gateway_members_match(m, &req->query)) {
                found[chunk.n++] = m;
            }
        }
    }

    /* in a large guild, asking for presences subscribes to them */

    if (chunk.presences) {
        for (i = 0; i < chunk.n; i++) {
            if (ngx_gateway_presence_subscribe_locked(zone, s, req->guild_id,
                                                 found[i]->user->node.key)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return ngx_gateway_chunk_send_locked(zone, s, &chunk);
}


/* a username or nickname prefix, ignoring ASCII case */

static ngx_uint_t
ngx_gateway_members_match(ngx_gateway_member_t *m, ngx_str_t *query)
{
    ngx_gateway_user_t  *u;

    u = m->user;

    if (query->len == 0) {
        return 1;
    }

    if (u->username_len >= query->len
        && ngx_strncasecmp(u->names, query->data, query->len) == 0)
    {
        return 1;
    }

    return m->extra && m->extra->nick_len >= query->len
           && ngx_strncasecmp(m->extra->nick, query->data, query->len) == 0;
}


/*
 * 1.12: the "all members" form, once per guild per 30 s for a user.  The
 * zone remembers the last 1024 such requests by (guild, user); a
 * collision forgets one, which only ever lets a request through.
 */

static ngx_uint_t
ngx_gateway_members_limited_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, uint64_t guild_id, ngx_msec_t *retry)
{
    uint64_t                       user_id;
    ngx_msec_int_t                 elapsed;
    ngx_gateway_member_request_t  *r;

    user_id = s->user->node.key;

    /* Fibonacci hashing: the product's top bits depend on all of the ids */

    r = &zone->sh->member_requests[((guild_id ^ (user_id
                                                 * 0xff51afd7ed558ccdULL))
                                    * 0x9e3779b97f4a7c15ULL)
                                   >> (64 - NGX_GATEWAY_MEMBER_REQUESTS_BITS)];

    elapsed = (ngx_msec_int_t) (ngx_current_msec - r->at);

    if (r->guild_id == guild_id && r->user_id == user_id
        && elapsed >= 0 && elapsed < NGX_GATEWAY_ALL_MEMBERS_INTERVAL)
    {
        *retry = NGX_GATEWAY_ALL_MEMBERS_INTERVAL - elapsed;
        return 1;
    }

    r->guild_id = guild_id;
    r->user_id = user_id;
    r->at = ngx_current_msec;

    return 0;
}


/* 1.12: RATE_LIMITED {opcode, retry_after (seconds), meta{guild_id, nonce}} */

static ngx_int_t
ngx_gateway_members_rate_limited_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_members_req_t *req,
    ngx_msec_t retry)
{
    u_char              *p;
    ngx_int_t            rc;
    ngx_gateway_json_t   j;

    if (ngx_gateway_json_init(&j, 256, ngx_cycle->log) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_gateway_encode_dispatch(&j, "RATE_LIMITED");
    ngx_gateway_json_lit(&j, "{\"opcode\":8,\"retry_after\":");

    p = ngx_gateway_json_reserve(&j, NGX_INT_T_LEN + 4);
    if (p) {
        j.pos = ngx_sprintf(p, "%M.%03M", retry / 1000, retry % 1000);
    }

    ngx_gateway_json_lit(&j, ",\"meta\":{\"guild_id\":");
    ngx_gateway_json_id(&j, req->guild_id);

    if (req->has_nonce) {
        ngx_gateway_json_lit(&j, ",\"nonce\":");
        ngx_gateway_json_str(&j, req->nonce.data, req->nonce.len);
    }

    ngx_gateway_json_lit(&j, "}}}");

    rc = ngx_gateway_dispatch_to_locked(zone, s, &j);

    ngx_gateway_json_free(&j);

    return rc;
}


/* the whole list (or the first "limit"), from the first chunk on */

static ngx_int_t
ngx_gateway_members_queue(ngx_ws_conn_t *ws, ngx_gateway_zone_t *zone,
    ngx_gateway_members_req_t *req, ngx_gateway_guild_t *g)
{
    ngx_uint_t               n;
    ngx_gateway_conn_t      *ctx;
    ngx_gateway_chunking_t  *c, **last;

    ctx = ngx_ws_ctx(ws);

    c = ngx_ws_alloc(ws->conf->main, sizeof(ngx_gateway_chunking_t),
                     ws->connection->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    n = g->member_count;

    if (req->limit && req->limit < n) {
        n = req->limit;
    }

    c->next = NULL;
    c->guild_id = req->guild_id;
    c->cursor = 0;
    c->left = req->limit ? req->limit : NGX_MAX_UINT32_VALUE;
    c->chunk_index = 0;
    c->chunk_count = (uint32_t) ngx_max(1, (n + NGX_GATEWAY_CHUNK_MEMBERS - 1)
                                           / NGX_GATEWAY_CHUNK_MEMBERS);
    c->presences = (uint8_t) req->presences;
    c->subscribe_each = (uint8_t) (req->presences && req->limit);
    c->has_nonce = (uint8_t) req->has_nonce;
    c->nonce_len = (uint8_t) req->nonce.len;
    ngx_memcpy(c->nonce, req->nonce.data, req->nonce.len);

    for (last = &ctx->chunking; *last; last = &(*last)->next) {
        /* void */
    }

    *last = c;

    if (req->presences && req->limit == 0
        && ngx_gateway_presence_subscribe_locked(zone, ctx->session,
                                                 req->guild_id, 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_ws_want_drained(ws);

    return NGX_OK;
}


/* ngx_ws drained(): the next chunk, once the previous ones are written */

void
ngx_gateway_drained(ngx_ws_conn_t *ws)
{
    if (ngx_gateway_members_stream(ws) != NGX_OK) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_UNKNOWN_ERROR,
                         "the gateway zone is full");
    }
}


static ngx_int_t
ngx_gateway_members_stream(ngx_ws_conn_t *ws)
{
    ngx_int_t                rc;
    ngx_uint_t               i, max, done;
    ngx_gateway_zone_t      *zone;
    ngx_gateway_conn_t      *ctx;
    ngx_gateway_chunk_t      chunk;
    ngx_gateway_member_t    *members[NGX_GATEWAY_CHUNK_MEMBERS], *m;
    ngx_gateway_session_t   *s;
    ngx_gateway_chunking_t  *c;

    ctx = ngx_ws_ctx(ws);
    c = ctx->chunking;
    s = ctx->session;

    if (c == NULL || s == NULL) {
        return NGX_OK;
    }

    ngx_memzero(&chunk, sizeof(ngx_gateway_chunk_t));

    chunk.guild_id = c->guild_id;
    chunk.members = members;
    chunk.index = c->chunk_index;
    chunk.count = c->chunk_count;
    chunk.presences = c->presences;
    chunk.nonce.data = c->nonce;
    chunk.nonce.len = c->nonce_len;
    chunk.has_nonce = c->has_nonce;

    max = ngx_min(c->left, NGX_GATEWAY_CHUNK_MEMBERS);

    zone = ngx_gateway_zone_get(ngx_gateway_main_conf());

    ngx_gateway_lock(zone);

    /* the list as it is now: members who came or went meanwhile show so */

    for (m = ngx_gateway_guild_members_after_locked(zone, c->guild_id,
                                                    c->cursor);
         m && chunk.n < max;
         m = ngx_gateway_guild_members_next_locked(zone, m))
    {
        members[chunk.n++] = m;
    }

    if (chunk.n) {
        c->cursor = members[chunk.n - 1]->user->node.key;
    }

    rc = NGX_OK;

    for (i = 0; c->subscribe_each && i < chunk.n && rc == NGX_OK; i++) {
        rc = ngx_gateway_presence_subscribe_locked(zone, s, c->guild_id,
                                              members[i]->user->node.key);
    }

    if (rc == NGX_OK) {
        rc = ngx_gateway_chunk_send_locked(zone, s, &chunk);
    }

    ngx_gateway_unlock(zone);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    c->chunk_index++;
    c->left -= chunk.n;

    done = (c->chunk_index >= c->chunk_count || m == NULL || c->left == 0);

    if (done) {
        ctx->chunking = c->next;
        ngx_ws_free(ws->conf->main, c);
    }

    if (ngx_gateway_deliver_session(ws) != NGX_OK) {
        return NGX_OK;
    }

    if (ctx->chunking) {
        ngx_ws_want_drained(ws);
    }

    return NGX_OK;
}


/* the requests not answered yet, as the connection goes */

void
ngx_gateway_members_free(ngx_ws_conn_t *ws)
{
    ngx_gateway_conn_t      *ctx;
    ngx_gateway_chunking_t  *c;

    ctx = ngx_ws_ctx(ws);

    while (ctx->chunking) {
        c = ctx->chunking;
        ctx->chunking = c->next;
        ngx_ws_free(ws->conf->main, c);
    }
}


/*
 * GUILD_MEMBERS_CHUNK d: {guild_id, members, chunk_index, chunk_count,
 * not_found?, presences?, nonce?}; presences of the members who are not
 * offline.
 */

static ngx_int_t
ngx_gateway_chunk_send_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_chunk_t *chunk)
{
    ngx_int_t            rc;
    ngx_uint_t           i, n;
    ngx_gateway_json_t   j;

    if (ngx_gateway_json_init(&j, 256 + chunk->n * 320, ngx_cycle->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_gateway_encode_dispatch(&j, "GUILD_MEMBERS_CHUNK");
    ngx_gateway_json_lit(&j, "{\"guild_id\":");
    ngx_gateway_json_id(&j, chunk->guild_id);
    ngx_gateway_json_lit(&j, ",\"members\":[");

    for (i = 0; i < chunk->n; i++) {
        if (i) {
            ngx_gateway_json_lit(&j, ",");
        }

        ngx_gateway_encode_member(&j, chunk->members[i], 1);
    }

    ngx_gateway_json_lit(&j, "],\"chunk_index\":");
    ngx_gateway_json_uint(&j, chunk->index);
    ngx_gateway_json_lit(&j, ",\"chunk_count\":");
    ngx_gateway_json_uint(&j, chunk->count);

    if (chunk->not_found_n) {
        ngx_gateway_json_lit(&j, ",\"not_found\":[");

        for (i = 0; i < chunk->not_found_n; i++) {
            if (i) {
                ngx_gateway_json_lit(&j, ",");
            }

            ngx_gateway_json_id(&j, chunk->not_found[i]);
        }

        ngx_gateway_json_lit(&j, "]");
    }

    if (chunk->presences) {
        ngx_gateway_json_lit(&j, ",\"presences\":[");

        for (i = 0, n = 0; i < chunk->n; i++) {
            if (!ngx_gateway_status_visible(chunk->members[i]->user->status))
            {
                continue;
            }

            if (n++) {
                ngx_gateway_json_lit(&j, ",");
            }

            ngx_gateway_encode_presence(&j, chunk->members[i]->user, 0);
        }

        ngx_gateway_json_lit(&j, "]");
    }

    if (chunk->has_nonce) {
        ngx_gateway_json_lit(&j, ",\"nonce\":");
        ngx_gateway_json_str(&j, chunk->nonce.data, chunk->nonce.len);
    }

    ngx_gateway_json_lit(&j, "}}");

    rc = ngx_gateway_dispatch_to_locked(zone, s, &j);

    ngx_gateway_json_free(&j);

    return rc;
}


/* a dispatch for this session alone, through its ring like any other */

static ngx_int_t
ngx_gateway_dispatch_to_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_json_t *j)
{
    ngx_int_t            rc;
    ngx_gateway_blob_t  *blob;

    blob = ngx_gateway_event_blob_locked(zone, j);
    if (blob == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_gateway_session_dispatch_locked(zone, s, blob);

    ngx_gateway_event_done_locked(zone, blob);

    return rc;
}
