
/*
 * gwload-test-server: a minimal WebSocket server to test gwload against,
 * and, with -G, a mock of the Discord Gateway v10 (PROTOCOL.md Part 1).
 *
 * Plain mode: it answers the upgrade, then stays silent unless asked to
 * ping, send messages or close; it answers pings and close frames and
 * echoes data frames.
 *
 * Gateway mode (-G): Hello on upgrade; an Identify is checked (token,
 * intents, properties, shard, large_threshold) and answered with READY
 * listing -g guilds as unavailable, a GUILD_CREATE for each (with about -b
 * bytes of members), then -e more dispatches; heartbeats are ACKed and
 * their "d" checked against the last s sent.  -M makes every -F-th
 * connection misbehave, so that gwload's counters can be checked:
 *
 *   skip-ack     do not ACK the first heartbeat
 *   no-ack       never ACK
 *   seq-gap      the first GUILD_CREATE skips one s
 *   seq-repeat   the first GUILD_CREATE repeats READY's s
 *   op9          answer Identify with op 9 (invalid session, d:false)
 *   close4004    answer Identify with close 4004
 *   op7          send op 7 (reconnect) after the guilds
 *   hb-request   send op 1 (heartbeat request) after the guilds
 *   drop-guild   leave out the last GUILD_CREATE
 *   no-hello     send no Hello
 *   bad-json     send a message that is not JSON after the guilds
 *
 * One epoll loop per process, level-triggered; output is queued per
 * connection and flushed on EPOLLOUT.  -w N forks N processes sharing the
 * port with SO_REUSEPORT.  Each process prints its counts on stderr when it
 * exits (SIGINT, SIGTERM) and on SIGUSR1.  Not for production: no limits,
 * no UTF-8.
 *
 *   -l ADDR:PORT   listen address [127.0.0.1:8080]
 *   -w N           processes [1]
 *   -s STATUS      answer the upgrade with this status instead of 101
 *   -a             send a wrong Sec-WebSocket-Accept
 *   -P MS          ping every connection every MS
 *   -m MS          send a text message to every connection every MS
 *   -d MS          close each connection (1001) MS after its upgrade
 *   -r             reset (RST) each connection instead of -d's close
 *   -G             gateway mode; then:
 *   -I MS          Hello's heartbeat_interval [41250]
 *   -g N           guilds in READY [1]
 *   -b BYTES       about this many bytes of members per GUILD_CREATE [0]
 *   -e N           dispatches (MESSAGE_CREATE) after the guilds [0]
 *   -f BYTES       split messages into frames of at most BYTES [no]
 *   -T FILE        the valid tokens, one per line [any non-empty token]
 *   -M LIST        misbehaviours, comma-separated (above)
 *   -F K           ... on every K-th connection, by accept order [1]
 */


#include "gwload.h"

#include <signal.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>


#define TS_BUF_MAX      16384

/* PROTOCOL.md 1.10: every documented intent bit */
#define TS_GW_INTENTS_ALL   53608447

/* first guild id; connection n has guilds TS_GW_GUILD0 + n * 10000 + j */
#define TS_GW_GUILD0        ((uint64_t) 1100000000000000000ULL)
#define TS_GW_GUILDS_MAX    10000

enum {
    sw_free = 0,
    sw_http,
    sw_ws,
    sw_closing
};

enum {
    ts_gw_st_hello = 0,         /* Hello sent */
    ts_gw_st_ready,             /* identified */
    ts_gw_st_refused            /* op 9 sent */
};


#define TS_MIS(X)                                                             \
    X(skip_ack,    "skip-ack")                                                \
    X(no_ack,      "no-ack")                                                  \
    X(seq_gap,     "seq-gap")                                                 \
    X(seq_repeat,  "seq-repeat")                                              \
    X(op9,         "op9")                                                     \
    X(close4004,   "close4004")                                               \
    X(op7,         "op7")                                                     \
    X(hb_request,  "hb-request")                                              \
    X(drop_guild,  "drop-guild")                                              \
    X(no_hello,    "no-hello")                                                \
    X(bad_json,    "bad-json")

#define ts_mis_enum(id, name)   ts_mis_##id,
enum { TS_MIS(ts_mis_enum) ts_mis_max };
#undef ts_mis_enum

#define ts_mis_name(id, name)   name,
static const char  *ts_mis_names[] = { TS_MIS(ts_mis_name) NULL };
#undef ts_mis_name


typedef struct {
    int         state;
    uint32_t    len;
    u_char     *buf;
    uint64_t    opened;

    u_char     *out;            /* queued output */
    size_t      out_len;
    size_t      out_pos;
    size_t      out_cap;
    unsigned    want_out:1;

    uint32_t    n;              /* accept order, gateway */
    int64_t     seq;            /* last s sent */
    uint32_t    hbs;            /* heartbeats received */
    uint8_t     gw;
} ts_conn_t;


