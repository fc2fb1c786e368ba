
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * Identify (shared/PROTOCOL.md 1.6, 1.7, 1.15): the token, intents, shard
 * and large_threshold checks in the order of their close codes, then a
 * session in the zone, READY (s=1) and one GUILD_CREATE per guild of the
 * user in the session's shard.  That burst is written to the socket from
 * private buffers, not the ring: it is the session's snapshot, and a
 * client that loses it mid-way re-identifies (its resume gets op 9).
 */

#define NGX_GATEWAY_MAX_TOKEN_LEN   256
#define NGX_GATEWAY_MAX_SHARDS      65535


typedef struct {
    ngx_str_t                  token;
    uint64_t                   intents;
    ngx_uint_t                 shard_id;
    ngx_uint_t                 num_shards;
    ngx_uint_t                 shard_given;
    ngx_uint_t                 large_threshold;
    ngx_uint_t                 status;
    json_t                    *activities;
} ngx_gateway_identify_t;


static ngx_int_t ngx_gateway_identify_parse(ngx_ws_conn_t *ws, json_t *d,
    ngx_gateway_identify_t *id);
static void ngx_gateway_session_start_locked(ngx_gateway_user_t *user);
static ngx_uint_t ngx_gateway_identify_limited_locked(
    ngx_gateway_zone_t *zone, uint64_t user_id, ngx_uint_t bucket,
    ngx_msec_t interval);
static ngx_int_t ngx_gateway_identify_locked(ngx_ws_conn_t *ws,
    ngx_gateway_zone_t *zone, ngx_gateway_identify_t *id, uint64_t user_id,
    ngx_gateway_json_t *j, size_t **ends, ngx_uint_t *n);
static ngx_uint_t ngx_gateway_shard_guilds_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user, ngx_uint_t shard_id, ngx_uint_t num_shards);


ngx_int_t
ngx_gateway_op_identify(ngx_ws_conn_t *ws, json_t *d)
{
    size_t                    *ends, start;
    uint64_t                   user_id, seq;
    ngx_int_t                  rc;
    ngx_uint_t                 i, n;
    ngx_gateway_json_t         j;
    ngx_gateway_zone_t        *zone;
    ngx_gateway_conn_t        *ctx;
    ngx_gateway_identify_t     id;
    ngx_gateway_loc_conf_t    *glcf;
    ngx_gateway_main_conf_t   *gmcf;

    ctx = ngx_ws_ctx(ws);
    glcf = ngx_gateway_loc_conf_of(ws);
    gmcf = ngx_gateway_main_conf();

    if (ngx_gateway_identify_parse(ws, d, &id) != NGX_OK) {
        return NGX_OK;
    }

    /* the token is checked before anything is looked up */

    if (ngx_gateway_token_verify(&gmcf->token_secret, id.token.data,
                                 id.token.len, &user_id)
        != NGX_OK)
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_AUTH_FAILED,
                         "invalid token");
        return NGX_OK;
    }

    /* 1.10: undefined bits are 4013 */

    if (id.intents & ~(uint64_t) glcf->allowed_intents) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_INVALID_INTENTS,
                         "intents %uL has bits outside %ui",
                         id.intents, glcf->allowed_intents);
        return NGX_OK;
    }

    if (ngx_gateway_json_init(&j, 4096, ws->connection->log) != NGX_OK) {
        return NGX_ERROR;
    }

    ends = NULL;
    n = 0;

    zone = ngx_gateway_zone_get(gmcf);

    ngx_gateway_lock(zone);

    rc = ngx_gateway_identify_locked(ws, zone, &id, user_id, &j, &ends, &n);

    ngx_gateway_unlock(zone);

    if (rc == NGX_OK && j.error) {
        rc = NGX_ERROR;
    }

    if (rc == NGX_BUSY) {

        /* 1.11: over the identify concurrency: op 9 d:false, shortly */

        ctx->identify_denied = 1;
        ngx_ws_set_deadline(ws, 500 + (ngx_msec_t) ngx_random() % 1000);

        rc = NGX_DECLINED;
    }

    if (rc == NGX_OK) {

        /* READY is seq 1, then each GUILD_CREATE */

        start = 0;
        seq = 0;

        for (i = 0; i < n; i++) {
            if (ngx_gateway_send_dispatch(ws, ++seq, j.start + start,
                                          ends[i] - start)
                != NGX_OK)
            {
                break;
            }

            start = ends[i];
        }

        ctx->phase = ngx_gateway_phase_ready;

        if (ctx->resume_url) {
            ngx_ws_free(ws->conf->main, ctx->resume_url);
            ctx->resume_url = NULL;
        }

        /* anything dispatched to the session since it was created */

        (void) ngx_gateway_deliver_session(ws);
    }

    ngx_gateway_json_free(&j);

    if (ends) {
        ngx_ws_free(ws->conf->main, ends);
    }

    return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
}


