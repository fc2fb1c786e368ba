
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * "gateway": the Discord Gateway v10 endpoint.  This stage upgrades the
 * connection through the shared WebSocket core, so every RFC 6455 rule
 * holds here; the gateway protocol state machine (Hello, Identify,
 * heartbeats) is built on these callbacks.
 */


static ngx_int_t ngx_gateway_message(ngx_ws_conn_t *ws, ngx_uint_t opcode,
    u_char *data, size_t len);


const ngx_ws_handler_t  ngx_gateway_protocol = {
    "gateway",
    NULL,                                  /* open */
    ngx_gateway_message,                   /* message */
    NULL,                                  /* timer */
    NULL,                                  /* shutdown */
    NULL,                                  /* closed */
    NGX_GATEWAY_CLOSE_DECODE_ERROR,        /* too_big_code */
    0                                      /* ctx_size */
};


/* the content handler of "gateway" and "gateway_ws_echo" */

ngx_int_t
ngx_gateway_upgrade_handler(ngx_http_request_t *r)
{
    ngx_gateway_loc_conf_t  *glcf;

    glcf = ngx_http_get_module_loc_conf(r, ngx_gateway_module);

    return ngx_ws_upgrade(r, &glcf->ws);
}


static ngx_int_t
ngx_gateway_message(ngx_ws_conn_t *ws, ngx_uint_t opcode, u_char *data,
    size_t len)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                   "gateway message: opcode %ui, %uz bytes", opcode, len);

    return NGX_OK;
}
