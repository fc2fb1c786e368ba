
/*
 * gwctl: a minimal blocking HTTP/1.1 client (RFC 9112).
 *
 * One request per connection ("Connection: close"); the response body is
 * framed by Content-Length, by chunked transfer coding, or by the end of
 * the connection, and is read completely into memory.  Timeouts are the
 * socket's SO_SNDTIMEO/SO_RCVTIMEO (both also bound connect() on Linux).
 */


#include "gwctl.h"

#include <ctype.h>
#include <netdb.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>


/* bounds on what the server may send before the body */
#define GWCTL_HTTP_MAX_HEADER       (64 * 1024)
#define GWCTL_HTTP_MAX_CHUNK_LINE   4096
#define GWCTL_HTTP_READ             (64 * 1024)


typedef enum {
    gwctl_chunk_size = 0,
    gwctl_chunk_data,
    gwctl_chunk_data_end,
    gwctl_chunk_trailer
} gwctl_chunk_state_e;


/* the response as it arrives */
typedef struct {
    gwctl_buf_t             raw;             /* bytes received */
    size_t                  body_start;      /* 0: headers not complete */
    size_t                  pos;             /* chunked: parsed up to */
    int64_t                 content_length;  /* -1: none */
    unsigned                chunked:1;
    unsigned                no_body:1;
    gwctl_chunk_state_e     state;
    uint64_t                chunk_left;
} gwctl_http_in_t;


static int gwctl_http_connect(gwctl_conf_t *conf);
static int gwctl_http_send(int fd, const char *p, size_t n);
static int gwctl_http_read(int fd, const char *method, gwctl_response_t *r);
static int gwctl_http_process(gwctl_http_in_t *in, const char *method,
    gwctl_response_t *r);
static int gwctl_http_headers(gwctl_http_in_t *in, const char *method,
    gwctl_response_t *r);
static int gwctl_http_header(gwctl_http_in_t *in, char *line, size_t len);
static int gwctl_http_chunked(gwctl_http_in_t *in, gwctl_response_t *r);
static char *gwctl_http_line(gwctl_http_in_t *in, size_t *len);


/*
 * http://HOST[:PORT][/PREFIX]; HOST may be a name, an IPv4 address or a
 * bracketed IPv6 address.  PREFIX is put in front of every request path.
 */

int
gwctl_url_parse(gwctl_conf_t *conf, const char *url)
{
    size_t       n;
    uint64_t     port;
    const char  *p, *host, *end, *colon;

    if (strncasecmp(url, "http://", 7) != 0) {
        fprintf(stderr, "gwctl: --url must be http://HOST[:PORT][/PATH] "
                "(https is not supported)\n");
        return GWCTL_USAGE;
    }

    host = url + 7;
    end = host + strcspn(host, "/?#");

    if (*host == '[') {
        p = memchr(host, ']', (size_t) (end - host));
        if (p == NULL) {
            goto invalid;
        }

        n = (size_t) (p - host - 1);
        colon = (p + 1 < end && p[1] == ':') ? p + 1 : NULL;

        if (p + 1 != end && colon == NULL) {
            goto invalid;
        }

        host++;

    } else {
        colon = memchr(host, ':', (size_t) (end - host));
        n = (size_t) ((colon ? colon : end) - host);
    }

    if (n == 0 || n >= sizeof(conf->host)) {
        goto invalid;
    }

    memcpy(conf->host, host, n);
    conf->host[n] = '\0';

    if (colon) {
        n = (size_t) (end - colon - 1);

        if (n == 0 || n >= sizeof(conf->port)) {
            goto invalid;
        }

        memcpy(conf->port, colon + 1, n);
        conf->port[n] = '\0';

        if (gwctl_uint_parse(conf->port, 65535, &port) != GWCTL_OK
            || port == 0)
        {
            goto invalid;
        }

    } else {
        strcpy(conf->port, "80");
    }

    n = (size_t) (end - (url + 7));
    if (n >= sizeof(conf->host_header)) {
        goto invalid;
    }

    memcpy(conf->host_header, url + 7, n);
    conf->host_header[n] = '\0';

    if (*end == '?' || *end == '#') {
        goto invalid;
    }

    n = strlen(end);
    while (n && end[n - 1] == '/') {
        n--;
    }

    if (n >= sizeof(conf->prefix)) {
        goto invalid;
    }

    memcpy(conf->prefix, end, n);
    conf->prefix[n] = '\0';

    for (p = conf->prefix; *p; p++) {
        if ((u_char) *p <= ' ' || (u_char) *p >= 0x7f) {
            goto invalid;
        }
    }

    return GWCTL_OK;

invalid:

    fprintf(stderr, "gwctl: invalid --url \"%s\"\n", url);
    return GWCTL_USAGE;
}


