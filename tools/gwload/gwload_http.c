
/*
 * gwload: HTTP/1.1 client side for "gwload publish"; see gwload_http.h.
 */


#include "gwload.h"

#include <strings.h>


enum {
    GWLOAD_HTTP_ST_STATUS = 0,
    GWLOAD_HTTP_ST_HEADER,
    GWLOAD_HTTP_ST_BODY,            /* Content-Length bytes */
    GWLOAD_HTTP_ST_CHUNK_SIZE,
    GWLOAD_HTTP_ST_CHUNK_DATA,
    GWLOAD_HTTP_ST_CHUNK_END,       /* the CRLF after a chunk's data */
    GWLOAD_HTTP_ST_TRAILER,
    GWLOAD_HTTP_ST_UNTIL_CLOSE,     /* no framing: the body ends at EOF */
    GWLOAD_HTTP_ST_DONE
};


static int gwload_http_line(gwload_http_resp_t *r, const u_char **pos,
    const u_char *end);
static int gwload_http_status_line(gwload_http_resp_t *r);
static int gwload_http_header(gwload_http_resp_t *r);
static int gwload_http_headers_done(gwload_http_resp_t *r);
static int gwload_http_token(const u_char *p, size_t len, const char *tok);
static u_char *gwload_http_u64(u_char *p, uint64_t v);


void
gwload_http_resp_init(gwload_http_resp_t *r)
{
    memset(r, 0, offsetof(gwload_http_resp_t, line));
}


/*
 * Collect one line (RFC 9112, 2.2: a bare LF is accepted too).  1 when the
 * line is complete, without its CRLF, in r->line; 0 when all input was
 * taken.  Longer lines keep their first GWLOAD_HTTP_LINE_MAX bytes.
 */

static int
gwload_http_line(gwload_http_resp_t *r, const u_char **pos, const u_char *end)
{
    size_t         n, room;
    const u_char  *p, *nl;

    p = *pos;
    nl = memchr(p, '\n', end - p);
    n = (nl ? nl : end) - p;

    room = GWLOAD_HTTP_LINE_MAX - r->line_len;

    if (n > room) {
        r->truncated = 1;
    }

    memcpy(r->line + r->line_len, p, n < room ? n : room);
    r->line_len += n < room ? n : room;

    if (nl == NULL) {
        *pos = end;
        return 0;
    }

    *pos = nl + 1;

    if (r->line_len && r->line[r->line_len - 1] == '\r' && !r->truncated) {
        r->line_len--;
    }

    return 1;
}


gwload_http_rc_e
gwload_http_parse(gwload_http_resp_t *r, const u_char **pos,
    const u_char *end)
{
    size_t         n;
    uint64_t       size;
    const u_char  *p;

    while (*pos < end || r->state == GWLOAD_HTTP_ST_DONE) {

        switch (r->state) {

        case GWLOAD_HTTP_ST_STATUS:
        case GWLOAD_HTTP_ST_HEADER:
        case GWLOAD_HTTP_ST_CHUNK_SIZE:
        case GWLOAD_HTTP_ST_CHUNK_END:
        case GWLOAD_HTTP_ST_TRAILER:
            if (!gwload_http_line(r, pos, end)) {
                return GWLOAD_HTTP_AGAIN;
            }
            break;

        case GWLOAD_HTTP_ST_BODY:
        case GWLOAD_HTTP_ST_CHUNK_DATA:
            n = end - *pos;
            n = (n < r->remaining) ? n : (size_t) r->remaining;
            *pos += n;
            r->remaining -= n;

            if (r->remaining) {
                return GWLOAD_HTTP_AGAIN;
            }

            r->state = (r->state == GWLOAD_HTTP_ST_BODY)
                       ? GWLOAD_HTTP_ST_DONE : GWLOAD_HTTP_ST_CHUNK_END;
            continue;

        case GWLOAD_HTTP_ST_UNTIL_CLOSE:
            *pos = end;
            return GWLOAD_HTTP_AGAIN;

        default: /* GWLOAD_HTTP_ST_DONE */
            return GWLOAD_HTTP_OK;
        }

        /* a whole line in r->line */

        switch (r->state) {

        case GWLOAD_HTTP_ST_STATUS:
            if (gwload_http_status_line(r) != GWLOAD_OK) {
                return GWLOAD_HTTP_ERROR;
            }

            r->state = GWLOAD_HTTP_ST_HEADER;
            break;

        case GWLOAD_HTTP_ST_HEADER:
            if (r->line_len == 0) {
                if (gwload_http_headers_done(r) != GWLOAD_OK) {
                    return GWLOAD_HTTP_ERROR;
                }
                break;
            }

            if (++r->headers > GWLOAD_HTTP_HEADERS_MAX
                || gwload_http_header(r) != GWLOAD_OK)
            {
                return GWLOAD_HTTP_ERROR;
            }

            break;

        case GWLOAD_HTTP_ST_CHUNK_SIZE:
            /* RFC 9112, 7.1: hex size, then optional ";ext" */

            size = 0;

            for (p = r->line, n = 0; p < r->line + r->line_len; p++, n++) {
                if (*p >= '0' && *p <= '9') {
                    size = size * 16 + (*p - '0');

                } else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') {
                    size = size * 16 + ((*p | 0x20) - 'a' + 10);

                } else {
                    break;
                }

                if (n == 15) {
                    return GWLOAD_HTTP_ERROR;
                }
            }

            if (n == 0) {
                return GWLOAD_HTTP_ERROR;
            }

            r->remaining = size;
            r->state = size ? GWLOAD_HTTP_ST_CHUNK_DATA
                            : GWLOAD_HTTP_ST_TRAILER;
            break;

        case GWLOAD_HTTP_ST_CHUNK_END:
            if (r->line_len) {
                return GWLOAD_HTTP_ERROR;
            }

            r->state = GWLOAD_HTTP_ST_CHUNK_SIZE;
            break;

        default: /* GWLOAD_HTTP_ST_TRAILER */
            if (r->line_len == 0) {
                r->state = GWLOAD_HTTP_ST_DONE;
            }
            break;
        }

        r->line_len = 0;
        r->truncated = 0;
    }

    return GWLOAD_HTTP_AGAIN;
}


