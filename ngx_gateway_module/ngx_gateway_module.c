
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/* Configuration only: directives, create/merge, and module glue. */


#define NGX_GATEWAY_DEFAULT_HEARTBEAT     41250
#define NGX_GATEWAY_DEFAULT_ZOMBIE        15       /* 1.5 intervals */
#define NGX_GATEWAY_DEFAULT_RATE_LIMIT    120
#define NGX_GATEWAY_DEFAULT_RATE_WINDOW   60000
#define NGX_GATEWAY_DEFAULT_RESUME        60000
#define NGX_GATEWAY_DEFAULT_DRAIN_WINDOW  5000
#define NGX_GATEWAY_DEFAULT_IDENTIFY_INTERVAL  5000
#define NGX_GATEWAY_DEFAULT_SESSION_STARTS     1000
#define NGX_GATEWAY_DEFAULT_RESUME_BUFFER 128
#define NGX_GATEWAY_DEFAULT_RESUME_BUFFER_SIZE  (1024 * 1024)
#define NGX_GATEWAY_LARGE_MIN             50
#define NGX_GATEWAY_LARGE_MAX             250

/* flags of the handlers a configuration uses, to check what it needs */
#define NGX_GATEWAY_USES_GATEWAY          0x01
#define NGX_GATEWAY_USES_ADMIN            0x02
#define NGX_GATEWAY_USES_REST             0x04


