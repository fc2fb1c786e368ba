
/*
 * gwload: protocol "gateway", the client side of the Discord Gateway v10
 * (PROTOCOL.md Part 1, 1.2 - 1.8), JSON encoding, no compression.
 *
 * Per connection: wait for Hello (op 10), send Identify (op 2) at once,
 * then wait for READY and a GUILD_CREATE for every guild READY listed; that
 * completes the identify.  Heartbeats run as in discord.js: the first after
 * interval * random[0,1), then every interval; a beat that finds the
 * previous one un-ACKed counts a zombie.  Every dispatch must carry
 * s == last + 1.
 *
 * The payload codec is sans-IO (gwload_gateway.c, gwload_json.c); this
 * file keeps the options, the state and the counters, and
 * gwload_proto_gateway_report.c turns the counters into the summary.
 * Incoming messages dispatch through gwload_gw_ops[] (op, allowed phases,
 * handler) and dispatches through gwload_gw_events[] (t, handler).
 *
 * Message latency: a MESSAGE_CREATE, or any other dispatch whose d.content
 * holds a probe (gwload_probe.h), is a delivery; the probe's timestamp
 * gives its latency.  READY and GUILD_CREATE are never scanned.
 *
 * Resume (1.8, 1.9; on unless resume=0) is in
 * gwload_proto_gateway_resume.c: READY's session is kept here, a lost
 * session is reconnected there, and its new socket comes back through
 * on_open and Hello, which then sends Resume (or Identify, after op 9
 * d:false) instead of Identify.
 *
 * Later work plugs in here:
 *   zlib-stream    an inflate step at the top of on_message, for binary
 *                  frames, with a z_stream per connection
 */


#include "gwload.h"
#include "gwload_proto_gateway.h"


#define GWLOAD_GW_TOKEN_MAX         1024
#define GWLOAD_GW_SETUP_TIMEOUT     30000   /* ms */


typedef struct {
    int64_t                 op;
    unsigned                phases;     /* bit (1 << phase) */
    gwload_gw_handler_pt    handler;
} gwload_gw_op_t;

typedef struct {
    const char             *name;
    size_t                  len;
    gwload_gw_handler_pt    handler;
} gwload_gw_event_t;


#define gwload_gw_phase(p)          (1u << (p))
#define GWLOAD_GW_ANY               0xffu
#define GWLOAD_GW_AFTER_HELLO                                                 \
    (GWLOAD_GW_ANY & ~gwload_gw_phase(GWLOAD_GW_HELLO))


static int gwload_gw_configure(gwload_conf_t *conf);
static int gwload_gw_option(gwload_conf_t *conf, gwload_gw_conf_t *gc,
    char *opt);
static int gwload_gw_tokens(gwload_gw_conf_t *gc, const char *file);
static int gwload_gw_url(gwload_conf_t *conf, gwload_gw_conf_t *gc);
static void gwload_gw_cleanup(gwload_conf_t *conf);
static int gwload_gw_on_open(gwload_conn_t *c);
static int gwload_gw_on_message(gwload_conn_t *c, int opcode, u_char *data,
    size_t len);
static int gwload_gw_on_timer(gwload_conn_t *c);
static void gwload_gw_on_close(gwload_conn_t *c, int code);

static int gwload_gw_hello_handler(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m);
static int gwload_gw_heartbeat_request(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m);
static int gwload_gw_heartbeat_ack(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m);
static int gwload_gw_dispatch(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m);
static int gwload_gw_ready_handler(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m);
static int gwload_gw_guilds(gwload_gw_conn_t *g, gwload_gw_ready_t *r);
static int gwload_gw_guild_create(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m);
static int gwload_gw_message_create(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m);
static int gwload_gw_probe(gwload_conn_t *c, gwload_gw_msg_t *m);
static int gwload_gw_send_heartbeat(gwload_conn_t *c, gwload_gw_conn_t *g);
static void gwload_gw_identified(gwload_conn_t *c, gwload_gw_conn_t *g);
static void gwload_gw_setup_done(gwload_conn_t *c, gwload_gw_conn_t *g);
static int gwload_gw_cmp(const void *a, const void *b);


