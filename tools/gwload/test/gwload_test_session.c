
/*
 * gwload-test-server -G -R: sessions of the mock gateway, for Resume
 * (PROTOCOL.md 1.8).  Each identified connection gets a session that keeps
 * its last TS_RING dispatches; a Resume with a known session_id and a seq
 * the ring still covers gets the dispatches after seq, with their own s,
 * then RESUMED with the next s.  A session outlives its socket unless the
 * client closed with 1000 or 1001 (1.4).  Published messages reach a
 * session whether or not it has a socket now, as the resume ring does on
 * the real gateway.
 *
 * The misbehaviours that end a session's socket (drop-eof, drop-rst,
 * drop-close, op9-true) come -A ms after the guilds; -L K dispatches are
 * first put in the ring without being sent, "lost in flight", so that a
 * resume has something to replay.  resume-invalid answers every Resume
 * with op 9 d:false (what the gateway does while it has no resume);
 * replay-gap leaves the first replayed dispatch out, replay-repeat sends
 * the one at seq again first.  Sessions live in one process: use -w 1.
 */


#include "gwload_test_server.h"

#include <unistd.h>
#include <sys/socket.h>


#define ts_sess_of(c)       (&ts_sessions[(c)->sess - 1])

/* on every Resume: its socket is not the one that misbehaved (-F, -U) */
#define ts_resume_mis(m)    (ts.mis & (1u << (m)))


static ts_sess_t  *ts_sessions;
static uint32_t    ts_nsessions, ts_sessions_cap;
uint64_t           ts_resumes, ts_resumes_refused;


static void ts_sess_store(ts_sess_t *s, const u_char *data, size_t len,
    int64_t seq);
static ts_sess_t *ts_sess_find(gwload_json_t *id);


/* a new session for an identified connection; its index + 1, 0 if none */

uint32_t
ts_sess_create(int fd)
{
    ts_sess_t  *s;

    if (!ts.resume) {
        return 0;
    }

    if (ts_nsessions == ts_sessions_cap) {
        ts_sessions_cap = ts_sessions_cap ? 2 * ts_sessions_cap : 64;

        s = realloc(ts_sessions, ts_sessions_cap * sizeof(ts_sess_t));
        if (s == NULL) {
            return 0;
        }

        ts_sessions = s;
    }

    s = &ts_sessions[ts_nsessions];
    memset(s, 0, sizeof(ts_sess_t));
    s->fd = fd;
    s->live = 1;

    return ++ts_nsessions;
}


/* PROTOCOL.md 1.7: "%08x" index, "%08x" pid */

void
ts_sess_id(ts_conn_t *c, char *buf, size_t size)
{
    snprintf(buf, size, "%08x%08x", c->sess ? c->sess - 1 : c->n,
             (unsigned) getpid());
}


/* one dispatch, already with its s: sent, and kept for a resume */

void
ts_gw_dispatch(int fd, ts_conn_t *c, const u_char *data, size_t len)
{
    ts_frame(fd, GWLOAD_WS_OP_TEXT, data, len);

    if (c->sess) {
        ts_sess_store(ts_sess_of(c), data, len, c->seq);
    }
}


static void
ts_sess_store(ts_sess_t *s, const u_char *data, size_t len, int64_t seq)
{
    ts_msg_t  *m;

    m = &s->ring[s->head];
    s->head = (s->head + 1) % TS_RING;

    if (s->count < TS_RING) {
        s->count++;
    }

    free(m->data);

    m->data = malloc(len ? len : 1);
    m->len = m->data ? len : 0;
    m->s = seq;

    if (m->data) {
        memcpy(m->data, data, len);
    }

    s->seq = seq;
}


/* -L: dispatches the session has, and the socket never gets */

void
ts_sess_lose(ts_conn_t *c, uint32_t n)
{
    int        len;
    char       buf[256];
    uint32_t   k;

    for (k = 0; k < n; k++) {
        c->seq++;

        len = snprintf(buf, sizeof(buf), "{\"t\":\"MESSAGE_CREATE\",\"s\":%"
                       PRId64 ",\"op\":0,\"d\":{\"id\":\"%u\",\"channel_id\":"
                       "\"1\",\"content\":\"lost in flight %u\"}}",
                       c->seq, k, k);

        if (c->sess) {
            ts_sess_store(ts_sess_of(c), (u_char *) buf, len, c->seq);
        }
    }
}


/* the socket is gone; "code" is the client's close code, 0 if none */

void
ts_sess_detach(int fd, ts_conn_t *c, int code)
{
    ts_sess_t  *s;

    if (!c->sess) {
        return;
    }

    s = ts_sess_of(c);

    if (s->fd == fd) {
        s->fd = -1;
    }

    /* PROTOCOL.md 1.4: 1000 and 1001 from the client end the session */

    if (code == 1000 || code == 1001) {
        s->live = 0;
    }

    c->sess = 0;
}


/*
 * A published message: "{op, s, t, d: body}" with each live session's
 * next s, sent to the ones with a socket that is identified or resumed.
 */

void
ts_sess_publish(const u_char *body, size_t len, uint64_t k)
{
    int         n;
    char        head[96];
    u_char     *msg;
    uint32_t    i;
    ts_sess_t  *s;
    ts_conn_t  *c;

    msg = malloc(len + sizeof(head) + 1);
    if (msg == NULL) {
        return;
    }

    for (i = 0; i < ts_nsessions; i++) {
        s = &ts_sessions[i];

        if (!s->live) {
            continue;
        }

        if (ts.skip_every && k == 1 && i % ts.skip_every == 0) {
            ts_skipped++;
            continue;
        }

        n = snprintf(head, sizeof(head), "{\"op\":0,\"s\":%" PRId64 ","
                     "\"t\":\"MESSAGE_CREATE\",\"d\":", s->seq + 1);

        memcpy(msg, head, n);
        memcpy(msg + n, body, len);
        msg[n + len] = '}';

        ts_sess_store(s, msg, n + len + 1, s->seq + 1);
        ts_fanout++;

        if (s->fd < 0) {
            continue;
        }

        c = &ts_conns[s->fd];

        if (c->state == sw_ws && c->gw == ts_gw_st_ready) {
            c->seq = s->seq;
            ts_frame(s->fd, GWLOAD_WS_OP_TEXT, msg, n + len + 1);
            ts_flush(s->fd);
        }
    }

    free(msg);
}


