
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_VOICE_SIGNAL_H_INCLUDED_
#define _NGX_VOICE_SIGNAL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_ws.h"
#include "sfu_ctl_proto.h"


/* Voice Gateway payloads are small JSON objects, as on the main gateway */
#define NGX_VOICE_SIGNAL_MAX_PAYLOAD       4096

/* Voice close code 4002: failed to decode payload */
#define NGX_VOICE_SIGNAL_CLOSE_DECODE_ERROR  4002


typedef struct {
    ngx_ws_main_t        ws;
} ngx_voice_signal_main_conf_t;


typedef struct {
    ngx_ws_conf_t        ws;
} ngx_voice_signal_loc_conf_t;


extern ngx_module_t  ngx_voice_signal_module;


/* ngx_voice_signal_handler.c */
ngx_int_t ngx_voice_signal_handler(ngx_http_request_t *r);
extern const ngx_ws_handler_t  ngx_voice_signal_protocol;


#endif /* _NGX_VOICE_SIGNAL_H_INCLUDED_ */
