
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/* Configuration only: directives, create/merge, and module glue. */


static void *ngx_gateway_create_main_conf(ngx_conf_t *cf);
static void ngx_gateway_exit_process(ngx_cycle_t *cycle);
static void *ngx_gateway_create_loc_conf(ngx_conf_t *cf);
static char *ngx_gateway_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_gateway(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_gateway_ws_echo(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_gateway_health(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_gateway_set_handler(ngx_conf_t *cf,
    ngx_http_handler_pt handler);
static char *ngx_gateway_set_protocol(ngx_conf_t *cf,
    ngx_gateway_loc_conf_t *glcf, const ngx_ws_handler_t *protocol);


static ngx_command_t  ngx_gateway_commands[] = {

    { ngx_string("gateway"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_gateway,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gateway_ws_echo"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_gateway_ws_echo,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gateway_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_gateway_health,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    NGX_WS_CONF_COMMANDS("gateway", ngx_gateway_loc_conf_t),

      ngx_null_command
};


static ngx_http_module_t  ngx_gateway_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_gateway_create_main_conf,          /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_gateway_create_loc_conf,           /* create location configuration */
    ngx_gateway_merge_loc_conf             /* merge location configuration */
};


ngx_module_t  ngx_gateway_module = {
    NGX_MODULE_V1,
    &ngx_gateway_module_ctx,               /* module context */
    ngx_gateway_commands,                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_gateway_exit_process,              /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_gateway_create_main_conf(ngx_conf_t *cf)
{
    ngx_gateway_main_conf_t  *gmcf;

    /*
     * set by ngx_pcalloc():
     *
     *     gmcf->ws.scratch = NULL;
     *     gmcf->ws.scratch_size = 0;
     */

    gmcf = ngx_pcalloc(cf->pool, sizeof(ngx_gateway_main_conf_t));
    if (gmcf == NULL) {
        return NULL;
    }

    return gmcf;
}


static void *
ngx_gateway_create_loc_conf(ngx_conf_t *cf)
{
    ngx_gateway_loc_conf_t  *glcf;

    glcf = ngx_pcalloc(cf->pool, sizeof(ngx_gateway_loc_conf_t));
    if (glcf == NULL) {
        return NULL;
    }

    ngx_ws_conf_init(&glcf->ws);

    return glcf;
}


static char *
ngx_gateway_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_gateway_loc_conf_t *prev = parent;
    ngx_gateway_loc_conf_t *conf = child;

    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ngx_http_conf_get_module_main_conf(cf, ngx_gateway_module);

    return ngx_ws_conf_merge(cf, &conf->ws, &prev->ws, &gmcf->ws,
                             NGX_GATEWAY_MAX_PAYLOAD);
}


static char *
ngx_gateway(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_gateway_set_protocol(cf, conf, &ngx_gateway_protocol);
}


/* a WebSocket echo endpoint: for conformance tests and diagnostics */

static char *
ngx_gateway_ws_echo(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_gateway_set_protocol(cf, conf, &ngx_gateway_echo);
}


static char *
ngx_gateway_set_protocol(ngx_conf_t *cf, ngx_gateway_loc_conf_t *glcf,
    const ngx_ws_handler_t *protocol)
{
    char  *rv;

    rv = ngx_gateway_set_handler(cf, ngx_gateway_upgrade_handler);

    if (rv == NGX_CONF_OK) {
        glcf->ws.handler = protocol;
    }

    return rv;
}


static char *
ngx_gateway_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_gateway_set_handler(cf, ngx_gateway_health_handler);
}


static char *
ngx_gateway_set_handler(ngx_conf_t *cf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate: the location already has a content handler";
    }

    clcf->handler = handler;

    return NGX_CONF_OK;
}


static void
ngx_gateway_exit_process(ngx_cycle_t *cycle)
{
    ngx_gateway_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_gateway_module);

    if (mcf) {
        ngx_ws_main_exit(&mcf->ws);
    }
}
