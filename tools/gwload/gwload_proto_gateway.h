
/*
 * gwload: protocol "gateway", what the driver (gwload_proto_gateway.c),
 * its resume part (gwload_proto_gateway_resume.c) and its report
 * (gwload_proto_gateway_report.c) share: the counter, histogram and series
 * slots, the options, and the per-connection state.
 */


#ifndef _GWLOAD_PROTO_GATEWAY_H_INCLUDED_
#define _GWLOAD_PROTO_GATEWAY_H_INCLUDED_


/* gwload_wstats_t.proto[] slots */
enum {
    GWLOAD_GW_N_HELLO = 0,
    GWLOAD_GW_N_IDENTIFY_SENT,
    GWLOAD_GW_N_READY,
    GWLOAD_GW_N_SESSIONS,          /* READY with a session_id */
    GWLOAD_GW_N_IDENTIFIED,
    GWLOAD_GW_N_SETUP_FAILED,      /* never identified (or no Hello) */
    GWLOAD_GW_N_SETUP_TIMEOUT,     /* ... of which timed out */
    GWLOAD_GW_N_GUILD_CREATE,
    GWLOAD_GW_N_GUILD_UNEXPECTED,  /* not listed in READY, or again */
    GWLOAD_GW_N_DISPATCH_OTHER,
    GWLOAD_GW_N_HB_SENT,
    GWLOAD_GW_N_HB_REQUESTED,      /* answers to the server's op 1 */
    GWLOAD_GW_N_HB_ACKS,
    GWLOAD_GW_N_ZOMBIES,
    GWLOAD_GW_N_SEQ_GAPS,
    GWLOAD_GW_N_SEQ_REPEATS,
    GWLOAD_GW_N_SEQ_MISSING,
    GWLOAD_GW_N_INVALID_SESSION,   /* op 9 */
    GWLOAD_GW_N_RECONNECT,         /* op 7 */
    GWLOAD_GW_N_OP_UNEXPECTED,     /* unknown op, or not in this phase */
    GWLOAD_GW_N_DECODE_ERRORS,     /* not JSON, not text, bad fields */
    GWLOAD_GW_N_MESSAGE_CREATE,

    /* resume (gwload_proto_gateway_resume.c) */
    GWLOAD_GW_N_DISC_CLOSE,        /* disconnects: a server close frame */
    GWLOAD_GW_N_DISC_DROP,         /* ... EOF, reset, no close frame */
    GWLOAD_GW_N_DISC_OP7,          /* ... op 7 */
    GWLOAD_GW_N_DISC_OP9,          /* ... op 9 */
    GWLOAD_GW_N_DISC_ZOMBIE,       /* ... zombie=close */
    GWLOAD_GW_N_RESUME_SENT,       /* op 6 */
    GWLOAD_GW_N_RESUMED,           /* RESUMED after op 6 */
    GWLOAD_GW_N_REIDENTIFIED,      /* identified again, a new session */
    GWLOAD_GW_N_SESSIONS_LOST,     /* never came back */
    GWLOAD_GW_N_INVALID_TRUE,      /* op 9 d:true */
    GWLOAD_GW_N_INVALID_FALSE,     /* op 9 d:false */
    GWLOAD_GW_N_HTTP_429,          /* a reconnect answered 429 */
    GWLOAD_GW_N_REPLAYED,          /* dispatches between op 6 and RESUMED */
    GWLOAD_GW_N_SEQ_LOST,          /* s values skipped by gaps */
    GWLOAD_GW_N_RESUME_URL_BAD,    /* unusable resume_gateway_url */

    GWLOAD_GW_N_CLOSE_1000,        /* 1000 .. 1015 */
    GWLOAD_GW_N_CLOSE_4000 = GWLOAD_GW_N_CLOSE_1000 + 16,  /* 4000 .. 4015 */
    GWLOAD_GW_N_CLOSE_OTHER = GWLOAD_GW_N_CLOSE_4000 + 16,
    GWLOAD_GW_N_MAX
};

_Static_assert(GWLOAD_GW_N_MAX <= GWLOAD_PROTO_COUNTERS,
               "gateway counters do not fit in gwload_wstats_t.proto[]");


/* gwload_wstats_t.proto_hist[] slots */
#define GWLOAD_GW_H_IDENTIFY        0   /* connect start -> identified */
#define GWLOAD_GW_H_READY           1   /* Identify sent -> READY */
#define GWLOAD_GW_H_HELLO           2   /* connect start -> Hello */
#define GWLOAD_GW_H_HEARTBEAT       3   /* heartbeat -> ACK */
#define GWLOAD_GW_H_RESUME          4   /* connection lost -> RESUMED */
#define GWLOAD_GW_H_REIDENTIFY      5   /* ... -> identified again */


/* gwload_wstats_t.proto_sec[] series */
#define GWLOAD_GW_S_DISCONNECTS     0
#define GWLOAD_GW_S_RESUMED         1
#define GWLOAD_GW_S_REIDENTIFIED    2


/* --proto-opt backoff=MIN-MAX: the first delay, uniform in [MIN, MAX] ms */
#define GWLOAD_GW_BACKOFF_MIN       1000
#define GWLOAD_GW_BACKOFF_MAX       5000

/* each failed attempt doubles the delay, from at least 100 ms, up to 60 s */
#define GWLOAD_GW_BACKOFF_FLOOR     100
#define GWLOAD_GW_BACKOFF_CAP       60000

