
/*
 * gwload-test-server: what the server (gwload_test_server.c), its mock
 * gateway (gwload_test_gateway.c) and the mock's sessions
 * (gwload_test_session.c) share.
 */


#ifndef _GWLOAD_TEST_SERVER_H_INCLUDED_
#define _GWLOAD_TEST_SERVER_H_INCLUDED_


#include "gwload.h"


#define TS_BUF_MAX      16384

/* guilds per connection at most (-g) */
#define TS_GW_GUILDS_MAX    10000

/* dispatches a session keeps for a resume (-R) */
#define TS_RING             256


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
    X(bad_json,    "bad-json")                                                \
    X(drop_eof,    "drop-eof")                                                \
    X(drop_rst,    "drop-rst")                                                \
    X(drop_close,  "drop-close")                                              \
    X(op9_true,    "op9-true")                                                \
    X(resume_invalid, "resume-invalid")                                       \
    X(replay_gap,  "replay-gap")                                              \
    X(replay_repeat, "replay-repeat")

#define ts_mis_enum(id, name)   ts_mis_##id,
enum { TS_MIS(ts_mis_enum) ts_mis_max };
#undef ts_mis_enum


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

    uint32_t    n;              /* upgrade order */
    int64_t     seq;            /* last s sent */
    uint32_t    hbs;            /* heartbeats received */
    uint32_t    posts;          /* POSTs on this connection */
    uint32_t    sess;           /* session index + 1; 0: none */
    uint64_t    drop_at;        /* ns: a drop-* misbehaviour is due */
    uint8_t     gw;
} ts_conn_t;


typedef struct {
    int64_t     s;
    size_t      len;
    u_char     *data;
} ts_msg_t;


typedef struct {
    int         fd;             /* its socket now; -1: none */
    unsigned    live:1;         /* may be resumed */
    int64_t     seq;            /* last s */
    uint32_t    head;           /* ring: the next slot */
    uint32_t    count;
    ts_msg_t    ring[TS_RING];
} ts_sess_t;


typedef struct {
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
    uint32_t             mis_upgrades;  /* -U: only the first N, 0: all */
    char               **tokens;
    size_t               ntokens;

    int                  resume;        /* -R */
    uint64_t             drop_after_ms; /* -A */
    int                  close_code;    /* -C */
    uint32_t             lost;          /* -L */
    uint32_t             q429;          /* -Q: 429s left for /resume */
    char                *resume_url;    /* -u */

    int                  post_status;
    uint32_t             post_keepalive;
    uint64_t             delay_ms;
    uint32_t             skip_every;
} ts_conf_t;


extern ts_conf_t     ts;
extern ts_conn_t    *ts_conns;
extern uint64_t      ts_identifies, ts_bad_identifies, ts_heartbeats,
                     ts_bad_heartbeats, ts_acks, ts_fanout, ts_skipped,
                     ts_resumes, ts_resumes_refused;


/* gwload_test_server.c */
void ts_send(int fd, const void *data, size_t len);
void ts_frame_header(int fd, int b0, size_t len);
void ts_frame(int fd, int opcode, const u_char *data, size_t len);
void ts_close_code(int fd, int code);
void ts_close(int fd);
void ts_flush(int fd);

/* gwload_test_gateway.c */
void ts_gw_hello(int fd, ts_conn_t *c);
void ts_gw_message(int fd, ts_conn_t *c, u_char *data, size_t len);
int ts_gw_init(void);
int ts_gw_tokens(const char *file);
int ts_mis_parse(char *list);
int ts_mis(ts_conn_t *c, int m);
void ts_gw_text(int fd, const char *s);

/* gwload_test_session.c */
uint32_t ts_sess_create(int fd);
void ts_sess_id(ts_conn_t *c, char *buf, size_t size);
void ts_gw_dispatch(int fd, ts_conn_t *c, const u_char *data, size_t len);
void ts_sess_lose(ts_conn_t *c, uint32_t n);
void ts_sess_detach(int fd, ts_conn_t *c, int code);
void ts_sess_publish(const u_char *body, size_t len, uint64_t k);
void ts_gw_resume(int fd, ts_conn_t *c, gwload_gw_msg_t *m);
void ts_gw_drop(int fd, ts_conn_t *c);


#endif /* _GWLOAD_TEST_SERVER_H_INCLUDED_ */