/*
 * op 6 Resume (PROTOCOL.md 1.4, 1.8): replay and RESUMED, op 9 d:false
 * for a session that is unknown, ended or too far behind, close 4007 for
 * a seq ahead of the session's.
 */

void
ts_gw_resume(int fd, ts_conn_t *c, gwload_gw_msg_t *m)
{
    int                 rc, len;
    char                buf[128];
    int64_t             seq;
    uint32_t            k, i;
    ts_msg_t           *r;
    ts_sess_t          *s;
    gwload_json_t       key, val, id;
    gwload_json_iter_t  it;

    if (c->gw != ts_gw_st_hello) {
        ts_close_code(fd, 4005);
        return;
    }

    if (gwload_json_iter(&it, &m->d, m->end) != GWLOAD_OK
        || m->d.type != GWLOAD_JSON_OBJECT)
    {
        ts_close_code(fd, 4002);
        return;
    }

    memset(&id, 0, sizeof(gwload_json_t));
    seq = -1;

    while ((rc = gwload_json_next(&it, &key, &val)) == GWLOAD_OK) {
        if (gwload_json_eq(&key, "session_id")) {
            id = val;

        } else if (gwload_json_eq(&key, "seq")) {
            if (val.type == GWLOAD_JSON_NULL) {
                seq = 0;

            } else if (gwload_json_int(&val, &seq) != GWLOAD_OK || seq < 0) {
                ts_close_code(fd, 4002);
                return;
            }
        }
    }

    if (rc != GWLOAD_DONE || id.type != GWLOAD_JSON_STRING || seq < 0) {
        ts_close_code(fd, 4002);
        return;
    }

    s = ts_sess_find(&id);

    if (s && seq > s->seq) {
        ts_close_code(fd, 4007);
        return;
    }

    /* the ring must hold every dispatch after seq */

    if (s && s->count && seq < s->seq
        && s->ring[(s->head + TS_RING - s->count) % TS_RING].s > seq + 1)
    {
        s = NULL;
    }

    if (s == NULL || !s->live || ts_resume_mis(ts_mis_resume_invalid)) {
        ts_resumes_refused++;
        c->gw = ts_gw_st_refused;
        ts_gw_text(fd, "{\"t\":null,\"s\":null,\"op\":9,\"d\":false}");
        return;
    }

    if (s->fd >= 0 && s->fd != fd) {
        /* the old socket has not noticed: it is "not authenticated" now */
        ts_conns[s->fd].sess = 0;
        ts_close_code(s->fd, 4003);
        ts_flush(s->fd);
    }

    ts_resumes++;

    s->fd = fd;
    c->sess = (uint32_t) (s - ts_sessions) + 1;
    c->gw = ts_gw_st_ready;

    k = 0;

    for (i = 0; i < s->count; i++) {
        r = &s->ring[(s->head + TS_RING - s->count + i) % TS_RING];

        if (r->s < seq
            || (r->s == seq && !ts_resume_mis(ts_mis_replay_repeat)))
        {
            continue;
        }

        if (k++ == 0 && r->s > seq && ts_resume_mis(ts_mis_replay_gap)) {
            continue;
        }

        ts_frame(fd, GWLOAD_WS_OP_TEXT, r->data, r->len);
    }

    c->seq = s->seq + 1;

    len = snprintf(buf, sizeof(buf), "{\"t\":\"RESUMED\",\"s\":%" PRId64
                   ",\"op\":0,\"d\":{\"_trace\":[\"mock\"]}}", c->seq);

    ts_gw_dispatch(fd, c, (u_char *) buf, len);
}


static ts_sess_t *
ts_sess_find(gwload_json_t *id)
{
    char      hex[9];
    uint32_t  i;

    if (id->end - id->start != 16) {
        return NULL;
    }

    memcpy(hex, id->start + 8, 8);
    hex[8] = '\0';

    if (strtoul(hex, NULL, 16) != (unsigned long) getpid()) {
        return NULL;
    }

    memcpy(hex, id->start, 8);
    i = (uint32_t) strtoul(hex, NULL, 16);

    return (i < ts_nsessions) ? &ts_sessions[i] : NULL;
}


/* -A ms after the guilds: the socket of a misbehaving session goes */

void
ts_gw_drop(int fd, ts_conn_t *c)
{
    struct linger  l;

    c->drop_at = 0;

    ts_sess_lose(c, ts.lost);

    if (ts_mis(c, ts_mis_op9_true)) {
        ts_gw_text(fd, "{\"t\":null,\"s\":null,\"op\":9,\"d\":true}");
        ts_flush(fd);
        return;
    }

    if (ts_mis(c, ts_mis_drop_close)) {
        ts_close_code(fd, ts.close_code);
        ts_flush(fd);
        return;
    }

    ts_flush(fd);

    if (ts_conns[fd].state == sw_free) {
        return;
    }

    if (ts_mis(c, ts_mis_drop_rst)) {
        l.l_onoff = 1;
        l.l_linger = 0;
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));

    } else {
        /* drop-eof: a FIN without a close frame */
        shutdown(fd, SHUT_WR);
    }

    ts_close(fd);
}
