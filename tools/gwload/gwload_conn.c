
/*
 * gwload: the per-connection state machine.
 *
 *   IDLE -> CONNECTING -> HANDSHAKE -> OPEN -> CLOSING -> IDLE
 *                ^                                |
 *                +----------- WAITING <-----------+  (reconnect)
 *
 * Sockets are non-blocking and registered once, edge-triggered, for
 * EPOLLIN | EPOLLOUT | EPOLLRDHUP; reads go on until EAGAIN or a short read
 * (or a per-event budget, after which the connection is posted for the
 * next loop turn).
 * A finished connection keeps fd == -1, unless its protocol asked for a
 * reconnect (gwload_conn_reconnect()): then it waits in WAITING and starts
 * again with c->again set, which counts it under "reconnects" rather than
 * as a new connection.
 */


#include "gwload.h"

#include <stdarg.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>


/* reads per readiness event before yielding to other connections */
#define GWLOAD_CONN_READS           16

/* a connection never queues more unsent bytes than this */
#define GWLOAD_CONN_OUT_MAX         (1024 * 1024)

/* a kept message buffer is freed above this size */
#define GWLOAD_CONN_MSG_KEEP        (64 * 1024)


static ssize_t gwload_conn_recv_plain(gwload_conn_t *c, u_char *buf,
    size_t size);
static ssize_t gwload_conn_send_plain(gwload_conn_t *c, const u_char *buf,
    size_t size);
static void gwload_conn_connected(gwload_conn_t *c);
static int gwload_conn_handshake(gwload_conn_t *c);
static int gwload_conn_frames(gwload_conn_t *c, u_char *pos, u_char *end);
static int gwload_conn_data(gwload_conn_t *c, gwload_ws_frame_t *f);
static int gwload_conn_control(gwload_conn_t *c, gwload_ws_frame_t *f);
static int gwload_conn_send(gwload_conn_t *c, const u_char *data,
    size_t len);
static int gwload_conn_flush(gwload_conn_t *c);
static void gwload_conn_eof(gwload_conn_t *c);
static void gwload_conn_error(gwload_conn_t *c, int err, const char *what);
static void gwload_conn_fail(gwload_conn_t *c, gwload_fail_e reason,
    int err, const char *what, int status);
static void gwload_conn_closed(gwload_conn_t *c);
static int gwload_conn_lost(gwload_conn_t *c, int code);
static void gwload_conn_fail_errno(gwload_conn_t *c, int err,
    const char *what);
static void gwload_conn_drop(gwload_conn_t *c, gwload_drop_e why,
    const char *detail);
static void gwload_conn_violation(gwload_conn_t *c, int code,
    const char *detail);
static void gwload_conn_finish(gwload_conn_t *c);
static void gwload_conn_timeout_handler(gwload_timer_t *t);
static void gwload_conn_proto_timer_handler(gwload_timer_t *t);
static void gwload_conn_warn(gwload_conn_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *gwload_conn_src(gwload_conn_t *c, char *buf);


const gwload_io_t  gwload_io_plain = {
    gwload_conn_recv_plain,
    gwload_conn_send_plain
};


static ssize_t
gwload_conn_recv_plain(gwload_conn_t *c, u_char *buf, size_t size)
{
    return recv(c->fd, buf, size, 0);
}


static ssize_t
gwload_conn_send_plain(gwload_conn_t *c, const u_char *buf, size_t size)
{
    return send(c->fd, buf, size, MSG_NOSIGNAL);
}


int
gwload_conn_start(gwload_conn_t *c)
{
    int                        fd, one;
    gwload_conf_t             *conf;
    gwload_worker_t           *w;
    struct sockaddr_in         src;
    struct epoll_event         ev;
    const struct sockaddr_in  *dst;

    w = c->worker;
    conf = w->conf;

    if (c->again) {
        w->stats->reconnects++;

    } else {
        gwload_timer_init(&c->timer, gwload_conn_timeout_handler, c);
        gwload_timer_init(&c->proto_timer, gwload_conn_proto_timer_handler,
                          c);

        w->stats->attempted++;
        w->connecting++;

        if (w->stats->first_start_ns == 0) {
            w->stats->first_start_ns = w->now;
        }
    }

    /* a batch of starts takes a while: take the time of this one */
    w->now = gwload_now();

    c->start = w->now;
    c->state = GWLOAD_CONN_CONNECTING;
    dst = c->target ? &c->target->dst : &conf->dst;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        gwload_conn_fail_errno(c, errno, "socket()");
        return GWLOAD_ERROR;
    }

    c->fd = fd;
    w->active++;

    /*
     * IP_BIND_ADDRESS_NO_PORT: bind() only fixes the address; the port is
     * chosen at connect() time against the full 4-tuple, so one source
     * address can reach ~28k ports per destination.
     */

    one = 1;
    (void) setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                      sizeof(one));
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    memset(&src, 0, sizeof(src));
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(conf->src_from + c->id % conf->src_count);

    if (bind(fd, (struct sockaddr *) &src, sizeof(src)) == -1) {
        gwload_conn_fail_errno(c, errno, "bind()");
        return GWLOAD_ERROR;
    }

    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;

    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
        gwload_conn_fail_errno(c, errno, "epoll_ctl()");
        return GWLOAD_ERROR;
    }

    if (gwload_timer_add(&w->timers, &c->timer,
                         c->start + conf->timeout_ms * GWLOAD_MSEC)
        != GWLOAD_OK)
    {
        gwload_conn_fail_errno(c, ENOMEM, "timer");
        return GWLOAD_ERROR;
    }

    if (connect(fd, (const struct sockaddr *) dst, sizeof(*dst)) == -1) {
        if (errno != EINPROGRESS) {
            gwload_conn_fail_errno(c, errno, "connect()");
            return GWLOAD_ERROR;
        }

        /* EPOLLOUT reports the outcome */

        return GWLOAD_OK;
    }

    gwload_conn_connected(c);

    return GWLOAD_OK;
}


