
/*
 * gwload: the client side of HTTP/1.1 (RFC 9112) that "gwload publish"
 * needs, sans-IO: a POST request built from a body template, and an
 * incremental response parser that finds the status, the body's framing
 * (Content-Length, chunked, or until close) and whether the connection
 * may be reused.  The body itself is skipped.
 */


#ifndef _GWLOAD_HTTP_H_INCLUDED_
#define _GWLOAD_HTTP_H_INCLUDED_


/* a header line is kept up to this many bytes; the rest is skipped */
#define GWLOAD_HTTP_LINE_MAX        512

/* at most this many header lines per response */
#define GWLOAD_HTTP_HEADERS_MAX     100


typedef enum {
    GWLOAD_HTTP_OK = 0,             /* a whole response */
    GWLOAD_HTTP_AGAIN,              /* all input consumed */
    GWLOAD_HTTP_ERROR               /* not an HTTP/1.x response */
} gwload_http_rc_e;


typedef struct {
    uint8_t         state;
    uint8_t         version;        /* 0: HTTP/1.0, 1: HTTP/1.1 */
    unsigned        close:1;        /* the server will close after this */
    unsigned        keep_alive:1;   /* "Connection: keep-alive" (1.0) */
    unsigned        chunked:1;
    unsigned        has_length:1;
    unsigned        truncated:1;    /* the current line is too long */
    int             status;
    uint32_t        headers;
    uint64_t        remaining;      /* body or chunk bytes left */
    size_t          line_len;
    u_char          line[GWLOAD_HTTP_LINE_MAX];
} gwload_http_resp_t;


void gwload_http_resp_init(gwload_http_resp_t *r);
gwload_http_rc_e gwload_http_parse(gwload_http_resp_t *r, const u_char **pos,
    const u_char *end);
gwload_http_rc_e gwload_http_eof(gwload_http_resp_t *r);


/*
 * A body template: literal text, "%T" for the probe (gwload_probe.h)
 * "gwload:<ns>:<n>", "%N" for n alone, "%%" for "%".
 */
typedef struct {
    const char     *tpl;
    size_t          len;
    uint32_t        probes;         /* %T count */
    uint32_t        numbers;        /* %N count */
} gwload_http_body_t;


int gwload_http_body_init(gwload_http_body_t *b, const char *tpl);
size_t gwload_http_body_max(gwload_http_body_t *b);
size_t gwload_http_body(u_char *buf, gwload_http_body_t *b, uint64_t ts,
    uint64_t n);

/* "POST path HTTP/1.1" and headers for a body of "len" bytes; 0: no room */
size_t gwload_http_request(u_char *buf, size_t size, const char *path,
    const char *host, const char *headers, size_t headers_len,
    int content_type, size_t len);


#endif /* _GWLOAD_HTTP_H_INCLUDED_ */