static struct {
    struct sockaddr_in   addr;
    int                  workers;
    int                  status;
    int                  bad_accept;
    uint64_t             ping_ms;
    uint64_t             msg_ms;
    uint64_t             drop_ms;
    int                  rst;

    int                  gateway;
    uint64_t             hello_ms;
    uint32_t             guilds;
    size_t               bulk;
    uint32_t             extra;
    size_t               frag;
    unsigned             mis;
    uint32_t             every;
    char               **tokens;
    size_t               ntokens;
} ts;

static ts_conn_t   *ts_conns;
static int          ts_nconns;
static int          ts_ep;
static uint32_t     ts_accepted;
static uint64_t     ts_upgrades, ts_closes, ts_frames;
static uint64_t     ts_identifies, ts_bad_identifies, ts_heartbeats,
                    ts_bad_heartbeats, ts_acks, ts_bad_query;
static u_char      *ts_bulk, *ts_scratch;
static size_t       ts_bulk_len, ts_scratch_size;
static volatile sig_atomic_t  ts_quit, ts_dump;


uint64_t
gwload_now(void)
{
    struct timespec  tp;

    clock_gettime(CLOCK_MONOTONIC, &tp);

    return (uint64_t) tp.tv_sec * GWLOAD_NSEC + tp.tv_nsec;
}


static void
ts_on_signal(int sig)
{
    if (sig == SIGUSR1) {
        ts_dump = 1;

    } else {
        ts_quit = 1;
    }
}


static void
ts_stats(void)
{
    fprintf(stderr, "gwload-test-server[%d]: %" PRIu64 " upgrades, %" PRIu64
            " frames, %" PRIu64 " closes\n", (int) getpid(), ts_upgrades,
            ts_frames, ts_closes);

    if (ts.gateway) {
        fprintf(stderr, "gwload-test-server[%d]: gateway: %" PRIu64
                " identifies, %" PRIu64 " bad_identifies, %" PRIu64
                " heartbeats, %" PRIu64 " bad_heartbeats, %" PRIu64
                " acks, %" PRIu64 " bad_query\n", (int) getpid(),
                ts_identifies, ts_bad_identifies, ts_heartbeats,
                ts_bad_heartbeats, ts_acks, ts_bad_query);
    }
}


static void
ts_close(int fd)
{
    free(ts_conns[fd].buf);
    free(ts_conns[fd].out);
    memset(&ts_conns[fd], 0, sizeof(ts_conn_t));
    close(fd);
}


/* queue output; ts_flush() sends it */

static void
ts_send(int fd, const void *data, size_t len)
{
    u_char     *p;
    size_t      cap;
    ts_conn_t  *c;

    c = &ts_conns[fd];

    if (c->state == sw_free || len == 0) {
        return;
    }

    if (c->out_len + len > c->out_cap) {
        cap = c->out_cap ? c->out_cap : 4096;

        while (cap < c->out_len + len) {
            cap *= 2;
        }

        p = realloc(c->out, cap);
        if (p == NULL) {
            ts_close(fd);
            return;
        }

        c->out = p;
        c->out_cap = cap;
    }

    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}


static void
ts_flush(int fd)
{
    ssize_t              n;
    ts_conn_t           *c;
    struct epoll_event   ev;

    c = &ts_conns[fd];

    while (c->state != sw_free && c->out_pos < c->out_len) {
        n = send(fd, c->out + c->out_pos, c->out_len - c->out_pos,
                 MSG_NOSIGNAL);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno != EAGAIN) {
                ts_close(fd);
                return;
            }

            break;
        }

        c->out_pos += n;
    }

    if (c->state == sw_free) {
        return;
    }

    if (c->out_pos == c->out_len) {
        c->out_pos = 0;
        c->out_len = 0;

        if (c->out_cap > 65536) {
            free(c->out);
            c->out = NULL;
            c->out_cap = 0;
        }
    }

    if ((c->out_len != 0) != c->want_out) {
        c->want_out = (c->out_len != 0);
        ev.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0);
        ev.data.fd = fd;
        epoll_ctl(ts_ep, EPOLL_CTL_MOD, fd, &ev);
    }
}


static void
ts_frame_header(int fd, int b0, size_t len)
{
    int     i;
    u_char  h[10];
    size_t  n;

    h[0] = (u_char) b0;

    if (len < 126) {
        h[1] = (u_char) len;
        n = 2;

    } else if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (u_char) (len >> 8);
        h[3] = (u_char) len;
        n = 4;

    } else {
        h[1] = 127;
        for (i = 0; i < 8; i++) {
            h[2 + i] = (u_char) ((uint64_t) len >> (56 - 8 * i));
        }
        n = 10;
    }

    ts_send(fd, h, n);
}


/* one message; in gateway mode split into frames of -f bytes */