void
gwload_conn_handler(gwload_conn_t *c, uint32_t events)
{
    if (c->fd == -1) {
        return;
    }

    if (c->state == GWLOAD_CONN_CONNECTING) {

        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            return;
        }

        gwload_conn_connected(c);

        if (c->fd == -1) {
            return;
        }
    }

    if ((events & EPOLLOUT) && c->out) {
        if (gwload_conn_flush(c) != GWLOAD_OK) {
            gwload_conn_error(c, errno, "send()");
            return;
        }
    }

    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {

        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            /* the FIN (or error) came with this edge: read up to it */
            c->hup = 1;
        }

        gwload_conn_read(c);
    }
}


static void
gwload_conn_connected(gwload_conn_t *c)
{
    int               err;
    size_t            n;
    uint64_t          r;
    socklen_t         len;
    gwload_worker_t  *w;

    w = c->worker;

    err = 0;
    len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
        err = errno;
    }

    if (err) {
        gwload_conn_fail_errno(c, err, "connect()");
        return;
    }

    if (!c->again) {
        gwload_hist_add(&w->stats->connect,
                        (w->now - c->start) / GWLOAD_USEC);
    }

    c->hs = malloc(sizeof(gwload_conn_hs_t));
    if (c->hs == NULL) {
        gwload_conn_fail_errno(c, ENOMEM, "malloc()");
        return;
    }

    c->hs->len = 0;

    /* RFC 6455, 4.1: a nonce, which need not be secret for load */

    r = gwload_worker_random(w);
    memcpy(c->hs->key, &r, 8);
    r = gwload_worker_random(w);
    memcpy(c->hs->key + 8, &r, 8);

    n = gwload_ws_request(w->req, w->req_size, w->conf, c->target,
                          c->hs->key);

    c->state = GWLOAD_CONN_HANDSHAKE;

    if (n == 0) {
        gwload_conn_fail(c, GWLOAD_FAIL_OTHER, 0, "request too long", 0);
        return;
    }

    if (gwload_conn_send(c, w->req, n) != GWLOAD_OK) {
        gwload_conn_error(c, errno, "send()");
    }
}


void
gwload_conn_read(gwload_conn_t *c)
{
    int               i;
    u_char           *buf;
    size_t            size;
    ssize_t           n;
    gwload_worker_t  *w;

    w = c->worker;

    for (i = 0; i < GWLOAD_CONN_READS; i++) {

        if (c->state == GWLOAD_CONN_HANDSHAKE) {
            buf = c->hs->data + c->hs->len;
            size = GWLOAD_WS_RESPONSE_MAX - c->hs->len;

        } else {
            buf = w->rbuf;
            size = w->rbuf_size;
        }

        n = w->io->recv(c, buf, size);

        if (n > 0) {

            if (i > 0) {
                /* the peer may have answered what the last read sent */
                w->now = gwload_now();
            }

            if (c->state == GWLOAD_CONN_HANDSHAKE) {
                c->hs->len += n;

                if (gwload_conn_handshake(c) != GWLOAD_OK) {
                    return;
                }

            } else if (gwload_conn_frames(c, buf, buf + n) != GWLOAD_OK) {
                return;
            }

            /*
             * A short read emptied the socket: with edge-triggered epoll
             * any later data raises a new event, so the recv() that would
             * say EAGAIN is saved (as nginx does with EPOLLRDHUP).  That
             * halves the syscalls per small message.  A FIN already
             * reported is not reported again: then read on to the EOF.
             */

            if ((size_t) n < size && !c->hup) {
                return;
            }

            continue;
        }

        if (n == 0) {
            gwload_conn_eof(c);
            return;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        }

        if (errno == EINTR) {
            continue;
        }

        gwload_conn_error(c, errno, "recv()");
        return;
    }

    /* the budget is spent and data may remain: come back next turn */

    if (!c->posted) {
        c->posted = 1;
        c->posted_next = w->posted;
        w->posted = c;
    }
}


