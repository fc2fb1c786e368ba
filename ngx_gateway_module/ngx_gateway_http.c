
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/* sends j's content as application/json and frees it */

ngx_int_t
ngx_gateway_http_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_gateway_json_t *j)
{
    static ngx_str_t  json = ngx_string("application/json");

    return ngx_gateway_http_send_type(r, status, j, &json);
}


ngx_int_t
ngx_gateway_http_send_type(ngx_http_request_t *r, ngx_uint_t status,
    ngx_gateway_json_t *j, ngx_str_t *type)
{
    size_t        len;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (j->error) {
        ngx_gateway_json_free(j);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_gateway_json_len(j);

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        ngx_gateway_json_free(j);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, j->start, len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    ngx_gateway_json_free(j);

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* Discord's error shape: {"code": N, "message": "..."} */

ngx_int_t
ngx_gateway_http_error(ngx_http_request_t *r, ngx_uint_t status,
    ngx_uint_t code, const char *fmt, ...)
{
    u_char               msg[256], *p;
    va_list              args;
    ngx_gateway_json_t   j;

    va_start(args, fmt);
    p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
    va_end(args);

    if (status >= NGX_HTTP_BAD_REQUEST && status != NGX_HTTP_NOT_FOUND) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "gateway API: %ui %*s", status, p - msg, msg);
    }

    if (ngx_gateway_json_init(&j, 256, r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_gateway_json_lit(&j, "{\"code\":");
    ngx_gateway_json_uint(&j, code);
    ngx_gateway_json_lit(&j, ",\"message\":");
    ngx_gateway_json_str(&j, msg, p - msg);
    ngx_gateway_json_lit(&j, "}");

    r->keepalive = (status < NGX_HTTP_BAD_REQUEST) ? r->keepalive : 0;

    return ngx_gateway_http_send(r, status, &j);
}


/* a response without a body: 202, 204 */

ngx_int_t
ngx_gateway_http_status(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_int_t  rc;

    r->headers_out.status = status;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    return ngx_http_send_special(r, NGX_HTTP_LAST);
}


/*
 * The request body, read by ngx_http_read_client_request_body(), as one
 * piece of memory (it may sit in several buffers, or in a temporary file).
 */

ngx_int_t
ngx_gateway_http_body(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t         size;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = NULL;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    size = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        size += ngx_buf_size(cl->buf);
    }

    if (size == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, (size_t) (b->file_last
                                                    - b->file_pos),
                              b->file_pos);
            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            p += n;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    body->len = p - body->data;

    return NGX_OK;
}


/* "/admin/guilds/1/members/2" with prefix "/admin/" -> 4 segments */

ngx_int_t
ngx_gateway_http_path(ngx_http_request_t *r, const char *prefix,
    ngx_gateway_path_t *path)
{
    size_t   len;
    u_char  *p, *last, *start;

    len = ngx_strlen(prefix);

    path->n = 0;

    if (r->uri.len < len || ngx_strncmp(r->uri.data, prefix, len) != 0) {
        return NGX_DECLINED;
    }

    p = r->uri.data + len;
    last = r->uri.data + r->uri.len;

    while (p < last) {
        start = p;

        while (p < last && *p != '/') {
            p++;
        }

        if (path->n == sizeof(path->seg) / sizeof(path->seg[0])) {
            return NGX_DECLINED;
        }

        path->seg[path->n].data = start;
        path->seg[path->n].len = p - start;
        path->n++;

        if (p < last) {
            p++;

            /* a trailing slash adds nothing */

            if (p == last) {
                break;
            }
        }
    }

    return NGX_OK;
}


ngx_uint_t
ngx_gateway_http_is(ngx_str_t *seg, const char *s)
{
    size_t  len;

    len = ngx_strlen(s);

    return seg->len == len && ngx_strncmp(seg->data, s, len) == 0;
}


ngx_uint_t
ngx_gateway_http_loopback(ngx_http_request_t *r)
{
    struct sockaddr      *sa;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    sa = r->connection->sockaddr;

    switch (sa->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) sa;
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)
               || (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)
                   && sin6->sin6_addr.s6_addr[12] == 127);
#endif

#if (NGX_HAVE_UNIX_DOMAIN)
    case AF_UNIX:
        return 1;
#endif

    default:
        return 0;
    }
}


/*
 * "Authorization: Bot <token>" (or "Bearer <token>"): the token's user,
 * which must still exist.  NGX_DECLINED otherwise.
 */

ngx_int_t
ngx_gateway_http_user(ngx_http_request_t *r, uint64_t *user_id)
{
    u_char                   *p, *last;
    ngx_int_t                 rc;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_main_conf_t  *gmcf;

    if (r->headers_in.authorization == NULL) {
        return NGX_DECLINED;
    }

    p = r->headers_in.authorization->value.data;
    last = p + r->headers_in.authorization->value.len;

    if (last - p > 4 && ngx_strncasecmp(p, (u_char *) "Bot ", 4) == 0) {
        p += 4;

    } else if (last - p > 7
               && ngx_strncasecmp(p, (u_char *) "Bearer ", 7) == 0)
    {
        p += 7;

    } else {
        return NGX_DECLINED;
    }

    gmcf = ngx_http_get_module_main_conf(r, ngx_gateway_module);

    if (ngx_gateway_token_verify(&gmcf->token_secret, p, last - p, user_id)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    zone = ngx_gateway_zone_get(gmcf);

    ngx_gateway_lock(zone);
    rc = ngx_gateway_user_lookup_locked(zone, *user_id) ? NGX_OK
                                                        : NGX_DECLINED;
    ngx_gateway_unlock(zone);

    return rc;
}


/*
 * The gateway's URL as /gateway and /gateway/bot report it (CONTRACT): the
 * public URL if configured, else ws:// (wss:// on TLS) with the request's
 * Host and the contract's path, never a query string.
 */

void
ngx_gateway_http_gateway_url(ngx_http_request_t *r, ngx_gateway_json_t *j)
{
    u_char                  *p;
    ngx_str_t                host;
    ngx_gateway_loc_conf_t  *glcf;

    glcf = ngx_http_get_module_loc_conf(r, ngx_gateway_module);

    if (glcf->public_url.len) {
        ngx_gateway_json_str(j, glcf->public_url.data, glcf->public_url.len);
        return;
    }

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else {
        ngx_str_set(&host, "localhost");
    }

    p = ngx_gateway_json_reserve(j, sizeof("\"wss:///gateway\"") + host.len);
    if (p == NULL) {
        return;
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        j->pos = ngx_sprintf(p, "\"wss://%V/gateway\"", &host);
        return;
    }
#endif

    j->pos = ngx_sprintf(p, "\"ws://%V/gateway\"", &host);
}
