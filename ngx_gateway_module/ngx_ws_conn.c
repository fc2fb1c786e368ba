
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_ws.h"


/*
 * An upgraded connection belongs to the WebSocket layer alone: once the
 * 101 response is out, the HTTP request and its pool are freed (as nginx
 * does for an idle keep-alive connection), and the connection keeps its
 * small pool and one ngx_ws_conn_t with the protocol's state.  Reads go
 * through one per-process scratch buffer, so an idle connection owns no
 * read buffer; a message that spans reads is assembled in a buffer that
 * lives only as long as the message.
 */


/* reads per event before yielding to other connections */
#define NGX_WS_READ_ROUNDS        16

/* rounds of drained() output per event before yielding */
#define NGX_WS_DRAINED_ROUNDS     4

/* iovecs per writev(); nginx's own preallocation */
#define NGX_WS_FLUSH_BUFS         NGX_IOVS_PREALLOCATE

/*
 * After our close frame is out and the write side is shut, how long to
 * wait for the peer to close its side (RFC 6455 7.1.1: the server closes
 * the TCP connection first, then waits briefly for the client to do so).
 */
#define NGX_WS_LINGER_TIMEOUT     3000

#define NGX_WS_MIN_MESSAGE_BUFFER 4096


static void ngx_ws_upgrade_cleanup(void *data);
static ngx_ws_conn_t *ngx_ws_upgrade_lookup(ngx_http_request_t *r);
static void ngx_ws_takeover_handler(ngx_http_request_t *r);
static ngx_int_t ngx_ws_takeover_response(ngx_ws_conn_t *ws,
    ngx_http_request_t *r);
static void ngx_ws_free_header_buffers(ngx_connection_t *c,
    ngx_http_connection_t *hc);
static void ngx_ws_read_handler(ngx_event_t *rev);
static void ngx_ws_write_handler(ngx_event_t *wev);
static void ngx_ws_read(ngx_ws_conn_t *ws);
static void ngx_ws_consume(ngx_ws_conn_t *ws, u_char *pos, u_char *last);
static void ngx_ws_data_chunk(ngx_ws_conn_t *ws, ngx_ws_chunk_t *ch);
static ngx_int_t ngx_ws_message_append(ngx_ws_conn_t *ws, u_char *data,
    size_t len);
static void ngx_ws_control_chunk(ngx_ws_conn_t *ws, ngx_ws_chunk_t *ch);
static ngx_ws_assembly_t *ngx_ws_assembly(ngx_ws_conn_t *ws);
static void ngx_ws_message_free(ngx_ws_conn_t *ws);
static void ngx_ws_assembly_release(ngx_ws_conn_t *ws);
static void ngx_ws_control(ngx_ws_conn_t *ws, ngx_uint_t opcode,
    u_char *data, size_t len);
static void ngx_ws_deliver(ngx_ws_conn_t *ws, ngx_uint_t opcode,
    u_char *data, size_t len);
static void ngx_ws_fail(ngx_ws_conn_t *ws, ngx_uint_t code,
    const char *reason);
static void ngx_ws_shutdown(ngx_ws_conn_t *ws);
static void ngx_ws_timeout(ngx_ws_conn_t *ws);
static ngx_int_t ngx_ws_queue(ngx_ws_conn_t *ws, ngx_ws_out_t *out,
    size_t bytes, ngx_uint_t control);
static ngx_ws_out_t *ngx_ws_out_new(ngx_ws_conn_t *ws, size_t len);
static void ngx_ws_out_free(ngx_ws_out_t *out);
static ngx_int_t ngx_ws_flush(ngx_ws_conn_t *ws);
static void ngx_ws_out_advance(ngx_ws_conn_t *ws, ngx_buf_t *bufs,
    u_char **starts, ngx_uint_t n);
static void ngx_ws_linger(ngx_ws_conn_t *ws);
static void ngx_ws_arm_timer(ngx_ws_conn_t *ws);
static void ngx_ws_finalize(ngx_ws_conn_t *ws);
static void ngx_ws_destroy(ngx_ws_conn_t *ws);
static void ngx_ws_closed(ngx_ws_conn_t *ws);
static u_char *ngx_ws_scratch(ngx_ws_conn_t *ws, size_t *size);


/*
 * The content handler's part: check the handshake, send the 101 and
 * schedule the takeover for when the content phase has unwound.
 */