/*
 * Sends one request and reads the whole response.  GWCTL_OK means an HTTP
 * response was received (whatever its status); network and protocol errors
 * are printed and return GWCTL_ERROR.
 */

int
gwctl_http_request(gwctl_conf_t *conf, const char *method, const char *path,
    const char *ctype, const char *body, size_t len, gwctl_response_t *r)
{
    int           fd, rc, err;
    gwctl_buf_t   req;

    memset(r, 0, sizeof(gwctl_response_t));
    memset(&req, 0, sizeof(gwctl_buf_t));

    gwctl_buf_printf(&req,
                     "%s %s%s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "User-Agent: gwctl/" GWCTL_VERSION "\r\n"
                     "Authorization: Admin %s\r\n"
                     "Connection: close\r\n",
                     method, conf->prefix, path, conf->host_header,
                     conf->admin_secret);

    if (body) {
        gwctl_buf_printf(&req, "Content-Type: %s\r\n"
                         "Content-Length: %zu\r\n", ctype, len);
    }

    gwctl_buf_append(&req, "\r\n", 2);

    fd = gwctl_http_connect(conf);
    if (fd == -1) {
        gwctl_buf_free(&req);
        return GWCTL_ERROR;
    }

    rc = gwctl_http_send(fd, req.data, req.len);

    if (rc == GWCTL_OK && body) {
        rc = gwctl_http_send(fd, body, len);
    }

    err = errno;
    gwctl_buf_free(&req);

    /*
     * A server may answer before it has read the whole body (413) and
     * reset the connection: the answer is then still worth reading.
     */

    if (rc != GWCTL_OK && err != EPIPE && err != ECONNRESET) {
        fprintf(stderr, "gwctl: %s %s: send: %s\n", method, path,
                err == EAGAIN ? "timed out" : strerror(err));
        close(fd);
        return GWCTL_ERROR;
    }

    rc = gwctl_http_read(fd, method, r);

    close(fd);

    if (rc != GWCTL_OK) {
        gwctl_response_free(r);
        return GWCTL_ERROR;
    }

    return GWCTL_OK;
}


void
gwctl_response_free(gwctl_response_t *r)
{
    gwctl_buf_free(&r->body);
}


static int
gwctl_http_connect(gwctl_conf_t *conf)
{
    int               fd, rc, err;
    struct timeval    tv;
    struct addrinfo   hints, *res, *ai;

    memset(&hints, 0, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(conf->host, conf->port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "gwctl: %s: %s\n", conf->host, gai_strerror(rc));
        return -1;
    }

    tv.tv_sec = conf->timeout;
    tv.tv_usec = 0;

    fd = -1;
    err = 0;

    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd == -1) {
            err = errno;
            continue;
        }

        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1
            || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1
            || connect(fd, ai->ai_addr, ai->ai_addrlen) == -1)
        {
            err = errno;
            close(fd);
            fd = -1;
            continue;
        }

        break;
    }

    freeaddrinfo(res);

    if (fd == -1) {
        fprintf(stderr, "gwctl: connect to %s:%s: %s\n", conf->host,
                conf->port,
                err == EINPROGRESS || err == EAGAIN ? "timed out"
                                                    : strerror(err));
    }

    return fd;
}


static int
gwctl_http_send(int fd, const char *p, size_t n)
{
    ssize_t  k;

    while (n) {
        k = send(fd, p, n, MSG_NOSIGNAL);

        if (k == -1) {
            if (errno == EINTR) {
                continue;
            }

            return GWCTL_ERROR;
        }

        p += k;
        n -= (size_t) k;
    }

    return GWCTL_OK;
}


