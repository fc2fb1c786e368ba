
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * The gateway protocol state machine (shared/PROTOCOL.md 1.3-1.12) on the
 * WebSocket core: Hello on every new socket, heartbeats answered with
 * ACKs and watched for zombies, the opcode table with the phases each
 * opcode is allowed in, the per-connection rate limit, and the close
 * codes of 1.9.
 */


typedef ngx_int_t (*ngx_gateway_op_pt)(ngx_ws_conn_t *ws, json_t *d);

typedef struct {
    const char                *name;
    ngx_uint_t                 phases;
    ngx_gateway_op_pt          handler;
} ngx_gateway_op_t;


static ngx_int_t ngx_gateway_init(ngx_ws_conn_t *ws, ngx_http_request_t *r);
static ngx_int_t ngx_gateway_open(ngx_ws_conn_t *ws);
static ngx_int_t ngx_gateway_message(ngx_ws_conn_t *ws, ngx_uint_t opcode,
    u_char *data, size_t len);
static void ngx_gateway_timer(ngx_ws_conn_t *ws);
static void ngx_gateway_shutdown(ngx_ws_conn_t *ws);
static void ngx_gateway_reconnect(ngx_ws_conn_t *ws);
static void ngx_gateway_closed(ngx_ws_conn_t *ws);
static ngx_int_t ngx_gateway_resume_url(ngx_ws_conn_t *ws,
    ngx_http_request_t *r, ngx_gateway_loc_conf_t *glcf);
static void ngx_gateway_arm_heartbeat(ngx_ws_conn_t *ws);
static ngx_int_t ngx_gateway_op_heartbeat(ngx_ws_conn_t *ws, json_t *d);
static ngx_int_t ngx_gateway_op_presence(ngx_ws_conn_t *ws, json_t *d);
static ngx_int_t ngx_gateway_op_voice_state(ngx_ws_conn_t *ws, json_t *d);


const ngx_ws_handler_t  ngx_gateway_protocol = {
    "gateway",
    ngx_gateway_init,                      /* init */
    ngx_gateway_open,                      /* open */
    ngx_gateway_message,                   /* message */
    ngx_gateway_timer,                     /* timer */
    ngx_gateway_shutdown,                  /* shutdown */
    ngx_gateway_closed,                    /* closed */
    ngx_gateway_drained,                   /* drained */
    NGX_GATEWAY_CLOSE_DECODE_ERROR,        /* too_big_code */
    sizeof(ngx_gateway_conn_t)             /* ctx_size */
};


/* 1.3: what a client may send, and when */

static ngx_gateway_op_t  ngx_gateway_ops[NGX_GATEWAY_OP_MAX + 1] = {

    /* 0: Dispatch is server to client only */
    { "Dispatch", 0, NULL },

    /* 1: Heartbeat, at any time, before Identify too */
    { "Heartbeat", NGX_GATEWAY_PHASE_ANY, ngx_gateway_op_heartbeat },

    /* 2: Identify */
    { "Identify", NGX_GATEWAY_PHASE_HELLO, ngx_gateway_op_identify },

    /* 3: Presence Update */
    { "Presence Update", NGX_GATEWAY_PHASE_READY, ngx_gateway_op_presence },

    /* 4: Voice State Update */
    { "Voice State Update", NGX_GATEWAY_PHASE_READY,
      ngx_gateway_op_voice_state },

    /* 5: Voice Server Ping, user accounts only */
    { "Voice Server Ping", 0, NULL },

    /* 6: Resume */
    { "Resume", NGX_GATEWAY_PHASE_HELLO, ngx_gateway_op_resume },

    /* 7: Reconnect is server to client only */
    { "Reconnect", 0, NULL },

    /* 8: Request Guild Members */
    { "Request Guild Members", NGX_GATEWAY_PHASE_READY,
      ngx_gateway_op_request_members },

    /* 9, 10, 11: Invalid Session, Hello, Heartbeat ACK: server only */
    { "Invalid Session", 0, NULL },
    { "Hello", 0, NULL },
    { "Heartbeat ACK", 0, NULL }
};


/* 1.9 */