ngx_int_t
ngx_ws_upgrade(ngx_http_request_t *r, ngx_ws_conf_t *wcf)
{
    size_t               size;
    ngx_int_t            rc;
    ngx_str_t            accept;
    ngx_ws_conn_t       *ws;
    ngx_table_elt_t     *h;
    ngx_connection_t    *c;
    ngx_pool_cleanup_t  *cln;

    if (ngx_ws_handshake(r, &accept, &rc) != NGX_OK) {
        return rc;
    }

    c = r->connection;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * One exact-size allocation for the connection state and the
     * protocol's: malloc() adds 16 bytes to it, where the connection's
     * pool, whose first block is mostly used by then, would add a block.
     */

    size = ngx_align(sizeof(ngx_ws_conn_t), NGX_ALIGNMENT)
           + wcf->handler->ctx_size;

    ws = ngx_calloc(size, c->log);
    if (ws == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ws->connection = c;
    ws->conf = wcf;
    ws->out_tail = &ws->out;

    ngx_ws_parser_init(&ws->parser, wcf->max_message_size,
                       wcf->max_fragments);

    cln->handler = ngx_ws_upgrade_cleanup;
    cln->data = ws;

    if (wcf->handler->init && wcf->handler->init(ws, r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Upgrade");
    ngx_str_set(&h->value, "websocket");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Sec-WebSocket-Accept");
    h->value = accept;

    /* the header filter adds "Connection: upgrade" to a 101 by itself */

    r->headers_out.status = NGX_HTTP_SWITCHING_PROTOCOLS;
    ngx_str_set(&r->headers_out.status_line, "101 Switching Protocols");
    r->keepalive = 0;

    /*
     * Neither header_only (which marks the header the last buffer) nor a
     * flush: the write filter keeps a header shorter than postpone_output
     * back in r->out, and the takeover sends it in one write with the
     * protocol's first frame (Hello): one segment and one wake-up of the
     * client fewer per connection, which a reconnect storm multiplies.
     */

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    r->main->count++;
    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_ws_takeover_handler;

    /*
     * The request may not be freed while the content phase still holds it,
     * so the takeover runs from a posted event right after.
     */

    ngx_post_event(c->write, &ngx_posted_events);

    return NGX_DONE;
}


/*
 * Until the takeover the connection state belongs to the request: a
 * request that dies first (the client left, the 101 timed out) frees it
 * here.  ngx_ws_upgrade_lookup() also finds the state through this entry.
 */

static void
ngx_ws_upgrade_cleanup(void *data)
{
    ngx_ws_conn_t  *ws = data;

    if (!ws->taken_over) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                       "ws upgrade abandoned: %p", ws);

        /* the protocol's init may have allocated: let it release */

        if (ws->conf->handler->closed) {
            ws->conf->handler->closed(ws);
        }

        ngx_free(ws);
    }
}


static ngx_ws_conn_t *
ngx_ws_upgrade_lookup(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_ws_upgrade_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


static void
ngx_ws_takeover_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_event_t               *wev;
    ngx_ws_conn_t             *ws;
    ngx_connection_t          *c;
    ngx_http_connection_t     *hc;
    ngx_http_core_loc_conf_t  *clcf;

    c = r->connection;
    wev = c->write;

    ws = ngx_ws_upgrade_lookup(r);

    if (ws == NULL) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "WebSocket state of an upgraded request is missing");
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "client timed out while receiving the 101 response");
        c->timedout = 1;
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    /*
     * A 101 that the write filter could not write at once (a long header
     * with a small postpone_output, a full socket) goes out through nginx
     * first; one it kept back is taken below.
     */

    if (c->buffered) {
        rc = ngx_http_output_filter(r, NULL);

        if (rc == NGX_ERROR) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        if (c->buffered) {
            ngx_add_timer(wev, clcf->send_timeout);

            if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
                ngx_http_finalize_request(r, NGX_ERROR);
            }

            return;
        }
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    if (clcf->tcp_nodelay && ngx_tcp_nodelay(c) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    /*
     * Bytes the client sent right behind the handshake are frames already;
     * they stay in the header buffer, which belongs to the connection's
     * pool and outlives the request.
     */

    hc = r->http_connection;
    b = r->header_in;

    /* the bytes of the 101 live in the request's pool: copy them first */

    if (r->out && ngx_ws_takeover_response(ws, r) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    ws->taken_over = 1;

    /*
     * Free the request and its pool; this also writes the access log line
     * (status 101).  ngx_http_free_request() marks the connection
     * destroyed, which makes ngx_http_run_posted_requests() leave it
     * alone when this handler returns; no other code of nginx looks at the
     * flag, and ngx_http_close_connection() sets it again at the end.
     */

    ngx_http_free_request(r, 0);

    c->data = ws;
    c->read->handler = ngx_ws_read_handler;
    c->write->handler = ngx_ws_write_handler;
    c->log->action = "serving WebSocket";

    /* ngx_close_idle_connections() then tells us of a graceful shutdown */
    c->idle = 1;

    ws->in_handler = 1;

    if (ws->conf->handler->open && ws->conf->handler->open(ws) != NGX_OK) {
        ws->destroy = 1;
        ngx_ws_finalize(ws);
        return;
    }

    if (b->pos < b->last) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "ws pipelined: %z", b->last - b->pos);

        ngx_ws_consume(ws, b->pos, b->last);
        b->pos = b->last;
    }

    ngx_ws_free_header_buffers(c, hc);

    if (ngx_exiting && !ws->destroy) {
        ngx_ws_shutdown(ws);
    }

    ngx_ws_read(ws);
    ngx_ws_finalize(ws);
}