const gwload_proto_t  gwload_proto_gateway = {
    "gateway",
    sizeof(gwload_gw_conn_t),
    1,                              /* want_payload */
    { NULL },                       /* counters: our own report */
    { "identify", "ready", "hello", "heartbeat_rtt", "resume",
      "reidentify" },

    gwload_gw_configure,
    gwload_gw_cleanup,
    NULL,                           /* init */
    gwload_gw_on_open,
    gwload_gw_on_message,
    NULL,                           /* on_control: the core answers pings */
    gwload_gw_on_timer,
    gwload_gw_on_close,
    gwload_gw_on_reconnect_failed,
    gwload_gw_on_reconnect_end,

    gwload_gw_progress,
    gwload_gw_result,
    gwload_gw_report,
    gwload_gw_report_json
};


/* PROTOCOL.md 1.3 and 1.4: what the server may send, and when */
static gwload_gw_op_t  gwload_gw_ops[] = {

    /* a dispatch comes only after Identify */
    { GWLOAD_GW_OP_DISPATCH, GWLOAD_GW_AFTER_HELLO, gwload_gw_dispatch },

    /* the server asks for a heartbeat: answer at once (1.5) */
    { GWLOAD_GW_OP_HEARTBEAT, GWLOAD_GW_ANY, gwload_gw_heartbeat_request },

    /* "may arrive at any time, even before Hello" */
    { GWLOAD_GW_OP_RECONNECT, GWLOAD_GW_ANY, gwload_gw_reconnect },

    /* identify refused (concurrency), or a resume refused */
    { GWLOAD_GW_OP_INVALID_SESSION, GWLOAD_GW_AFTER_HELLO,
      gwload_gw_invalid_session },

    /* once per socket, first */
    { GWLOAD_GW_OP_HELLO, gwload_gw_phase(GWLOAD_GW_HELLO),
      gwload_gw_hello_handler },

    { GWLOAD_GW_OP_HEARTBEAT_ACK, GWLOAD_GW_ANY, gwload_gw_heartbeat_ack },

    { -1, 0, NULL }
};


#define gwload_gw_event(name, handler)  { name, sizeof(name) - 1, handler }

/* dispatches with work to do; any other t is only counted */
static gwload_gw_event_t  gwload_gw_events[] = {
    gwload_gw_event("READY", gwload_gw_ready_handler),
    gwload_gw_event("GUILD_CREATE", gwload_gw_guild_create),
    gwload_gw_event("MESSAGE_CREATE", gwload_gw_message_create),
    gwload_gw_event("RESUMED", gwload_gw_resumed),
    { NULL, 0, NULL }
};


static int
gwload_gw_configure(gwload_conf_t *conf)
{
    unsigned           i;
    gwload_gw_conf_t  *gc;

    gc = calloc(1, sizeof(gwload_gw_conf_t));
    if (gc == NULL) {
        return GWLOAD_ERROR;
    }

    conf->proto_conf = gc;

    gc->intents = GWLOAD_GW_INTENTS_DEFAULT;
    gc->shard_id = -1;
    gc->setup_timeout_ms = GWLOAD_GW_SETUP_TIMEOUT;
    gc->identify = 1;
    gc->resume = 1;
    gc->backoff_min = GWLOAD_GW_BACKOFF_MIN;
    gc->backoff_max = GWLOAD_GW_BACKOFF_MAX;

    for (i = 0; i < conf->nproto_opts; i++) {
        if (gwload_gw_option(conf, gc, conf->proto_opts[i]) != GWLOAD_OK) {
            goto failed;
        }
    }

    if (gc->identify && gc->ntokens == 0) {
        fprintf(stderr, "gwload: protocol gateway needs --proto-opt "
                "tokens=FILE (or identify=0)\n");
        goto failed;
    }

    if (gc->shards && gc->shard_id >= 0) {
        fprintf(stderr, "gwload: protocol gateway: shard= and shards= "
                "exclude each other\n");
        goto failed;
    }

    if (gwload_gw_url(conf, gc) != GWLOAD_OK) {
        goto failed;
    }

    return GWLOAD_OK;

failed:

    gwload_gw_cleanup(conf);

    return GWLOAD_ERROR;
}