/* the peer closed: a body read until the close is complete now */

gwload_http_rc_e
gwload_http_eof(gwload_http_resp_t *r)
{
    if (r->state == GWLOAD_HTTP_ST_UNTIL_CLOSE
        || r->state == GWLOAD_HTTP_ST_DONE)
    {
        r->state = GWLOAD_HTTP_ST_DONE;
        return GWLOAD_HTTP_OK;
    }

    return GWLOAD_HTTP_ERROR;
}


/* RFC 9112, 4: HTTP-version SP 3DIGIT SP [reason-phrase] */

static int
gwload_http_status_line(gwload_http_resp_t *r)
{
    u_char  *p;

    p = r->line;

    if (r->line_len < 12 || memcmp(p, "HTTP/1.", 7) != 0
        || (p[7] != '0' && p[7] != '1') || p[8] != ' '
        || p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9'
        || p[11] < '0' || p[11] > '9'
        || (r->line_len > 12 && p[12] != ' '))
    {
        return GWLOAD_ERROR;
    }

    r->version = p[7] - '0';
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');

    return GWLOAD_OK;
}


/* the headers that matter: Content-Length, Transfer-Encoding, Connection */

static int
gwload_http_header(gwload_http_resp_t *r)
{
    u_char    *p, *v, *end;
    size_t     len;
    uint64_t   n;

    p = r->line;
    end = p + r->line_len;

    v = memchr(p, ':', r->line_len);
    if (v == NULL || v == p) {
        return GWLOAD_ERROR;
    }

    len = v - p;

    for (v++; v < end && (*v == ' ' || *v == '\t'); v++) {
        /* void */
    }

    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    if (len == 14 && strncasecmp((char *) p, "Content-Length", 14) == 0) {
        if (v == end || r->truncated) {
            return GWLOAD_ERROR;
        }

        for (n = 0; v < end; v++) {
            if (*v < '0' || *v > '9' || n > (UINT64_MAX - 9) / 10) {
                return GWLOAD_ERROR;
            }

            n = n * 10 + (*v - '0');
        }

        if (r->has_length && r->remaining != n) {
            /* RFC 9112, 6.3: differing lengths are an error */
            return GWLOAD_ERROR;
        }

        r->has_length = 1;
        r->remaining = n;

    } else if (len == 17
               && strncasecmp((char *) p, "Transfer-Encoding", 17) == 0)
    {
        r->chunked = gwload_http_token(v, end - v, "chunked");

    } else if (len == 10
               && strncasecmp((char *) p, "Connection", 10) == 0)
    {
        if (gwload_http_token(v, end - v, "close")) {
            r->close = 1;
        }

        if (gwload_http_token(v, end - v, "keep-alive")) {
            r->keep_alive = 1;
        }
    }

    return GWLOAD_OK;
}