/*
 * The 101 response the write filter kept back (r->out: the header
 * filter's memory buffer) becomes the first entry of the output queue.
 * The access log, written when the request is freed, counts it as sent.
 */

static ngx_int_t
ngx_ws_takeover_response(ngx_ws_conn_t *ws, ngx_http_request_t *r)
{
    u_char        *p;
    size_t         len;
    ngx_buf_t     *b;
    ngx_chain_t   *cl;
    ngx_ws_out_t  *out;

    len = 0;

    for (cl = r->out; cl; cl = cl->next) {
        b = cl->buf;

        if (!ngx_buf_in_memory(b) || b->in_file) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "the 101 response is not in memory");
            return NGX_ERROR;
        }

        len += b->last - b->pos;
    }

    /* the request still owns the connection: no ngx_ws_abort() here */

    out = ngx_ws_out_new(ws, len);
    if (out == NULL) {
        return NGX_ERROR;
    }

    p = out->pos;

    for (cl = r->out; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        cl->buf->pos = cl->buf->last;
    }

    out->last = p;
    r->out = NULL;

    r->connection->sent += len;

    /* the queue is empty: no limit to judge, nothing posted yet */

    *ws->out_tail = out;
    ws->out_tail = &out->next;
    ws->out_bytes += len;

    return NGX_OK;
}


/*
 * Give back the header buffers, as ngx_http_set_keepalive() does: an idle
 * WebSocket must not pin the 1k (or larger) buffer its handshake was read
 * into.
 */

static void
ngx_ws_free_header_buffers(ngx_connection_t *c, ngx_http_connection_t *hc)
{
    ngx_chain_t  *cl, *ln;

    if (c->buffer && c->buffer->start
        && ngx_pfree(c->pool, c->buffer->start) == NGX_OK)
    {
        c->buffer->start = NULL;
        c->buffer->pos = NULL;
        c->buffer->last = NULL;
        c->buffer->end = NULL;
    }

    for (cl = hc->free; cl; /* void */) {
        ln = cl;
        cl = cl->next;
        ngx_pfree(c->pool, ln->buf->start);
        ngx_free_chain(c->pool, ln);
    }

    hc->free = NULL;

    for (cl = hc->busy; cl; /* void */) {
        ln = cl;
        cl = cl->next;
        ngx_pfree(c->pool, ln->buf->start);
        ngx_free_chain(c->pool, ln);
    }

    hc->busy = NULL;
    hc->nbusy = 0;

#if (NGX_HTTP_SSL)
    if (c->ssl && !c->buffered) {
        ngx_ssl_free_buffer(c);
    }
#endif
}


static void
ngx_ws_read_handler(ngx_event_t *rev)
{
    ngx_ws_conn_t     *ws;
    ngx_connection_t  *c;

    c = rev->data;
    ws = c->data;

    ws->in_handler = 1;

    if (c->close) {
        c->close = 0;
        ngx_ws_shutdown(ws);
    }

    if (rev->timedout) {
        rev->timedout = 0;
        ngx_ws_timeout(ws);
    }

    if (!ws->destroy) {
        ngx_ws_read(ws);
    }

    ngx_ws_finalize(ws);
}


static void
ngx_ws_write_handler(ngx_event_t *wev)
{
    ngx_ws_conn_t     *ws;
    ngx_connection_t  *c;

    c = wev->data;
    ws = c->data;

    ws->in_handler = 1;

    if (wev->timedout) {
        wev->timedout = 0;
        c->timedout = 1;

        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "client timed out: %uz bytes unsent", ws->out_bytes);

        ws->destroy = 1;
    }

    ngx_ws_finalize(ws);
}


