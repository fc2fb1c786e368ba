
/*
 * gwload: protocol "gateway", session resume (PROTOCOL.md 1.8, 1.9).
 *
 * READY's session_id and resume_gateway_url are kept per connection
 * (gwload_gw_session_keep()).  A session's socket that ends while the run
 * holds is reconnected, unless resume=0:
 *
 *   - a drop without a close frame (EOF, reset), or a server close whose
 *     code allows it (gwload_gw_close_action(): not 4004, 4010-4014);
 *   - op 7, after which we close with 4000 (not 1000/1001, which would end
 *     the session, 1.4);
 *   - op 9 d:true (4000 too), and a zombie with zombie=close (4200).
 *
 * The delay is uniform in [backoff MIN, MAX] for the first attempt after
 * a loss, then doubles (from at least GWLOAD_GW_BACKOFF_FLOOR, up to
 * GWLOAD_GW_BACKOFF_CAP) after each failed one: a connect error, an HTTP
 * error, a timeout, a socket lost again before RESUMED; a 429 waits its
 * Retry-After instead.  The new socket goes to resume_gateway_url (with
 * ?v=10&encoding=json), waits for Hello and sends Resume with the last s;
 * the replayed dispatches must continue that sequence exactly, and
 * RESUMED completes the resume.
 *
 * op 9 d:false (the session is gone), and a 4007 close, make the next
 * socket go to --url and Identify afresh, after a new random delay in
 * [MIN, MAX] (the 1-5 s of 1.8): a re-identified session, whose losses are
 * unknown.  Its sequence starts again at READY.
 *
 * A session still away when the worker stops never came back: that, like
 * a sequence error, fails the run.
 */


#include "gwload.h"
#include "gwload_proto_gateway.h"


/* distinct resume_gateway_urls a worker keeps resolved */
#define GWLOAD_GW_TARGETS_MAX       64


typedef struct {
    gwload_target_t     target;
    u_char             *raw;            /* the JSON string, as READY had it */
    size_t              raw_len;
    unsigned            ok:1;           /* else: unusable, use --url */
} gwload_gw_target_t;


static const gwload_target_t *gwload_gw_target(gwload_conn_t *c,
    gwload_json_t *url);
static int gwload_gw_target_parse(gwload_gw_target_t *t);
static int gwload_gw_resumable(gwload_conn_t *c, gwload_gw_conn_t *g);
static int gwload_gw_away(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_disc_e cause, int action, int fresh);
static int gwload_gw_close_away(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_disc_e cause, int action, int fresh, int code);
static uint64_t gwload_gw_backoff_first(gwload_conn_t *c);
static uint64_t gwload_gw_backoff_next(gwload_gw_conn_t *g);


/* per worker process: READY's resume URLs, parsed and resolved once */
static gwload_gw_target_t  *gwload_gw_targets;
static size_t               gwload_gw_ntargets;


/* resume=1|0, backoff=MIN-MAX (ms; one number: fixed) */

int
gwload_gw_resume_option(gwload_gw_conf_t *gc, const char *opt,
    const char *v)
{
    char      *end;
    uint64_t   a, b;

    if (strncmp(opt, "resume=", 7) == 0) {
        if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0) {
            gc->resume = 1;

        } else if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0) {
            gc->resume = 0;

        } else {
            return GWLOAD_ERROR;
        }

        return GWLOAD_OK;
    }

    if (strncmp(opt, "backoff=", 8) != 0) {
        return GWLOAD_DECLINED;
    }

    if (*v < '0' || *v > '9') {
        return GWLOAD_ERROR;
    }

    errno = 0;
    a = strtoull(v, &end, 10);
    b = a;

    if (*end == '-') {
        v = end + 1;

        if (*v < '0' || *v > '9') {
            return GWLOAD_ERROR;
        }

        b = strtoull(v, &end, 10);
    }

    if (*end || errno || a > b || b > GWLOAD_GW_BACKOFF_CAP) {
        return GWLOAD_ERROR;
    }

    gc->backoff_min = a;
    gc->backoff_max = b;

    return GWLOAD_OK;
}