static void
ts_frame(int fd, int opcode, const u_char *data, size_t len)
{
    size_t  n;

    if ((opcode & 0x08) || ts.frag == 0 || len <= ts.frag) {
        ts_frame_header(fd, 0x80 | opcode, len);
        ts_send(fd, data, len);
        return;
    }

    /* RFC 6455, 5.4: a text frame without FIN, continuations, FIN last */

    for ( ; len; data += n, len -= n) {
        n = (len < ts.frag) ? len : ts.frag;
        ts_frame_header(fd, (n == len ? 0x80 : 0) | opcode, n);
        ts_send(fd, data, n);
        opcode = GWLOAD_WS_OP_CONT;
    }
}


static void
ts_close_code(int fd, int code)
{
    u_char  body[2];

    body[0] = (u_char) (code >> 8);
    body[1] = (u_char) code;

    ts_frame(fd, GWLOAD_WS_OP_CLOSE, body, 2);

    if (ts_conns[fd].state) {
        ts_conns[fd].state = sw_closing;
    }
}


static int
ts_mis(ts_conn_t *c, int m)
{
    return (ts.mis & (1u << m)) && c->n % ts.every == 0;
}


static void
ts_gw_text(int fd, const char *s)
{
    ts_frame(fd, GWLOAD_WS_OP_TEXT, (const u_char *) s, strlen(s));
}


static void
ts_gw_hello(int fd, ts_conn_t *c)
{
    char  buf[128];

    c->n = ts_accepted++;
    c->gw = ts_gw_st_hello;

    if (ts_mis(c, ts_mis_no_hello)) {
        return;
    }

    snprintf(buf, sizeof(buf), "{\"t\":null,\"s\":null,\"op\":10,\"d\":"
             "{\"heartbeat_interval\":%" PRIu64 ",\"_trace\":[\"mock\"]}}",
             ts.hello_ms);
    ts_gw_text(fd, buf);
}


static int
ts_token_cmp(const void *a, const void *b)
{
    return strcmp(*(char * const *) a, *(char * const *) b);
}


/* PROTOCOL.md 1.6: 0 if the Identify is good, else the close code */

static int
ts_gw_check_identify(gwload_gw_msg_t *m, gwload_json_t *shard)
{
    int                 rc, have, k;
    char                tok[1100], *key;
    int64_t             x, v[2];
    gwload_json_t       k1, v1, k2, v2;
    gwload_json_iter_t  it, pit;

    if (gwload_json_iter(&it, &m->d, m->end) != GWLOAD_OK
        || m->d.type != GWLOAD_JSON_OBJECT)
    {
        return 4002;
    }

    have = 0;
    memset(shard, 0, sizeof(gwload_json_t));

    while ((rc = gwload_json_next(&it, &k1, &v1)) == GWLOAD_OK) {

        if (gwload_json_eq(&k1, "token")) {
            if (v1.type != GWLOAD_JSON_STRING || v1.end == v1.start
                || v1.end - v1.start >= (ptrdiff_t) sizeof(tok))
            {
                return 4004;
            }

            if (ts.ntokens) {
                memcpy(tok, v1.start, v1.end - v1.start);
                tok[v1.end - v1.start] = '\0';
                key = tok;

                if (bsearch(&key, ts.tokens, ts.ntokens, sizeof(char *),
                            ts_token_cmp) == NULL)
                {
                    return 4004;
                }
            }

            have |= 1;

        } else if (gwload_json_eq(&k1, "intents")) {
            if (gwload_json_int(&v1, &x) != GWLOAD_OK || x < 0
                || (x & ~(int64_t) TS_GW_INTENTS_ALL))
            {
                return 4013;
            }

            have |= 2;

        } else if (gwload_json_eq(&k1, "properties")) {
            if (gwload_json_iter(&pit, &v1, v1.end) != GWLOAD_OK
                || v1.type != GWLOAD_JSON_OBJECT)
            {
                return 4002;
            }

            while (gwload_json_next(&pit, &k2, &v2) == GWLOAD_OK) {
                if (v2.type == GWLOAD_JSON_STRING
                    && (gwload_json_eq(&k2, "os")
                        || gwload_json_eq(&k2, "browser")
                        || gwload_json_eq(&k2, "device")))
                {
                    have |= gwload_json_eq(&k2, "os") ? 4
                            : gwload_json_eq(&k2, "browser") ? 8 : 16;
                }
            }

        } else if (gwload_json_eq(&k1, "shard")) {
            if (gwload_json_iter(&pit, &v1, v1.end) != GWLOAD_OK
                || v1.type != GWLOAD_JSON_ARRAY)
            {
                return 4010;
            }

            for (k = 0; gwload_json_next(&pit, NULL, &v2) == GWLOAD_OK; k++) {
                if (k > 1 || gwload_json_int(&v2, &v[k]) != GWLOAD_OK) {
                    return 4010;
                }
            }

            if (k != 2 || v[0] < 0 || v[1] < 1 || v[0] >= v[1]) {
                return 4010;
            }

            *shard = v1;

        } else if (gwload_json_eq(&k1, "large_threshold")) {
            if (gwload_json_int(&v1, &x) != GWLOAD_OK || x < 50 || x > 250) {
                return 4002;
            }
        }
    }

    if (rc != GWLOAD_DONE) {
        return 4002;
    }

    if (!(have & 1)) {
        return 4004;
    }

    if (!(have & 2)) {
        return 4013;
    }

    return (have == 31) ? 0 : 4002;
}


