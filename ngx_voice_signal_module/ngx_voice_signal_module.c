
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_voice_signal.h"


/* Configuration only: directives, create/merge, and module glue. */


static void *ngx_voice_signal_create_main_conf(ngx_conf_t *cf);
static void ngx_voice_signal_exit_process(ngx_cycle_t *cycle);
static void *ngx_voice_signal_create_loc_conf(ngx_conf_t *cf);
static char *ngx_voice_signal_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_voice_signal(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_voice_signal_commands[] = {

    { ngx_string("voice_signal"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_voice_signal,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    NGX_WS_CONF_COMMANDS("voice_signal", ngx_voice_signal_loc_conf_t),

      ngx_null_command
};


static ngx_http_module_t  ngx_voice_signal_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_voice_signal_create_main_conf,     /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_voice_signal_create_loc_conf,      /* create location configuration */
    ngx_voice_signal_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_voice_signal_module = {
    NGX_MODULE_V1,
    &ngx_voice_signal_module_ctx,          /* module context */
    ngx_voice_signal_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_voice_signal_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_voice_signal_create_main_conf(ngx_conf_t *cf)
{
    ngx_voice_signal_main_conf_t  *vmcf;

    vmcf = ngx_pcalloc(cf->pool, sizeof(ngx_voice_signal_main_conf_t));
    if (vmcf == NULL) {
        return NULL;
    }

    return vmcf;
}


static void *
ngx_voice_signal_create_loc_conf(ngx_conf_t *cf)
{
    ngx_voice_signal_loc_conf_t  *vlcf;

    vlcf = ngx_pcalloc(cf->pool, sizeof(ngx_voice_signal_loc_conf_t));
    if (vlcf == NULL) {
        return NULL;
    }

    ngx_ws_conf_init(&vlcf->ws);

    return vlcf;
}


static char *
ngx_voice_signal_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_voice_signal_loc_conf_t *prev = parent;
    ngx_voice_signal_loc_conf_t *conf = child;

    ngx_voice_signal_main_conf_t  *vmcf;

    vmcf = ngx_http_conf_get_module_main_conf(cf, ngx_voice_signal_module);

    return ngx_ws_conf_merge(cf, &conf->ws, &prev->ws, &vmcf->ws,
                             NGX_VOICE_SIGNAL_MAX_PAYLOAD);
}


static char *
ngx_voice_signal(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_voice_signal_loc_conf_t *vlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate: the location already has a content handler";
    }

    clcf->handler = ngx_voice_signal_handler;
    vlcf->ws.handler = &ngx_voice_signal_protocol;

    return NGX_CONF_OK;
}


static void
ngx_voice_signal_exit_process(ngx_cycle_t *cycle)
{
    ngx_voice_signal_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_voice_signal_module);

    if (mcf) {
        ngx_ws_main_exit(&mcf->ws);
    }
}
