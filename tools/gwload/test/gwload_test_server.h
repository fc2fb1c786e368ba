
/*
 * gwload-test-server: what the server (gwload_test_server.c) and its mock
 * gateway (gwload_test_gateway.c) share.
 */


#ifndef _GWLOAD_TEST_SERVER_H_INCLUDED_
#define _GWLOAD_TEST_SERVER_H_INCLUDED_


#include "gwload.h"


#define TS_BUF_MAX      16384

/* guilds per connection at most (-g) */
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
    uint8_t     gw;
} ts_conn_t;


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
    char               **tokens;
    size_t               ntokens;

    int                  post_status;
    uint32_t             post_keepalive;
    uint64_t             delay_ms;
    uint32_t             skip_every;
} ts_conf_t;


extern ts_conf_t     ts;
extern ts_conn_t    *ts_conns;
extern uint64_t      ts_identifies, ts_bad_identifies, ts_heartbeats,
                     ts_bad_heartbeats, ts_acks;


/* gwload_test_server.c */
void ts_send(int fd, const void *data, size_t len);
void ts_frame_header(int fd, int b0, size_t len);
void ts_frame(int fd, int opcode, const u_char *data, size_t len);
void ts_close_code(int fd, int code);

/* gwload_test_gateway.c */
void ts_gw_hello(int fd, ts_conn_t *c);
void ts_gw_message(int fd, ts_conn_t *c, u_char *data, size_t len);
int ts_gw_init(void);
int ts_gw_tokens(const char *file);
int ts_mis_parse(char *list);


#endif /* _GWLOAD_TEST_SERVER_H_INCLUDED_ */