static int
gwload_gw_option(gwload_conf_t *conf, gwload_gw_conf_t *gc, char *opt)
{
    int        rc;
    char      *v, *end;
    double     d;
    int64_t    a, b;
    uint64_t   u;

    (void) conf;

    v = strchr(opt, '=') + 1;
    errno = 0;
    end = NULL;

    rc = gwload_gw_resume_option(gc, opt, v);

    if (rc != GWLOAD_DECLINED) {
        if (rc != GWLOAD_OK) {
            goto invalid;
        }

        return GWLOAD_OK;
    }

    if (strncmp(opt, "tokens=", 7) == 0) {
        return gwload_gw_tokens(gc, v);
    }

    if (strncmp(opt, "intents=", 8) == 0) {
        u = strtoull(v, &end, 0);
        if (*v == '\0' || *end || errno || u >> 53) {
            goto invalid;
        }

        gc->intents = u;
        return GWLOAD_OK;
    }

    if (strncmp(opt, "shard=", 6) == 0) {
        if (sscanf(v, "%" SCNd64 ",%" SCNd64, &a, &b) != 2
            || a < 0 || b < 1 || a >= b || b > 1000000)
        {
            goto invalid;
        }

        gc->shard_id = a;
        gc->shard_n = b;
        return GWLOAD_OK;
    }

    if (strncmp(opt, "shards=", 7) == 0) {
        a = strtoll(v, &end, 10);
        if (*v == '\0' || *end || errno || a < 1 || a > 1000000) {
            goto invalid;
        }

        gc->shards = a;
        return GWLOAD_OK;
    }

    if (strncmp(opt, "large_threshold=", 16) == 0) {
        a = strtoll(v, &end, 10);
        if (*v == '\0' || *end || errno || a < 1 || a > 1000000) {
            goto invalid;
        }

        gc->large_threshold = a;
        return GWLOAD_OK;
    }

    if (strncmp(opt, "zombie=", 7) == 0) {
        if (strcmp(v, "count") == 0) {
            gc->zombie_close = 0;

        } else if (strcmp(v, "close") == 0) {
            gc->zombie_close = 1;

        } else {
            goto invalid;
        }

        return GWLOAD_OK;
    }

    if (strncmp(opt, "identify=", 9) == 0) {
        if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0) {
            gc->identify = 1;

        } else if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0) {
            gc->identify = 0;

        } else {
            goto invalid;
        }

        return GWLOAD_OK;
    }

    if (strncmp(opt, "identify_timeout=", 17) == 0) {
        d = strtod(v, &end);
        if (*v == '\0' || *end || errno || !(d > 0) || d > 1e6) {
            goto invalid;
        }

        gc->setup_timeout_ms = (uint64_t) (d * 1000);
        if (gc->setup_timeout_ms == 0) {
            gc->setup_timeout_ms = 1;
        }

        return GWLOAD_OK;
    }

    fprintf(stderr, "gwload: protocol gateway: unknown --proto-opt \"%s\" "
            "(known: tokens, intents, shard, shards, large_threshold, "
            "zombie, identify, identify_timeout, resume, backoff)\n", opt);

    return GWLOAD_ERROR;

invalid:

    fprintf(stderr, "gwload: protocol gateway: invalid --proto-opt \"%s\"\n",
            opt);

    return GWLOAD_ERROR;
}


/* one token per line (docs/API.md, "gwctl seed --out FILE") */

static int
gwload_gw_tokens(gwload_gw_conf_t *gc, const char *file)
{
    int        rc;
    FILE      *f;
    char      *buf, *p, *nl, *e, **tokens;
    long       size;
    size_t     n;
    uint32_t   k;

    f = fopen(file, "r");
    if (f == NULL) {
        fprintf(stderr, "gwload: cannot open tokens file %s: %s\n", file,
                strerror(errno));
        return GWLOAD_ERROR;
    }

    rc = GWLOAD_ERROR;
    buf = NULL;
    tokens = NULL;

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fprintf(stderr, "gwload: cannot read %s: %s\n", file,
                strerror(errno));
        goto done;
    }

    buf = malloc(size + 1);
    if (buf == NULL || fread(buf, 1, size, f) != (size_t) size) {
        fprintf(stderr, "gwload: cannot read %s\n", file);
        goto done;
    }

    buf[size] = '\0';

    /* at most one token per line */

    n = 1;
    for (p = buf; (p = strchr(p, '\n')); p++) {
        n++;
    }

    tokens = malloc(n * sizeof(char *));
    if (tokens == NULL) {
        goto done;
    }

    k = 0;

    for (p = buf; p < buf + size; p = nl + 1) {
        nl = strchr(p, '\n');
        if (nl == NULL) {
            nl = buf + size;
        }

        /* trim, and skip empty lines */

        for (e = nl; e > p && (e[-1] == '\r' || e[-1] == ' '
                               || e[-1] == '\t'); e--)
        {
            /* void */
        }

        while (p < e && (*p == ' ' || *p == '\t')) {
            p++;
        }

        *e = '\0';

        if (p == e) {
            continue;
        }

        if (e - p > GWLOAD_GW_TOKEN_MAX || strpbrk(p, "\"\\\x7f") != NULL) {
            fprintf(stderr, "gwload: %s: line %u: not a token (at most %d "
                    "characters, no quote or backslash)\n", file, k + 1,
                    GWLOAD_GW_TOKEN_MAX);
            goto done;
        }

        tokens[k++] = p;
    }

    if (k == 0) {
        fprintf(stderr, "gwload: %s: no tokens\n", file);
        goto done;
    }

    free(gc->tokens_buf);
    free(gc->tokens);

    gc->tokens_buf = buf;
    gc->tokens = tokens;
    gc->ntokens = k;

    buf = NULL;
    tokens = NULL;
    rc = GWLOAD_OK;