/* returns GWLOAD_OK when reading may go on, GWLOAD_ERROR when it must stop */

static int
gwload_conn_handshake(gwload_conn_t *c)
{
    int                rc, status;
    size_t             hlen;
    uint64_t           now;
    gwload_worker_t   *w;
    gwload_conn_hs_t  *hs;

    w = c->worker;
    hs = c->hs;

    switch (gwload_ws_response(hs->data, hs->len, hs->key, &status, &hlen)) {

    case GWLOAD_WS_HS_AGAIN:
        return GWLOAD_OK;

    case GWLOAD_WS_HS_STATUS:
        gwload_conn_fail(c, GWLOAD_FAIL_STATUS, 0, NULL, status);
        return GWLOAD_ERROR;

    case GWLOAD_WS_HS_BAD_ACCEPT:
        gwload_conn_fail(c, GWLOAD_FAIL_BAD_ACCEPT, 0, NULL, status);
        return GWLOAD_ERROR;

    case GWLOAD_WS_HS_MALFORMED:
        gwload_conn_fail(c, GWLOAD_FAIL_OTHER, 0, "malformed response", 0);
        return GWLOAD_ERROR;

    case GWLOAD_WS_HS_OK:
        break;
    }

    now = w->now;

    c->hs = NULL;
    c->state = GWLOAD_CONN_OPEN;

    gwload_timer_del(&w->timers, &c->timer);
    gwload_ws_parser_init(&c->ws);

    w->stats->open++;

    if (c->again) {
        /* a reconnect: the connection is back, not a new one */

        c->again = 0;
        w->stats->reconnected++;

        if (c->lost) {
            c->lost = 0;
            w->stats->reconnecting--;
        }

    } else {
        w->connecting--;
        w->stats->established++;
        w->stats->last_established_ns = now;
        gwload_hist_add(&w->stats->handshake,
                        (now - c->start) / GWLOAD_USEC);
    }

    if (w->conf->proto->on_open && w->conf->proto->on_open(c) != GWLOAD_OK) {
        free(hs);
        gwload_conn_drop(c, GWLOAD_DROP_PROTOCOL, "on_open failed");
        return GWLOAD_ERROR;
    }

    /* bytes after the response head are already WebSocket frames */

    rc = GWLOAD_OK;

    if (c->fd != -1 && hlen < hs->len) {
        rc = gwload_conn_frames(c, hs->data + hlen, hs->data + hs->len);
    }

    free(hs);

    return (c->fd == -1) ? GWLOAD_ERROR : rc;
}


static int
gwload_conn_frames(gwload_conn_t *c, u_char *pos, u_char *end)
{
    gwload_ws_frame_t  f;

    while (c->fd != -1) {

        if (c->close_recv) {
            /* RFC 6455, 5.5.1: nothing follows a close frame */
            return GWLOAD_OK;
        }

        switch (gwload_ws_parse(&c->ws, &pos, end, &f)) {

        case GWLOAD_WS_EV_AGAIN:
            return GWLOAD_OK;

        case GWLOAD_WS_EV_DATA:
            if (gwload_conn_data(c, &f) != GWLOAD_OK) {
                return GWLOAD_ERROR;
            }
            break;

        case GWLOAD_WS_EV_CONTROL:
            if (gwload_conn_control(c, &f) != GWLOAD_OK) {
                return GWLOAD_ERROR;
            }
            break;

        case GWLOAD_WS_EV_ERROR:
            gwload_conn_violation(c, f.close_code, f.error);
            return GWLOAD_ERROR;
        }
    }

    return GWLOAD_ERROR;
}


