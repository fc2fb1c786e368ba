
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_H_INCLUDED_
#define _NGX_GATEWAY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_ws.h"


/* Discord Gateway v10: client payloads over 4096 bytes close with 4002 */
#define NGX_GATEWAY_MAX_PAYLOAD            4096

#define NGX_GATEWAY_CLOSE_DECODE_ERROR     4002


typedef struct {
    ngx_ws_main_t        ws;
} ngx_gateway_main_conf_t;


typedef struct {
    ngx_ws_conf_t        ws;
} ngx_gateway_loc_conf_t;


extern ngx_module_t  ngx_gateway_module;


/* ngx_gateway_handler.c */
ngx_int_t ngx_gateway_upgrade_handler(ngx_http_request_t *r);
extern const ngx_ws_handler_t  ngx_gateway_protocol;

/* ngx_gateway_echo.c */
extern const ngx_ws_handler_t  ngx_gateway_echo;

/* ngx_gateway_health.c */
ngx_int_t ngx_gateway_health_handler(ngx_http_request_t *r);


#endif /* _NGX_GATEWAY_H_INCLUDED_ */