static void
ngx_ws_read(ngx_ws_conn_t *ws)
{
    size_t             size;
    u_char            *buf;
    ssize_t            n;
    ngx_uint_t         rounds;
    ngx_event_t       *rev;
    ngx_connection_t  *c;

    c = ws->connection;
    rev = c->read;

    buf = ngx_ws_scratch(ws, &size);
    if (buf == NULL) {
        ws->destroy = 1;
        return;
    }

    for (rounds = 0; rev->ready && !ws->destroy; rounds++) {

        if (rounds == NGX_WS_READ_ROUNDS) {

            /* let other connections of this worker have a turn */

            ngx_post_event(rev, &ngx_posted_events);
            return;
        }

        n = c->recv(c, buf, size);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {

            if (!ws->close_received && ws->state != ngx_ws_state_lingering) {
                ngx_log_error(NGX_LOG_INFO, c->log, 0,
                              "client closed the connection "
                              "without a close frame");
                ws->peer_close_code = NGX_WS_CLOSE_ABNORMAL;
            }

            ws->destroy = 1;
            return;
        }

        /*
         * Once a close was received, or ours was sent, further data is
         * read only to find the end of the stream (RFC 6455 5.5.1: data
         * after a close frame is discarded).
         */

        if (ws->state == ngx_ws_state_open) {
            ngx_ws_consume(ws, buf, buf + n);
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ws->destroy = 1;
        return;
    }

    /* a frame or message that has started must finish in frame_timeout */

    if (ws->state != ngx_ws_state_open || ngx_ws_parser_idle(&ws->parser)) {
        ws->partial_deadline = 0;

    } else if (ws->partial_deadline == 0) {
        ws->partial_deadline = ngx_current_msec + ws->conf->frame_timeout;
    }
}


static void
ngx_ws_consume(ngx_ws_conn_t *ws, u_char *pos, u_char *last)
{
    ngx_int_t        rc;
    ngx_uint_t       code;
    ngx_ws_chunk_t   ch;

    while (ws->state == ngx_ws_state_open && !ws->destroy) {

        rc = ngx_ws_parse(&ws->parser, &pos, last, &ch);

        if (rc == NGX_AGAIN) {
            return;
        }

        if (rc == NGX_ERROR) {
            code = ws->parser.close_code;

            if (code == NGX_WS_CLOSE_MESSAGE_TOO_BIG
                && ws->conf->handler->too_big_code)
            {
                code = ws->conf->handler->too_big_code;
            }

            ngx_ws_fail(ws, code, ws->parser.reason);
            return;
        }

        if (ch.control) {
            ngx_ws_control_chunk(ws, &ch);

        } else {
            ngx_ws_data_chunk(ws, &ch);
        }
    }
}


static void
ngx_ws_data_chunk(ngx_ws_conn_t *ws, ngx_ws_chunk_t *ch)
{
    ngx_ws_assembly_t  *a;

    /* the usual case: the whole message arrived in one read */

    if (ch->first && ch->last) {
        ngx_ws_deliver(ws, ch->opcode, ch->data, ch->len);
        return;
    }

    if (ngx_ws_message_append(ws, ch->data, ch->len) != NGX_OK) {
        ngx_ws_close(ws, NGX_WS_CLOSE_INTERNAL_ERROR, "out of memory");
        return;
    }

    if (ch->last) {
        a = ws->assembly;

        ngx_ws_deliver(ws, ch->opcode, a->message, a->message_len);

        ngx_ws_message_free(ws);
    }
}


static ngx_int_t
ngx_ws_message_append(ngx_ws_conn_t *ws, u_char *data, size_t len)
{
    size_t              size, need;
    u_char             *p;
    ngx_ws_assembly_t  *a;

    a = ngx_ws_assembly(ws);
    if (a == NULL) {
        return NGX_ERROR;
    }

    need = a->message_len + len;

    if (need > a->message_size) {

        /*
         * The parser has checked every frame header against the limit,
         * and it knows the declared size of the frames read so far: grow
         * to that at least, and geometrically for the fragments to come.
         */

        size = ngx_max(a->message_size * 2, NGX_WS_MIN_MESSAGE_BUFFER);
        size = ngx_min(size, ws->conf->max_message_size);
        size = ngx_max(size, (size_t) ws->parser.message_size);
        size = ngx_max(size, need);

        p = ngx_ws_alloc(ws->conf->main, size, ws->connection->log);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (a->message) {
            ngx_memcpy(p, a->message, a->message_len);
            ngx_ws_free(ws->conf->main, a->message);
        }

        a->message = p;
        a->message_size = size;
    }

    ngx_memcpy(a->message + a->message_len, data, len);
    a->message_len += len;

    return NGX_OK;
}


static void
ngx_ws_control_chunk(ngx_ws_conn_t *ws, ngx_ws_chunk_t *ch)
{
    ngx_ws_assembly_t  *a;

    if (ch->first && ch->last) {
        ngx_ws_control(ws, ch->opcode, ch->data, ch->len);
        return;
    }

    /* a control frame torn across reads: at most 125 bytes to keep */

    a = ngx_ws_assembly(ws);
    if (a == NULL) {
        ngx_ws_close(ws, NGX_WS_CLOSE_INTERNAL_ERROR, "out of memory");
        return;
    }

    if (ch->first) {
        a->control_len = 0;
    }

    ngx_memcpy(a->control + a->control_len, ch->data, ch->len);
    a->control_len += ch->len;

    if (ch->last) {
        ngx_ws_control(ws, ch->opcode, a->control, a->control_len);

        if (ws->assembly) {
            ws->assembly->control_len = 0;
            ngx_ws_assembly_release(ws);
        }
    }
}


static ngx_ws_assembly_t *
ngx_ws_assembly(ngx_ws_conn_t *ws)
{
    if (ws->assembly == NULL) {
        ws->assembly = ngx_ws_alloc(ws->conf->main,
                                    sizeof(ngx_ws_assembly_t),
                                    ws->connection->log);
        if (ws->assembly) {
            ngx_memzero(ws->assembly, sizeof(ngx_ws_assembly_t));
        }
    }

    return ws->assembly;
}


static void
ngx_ws_message_free(ngx_ws_conn_t *ws)
{
    ngx_ws_assembly_t  *a;

    a = ws->assembly;

    if (a == NULL) {
        return;
    }

    if (a->message) {
        ngx_ws_free(ws->conf->main, a->message);
        a->message = NULL;
        a->message_len = 0;
        a->message_size = 0;
    }

    ngx_ws_assembly_release(ws);
}


/* free the assembly state once it holds nothing */

static void
ngx_ws_assembly_release(ngx_ws_conn_t *ws)
{
    ngx_ws_assembly_t  *a;

    a = ws->assembly;

    if (a && a->message == NULL && a->control_len == 0) {
        ngx_ws_free(ws->conf->main, a);
        ws->assembly = NULL;
    }
}


static void
ngx_ws_control(ngx_ws_conn_t *ws, ngx_uint_t opcode, u_char *data,
    size_t len)
{
    ngx_uint_t   code, fail_code;
    const char  *reason;

    switch (opcode) {

    case NGX_WS_OPCODE_PING:

        /* RFC 6455 5.5.3: a pong carries the ping's application data */

        (void) ngx_ws_send(ws, NGX_WS_OPCODE_PONG, data, len);
        break;

    case NGX_WS_OPCODE_PONG:

        /* RFC 6455 5.5.3: an unsolicited pong needs no answer */

        break;

    default: /* NGX_WS_OPCODE_CLOSE */

        if (ngx_ws_close_parse(data, len, &code, &fail_code, &reason)
            != NGX_OK)
        {
            ngx_ws_fail(ws, fail_code, reason);
            return;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ws->connection->log, 0,
                       "ws close received: %ui", code);

        ws->close_received = 1;
        ws->peer_close_code = code;

        /*
         * RFC 6455 5.5.1: answer a close with a close, echoing the status
         * code; an empty close is answered with an empty one
         */

        ngx_ws_close(ws, code == NGX_WS_CLOSE_NO_STATUS ? 0 : code, NULL);
        break;
    }
}


static void
ngx_ws_deliver(ngx_ws_conn_t *ws, ngx_uint_t opcode, u_char *data,
    size_t len)
{
    if (ws->conf->handler->message(ws, opcode, data, len) != NGX_OK
        && ws->state == ngx_ws_state_open && !ws->destroy)
    {
        ngx_ws_close(ws, NGX_WS_CLOSE_INTERNAL_ERROR, "internal error");
    }
}


/* RFC 6455 7.1.7: Fail the WebSocket Connection */

static void
ngx_ws_fail(ngx_ws_conn_t *ws, ngx_uint_t code, const char *reason)
{
    ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                  "client sent invalid WebSocket data: %s, closing with %ui",
                  reason, code);

    ws->failed = 1;

    ngx_ws_close(ws, code, reason);
}