static int
gwload_conn_data(gwload_conn_t *c, gwload_ws_frame_t *f)
{
    int                    rc;
    u_char                *p, *data;
    size_t                 cap, need;
    gwload_wstats_t       *st;
    const gwload_proto_t  *proto;

    st = c->worker->stats;
    proto = c->worker->conf->proto;

    st->bytes_in += f->len;

    /* a whole message in one chunk is handed over where it lies */

    data = (c->msg_len == 0 && f->last) ? f->data : c->msg;

    if (c->worker->conf->want_payload && f->len && data != f->data) {

        /* the rest of this frame is known: reserve it in one go */

        need = c->msg_len + f->len + c->ws.remaining;

        if (need > GWLOAD_MAX_MESSAGE) {
            gwload_conn_violation(c, GWLOAD_WS_CLOSE_TOO_BIG,
                                  "message too big");
            return GWLOAD_ERROR;
        }

        if (need > c->msg_cap) {
            cap = c->msg_cap ? c->msg_cap : 1024;

            while (cap < need) {
                cap *= 2;
            }

            p = realloc(c->msg, cap);
            if (p == NULL) {
                gwload_conn_drop(c, GWLOAD_DROP_PROTOCOL, "out of memory");
                return GWLOAD_ERROR;
            }

            c->msg = p;
            c->msg_cap = cap;
        }

        memcpy(c->msg + c->msg_len, f->data, f->len);
        data = c->msg;
    }

    c->msg_len += f->len;

    if (!f->last) {
        return GWLOAD_OK;
    }

    st->msgs_in++;

    if (f->opcode == GWLOAD_WS_OP_TEXT) {
        st->text_in++;

    } else {
        st->binary_in++;
    }

    rc = GWLOAD_OK;

    /*
     * After the Close of a stopping run the server may still send what it
     * had queued (RFC 6455, 5.5.1: until its Close): those were delivered,
     * and the protocol counts them (probes, sequence); it cannot send any
     * more.  (A socket the protocol closed to reconnect is left alone.)
     */

    if ((c->state == GWLOAD_CONN_OPEN
         || (c->state == GWLOAD_CONN_CLOSING && c->ours && !c->close_recv
             && c->worker->stopping))
        && proto->on_message)
    {
        rc = proto->on_message(c, f->opcode,
                               c->worker->conf->want_payload ? data : NULL,
                               c->msg_len);
    }

    c->msg_len = 0;

    if (c->msg_cap > GWLOAD_CONN_MSG_KEEP) {
        free(c->msg);
        c->msg = NULL;
        c->msg_cap = 0;
    }

    if (rc != GWLOAD_OK && c->fd != -1 && c->state == GWLOAD_CONN_OPEN) {
        gwload_conn_drop(c, GWLOAD_DROP_PROTOCOL, "on_message failed");
        return GWLOAD_ERROR;
    }

    return (c->fd == -1) ? GWLOAD_ERROR : GWLOAD_OK;
}


static int
gwload_conn_control(gwload_conn_t *c, gwload_ws_frame_t *f)
{
    int                    code, rc;
    gwload_worker_t       *w;
    gwload_wstats_t       *st;
    const gwload_proto_t  *proto;

    w = c->worker;
    st = w->stats;
    proto = w->conf->proto;

    switch (f->opcode) {

    case GWLOAD_WS_OP_PING:
        st->pings_in++;

        /* RFC 6455, 5.5.2: a pong with the identical payload */

        if (!c->close_sent) {
            if (gwload_conn_send_frame(c, GWLOAD_WS_OP_PONG, f->data, f->len)
                != GWLOAD_OK)
            {
                gwload_conn_error(c, errno, "send()");
                return GWLOAD_ERROR;
            }

            st->pongs_out++;
        }

        break;

    case GWLOAD_WS_OP_PONG:
        break;

    default: /* GWLOAD_WS_OP_CLOSE */
        st->closes_in++;
        c->close_recv = 1;

        /* RFC 6455, 5.5.1: no body, or a 2-byte code and a reason */

        if (f->len == 1) {
            code = GWLOAD_WS_CLOSE_PROTOCOL;

        } else if (f->len >= 2) {
            code = (f->data[0] << 8) | f->data[1];

        } else {
            code = GWLOAD_WS_CLOSE_NO_STATUS;
        }

        st->last_close_code = code;

        if (c->close_sent) {
            /* the answer to ours: wait for the server to close TCP */
            return GWLOAD_OK;
        }

        /* the peer closes: echo its close frame, then wait for its FIN */

        st->open--;
        c->state = GWLOAD_CONN_CLOSING;
        c->close_sent = 1;

        if (!gwload_conn_lost(c, code)) {
            st->dropped++;
            st->drop[GWLOAD_DROP_CLOSE]++;

            if (!w->warned_drop[GWLOAD_DROP_CLOSE]++) {
                gwload_conn_warn(c, "server closed an established "
                                 "connection with code %d (further ones "
                                 "are only counted)", code);
            }
        }

        if (gwload_conn_send_frame(c, GWLOAD_WS_OP_CLOSE, f->data,
                                   f->len == 1 ? 0 : f->len)
            != GWLOAD_OK)
        {
            gwload_conn_finish(c);
            return GWLOAD_ERROR;
        }

        if (gwload_timer_add(&w->timers, &c->timer,
                             w->now + w->conf->timeout_ms * GWLOAD_MSEC)
            != GWLOAD_OK)
        {
            gwload_conn_finish(c);
            return GWLOAD_ERROR;
        }

        gwload_timer_del(&w->timers, &c->proto_timer);

        return GWLOAD_OK;
    }

    if (c->state == GWLOAD_CONN_OPEN && proto->on_control) {
        rc = proto->on_control(c, f->opcode, f->data, f->len);

        if (rc != GWLOAD_OK && c->fd != -1
            && c->state == GWLOAD_CONN_OPEN)
        {
            gwload_conn_drop(c, GWLOAD_DROP_PROTOCOL, "on_control failed");
            return GWLOAD_ERROR;
        }
    }

    return (c->fd == -1) ? GWLOAD_ERROR : GWLOAD_OK;
}