static void *ngx_gateway_create_main_conf(ngx_conf_t *cf);
static char *ngx_gateway_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_gateway_resume_buffer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_gateway_upgrade_limit_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void *ngx_gateway_create_loc_conf(ngx_conf_t *cf);
static char *ngx_gateway_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_gateway_init_process(ngx_cycle_t *cycle);
static void ngx_gateway_exit_process(ngx_cycle_t *cycle);
static char *ngx_gateway(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_gateway_ws_echo(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_gateway_health(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_gateway_admin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_gateway_rest(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_gateway_set_handler(ngx_conf_t *cf,
    ngx_http_handler_pt handler);
static char *ngx_gateway_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_gateway_zombie_factor(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_gateway_rate_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_gateway_large_threshold(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_gateway_intents(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/* shared/PROTOCOL.md 1.11: max_concurrency is 1, or 16 and up for big bots */
static ngx_conf_num_bounds_t  ngx_gateway_identify_concurrency_bounds = {
    ngx_conf_check_num_bounds, 1, 1024
};

static ngx_conf_num_bounds_t  ngx_gateway_session_start_bounds = {
    ngx_conf_check_num_bounds, 1, 1000000000
};


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

    { ngx_string("gateway_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_gateway_admin,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gateway_rest"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_gateway_rest,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gateway_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_gateway_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gateway_token_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_gateway_main_conf_t, token_secret),
      NULL },

    { ngx_string("gateway_token_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_gateway_secret_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_gateway_main_conf_t, token_secret),
      NULL },

    { ngx_string("gateway_admin_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_gateway_main_conf_t, admin_secret),
      NULL },

    { ngx_string("gateway_admin_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_gateway_secret_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_gateway_main_conf_t, admin_secret),
      NULL },

    { ngx_string("gateway_node_id"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_gateway_main_conf_t, node_id),
      NULL },

    { ngx_string("gateway_resume_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_gateway_main_conf_t, resume_timeout),
      NULL },

    { ngx_string("gateway_identify_concurrency"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_gateway_main_conf_t, identify_concurrency),
      &ngx_gateway_identify_concurrency_bounds },

    { ngx_string("gateway_identify_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_gateway_main_conf_t, identify_interval),
      NULL },

    { ngx_string("gateway_session_start_limit"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_gateway_main_conf_t, session_start_limit),
      &ngx_gateway_session_start_bounds },

    { ngx_string("gateway_resume_buffer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_gateway_resume_buffer,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gateway_heartbeat_interval"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_gateway_loc_conf_t, heartbeat_interval),
      NULL },

    { ngx_string("gateway_zombie_factor"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_gateway_zombie_factor,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gateway_upgrade_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_gateway_upgrade_limit_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gateway_drain_window"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_gateway_loc_conf_t, drain_window),
      NULL },

    { ngx_string("gateway_allowed_intents"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_gateway_intents,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_gateway_loc_conf_t, allowed_intents),
      NULL },

    { ngx_string("gateway_privileged_intents"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_gateway_intents,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_gateway_loc_conf_t, privileged_intents),
      NULL },

    { ngx_string("gateway_rate_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_gateway_rate_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gateway_large_threshold"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_gateway_large_threshold,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gateway_max_session_guilds"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_gateway_loc_conf_t, max_session_guilds),
      NULL },

    { ngx_string("gateway_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_gateway_loc_conf_t, public_url),
      NULL },

    NGX_WS_CONF_COMMANDS("gateway", ngx_gateway_loc_conf_t),

      ngx_null_command
};


static ngx_http_module_t  ngx_gateway_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_gateway_create_main_conf,          /* create main configuration */
    ngx_gateway_init_main_conf,            /* init main configuration */

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
    ngx_gateway_init_process,              /* init process */
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
     *     gmcf->ws = { NULL, 0 };
     *     gmcf->shm_zone = NULL;
     *     gmcf->token_secret = { 0, NULL };
     *     gmcf->admin_secret = { 0, NULL };
     *     gmcf->node_id = { 0, NULL };
     *     gmcf->uses = 0;
     */

    gmcf = ngx_pcalloc(cf->pool, sizeof(ngx_gateway_main_conf_t));
    if (gmcf == NULL) {
        return NULL;
    }

    gmcf->resume_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->identify_concurrency = NGX_CONF_UNSET_UINT;
    gmcf->identify_interval = NGX_CONF_UNSET_MSEC;
    gmcf->session_start_limit = NGX_CONF_UNSET_UINT;
    gmcf->resume_buffer = NGX_CONF_UNSET_UINT;
    gmcf->resume_buffer_size = NGX_CONF_UNSET_SIZE;

    return gmcf;
}


/*
 * "gateway_resume_buffer number [size];": each session's resume ring keeps
 * at most this many dispatches (8..4096, rounded up to a power of two)
 * and this many bytes of their bodies.
 */

static char *
ngx_gateway_resume_buffer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_gateway_main_conf_t *gmcf = conf;

    ssize_t     size;
    ngx_int_t   n;
    ngx_uint_t  count;
    ngx_str_t  *value;

    if (gmcf->resume_buffer != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n < NGX_GATEWAY_RING_MIN || n > NGX_GATEWAY_RING_LIMIT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of dispatches \"%V\": it must "
                           "be from %d to %d", &value[1],
                           NGX_GATEWAY_RING_MIN, NGX_GATEWAY_RING_LIMIT);
        return NGX_CONF_ERROR;
    }

    for (count = NGX_GATEWAY_RING_MIN; count < (ngx_uint_t) n; count *= 2) {
        /* void */
    }

    gmcf->resume_buffer = count;

    if (cf->args->nelts == 3) {
        size = ngx_parse_size(&value[2]);

        if (size < 4096 || size > (ssize_t) NGX_MAX_UINT32_VALUE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid size \"%V\": it must be from 4k "
                               "to 4g-1", &value[2]);
            return NGX_CONF_ERROR;
        }

        gmcf->resume_buffer_size = (size_t) size;
    }

    return NGX_CONF_OK;
}


/*
 * "gateway_upgrade_limit rate=Nr/s [burst=M];" or "gateway_upgrade_limit
 * off;": new WebSocket upgrades per client address (ngx_gateway_limit.c);
 * the burst defaults to one second's worth.
 */

static char *
ngx_gateway_upgrade_limit_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_gateway_loc_conf_t *glcf = conf;

    size_t      len;
    ngx_int_t   rate, burst;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (glcf->upgrade_rate != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        glcf->upgrade_rate = 0;
        glcf->upgrade_burst = 0;
        return NGX_CONF_OK;
    }

    rate = NGX_ERROR;
    burst = NGX_CONF_UNSET;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {
            len = value[i].len;

            if (len > 8
                && ngx_strncmp(value[i].data + len - 3, "r/s", 3) == 0)
            {
                rate = ngx_atoi(value[i].data + 5, len - 8);
            }

            if (rate <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid rate \"%V\": expected "
                                   "rate=Nr/s", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            burst = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (burst <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (rate == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rate=Nr/s\" is required");
        return NGX_CONF_ERROR;
    }

    glcf->upgrade_rate = (ngx_uint_t) rate;
    glcf->upgrade_burst = (burst == NGX_CONF_UNSET) ? (ngx_uint_t) rate
                                                    : (ngx_uint_t) burst;

    return NGX_CONF_OK;
}


/* what the handlers in use need, checked once the http{} block is read */

static char *
ngx_gateway_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_gateway_main_conf_t *gmcf = conf;

    ngx_conf_init_msec_value(gmcf->resume_timeout,
                             NGX_GATEWAY_DEFAULT_RESUME);
    ngx_conf_init_uint_value(gmcf->identify_concurrency, 1);
    ngx_conf_init_msec_value(gmcf->identify_interval,
                             NGX_GATEWAY_DEFAULT_IDENTIFY_INTERVAL);
    ngx_conf_init_uint_value(gmcf->session_start_limit,
                             NGX_GATEWAY_DEFAULT_SESSION_STARTS);
    ngx_conf_init_uint_value(gmcf->resume_buffer,
                             NGX_GATEWAY_DEFAULT_RESUME_BUFFER);
    ngx_conf_init_size_value(gmcf->resume_buffer_size,
                             NGX_GATEWAY_DEFAULT_RESUME_BUFFER_SIZE);

    if (gmcf->node_id.len == 0) {
        ngx_str_set(&gmcf->node_id, "1");
    }

    if (gmcf->uses == 0) {
        return NGX_CONF_OK;
    }

    if (gmcf->shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"gateway_zone\" is required by \"gateway\", "
                           "\"gateway_admin\" and \"gateway_rest\"");
        return NGX_CONF_ERROR;
    }

    if (gmcf->token_secret.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"gateway_token_secret\" or "
                           "\"gateway_token_secret_file\" is required by "
                           "\"gateway\", \"gateway_admin\" and "
                           "\"gateway_rest\"");
        return NGX_CONF_ERROR;
    }

    if ((gmcf->uses & NGX_GATEWAY_USES_ADMIN)
        && gmcf->admin_secret.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"gateway_admin_secret\" or "
                           "\"gateway_admin_secret_file\" is required by "
                           "\"gateway_admin\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_gateway_create_loc_conf(ngx_conf_t *cf)
{
    ngx_gateway_loc_conf_t  *glcf;

    /*
     * set by ngx_pcalloc():
     *
     *     glcf->public_url = { 0, NULL };
     *     glcf->location = { 0, NULL };
     */

    glcf = ngx_pcalloc(cf->pool, sizeof(ngx_gateway_loc_conf_t));
    if (glcf == NULL) {
        return NULL;
    }

    ngx_ws_conf_init(&glcf->ws);

    glcf->heartbeat_interval = NGX_CONF_UNSET_MSEC;
    glcf->zombie_factor = NGX_CONF_UNSET_UINT;
    glcf->drain_window = NGX_CONF_UNSET_MSEC;
    glcf->upgrade_rate = NGX_CONF_UNSET_UINT;
    glcf->upgrade_burst = NGX_CONF_UNSET_UINT;
    glcf->allowed_intents = NGX_CONF_UNSET_UINT;
    glcf->privileged_intents = NGX_CONF_UNSET_UINT;
    glcf->rate_limit = NGX_CONF_UNSET_UINT;
    glcf->rate_window = NGX_CONF_UNSET_MSEC;
    glcf->large_threshold_min = NGX_CONF_UNSET_UINT;
    glcf->large_threshold_max = NGX_CONF_UNSET_UINT;
    glcf->max_session_guilds = NGX_CONF_UNSET_UINT;

    return glcf;
}


static char *
ngx_gateway_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_gateway_loc_conf_t *prev = parent;
    ngx_gateway_loc_conf_t *conf = child;

    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ngx_http_conf_get_module_main_conf(cf, ngx_gateway_module);

    ngx_conf_merge_msec_value(conf->heartbeat_interval,
                              prev->heartbeat_interval,
                              NGX_GATEWAY_DEFAULT_HEARTBEAT);
    if (conf->upgrade_rate == NGX_CONF_UNSET_UINT) {
        conf->upgrade_rate = (prev->upgrade_rate == NGX_CONF_UNSET_UINT)
                             ? 0 : prev->upgrade_rate;
        conf->upgrade_burst = (prev->upgrade_burst == NGX_CONF_UNSET_UINT)
                              ? 0 : prev->upgrade_burst;
    }

    ngx_conf_merge_msec_value(conf->drain_window, prev->drain_window,
                              NGX_GATEWAY_DEFAULT_DRAIN_WINDOW);
    ngx_conf_merge_uint_value(conf->zombie_factor, prev->zombie_factor,
                              NGX_GATEWAY_DEFAULT_ZOMBIE);
    ngx_conf_merge_uint_value(conf->allowed_intents, prev->allowed_intents,
                              NGX_GATEWAY_INTENTS_ALL);
    ngx_conf_merge_uint_value(conf->privileged_intents,
                              prev->privileged_intents,
                              NGX_GATEWAY_INTENTS_PRIVILEGED);
    ngx_conf_merge_uint_value(conf->rate_limit, prev->rate_limit,
                              NGX_GATEWAY_DEFAULT_RATE_LIMIT);
    ngx_conf_merge_msec_value(conf->rate_window, prev->rate_window,
                              NGX_GATEWAY_DEFAULT_RATE_WINDOW);
    ngx_conf_merge_uint_value(conf->large_threshold_min,
                              prev->large_threshold_min,
                              NGX_GATEWAY_LARGE_MIN);
    ngx_conf_merge_uint_value(conf->large_threshold_max,
                              prev->large_threshold_max,
                              NGX_GATEWAY_LARGE_MAX);
    ngx_conf_merge_uint_value(conf->max_session_guilds,
                              prev->max_session_guilds,
                              NGX_GATEWAY_MAX_SESSION_GUILDS);
    ngx_conf_merge_str_value(conf->public_url, prev->public_url, "");

    if (conf->heartbeat_interval == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"gateway_heartbeat_interval\" must not be 0");
        return NGX_CONF_ERROR;
    }

    if (conf->max_session_guilds == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"gateway_max_session_guilds\" must not be 0");
        return NGX_CONF_ERROR;
    }

    if (conf->public_url.len
        && ngx_strncmp(conf->public_url.data, "ws://", 5) != 0
        && ngx_strncmp(conf->public_url.data, "wss://", 6) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"gateway_public_url\" must be a ws:// or "
                           "wss:// URL");
        return NGX_CONF_ERROR;
    }

    return ngx_ws_conf_merge(cf, &conf->ws, &prev->ws, &gmcf->ws,
                             NGX_GATEWAY_MAX_PAYLOAD);
}


static ngx_int_t
ngx_gateway_init_process(ngx_cycle_t *cycle)
{
    return ngx_gateway_ipc_init_process(cycle);
}


static void
ngx_gateway_exit_process(ngx_cycle_t *cycle)
{
    ngx_gateway_main_conf_t  *gmcf;

    ngx_gateway_ipc_exit_process(cycle);

    gmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_gateway_module);

    if (gmcf) {
        ngx_ws_main_exit(&gmcf->ws);
    }
}


/* "gateway", "gateway_ws_echo" and the API locations */

static char *
ngx_gateway(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_gateway_loc_conf_t *glcf = conf;

    char                      *rv;
    ngx_gateway_main_conf_t   *gmcf;
    ngx_http_core_loc_conf_t  *clcf;

    rv = ngx_gateway_set_handler(cf, ngx_gateway_upgrade_handler);

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    gmcf = ngx_http_conf_get_module_main_conf(cf, ngx_gateway_module);

    glcf->ws.handler = &ngx_gateway_protocol;
    glcf->location = clcf->name;
    gmcf->uses |= NGX_GATEWAY_USES_GATEWAY;

    return NGX_CONF_OK;
}


/* a WebSocket echo endpoint: for conformance tests and diagnostics */

static char *
ngx_gateway_ws_echo(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_gateway_loc_conf_t *glcf = conf;

    char  *rv;

    rv = ngx_gateway_set_handler(cf, ngx_gateway_upgrade_handler);

    if (rv == NGX_CONF_OK) {
        glcf->ws.handler = &ngx_gateway_echo;
    }

    return rv;
}


static char *
ngx_gateway_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_gateway_set_handler(cf, ngx_gateway_health_handler);
}


static char *
ngx_gateway_admin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ngx_http_conf_get_module_main_conf(cf, ngx_gateway_module);
    gmcf->uses |= NGX_GATEWAY_USES_ADMIN;

    return ngx_gateway_set_handler(cf, ngx_gateway_admin_handler);
}


static char *
ngx_gateway_rest(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ngx_http_conf_get_module_main_conf(cf, ngx_gateway_module);
    gmcf->uses |= NGX_GATEWAY_USES_REST;

    return ngx_gateway_set_handler(cf, ngx_gateway_rest_handler);
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


/*
 * "gateway_token_secret_file path;": the file's content, without trailing
 * white space (an editor's final newline is not part of the secret).
 */

static char *
ngx_gateway_secret_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    u_char           *buf;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t        *field, *value, name;
    ngx_file_info_t   fi;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &name);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 4096)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "secret file \"%V\" is unreadable or larger "
                           "than 4k", &name);
        (void) ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->pool, 4096);
    if (buf == NULL) {
        (void) ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, buf, 4096);

    (void) ngx_close_file(fd);

    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'
                     || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
    {
        n--;
    }

    if (n <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "secret file \"%V\" is empty", &name);
        return NGX_CONF_ERROR;
    }

    field->data = buf;
    field->len = n;

    return NGX_CONF_OK;
}