static ngx_str_t  ngx_gateway_close_reasons[] = {
    ngx_string("Unknown error"),                        /* 4000 */
    ngx_string("Unknown opcode"),                       /* 4001 */
    ngx_string("Decode error"),                         /* 4002 */
    ngx_string("Not authenticated"),                    /* 4003 */
    ngx_string("Authentication failed"),                /* 4004 */
    ngx_string("Already authenticated"),                /* 4005 */
    ngx_string("Unknown error"),                        /* 4006 */
    ngx_string("Invalid seq"),                          /* 4007 */
    ngx_string("Rate limited"),                         /* 4008 */
    ngx_string("Session timed out"),                    /* 4009 */
    ngx_string("Invalid shard"),                        /* 4010 */
    ngx_string("Sharding required"),                    /* 4011 */
    ngx_string("Invalid API version"),                  /* 4012 */
    ngx_string("Invalid intent(s)"),                    /* 4013 */
    ngx_string("Disallowed intent(s)")                  /* 4014 */
};


/* the API versions a client may ask for; all get v10's behaviour */
#define NGX_GATEWAY_VERSION_MIN   6


static ngx_int_t
ngx_gateway_init(ngx_ws_conn_t *ws, ngx_http_request_t *r)
{
    ngx_int_t                v;
    ngx_str_t                value;
    ngx_gateway_conn_t      *ctx;
    ngx_gateway_loc_conf_t  *glcf;

    ctx = ngx_ws_ctx(ws);
    glcf = ngx_gateway_loc_conf_of(ws);

    /*
     * 1.1: bad query parameters are answered after the upgrade, as
     * Discord does: Hello, then the close code (4012).
     */

    if (ngx_http_arg(r, (u_char *) "v", 1, &value) == NGX_OK) {
        v = ngx_atoi(value.data, value.len);

        if (v < NGX_GATEWAY_VERSION_MIN || v > NGX_GATEWAY_VERSION) {
            ctx->reject = NGX_GATEWAY_CLOSE_INVALID_VERSION;
        }
    }

    if (ngx_http_arg(r, (u_char *) "encoding", 8, &value) == NGX_OK
        && !(value.len == 4 && ngx_strncmp(value.data, "json", 4) == 0))
    {
        ctx->reject = NGX_GATEWAY_CLOSE_INVALID_VERSION;
    }

    if (ngx_http_arg(r, (u_char *) "compress", 8, &value) == NGX_OK
        && value.len)
    {
        ctx->reject = NGX_GATEWAY_CLOSE_INVALID_VERSION;
    }

    return ngx_gateway_resume_url(ws, r, glcf);
}


/*
 * READY's resume_gateway_url: the URL the client reached, without the
 * query string (discord.js appends its own), unless gateway_public_url
 * says otherwise.
 */

static ngx_int_t
ngx_gateway_resume_url(ngx_ws_conn_t *ws, ngx_http_request_t *r,
    ngx_gateway_loc_conf_t *glcf)
{
    size_t               len;
    u_char              *p;
    ngx_str_t            host;
    ngx_gateway_conn_t  *ctx;

    ctx = ngx_ws_ctx(ws);

    if (glcf->public_url.len) {
        return NGX_OK;
    }

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else {
        ngx_str_set(&host, "localhost");
    }

    len = sizeof("wss://") - 1 + host.len + glcf->location.len;

    if (len > 0xffff) {
        return NGX_ERROR;
    }

    p = ngx_ws_alloc(ws->conf->main, len, ws->connection->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->resume_url = p;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        p = ngx_cpymem(p, "wss://", sizeof("wss://") - 1);
    } else
#endif
    {
        p = ngx_cpymem(p, "ws://", sizeof("ws://") - 1);
    }

    p = ngx_cpymem(p, host.data, host.len);
    p = ngx_cpymem(p, glcf->location.data, glcf->location.len);

    ctx->resume_url_len = (uint16_t) (p - ctx->resume_url);

    return NGX_OK;
}


/* 1.4, 1.5: Hello on every new socket, resume sockets included */