int
gwload_conn_send_frame(gwload_conn_t *c, int opcode, const u_char *data,
    size_t len)
{
    int      rc;
    u_char  *buf, sbuf[GWLOAD_WS_HEADER_MAX + 1024];
    size_t   n;

    if (len <= 1024) {
        buf = sbuf;

    } else {
        buf = malloc(len + GWLOAD_WS_HEADER_MAX);
        if (buf == NULL) {
            errno = ENOMEM;
            return GWLOAD_ERROR;
        }
    }

    n = gwload_ws_frame(buf, opcode, data, len,
                        (uint32_t) gwload_worker_random(c->worker));

    rc = gwload_conn_send(c, buf, n);

    if (buf != sbuf) {
        free(buf);
    }

    return rc;
}


/*
 * Begin the closing handshake (RFC 6455, 7.1.2) on an open connection.
 * The server is expected to answer with its close frame and then close
 * TCP first (7.1.1), which leaves TIME_WAIT on its side.
 */

int
gwload_conn_close(gwload_conn_t *c, int code)
{
    u_char            body[2];
    gwload_worker_t  *w;

    if (c->state != GWLOAD_CONN_OPEN) {
        return GWLOAD_OK;
    }

    w = c->worker;

    c->state = GWLOAD_CONN_CLOSING;
    c->ours = 1;
    c->close_sent = 1;
    w->stats->open--;

    gwload_timer_del(&w->timers, &c->proto_timer);

    (void) gwload_conn_lost(c, 0);

    body[0] = (u_char) (code >> 8);
    body[1] = (u_char) code;

    if (gwload_conn_send_frame(c, GWLOAD_WS_OP_CLOSE, body, 2) != GWLOAD_OK
        || gwload_timer_add(&w->timers, &c->timer,
                            w->now + w->conf->timeout_ms * GWLOAD_MSEC)
           != GWLOAD_OK)
    {
        w->stats->close_unclean++;
        gwload_conn_finish(c);
        return GWLOAD_ERROR;
    }

    return GWLOAD_OK;
}


/*
 * The protocol wants this connection back: once the current socket is
 * finished, wait delay_ms, then connect to "target" (NULL: --url).  Called
 * from on_close, before gwload_conn_close(), or from on_reconnect_failed.
 * GWLOAD_DECLINED when the worker is stopping.
 */

int
gwload_conn_reconnect(gwload_conn_t *c, uint64_t delay_ms,
    const gwload_target_t *target)
{
    if (c->worker->stopping) {
        return GWLOAD_DECLINED;
    }

    c->retry = 1;
    c->retry_at = c->worker->now + delay_ms * GWLOAD_MSEC;
    c->retry_target = target;

    return GWLOAD_OK;
}


int
gwload_conn_timer(gwload_conn_t *c, uint64_t delay_ms)
{
    return gwload_timer_add(&c->worker->timers, &c->proto_timer,
                            c->worker->now + delay_ms * GWLOAD_MSEC);
}


int
gwload_conn_timer_at(gwload_conn_t *c, uint64_t deadline_ns)
{
    return gwload_timer_add(&c->worker->timers, &c->proto_timer,
                            deadline_ns);
}


/* the worker is stopping: abort attempts, close established ones */

void
gwload_conn_stop(gwload_conn_t *c)
{
    switch (c->state) {

    case GWLOAD_CONN_CONNECTING:
    case GWLOAD_CONN_HANDSHAKE:
        if (!c->again) {
            c->worker->stats->aborted++;
        }

        gwload_conn_finish(c);
        break;

    case GWLOAD_CONN_OPEN:
        (void) gwload_conn_close(c, GWLOAD_WS_CLOSE_NORMAL);
        break;

    case GWLOAD_CONN_WAITING:
        gwload_conn_finish(c);
        break;

    default:
        break;
    }
}


