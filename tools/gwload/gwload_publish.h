
/*
 * gwload publish: what the publisher (gwload_publish.c) and its report
 * (gwload_publish_report.c) share.
 */


#ifndef _GWLOAD_PUBLISH_H_INCLUDED_
#define _GWLOAD_PUBLISH_H_INCLUDED_


#define GWLOAD_PUB_STATUS_MAX       32      /* distinct status codes kept */


/* why a request got no 2xx */
typedef enum {
    GWLOAD_PUB_ERR_CONNECT = 0,     /* TCP connect failed (no request lost) */
    GWLOAD_PUB_ERR_RESET,           /* the connection broke, no response */
    GWLOAD_PUB_ERR_TIMEOUT,         /* no response within --timeout */
    GWLOAD_PUB_ERR_RESPONSE,        /* not an HTTP/1.x response */
    GWLOAD_PUB_ERR_STATUS,          /* a response other than 2xx */
    GWLOAD_PUB_ERR_MAX
} gwload_pub_err_e;


typedef enum {
    GWLOAD_PUB_IDLE = 0,            /* no socket: (re)connect at retry_at */
    GWLOAD_PUB_CONNECTING,
    GWLOAD_PUB_READY,               /* connected, nothing outstanding */
    GWLOAD_PUB_BUSY                 /* one request outstanding */
} gwload_pub_state_e;


typedef struct {
    int                     fd;
    uint8_t                 state;      /* gwload_pub_state_e */
    unsigned                reused:1;   /* kept alive from a request */
    uint32_t                step;       /* of the request outstanding */
    uint64_t                n;          /* its message number */
    uint64_t                sent_ns;    /* monotonic */
    uint64_t                since;      /* connect started, ns */
    uint64_t                retry_at;   /* IDLE: when to connect, ns */

    u_char                 *req;        /* the request, as sent */
    size_t                  req_cap;
    size_t                  out_len;
    size_t                  out_pos;

    gwload_http_resp_t      resp;
} gwload_pub_conn_t;


typedef struct {
    double                  rate;       /* target, messages/s */
    uint64_t                start_ns;   /* monotonic */
    uint64_t                end_ns;
    uint64_t                first_n;
    uint64_t                sent;
    uint64_t                accepted;   /* 2xx */
    uint64_t                errors;     /* requests without a 2xx */
    double                  skipped;    /* tokens lost: no free connection */
    gwload_hist_t           post;       /* request sent -> response, us */
} gwload_pub_step_t;


typedef struct {
    int                     code;
    uint64_t                n;
} gwload_pub_status_t;


typedef struct {
    /* options */
    char                   *url;
    char                    host[300];
    char                   *path;
    struct sockaddr_in      dst;
    char                   *headers;    /* "Name: value\r\n"... */
    size_t                  headers_len;
    unsigned                content_type:1; /* no Content-Type given */
    char                   *body_tpl;
    gwload_http_body_t      body;
    unsigned                nconns;
    uint64_t                timeout_ms;
    int                     progress;   /* -1: when stderr is a tty */
    char                   *json;
    double                  step_s;
    unsigned                nsteps;
    gwload_pub_step_t      *steps;

    /* the run */
    int                     ep;
    int                     sigfd;
    gwload_pub_conn_t      *conns;
    unsigned                cur;        /* step; nsteps once draining */
    unsigned                rr;         /* round robin over connections */
    uint64_t                now;
    double                  tokens;
    double                  burst;
    uint64_t                tokens_at;
    uint64_t                next_n;
    uint64_t                outstanding;
    uint64_t                start_ns;
    uint64_t                start_unix_ns;
    uint64_t                end_ns;
    uint64_t                drain_end;
    uint64_t                next_tick;
    uint64_t                last_sent;  /* for the progress line */
    uint64_t                connects;
    uint64_t                server_closes;  /* idle keep-alive closed */
    uint64_t                errors[GWLOAD_PUB_ERR_MAX];
    gwload_pub_status_t     status[GWLOAD_PUB_STATUS_MAX];
    unsigned                nstatus;
    uint64_t                status_other;
    u_char                 *rbuf;
    u_char                 *scratch;    /* a body */
    unsigned                stopping:1;
    unsigned                interrupted:1;
    unsigned                tty:1;
    unsigned                warned[GWLOAD_PUB_ERR_MAX];
    gwload_hist_t           post;
} gwload_pub_t;


/* gwload_publish_report.c */
uint64_t gwload_pub_total(gwload_pub_t *p, int what);
int gwload_pub_ok(gwload_pub_t *p);
void gwload_pub_progress(gwload_pub_t *p);
void gwload_pub_report(gwload_pub_t *p, FILE *f);
int gwload_pub_json(gwload_pub_t *p, const char *path);

#define GWLOAD_PUB_SENT             0
#define GWLOAD_PUB_ACCEPTED         1
#define GWLOAD_PUB_ERRORS           2
#define GWLOAD_PUB_SKIPPED          3


#endif /* _GWLOAD_PUBLISH_H_INCLUDED_ */