static ngx_int_t
ngx_gateway_open(ngx_ws_conn_t *ws)
{
    u_char                   buf[128], *p;
    ngx_gateway_conn_t      *ctx;
    ngx_gateway_loc_conf_t  *glcf;

    ctx = ngx_ws_ctx(ws);
    glcf = ngx_gateway_loc_conf_of(ws);

    ws->connection->log->action = "serving gateway";

    p = ngx_sprintf(buf, "{\"op\":10,\"d\":{\"heartbeat_interval\":%M},"
                         "\"s\":null,\"t\":null}", glcf->heartbeat_interval);

    if (ngx_ws_send(ws, NGX_WS_OPCODE_TEXT, buf, p - buf) == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (ctx->reject) {
        ngx_gateway_fail(ws, ctx->reject, "unsupported v, encoding "
                         "or compress in the query string");
        return NGX_OK;
    }

    ctx->heartbeat_at = ngx_current_msec;
    ctx->window_start = ngx_current_msec;

    ngx_gateway_arm_heartbeat(ws);

    return NGX_OK;
}


static ngx_int_t
ngx_gateway_message(ngx_ws_conn_t *ws, ngx_uint_t opcode, u_char *data,
    size_t len)
{
    u_char                   err[96];
    json_t                  *root, *op, *d;
    ngx_int_t                rc;
    json_int_t               n;
    ngx_gateway_op_t        *entry;
    ngx_gateway_conn_t      *ctx;
    ngx_gateway_loc_conf_t  *glcf;

    ctx = ngx_ws_ctx(ws);
    glcf = ngx_gateway_loc_conf_of(ws);

    /* 1.12: 120 payloads per 60 s, then 4008 */

    if (ngx_current_msec - ctx->window_start >= glcf->rate_window) {
        ctx->window_start = ngx_current_msec;
        ctx->payloads = 0;
    }

    if (++ctx->payloads > glcf->rate_limit) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_RATE_LIMITED,
                         "more than %ui payloads in %M ms",
                         glcf->rate_limit, glcf->rate_window);
        return NGX_OK;
    }

    if (opcode != NGX_WS_OPCODE_TEXT) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "binary frames are not accepted with "
                         "encoding=json");
        return NGX_OK;
    }

    root = ngx_gateway_json_parse(data, len, err, sizeof(err));

    if (root == NULL) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR, "%s", err);
        return NGX_OK;
    }

    op = json_object_get(root, "op");

    if (!json_is_integer(op)) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "\"op\" must be an integer");
        json_decref(root);
        return NGX_OK;
    }

    n = json_integer_value(op);

    if (n < 0 || n > NGX_GATEWAY_OP_MAX
        || ngx_gateway_ops[n].handler == NULL)
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_UNKNOWN_OPCODE,
                         "opcode %L", (int64_t) n);
        json_decref(root);
        return NGX_OK;
    }

    entry = &ngx_gateway_ops[n];

    if (!(entry->phases & (1 << ctx->phase))) {

        if (ctx->phase == ngx_gateway_phase_hello) {
            ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_NOT_AUTHENTICATED,
                             "%s before Identify", entry->name);

        } else {
            ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_ALREADY_AUTHED,
                             "%s on an identified session", entry->name);
        }

        json_decref(root);
        return NGX_OK;
    }

    /* a session resumed on another connection is no longer this one's */

    if (ctx->session && !ngx_gateway_session_is(ctx->session, ws->connection))
    {
        ctx->session = NULL;
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_NOT_AUTHENTICATED,
                         "session resumed on another connection");
        json_decref(root);
        return NGX_OK;
    }

    d = json_object_get(root, "d");

    rc = entry->handler(ws, d ? d : json_null());

    json_decref(root);

    return rc;
}


/*
 * 1.5: a client that misses a heartbeat is first asked for one (op 1
 * from the server), halfway to the zombie deadline of zombie_factor
 * intervals; a client still silent at the deadline is closed with 4009
 * (it may resume).
 */

static void
ngx_gateway_arm_heartbeat(ngx_ws_conn_t *ws)
{
    ngx_msec_t               deadline, elapsed;
    ngx_gateway_conn_t      *ctx;
    ngx_gateway_loc_conf_t  *glcf;

    ctx = ngx_ws_ctx(ws);
    glcf = ngx_gateway_loc_conf_of(ws);

    /* draining: the deadline is the moment to send op 7 */

    if (ctx->draining || ctx->identify_denied) {
        return;
    }

    if (ctx->heartbeat_asked) {
        deadline = glcf->heartbeat_interval * glcf->zombie_factor / 10;

    } else {
        deadline = glcf->heartbeat_interval
                   * (10 + (glcf->zombie_factor - 10) / 2) / 10;
    }

    elapsed = ngx_current_msec - ctx->heartbeat_at;

    ngx_ws_set_deadline(ws, deadline > elapsed ? deadline - elapsed : 1);
}


