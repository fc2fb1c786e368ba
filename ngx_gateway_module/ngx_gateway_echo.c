
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * "gateway_ws_echo": every text or binary message comes back as one
 * message of the same type.  It runs the shared WebSocket core with no
 * protocol on top, which is what a conformance suite (Autobahn's
 * fuzzingclient and ours in t/conformance) needs as its peer.
 */


static ngx_int_t ngx_gateway_echo_message(ngx_ws_conn_t *ws,
    ngx_uint_t opcode, u_char *data, size_t len);


const ngx_ws_handler_t  ngx_gateway_echo = {
    "echo",
    NULL,                                  /* init */
    NULL,                                  /* open */
    ngx_gateway_echo_message,              /* message */
    NULL,                                  /* timer */
    NULL,                                  /* shutdown */
    NULL,                                  /* closed */
    NULL,                                  /* drained */
    0,                                     /* too_big_code */
    0                                      /* ctx_size */
};


static ngx_int_t
ngx_gateway_echo_message(ngx_ws_conn_t *ws, ngx_uint_t opcode, u_char *data,
    size_t len)
{
    ngx_int_t  rc;

    rc = ngx_ws_send(ws, opcode, data, len);

    /* a full queue has closed the connection already */

    return (rc == NGX_ERROR && !ws->destroy) ? NGX_ERROR : NGX_OK;
}
