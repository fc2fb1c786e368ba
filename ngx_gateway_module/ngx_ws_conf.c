
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_ws.h"


#define NGX_WS_DEFAULT_MAX_FRAGMENTS   1024
#define NGX_WS_DEFAULT_SEND_QUEUE      (1024 * 1024)
#define NGX_WS_DEFAULT_SEND_TIMEOUT    60000
#define NGX_WS_DEFAULT_FRAME_TIMEOUT   30000


void
ngx_ws_conf_init(ngx_ws_conf_t *wcf)
{
    wcf->max_message_size = NGX_CONF_UNSET_SIZE;
    wcf->max_fragments = NGX_CONF_UNSET_UINT;
    wcf->send_queue = NGX_CONF_UNSET_SIZE;
    wcf->send_timeout = NGX_CONF_UNSET_MSEC;
    wcf->frame_timeout = NGX_CONF_UNSET_MSEC;
}


char *
ngx_ws_conf_merge(ngx_conf_t *cf, ngx_ws_conf_t *conf, ngx_ws_conf_t *prev,
    ngx_ws_main_t *main, size_t max_message_size)
{
    ngx_conf_merge_size_value(conf->max_message_size,
                              prev->max_message_size, max_message_size);
    ngx_conf_merge_uint_value(conf->max_fragments, prev->max_fragments,
                              NGX_WS_DEFAULT_MAX_FRAGMENTS);
    ngx_conf_merge_size_value(conf->send_queue, prev->send_queue,
                              NGX_WS_DEFAULT_SEND_QUEUE);
    ngx_conf_merge_msec_value(conf->send_timeout, prev->send_timeout,
                              NGX_WS_DEFAULT_SEND_TIMEOUT);
    ngx_conf_merge_msec_value(conf->frame_timeout, prev->frame_timeout,
                              NGX_WS_DEFAULT_FRAME_TIMEOUT);

    if (conf->max_message_size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the WebSocket message size limit must not be 0");
        return NGX_CONF_ERROR;
    }

    if (conf->max_fragments == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the WebSocket fragment limit must not be 0");
        return NGX_CONF_ERROR;
    }

    if (conf->send_queue < NGX_WS_MAX_CONTROL_PAYLOAD + 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the WebSocket send queue must hold at least "
                           "%uz bytes", (size_t) NGX_WS_MAX_CONTROL_PAYLOAD + 2);
        return NGX_CONF_ERROR;
    }

    conf->main = main;

    return NGX_CONF_OK;
}


/* the scratch buffer lives as long as the worker; free it on exit */

void
ngx_ws_main_exit(ngx_ws_main_t *main)
{
    if (main->scratch) {
        ngx_free(main->scratch);
        main->scratch = NULL;
    }

    ngx_ws_mem_exit(main);
}
