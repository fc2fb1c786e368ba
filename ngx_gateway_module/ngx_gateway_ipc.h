
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_IPC_H_INCLUDED_
#define _NGX_GATEWAY_IPC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_gateway.h"


/*
 * Between workers only a payload-free doorbell passes: a datagram to the
 * owner's abstract unix socket saying "your dirty queue has work".  The
 * zone is the truth (the rings), so a lost or duplicated doorbell costs
 * nothing; a backstop timer drains the queue anyway (DESIGN 3).
 */

/* how often a worker drains its queue without being rung */
#define NGX_GATEWAY_BACKSTOP_INTERVAL   200

/* how often detached sessions are expired and dead workers looked for */
#define NGX_GATEWAY_SWEEP_INTERVAL      1000

/* sessions expired per sweep at most, so a sweep stays short */
#define NGX_GATEWAY_SWEEP_MAX           4096


ngx_int_t ngx_gateway_ipc_init_process(ngx_cycle_t *cycle);
void ngx_gateway_ipc_exit_process(ngx_cycle_t *cycle);
void ngx_gateway_doorbells_add_locked(ngx_gateway_doorbells_t *d,
    ngx_gateway_session_t *s);
void ngx_gateway_doorbells_ring(ngx_gateway_doorbells_t *d);
ngx_gateway_main_conf_t *ngx_gateway_main_conf(void);
ngx_uint_t ngx_gateway_session_mine(ngx_gateway_session_t *s);
ngx_uint_t ngx_gateway_session_is(ngx_gateway_session_t *s,
    ngx_connection_t *c);

/* ngx_gateway_deliver.c */
void ngx_gateway_deliver_queue(ngx_gateway_main_conf_t *gmcf);
void ngx_gateway_release_flush(ngx_gateway_zone_t *zone);
ngx_int_t ngx_gateway_deliver_session(ngx_ws_conn_t *ws);
ngx_int_t ngx_gateway_collect_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_conn_t *ctx,
    ngx_gateway_blob_t **blobs, ngx_uint_t *n);
ngx_int_t ngx_gateway_write_blobs(ngx_ws_conn_t *ws,
    ngx_gateway_zone_t *zone, ngx_gateway_blob_t **blobs, ngx_uint_t n);
ngx_int_t ngx_gateway_send_dispatch(ngx_ws_conn_t *ws, uint64_t seq,
    u_char *body, size_t len);


#endif /* _NGX_GATEWAY_IPC_H_INCLUDED_ */
