
/*
 * gwload: worker process (epoll loop, pacing) and its connections.
 */


#ifndef _GWLOAD_CONN_H_INCLUDED_
#define _GWLOAD_CONN_H_INCLUDED_


typedef enum {
    GWLOAD_CONN_IDLE = 0,       /* not started, or finished */
    GWLOAD_CONN_CONNECTING,     /* non-blocking connect() in progress */
    GWLOAD_CONN_HANDSHAKE,      /* upgrade request sent, waiting for 101 */
    GWLOAD_CONN_OPEN,           /* established */
    GWLOAD_CONN_CLOSING,        /* close frame sent and/or received */
    GWLOAD_CONN_WAITING         /* lost, to reconnect when c->timer fires */
} gwload_conn_state_e;


/* where a reconnect goes (gwload_conn_reconnect()); NULL: --url */
#define GWLOAD_TARGET_MAX           2048    /* host + path, at most */

struct gwload_target_s {
    struct sockaddr_in      dst;
    char                   *host;          /* Host header */
    char                   *path;          /* request-target */
};


/*
 * Transport hooks: plain TCP now; TLS (wss) will add its own recv/send and
 * a handshake phase between CONNECTING and HANDSHAKE.
 */
typedef struct {
    ssize_t       (*recv)(gwload_conn_t *c, u_char *buf, size_t size);
    ssize_t       (*send)(gwload_conn_t *c, const u_char *buf, size_t size);
} gwload_io_t;


/* data the server sent before the 101 was complete */
typedef struct {
    u_char                  key[GWLOAD_WS_KEY_LEN];
    size_t                  len;
    u_char                  data[GWLOAD_WS_RESPONSE_MAX];
} gwload_conn_hs_t;


struct gwload_conn_s {
    int                     fd;
    uint32_t                id;            /* 0 .. connections-1, global */
    gwload_worker_t        *worker;
    gwload_conn_t          *posted_next;

    uint64_t                start;         /* ns, connect() called */
    uint64_t                retry_at;      /* ns, reconnect due */

    const gwload_target_t  *target;        /* this socket's; NULL: --url */
    const gwload_target_t  *retry_target;  /* the next one's */

    gwload_timer_t          timer;         /* connect/handshake/close */
    gwload_timer_t          proto_timer;   /* protocol's own */

    gwload_conn_hs_t       *hs;            /* only until the 101 */

    u_char                 *out;           /* unsent bytes, on demand */
    uint32_t                out_pos;
    uint32_t                out_len;
    uint32_t                out_cap;

    u_char                 *msg;           /* message assembly, on demand */
    size_t                  msg_len;
    size_t                  msg_cap;

    void                   *proto_data;

    gwload_probe_conn_t     probe;         /* :N seen lately */

    gwload_ws_parser_t      ws;

    unsigned                state:3;
    unsigned                posted:1;
    unsigned                close_sent:1;
    unsigned                close_recv:1;
    unsigned                ours:1;        /* we started the close */
    unsigned                hup:1;         /* EPOLLRDHUP/HUP/ERR seen */
    unsigned                retry:1;       /* reconnect once finished */
    unsigned                again:1;       /* this socket is a reconnect */
    unsigned                lost:1;        /* counted in "reconnecting" */
};


struct gwload_worker_s {
    unsigned                id;
    gwload_conf_t          *conf;
    gwload_shm_t           *shm;
    gwload_wstats_t        *stats;
    const gwload_io_t      *io;

    int                     ep;
    int                     sigfd;

    gwload_conn_t          *conns;
    uint64_t                nconns;
    u_char                 *proto_data;

    uint64_t                next;          /* next connection to start */
    uint64_t                connecting;    /* CONNECTING + HANDSHAKE */
    uint64_t                proto_pending; /* open, protocol setting up */
    uint64_t                active;        /* connections with an fd */
    uint64_t                close_next;    /* next one to close on stop */

    double                  rate;          /* this worker's share, conn/s */
    double                  tokens;
    double                  burst;
    uint64_t                tokens_at;     /* ns */

    gwload_timers_t         timers;
    gwload_conn_t          *posted;

    uint64_t                now;           /* ns, updated once per loop */
    uint64_t                rng;

    u_char                 *rbuf;
    size_t                  rbuf_size;
    u_char                 *req;           /* request scratch */
    size_t                  req_size;

    gwload_probe_sec_t     *probe_sec;     /* this worker's series */
    uint32_t               *probe_seq;     /* ... receivers by :N */
    uint32_t               *probe_conn;    /* all: count by conn id */

    unsigned                stopping:1;
    unsigned                tty:1;
    unsigned                warned_fail[GWLOAD_FAIL_MAX];
    unsigned                warned_drop[GWLOAD_DROP_MAX];
};


/* gwload_worker.c */
int gwload_worker_run(gwload_conf_t *conf, gwload_shm_t *shm, unsigned id);
uint64_t gwload_worker_random(gwload_worker_t *w);

/* gwload_conn.c */
extern const gwload_io_t  gwload_io_plain;

int gwload_conn_start(gwload_conn_t *c);
void gwload_conn_handler(gwload_conn_t *c, uint32_t events);
void gwload_conn_read(gwload_conn_t *c);
void gwload_conn_stop(gwload_conn_t *c);
void gwload_conn_abort(gwload_conn_t *c);

/* for protocols */
int gwload_conn_send_frame(gwload_conn_t *c, int opcode, const u_char *data,
    size_t len);
int gwload_conn_timer(gwload_conn_t *c, uint64_t delay_ms);
int gwload_conn_timer_at(gwload_conn_t *c, uint64_t deadline_ns);
int gwload_conn_close(gwload_conn_t *c, int code);
int gwload_conn_reconnect(gwload_conn_t *c, uint64_t delay_ms,
    const gwload_target_t *target);

#define gwload_conn_now(c)          ((c)->worker->now)
#define gwload_conn_stats(c)        ((c)->worker->stats)


#endif /* _GWLOAD_CONN_H_INCLUDED_ */