void
gwload_gw_resume_cleanup(void)
{
    size_t  i;

    for (i = 0; i < gwload_gw_ntargets; i++) {
        free(gwload_gw_targets[i].raw);
        free(gwload_gw_targets[i].target.host);
        free(gwload_gw_targets[i].target.path);
    }

    free(gwload_gw_targets);
    gwload_gw_targets = NULL;
    gwload_gw_ntargets = 0;
}


/* READY (1.7): what a Resume needs */

void
gwload_gw_session_keep(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_ready_t *r)
{
    size_t  len;

    g->session_id_len = 0;
    g->resume = NULL;

    if (!gwload_gw_conf(c)->resume
        || r->session_id.type != GWLOAD_JSON_STRING)
    {
        return;
    }

    len = r->session_id.end - r->session_id.start;

    if (len == 0) {
        return;
    }

    if (len > GWLOAD_GW_SESSION_ID_MAX) {
        /* no server sends such ids: it could not be resumed */
        gwload_gw_count(c, GWLOAD_GW_N_DECODE_ERRORS);
        return;
    }

    memcpy(g->session_id, r->session_id.start, len);
    g->session_id_len = (uint8_t) len;

    g->resume = gwload_gw_target(c, &r->resume_url);
}


/*
 * resume_gateway_url: looked up among this worker's, else parsed and
 * resolved (once per distinct URL; getaddrinfo() may block for a name).
 * NULL, counted, when it is missing or unusable: the resume then goes to
 * --url, the fallback of 1.8.
 */

static const gwload_target_t *
gwload_gw_target(gwload_conn_t *c, gwload_json_t *url)
{
    size_t               i, len;
    gwload_gw_target_t  *t;

    if (url->type != GWLOAD_JSON_STRING) {
        gwload_gw_count(c, GWLOAD_GW_N_RESUME_URL_BAD);
        return NULL;
    }

    len = url->end - url->start;

    for (i = 0; i < gwload_gw_ntargets; i++) {
        t = &gwload_gw_targets[i];

        if (t->raw_len == len && memcmp(t->raw, url->start, len) == 0) {
            goto found;
        }
    }

    if (gwload_gw_targets == NULL) {
        gwload_gw_targets = calloc(GWLOAD_GW_TARGETS_MAX,
                                   sizeof(gwload_gw_target_t));
        if (gwload_gw_targets == NULL) {
            gwload_gw_count(c, GWLOAD_GW_N_RESUME_URL_BAD);
            return NULL;
        }
    }

    if (gwload_gw_ntargets == GWLOAD_GW_TARGETS_MAX) {
        gwload_gw_count(c, GWLOAD_GW_N_RESUME_URL_BAD);
        return NULL;
    }

    t = &gwload_gw_targets[gwload_gw_ntargets];

    t->raw = malloc(len + 1);
    if (t->raw == NULL) {
        gwload_gw_count(c, GWLOAD_GW_N_RESUME_URL_BAD);
        return NULL;
    }

    memcpy(t->raw, url->start, len);
    t->raw[len] = '\0';
    t->raw_len = len;
    t->ok = (gwload_gw_target_parse(t) == GWLOAD_OK);

    gwload_gw_ntargets++;

    if (!t->ok) {
        fprintf(stderr, "gwload: worker %u: resume_gateway_url \"%.200s\" "
                "cannot be used (ws://host[:port][/path] without a query, "
                "IPv4); resuming on --url\n", c->worker->id,
                (char *) t->raw);
    }

found:

    if (!t->ok) {
        gwload_gw_count(c, GWLOAD_GW_N_RESUME_URL_BAD);
        return NULL;
    }

    return &t->target;
}


/* PROTOCOL.md 1.1 and 1.7: the URL has no query; we add ours */

