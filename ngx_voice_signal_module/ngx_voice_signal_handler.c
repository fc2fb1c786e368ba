
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_voice_signal.h"


/*
 * "voice_signal": the Voice Gateway v8 endpoint.  This stage upgrades the
 * connection through the shared WebSocket core; the voice protocol
 * (Hello, Identify, Select Protocol, Session Description) and the SFU
 * control channel of sfu_ctl_proto.h are built on these callbacks.
 */


static ngx_int_t ngx_voice_signal_message(ngx_ws_conn_t *ws,
    ngx_uint_t opcode, u_char *data, size_t len);


const ngx_ws_handler_t  ngx_voice_signal_protocol = {
    "voice",
    NULL,                                  /* init */
    NULL,                                  /* open */
    ngx_voice_signal_message,              /* message */
    NULL,                                  /* timer */
    NULL,                                  /* shutdown */
    NULL,                                  /* closed */
    NULL,                                  /* drained */
    NGX_VOICE_SIGNAL_CLOSE_DECODE_ERROR,   /* too_big_code */
    0                                      /* ctx_size */
};


ngx_int_t
ngx_voice_signal_handler(ngx_http_request_t *r)
{
    ngx_voice_signal_loc_conf_t  *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_voice_signal_module);

    return ngx_ws_upgrade(r, &vlcf->ws);
}


static ngx_int_t
ngx_voice_signal_message(ngx_ws_conn_t *ws, ngx_uint_t opcode, u_char *data,
    size_t len)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                   "voice signal message: opcode %ui, %uz bytes",
                   opcode, len);

    return NGX_OK;
}
