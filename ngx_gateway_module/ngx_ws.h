
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_WS_H_INCLUDED_
#define _NGX_WS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_ws_frame.h"
#include "ngx_ws_utf8.h"


/*
 * The WebSocket server core shared by ngx_gateway_module and
 * ngx_voice_signal_module.  Both .so files link their own copy of these
 * sources (nginx >= 1.19.5 shared addon sources) and nginx loads modules
 * with RTLD_GLOBAL, so nothing here may define a global variable: all
 * state hangs off the configuration and the connection.
 */


typedef struct ngx_ws_conn_s     ngx_ws_conn_t;
typedef struct ngx_ws_out_s      ngx_ws_out_t;
typedef struct ngx_ws_handler_s  ngx_ws_handler_t;

typedef void (*ngx_ws_out_free_pt)(ngx_ws_out_t *out);


/* blocks of 128 bytes to 64 KB for short-lived buffers (ngx_ws_mem.c) */
#define NGX_WS_MEM_CLASSES  10


/* per-process state of one module, kept in its main configuration */
typedef struct {
    u_char                  *scratch;   /* the shared read buffer */
    size_t                   scratch_size;
    void                    *free[NGX_WS_MEM_CLASSES];
    ngx_uint_t               nfree[NGX_WS_MEM_CLASSES];
} ngx_ws_main_t;


/* per-location WebSocket limits and timeouts, and the protocol served */
typedef struct {
    size_t                   max_message_size;
    ngx_uint_t               max_fragments;
    size_t                   send_queue;
    ngx_msec_t               send_timeout;
    ngx_msec_t               frame_timeout;
    ngx_ws_main_t           *main;
    const ngx_ws_handler_t  *handler;
} ngx_ws_conf_t;


/*
 * The protocol on top of the WebSocket layer.  Callbacks run from the
 * connection's event handlers; they may send, close or abort, but the
 * connection itself is only freed after they return.
 */
struct ngx_ws_handler_s {
    const char              *name;

    /* the handshake is accepted: read what the protocol needs of the
     * request (its query, its Host) before the request is freed */
    ngx_int_t              (*init)(ngx_ws_conn_t *ws, ngx_http_request_t *r);

    /* the upgrade is done: say hello, arm timers */
    ngx_int_t              (*open)(ngx_ws_conn_t *ws);

    /* a complete text or binary message; data is valid until return */
    ngx_int_t              (*message)(ngx_ws_conn_t *ws, ngx_uint_t opcode,
                                      u_char *data, size_t len);

    /* the deadline set with ngx_ws_set_deadline() has passed */
    void                   (*timer)(ngx_ws_conn_t *ws);

    /* the worker is shutting down (nginx -s reload, quit) */
    void                   (*shutdown)(ngx_ws_conn_t *ws);

    /* the connection is over (the close handshake is done, or the
     * connection is being freed); ws->close_code and ws->peer_close_code
     * say why.  Called once. */
    void                   (*closed)(ngx_ws_conn_t *ws);

    /* the output asked for with ngx_ws_want_drained() has all been
     * written: produce more (long replies are made piece by piece so that
     * they never sit whole in memory) */
    void                   (*drained)(ngx_ws_conn_t *ws);

    /* close code for messages over the size limit: 1009, or the protocol's */
    ngx_uint_t               too_big_code;

    /* protocol state allocated with the connection, at ws->ctx */
    size_t                   ctx_size;
};


/*
 * One queued output frame: a head (WebSocket header, and maybe a short
 * per-connection prefix of the payload) stored inline, and a body that is
 * either copied right after the entry (ngx_ws_out_alloc()) or shared
 * (encode once, send many) and released through "free".
 */

#define NGX_WS_OUT_HEAD_SIZE  48

struct ngx_ws_out_s {
    ngx_ws_out_t            *next;
    u_char                  *pos;
    u_char                  *last;
    ngx_ws_out_free_pt       free;
    void                    *data;
    uint8_t                  head_pos;
    uint8_t                  head_last;
    u_char                   head[NGX_WS_OUT_HEAD_SIZE];
};


typedef enum {
    ngx_ws_state_open = 0,
    ngx_ws_state_closing,       /* close frame queued, flushing output */
    ngx_ws_state_lingering      /* close sent, waiting for the peer's FIN */
} ngx_ws_state_e;


/*
 * A message or a control frame that spans reads is assembled here; the
 * buffer exists only while one does, so idle connections have none.
 */
typedef struct {
    u_char                  *message;
    size_t                   message_len;
    size_t                   message_size;
    size_t                   control_len;
    u_char                   control[NGX_WS_MAX_CONTROL_PAYLOAD];
} ngx_ws_assembly_t;


/*
 * The per-connection state, kept small (it is what every idle socket
 * costs beside nginx's own connection slot); the protocol's state follows
 * it in the same allocation, see ngx_ws_ctx().
 */
struct ngx_ws_conn_s {
    ngx_connection_t        *connection;
    ngx_ws_conf_t           *conf;
    ngx_ws_assembly_t       *assembly;

