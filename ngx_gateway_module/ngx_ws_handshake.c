
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>
#include "ngx_ws.h"


/* RFC 6455 1.3: the GUID appended to the key before hashing */
#define NGX_WS_GUID          "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* RFC 6455 4.2.1: the key is 16 random bytes, base64 encoded */
#define NGX_WS_KEY_BYTES     16
#define NGX_WS_KEY_LEN       24

/* RFC 6455 4.4: the only version this server speaks */
#define NGX_WS_VERSION       "13"

/* RFC 9110 15.5.22; nginx has no name for it */
#define NGX_WS_HTTP_UPGRADE_REQUIRED  426


typedef struct {
    ngx_uint_t   upgrade;
    ngx_uint_t   connection;
    ngx_str_t   *key;
    ngx_uint_t   keys;
    ngx_str_t   *version;
} ngx_ws_request_headers_t;


/* why a handshake is refused, and a response header that says what to do */
typedef struct {
    ngx_uint_t   status;
    const char  *reason;
    const char  *header;
    const char  *value;
} ngx_ws_refusal_t;


static void ngx_ws_handshake_check(ngx_http_request_t *r,
    ngx_ws_refusal_t *refusal, ngx_str_t **key);
static void ngx_ws_handshake_headers(ngx_http_request_t *r,
    ngx_ws_request_headers_t *hs);
static ngx_int_t ngx_ws_handshake_reject(ngx_http_request_t *r,
    ngx_ws_refusal_t *refusal);


/* lowcase_key is not NUL-terminated */
#define ngx_ws_header_is(h, name)                                             \
    ((h)->key.len == sizeof(name) - 1                                         \
     && ngx_strncmp((h)->lowcase_key, name, sizeof(name) - 1) == 0)


#define ngx_ws_refuse(refusal, code, text, name, val)                         \
    (refusal)->status = code;                                                 \
    (refusal)->reason = text;                                                 \
    (refusal)->header = name;                                                 \
    (refusal)->value = val;                                                   \
    return


/*
 * Checks the opening handshake of RFC 6455 4.2.1 and computes the
 * Sec-WebSocket-Accept value.  Returns NGX_OK, or NGX_DECLINED with *rc
 * set to what the content handler is to return: the handshake was
 * refused, and the response with the reason is on its way.
 */

ngx_int_t
ngx_ws_handshake(ngx_http_request_t *r, ngx_str_t *accept, ngx_int_t *rc)
{
    ngx_str_t         *key;
    ngx_ws_refusal_t   refusal;

    if (r != r->main) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "WebSocket upgrade in a subrequest");
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DECLINED;
    }

    ngx_memzero(&refusal, sizeof(ngx_ws_refusal_t));

    ngx_ws_handshake_check(r, &refusal, &key);

    if (refusal.status == 0) {
        accept->len = ngx_base64_encoded_length(20);
        accept->data = ngx_pnalloc(r->pool, accept->len);

        if (accept->data == NULL) {
            *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_DECLINED;
        }

        if (ngx_ws_accept_key(key, accept->data) == NGX_OK) {
            return NGX_OK;
        }

        refusal.status = NGX_HTTP_BAD_REQUEST;
        refusal.reason = "invalid Sec-WebSocket-Key: not 16 bytes in base64";
    }

    *rc = ngx_ws_handshake_reject(r, &refusal);

    return NGX_DECLINED;
}


static void
ngx_ws_handshake_check(ngx_http_request_t *r, ngx_ws_refusal_t *refusal,
    ngx_str_t **key)
{
    ngx_ws_request_headers_t  hs;

    if (r->method != NGX_HTTP_GET) {
        ngx_ws_refuse(refusal, NGX_HTTP_NOT_ALLOWED,
                      "a WebSocket handshake is a GET", "Allow", "GET");
    }

    /* RFC 8441 (WebSockets over HTTP/2) is not supported */

    if (r->http_version != NGX_HTTP_VERSION_11) {
        ngx_ws_refuse(refusal, NGX_HTTP_BAD_REQUEST,
                      "a WebSocket handshake needs HTTP/1.1", NULL, NULL);
    }

    ngx_ws_handshake_headers(r, &hs);

    /* RFC 9110 15.5.22: a 426 names the protocol to upgrade to */

    if (!hs.upgrade) {
        ngx_ws_refuse(refusal, NGX_WS_HTTP_UPGRADE_REQUIRED,
                      "this is a WebSocket endpoint: "
                      "\"Upgrade: websocket\" is required",
                      "Upgrade", "websocket");
    }

    if (!hs.connection) {
        ngx_ws_refuse(refusal, NGX_HTTP_BAD_REQUEST,
                      "the Connection header lacks the \"Upgrade\" token",
                      NULL, NULL);
    }

    /* RFC 6455 4.4: an unsupported version gets the supported ones */

    if (hs.version == NULL
        || hs.version->len != sizeof(NGX_WS_VERSION) - 1
        || ngx_strncmp(hs.version->data, NGX_WS_VERSION,
                       sizeof(NGX_WS_VERSION) - 1) != 0)
    {
        ngx_ws_refuse(refusal, NGX_WS_HTTP_UPGRADE_REQUIRED,
                      "unsupported or missing Sec-WebSocket-Version "
                      "(13 is supported)",
                      "Sec-WebSocket-Version", NGX_WS_VERSION);
    }

    if (hs.key == NULL || hs.keys != 1) {
        ngx_ws_refuse(refusal, NGX_HTTP_BAD_REQUEST,
                      "exactly one Sec-WebSocket-Key header is required",
                      NULL, NULL);
    }

    if (r->headers_in.content_length_n > 0 || r->headers_in.chunked) {
        ngx_ws_refuse(refusal, NGX_HTTP_BAD_REQUEST,
                      "a WebSocket handshake has no body", NULL, NULL);
    }

    *key = hs.key;
}