static int
gwctl_http_read(int fd, const char *method, gwctl_response_t *r)
{
    int               rc;
    ssize_t           n;
    gwctl_http_in_t   in;

    memset(&in, 0, sizeof(gwctl_http_in_t));
    in.content_length = -1;

    for ( ;; ) {
        gwctl_buf_reserve(&in.raw, GWCTL_HTTP_READ);

        n = recv(fd, in.raw.data + in.raw.len, in.raw.size - in.raw.len - 1,
                 0);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            fprintf(stderr, "gwctl: reading the response: %s\n",
                    errno == EAGAIN ? "timed out" : strerror(errno));
            rc = GWCTL_ERROR;
            break;
        }

        in.raw.len += (size_t) n;
        in.raw.data[in.raw.len] = '\0';

        rc = gwctl_http_process(&in, method, r);

        if (rc == GWCTL_DONE) {
            rc = GWCTL_OK;
            break;
        }

        if (rc == GWCTL_ERROR) {
            break;
        }

        if (n > 0) {
            continue;
        }

        /* the end of the connection */

        if (in.body_start && !in.chunked && in.content_length == -1) {
            gwctl_buf_append(&r->body, in.raw.data + in.body_start,
                             in.raw.len - in.body_start);
            rc = GWCTL_OK;
            break;
        }

        fprintf(stderr, "gwctl: the server closed the connection before "
                "the end of the response\n");
        rc = GWCTL_ERROR;
        break;
    }

    if (rc == GWCTL_OK && r->body.data == NULL) {
        gwctl_buf_append(&r->body, "", 0);
    }

    gwctl_buf_free(&in.raw);

    return rc;
}


/* GWCTL_DONE once the response is complete, GWCTL_AGAIN for more */

static int
gwctl_http_process(gwctl_http_in_t *in, const char *method,
    gwctl_response_t *r)
{
    int     rc;
    size_t  have;

    if (in->body_start == 0) {
        rc = gwctl_http_headers(in, method, r);
        if (rc != GWCTL_OK) {
            return rc;
        }
    }

    if (in->no_body) {
        return GWCTL_DONE;
    }

    if (in->chunked) {
        return gwctl_http_chunked(in, r);
    }

    if (in->content_length == -1) {
        return GWCTL_AGAIN;
    }

    have = in->raw.len - in->body_start;

    if (have < (uint64_t) in->content_length) {
        return GWCTL_AGAIN;
    }

    /* anything after the body is ignored: the request said close */

    gwctl_buf_append(&r->body, in->raw.data + in->body_start,
                     (size_t) in->content_length);

    return GWCTL_DONE;
}


/*
 * The status line and the header fields.  Returns GWCTL_AGAIN until they
 * are complete; interim (1xx) responses are skipped.
 */

static int
gwctl_http_headers(gwctl_http_in_t *in, const char *method,
    gwctl_response_t *r)
{
    int      status;
    char    *line, *p;
    size_t   len;

    for ( ;; ) {
        in->pos = 0;

        line = gwctl_http_line(in, &len);
        if (line == NULL) {
            goto again;
        }

        /* "HTTP/1.1 200 OK" */

        if (len < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' '
            || !isdigit((u_char) line[9]) || !isdigit((u_char) line[10])
            || !isdigit((u_char) line[11])
            || (len > 12 && line[12] != ' '))
        {
            fprintf(stderr, "gwctl: not an HTTP/1.x response\n");
            return GWCTL_ERROR;
        }

        status = (line[9] - '0') * 100 + (line[10] - '0') * 10
                 + line[11] - '0';

        p = len > 13 ? line + 13 : line + len;
        len = line + len - p;
        if (len >= sizeof(r->reason)) {
            len = sizeof(r->reason) - 1;
        }

        memcpy(r->reason, p, len);
        r->reason[len] = '\0';
        r->status = status;

        in->chunked = 0;
        in->content_length = -1;

        for ( ;; ) {
            line = gwctl_http_line(in, &len);
            if (line == NULL) {
                goto again;
            }

            if (len == 0) {
                break;
            }

            if (gwctl_http_header(in, line, len) != GWCTL_OK) {
                return GWCTL_ERROR;
            }
        }

        if (status >= 200) {
            break;
        }

        /* an interim response: drop it, the real one follows */

        memmove(in->raw.data, in->raw.data + in->pos, in->raw.len - in->pos);
        in->raw.len -= in->pos;
        in->raw.data[in->raw.len] = '\0';
    }

    in->body_start = in->pos;

    /* RFC 9112, 6.3: responses that never have a body */
    in->no_body = (strcmp(method, "HEAD") == 0 || r->status == 204
                   || r->status == 304);

    return GWCTL_OK;

again:

    if (in->raw.len > GWCTL_HTTP_MAX_HEADER) {
        fprintf(stderr, "gwctl: response header too large\n");
        return GWCTL_ERROR;
    }

    return GWCTL_AGAIN;
}