/* immediate exit: no close handshake */

void
gwload_conn_abort(gwload_conn_t *c)
{
    switch (c->state) {

    case GWLOAD_CONN_CONNECTING:
    case GWLOAD_CONN_HANDSHAKE:
        if (!c->again) {
            c->worker->stats->aborted++;
        }

        break;

    case GWLOAD_CONN_OPEN:
        c->worker->stats->open--;
        c->state = GWLOAD_CONN_CLOSING;

        if (c->worker->conf->proto->on_close) {
            c->worker->conf->proto->on_close(c, 0);
        }

        break;

    case GWLOAD_CONN_WAITING:
        break;

    case GWLOAD_CONN_CLOSING:
        if (c->ours) {
            c->worker->stats->close_unclean++;
        }
        break;

    default:
        return;
    }

    gwload_conn_finish(c);
}


static int
gwload_conn_send(gwload_conn_t *c, const u_char *data, size_t len)
{
    u_char   *p;
    size_t    cap;
    ssize_t   n;

    if (c->out == NULL) {
        n = c->worker->io->send(c, data, len);

        if (n == (ssize_t) len) {
            return GWLOAD_OK;
        }

        if (n == -1) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                return GWLOAD_ERROR;
            }

            n = 0;
        }

        data += n;
        len -= n;
    }

    /* keep the rest until EPOLLOUT */

    if (c->out_len + len > GWLOAD_CONN_OUT_MAX) {
        errno = ENOBUFS;
        return GWLOAD_ERROR;
    }

    if (c->out_len + len > c->out_cap) {
        cap = c->out_cap ? c->out_cap : 256;

        while (cap < c->out_len + len) {
            cap *= 2;
        }

        p = realloc(c->out, cap);
        if (p == NULL) {
            errno = ENOMEM;
            return GWLOAD_ERROR;
        }

        c->out = p;
        c->out_cap = (uint32_t) cap;
    }

    memcpy(c->out + c->out_len, data, len);
    c->out_len += (uint32_t) len;

    return GWLOAD_OK;
}


static int
gwload_conn_flush(gwload_conn_t *c)
{
    ssize_t  n;

    while (c->out_pos < c->out_len) {
        n = c->worker->io->send(c, c->out + c->out_pos,
                                c->out_len - c->out_pos);

        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return GWLOAD_OK;
            }

            if (errno == EINTR) {
                continue;
            }

            return GWLOAD_ERROR;
        }

        c->out_pos += (uint32_t) n;
    }

    free(c->out);
    c->out = NULL;
    c->out_pos = 0;
    c->out_len = 0;
    c->out_cap = 0;

    return GWLOAD_OK;
}


static void
gwload_conn_eof(gwload_conn_t *c)
{
    switch (c->state) {

    case GWLOAD_CONN_HANDSHAKE:
        gwload_conn_fail(c, GWLOAD_FAIL_RESET, 0,
                         "server closed before the 101", 0);
        break;

    case GWLOAD_CONN_OPEN:
        gwload_conn_drop(c, GWLOAD_DROP_EOF, "server closed TCP without a "
                         "close frame");
        break;

    case GWLOAD_CONN_CLOSING:
        gwload_conn_closed(c);
        break;

    default:
        gwload_conn_finish(c);
        break;
    }
}


static void
gwload_conn_error(gwload_conn_t *c, int err, const char *what)
{
    char  buf[128];

    switch (c->state) {

    case GWLOAD_CONN_CONNECTING:
    case GWLOAD_CONN_HANDSHAKE:
        gwload_conn_fail_errno(c, err, what);
        break;

    case GWLOAD_CONN_OPEN:
        snprintf(buf, sizeof(buf), "%s: %s (%s)", what,
                 strerrorname_np(err) ? strerrorname_np(err) : "?",
                 strerror(err));
        gwload_conn_drop(c, GWLOAD_DROP_RESET, buf);
        break;

    case GWLOAD_CONN_CLOSING:
        gwload_conn_closed(c);
        break;

    default:
        gwload_conn_finish(c);
        break;
    }
}


/* the end of a connection that was closing: count how it ended */

static void
gwload_conn_closed(gwload_conn_t *c)
{
    if (c->ours) {
        if (c->close_recv) {
            c->worker->stats->closed++;

        } else {
            c->worker->stats->close_unclean++;
        }
    }

    gwload_conn_finish(c);
}


/*
 * An open connection leaves the open state: tell the protocol, then 1 if
 * it asked for a reconnect (the loss is then "disconnected", not a drop).
 */

