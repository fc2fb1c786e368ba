
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_H_INCLUDED_
#define _NGX_GATEWAY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_ws.h"


typedef struct ngx_gateway_sh_s         ngx_gateway_sh_t;
typedef struct ngx_gateway_zone_s       ngx_gateway_zone_t;
typedef struct ngx_gateway_user_s       ngx_gateway_user_t;
typedef struct ngx_gateway_guild_s      ngx_gateway_guild_t;
typedef struct ngx_gateway_channel_s    ngx_gateway_channel_t;
typedef struct ngx_gateway_role_s       ngx_gateway_role_t;
typedef struct ngx_gateway_member_s     ngx_gateway_member_t;
typedef struct ngx_gateway_session_s    ngx_gateway_session_t;
typedef struct ngx_gateway_blob_s       ngx_gateway_blob_t;
typedef struct ngx_gateway_conn_s       ngx_gateway_conn_t;
typedef struct ngx_gateway_chunking_s   ngx_gateway_chunking_t;


/* Discord Gateway v10 (shared/PROTOCOL.md Part 1) */

#define NGX_GATEWAY_VERSION                 10

/* 1.6: client payloads over 4096 bytes close with 4002 */
#define NGX_GATEWAY_MAX_PAYLOAD             4096

/* 1.11: at most 2500 guilds per session (shard) */
#define NGX_GATEWAY_MAX_SESSION_GUILDS      2500

/* 1.10: every documented intent bit, and the privileged ones */
#define NGX_GATEWAY_INTENTS_ALL             53608447
#define NGX_GATEWAY_INTENTS_PRIVILEGED      33026

#define NGX_GATEWAY_INTENT_GUILDS           (1 << 0)
#define NGX_GATEWAY_INTENT_GUILD_MEMBERS    (1 << 1)
#define NGX_GATEWAY_INTENT_GUILD_PRESENCES  (1 << 8)
#define NGX_GATEWAY_INTENT_GUILD_MESSAGES   (1 << 9)
#define NGX_GATEWAY_INTENT_GUILD_MESSAGE_TYPING  (1 << 11)
#define NGX_GATEWAY_INTENT_MESSAGE_CONTENT  (1 << 15)

/* 1.15: above this many members GUILD_CREATE lists only a few */
#define NGX_GATEWAY_HUGE_GUILD              75000

/* 1.3 opcodes */
#define NGX_GATEWAY_OP_DISPATCH             0
#define NGX_GATEWAY_OP_HEARTBEAT            1
#define NGX_GATEWAY_OP_IDENTIFY             2
#define NGX_GATEWAY_OP_PRESENCE_UPDATE      3
#define NGX_GATEWAY_OP_VOICE_STATE_UPDATE   4
#define NGX_GATEWAY_OP_RESUME               6
#define NGX_GATEWAY_OP_RECONNECT            7
#define NGX_GATEWAY_OP_REQUEST_MEMBERS      8
#define NGX_GATEWAY_OP_INVALID_SESSION      9
#define NGX_GATEWAY_OP_HELLO                10
#define NGX_GATEWAY_OP_HEARTBEAT_ACK        11
#define NGX_GATEWAY_OP_MAX                  11

/* 1.9 close codes */
#define NGX_GATEWAY_CLOSE_UNKNOWN_ERROR     4000
#define NGX_GATEWAY_CLOSE_UNKNOWN_OPCODE    4001
#define NGX_GATEWAY_CLOSE_DECODE_ERROR      4002
#define NGX_GATEWAY_CLOSE_NOT_AUTHENTICATED 4003
#define NGX_GATEWAY_CLOSE_AUTH_FAILED       4004
#define NGX_GATEWAY_CLOSE_ALREADY_AUTHED    4005
#define NGX_GATEWAY_CLOSE_INVALID_SEQ       4007
#define NGX_GATEWAY_CLOSE_RATE_LIMITED      4008
#define NGX_GATEWAY_CLOSE_SESSION_TIMEOUT   4009
#define NGX_GATEWAY_CLOSE_INVALID_SHARD     4010
#define NGX_GATEWAY_CLOSE_SHARDING_REQUIRED 4011
#define NGX_GATEWAY_CLOSE_INVALID_VERSION   4012
#define NGX_GATEWAY_CLOSE_INVALID_INTENTS   4013
#define NGX_GATEWAY_CLOSE_DISALLOWED_INTENTS 4014