static void
ngx_gateway_timer(ngx_ws_conn_t *ws)
{
    ngx_gateway_conn_t  *ctx;

    ctx = ngx_ws_ctx(ws);

    if (ctx->draining) {
        ngx_gateway_reconnect(ws);
        return;
    }

    if (ctx->identify_denied) {
        ctx->identify_denied = 0;

        if (ngx_gateway_send_op(ws, NGX_GATEWAY_OP_INVALID_SESSION, "false")
            != NGX_OK)
        {
            return;
        }

        ngx_gateway_arm_heartbeat(ws);
        return;
    }

    if (!ctx->heartbeat_asked) {
        ctx->heartbeat_asked = 1;

        if (ngx_gateway_send_op(ws, NGX_GATEWAY_OP_HEARTBEAT, "null")
            != NGX_OK)
        {
            return;
        }

        ngx_gateway_arm_heartbeat(ws);
        return;
    }

    ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_SESSION_TIMEOUT,
                     "no heartbeat for %M ms",
                     ngx_current_msec - ctx->heartbeat_at);
}


/* 1.5: every heartbeat gets an ACK, also one the server asked for */

static ngx_int_t
ngx_gateway_op_heartbeat(ngx_ws_conn_t *ws, json_t *d)
{
    ngx_gateway_conn_t  *ctx;

    ctx = ngx_ws_ctx(ws);

    if (!json_is_null(d)
        && !(json_is_integer(d) && json_integer_value(d) >= 0))
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Heartbeat: d must be a sequence number or null");
        return NGX_OK;
    }

    ctx->heartbeat_at = ngx_current_msec;
    ctx->heartbeat_asked = 0;

    ngx_gateway_arm_heartbeat(ws);

    return ngx_gateway_send_op(ws, NGX_GATEWAY_OP_HEARTBEAT_ACK, "null");
}


/*
 * 1.3 op 3: the user's status and activities (its presence), shown in its
 * guilds as PRESENCE_UPDATE (1.16)
 */

static ngx_int_t
ngx_gateway_op_presence(ngx_ws_conn_t *ws, json_t *d)
{
    char                 *text;
    json_t               *activities;
    ngx_int_t             rc;
    ngx_str_t             a;
    ngx_uint_t            status;
    const char           *error;
    ngx_gateway_zone_t   *zone;
    ngx_gateway_conn_t   *ctx;

    ctx = ngx_ws_ctx(ws);

    if (ngx_gateway_presence_parse(d, &status, &activities, &error)
        != NGX_OK)
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Presence Update: %s", error);
        return NGX_OK;
    }

    text = NULL;
    a.len = 0;

    if (activities && json_array_size(activities)) {
        text = json_dumps(activities, JSON_COMPACT);
        if (text == NULL) {
            return NGX_ERROR;
        }

        a.data = (u_char *) text;
        a.len = ngx_strlen(text);
    }

    zone = ngx_gateway_zone_get(ngx_gateway_main_conf());

    ngx_gateway_lock(zone);

    ctx->session->status = (uint8_t) status;
    ctx->session->user->status = (uint8_t) status;

    rc = ngx_gateway_user_set_activities_locked(zone, ctx->session->user,
                                                &a);

    if (rc == NGX_OK) {
        ngx_gateway_presence_publish_locked(zone, ctx->session->user);
    }

    ngx_gateway_unlock(zone);

    free(text);

    if (rc != NGX_OK) {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_UNKNOWN_ERROR,
                         "the gateway zone is full");
    }

    return NGX_OK;
}


/*
 * The presence object of op 3 and of Identify (1.3):
 * {since, activities:[{name, type, ...}], status, afk}.
 */

ngx_int_t
ngx_gateway_presence_parse(json_t *p, ngx_uint_t *status,
    json_t **activities, const char **error)
{
    size_t       i, len;
    json_t      *v, *a, *name, *type;
    const char  *s;

    static const char  *names[] = { "offline", "online", "idle", "dnd",
                                    "invisible" };

    if (!json_is_object(p)) {
        *error = "d must be an object";
        return NGX_ERROR;
    }

    v = json_object_get(p, "status");

    if (!json_is_string(v)) {
        *error = "status must be a string";
        return NGX_ERROR;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (ngx_strlen(names[i]) == len && ngx_strncmp(names[i], s, len) == 0)
        {
            break;
        }
    }

    if (i == sizeof(names) / sizeof(names[0])) {
        *error = "status must be online, idle, dnd, invisible or offline";
        return NGX_ERROR;
    }

    *status = i;

    v = json_object_get(p, "since");

    if (v && !json_is_null(v) && !json_is_integer(v)) {
        *error = "since must be an integer or null";
        return NGX_ERROR;
    }

    v = json_object_get(p, "afk");

    if (v && !json_is_boolean(v)) {
        *error = "afk must be a boolean";
        return NGX_ERROR;
    }

    v = json_object_get(p, "activities");

    if (v == NULL || json_is_null(v)) {
        *activities = NULL;
        return NGX_OK;
    }

    if (!json_is_array(v)) {
        *error = "activities must be an array";
        return NGX_ERROR;
    }

    json_array_foreach(v, i, a) {
        name = json_object_get(a, "name");
        type = json_object_get(a, "type");

        if (!json_is_object(a) || !json_is_string(name)
            || !json_is_integer(type)
            || json_integer_value(type) < 0 || json_integer_value(type) > 6)
        {
            *error = "an activity needs a name and a type of 0..6";
            return NGX_ERROR;
        }
    }

    *activities = v;

    return NGX_OK;
}