static ngx_int_t
ngx_gateway_identify_parse(ngx_ws_conn_t *ws, json_t *d,
    ngx_gateway_identify_t *id)
{
    json_t                  *v, *p;
    json_int_t               n, k;
    const char              *error;
    ngx_gateway_loc_conf_t  *glcf;

    glcf = ngx_gateway_loc_conf_of(ws);

    ngx_memzero(id, sizeof(ngx_gateway_identify_t));

    if (!json_is_object(d)) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Identify: d must be an object");
        return NGX_ERROR;
    }

    if (ngx_gateway_json_string(json_object_get(d, "token"), &id->token,
                                NGX_GATEWAY_MAX_TOKEN_LEN)
        != NGX_OK)
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Identify: token must be a string");
        return NGX_ERROR;
    }

    v = json_object_get(d, "intents");

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Identify: intents must be a non-negative integer");
        return NGX_ERROR;
    }

    id->intents = (uint64_t) json_integer_value(v);

    v = json_object_get(d, "properties");

    if (v && !json_is_object(v)) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Identify: properties must be an object");
        return NGX_ERROR;
    }

    v = json_object_get(d, "compress");

    if (v && !json_is_boolean(v)) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Identify: compress must be a boolean");
        return NGX_ERROR;
    }

    id->large_threshold = glcf->large_threshold_min;

    v = json_object_get(d, "large_threshold");

    if (v) {
        if (!json_is_integer(v)
            || json_integer_value(v) < (json_int_t) glcf->large_threshold_min
            || json_integer_value(v) > (json_int_t) glcf->large_threshold_max)
        {
            ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                             "Identify: large_threshold must be %ui..%ui",
                             glcf->large_threshold_min,
                             glcf->large_threshold_max);
            return NGX_ERROR;
        }

        id->large_threshold = (ngx_uint_t) json_integer_value(v);
    }

    id->num_shards = 1;

    v = json_object_get(d, "shard");

    if (v && !json_is_null(v)) {

        if (!json_is_array(v) || json_array_size(v) != 2
            || !json_is_integer(json_array_get(v, 0))
            || !json_is_integer(json_array_get(v, 1)))
        {
            ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                             "Identify: shard must be [shard_id, "
                             "num_shards]");
            return NGX_ERROR;
        }

        k = json_integer_value(json_array_get(v, 0));
        n = json_integer_value(json_array_get(v, 1));

        /* 1.11: 0 <= shard_id < num_shards */

        if (n < 1 || n > NGX_GATEWAY_MAX_SHARDS || k < 0 || k >= n) {
            ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_INVALID_SHARD,
                             "shard [%L, %L]", (int64_t) k, (int64_t) n);
            return NGX_ERROR;
        }

        id->shard_id = (ngx_uint_t) k;
        id->num_shards = (ngx_uint_t) n;
        id->shard_given = 1;
    }

    id->status = ngx_gateway_online;

    p = json_object_get(d, "presence");

    if (p && !json_is_null(p)
        && ngx_gateway_presence_parse(p, &id->status, &id->activities,
                                      &error)
           != NGX_OK)
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Identify: presence: %s", error);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Under the zone lock: the checks that need the directory, the session,
 * and the encoded burst (READY, then the GUILD_CREATEs) into j, with the
 * end of each dispatch in "ends".  Failures are answered with their close
 * codes here; NGX_DECLINED then, NGX_ERROR for our own failures.
 */