static void
ngx_ws_shutdown(ngx_ws_conn_t *ws)
{
    ngx_connection_t  *c;

    c = ws->connection;

    if (ws->shutdown) {

        /* worker_shutdown_timeout has passed: no more waiting */

        ws->destroy = 1;
        return;
    }

    ws->shutdown = 1;
    c->idle = 0;

    if (ws->state != ngx_ws_state_open) {
        return;
    }

    if (ws->conf->handler->shutdown) {
        ws->conf->handler->shutdown(ws);
        return;
    }

    ngx_ws_close(ws, NGX_WS_CLOSE_GOING_AWAY, "server shutting down");
}


static void
ngx_ws_timeout(ngx_ws_conn_t *ws)
{
    ngx_msec_t  now;

    if (ws->state == ngx_ws_state_lingering) {
        ws->destroy = 1;
        return;
    }

    now = ngx_current_msec;

    if (ws->partial_deadline
        && (ngx_msec_int_t) (now - ws->partial_deadline) >= 0)
    {
        ws->partial_deadline = 0;
        ngx_ws_fail(ws, NGX_WS_CLOSE_POLICY_VIOLATION,
                    "frame not completed in time");
        return;
    }

    if (ws->deadline && (ngx_msec_int_t) (now - ws->deadline) >= 0) {
        ws->deadline = 0;

        if (ws->conf->handler->timer) {
            ws->conf->handler->timer(ws);
        }
    }
}


ngx_int_t
ngx_ws_send(ngx_ws_conn_t *ws, ngx_uint_t opcode, u_char *data, size_t len)
{
    ngx_ws_out_t  *out;

    if (ws->close_sent || ws->destroy) {
        return NGX_DECLINED;
    }

    out = ngx_ws_out_alloc(ws, len);
    if (out == NULL) {
        return NGX_ERROR;
    }

    out->head_last = (uint8_t) ngx_ws_frame_header(out->head, opcode, 1, len);
    out->last = ngx_cpymem(out->pos, data, len);

    return ngx_ws_queue(ws, out, out->head_last + len,
                        ngx_ws_opcode_is_control(opcode));
}