/*
 * 1.3 op 4: joining, moving within or leaving voice.  The voice state is
 * kept on the member (GUILD_CREATE lists it); a guild or channel that is
 * not the user's is ignored, as Discord does.
 */

static ngx_int_t
ngx_gateway_op_voice_state(ngx_ws_conn_t *ws, json_t *d)
{
    json_t                 *v;
    uint64_t                guild_id, channel_id;
    ngx_gateway_zone_t     *zone;
    ngx_gateway_conn_t     *ctx;
    ngx_gateway_guild_t    *guild;
    ngx_gateway_member_t   *m;
    ngx_gateway_channel_t  *ch;

    ctx = ngx_ws_ctx(ws);

    if (!json_is_object(d)
        || ngx_gateway_json_snowflake(json_object_get(d, "guild_id"),
                                      &guild_id) != NGX_OK)
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Voice State Update: guild_id is required");
        return NGX_OK;
    }

    v = json_object_get(d, "channel_id");
    channel_id = 0;

    if (v && !json_is_null(v)
        && ngx_gateway_json_snowflake(v, &channel_id) != NGX_OK)
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Voice State Update: invalid channel_id");
        return NGX_OK;
    }

    if (!json_is_boolean(json_object_get(d, "self_mute"))
        || !json_is_boolean(json_object_get(d, "self_deaf")))
    {
        ngx_gateway_fail(ws, NGX_GATEWAY_CLOSE_DECODE_ERROR,
                         "Voice State Update: self_mute and self_deaf "
                         "are required booleans");
        return NGX_OK;
    }

    zone = ngx_gateway_zone_get(ngx_gateway_main_conf());

    ngx_gateway_lock(zone);

    m = ngx_gateway_member_lookup_locked(zone, guild_id,
                                         ctx->session->user->node.key);
    guild = ngx_gateway_guild_lookup_locked(zone, guild_id);
    ch = channel_id ? ngx_gateway_channel_lookup_locked(zone, channel_id)
                    : NULL;

    if (m == NULL || guild == NULL || (channel_id && ch == NULL)
        || (ch && ch->guild != guild))
    {
        ngx_gateway_unlock(zone);

        ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                      "gateway: voice state update for a guild or channel "
                      "of someone else ignored");
        return NGX_OK;
    }

    if (m->voice_channel && !channel_id) {
        guild->voice_n--;

    } else if (!m->voice_channel && channel_id) {
        guild->voice_n++;
    }

    m->voice_channel = channel_id;
    m->self_mute = json_is_true(json_object_get(d, "self_mute"));
    m->self_deaf = json_is_true(json_object_get(d, "self_deaf"));

    ngx_gateway_unlock(zone);

    return NGX_OK;
}


/*
 * nginx -s reload or quit: op 7 tells the client to reconnect and resume
 * (1.8); the close that follows keeps the session for the resume window.
 * Identified clients are told at a random moment of gateway_drain_window,
 * so that the new workers see a stream of resumes rather than all of them
 * at once.
 */

static void
ngx_gateway_shutdown(ngx_ws_conn_t *ws)
{
    ngx_gateway_conn_t      *ctx;
    ngx_gateway_loc_conf_t  *glcf;

    ctx = ngx_ws_ctx(ws);
    glcf = ngx_gateway_loc_conf_of(ws);

    if (ctx->phase == ngx_gateway_phase_ready && glcf->drain_window > 1) {
        ctx->draining = 1;
        ngx_ws_set_deadline(ws, 1 + (ngx_msec_t) ngx_random()
                                    % glcf->drain_window);
        return;
    }

    ngx_gateway_reconnect(ws);
}