/* READY, a GUILD_CREATE per guild, the extras, then the misbehaviours */

static void
ts_gw_ready(int fd, ts_conn_t *c, gwload_json_t *shard)
{
    u_char    *p, *last;
    uint32_t   j;
    uint64_t   base;

    p = ts_scratch;
    last = ts_scratch + ts_scratch_size;
    base = TS_GW_GUILD0 + (uint64_t) c->n * TS_GW_GUILDS_MAX;

    c->seq = 1;

    p += snprintf((char *) p, last - p, "{\"t\":\"READY\",\"s\":1,\"op\":0,"
                  "\"d\":{\"v\":10,\"user\":{\"id\":\"%" PRIu64 "\","
                  "\"username\":\"bot%u\",\"discriminator\":\"0\","
                  "\"global_name\":null,\"avatar\":null,\"bot\":true},"
                  "\"guilds\":[", (uint64_t) 1000000000000000000ULL + c->n,
                  c->n);

    for (j = 0; j < ts.guilds && last - p > 256; j++) {
        p += snprintf((char *) p, last - p, "%s{\"id\":\"%" PRIu64 "\","
                      "\"unavailable\":true}", j ? "," : "", base + j);
    }

    p += snprintf((char *) p, last - p, "],\"session_id\":\"%08x%08x\","
                  "\"resume_gateway_url\":\"ws://127.0.0.1:%d\"",
                  c->n, (unsigned) getpid(), ntohs(ts.addr.sin_port));

    if (shard->type == GWLOAD_JSON_ARRAY) {
        p += snprintf((char *) p, last - p, ",\"shard\":%.*s",
                      (int) (shard->end - shard->start), shard->start);
    }

    p += snprintf((char *) p, last - p, ",\"application\":{\"id\":\"%"
                  PRIu64 "\",\"flags\":0}}}",
                  (uint64_t) 1000000000000000000ULL + c->n);

    ts_frame(fd, GWLOAD_WS_OP_TEXT, ts_scratch, p - ts_scratch);

    for (j = 0; j < ts.guilds; j++) {

        if (j == ts.guilds - 1 && ts_mis(c, ts_mis_drop_guild)) {
            break;
        }

        if (!(j == 0 && ts_mis(c, ts_mis_seq_repeat))) {
            c->seq += (j == 0 && ts_mis(c, ts_mis_seq_gap)) ? 2 : 1;
        }

        /* the id last: the client has to skip the whole guild to find it */

        p = ts_scratch;
        p += snprintf((char *) p, last - p, "{\"t\":\"GUILD_CREATE\",\"s\":%"
                      PRId64 ",\"op\":0,\"d\":{\"name\":\"guild {%u}\","
                      "\"unavailable\":false,\"member_count\":2,\"large\":"
                      "false,\"joined_at\":\"2024-01-01T00:00:00+00:00\","
                      "\"channels\":[{\"id\":\"%" PRIu64 "\",\"type\":0,"
                      "\"name\":\"general\"}],\"roles\":[],\"members\":[",
                      c->seq, j, base + j);

        memcpy(p, ts_bulk, ts_bulk_len);
        p += ts_bulk_len;

        p += snprintf((char *) p, last - p, "],\"voice_states\":[],"
                      "\"id\":\"%" PRIu64 "\"}}", base + j);

        ts_frame(fd, GWLOAD_WS_OP_TEXT, ts_scratch, p - ts_scratch);
    }

    for (j = 0; j < ts.extra; j++) {
        p = ts_scratch;
        p += snprintf((char *) p, last - p, "{\"t\":\"MESSAGE_CREATE\",\"s\":%"
                      PRId64 ",\"op\":0,\"d\":{\"id\":\"%u\",\"channel_id\":"
                      "\"1\",\"guild_id\":\"%" PRIu64 "\",\"content\":"
                      "\"hello \\\"%u\\\"\",\"author\":{\"id\":\"2\"}}}",
                      ++c->seq, j, base, j);
        ts_frame(fd, GWLOAD_WS_OP_TEXT, ts_scratch, p - ts_scratch);
    }

    if (ts_mis(c, ts_mis_op7)) {
        ts_gw_text(fd, "{\"t\":null,\"s\":null,\"op\":7,\"d\":null}");
    }

    if (ts_mis(c, ts_mis_hb_request)) {
        ts_gw_text(fd, "{\"t\":null,\"s\":null,\"op\":1,\"d\":null}");
    }

    if (ts_mis(c, ts_mis_bad_json)) {
        ts_gw_text(fd, "{\"op\":0,\"s\":");
    }
}