static int
gwctl_http_header(gwctl_http_in_t *in, char *line, size_t len)
{
    char      *value, *end, buf[256];
    size_t     name_len, n;
    uint64_t   cl;

    value = memchr(line, ':', len);
    if (value == NULL) {
        fprintf(stderr, "gwctl: invalid response header\n");
        return GWCTL_ERROR;
    }

    name_len = (size_t) (value - line);
    end = line + len;

    for (value++; value < end && (*value == ' ' || *value == '\t');
         value++)
    {
        /* void */
    }

    while (end > value && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    /* a copy: the raw buffer is parsed again if the header is incomplete */

    n = (size_t) (end - value);
    if (n >= sizeof(buf)) {
        n = sizeof(buf) - 1;
    }

    memcpy(buf, value, n);
    buf[n] = '\0';

    if (name_len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
        if (gwctl_uint_parse(buf, INT64_MAX, &cl) != GWCTL_OK) {
            fprintf(stderr, "gwctl: invalid Content-Length\n");
            return GWCTL_ERROR;
        }

        in->content_length = (int64_t) cl;

    } else if (name_len == 17
               && strncasecmp(line, "Transfer-Encoding", 17) == 0)
    {
        /* RFC 9112, 6.1: chunked is the final coding when present */
        if (strcasestr(buf, "chunked")) {
            in->chunked = 1;
        }
    }

    return GWCTL_OK;
}


/*
 * RFC 9112, 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF;
 * the last chunk has size 0 and is followed by trailer fields and CRLF.
 * Decodes from in->pos onwards, keeping its place between reads.
 */

static int
gwctl_http_chunked(gwctl_http_in_t *in, gwctl_response_t *r)
{
    char      *line, *p;
    size_t     len, have;
    uint64_t   size;
    int        digit;

    for ( ;; ) {
        switch (in->state) {

        case gwctl_chunk_size:
            line = gwctl_http_line(in, &len);
            if (line == NULL) {
                goto again;
            }

            size = 0;

            for (p = line; p < line + len && isxdigit((u_char) *p); p++) {
                digit = isdigit((u_char) *p) ? *p - '0'
                                             : (tolower((u_char) *p) - 'a'
                                                + 10);

                if (size > (UINT64_MAX >> 4)) {
                    goto invalid;
                }

                size = (size << 4) | (uint64_t) digit;
            }

            if (p == line
                || (p < line + len && *p != ';' && *p != ' '
                    && *p != '\t'))
            {
                goto invalid;
            }

            in->chunk_left = size;
            in->state = size ? gwctl_chunk_data : gwctl_chunk_trailer;
            break;

        case gwctl_chunk_data:
            have = in->raw.len - in->pos;
            if (have == 0) {
                return GWCTL_AGAIN;
            }

            if (have > in->chunk_left) {
                have = (size_t) in->chunk_left;
            }

            gwctl_buf_append(&r->body, in->raw.data + in->pos, have);
            in->pos += have;
            in->chunk_left -= have;

            if (in->chunk_left) {
                return GWCTL_AGAIN;
            }

            in->state = gwctl_chunk_data_end;
            break;

        case gwctl_chunk_data_end:
            line = gwctl_http_line(in, &len);
            if (line == NULL) {
                goto again;
            }

            if (len != 0) {
                goto invalid;
            }

            in->state = gwctl_chunk_size;
            break;

        case gwctl_chunk_trailer:
            line = gwctl_http_line(in, &len);
            if (line == NULL) {
                goto again;
            }

            if (len == 0) {
                return GWCTL_DONE;
            }

            break;
        }
    }

again:

    if (in->raw.len - in->pos > GWCTL_HTTP_MAX_CHUNK_LINE) {
        goto invalid;
    }

    return GWCTL_AGAIN;

invalid:

    fprintf(stderr, "gwctl: invalid chunked response body\n");
    return GWCTL_ERROR;
}


/*
 * The next line at in->pos, without its CRLF (a bare LF is accepted too);
 * NULL if it is not complete yet.  Advances in->pos past it.
 */

static char *
gwctl_http_line(gwctl_http_in_t *in, size_t *len)
{
    char    *line, *lf;
    size_t   n;

    line = in->raw.data + in->pos;

    lf = memchr(line, '\n', in->raw.len - in->pos);
    if (lf == NULL) {
        return NULL;
    }

    n = (size_t) (lf - line);
    in->pos += n + 1;

    if (n && line[n - 1] == '\r') {
        n--;
    }

    *len = n;

    return line;
}