    ngx_ws_out_t            *out;
    ngx_ws_out_t           **out_tail;
    size_t                   out_bytes;

    ngx_ws_parser_t          parser;

    ngx_msec_t               deadline;          /* protocol timer, 0: none */
    ngx_msec_t               partial_deadline;  /* a frame must finish */

    uint16_t                 close_code;        /* the code we sent */
    uint16_t                 peer_close_code;   /* the peer's, or 1006 */

    unsigned                 state:2;
    unsigned                 close_sent:1;
    unsigned                 close_received:1;
    unsigned                 close_initiated:1; /* ours came first */
    unsigned                 failed:1;
    unsigned                 shutdown:1;
    unsigned                 destroy:1;
    unsigned                 in_handler:1;
    unsigned                 taken_over:1;
    unsigned                 closed_called:1;
    unsigned                 drain_wanted:1;
};


#define ngx_ws_ctx(ws)                                                        \
    ((void *) ((u_char *) (ws) + ngx_align(sizeof(ngx_ws_conn_t),             \
                                           NGX_ALIGNMENT)))


#define NGX_WS_DEFAULT_SCRATCH_SIZE  16384


#define NGX_WS_CONF_CONTEXT                                                   \
    NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1

/*
 * The WebSocket limits as directives, for a module's commands[]:
 * "<prefix>_max_message_size" and the rest, stored in the ngx_ws_conf_t
 * member "ws" of the location configuration type "conf".
 */
#define NGX_WS_CONF_COMMANDS(prefix, conf)                                    \
    { ngx_string(prefix "_max_message_size"), NGX_WS_CONF_CONTEXT,            \
      ngx_conf_set_size_slot, NGX_HTTP_LOC_CONF_OFFSET,                       \
      offsetof(conf, ws.max_message_size), NULL },                            \
                                                                              \
    { ngx_string(prefix "_max_fragments"), NGX_WS_CONF_CONTEXT,               \
      ngx_conf_set_num_slot, NGX_HTTP_LOC_CONF_OFFSET,                        \
      offsetof(conf, ws.max_fragments), NULL },                               \
                                                                              \
    { ngx_string(prefix "_send_queue"), NGX_WS_CONF_CONTEXT,                  \
      ngx_conf_set_size_slot, NGX_HTTP_LOC_CONF_OFFSET,                       \
      offsetof(conf, ws.send_queue), NULL },                                  \
                                                                              \
    { ngx_string(prefix "_send_timeout"), NGX_WS_CONF_CONTEXT,                \
      ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET,                       \
      offsetof(conf, ws.send_timeout), NULL },                                \
                                                                              \
    { ngx_string(prefix "_frame_timeout"), NGX_WS_CONF_CONTEXT,               \
      ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET,                       \
      offsetof(conf, ws.frame_timeout), NULL }


/* ngx_ws_conf.c */
void ngx_ws_conf_init(ngx_ws_conf_t *wcf);
char *ngx_ws_conf_merge(ngx_conf_t *cf, ngx_ws_conf_t *conf,
    ngx_ws_conf_t *prev, ngx_ws_main_t *main, size_t max_message_size);
void ngx_ws_main_exit(ngx_ws_main_t *main);

/* ngx_ws_mem.c */
void *ngx_ws_alloc(ngx_ws_main_t *m, size_t size, ngx_log_t *log);
void ngx_ws_free(ngx_ws_main_t *m, void *p);
size_t ngx_ws_alloc_size(void *p);
void ngx_ws_mem_exit(ngx_ws_main_t *m);

/* ngx_ws_handshake.c */
ngx_int_t ngx_ws_handshake(ngx_http_request_t *r, ngx_str_t *accept,
    ngx_int_t *rc);
ngx_int_t ngx_ws_header_has_token(ngx_str_t *value, const char *token,
    size_t len);
ngx_int_t ngx_ws_accept_key(ngx_str_t *key, u_char *accept);

/* ngx_ws_conn.c */
ngx_int_t ngx_ws_upgrade(ngx_http_request_t *r, ngx_ws_conf_t *wcf);
ngx_int_t ngx_ws_send(ngx_ws_conn_t *ws, ngx_uint_t opcode, u_char *data,
    size_t len);
ngx_int_t ngx_ws_send_out(ngx_ws_conn_t *ws, ngx_ws_out_t *out,
    size_t bytes);
ngx_ws_out_t *ngx_ws_out_alloc(ngx_ws_conn_t *ws, size_t len);
void ngx_ws_close(ngx_ws_conn_t *ws, ngx_uint_t code, const char *reason);
void ngx_ws_abort(ngx_ws_conn_t *ws, const char *why);
void ngx_ws_set_deadline(ngx_ws_conn_t *ws, ngx_msec_t after);
void ngx_ws_post(ngx_ws_conn_t *ws);
void ngx_ws_want_drained(ngx_ws_conn_t *ws);
void ngx_ws_begin(ngx_ws_conn_t *ws);
void ngx_ws_end(ngx_ws_conn_t *ws);


#endif /* _NGX_WS_H_INCLUDED_ */