/* "gateway_zombie_factor 1.5;": heartbeat intervals before 4009 */

static char *
ngx_gateway_zombie_factor(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_gateway_loc_conf_t *glcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (glcf->zombie_factor != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atofp(value[1].data, value[1].len, 1);

    if (n == NGX_ERROR || n < 11 || n > 100) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zombie factor \"%V\", "
                           "expected 1.1 to 10.0", &value[1]);
        return NGX_CONF_ERROR;
    }

    glcf->zombie_factor = (ngx_uint_t) n;

    return NGX_CONF_OK;
}


/* "gateway_rate_limit 120 60s;": client payloads per window, then 4008 */

static char *
ngx_gateway_rate_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_gateway_loc_conf_t *glcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;
    ngx_msec_t  window;

    if (glcf->rate_limit != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n < 1 || n > 65535) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rate limit \"%V\", expected 1 to 65535 "
                           "payloads", &value[1]);
        return NGX_CONF_ERROR;
    }

    window = ngx_parse_time(&value[2], 0);

    if (window == (ngx_msec_t) NGX_ERROR || window == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rate limit window \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    glcf->rate_limit = (ngx_uint_t) n;
    glcf->rate_window = window;

    return NGX_CONF_OK;
}


/* "gateway_large_threshold 50 250;": the range Identify may ask for */