/* READY's session_id is kept up to this length */
#define GWLOAD_GW_SESSION_ID_MAX    96


typedef struct {
    char           *tokens_buf;
    char          **tokens;
    uint32_t        ntokens;

    uint64_t        intents;
    int64_t         shard_id;       /* shard=I,N; -1: none */
    int64_t         shard_n;
    int64_t         shards;         /* shards=N, 0: none */
    int64_t         large_threshold;    /* 0: not sent */
    uint64_t        setup_timeout_ms;

    char           *url;            /* with ?v=10&encoding=json */
    char           *path;

    uint64_t        backoff_min;    /* ms */
    uint64_t        backoff_max;

    unsigned        identify:1;
    unsigned        zombie_close:1;
    unsigned        resume:1;
} gwload_gw_conf_t;


typedef enum {
    GWLOAD_GW_HELLO = 0,            /* waiting for Hello */
    GWLOAD_GW_IDENTIFYING,          /* Identify sent, waiting for READY */
    GWLOAD_GW_GUILDS,               /* READY seen, waiting for GUILD_CREATEs */
    GWLOAD_GW_CONNECTED,            /* identified, or Hello with identify=0 */
    GWLOAD_GW_ENDED,                /* setup failed; only counting now */
    GWLOAD_GW_RESUMING,             /* Resume sent, waiting for RESUMED */
    GWLOAD_GW_AWAY                  /* lost, the reconnect is pending */
} gwload_gw_phase_e;


/* disconnect causes, GWLOAD_GW_N_DISC_* */
typedef enum {
    GWLOAD_GW_DISC_CLOSE = 0,
    GWLOAD_GW_DISC_DROP,
    GWLOAD_GW_DISC_OP7,
    GWLOAD_GW_DISC_OP9,
    GWLOAD_GW_DISC_ZOMBIE
} gwload_gw_disc_e;


typedef struct {
    uint64_t        identify_sent;  /* ns */
    uint64_t        deadline;       /* ns, end of the setup phase */
    uint64_t        hb_next;        /* ns, 0: no Hello yet */
    uint64_t        hb_sent;        /* ns, the beat awaiting its ACK */
    int64_t         seq;            /* last s; 0: none yet (READY is 1) */
    uint64_t        lost_at;        /* ns, the session's socket was lost */

    uint64_t       *guilds;         /* READY's ids, sorted, until done */
    uint32_t        nguilds;
    uint32_t        guilds_left;
    uint32_t        hb_interval;    /* ms */
    uint32_t        backoff;        /* ms, the last reconnect delay */

    const gwload_target_t  *resume; /* resume_gateway_url; NULL: --url */

    uint8_t         phase;          /* gwload_gw_phase_e */
    uint8_t         session_id_len; /* 0: no session to resume */
    u_char          session_id[GWLOAD_GW_SESSION_ID_MAX];

    unsigned        pending:1;      /* counted in w->proto_pending */
    unsigned        unacked:1;      /* hb_sent awaits its ACK */
    unsigned        recovering:1;   /* lost, not resumed nor re-identified */
    unsigned        reidentify:1;   /* ... by a new Identify on --url */
    unsigned        closing:1;      /* we close this socket to reconnect */
} gwload_gw_conn_t;


typedef int (*gwload_gw_handler_pt)(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m);


#define gwload_gw_conf(c)                                                     \
    ((gwload_gw_conf_t *) (c)->worker->conf->proto_conf)
#define gwload_gw_count(c, n)       (gwload_conn_stats(c)->proto[n]++)
#define gwload_gw_add(c, n, k)      (gwload_conn_stats(c)->proto[n] += (k))


/* gwload_proto_gateway.c */
int gwload_gw_send_identify(gwload_conn_t *c);
void gwload_gw_setup_failed(gwload_conn_t *c, gwload_gw_conn_t *g);
int gwload_gw_arm(gwload_conn_t *c, gwload_gw_conn_t *g);

/* gwload_proto_gateway_resume.c */
int gwload_gw_resume_option(gwload_gw_conf_t *gc, const char *opt,
    const char *v);
void gwload_gw_resume_cleanup(void);
void gwload_gw_session_keep(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_ready_t *r);
int gwload_gw_send_resume(gwload_conn_t *c, gwload_gw_conn_t *g);
int gwload_gw_resumed(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m);
int gwload_gw_reconnect(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m);
int gwload_gw_invalid_session(gwload_conn_t *c, gwload_gw_conn_t *g,
    gwload_gw_msg_t *m);
int gwload_gw_zombie(gwload_conn_t *c, gwload_gw_conn_t *g);
int gwload_gw_lost(gwload_conn_t *c, gwload_gw_conn_t *g, int code);
void gwload_gw_on_reconnect_failed(gwload_conn_t *c, gwload_fail_e reason,
    int status, int64_t retry_after);
void gwload_gw_on_reconnect_end(gwload_conn_t *c);

/* gwload_proto_gateway_report.c */
void gwload_gw_progress(gwload_conf_t *conf, gwload_wstats_t *sum,
    char *buf, size_t size);
int gwload_gw_result(gwload_conf_t *conf, gwload_result_t *r, char *why,
    size_t size);
void gwload_gw_report(gwload_conf_t *conf, gwload_result_t *r, FILE *f);
void gwload_gw_report_json(gwload_conf_t *conf, gwload_result_t *r,
    FILE *f);


#endif /* _GWLOAD_PROTO_GATEWAY_H_INCLUDED_ */