static void
ts_gw_message(int fd, ts_conn_t *c, u_char *data, size_t len)
{
    int               code;
    int64_t           x;
    gwload_json_t     shard;
    gwload_gw_msg_t   m;

    /* PROTOCOL.md 1.1: client messages of at most 4096 bytes */

    memset(&shard, 0, sizeof(gwload_json_t));

    if (len > GWLOAD_GW_CLIENT_MAX
        || gwload_gw_decode(data, len, &m) != GWLOAD_OK)
    {
        ts_close_code(fd, 4002);
        return;
    }

    switch (m.op) {

    case GWLOAD_GW_OP_HEARTBEAT:
        c->hbs++;
        ts_heartbeats++;

        if (m.d.type == GWLOAD_JSON_NUMBER) {
            if (gwload_json_int(&m.d, &x) != GWLOAD_OK || x < 1
                || x > c->seq)
            {
                ts_bad_heartbeats++;
            }

        } else if (m.d.type != GWLOAD_JSON_NULL) {
            ts_bad_heartbeats++;
        }

        if (ts_mis(c, ts_mis_no_ack)
            || (c->hbs == 1 && ts_mis(c, ts_mis_skip_ack)))
        {
            return;
        }

        ts_acks++;
        ts_gw_text(fd, "{\"t\":null,\"s\":null,\"op\":11,\"d\":null}");
        return;

    case GWLOAD_GW_OP_IDENTIFY:
        if (c->gw != ts_gw_st_hello) {
            ts_close_code(fd, 4005);
            return;
        }

        code = ts_gw_check_identify(&m, &shard);

        if (code) {
            ts_bad_identifies++;
            ts_close_code(fd, code);
            return;
        }

        ts_identifies++;

        if (ts_mis(c, ts_mis_close4004)) {
            ts_close_code(fd, 4004);
            return;
        }

        if (ts_mis(c, ts_mis_op9)) {
            c->gw = ts_gw_st_refused;
            ts_gw_text(fd, "{\"t\":null,\"s\":null,\"op\":9,\"d\":false}");
            return;
        }

        c->gw = ts_gw_st_ready;
        ts_gw_ready(fd, c, &shard);
        return;

    default:
        ts_close_code(fd, c->gw == ts_gw_st_ready ? 4001 : 4003);
        return;
    }
}


/* members {...},{...} of about "size" bytes, built once */

static int
ts_gw_init(void)
{
    int     n;
    size_t  len;
    char    one[512];

    ts_bulk = malloc(ts.bulk + sizeof(one));
    if (ts_bulk == NULL) {
        return -1;
    }

    ts_bulk_len = 0;

    for (n = 0; ts_bulk_len < ts.bulk; n++) {
        len = snprintf(one, sizeof(one), "%s{\"user\":{\"id\":\"%d\","
                       "\"username\":\"member [%d]\",\"avatar\":null,"
                       "\"bot\":false},\"roles\":[\"1\"],\"nick\":"
                       "\"nick \\\"%d\\\" \\\\\",\"joined_at\":"
                       "\"2024-01-01T00:00:00+00:00\",\"deaf\":false,"
                       "\"mute\":false}", n ? "," : "", n, n, n);
        memcpy(ts_bulk + ts_bulk_len, one, len);
        ts_bulk_len += len;
    }

    ts_scratch_size = ts_bulk_len + 64 * (ts.guilds + 64) + 4096;
    ts_scratch = malloc(ts_scratch_size);

    return ts_scratch ? 0 : -1;
}


static int
ts_gw_tokens(const char *file)
{
    FILE    *f;
    char     line[1100], **t;
    size_t   cap, n;

    f = fopen(file, "r");
    if (f == NULL) {
        perror(file);
        return -1;
    }

    cap = 0;

    while (fgets(line, sizeof(line), f)) {
        n = strcspn(line, "\r\n");
        line[n] = '\0';

        if (n == 0) {
            continue;
        }

        if (ts.ntokens == cap) {
            cap = cap ? 2 * cap : 1024;
            t = realloc(ts.tokens, cap * sizeof(char *));
            if (t == NULL) {
                fclose(f);
                return -1;
            }
            ts.tokens = t;
        }

        ts.tokens[ts.ntokens++] = strdup(line);
    }

    fclose(f);

    qsort(ts.tokens, ts.ntokens, sizeof(char *), ts_token_cmp);

    return 0;
}


