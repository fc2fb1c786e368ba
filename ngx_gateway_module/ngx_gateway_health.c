
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * "gateway_health": 200 while this worker serves, 503 once it is shutting
 * down (after nginx -s reload or quit), so a load balancer stops sending
 * new clients to a draining worker.
 */

ngx_int_t
ngx_gateway_health_handler(ngx_http_request_t *r)
{
    ngx_int_t     rc;
    ngx_str_t     body;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        r->headers_out.status = NGX_HTTP_SERVICE_UNAVAILABLE;
        ngx_str_set(&body, "{\"status\":\"draining\"}\n");

    } else {
        r->headers_out.status = NGX_HTTP_OK;
        ngx_str_set(&body, "{\"status\":\"ok\"}\n");
    }

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = body.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body.data;
    b->last = body.data + body.len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