static int
gwload_conn_lost(gwload_conn_t *c, int code)
{
    gwload_worker_t       *w;
    const gwload_proto_t  *proto;

    w = c->worker;
    proto = w->conf->proto;

    if (proto->on_close) {
        proto->on_close(c, code);
    }

    if (!c->retry) {
        return 0;
    }

    w->stats->disconnected++;

    if (!c->lost) {
        c->lost = 1;
        w->stats->reconnecting++;
    }

    return 1;
}


static void
gwload_conn_fail_errno(gwload_conn_t *c, int err, const char *what)
{
    gwload_fail_e  reason;

    switch (err) {

    case ECONNREFUSED:
        reason = GWLOAD_FAIL_REFUSED;
        break;

    case ETIMEDOUT:
        reason = GWLOAD_FAIL_TIMEOUT;
        break;

    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
        reason = GWLOAD_FAIL_RESET;
        break;

    case EADDRNOTAVAIL:
    case EADDRINUSE:
        reason = GWLOAD_FAIL_ADDR;
        break;

    case EMFILE:
    case ENFILE:
        reason = GWLOAD_FAIL_EMFILE;
        break;

    default:
        reason = GWLOAD_FAIL_OTHER;
        break;
    }

    gwload_conn_fail(c, reason, err, what, 0);
}


static void
gwload_conn_fail(gwload_conn_t *c, gwload_fail_e reason, int err,
    const char *what, int status)
{
    char                   src[INET_ADDRSTRLEN];
    int64_t                retry_after;
    const char            *ename;
    gwload_worker_t       *w;
    gwload_wstats_t       *st;
    const gwload_proto_t  *proto;

    w = c->worker;
    st = w->stats;
    proto = w->conf->proto;

    if (c->again) {
        st->reconnect_failed++;

    } else {
        st->failed++;
        st->fail[reason]++;

        if (reason == GWLOAD_FAIL_STATUS) {
            st->last_status = status;
        }

        if (reason == GWLOAD_FAIL_OTHER && err) {
            st->last_errno = err;
        }
    }

    if (!w->warned_fail[reason]++) {
        ename = err ? strerrorname_np(err) : NULL;

        switch (reason) {

        case GWLOAD_FAIL_ADDR:
            gwload_conn_warn(c, "%s from %s: %s (%s): %s", what,
                             gwload_conn_src(c, src), ename ? ename : "?",
                             strerror(err),
                             strcmp(what, "bind()") == 0
                             ? "is the source address local? "
                               "(see --src-from)"
                             : "out of local ports for this source address;"
                               " raise --src-count");
            break;

        case GWLOAD_FAIL_EMFILE:
            gwload_conn_warn(c, "%s: %s (%s): out of file descriptors; "
                             "raise --procs", what, ename ? ename : "?",
                             strerror(err));
            break;

        case GWLOAD_FAIL_TIMEOUT:
            gwload_conn_warn(c, "no 101 within %" PRIu64 " ms (--timeout)%s",
                             w->conf->timeout_ms,
                             c->state == GWLOAD_CONN_CONNECTING
                             ? ", still in TCP connect" : "");
            break;

        case GWLOAD_FAIL_STATUS:
            gwload_conn_warn(c, "server answered HTTP %d instead of 101%s",
                             status, c->again ? " to a reconnect" : "");
            break;

        case GWLOAD_FAIL_BAD_ACCEPT:
            gwload_conn_warn(c, "101 without the expected "
                             "Sec-WebSocket-Accept, Upgrade or Connection");
            break;

        default:
            if (err) {
                gwload_conn_warn(c, "%s: %s (%s)", what,
                                 ename ? ename : "?", strerror(err));

            } else {
                gwload_conn_warn(c, "%s", what);
            }
            break;
        }
    }

    if (c->again && proto->on_reconnect_failed) {

        /* RFC 6585, 4: a 429 may say how long to wait */

        retry_after = -1;

        if (reason == GWLOAD_FAIL_STATUS && c->hs) {
            retry_after = gwload_ws_retry_after(c->hs->data, c->hs->len);
        }

        proto->on_reconnect_failed(c, reason, status, retry_after);
    }

    gwload_conn_finish(c);
}


static void
gwload_conn_drop(gwload_conn_t *c, gwload_drop_e why, const char *detail)
{
    gwload_worker_t  *w;

    w = c->worker;

    if (c->state == GWLOAD_CONN_OPEN) {
        w->stats->open--;
        c->state = GWLOAD_CONN_CLOSING;

        if (!gwload_conn_lost(c, 0)) {
            w->stats->dropped++;
            w->stats->drop[why]++;

            if (!w->warned_drop[why]++) {
                gwload_conn_warn(c, "established connection lost: %s "
                                 "(further ones are only counted)", detail);
            }
        }
    }

    gwload_conn_finish(c);
}