static void
ts_http(int fd, ts_conn_t *c, uint64_t now)
{
    int      n;
    char     out[512], accept[29], *k, *e, *q;
    u_char   md[20];
    char     kb[64];
    u_char  *end;
    size_t   klen;

    end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (end == NULL) {
        if (c->len >= TS_BUF_MAX) {
            ts_close(fd);
        }
        return;
    }

    *end = '\0';

    k = strcasestr((char *) c->buf, "\r\nSec-WebSocket-Key:");

    if (k == NULL || ts.status) {
        n = snprintf(out, sizeof(out), "HTTP/1.1 %d Test\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n",
                     ts.status ? ts.status : 400);
        ts_send(fd, out, n);
        ts_flush(fd);
        if (ts_conns[fd].state) {
            ts_close(fd);
        }
        return;
    }

    k += 20;
    while (*k == ' ') {
        k++;
    }

    e = strstr(k, "\r\n");
    klen = e ? (size_t) (e - k) : strlen(k);
    if (klen > 60) {
        klen = 60;
    }

    /* RFC 6455, 4.2.2: base64(SHA-1(key + GUID)) */
    snprintf(kb, sizeof(kb), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
             (int) klen, k);
    gwload_sha1((u_char *) kb, strlen(kb), md);

    if (ts.bad_accept) {
        md[0] ^= 1;
    }

    gwload_base64(md, 20, accept);

    n = snprintf(out, sizeof(out), "HTTP/1.1 101 Switching Protocols\r\n"
                 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n", accept);

    c->len = 0;
    c->state = sw_ws;
    c->opened = now;
    ts_upgrades++;

    ts_send(fd, out, n);

    if (!ts.gateway) {
        return;
    }

    /* PROTOCOL.md 1.1: ?v=10&encoding=json, else 4012 */

    e = strstr((char *) c->buf, "\r\n");
    q = memchr(c->buf, '?', e ? (size_t) (e - (char *) c->buf) : 0);

    if (q == NULL || strstr(q, "v=10") == NULL
        || strstr(q, "encoding=json") == NULL
        || strstr(q, "v=10") > e || strstr(q, "encoding=json") > e)
    {
        ts_bad_query++;
        ts_close_code(fd, 4012);
        return;
    }

    ts_gw_hello(fd, c);
}


static void
ts_ws_frames(int fd, ts_conn_t *c)
{
    int       opcode, masked;
    u_char   *p, *payload, mask[4];
    size_t    i, hl;
    uint64_t  len;

    for ( ;; ) {
        p = c->buf;

        if (c->len < 2) {
            return;
        }

        opcode = p[0] & 0x0f;
        masked = p[1] & 0x80;
        len = p[1] & 0x7f;
        hl = 2;

        if (len == 126) {
            if (c->len < 4) {
                return;
            }
            len = ((uint64_t) p[2] << 8) | p[3];
            hl = 4;

        } else if (len == 127) {
            if (c->len < 10) {
                return;
            }
            len = 0;
            for (i = 0; i < 8; i++) {
                len = (len << 8) | p[2 + i];
            }
            hl = 10;
        }

        if (!masked || len > TS_BUF_MAX - 14) {
            ts_close(fd);           /* RFC 6455, 5.1: must be masked */
            return;
        }

        if (c->len < hl + 4 + len) {
            return;
        }

        memcpy(mask, p + hl, 4);
        payload = p + hl + 4;

        for (i = 0; i < len; i++) {
            payload[i] ^= mask[i & 3];
        }

        ts_frames++;

        switch (opcode) {

        case GWLOAD_WS_OP_CLOSE:
            if (c->state == sw_ws) {
                ts_frame(fd, GWLOAD_WS_OP_CLOSE, payload, len);
                ts_flush(fd);
            }

            /* RFC 6455, 7.1.1: the server closes TCP first */
            ts_closes++;
            ts_close(fd);
            return;

        case GWLOAD_WS_OP_PING:
            ts_frame(fd, GWLOAD_WS_OP_PONG, payload, len);
            break;

        case GWLOAD_WS_OP_TEXT:
        case GWLOAD_WS_OP_BINARY:
            if (!ts.gateway) {
                ts_frame(fd, opcode, payload, len);

            } else if (c->state == sw_ws) {
                ts_gw_message(fd, c, payload, len);
            }
            break;

        default:
            break;
        }

        if (ts_conns[fd].state == sw_free) {
            return;
        }

        memmove(c->buf, p + hl + 4 + len, c->len - (hl + 4 + len));
        c->len -= hl + 4 + len;
    }
}


static void
ts_read(int fd, uint64_t now)
{
    ssize_t     n;
    ts_conn_t  *c;

    c = &ts_conns[fd];

    if (c->buf == NULL) {
        c->buf = malloc(TS_BUF_MAX + 1);
        if (c->buf == NULL) {
            ts_close(fd);
            return;
        }
    }

    n = recv(fd, c->buf + c->len, TS_BUF_MAX - c->len, 0);

    if (n <= 0) {
        if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }

        ts_close(fd);
        return;
    }

    c->len += n;

    if (c->state == sw_http) {
        ts_http(fd, c, now);

    } else {
        ts_ws_frames(fd, c);
    }

    if (ts_conns[fd].state == sw_free) {
        return;
    }

    ts_flush(fd);

    /* idle: give the buffer back */

    if (ts_conns[fd].state != sw_free && c->len == 0) {
        free(c->buf);
        c->buf = NULL;
    }
}