static ngx_int_t
ngx_gateway_identify_locked(ngx_ws_conn_t *ws, ngx_gateway_zone_t *zone,
    ngx_gateway_identify_t *id, uint64_t user_id, ngx_gateway_json_t *j,
    size_t **ends, ngx_uint_t *n)
{
    char                        *text;
    ngx_str_t                    a;
    ngx_uint_t                   guilds, changed;
    ngx_gateway_user_t          *user;
    ngx_gateway_conn_t          *ctx;
    ngx_gateway_ready_t          ready;
    ngx_gateway_guild_t         *g;
    ngx_gateway_member_t        *m;
    ngx_gateway_session_t       *s;
    ngx_gateway_loc_conf_t      *glcf;
    ngx_gateway_main_conf_t     *gmcf;
    ngx_gateway_session_spec_t   spec;

    ctx = ngx_ws_ctx(ws);
    glcf = ngx_gateway_loc_conf_of(ws);
    gmcf = ngx_gateway_main_conf();

    /* a valid signature for a user that was deleted */

    user = ngx_gateway_user_lookup_locked(zone, user_id);

    if (user == NULL) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_AUTH_FAILED,
                         "unknown user %uL", user_id);
        return NGX_DECLINED;
    }

    /* 1.10: privileged intents this user is not allowed are 4014 */

    if (id->intents & glcf->privileged_intents & ~user->privileged_intents) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DISALLOWED_INTENTS,
                         "privileged intents %uL are not enabled",
                         id->intents & glcf->privileged_intents
                         & ~user->privileged_intents);
        return NGX_DECLINED;
    }

    /* 1.11: one Identify per bucket per interval; then op 9 d:false */

    if (gmcf->identify_interval
        && ngx_gateway_identify_limited_locked(zone, user_id,
                                  id->shard_id % gmcf->identify_concurrency,
                                  gmcf->identify_interval))
    {
        return NGX_BUSY;
    }

    /* 1.6: the session start limit, per 24 hours */

    if (ngx_gateway_session_starts_left_locked(user,
                                               gmcf->session_start_limit,
                                               NULL)
        == 0)
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_AUTH_FAILED,
                         "session start limit of %ui reached",
                         gmcf->session_start_limit);
        return NGX_DECLINED;
    }

    ngx_gateway_session_start_locked(user);

    /* 1.11: at most 2500 guilds in one session, else 4011 */

    guilds = ngx_gateway_shard_guilds_locked(zone, user, id->shard_id,
                                             id->num_shards);

    if (guilds > glcf->max_session_guilds) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_SHARDING_REQUIRED,
                         "%ui guilds in one session, at most %ui",
                         guilds, glcf->max_session_guilds);
        return NGX_DECLINED;
    }

    spec.intents = (uint32_t) id->intents;
    spec.shard_id = (uint16_t) id->shard_id;
    spec.num_shards = (uint16_t) id->num_shards;
    spec.large_threshold = (uint16_t) id->large_threshold;
    spec.status = (uint8_t) id->status;

    s = ngx_gateway_session_create_locked(zone, user, &spec);

    if (s == NULL) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_UNKNOWN_ERROR,
                         "the gateway zone is full");
        return NGX_DECLINED;
    }

    ngx_gateway_session_attach_locked(zone, s, gmcf->slot, gmcf->generation,
                                      ws->connection);

    changed = (user->status != id->status);
    user->status = (uint8_t) id->status;

    if (id->activities && json_array_size(id->activities)) {
        text = json_dumps(id->activities, JSON_COMPACT);

        if (text) {
            a.data = (u_char *) text;
            a.len = ngx_strlen(text);
            (void) ngx_gateway_user_set_activities_locked(zone, user, &a);
            free(text);
            changed = 1;
        }
    }

    /* coming online (or changing status) shows in the user's guilds */

    if (changed) {
        ngx_gateway_presence_publish_locked(zone, user);
    }

    ready.session = s;
    ready.shard_given = id->shard_given;

    if (glcf->public_url.len) {
        ready.resume_url = glcf->public_url;

    } else {
        ready.resume_url.data = ctx->resume_url;
        ready.resume_url.len = ctx->resume_url_len;
    }

    /* the end of READY, then of each GUILD_CREATE */

    *ends = ngx_ws_alloc(ws->conf->main, (guilds + 1) * sizeof(size_t),
                         ws->connection->log);
    if (*ends == NULL) {
        goto failed;
    }

    ngx_gateway_encode_dispatch(j, "READY");
    ngx_gateway_encode_ready(j, zone, &ready);
    ngx_gateway_json_lit(j, "}");

    (*ends)[(*n)++] = ngx_gateway_json_len(j);

    for (m = ngx_gateway_user_guilds_first_locked(zone, user->node.key);
         m;
         m = ngx_gateway_user_guilds_next_locked(zone, m))
    {
        if ((m->guild_id >> 22) % s->num_shards != s->shard_id) {
            continue;
        }

        g = ngx_gateway_guild_lookup_locked(zone, m->guild_id);

        if (g == NULL) {
            continue;
        }

        if (*n > guilds) {
            break;
        }

        ngx_gateway_encode_dispatch(j, "GUILD_CREATE");
        ngx_gateway_encode_guild_create(j, zone, g, s);
        ngx_gateway_json_lit(j, "}");

        (*ends)[(*n)++] = ngx_gateway_json_len(j);
    }

    if (j->error) {
        goto failed;
    }

    /* the burst takes seqs 1..n; the ring starts after it */

    s->seq = *n;
    s->replay_from = s->seq + 1;

    ctx->session = s;
    ctx->written = s->seq;

    return NGX_OK;

