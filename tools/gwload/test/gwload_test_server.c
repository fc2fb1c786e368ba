
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
 *   drop-eof     -A ms after the guilds: close TCP without a close frame
 *   drop-rst     ... reset the connection
 *   drop-close   ... close with code -C
 *   op9-true     ... send op 9 d:true
 *   resume-invalid  answer every Resume with op 9 d:false
 *   replay-gap   every Resume's replay leaves out its first dispatch
 *   replay-repeat  ... starts with the dispatch at the client's seq
 *                (these three apply to every Resume, whatever -F and -U)
 *
 * Resume (op 6) is answered op 9 d:false, as by a gateway without resume,
 * unless -R keeps sessions (gwload_test_session.c): then the dispatches
 * after the client's seq are replayed, then RESUMED.  READY's
 * resume_gateway_url is ws://127.0.0.1:PORT/resume (or -u's, as it is
 * written into the JSON); -Q N answers the first N upgrades to /resume...
 * with 429 and "Retry-After: 1".
 *
 * Publishing (both modes): a POST (any path) is answered 201 on a
 * keep-alive connection, and its body is fanned out to every connection of
 * this process: as a text message in plain mode (as nchan does), as the
 * "d" of a MESSAGE_CREATE dispatch (with the connection's next s) to
 * identified sessions in gateway mode.  So "gwload publish" can drive
 * gwload subscribers through the mock, probes included.
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
 *   -U N           ... only among the first N upgrades [0: all]
 *   -R             keep sessions for Resume, with their last 256 dispatches
 *   -A MS          the drop-* and op9-true misbehaviours come MS after the
 *                  guilds [100]
 *   -C CODE        drop-close's close code [4000]
 *   -L K           before those (and op7), K dispatches are added to the
 *                  session but not sent: a resume replays them [0]
 *   -Q N           answer the first N upgrades to /resume with 429 [0]
 *   -u URL         READY's resume_gateway_url [ws://127.0.0.1:PORT/resume]
 *   -S STATUS      answer POSTs with this status [201]
 *   -K N           close a POST connection after N requests, with
 *                  "Connection: close" (as nginx's keepalive_requests) [0]
 *   -D MS          fan POSTed bodies out MS after they came [0]
 *   -x K           connections whose upgrade number is a multiple of K miss
 *                  the second message fanned out [0: none]
 */


#include "gwload_test_server.h"

#include <fcntl.h>
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


/* POSTed bodies waiting for -D */
#define TS_PENDING_MAX  4096


typedef struct {
    uint64_t    due;            /* ns */
    size_t      len;
    u_char     *body;
} ts_pending_t;


ts_conf_t           ts;
ts_conn_t          *ts_conns;
static int          ts_nconns;
static int          ts_ep;
static uint32_t     ts_accepted;
static uint64_t     ts_upgrades, ts_closes, ts_frames;
uint64_t            ts_identifies, ts_bad_identifies, ts_heartbeats,
                    ts_bad_heartbeats, ts_acks;
static uint64_t     ts_bad_query, ts_429s;
static uint64_t     ts_posts, ts_published;
uint64_t            ts_fanout, ts_skipped;
static int          ts_maxfd;
static int          ts_spare = -1;      /* for accept() at EMFILE */
static uint64_t     ts_emfile;
static ts_pending_t ts_pending[TS_PENDING_MAX];
static size_t       ts_pending_head, ts_pending_len;
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

    if (ts_posts) {
        fprintf(stderr, "gwload-test-server[%d]: publish: %" PRIu64
                " posts, %" PRIu64 " published, %" PRIu64 " fanned out, %"
                PRIu64 " skipped\n", (int) getpid(), ts_posts, ts_published,
                ts_fanout, ts_skipped);
    }

    if (ts.gateway) {
        fprintf(stderr, "gwload-test-server[%d]: gateway: %" PRIu64
                " identifies, %" PRIu64 " bad_identifies, %" PRIu64
                " heartbeats, %" PRIu64 " bad_heartbeats, %" PRIu64
                " acks, %" PRIu64 " bad_query\n", (int) getpid(),
                ts_identifies, ts_bad_identifies, ts_heartbeats,
                ts_bad_heartbeats, ts_acks, ts_bad_query);
        fprintf(stderr, "gwload-test-server[%d]: resume: %" PRIu64
                " resumed, %" PRIu64 " refused, %" PRIu64 " 429s\n",
                (int) getpid(), ts_resumes, ts_resumes_refused, ts_429s);
    }
}


static void ts_http(int fd, ts_conn_t *c, uint64_t now);
static void ts_post(int fd, ts_conn_t *c, u_char *body, uint64_t now);
static void ts_publish(u_char *body, size_t len);
static uint64_t ts_publish_due(uint64_t now);


void
ts_close(int fd)
{
    ts_sess_detach(fd, &ts_conns[fd], 0);

    free(ts_conns[fd].buf);
    free(ts_conns[fd].out);
    memset(&ts_conns[fd], 0, sizeof(ts_conn_t));
    close(fd);
}


/* queue output; ts_flush() sends it */

void
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


void
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


void
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

void
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


void
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


/*
 * A POST: 201 (or -S), keep-alive unless -K says it is the last one; the
 * body is fanned out now, or -D ms later.  Pipelined requests are taken in
 * turn.
 */

static void
ts_post(int fd, ts_conn_t *c, u_char *body, uint64_t now)
{
    int            n, last;
    char           out[256], *cl;
    size_t         hlen, blen;
    ts_pending_t  *pd;

    c->buf[c->len] = '\0';
    hlen = body - c->buf;

    cl = strcasestr((char *) c->buf, "\r\nContent-Length:");
    blen = (cl && cl < (char *) body) ? strtoul(cl + 17, NULL, 10) : 0;

    if (blen > TS_BUF_MAX - hlen) {
        ts_close(fd);
        return;
    }

    if (c->len < hlen + blen) {
        return;
    }

    ts_posts++;
    c->posts++;

    last = (ts.post_keepalive && c->posts >= ts.post_keepalive);

    n = snprintf(out, sizeof(out), "HTTP/1.1 %d Test\r\nContent-Type: "
                 "text/plain\r\nContent-Length: 3\r\n%s\r\nok\n",
                 ts.post_status, last ? "Connection: close\r\n" : "");
    ts_send(fd, out, n);

    if (ts.post_status >= 200 && ts.post_status < 300) {

        if (ts.delay_ms == 0) {
            ts_publish(body, blen);

        } else if (ts_pending_len < TS_PENDING_MAX) {
            pd = &ts_pending[(ts_pending_head + ts_pending_len++)
                             % TS_PENDING_MAX];
            pd->due = now + ts.delay_ms * GWLOAD_MSEC;
            pd->len = blen;
            pd->body = malloc(blen ? blen : 1);

            if (pd->body) {
                memcpy(pd->body, body, blen);
            }
        }
    }

    if (last) {
        ts_flush(fd);

        if (ts_conns[fd].state) {
            ts_close(fd);
        }

        return;
    }

    memmove(c->buf, body + blen, c->len - (hlen + blen));
    c->len -= hlen + blen;

    if (c->len) {
        ts_http(fd, c, now);
    }
}


/*
 * One published message to every open connection of this process: the
 * body itself in plain mode, a MESSAGE_CREATE with it as "d" in gateway
 * mode; -x leaves some connections out of the second message.
 */

static void
ts_publish(u_char *body, size_t len)
{
    int         fd, n;
    char        head[96];
    ts_conn_t  *c;
    uint64_t    k;

    k = ts_published++;

    if (ts.gateway && ts.resume) {
        /* to sessions, with a socket or not */
        ts_sess_publish(body, len, k);
        return;
    }

    for (fd = 0; fd <= ts_maxfd; fd++) {
        c = &ts_conns[fd];

        if (c->state != sw_ws
            || (ts.gateway && c->gw != ts_gw_st_ready))
        {
            continue;
        }

        if (ts.skip_every && k == 1 && c->n % ts.skip_every == 0) {
            ts_skipped++;
            continue;
        }

        ts_fanout++;

        if (!ts.gateway) {
            ts_frame(fd, GWLOAD_WS_OP_TEXT, body, len);
            ts_flush(fd);
            continue;
        }

        n = snprintf(head, sizeof(head), "{\"op\":0,\"s\":%" PRId64 ","
                     "\"t\":\"MESSAGE_CREATE\",\"d\":", ++c->seq);

        ts_frame_header(fd, 0x80 | GWLOAD_WS_OP_TEXT, n + len + 1);
        ts_send(fd, head, n);
        ts_send(fd, body, len);
        ts_send(fd, "}", 1);
        ts_flush(fd);
    }
}


/* -D: the bodies whose time has come; returns the next due time or 0 */

static uint64_t
ts_publish_due(uint64_t now)
{
    ts_pending_t  *pd;

    while (ts_pending_len) {
        pd = &ts_pending[ts_pending_head];

        if (pd->due > now) {
            return pd->due;
        }

        if (pd->body) {
            ts_publish(pd->body, pd->len);
            free(pd->body);
        }

        ts_pending_head = (ts_pending_head + 1) % TS_PENDING_MAX;
        ts_pending_len--;
    }

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

    if (c->len >= 5 && memcmp(c->buf, "POST ", 5) == 0) {
        ts_post(fd, c, end + 4, now);
        return;
    }

    *end = '\0';

    if (ts.q429 && strncmp((char *) c->buf, "GET /resume", 11) == 0) {

        /* RFC 6585, 4 */

        ts.q429--;
        ts_429s++;

        n = snprintf(out, sizeof(out), "HTTP/1.1 429 Too Many Requests\r\n"
                     "Retry-After: 1\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n");
        ts_send(fd, out, n);
        ts_flush(fd);
        if (ts_conns[fd].state) {
            ts_close(fd);
        }
        return;
    }

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
    c->n = ts_accepted++;
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

            ts_sess_detach(fd, c, len >= 2 ? (payload[0] << 8) | payload[1]
                                           : 0);

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

        if (c->drop_at && now >= c->drop_at) {
            ts_gw_drop(fd, c);
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

        if (fd == -1 && (errno == EMFILE || errno == ENFILE)
            && ts_spare != -1)
        {
            /*
             * Out of descriptors: the listen socket stays readable and
             * would spin the loop.  Take the connection with the spare
             * descriptor and drop it.
             */

            if (!ts_emfile++) {
                fprintf(stderr, "gwload-test-server: accept4(): %s; "
                        "dropping connections (use -w)\n", strerror(errno));
            }

            close(ts_spare);
            fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

            if (fd != -1) {
                close(fd);
            }

            ts_spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
            continue;
        }

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

        if (fd > ts_maxfd) {
            ts_maxfd = fd;
        }

        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(ts_ep, EPOLL_CTL_ADD, fd, &ev);
    }
}


static int
ts_run(int lfd)
{
    int                  i, n, fd, timeout;
    uint64_t             now, next_ping, next_msg, next, step, next_step,
                         due;
    struct epoll_event   ev, events[512];

    ts_ep = epoll_create1(EPOLL_CLOEXEC);
    ts_spare = open("/dev/null", O_RDONLY | O_CLOEXEC);

    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ts_ep, EPOLL_CTL_ADD, lfd, &ev);

    now = gwload_now();
    next_ping = ts.ping_ms ? now + ts.ping_ms * GWLOAD_MSEC : 0;
    next_msg = ts.msg_ms ? now + ts.msg_ms * GWLOAD_MSEC : 0;
    step = ts.drop_ms ? 100 * GWLOAD_MSEC : 0;

    if (ts.mis & ((1u << ts_mis_drop_eof) | (1u << ts_mis_drop_rst)
                  | (1u << ts_mis_drop_close) | (1u << ts_mis_op9_true)))
    {
        /* ts_gw_drop() is due -A ms after a READY */
        step = 10 * GWLOAD_MSEC;
    }

    /* absolute: a busy loop must not keep putting the tick off */
    next_step = step ? now + step : 0;

    while (!ts_quit) {
        now = gwload_now();
        next = 0;

        if (next_ping) {
            next = next_ping;
        }

        if (next_msg && (next == 0 || next_msg < next)) {
            next = next_msg;
        }

        if (next_step && (next == 0 || next_step < next)) {
            next = next_step;
        }

        due = ts_publish_due(now);

        if (due && (next == 0 || due < next)) {
            next = due;
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

            if (next_step && now >= next_step) {
                next_step = now + step;
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
    ts.post_status = 201;
    ts.drop_after_ms = 100;
    ts.close_code = 4000;

    while ((ch = getopt(argc, argv,
                        "l:w:s:aP:m:d:rGI:g:b:e:f:T:M:F:S:K:D:x:U:RA:C:L:Q:u:"))
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
        case 'S':
            ts.post_status = atoi(optarg);
            if (ts.post_status < 100 || ts.post_status > 599) {
                goto usage;
            }
            break;
        case 'K':
            ts.post_keepalive = (uint32_t) strtoul(optarg, NULL, 10);
            break;
        case 'D':
            ts.delay_ms = strtoull(optarg, NULL, 10);
            break;
        case 'x':
            ts.skip_every = (uint32_t) strtoul(optarg, NULL, 10);
            break;
        case 'U':
            ts.mis_upgrades = (uint32_t) strtoul(optarg, NULL, 10);
            break;
        case 'R':
            ts.resume = 1;
            break;
        case 'A':
            ts.drop_after_ms = strtoull(optarg, NULL, 10);
            break;
        case 'C':
            ts.close_code = atoi(optarg);
            if (ts.close_code < 1000 || ts.close_code > 4999) {
                goto usage;
            }
            break;
        case 'L':
            ts.lost = (uint32_t) strtoul(optarg, NULL, 10);
            break;
        case 'Q':
            ts.q429 = (uint32_t) strtoul(optarg, NULL, 10);
            break;
        case 'u':
            ts.resume_url = optarg;
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
            "[-T FILE] [-M LIST] [-F K] [-U N]\n"
            "           [-R] [-A MS] [-C CODE] [-L K] [-Q N] [-u URL]]\n"
            "       [-S STATUS] [-K N] [-D MS] [-x K]\n");
    return 2;
}