static void
ngx_gateway_reconnect(ngx_ws_conn_t *ws)
{
    if (ngx_gateway_send_op(ws, NGX_GATEWAY_OP_RECONNECT, "null") != NGX_OK) {
        return;
    }

    ngx_ws_close(ws, NGX_WS_CLOSE_SERVICE_RESTART, "server restarting");
}


/*
 * The connection is going away: a client that closed with 1000 or 1001
 * ends its session (1.4); otherwise (also when the server closed first and
 * the client echoed 1000) the session waits for a resume.
 */

static void
ngx_gateway_closed(ngx_ws_conn_t *ws)
{
    ngx_gateway_zone_t     *zone;
    ngx_gateway_conn_t     *ctx;
    ngx_gateway_session_t  *s;

    ctx = ngx_ws_ctx(ws);
    s = ctx->session;

    if (ctx->resume_url) {
        ngx_ws_free(ws->conf->main, ctx->resume_url);
        ctx->resume_url = NULL;
    }

    ngx_gateway_members_free(ws);

    if (s == NULL) {
        return;
    }

    ctx->session = NULL;

    zone = ngx_gateway_zone_get(ngx_gateway_main_conf());

    ngx_gateway_lock(zone);

    if (ngx_gateway_session_is(s, ws->connection)) {

        if (!ws->close_initiated
            && (ws->peer_close_code == NGX_WS_CLOSE_NORMAL
                || ws->peer_close_code == NGX_WS_CLOSE_GOING_AWAY))
        {
            ngx_gateway_session_delete_locked(zone, s);

        } else {
            ngx_gateway_session_detach_locked(zone, s);
        }
    }

    ngx_gateway_unlock(zone);
}


ngx_int_t
ngx_gateway_send_op(ngx_ws_conn_t *ws, ngx_uint_t op, const char *d)
{
    u_char  buf[128], *p;

    p = ngx_snprintf(buf, sizeof(buf),
                     "{\"op\":%ui,\"d\":%s,\"s\":null,\"t\":null}", op, d);

    return ngx_ws_send(ws, NGX_WS_OPCODE_TEXT, buf, p - buf) == NGX_ERROR
           ? NGX_ERROR : NGX_OK;
}


/* a gateway close code with its 1.9 meaning as the reason */

void
ngx_gateway_close(ngx_ws_conn_t *ws, ngx_uint_t code)
{
    if (code >= 4000 && code <= 4014) {
        ngx_ws_close(ws, code,
                     (const char *) ngx_gateway_close_reasons[code - 4000]
                                                                 .data);
        return;
    }

    ngx_ws_close(ws, code, NULL);
}


/*
 * Close with a code and a reason naming what was wrong: "Decode error:
 * "op" must be an integer".  The client's fault, so logged at info.
 */

void
ngx_gateway_fail(ngx_ws_conn_t *ws, ngx_uint_t code, const char *fmt, ...)
{
    u_char      reason[NGX_WS_MAX_CLOSE_REASON + 1], *p, *last;
    va_list     args;
    ngx_str_t  *name;

    last = reason + NGX_WS_MAX_CLOSE_REASON;

    p = reason;

    if (code >= 4000 && code <= 4014) {
        name = &ngx_gateway_close_reasons[code - 4000];
        p = ngx_slprintf(p, last, "%V: ", name);
    }

    va_start(args, fmt);
    p = ngx_vslprintf(p, last, fmt, args);
    va_end(args);

    *p = '\0';

    ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                  "gateway: closing with %ui, %s", code, reason);

    ngx_ws_close(ws, code, (const char *) reason);
}


/*
 * The session cannot go on (it fell behind its resume ring): op 9 with
 * d:false tells the client to identify anew (1.8), and the session ends.
 */

void
ngx_gateway_invalidate(ngx_ws_conn_t *ws, const char *why)
{
    ngx_gateway_zone_t     *zone;
    ngx_gateway_conn_t     *ctx;
    ngx_gateway_session_t  *s;

    ctx = ngx_ws_ctx(ws);
    s = ctx->session;

    ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                  "gateway: session invalidated: %s", why);

    if (s) {
        ctx->session = NULL;

        zone = ngx_gateway_zone_get(ngx_gateway_main_conf());

        ngx_gateway_lock(zone);

        if (ngx_gateway_session_is(s, ws->connection)) {
            ngx_gateway_session_delete_locked(zone, s);
        }

        ngx_gateway_unlock(zone);
    }

    ctx->phase = ngx_gateway_phase_hello;

    (void) ngx_gateway_send_op(ws, NGX_GATEWAY_OP_INVALID_SESSION, "false");
}
