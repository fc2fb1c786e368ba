
/*
 * gwload-test-server: a minimal WebSocket server to test gwload against.
 *
 * It answers the upgrade, then stays silent unless asked to ping, send
 * messages or close; it answers pings and close frames and echoes data
 * frames.  One epoll loop per process, level-triggered; -w N forks N
 * processes sharing the port with SO_REUSEPORT (each is held to the
 * process descriptor limit).  Not for production: no limits, no UTF-8.
 *
 *   -l ADDR:PORT   listen address [127.0.0.1:8080]
 *   -w N           processes [1]
 *   -s STATUS      answer the upgrade with this status instead of 101
 *   -a             send a wrong Sec-WebSocket-Accept
 *   -P MS          ping every connection every MS
 *   -m MS          send a text message to every connection every MS
 *   -d MS          close each connection (1001) MS after its upgrade
 *   -r             reset (RST) each connection instead of -d's close
 */


#include "gwload.h"

#include <signal.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>


#define TS_BUF_MAX      16384

enum {
    sw_free = 0,
    sw_http,
    sw_ws,
    sw_closing
};


typedef struct {
    int         state;
    uint32_t    len;
    u_char     *buf;
    uint64_t    opened;
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
} ts;

static ts_conn_t   *ts_conns;
static int          ts_nconns;
static int          ts_ep;
static uint64_t     ts_upgrades, ts_closes, ts_frames;
static volatile sig_atomic_t  ts_quit;


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
    (void) sig;
    ts_quit = 1;
}


static void
ts_close(int fd)
{
    free(ts_conns[fd].buf);
    memset(&ts_conns[fd], 0, sizeof(ts_conn_t));
    close(fd);
}


static void
ts_send(int fd, const void *data, size_t len)
{
    /* test server: a short write on loopback is treated as fatal */
    if (send(fd, data, len, MSG_NOSIGNAL) != (ssize_t) len) {
        ts_close(fd);
    }
}


static void
ts_frame(int fd, int opcode, const u_char *data, size_t len)
{
    u_char  buf[16 + 1024];
    size_t  n;

    if (len > 1024) {
        return;
    }

    buf[0] = (u_char) (0x80 | opcode);

    if (len < 126) {
        buf[1] = (u_char) len;
        n = 2;

    } else {
        buf[1] = 126;
        buf[2] = (u_char) (len >> 8);
        buf[3] = (u_char) len;
        n = 4;
    }

    memcpy(buf + n, data, len);
    ts_send(fd, buf, n + len);
}


static void
ts_http(int fd, ts_conn_t *c, uint64_t now)
{
    int      n;
    char     out[512], accept[29], *k, *e;
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

        if (!masked || len > TS_BUF_MAX) {
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
            ts_frame(fd, opcode, payload, len);
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

            } else {
                ts_frame(fd, GWLOAD_WS_OP_CLOSE, code, 2);
                if (ts_conns[fd].state) {
                    c->state = sw_closing;
                }
            }

            continue;
        }

        if (do_ping) {
            ts_frame(fd, GWLOAD_WS_OP_PING, (u_char *) "tp", 2);
        }

        if (do_msg && ts_conns[fd].state) {
            ts_frame(fd, GWLOAD_WS_OP_TEXT, (u_char *) msg, sizeof(msg) - 1);
        }
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


static int
ts_run(int lfd)
{
    int                  i, n, fd, one, timeout;
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

        for (i = 0; i < n; i++) {
            if (events[i].data.fd != lfd) {
                ts_read(events[i].data.fd, now);
                continue;
            }

            for ( ;; ) {
                fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd == -1) {
                    break;
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

    fprintf(stderr, "gwload-test-server[%d]: %" PRIu64 " upgrades, %" PRIu64
            " frames, %" PRIu64 " closes\n", (int) getpid(), ts_upgrades,
            ts_frames, ts_closes);

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
    int             ch, i, lfd;
    char           *colon;
    pid_t           pids[64];
    struct rlimit   rl;

    ts.addr.sin_family = AF_INET;
    ts.addr.sin_port = htons(8080);
    ts.addr.sin_addr.s_addr = htonl(0x7f000001);
    ts.workers = 1;

    while ((ch = getopt(argc, argv, "l:w:s:aP:m:d:r")) != -1) {
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
        default:
            goto usage;
        }
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

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, ts_on_signal);
    signal(SIGTERM, ts_on_signal);

    lfd = ts_listen();
    if (lfd == -1) {
        return 1;
    }

    fprintf(stderr, "gwload-test-server: listening on %s:%d, %d process%s\n",
            inet_ntoa(ts.addr.sin_addr), ntohs(ts.addr.sin_port),
            ts.workers, ts.workers == 1 ? "" : "es");

    if (ts.workers <= 1) {
        return ts_run(lfd);
    }

    for (i = 0; i < ts.workers; i++) {
        pids[i] = fork();

        if (pids[i] == 0) {
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
            "[-s STATUS] [-a] [-P MS] [-m MS] [-d MS] [-r]\n");
    return 2;
}