static int
gwload_gw_target_parse(gwload_gw_target_t *t)
{
    char               url[GWLOAD_TARGET_MAX];
    size_t             i, n, plen;
    const char        *why;
    gwload_ws_url_t    u;

    static const char  query[] = "?v=10&encoding=json";

    /* the JSON string: "\/" is the only escape a URL may need */

    for (i = 0, n = 0; i < t->raw_len; i++) {
        if (n == sizeof(url) - 1) {
            return GWLOAD_ERROR;
        }

        if (t->raw[i] == '\\') {
            if (i + 1 == t->raw_len || t->raw[i + 1] != '/') {
                return GWLOAD_ERROR;
            }

            i++;
        }

        url[n++] = t->raw[i];
    }

    url[n] = '\0';

    if (gwload_ws_url(url, n, &u) != GWLOAD_OK || u.query_len
        || u.host_len + u.path_len + sizeof(query) + 1 > GWLOAD_TARGET_MAX)
    {
        return GWLOAD_ERROR;
    }

    plen = u.path_len ? u.path_len : 1;

    t->target.host = malloc(u.host_len + 1);
    t->target.path = malloc(plen + sizeof(query));

    if (t->target.host == NULL || t->target.path == NULL) {
        return GWLOAD_ERROR;
    }

    memcpy(t->target.host, u.host, u.host_len);
    t->target.host[u.host_len] = '\0';

    memcpy(t->target.path, u.path_len ? u.path : "/", plen);
    memcpy(t->target.path + plen, query, sizeof(query));

    return gwload_resolve(&u, &t->target.dst, &why);
}


/* Resume, op 6 (1.8): connection i's token, the session, the last s */

int
gwload_gw_send_resume(gwload_conn_t *c, gwload_gw_conn_t *g)
{
    size_t             n;
    u_char             buf[GWLOAD_GW_CLIENT_MAX];
    const char        *token;
    gwload_gw_conf_t  *gc;

    gc = gwload_gw_conf(c);
    token = gc->tokens[c->id % gc->ntokens];

    n = gwload_gw_resume(buf, sizeof(buf), token, strlen(token),
                         g->session_id, g->session_id_len, g->seq);

    if (n == 0) {
        /* cannot happen: tokens and session ids are bounded */
        return GWLOAD_ERROR;
    }

    if (gwload_conn_send_frame(c, GWLOAD_WS_OP_TEXT, buf, n) != GWLOAD_OK) {
        return GWLOAD_ERROR;
    }

    gwload_gw_count(c, GWLOAD_GW_N_RESUME_SENT);

    return GWLOAD_OK;
}


/* RESUMED (1.8): the replay is complete, the session is back */

int
gwload_gw_resumed(gwload_conn_t *c, gwload_gw_conn_t *g, gwload_gw_msg_t *m)
{
    uint64_t  now;

    (void) m;

    if (g->phase != GWLOAD_GW_RESUMING) {
        gwload_gw_count(c, GWLOAD_GW_N_OP_UNEXPECTED);
        return GWLOAD_OK;
    }

    now = gwload_conn_now(c);

    gwload_gw_count(c, GWLOAD_GW_N_RESUMED);
    gwload_hist_add(&gwload_conn_stats(c)->proto_hist[GWLOAD_GW_H_RESUME],
                    (now - g->lost_at) / GWLOAD_USEC);
    gwload_stats_series_add(c->worker, GWLOAD_GW_S_RESUMED);

    g->recovering = 0;
    g->backoff = 0;
    g->phase = GWLOAD_GW_CONNECTED;

    return GWLOAD_OK;
}


/* op 7 (1.8): the server will close this socket; resume elsewhere */

int
gwload_gw_reconnect(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m)
{
    (void) m;

    gwload_gw_count(c, GWLOAD_GW_N_RECONNECT);

    if (!gwload_gw_resumable(c, g)) {
        /* no session (yet), or resume=0: only counted */
        return GWLOAD_OK;
    }

    return gwload_gw_close_away(c, g, GWLOAD_GW_DISC_OP7,
                                g->reidentify ? GWLOAD_GW_ACTION_IDENTIFY
                                              : GWLOAD_GW_ACTION_RESUME,
                                !g->recovering, GWLOAD_GW_CLOSE_RECONNECT);
}