static char *
ngx_gateway_large_threshold(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_gateway_loc_conf_t *glcf = conf;

    ngx_int_t   min, max;
    ngx_str_t  *value;

    if (glcf->large_threshold_min != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    min = ngx_atoi(value[1].data, value[1].len);
    max = ngx_atoi(value[2].data, value[2].len);

    if (min == NGX_ERROR || max == NGX_ERROR || min < 1 || max < min
        || max > 65535)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid large_threshold range \"%V %V\"",
                           &value[1], &value[2]);
        return NGX_CONF_ERROR;
    }

    glcf->large_threshold_min = (ngx_uint_t) min;
    glcf->large_threshold_max = (ngx_uint_t) max;

    return NGX_CONF_OK;
}


/* an intents mask: a number, or "all", within the documented bits */

static char *
ngx_gateway_intents(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t  *field;

    field = (ngx_uint_t *) (p + cmd->offset);

    if (*field != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "all", 3) == 0) {
        *field = NGX_GATEWAY_INTENTS_ALL;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || (n & ~NGX_GATEWAY_INTENTS_ALL)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid intents \"%V\": a subset of %d is "
                           "expected", &value[1], NGX_GATEWAY_INTENTS_ALL);
        return NGX_CONF_ERROR;
    }

    *field = (ngx_uint_t) n;

    return NGX_CONF_OK;
}