static void
ts_tick(uint64_t now, int do_ping, int do_msg)
{
    int             fd;
    ts_conn_t      *c;
    struct linger   l;
    static u_char   code[2] = { 1001 >> 8, 1001 & 0xff };
    static char     msg[] = "{\"op\":0,\"t\":\"TEST\",\"d\":{}}";

    for (fd = 0; fd < ts_nconns; fd++) {
        c = &ts_conns[fd];

        if (c->state != sw_ws) {
            continue;
        }

        if (ts.drop_ms && now - c->opened >= ts.drop_ms * GWLOAD_MSEC) {
            if (ts.rst) {
                l.l_onoff = 1;
                l.l_linger = 0;
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
                ts_close(fd);
                continue;
            }

            ts_frame(fd, GWLOAD_WS_OP_CLOSE, code, 2);
            c->state = sw_closing;
            ts_flush(fd);
            continue;
        }

        if (do_ping) {
            ts_frame(fd, GWLOAD_WS_OP_PING, (u_char *) "tp", 2);
        }

        if (do_msg) {
            ts_frame(fd, GWLOAD_WS_OP_TEXT, (u_char *) msg, sizeof(msg) - 1);
        }

        ts_flush(fd);
    }
}


static int
ts_listen(void)
{
    int  fd, one;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        perror("socket");
        return -1;
    }

    one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));

    if (bind(fd, (struct sockaddr *) &ts.addr, sizeof(ts.addr)) == -1
        || listen(fd, 65535) == -1)
    {
        perror("bind/listen");
        close(fd);
        return -1;
    }

    return fd;
}


static void
ts_accept(int lfd)
{
    int                  fd, one;
    struct epoll_event   ev;

    for ( ;; ) {
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1) {
            return;
        }

        if (fd >= ts_nconns) {
            close(fd);
            continue;
        }

        one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        ts_conns[fd].state = sw_http;

        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(ts_ep, EPOLL_CTL_ADD, fd, &ev);
    }
}


static int
ts_run(int lfd)
{
    int                  i, n, fd, timeout;
    uint64_t             now, next_ping, next_msg, next, step;
    struct epoll_event   ev, events[512];

    ts_ep = epoll_create1(EPOLL_CLOEXEC);

    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ts_ep, EPOLL_CTL_ADD, lfd, &ev);

    now = gwload_now();
    next_ping = ts.ping_ms ? now + ts.ping_ms * GWLOAD_MSEC : 0;
    next_msg = ts.msg_ms ? now + ts.msg_ms * GWLOAD_MSEC : 0;
    step = ts.drop_ms ? 100 * GWLOAD_MSEC : 0;

    while (!ts_quit) {
        now = gwload_now();
        next = 0;

        if (next_ping) {
            next = next_ping;
        }

        if (next_msg && (next == 0 || next_msg < next)) {
            next = next_msg;
        }

        if (step && (next == 0 || now + step < next)) {
            next = now + step;
        }

        timeout = next ? (int) ((next > now ? next - now : 0)
                                / GWLOAD_MSEC + 1)
                       : -1;

        n = epoll_wait(ts_ep, events, 512, timeout);

        now = gwload_now();

        if (ts_dump) {
            ts_dump = 0;
            ts_stats();
        }

        for (i = 0; i < n; i++) {
            fd = events[i].data.fd;

            if (fd == lfd) {
                ts_accept(lfd);
                continue;
            }

            if (events[i].events & EPOLLOUT) {
                ts_flush(fd);
            }

            if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                && ts_conns[fd].state)
            {
                ts_read(fd, now);
            }
        }

        if (next && now >= next) {
            ts_tick(now, next_ping && now >= next_ping,
                    next_msg && now >= next_msg);

            if (next_ping && now >= next_ping) {
                next_ping = now + ts.ping_ms * GWLOAD_MSEC;
            }

            if (next_msg && now >= next_msg) {
                next_msg = now + ts.msg_ms * GWLOAD_MSEC;
            }
        }
    }

    ts_stats();

    for (fd = 0; fd < ts_nconns; fd++) {
        if (ts_conns[fd].state) {
            ts_close(fd);
        }
    }

    free(ts_conns);
    close(ts_ep);

    return 0;
}