static void
ngx_ws_handshake_headers(ngx_http_request_t *r, ngx_ws_request_headers_t *hs)
{
    ngx_str_t        *v;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    ngx_memzero(hs, sizeof(ngx_ws_request_headers_t));

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        v = &h[i].value;

        if (ngx_ws_header_is(&h[i], "upgrade")) {
            hs->upgrade |= ngx_ws_header_has_token(v, "websocket",
                                                   sizeof("websocket") - 1);

        } else if (ngx_ws_header_is(&h[i], "connection")) {
            hs->connection |= ngx_ws_header_has_token(v, "upgrade",
                                                      sizeof("upgrade") - 1);

        } else if (ngx_ws_header_is(&h[i], "sec-websocket-key")) {
            hs->key = v;
            hs->keys++;

        } else if (ngx_ws_header_is(&h[i], "sec-websocket-version")) {
            hs->version = v;
        }
    }
}


/*
 * RFC 6455 4.2.2 step 5.4: base64(SHA-1(key ++ GUID)).  The key itself
 * must decode to exactly 16 bytes (4.2.1 item 5).
 */

ngx_int_t
ngx_ws_accept_key(ngx_str_t *key, u_char *accept)
{
    u_char      decoded[NGX_WS_KEY_BYTES + 2], digest[20];
    ngx_str_t   src, dst;
    ngx_sha1_t  sha1;

    if (key->len != NGX_WS_KEY_LEN) {
        return NGX_ERROR;
    }

    dst.data = decoded;

    if (ngx_decode_base64(&dst, key) != NGX_OK
        || dst.len != NGX_WS_KEY_BYTES)
    {
        return NGX_ERROR;
    }

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, key->data, key->len);
    ngx_sha1_update(&sha1, NGX_WS_GUID, sizeof(NGX_WS_GUID) - 1);
    ngx_sha1_final(digest, &sha1);

    src.data = digest;
    src.len = sizeof(digest);
    dst.data = accept;

    ngx_encode_base64(&dst, &src);

    return NGX_OK;
}


/*
 * Whether a comma-separated header value (RFC 9110 5.6.1) holds the token,
 * compared case-insensitively: "keep-alive, Upgrade" holds "upgrade".
 */

ngx_int_t
ngx_ws_header_has_token(ngx_str_t *value, const char *token, size_t len)
{
    u_char  *p, *last, *start, *end;

    p = value->data;
    last = p + value->len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < last && *p != ',') {
            p++;
        }

        end = p;

        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }

        if ((size_t) (end - start) == len
            && ngx_strncasecmp(start, (u_char *) token, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_ws_handshake_reject(ngx_http_request_t *r, ngx_ws_refusal_t *refusal)
{
    size_t            len;
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "WebSocket handshake refused with %ui: %s",
                  refusal->status, refusal->reason);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (refusal->header) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        h->key.data = (u_char *) refusal->header;
        h->key.len = ngx_strlen(refusal->header);
        h->value.data = (u_char *) refusal->value;
        h->value.len = ngx_strlen(refusal->value);
    }

    len = ngx_strlen(refusal->reason);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, refusal->reason, len);
    *b->last++ = LF;
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = refusal->status;

    if (refusal->status == NGX_WS_HTTP_UPGRADE_REQUIRED) {
        ngx_str_set(&r->headers_out.status_line, "426 Upgrade Required");
    }

    r->headers_out.content_length_n = len + 1;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->keepalive = 0;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
