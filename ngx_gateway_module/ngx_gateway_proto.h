
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_PROTO_H_INCLUDED_
#define _NGX_GATEWAY_PROTO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_gateway.h"


/* the connection's protocol phase (shared/PROTOCOL.md 1.4) */
typedef enum {
    ngx_gateway_phase_hello = 0,     /* Hello sent: Identify or Resume next */
    ngx_gateway_phase_ready          /* identified (or resumed) */
} ngx_gateway_phase_e;

#define NGX_GATEWAY_PHASE_HELLO   (1 << ngx_gateway_phase_hello)
#define NGX_GATEWAY_PHASE_READY   (1 << ngx_gateway_phase_ready)
#define NGX_GATEWAY_PHASE_ANY     (NGX_GATEWAY_PHASE_HELLO                \
                                   |NGX_GATEWAY_PHASE_READY)


/*
 * Per connection, in process memory right after the ngx_ws_conn_t: kept
 * small, it is what an idle identified session costs in the worker.
 */
struct ngx_gateway_conn_s {
    ngx_gateway_session_t     *session;
    uint64_t                   written;        /* the last seq queued */
    ngx_msec_t                 heartbeat_at;   /* the last heartbeat */
    ngx_msec_t                 window_start;   /* of the rate limit */
    u_char                    *resume_url;     /* until READY is sent */
    ngx_gateway_chunking_t    *chunking;       /* op 8 answers under way */
    uint16_t                   resume_url_len;
    uint16_t                   payloads;       /* in this rate window */
    uint16_t                   reject;         /* close after Hello */
    uint8_t                    phase;
    uint8_t                    heartbeat_asked;
    uint8_t                    draining;       /* op 7 at the deadline */
    uint8_t                    identify_denied; /* op 9 at the deadline */
};


#define ngx_gateway_loc_conf_of(ws)                                           \
    ((ngx_gateway_loc_conf_t *) ((u_char *) (ws)->conf                        \
                                 - offsetof(ngx_gateway_loc_conf_t, ws)))


extern const ngx_ws_handler_t  ngx_gateway_protocol;


void ngx_gateway_close(ngx_ws_conn_t *ws, ngx_uint_t code);
void ngx_gateway_fail(ngx_ws_conn_t *ws, ngx_uint_t code, const char *fmt,
    ...);
void ngx_gateway_invalidate(ngx_ws_conn_t *ws, const char *why);
ngx_int_t ngx_gateway_send_op(ngx_ws_conn_t *ws, ngx_uint_t op,
    const char *d);
ngx_int_t ngx_gateway_presence_parse(json_t *p, ngx_uint_t *status,
    json_t **activities, const char **error);

/* ngx_gateway_identify.c */
ngx_int_t ngx_gateway_op_identify(ngx_ws_conn_t *ws, json_t *d);
ngx_uint_t ngx_gateway_session_starts_left_locked(ngx_gateway_user_t *user,
    ngx_uint_t limit, ngx_msec_t *reset_after);

/* the window of the session start limit (1.6) */
#define NGX_GATEWAY_START_WINDOW  86400

/* ngx_gateway_resume.c */
ngx_int_t ngx_gateway_op_resume(ngx_ws_conn_t *ws, json_t *d);
void ngx_gateway_evictions(ngx_gateway_main_conf_t *gmcf);

/* ngx_gateway_members.c */
ngx_int_t ngx_gateway_op_request_members(ngx_ws_conn_t *ws, json_t *d);
void ngx_gateway_drained(ngx_ws_conn_t *ws);
void ngx_gateway_members_free(ngx_ws_conn_t *ws);


#endif /* _NGX_GATEWAY_PROTO_H_INCLUDED_ */