/*
 * An entry with room for len bytes of body right behind it, from the
 * short-lived blocks; the caller fills head and body.  It aborts the
 * connection when memory runs out.
 */

ngx_ws_out_t *
ngx_ws_out_alloc(ngx_ws_conn_t *ws, size_t len)
{
    ngx_ws_out_t  *out;

    out = ngx_ws_out_new(ws, len);
    if (out == NULL) {
        ngx_ws_abort(ws, "out of memory");
        return NULL;
    }

    return out;
}


/* the entry itself, for callers that handle running out of memory */

static ngx_ws_out_t *
ngx_ws_out_new(ngx_ws_conn_t *ws, size_t len)
{
    ngx_ws_out_t  *out;

    out = ngx_ws_alloc(ws->conf->main, sizeof(ngx_ws_out_t) + len,
                       ws->connection->log);
    if (out == NULL) {
        return NULL;
    }

    out->next = NULL;
    out->free = NULL;
    out->data = ws->conf->main;
    out->head_pos = 0;
    out->head_last = 0;
    out->pos = (u_char *) (out + 1);
    out->last = out->pos;

    return out;
}


ngx_int_t
ngx_ws_send_out(ngx_ws_conn_t *ws, ngx_ws_out_t *out, size_t bytes)
{
    if (ws->close_sent || ws->destroy) {
        ngx_ws_out_free(out);
        return NGX_DECLINED;
    }

    out->next = NULL;

    return ngx_ws_queue(ws, out, bytes, 0);
}


/*
 * The output queue is bounded: a peer that stops reading is closed once
 * what it has not taken passes send_queue bytes, instead of growing the
 * worker.  Before judging, the queue is written out as far as the socket
 * allows, so a burst produced within one event (many messages in one
 * read) does not count against a peer that keeps up.  A single frame
 * larger than the limit may still start on an empty queue (its size is
 * bounded by the protocol), and control frames are small.
 */

static ngx_int_t
ngx_ws_queue(ngx_ws_conn_t *ws, ngx_ws_out_t *out, size_t bytes,
    ngx_uint_t control)
{
    if (ws->out != NULL && !control
        && ws->out_bytes + bytes > ws->conf->send_queue)
    {
        if (ngx_ws_flush(ws) == NGX_ERROR) {
            ngx_ws_out_free(out);
            ngx_ws_abort(ws, NULL);
            return NGX_ERROR;
        }

        if (ws->out != NULL
            && ws->out_bytes + bytes > ws->conf->send_queue)
        {
            ngx_ws_out_free(out);

            ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                          "client reads too slowly: %uz bytes queued, "
                          "send queue limit %uz", ws->out_bytes + bytes,
                          ws->conf->send_queue);

            ngx_ws_abort(ws, NULL);
            return NGX_ERROR;
        }
    }

    *ws->out_tail = out;
    ws->out_tail = &out->next;
    ws->out_bytes += bytes;

    if (!ws->in_handler) {
        ngx_ws_post(ws);
    }

    return NGX_OK;
}


/* entries of ngx_ws_out_alloc() hold their ngx_ws_main_t in "data" */

static void
ngx_ws_out_free(ngx_ws_out_t *out)
{
    if (out->free) {
        out->free(out);

    } else {
        ngx_ws_free(out->data, out);
    }
}


void
ngx_ws_close(ngx_ws_conn_t *ws, ngx_uint_t code, const char *reason)
{
    size_t         len;
    u_char        *p;
    ngx_ws_out_t  *out;

    if (ws->close_sent || ws->destroy) {
        return;
    }

    len = 0;

    if (code) {
        len = 2;

        if (reason) {
            len += ngx_min(ngx_strlen(reason), NGX_WS_MAX_CLOSE_REASON);
        }
    }

    out = ngx_ws_out_alloc(ws, len);
    if (out == NULL) {
        return;
    }

    out->head_last = (uint8_t) ngx_ws_frame_header(out->head,
                                                   NGX_WS_OPCODE_CLOSE, 1,
                                                   len);
    p = out->pos;

    if (code) {
        *p++ = (u_char) (code >> 8);
        *p++ = (u_char) code;

        if (reason) {
            p = ngx_cpymem(p, reason, len - 2);
        }
    }

    out->last = p;

    (void) ngx_ws_queue(ws, out, out->head_last + len, 1);

    ws->close_sent = 1;
    ws->close_initiated = !ws->close_received;
    ws->close_code = code ? code : NGX_WS_CLOSE_NO_STATUS;
    ws->state = ngx_ws_state_closing;
    ws->partial_deadline = 0;
    ws->deadline = 0;

    /* a message being assembled will never be delivered now */

    ngx_ws_message_free(ws);
}


