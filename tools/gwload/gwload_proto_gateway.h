
/*
 * gwload: protocol "gateway", what the driver (gwload_proto_gateway.c) and
 * its report (gwload_proto_gateway_report.c) share: the counter and
 * histogram slots and the options.
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

    unsigned        identify:1;
    unsigned        zombie_close:1;
} gwload_gw_conf_t;


void gwload_gw_progress(gwload_conf_t *conf, gwload_wstats_t *sum,
    char *buf, size_t size);
int gwload_gw_result(gwload_conf_t *conf, gwload_result_t *r, char *why,
    size_t size);
void gwload_gw_report(gwload_conf_t *conf, gwload_result_t *r, FILE *f);
void gwload_gw_report_json(gwload_conf_t *conf, gwload_result_t *r,
    FILE *f);


#endif /* _GWLOAD_PROTO_GATEWAY_H_INCLUDED_ */