done:

    fclose(f);
    free(buf);
    free(tokens);

    return rc;
}


/* PROTOCOL.md 1.1: ?v=10&encoding=json unless the URL has a query */

static int
gwload_gw_url(gwload_conf_t *conf, gwload_gw_conf_t *gc)
{
    static const char  query[] = "?v=10&encoding=json";

    if (strchr(conf->path, '?')) {
        return GWLOAD_OK;
    }

    gc->url = malloc(strlen(conf->url) + sizeof(query));
    gc->path = malloc(strlen(conf->path) + sizeof(query));

    if (gc->url == NULL || gc->path == NULL) {
        return GWLOAD_ERROR;
    }

    strcpy(gc->url, conf->url);
    strcat(gc->url, query);
    strcpy(gc->path, conf->path);
    strcat(gc->path, query);

    conf->url = gc->url;
    conf->path = gc->path;

    return GWLOAD_OK;
}


static void
gwload_gw_cleanup(gwload_conf_t *conf)
{
    gwload_gw_conf_t  *gc;

    gc = conf->proto_conf;

    if (gc == NULL) {
        return;
    }

    free(gc->tokens_buf);
    free(gc->tokens);
    free(gc->url);
    free(gc->path);
    free(gc);

    conf->proto_conf = NULL;

    /* a worker's resume targets */
    gwload_gw_resume_cleanup();
}


static int
gwload_gw_on_open(gwload_conn_t *c)
{
    gwload_gw_conn_t  *g;

    g = c->proto_data;

    if (g->recovering) {
        /* a reconnect (gwload_proto_gateway_resume.c): Hello first */

        g->phase = GWLOAD_GW_HELLO;
        g->hb_next = 0;
        g->unacked = 0;

        return GWLOAD_OK;
    }

    g->pending = 1;
    c->worker->proto_pending++;

    g->deadline = gwload_conn_now(c)
                  + gwload_gw_conf(c)->setup_timeout_ms * GWLOAD_MSEC;

    return gwload_gw_arm(c, g);
}


static int
gwload_gw_on_message(gwload_conn_t *c, int opcode, u_char *data, size_t len)
{
    gwload_gw_op_t    *op;
    gwload_gw_msg_t    m;
    gwload_gw_conn_t  *g;

    g = c->proto_data;

    /* JSON comes in text frames; binary would be ETF or zlib-stream */

    if (opcode != GWLOAD_WS_OP_TEXT
        || gwload_gw_decode(data, len, &m) != GWLOAD_OK)
    {
        gwload_gw_count(c, GWLOAD_GW_N_DECODE_ERRORS);
        return GWLOAD_OK;
    }

    for (op = gwload_gw_ops; op->handler; op++) {
        if (op->op == m.op) {
            break;
        }
    }

    if (op->handler == NULL || !(op->phases & gwload_gw_phase(g->phase))) {
        gwload_gw_count(c, GWLOAD_GW_N_OP_UNEXPECTED);
        return GWLOAD_OK;
    }

    return op->handler(c, g, &m);
}