void
ngx_ws_abort(ngx_ws_conn_t *ws, const char *why)
{
    if (why) {
        ngx_log_error(NGX_LOG_INFO, ws->connection->log, 0,
                      "closing WebSocket connection: %s", why);
    }

    ws->destroy = 1;

    if (!ws->in_handler) {
        ngx_ws_post(ws);
    }
}


void
ngx_ws_set_deadline(ngx_ws_conn_t *ws, ngx_msec_t after)
{
    ws->deadline = after ? ngx_current_msec + after : 0;

    if (ws->deadline == 0 && after) {
        ws->deadline = 1;
    }

    if (!ws->in_handler) {
        ngx_ws_arm_timer(ws);
    }
}


/*
 * Work on a connection from outside its own events (a delivery drain):
 * between ngx_ws_begin() and ngx_ws_end() output is queued without posting
 * the write event, and ngx_ws_end() writes it at once (or closes the
 * connection, which must not be touched after it).
 */

void
ngx_ws_begin(ngx_ws_conn_t *ws)
{
    ws->in_handler = 1;
}


void
ngx_ws_end(ngx_ws_conn_t *ws)
{
    ngx_ws_finalize(ws);
}


/*
 * The protocol's drained() is called once the output queue has been
 * written out (right away if it is empty).
 */

void
ngx_ws_want_drained(ngx_ws_conn_t *ws)
{
    if (ws->conf->handler->drained == NULL) {
        return;
    }

    ws->drain_wanted = 1;

    if (!ws->in_handler) {
        ngx_ws_post(ws);
    }
}


/* have the connection flushed (or freed) once the current event is done */

void
ngx_ws_post(ngx_ws_conn_t *ws)
{
    ngx_event_t  *wev;

    wev = ws->connection->write;

    if (!wev->posted) {
        ngx_post_event(wev, &ngx_posted_events);
    }

}


static ngx_int_t
ngx_ws_flush(ngx_ws_conn_t *ws)
{
    u_char            *starts[NGX_WS_FLUSH_BUFS];
    off_t              sent;
    ngx_uint_t         i, n;
    ngx_buf_t          bufs[NGX_WS_FLUSH_BUFS], *b;
    ngx_chain_t        links[NGX_WS_FLUSH_BUFS], *chain, *cl;
    ngx_event_t       *wev;
    ngx_ws_out_t      *out;
    ngx_connection_t  *c;

    c = ws->connection;
    wev = c->write;
    sent = c->sent;

    for ( ;; ) {

        if (ws->out == NULL && !c->buffered) {

            if (wev->timer_set) {
                ngx_del_timer(wev);
            }

            return NGX_OK;
        }

        n = 0;

        for (out = ws->out; out && n + 2 <= NGX_WS_FLUSH_BUFS;
             out = out->next)
        {
            if (out->head_pos < out->head_last) {
                b = &bufs[n];
                ngx_memzero(b, sizeof(ngx_buf_t));
                b->pos = out->head + out->head_pos;
                b->last = out->head + out->head_last;
                b->memory = 1;
                starts[n++] = b->pos;
            }

            if (out->pos < out->last) {
                b = &bufs[n];
                ngx_memzero(b, sizeof(ngx_buf_t));
                b->pos = out->pos;
                b->last = out->last;
                b->memory = 1;
                starts[n++] = b->pos;
            }
        }

        chain = NULL;

        if (n) {

            /* have ngx_ssl_send_chain() write its buffer out now */
            bufs[n - 1].flush = 1;

            for (i = 0; i < n; i++) {
                links[i].buf = &bufs[i];
                links[i].next = (i + 1 < n) ? &links[i + 1] : NULL;
            }

            chain = links;
        }

        /* an empty chain flushes what TLS still buffers */

        cl = c->send_chain(c, chain, 0);

        if (cl == NGX_CHAIN_ERROR) {
            c->error = 1;
            return NGX_ERROR;
        }

        ngx_ws_out_advance(ws, bufs, starts, n);

        if (cl != NULL || c->buffered) {
            break;
        }
    }

    /* send_timeout runs between two successful writes, as in nginx */

    if (c->sent != sent || !wev->timer_set) {
        ngx_add_timer(wev, ws->conf->send_timeout);
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


static void
ngx_ws_out_advance(ngx_ws_conn_t *ws, ngx_buf_t *bufs, u_char **starts,
    ngx_uint_t n)
{
    size_t         len;
    ngx_uint_t     i;
    ngx_ws_out_t  *out;

    out = ws->out;
    i = 0;

    while (out && i < n) {

        if (out->head_pos < out->head_last) {
            len = bufs[i].pos - starts[i];
            out->head_pos += (uint8_t) len;
            ws->out_bytes -= len;
            i++;

            if (out->head_pos < out->head_last) {
                return;
            }
        }

        if (out->pos < out->last) {

            if (i == n) {
                return;
            }

            len = bufs[i].pos - starts[i];
            out->pos += len;
            ws->out_bytes -= len;
            i++;

            if (out->pos < out->last) {
                return;
            }
        }

        ws->out = out->next;

        if (ws->out == NULL) {
            ws->out_tail = &ws->out;
        }

        ngx_ws_out_free(out);

        out = ws->out;
    }
}


/*
 * Our close frame is out: shut the write side, so the peer sees the end
 * of the stream, and wait a little for it to close its side, discarding
 * what it still sends.  Closing a socket with unread input would send a
 * RST that can destroy the close frame in the peer's receive buffer.
 */

static void
ngx_ws_linger(ngx_ws_conn_t *ws)
{
    ngx_connection_t  *c;

    c = ws->connection;
    ws->state = ngx_ws_state_lingering;

    /* the close handshake is over for the protocol: no need to wait */

    ngx_ws_closed(ws);

#if (NGX_HTTP_SSL)
    if (c->ssl) {

        /* ngx_http_close_connection() sends the TLS close_notify */

        ws->destroy = 1;
        return;
    }
#endif

    if (shutdown(c->fd, SHUT_WR) == -1) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, ngx_socket_errno,
                       "ws shutdown() failed");
        ws->destroy = 1;
        return;
    }

    c->log->action = "closing WebSocket";

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    ngx_add_timer(c->read, NGX_WS_LINGER_TIMEOUT);

    ngx_ws_read(ws);
}