/*
 * The peer broke the protocol (RFC 6455, 7.1.7 Fail the WebSocket
 * Connection): send a close frame with "code" if we still may, and drop.
 */

static void
gwload_conn_violation(gwload_conn_t *c, int code, const char *detail)
{
    u_char  body[2];

    if (c->state == GWLOAD_CONN_OPEN) {
        body[0] = (u_char) (code >> 8);
        body[1] = (u_char) code;

        (void) gwload_conn_send_frame(c, GWLOAD_WS_OP_CLOSE, body, 2);

        gwload_conn_drop(c, GWLOAD_DROP_PROTOCOL, detail);
        return;
    }

    if (c->state == GWLOAD_CONN_CLOSING && c->ours && !c->close_recv) {
        c->worker->stats->close_unclean++;
    }

    gwload_conn_finish(c);
}


static void
gwload_conn_finish(gwload_conn_t *c)
{
    gwload_worker_t       *w;
    const gwload_proto_t  *proto;

    w = c->worker;
    proto = w->conf->proto;

    if ((c->state == GWLOAD_CONN_CONNECTING
         || c->state == GWLOAD_CONN_HANDSHAKE)
        && !c->again)
    {
        w->connecting--;
    }

    gwload_timer_del(&w->timers, &c->timer);
    gwload_timer_del(&w->timers, &c->proto_timer);

    if (c->fd != -1) {
        close(c->fd);
        c->fd = -1;
        w->active--;
    }

    free(c->hs);
    c->hs = NULL;
    free(c->out);
    c->out = NULL;
    c->out_pos = 0;
    c->out_len = 0;
    c->out_cap = 0;
    free(c->msg);
    c->msg = NULL;
    c->msg_len = 0;
    c->msg_cap = 0;

    c->state = GWLOAD_CONN_IDLE;
    c->close_sent = 0;
    c->close_recv = 0;
    c->ours = 0;
    c->hup = 0;

    if (c->retry) {
        c->retry = 0;

        if (!w->stopping
            && gwload_timer_add(&w->timers, &c->timer, c->retry_at)
               == GWLOAD_OK)
        {
            c->state = GWLOAD_CONN_WAITING;
            return;
        }
    }

    c->again = 0;

    if (c->lost) {
        /* given up, or stopping: it does not come back */

        c->lost = 0;
        w->stats->reconnecting--;

        if (proto->on_reconnect_end) {
            proto->on_reconnect_end(c);
        }
    }
}


static void
gwload_conn_timeout_handler(gwload_timer_t *t)
{
    gwload_conn_t  *c;

    c = t->data;

    switch (c->state) {

    case GWLOAD_CONN_CONNECTING:
    case GWLOAD_CONN_HANDSHAKE:
        gwload_conn_fail(c, GWLOAD_FAIL_TIMEOUT, 0, NULL, 0);
        break;

    case GWLOAD_CONN_CLOSING:
        if (c->ours) {
            if (c->close_recv) {
                /* the server answered but did not close TCP: fine */
                c->worker->stats->closed++;

            } else {
                c->worker->stats->close_unclean++;
            }
        }

        gwload_conn_finish(c);
        break;

    case GWLOAD_CONN_WAITING:
        c->state = GWLOAD_CONN_IDLE;
        c->again = 1;
        c->target = c->retry_target;

        /* a failure is counted, and handed to the protocol, in there */
        (void) gwload_conn_start(c);
        break;

    default:
        break;
    }
}


static void
gwload_conn_proto_timer_handler(gwload_timer_t *t)
{
    gwload_conn_t         *c;
    const gwload_proto_t  *proto;

    c = t->data;
    proto = c->worker->conf->proto;

    if (c->state != GWLOAD_CONN_OPEN || proto->on_timer == NULL) {
        return;
    }

    if (proto->on_timer(c) != GWLOAD_OK
        && c->fd != -1 && c->state == GWLOAD_CONN_OPEN)
    {
        gwload_conn_drop(c, GWLOAD_DROP_PROTOCOL, "on_timer failed");
    }
}


static void
gwload_conn_warn(gwload_conn_t *c, const char *fmt, ...)
{
    char     buf[512];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    /* "\r\033[K" clears the parent's progress line on a terminal */

    fprintf(stderr, "%sgwload: worker %u: connection %" PRIu32 ": %s\n",
            c->worker->tty ? "\r\033[K" : "", c->worker->id, c->id, buf);
}


static const char *
gwload_conn_src(gwload_conn_t *c, char *buf)
{
    struct in_addr  a;

    a.s_addr = htonl(c->worker->conf->src_from
                     + c->id % c->worker->conf->src_count);

    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}