failed:

    ngx_gateway_session_delete_locked(zone, s);

    return NGX_ERROR;
}


static ngx_uint_t
ngx_gateway_shard_guilds_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user, ngx_uint_t shard_id, ngx_uint_t num_shards)
{
    ngx_uint_t             n;
    ngx_gateway_member_t  *m;

    if (num_shards == 1) {
        return user->guilds;
    }

    n = 0;

    for (m = ngx_gateway_user_guilds_first_locked(zone, user->node.key);
         m;
         m = ngx_gateway_user_guilds_next_locked(zone, m))
    {
        /* 1.11: shard_id = (guild_id >> 22) % num_shards */

        if ((m->guild_id >> 22) % num_shards == shard_id) {
            n++;
        }
    }

    return n;
}


/*
 * 1.11: the Identify of a user's bucket (shard_id % max_concurrency) is
 * remembered for the identify interval; a second one within it is turned
 * away.  The zone remembers 4096 buckets by hash; a collision forgets one,
 * which can only let an Identify through early.
 */

static ngx_uint_t
ngx_gateway_identify_limited_locked(ngx_gateway_zone_t *zone,
    uint64_t user_id, ngx_uint_t bucket, ngx_msec_t interval)
{
    ngx_msec_int_t                  elapsed;
    ngx_gateway_identify_bucket_t  *b;

    b = &zone->sh->identify_buckets[((user_id ^ (bucket
                                                 * 0xff51afd7ed558ccdULL))
                                     * 0x9e3779b97f4a7c15ULL)
                                    >> (64 - NGX_GATEWAY_IDENTIFY_BUCKETS_BITS)];

    elapsed = (ngx_msec_int_t) (ngx_current_msec - b->at);

    if (b->user_id == user_id && b->bucket == bucket
        && elapsed >= 0 && elapsed < (ngx_msec_int_t) interval)
    {
        return 1;
    }

    b->user_id = user_id;
    b->bucket = (uint32_t) bucket;
    b->at = ngx_current_msec;

    return 0;
}


/*
 * 1.6, 1.11 session_start_limit: identifies left in the user's 24-hour
 * window, which starts with an Identify after the last one ran out, and
 * the milliseconds until it resets (0 when no window runs).
 */

ngx_uint_t
ngx_gateway_session_starts_left_locked(ngx_gateway_user_t *user,
    ngx_uint_t limit, ngx_msec_t *reset_after)
{
    time_t  now;

    now = ngx_time();

    if (now - (time_t) user->starts_window >= NGX_GATEWAY_START_WINDOW) {
        if (reset_after) {
            *reset_after = 0;
        }

        return limit;
    }

    if (reset_after) {
        *reset_after = (ngx_msec_t) (user->starts_window
                                     + NGX_GATEWAY_START_WINDOW - now)
                       * 1000;
    }

    return user->starts < limit ? limit - user->starts : 0;
}


static void
ngx_gateway_session_start_locked(ngx_gateway_user_t *user)
{
    time_t  now;

    now = ngx_time();

    if (now - (time_t) user->starts_window >= NGX_GATEWAY_START_WINDOW) {
        user->starts_window = (uint32_t) now;
        user->starts = 0;
    }

    user->starts++;
}