/*
 * op 9 (1.8).  During the first identify it means refused (identify
 * concurrency, 1.6): the identify fails, and the socket stays open.  For
 * a session, d:true resumes on a new socket, d:false identifies afresh on
 * --url after a random delay (as during a re-identify, whatever d says).
 */

int
gwload_gw_invalid_session(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m)
{
    int  d;

    d = gwload_gw_invalid_session_d(m);

    gwload_gw_count(c, GWLOAD_GW_N_INVALID_SESSION);
    gwload_gw_count(c, d == 1 ? GWLOAD_GW_N_INVALID_TRUE
                              : GWLOAD_GW_N_INVALID_FALSE);

    if (d < 0) {
        /* discord.js reads d: it must be a boolean; taken as false */
        gwload_gw_count(c, GWLOAD_GW_N_DECODE_ERRORS);
    }

    if (!g->recovering
        && (g->phase == GWLOAD_GW_IDENTIFYING || g->phase == GWLOAD_GW_GUILDS))
    {
        gwload_gw_setup_failed(c, g);
        return gwload_gw_arm(c, g);
    }

    if (!gwload_gw_resumable(c, g)) {
        return GWLOAD_OK;
    }

    if (d == 1 && !g->reidentify) {
        return gwload_gw_close_away(c, g, GWLOAD_GW_DISC_OP9,
                                    GWLOAD_GW_ACTION_RESUME, !g->recovering,
                                    GWLOAD_GW_CLOSE_RECONNECT);
    }

    /* the session is gone: a 1000 close is right (1.8, discord.js) */

    return gwload_gw_close_away(c, g, GWLOAD_GW_DISC_OP9,
                                GWLOAD_GW_ACTION_IDENTIFY, 1,
                                GWLOAD_WS_CLOSE_NORMAL);
}


/* zombie=close: close with 4200 and resume, as discord.js (1.5) */

int
gwload_gw_zombie(gwload_conn_t *c, gwload_gw_conn_t *g)
{
    if (!gwload_gw_resumable(c, g)) {
        return gwload_conn_close(c, GWLOAD_GW_CLOSE_RESUMING);
    }

    return gwload_gw_close_away(c, g, GWLOAD_GW_DISC_ZOMBIE,
                                g->reidentify ? GWLOAD_GW_ACTION_IDENTIFY
                                              : GWLOAD_GW_ACTION_RESUME,
                                !g->recovering, GWLOAD_GW_CLOSE_RESUMING);
}


/*
 * on_close: the socket is gone ("code" from the server's close frame, 0
 * without one).  GWLOAD_OK when a reconnect follows; else GWLOAD_DECLINED,
 * and a session that was away never came back.
 */

int
gwload_gw_lost(gwload_conn_t *c, gwload_gw_conn_t *g, int code)
{
    int  action;

    if (g->closing) {
        /* we closed it, a reconnect is already asked for */
        g->closing = 0;
        return GWLOAD_OK;
    }

    if (gwload_gw_resumable(c, g)) {
        action = gwload_gw_close_action(code);

        if (action != GWLOAD_GW_ACTION_STOP) {

            if (g->reidentify) {
                action = GWLOAD_GW_ACTION_IDENTIFY;
            }

            if (gwload_gw_away(c, g,
                               code ? GWLOAD_GW_DISC_CLOSE
                                    : GWLOAD_GW_DISC_DROP,
                               action, !g->recovering)
                == GWLOAD_OK)
            {
                return GWLOAD_OK;
            }
        }
    }

    if (g->recovering) {
        g->recovering = 0;
        gwload_gw_count(c, GWLOAD_GW_N_SESSIONS_LOST);
    }

    return GWLOAD_DECLINED;
}


/* a reconnect attempt failed before its 101: try again, later */