/* presence status, in the order of their names in ngx_gateway_status[] */
typedef enum {
    ngx_gateway_offline = 0,
    ngx_gateway_online,
    ngx_gateway_idle,
    ngx_gateway_dnd,
    ngx_gateway_invisible
} ngx_gateway_status_e;


typedef struct {
    ngx_ws_main_t              ws;

    ngx_shm_zone_t            *shm_zone;
    ngx_str_t                  token_secret;
    ngx_str_t                  admin_secret;
    ngx_str_t                  node_id;

    ngx_msec_t                 resume_timeout;
    ngx_uint_t                 identify_concurrency; /* max_concurrency */
    ngx_msec_t                 identify_interval;
    ngx_uint_t                 session_start_limit;  /* per 24 hours */
    ngx_uint_t                 resume_buffer;        /* dispatches */
    size_t                     resume_buffer_size;   /* bytes */
    ngx_uint_t                 uses;             /* handlers configured */

    /* the per-worker machinery, set up in init_process */
    ngx_connection_t          *doorbell;
    ngx_event_t                drain;
    ngx_event_t                backstop;
    ngx_event_t                sweep;
    ngx_uint_t                 slot;
    uint32_t                   generation;
} ngx_gateway_main_conf_t;


typedef struct {
    ngx_ws_conf_t              ws;

    ngx_msec_t                 heartbeat_interval;
    ngx_uint_t                 zombie_factor;        /* in tenths */
    ngx_msec_t                 drain_window;
    ngx_uint_t                 upgrade_rate;         /* per s; 0: off */
    ngx_uint_t                 upgrade_burst;
    ngx_uint_t                 allowed_intents;
    ngx_uint_t                 privileged_intents;
    ngx_uint_t                 rate_limit;
    ngx_msec_t                 rate_window;
    ngx_uint_t                 large_threshold_min;
    ngx_uint_t                 large_threshold_max;
    ngx_uint_t                 max_session_guilds;
    ngx_str_t                  public_url;
    ngx_str_t                  location;             /* the gateway's path */
} ngx_gateway_loc_conf_t;


extern ngx_module_t  ngx_gateway_module;


#include "ngx_gateway_zone.h"
#include "ngx_gateway_json.h"
#include "ngx_gateway_token.h"
#include "ngx_gateway_directory.h"
#include "ngx_gateway_session.h"
#include "ngx_gateway_encode.h"
#include "ngx_gateway_ipc.h"
#include "ngx_gateway_fanout.h"
#include "ngx_gateway_presence.h"
#include "ngx_gateway_proto.h"
#include "ngx_gateway_http.h"


/* ngx_gateway_limit.c */
ngx_int_t ngx_gateway_upgrade_limit(ngx_http_request_t *r);
void ngx_gateway_limit_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);

/* ngx_gateway_handler.c */
ngx_int_t ngx_gateway_upgrade_handler(ngx_http_request_t *r);

/* ngx_gateway_echo.c */
extern const ngx_ws_handler_t  ngx_gateway_echo;

/* ngx_gateway_health.c */
ngx_int_t ngx_gateway_health_handler(ngx_http_request_t *r);

/* ngx_gateway_admin.c */
ngx_int_t ngx_gateway_admin_handler(ngx_http_request_t *r);

/* ngx_gateway_rest.c */
ngx_int_t ngx_gateway_rest_handler(ngx_http_request_t *r);

/* ngx_gateway_rest_channels.c */
ngx_int_t ngx_gateway_rest_message_create(ngx_http_request_t *r,
    ngx_str_t *channel_id, ngx_str_t *body);
ngx_int_t ngx_gateway_rest_typing(ngx_http_request_t *r,
    ngx_str_t *channel_id);


#endif /* _NGX_GATEWAY_H_INCLUDED_ */