static int
gwload_gw_hello_handler(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m)
{
    double             jitter;
    uint64_t           interval, now;
    gwload_gw_conf_t  *gc;

    gc = gwload_gw_conf(c);
    now = gwload_conn_now(c);

    if (gwload_gw_hello(m, &interval) != GWLOAD_OK
        || interval > 24 * 3600 * 1000)
    {
        gwload_gw_count(c, GWLOAD_GW_N_DECODE_ERRORS);
        return GWLOAD_OK;
    }

    gwload_gw_count(c, GWLOAD_GW_N_HELLO);

    if (!g->recovering) {
        gwload_hist_add(&gwload_conn_stats(c)->proto_hist[GWLOAD_GW_H_HELLO],
                        (now - c->start) / GWLOAD_USEC);
    }

    /*
     * PROTOCOL.md 1.5, as discord.js: the first beat after
     * interval * jitter, jitter uniform in [0, 1) from this process's
     * seeded generator
     */

    g->hb_interval = (uint32_t) interval;

    jitter = (double) (gwload_worker_random(c->worker) >> 11)
             / (double) (1ULL << 53);

    g->hb_next = now + (uint64_t) (jitter * interval * GWLOAD_MSEC);

    if (!gc->identify) {
        g->phase = GWLOAD_GW_CONNECTED;
        gwload_conn_stats(c)->proto_done_ns = now;
        gwload_gw_setup_done(c, g);

        return gwload_gw_arm(c, g);
    }

    if (g->recovering && !g->reidentify) {
        if (gwload_gw_send_resume(c, g) != GWLOAD_OK) {
            return GWLOAD_ERROR;
        }

        g->phase = GWLOAD_GW_RESUMING;

        return gwload_gw_arm(c, g);
    }

    if (g->recovering) {
        /* a new session: its sequence starts again at READY (1.2) */
        g->seq = 0;
    }

    if (gwload_gw_send_identify(c) != GWLOAD_OK) {
        return GWLOAD_ERROR;
    }

    g->identify_sent = now;
    g->phase = GWLOAD_GW_IDENTIFYING;

    return gwload_gw_arm(c, g);
}


/* PROTOCOL.md 1.6: connection i uses token i mod count */

int
gwload_gw_send_identify(gwload_conn_t *c)
{
    size_t                 n;
    u_char                 buf[GWLOAD_GW_CLIENT_MAX];
    gwload_gw_conf_t      *gc;
    gwload_gw_identify_t   id;

    gc = gwload_gw_conf(c);

    id.token = gc->tokens[c->id % gc->ntokens];
    id.token_len = strlen(id.token);
    id.intents = gc->intents;
    id.shard_id = gc->shard_id;
    id.shard_n = gc->shard_n;
    id.large_threshold = gc->large_threshold;

    if (gc->shards) {
        id.shard_id = c->id % gc->shards;
        id.shard_n = gc->shards;
    }

    n = gwload_gw_identify(buf, sizeof(buf), &id);

    if (n == 0) {
        /* cannot happen: tokens are bounded when loaded */
        return GWLOAD_ERROR;
    }

    if (gwload_conn_send_frame(c, GWLOAD_WS_OP_TEXT, buf, n) != GWLOAD_OK) {
        return GWLOAD_ERROR;
    }

    gwload_gw_count(c, GWLOAD_GW_N_IDENTIFY_SENT);

    return GWLOAD_OK;
}


/* the server's op 1: answered at once, without the zombie check (1.5) */

static int
gwload_gw_heartbeat_request(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m)
{
    (void) m;

    gwload_gw_count(c, GWLOAD_GW_N_HB_REQUESTED);

    return gwload_gw_send_heartbeat(c, g);
}


static int
gwload_gw_heartbeat_ack(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m)
{
    (void) m;

    gwload_gw_count(c, GWLOAD_GW_N_HB_ACKS);

    if (g->unacked) {
        g->unacked = 0;
        gwload_hist_add(
            &gwload_conn_stats(c)->proto_hist[GWLOAD_GW_H_HEARTBEAT],
            (gwload_conn_now(c) - g->hb_sent) / GWLOAD_USEC);
    }

    return GWLOAD_OK;
}


/* op 0: check s (1.2), then the event */