void
gwload_gw_on_reconnect_failed(gwload_conn_t *c, gwload_fail_e reason,
    int status, int64_t retry_after)
{
    uint64_t           delay;
    gwload_gw_conn_t  *g;

    (void) reason;

    g = c->proto_data;

    if (!g->recovering) {
        return;
    }

    if (status == 429) {
        gwload_gw_count(c, GWLOAD_GW_N_HTTP_429);
    }

    if (status == 429 && retry_after >= 0) {
        /* RFC 6585, 4: the server says when */
        delay = (uint64_t) retry_after;

    } else {
        delay = gwload_gw_backoff_next(g);
        g->backoff = (uint32_t) delay;
    }

    /* declined when stopping: then on_reconnect_end follows */

    (void) gwload_conn_reconnect(c, delay,
                                 g->reidentify ? NULL : g->resume);
}


void
gwload_gw_on_reconnect_end(gwload_conn_t *c)
{
    gwload_gw_conn_t  *g;

    g = c->proto_data;

    if (g->recovering) {
        g->recovering = 0;
        gwload_gw_count(c, GWLOAD_GW_N_SESSIONS_LOST);
    }

    g->phase = GWLOAD_GW_ENDED;
}


/* a session that may be reconnected now */

static int
gwload_gw_resumable(gwload_conn_t *c, gwload_gw_conn_t *g)
{
    gwload_gw_conf_t  *gc;

    gc = gwload_gw_conf(c);

    return gc->resume && gc->identify && !c->worker->stopping
           && (g->recovering
               || (g->phase == GWLOAD_GW_CONNECTED && g->session_id_len));
}


/*
 * Ask the core for a reconnect: to resume_gateway_url to resume, or to
 * --url to identify; "fresh" picks a new random delay, else the last one
 * doubles.  GWLOAD_DECLINED when the worker is stopping.
 */

static int
gwload_gw_away(gwload_conn_t *c, gwload_gw_conn_t *g, gwload_gw_disc_e cause,
    int action, int fresh)
{
    uint64_t  delay;

    delay = fresh ? gwload_gw_backoff_first(c) : gwload_gw_backoff_next(g);

    if (gwload_conn_reconnect(c, delay,
                              action == GWLOAD_GW_ACTION_IDENTIFY
                              ? NULL : g->resume)
        != GWLOAD_OK)
    {
        return GWLOAD_DECLINED;
    }

    if (!g->recovering) {
        g->recovering = 1;
        g->lost_at = gwload_conn_now(c);
    }

    g->reidentify = (action == GWLOAD_GW_ACTION_IDENTIFY);
    g->backoff = (uint32_t) delay;
    g->phase = GWLOAD_GW_AWAY;
    g->hb_next = 0;
    g->unacked = 0;

    gwload_gw_count(c, GWLOAD_GW_N_DISC_CLOSE + cause);
    gwload_stats_series_add(c->worker, GWLOAD_GW_S_DISCONNECTS);

    return GWLOAD_OK;
}


/* op 7, op 9, a zombie: close this socket ourselves, then reconnect */

static int
gwload_gw_close_away(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_disc_e cause, int action, int fresh, int code)
{
    if (gwload_gw_away(c, g, cause, action, fresh) != GWLOAD_OK) {
        /* stopping: the worker closes it anyway */
        return GWLOAD_OK;
    }

    g->closing = 1;

    return gwload_conn_close(c, code);
}


/* uniform in [backoff MIN, MAX] ms */

static uint64_t
gwload_gw_backoff_first(gwload_conn_t *c)
{
    uint64_t           span;
    gwload_gw_conf_t  *gc;

    gc = gwload_gw_conf(c);
    span = gc->backoff_max - gc->backoff_min + 1;

    return gc->backoff_min + gwload_worker_random(c->worker) % span;
}


/* after a failed attempt: twice the last delay, within floor and cap */

static uint64_t
gwload_gw_backoff_next(gwload_gw_conn_t *g)
{
    uint64_t  delay;

    delay = 2 * (uint64_t) g->backoff;

    if (delay < GWLOAD_GW_BACKOFF_FLOOR) {
        delay = GWLOAD_GW_BACKOFF_FLOOR;
    }

    if (delay > GWLOAD_GW_BACKOFF_CAP) {
        delay = GWLOAD_GW_BACKOFF_CAP;
    }

    return delay;
}