static int
ts_mis_parse(char *list)
{
    int    k;
    char  *name, *save;

    for (name = strtok_r(list, ",", &save); name;
         name = strtok_r(NULL, ",", &save))
    {
        for (k = 0; ts_mis_names[k]; k++) {
            if (strcmp(name, ts_mis_names[k]) == 0) {
                break;
            }
        }

        if (ts_mis_names[k] == NULL) {
            fprintf(stderr, "gwload-test-server: unknown misbehaviour "
                    "\"%s\"\n", name);
            return -1;
        }

        ts.mis |= 1u << k;
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int                ch, i, lfd;
    char              *colon;
    pid_t              pids[64];
    struct rlimit      rl;
    struct sigaction   sa;

    ts.addr.sin_family = AF_INET;
    ts.addr.sin_port = htons(8080);
    ts.addr.sin_addr.s_addr = htonl(0x7f000001);
    ts.workers = 1;
    ts.hello_ms = 41250;
    ts.guilds = 1;
    ts.every = 1;

    while ((ch = getopt(argc, argv, "l:w:s:aP:m:d:rGI:g:b:e:f:T:M:F:"))
           != -1)
    {
        switch (ch) {
        case 'l':
            colon = strrchr(optarg, ':');
            if (colon == NULL) {
                goto usage;
            }
            *colon = '\0';
            if (inet_pton(AF_INET, optarg, &ts.addr.sin_addr) != 1) {
                goto usage;
            }
            ts.addr.sin_port = htons(atoi(colon + 1));
            break;
        case 'w':
            ts.workers = atoi(optarg);
            if (ts.workers < 1 || ts.workers > 64) {
                goto usage;
            }
            break;
        case 's':
            ts.status = atoi(optarg);
            break;
        case 'a':
            ts.bad_accept = 1;
            break;
        case 'P':
            ts.ping_ms = strtoull(optarg, NULL, 10);
            break;
        case 'm':
            ts.msg_ms = strtoull(optarg, NULL, 10);
            break;
        case 'd':
            ts.drop_ms = strtoull(optarg, NULL, 10);
            break;
        case 'r':
            ts.rst = 1;
            break;
        case 'G':
            ts.gateway = 1;
            break;
        case 'I':
            ts.hello_ms = strtoull(optarg, NULL, 10);
            break;
        case 'g':
            ts.guilds = (uint32_t) strtoul(optarg, NULL, 10);
            if (ts.guilds > TS_GW_GUILDS_MAX) {
                goto usage;
            }
            break;
        case 'b':
            ts.bulk = strtoull(optarg, NULL, 10);
            break;
        case 'e':
            ts.extra = (uint32_t) strtoul(optarg, NULL, 10);
            break;
        case 'f':
            ts.frag = strtoull(optarg, NULL, 10);
            break;
        case 'T':
            if (ts_gw_tokens(optarg) != 0) {
                return 1;
            }
            break;
        case 'M':
            if (ts_mis_parse(optarg) != 0) {
                goto usage;
            }
            break;
        case 'F':
            ts.every = (uint32_t) strtoul(optarg, NULL, 10);
            if (ts.every == 0) {
                goto usage;
            }
            break;
        default:
            goto usage;
        }
    }

    if (ts.gateway && ts_gw_init() != 0) {
        return 1;
    }

    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    ts_nconns = (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576)
                ? 1048576 : (int) rl.rlim_cur;

    ts_conns = calloc(ts_nconns, sizeof(ts_conn_t));
    if (ts_conns == NULL) {
        return 1;
    }

    /* no SA_RESTART: wait() in the parent must see the signal */

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = ts_on_signal;
    sigemptyset(&sa.sa_mask);

    signal(SIGPIPE, SIG_IGN);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);

    lfd = ts_listen();
    if (lfd == -1) {
        return 1;
    }

    fprintf(stderr, "gwload-test-server: listening on %s:%d, %d process%s%s"
            "\n", inet_ntoa(ts.addr.sin_addr), ntohs(ts.addr.sin_port),
            ts.workers, ts.workers == 1 ? "" : "es",
            ts.gateway ? ", gateway mode" : "");

    if (ts.workers <= 1) {
        return ts_run(lfd);
    }

    for (i = 0; i < ts.workers; i++) {
        pids[i] = fork();

        if (pids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);

            if (i > 0) {
                close(lfd);
                lfd = ts_listen();
                if (lfd == -1) {
                    return 1;
                }
            }

            return ts_run(lfd);
        }
    }

    close(lfd);

    while (wait(NULL) > 0 || errno == EINTR) {
        if (ts_dump) {
            ts_dump = 0;

            for (i = 0; i < ts.workers; i++) {
                if (pids[i] > 0) {
                    kill(pids[i], SIGUSR1);
                }
            }
        }

        if (ts_quit) {
            for (i = 0; i < ts.workers; i++) {
                if (pids[i] > 0) {
                    kill(pids[i], SIGTERM);
                }
            }

            ts_quit = 0;
        }
    }

    free(ts_conns);

    return 0;

usage:

    fprintf(stderr, "usage: gwload-test-server [-l ADDR:PORT] [-w N] "
            "[-s STATUS] [-a] [-P MS] [-m MS] [-d MS] [-r]\n"
            "       [-G [-I MS] [-g N] [-b BYTES] [-e N] [-f BYTES] "
            "[-T FILE] [-M LIST] [-F K]]\n");
    return 2;
}