static int
gwload_gw_dispatch(gwload_conn_t *c, gwload_gw_conn_t *g, gwload_gw_msg_t *m)
{
    size_t              len;
    gwload_gw_event_t  *ev;

    if (!m->has_s) {
        gwload_gw_count(c, GWLOAD_GW_N_SEQ_MISSING);

    } else {
        /* g->seq >= 0, so the difference cannot overflow */

        if (m->s <= g->seq) {
            gwload_gw_count(c, GWLOAD_GW_N_SEQ_REPEATS);

        } else if (m->s - g->seq > 1) {
            gwload_gw_count(c, GWLOAD_GW_N_SEQ_GAPS);
            gwload_gw_add(c, GWLOAD_GW_N_SEQ_LOST, m->s - g->seq - 1);
        }

        /* as @discordjs/ws: the sequence only moves forward */

        if (m->s > g->seq) {
            g->seq = m->s;
        }
    }

    if (m->t.type != GWLOAD_JSON_STRING) {
        gwload_gw_count(c, GWLOAD_GW_N_DECODE_ERRORS);
        return GWLOAD_OK;
    }

    len = m->t.end - m->t.start;

    if (g->phase == GWLOAD_GW_RESUMING && !gwload_json_eq(&m->t, "RESUMED")) {
        /* what the server replays after Resume (1.8) */
        gwload_gw_count(c, GWLOAD_GW_N_REPLAYED);
    }

    for (ev = gwload_gw_events; ev->name; ev++) {
        if (ev->len == len && memcmp(ev->name, m->t.start, len) == 0) {
            return ev->handler(c, g, m);
        }
    }

    gwload_gw_count(c, GWLOAD_GW_N_DISPATCH_OTHER);

    /* another event with a probe in d.content is a delivery too */

    (void) gwload_gw_probe(c, m);

    return GWLOAD_OK;
}


/* READY (1.7): the guilds it lists must each get a GUILD_CREATE */

static int
gwload_gw_ready_handler(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m)
{
    gwload_wstats_t    *st;
    gwload_gw_ready_t   r;

    st = gwload_conn_stats(c);

    gwload_gw_count(c, GWLOAD_GW_N_READY);

    if (g->phase != GWLOAD_GW_IDENTIFYING) {
        /* a second READY, or one after a refused identify */
        gwload_gw_count(c, GWLOAD_GW_N_OP_UNEXPECTED);
        return GWLOAD_OK;
    }

    if (!g->recovering) {
        gwload_hist_add(&st->proto_hist[GWLOAD_GW_H_READY],
                        (gwload_conn_now(c) - g->identify_sent)
                        / GWLOAD_USEC);
    }

    if (gwload_gw_ready(m, &r) != GWLOAD_OK) {
        gwload_gw_count(c, GWLOAD_GW_N_DECODE_ERRORS);
        gwload_gw_setup_failed(c, g);
        return gwload_gw_arm(c, g);
    }

    if (r.session_id.type == GWLOAD_JSON_STRING
        && r.session_id.end > r.session_id.start)
    {
        gwload_gw_count(c, GWLOAD_GW_N_SESSIONS);
    }

    /* session_id and resume_gateway_url, for a resume */

    gwload_gw_session_keep(c, g, &r);

    g->phase = GWLOAD_GW_GUILDS;

    if (r.nguilds == 0) {
        gwload_gw_identified(c, g);
        return gwload_gw_arm(c, g);
    }

    if (gwload_gw_guilds(g, &r) != GWLOAD_OK) {
        gwload_gw_count(c, GWLOAD_GW_N_DECODE_ERRORS);
        gwload_gw_setup_failed(c, g);
        return gwload_gw_arm(c, g);
    }

    return GWLOAD_OK;
}


/* READY's guild ids, sorted and unique, each with a "seen" bit after them */

static int
gwload_gw_guilds(gwload_gw_conn_t *g, gwload_gw_ready_t *r)
{
    int                 rc;
    uint32_t            n, i, k;
    uint64_t           *ids;
    gwload_json_iter_t  it;

    n = r->nguilds;

    ids = malloc(n * sizeof(uint64_t) + (n + 7) / 8);
    if (ids == NULL) {
        return GWLOAD_ERROR;
    }

    (void) gwload_json_iter(&it, &r->guilds, r->guilds.end);

    for (i = 0; i < n; i++) {
        rc = gwload_gw_guild_next(&it, &ids[i]);

        if (rc != GWLOAD_OK) {
            free(ids);
            return GWLOAD_ERROR;
        }
    }

    qsort(ids, n, sizeof(uint64_t), gwload_gw_cmp);

    for (i = 1, k = 1; i < n; i++) {
        if (ids[i] != ids[k - 1]) {
            ids[k++] = ids[i];
        }
    }

    memset(ids + k, 0, (k + 7) / 8);

    g->guilds = ids;
    g->nguilds = k;
    g->guilds_left = k;

    return GWLOAD_OK;
}