/* RFC 9112, 6.3: how long the body is */

static int
gwload_http_headers_done(gwload_http_resp_t *r)
{
    if (r->status < 200) {
        if (r->status == 101) {
            return GWLOAD_ERROR;
        }

        /* an interim response (RFC 9110, 15.2): the real one follows */

        gwload_http_resp_init(r);
        return GWLOAD_OK;
    }

    if (r->version == 0 && !r->keep_alive) {
        r->close = 1;
    }

    if (r->status == 204 || r->status == 304) {
        r->state = GWLOAD_HTTP_ST_DONE;

    } else if (r->chunked) {
        r->state = GWLOAD_HTTP_ST_CHUNK_SIZE;

    } else if (r->has_length) {
        r->state = r->remaining ? GWLOAD_HTTP_ST_BODY : GWLOAD_HTTP_ST_DONE;

    } else {
        r->state = GWLOAD_HTTP_ST_UNTIL_CLOSE;
        r->close = 1;
    }

    return GWLOAD_OK;
}


/* is "tok" one of the comma-separated tokens of a header value? */

static int
gwload_http_token(const u_char *p, size_t len, const char *tok)
{
    size_t         n, k;
    const u_char  *end, *e;

    n = strlen(tok);
    end = p + len;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        e = memchr(p, ',', end - p);
        e = e ? e : end;
        k = e - p;

        while (k && (p[k - 1] == ' ' || p[k - 1] == '\t')) {
            k--;
        }

        if (k == n && strncasecmp((const char *) p, tok, n) == 0) {
            return 1;
        }

        p = e;
    }

    return 0;
}


int
gwload_http_body_init(gwload_http_body_t *b, const char *tpl)
{
    const char  *p;

    memset(b, 0, sizeof(gwload_http_body_t));

    b->tpl = tpl;
    b->len = strlen(tpl);

    for (p = tpl; (p = strchr(p, '%')) != NULL; p += 2) {
        switch (p[1]) {

        case 'T':
            b->probes++;
            break;

        case 'N':
            b->numbers++;
            break;

        case '%':
            break;

        default:
            return GWLOAD_ERROR;
        }
    }

    return GWLOAD_OK;
}


size_t
gwload_http_body_max(gwload_http_body_t *b)
{
    return b->len + b->probes * GWLOAD_PROBE_MAX + b->numbers * 20;
}


/* the body for message n sent at ts; buf has gwload_http_body_max() bytes */

size_t
gwload_http_body(u_char *buf, gwload_http_body_t *b, uint64_t ts,
    uint64_t n)
{
    u_char       *p;
    const char   *s, *pct, *end;

    p = buf;
    s = b->tpl;
    end = b->tpl + b->len;

    while (s < end) {
        pct = memchr(s, '%', end - s);

        if (pct == NULL) {
            memcpy(p, s, end - s);
            p += end - s;
            break;
        }

        memcpy(p, s, pct - s);
        p += pct - s;

        switch (pct[1]) {

        case 'T':
            memcpy(p, GWLOAD_PROBE_MARKER, GWLOAD_PROBE_MARKER_LEN);
            p = gwload_http_u64(p + GWLOAD_PROBE_MARKER_LEN, ts);
            *p++ = ':';
            p = gwload_http_u64(p, n);
            break;

        case 'N':
            p = gwload_http_u64(p, n);
            break;

        default: /* '%' */
            *p++ = '%';
            break;
        }

        s = pct + 2;
    }

    return p - buf;
}


static u_char *
gwload_http_u64(u_char *p, uint64_t v)
{
    u_char   tmp[20], *t;
    size_t   n;

    t = tmp + sizeof(tmp);

    do {
        *--t = (u_char) ('0' + v % 10);
        v /= 10;
    } while (v);

    n = tmp + sizeof(tmp) - t;
    memcpy(p, t, n);

    return p + n;
}


size_t
gwload_http_request(u_char *buf, size_t size, const char *path,
    const char *host, const char *headers, size_t headers_len,
    int content_type, size_t len)
{
    int  n;

    n = snprintf((char *) buf, size, "POST %s HTTP/1.1\r\nHost: %s\r\n"
                 "User-Agent: gwload/%s\r\n%.*s%sContent-Length: %zu\r\n"
                 "\r\n",
                 path, host, GWLOAD_VERSION, (int) headers_len,
                 headers ? headers : "",
                 content_type ? "Content-Type: application/json\r\n" : "",
                 len);

    return (n < 0 || (size_t) n >= size) ? 0 : (size_t) n;
}