static void
ngx_ws_arm_timer(ngx_ws_conn_t *ws)
{
    ngx_msec_t     deadline;
    ngx_event_t   *rev;

    rev = ws->connection->read;

    if (ws->state == ngx_ws_state_lingering) {
        return;
    }

    deadline = ws->deadline;

    if (ws->partial_deadline
        && (deadline == 0
            || (ngx_msec_int_t) (ws->partial_deadline - deadline) < 0))
    {
        deadline = ws->partial_deadline;
    }

    if (deadline == 0) {
        if (rev->timer_set) {
            ngx_del_timer(rev);
        }

        return;
    }

    if ((ngx_msec_int_t) (deadline - ngx_current_msec) <= 0) {
        ngx_add_timer(rev, 1);
        return;
    }

    ngx_add_timer(rev, deadline - ngx_current_msec);
}


/* every event handler ends here: flush, then close or re-arm */

static void
ngx_ws_finalize(ngx_ws_conn_t *ws)
{
    ngx_int_t   rc;
    ngx_uint_t  n;

    for (n = 0; !ws->destroy; n++) {
        rc = ngx_ws_flush(ws);

        if (rc == NGX_ERROR) {
            ws->destroy = 1;
            break;
        }

        if (rc == NGX_OK && ws->state == ngx_ws_state_closing) {
            ngx_ws_linger(ws);
            break;
        }

        if (!(rc == NGX_OK && ws->drain_wanted
              && ws->state == ngx_ws_state_open))
        {
            break;
        }

        /* the socket takes all: more output, a few rounds per event */

        if (n == NGX_WS_DRAINED_ROUNDS) {
            ngx_ws_post(ws);
            break;
        }

        ws->drain_wanted = 0;
        ws->conf->handler->drained(ws);
    }

    if (ws->destroy) {
        ngx_ws_destroy(ws);
        return;
    }

    ngx_ws_arm_timer(ws);

    ws->in_handler = 0;
}


static void
ngx_ws_destroy(ngx_ws_conn_t *ws)
{
    ngx_ws_out_t      *out;
    ngx_connection_t  *c;

    c = ws->connection;

    ngx_ws_closed(ws);

    while (ws->out) {
        out = ws->out;
        ws->out = out->next;
        ngx_ws_out_free(out);
    }

    if (ws->assembly) {
        ngx_ws_free(ws->conf->main, ws->assembly->message);
        ngx_ws_free(ws->conf->main, ws->assembly);
    }

    ngx_free(ws);

    ngx_http_close_connection(c);
}


/* the protocol learns once that the connection is over */

static void
ngx_ws_closed(ngx_ws_conn_t *ws)
{
    if (ws->closed_called) {
        return;
    }

    ws->closed_called = 1;

    if (ws->conf->handler->closed) {
        ws->conf->handler->closed(ws);
    }
}


static u_char *
ngx_ws_scratch(ngx_ws_conn_t *ws, size_t *size)
{
    ngx_ws_main_t  *main;

    main = ws->conf->main;

    if (main->scratch == NULL) {
        main->scratch_size = NGX_WS_DEFAULT_SCRATCH_SIZE;

        main->scratch = ngx_alloc(main->scratch_size, ws->connection->log);
        if (main->scratch == NULL) {
            return NULL;
        }
    }

    *size = main->scratch_size;

    return main->scratch;
}