static int
gwload_gw_guild_create(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m)
{
    u_char    *seen;
    uint64_t   id;
    uint32_t   lo, hi, mid;

    gwload_gw_count(c, GWLOAD_GW_N_GUILD_CREATE);

    if (g->phase != GWLOAD_GW_GUILDS) {
        if (g->phase != GWLOAD_GW_CONNECTED
            && g->phase != GWLOAD_GW_RESUMING)
        {
            /* before READY: nothing to match it with */
            gwload_gw_count(c, GWLOAD_GW_N_GUILD_UNEXPECTED);
        }

        /*
         * else the bot joined a guild, or one came back (1.15), or a
         * resume replays one
         */

        return GWLOAD_OK;
    }

    if (gwload_gw_object_id(&m->d, m->end, &id) != GWLOAD_OK) {
        gwload_gw_count(c, GWLOAD_GW_N_DECODE_ERRORS);
        return GWLOAD_OK;
    }

    lo = 0;
    hi = g->nguilds;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (g->guilds[mid] < id) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    seen = (u_char *) (g->guilds + g->nguilds);

    if (lo == g->nguilds || g->guilds[lo] != id
        || (seen[lo >> 3] & (1 << (lo & 7))))
    {
        gwload_gw_count(c, GWLOAD_GW_N_GUILD_UNEXPECTED);
        return GWLOAD_OK;
    }

    seen[lo >> 3] |= (u_char) (1 << (lo & 7));

    if (--g->guilds_left == 0) {
        gwload_gw_identified(c, g);
        return gwload_gw_arm(c, g);
    }

    return GWLOAD_OK;
}


/* a delivery, with or without a probe */

static int
gwload_gw_message_create(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m)
{
    (void) g;

    gwload_gw_count(c, GWLOAD_GW_N_MESSAGE_CREATE);

    if (!gwload_gw_probe(c, m)) {
        gwload_probe_record(c, NULL);
    }

    return GWLOAD_OK;
}


/*
 * A probe in d.content: 1 if there was one (and it was counted).  A
 * memmem() over d first, so that dispatches without the marker cost no
 * JSON walk.
 */

static int
gwload_gw_probe(gwload_conn_t *c, gwload_gw_msg_t *m)
{
    gwload_json_t   content;
    gwload_probe_t  pr;

    if (m->d.type != GWLOAD_JSON_OBJECT
        || memmem(m->d.start, m->d.end - m->d.start, GWLOAD_PROBE_MARKER,
                  GWLOAD_PROBE_MARKER_LEN)
           == NULL
        || gwload_gw_content(m, &content) != GWLOAD_OK
        || gwload_probe_parse(content.start, content.end, &pr) != GWLOAD_OK)
    {
        return 0;
    }

    gwload_probe_record(c, &pr);

    return 1;
}


static int
gwload_gw_send_heartbeat(gwload_conn_t *c, gwload_gw_conn_t *g)
{
    u_char  buf[64];
    size_t  n;

    n = gwload_gw_heartbeat(buf, sizeof(buf), g->seq ? g->seq : -1);

    if (gwload_conn_send_frame(c, GWLOAD_WS_OP_TEXT, buf, n) != GWLOAD_OK) {
        return GWLOAD_ERROR;
    }

    g->hb_sent = gwload_conn_now(c);
    g->unacked = 1;

    return GWLOAD_OK;
}


/* the setup deadline, or the next heartbeat */

static int
gwload_gw_on_timer(gwload_conn_t *c)
{
    uint64_t           now;
    gwload_gw_conn_t  *g;

    g = c->proto_data;
    now = gwload_conn_now(c);

    if (g->pending && now >= g->deadline) {
        gwload_gw_count(c, GWLOAD_GW_N_SETUP_TIMEOUT);
        gwload_gw_setup_failed(c, g);
    }

    if (g->hb_next && now >= g->hb_next) {

        /* PROTOCOL.md 1.5: no ACK since the last beat: a zombie */

        if (g->unacked) {
            gwload_gw_count(c, GWLOAD_GW_N_ZOMBIES);

            if (gwload_gw_conf(c)->zombie_close) {
                /* as discord.js: close with 4200, then resume */
                return gwload_gw_zombie(c, g);
            }
        }

        if (gwload_gw_send_heartbeat(c, g) != GWLOAD_OK) {
            return GWLOAD_ERROR;
        }

        gwload_gw_count(c, GWLOAD_GW_N_HB_SENT);

        g->hb_next += (uint64_t) g->hb_interval * GWLOAD_MSEC;

        if (g->hb_next <= now) {
            /* we were late: keep the period, do not burst */
            g->hb_next = now + (uint64_t) g->hb_interval * GWLOAD_MSEC;
        }
    }

    return gwload_gw_arm(c, g);
}


static void
gwload_gw_on_close(gwload_conn_t *c, int code)
{
    int                k, rc;
    gwload_gw_conn_t  *g;

    g = c->proto_data;

    if (code >= 1000 && code < 1016) {
        k = GWLOAD_GW_N_CLOSE_1000 + (code - 1000);

    } else if (code >= 4000 && code < 4016) {
        k = GWLOAD_GW_N_CLOSE_4000 + (code - 4000);

    } else {
        k = code ? GWLOAD_GW_N_CLOSE_OTHER : -1;
    }

    if (k >= 0) {
        gwload_gw_count(c, k);
    }

    /* a resume, or the end (gwload_proto_gateway_resume.c) */

    rc = gwload_gw_lost(c, g, code);

    if (rc != GWLOAD_OK && g->pending) {
        gwload_gw_setup_failed(c, g);
    }

    free(g->guilds);
    g->guilds = NULL;
}


static void
gwload_gw_identified(gwload_conn_t *c, gwload_gw_conn_t *g)
{
    uint64_t          now;
    gwload_wstats_t  *st;

    st = gwload_conn_stats(c);
    now = gwload_conn_now(c);

    if (g->recovering) {
        /* after op 9 d:false: a new session, what was lost is unknown */

        gwload_gw_count(c, GWLOAD_GW_N_REIDENTIFIED);
        gwload_hist_add(&st->proto_hist[GWLOAD_GW_H_REIDENTIFY],
                        (now - g->lost_at) / GWLOAD_USEC);
        gwload_stats_series_add(c->worker, GWLOAD_GW_S_REIDENTIFIED);

        g->recovering = 0;
        g->reidentify = 0;
        g->backoff = 0;

        free(g->guilds);
        g->guilds = NULL;
        g->phase = GWLOAD_GW_CONNECTED;

        return;
    }

    gwload_gw_count(c, GWLOAD_GW_N_IDENTIFIED);
    gwload_hist_add(&st->proto_hist[GWLOAD_GW_H_IDENTIFY],
                    (now - c->start) / GWLOAD_USEC);

    st->proto_done_ns = now;

    free(g->guilds);
    g->guilds = NULL;
    g->phase = GWLOAD_GW_CONNECTED;

    gwload_gw_setup_done(c, g);
}


void
gwload_gw_setup_failed(gwload_conn_t *c, gwload_gw_conn_t *g)
{
    if (g->pending) {
        gwload_gw_count(c, GWLOAD_GW_N_SETUP_FAILED);
    }

    free(g->guilds);
    g->guilds = NULL;
    g->phase = GWLOAD_GW_ENDED;

    gwload_gw_setup_done(c, g);
}


static void
gwload_gw_setup_done(gwload_conn_t *c, gwload_gw_conn_t *g)
{
    if (g->pending) {
        g->pending = 0;
        c->worker->proto_pending--;
    }

    g->deadline = 0;
}


int
gwload_gw_arm(gwload_conn_t *c, gwload_gw_conn_t *g)
{
    uint64_t  t;

    t = g->hb_next;

    if (g->pending && (t == 0 || g->deadline < t)) {
        t = g->deadline;
    }

    if (t == 0) {
        return GWLOAD_OK;
    }

    return gwload_conn_timer_at(c, t);
}


static int
gwload_gw_cmp(const void *a, const void *b)
{
    uint64_t  x, y;

    x = *(const uint64_t *) a;
    y = *(const uint64_t *) b;

    return (x > y) - (x < y);
}


