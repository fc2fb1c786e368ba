
/*
 * gwload: client side of RFC 6455, sans-IO.
 */


#include "gwload.h"

#include <strings.h>


/* RFC 6455, 1.3 Opening Handshake: the GUID appended to the key */
#define GWLOAD_WS_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


enum {
    sw_head = 0,
    sw_data,
    sw_control
};


static int gwload_ws_has_token(const char *v, size_t len, const char *token);
static gwload_ws_ev_e gwload_ws_header(gwload_ws_parser_t *p, u_char *s,
    gwload_ws_frame_t *f);


/*
 * RFC 6455, 4.1 Client Requirements: GET, Host, Upgrade: websocket,
 * Connection: Upgrade, Sec-WebSocket-Key, Sec-WebSocket-Version: 13.
 * Returns the request length, or 0 if it does not fit.
 */

size_t
gwload_ws_request(u_char *buf, size_t size, gwload_conf_t *conf,
    const gwload_target_t *target, const u_char key[GWLOAD_WS_KEY_LEN])
{
    int          n;
    char         b64[GWLOAD_WS_KEY_B64_LEN + 1];
    const char  *host, *path;

    gwload_base64(key, GWLOAD_WS_KEY_LEN, b64);

    host = target ? target->host : conf->host;
    path = target ? target->path : conf->path;

    n = snprintf((char *) buf, size,
                 "GET %s HTTP/1.1\r\n"
                 "Host: %s\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n"
                 "User-Agent: gwload/" GWLOAD_VERSION "\r\n"
                 "%.*s"
                 "\r\n",
                 path, host, b64,
                 (int) conf->headers_len,
                 conf->headers ? conf->headers : "");

    if (n < 0 || (size_t) n >= size) {
        return 0;
    }

    return n;
}


void
gwload_ws_accept(const u_char key[GWLOAD_WS_KEY_LEN], char out[29])
{
    u_char  buf[GWLOAD_WS_KEY_B64_LEN + sizeof(GWLOAD_WS_GUID)];
    u_char  md[20];

    gwload_base64(key, GWLOAD_WS_KEY_LEN, (char *) buf);
    memcpy(buf + GWLOAD_WS_KEY_B64_LEN, GWLOAD_WS_GUID,
           sizeof(GWLOAD_WS_GUID) - 1);

    gwload_sha1(buf, GWLOAD_WS_KEY_B64_LEN + sizeof(GWLOAD_WS_GUID) - 1, md);
    gwload_base64(md, 20, out);
}


/*
 * RFC 6455, 4.1, the client's checks of the server's handshake: status 101,
 * "Upgrade: websocket", "Connection: Upgrade" and the expected
 * Sec-WebSocket-Accept.  *hlen gets the size of the response head; bytes
 * after it already belong to the WebSocket stream.
 */

gwload_ws_hs_e
gwload_ws_response(u_char *buf, size_t len,
    const u_char key[GWLOAD_WS_KEY_LEN], int *status, size_t *hlen)
{
    int      upgrade, connection, accept;
    char     expect[29];
    u_char  *p, *end, *eol, *name_end, *v, *v_end;

    *status = 0;

    end = memmem(buf, len, "\r\n\r\n", 4);

    if (end == NULL) {
        return (len >= GWLOAD_WS_RESPONSE_MAX) ? GWLOAD_WS_HS_MALFORMED
                                               : GWLOAD_WS_HS_AGAIN;
    }

    *hlen = end + 4 - buf;
    end += 2;

    /* status-line = HTTP-version SP status-code SP reason-phrase CRLF */

    if (end - buf < 12
        || memcmp(buf, "HTTP/1.", 7) != 0
        || buf[8] != ' '
        || buf[9] < '0' || buf[9] > '9'
        || buf[10] < '0' || buf[10] > '9'
        || buf[11] < '0' || buf[11] > '9')
    {
        return GWLOAD_WS_HS_MALFORMED;
    }

    *status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');

    if (*status != 101) {
        return GWLOAD_WS_HS_STATUS;
    }

    gwload_ws_accept(key, expect);

    upgrade = 0;
    connection = 0;
    accept = 0;

    p = memchr(buf, '\n', end - buf) + 1;

    while (p < end) {
        eol = memchr(p, '\n', end - p);
        if (eol == NULL) {
            return GWLOAD_WS_HS_MALFORMED;
        }

        name_end = memchr(p, ':', eol - p);
        if (name_end == NULL) {
            return GWLOAD_WS_HS_MALFORMED;
        }

        v = name_end + 1;
        v_end = eol;

        while (v < v_end && (*v == ' ' || *v == '\t')) {
            v++;
        }

        while (v_end > v
               && (v_end[-1] == '\r' || v_end[-1] == ' '
                   || v_end[-1] == '\t'))
        {
            v_end--;
        }

#define gwload_ws_hdr_is(s)                                                   \
    ((size_t) (name_end - p) == sizeof(s) - 1                                 \
     && strncasecmp((char *) p, s, sizeof(s) - 1) == 0)

        if (gwload_ws_hdr_is("Upgrade")) {
            upgrade = gwload_ws_has_token((char *) v, v_end - v, "websocket");

        } else if (gwload_ws_hdr_is("Connection")) {
            connection = gwload_ws_has_token((char *) v, v_end - v,
                                             "upgrade");

        } else if (gwload_ws_hdr_is("Sec-WebSocket-Accept")) {
            accept = (v_end - v == 28 && memcmp(v, expect, 28) == 0);
        }

#undef gwload_ws_hdr_is

        p = eol + 1;
    }

    if (!upgrade || !connection || !accept) {
        return GWLOAD_WS_HS_BAD_ACCEPT;
    }

    return GWLOAD_WS_HS_OK;
}


/*
 * Retry-After of a response head (RFC 9110, 10.2.3), as sent with a 429
 * (RFC 6585, 4): delay-seconds in ms, or -1 if there is none, or it is an
 * HTTP-date, or it is malformed.  At most a day is taken.
 */

int64_t
gwload_ws_retry_after(const u_char *buf, size_t len)
{
    int64_t        secs;
    const u_char  *p, *end, *eol, *colon, *v, *digits;

    static const char  name[] = "Retry-After";

    end = memmem(buf, len, "\r\n\r\n", 4);
    if (end == NULL) {
        return -1;
    }

    p = memchr(buf, '\n', end - buf);

    while (p && p < end) {
        p++;
        eol = memchr(p, '\n', end + 2 - p);

        if (eol == NULL) {
            return -1;
        }

        colon = memchr(p, ':', eol - p);

        if (colon && colon - p == sizeof(name) - 1
            && strncasecmp((const char *) p, name, sizeof(name) - 1) == 0)
        {
            v = colon + 1;

            while (v < eol && (*v == ' ' || *v == '\t')) {
                v++;
            }

            digits = v;

            for (secs = 0; v < eol && *v >= '0' && *v <= '9'; v++) {
                secs = secs * 10 + (*v - '0');

                if (secs > GWLOAD_WS_RETRY_AFTER_MAX) {
                    secs = GWLOAD_WS_RETRY_AFTER_MAX;
                }
            }

            if (v == digits) {
                return -1;
            }

            while (v < eol && (*v == ' ' || *v == '\t' || *v == '\r')) {
                v++;
            }

            return (v == eol) ? secs * 1000 : -1;
        }

        p = eol;
    }

    return -1;
}


/*
 * "ws://host[:port][/path][?query]", split without copying; the host is an
 * IPv4 address or a name (not resolved here).  GWLOAD_DECLINED for wss://,
 * GWLOAD_ERROR if it is not such a URL.
 */

int
gwload_ws_url(const char *url, size_t len, gwload_ws_url_t *u)
{
    if (len >= 6 && strncasecmp(url, "wss://", 6) == 0) {
        memset(u, 0, sizeof(gwload_ws_url_t));
        u->bad = "scheme";
        return GWLOAD_DECLINED;
    }

    return gwload_url(url, len, "ws", u);
}


/*
 * "SCHEME://host[:port][/path][?query]" (ws, http), split the same way;
 * on GWLOAD_ERROR u->bad names the part at fault.
 */

int
gwload_url(const char *url, size_t len, const char *scheme,
    gwload_ws_url_t *u)
{
    size_t       i, slen;
    unsigned     port;
    const char  *p, *end, *colon;

    memset(u, 0, sizeof(gwload_ws_url_t));

    end = url + len;
    slen = strlen(scheme);

    if (len < slen + 3 || strncasecmp(url, scheme, slen) != 0
        || memcmp(url + slen, "://", 3) != 0)
    {
        u->bad = "scheme";
        return GWLOAD_ERROR;
    }

    u->host = url + slen + 3;
    u->bad = "host";

    for (p = u->host; p < end && *p != '/' && *p != '?'; p++) {
        if (*p == '@' || *p == '[' || *p == '#' || (u_char) *p <= ' ') {
            return GWLOAD_ERROR;
        }
    }

    u->host_len = p - u->host;
    u->name = u->host;
    u->name_len = u->host_len;
    u->port = 80;

    colon = memchr(u->host, ':', u->host_len);

    if (colon) {
        u->name_len = colon - u->host;
        u->bad = "port";
        port = 0;

        for (i = 1; colon + i < p; i++) {
            if (colon[i] < '0' || colon[i] > '9' || i > 5) {
                return GWLOAD_ERROR;
            }

            port = port * 10 + (colon[i] - '0');
        }

        if (port == 0 || port > 65535) {
            return GWLOAD_ERROR;
        }

        u->port = port;
    }

    if (u->name_len == 0) {
        u->bad = "host";
        return GWLOAD_ERROR;
    }

    u->bad = "path";
    u->path = p;

    while (p < end && *p != '?') {
        if (*p == '#' || (u_char) *p <= ' ') {
            return GWLOAD_ERROR;
        }

        p++;
    }

    u->path_len = p - u->path;
    u->query = p;
    u->query_len = end - p;

    if (memchr(u->query, '#', u->query_len)) {
        return GWLOAD_ERROR;
    }

    u->bad = NULL;

    return GWLOAD_OK;
}


/* a case-insensitive token in a comma-separated header value */

static int
gwload_ws_has_token(const char *v, size_t len, const char *token)
{
    size_t       tlen;
    const char  *p, *end, *s, *e;

    tlen = strlen(token);
    p = v;
    end = v + len;

    while (p < end) {
        s = p;

        while (p < end && *p != ',') {
            p++;
        }

        e = p;

        while (s < e && (*s == ' ' || *s == '\t')) {
            s++;
        }

        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }

        if ((size_t) (e - s) == tlen && strncasecmp(s, token, tlen) == 0) {
            return 1;
        }

        p++;
    }

    return 0;
}


void
gwload_ws_parser_init(gwload_ws_parser_t *p)
{
    memset(p, 0, offsetof(gwload_ws_parser_t, ctrl));
    p->state = sw_head;
    p->hneed = 2;
}


static gwload_ws_ev_e
gwload_ws_error(gwload_ws_frame_t *f, int code, const char *error)
{
    f->close_code = code;
    f->error = error;
    return GWLOAD_WS_EV_ERROR;
}


/*
 * A complete frame header: check it (RFC 6455, 5.2, 5.4, 5.5) and set up
 * the payload state.  GWLOAD_WS_EV_AGAIN means "go on parsing"; a
 * zero-length data frame is reported at once as an empty DATA event.
 */

static gwload_ws_ev_e
gwload_ws_header(gwload_ws_parser_t *p, u_char *s, gwload_ws_frame_t *f)
{
    int       i, opcode;
    uint64_t  len;

    len = p->hdr[1] & 0x7f;

    if (len == 126) {
        len = ((uint64_t) p->hdr[2] << 8) | p->hdr[3];

    } else if (len == 127) {
        len = 0;
        for (i = 2; i < 10; i++) {
            len = (len << 8) | p->hdr[i];
        }

        /* 5.2: the most significant bit MUST be 0 */

        if (len >> 63) {
            return gwload_ws_error(f, GWLOAD_WS_CLOSE_PROTOCOL,
                                   "64-bit length with MSB set");
        }
    }

    /* no extension was negotiated: RSV1-3 MUST be 0 */

    if (p->hdr[0] & 0x70) {
        return gwload_ws_error(f, GWLOAD_WS_CLOSE_PROTOCOL,
                               "RSV bits set");
    }

    opcode = p->hdr[0] & 0x0f;
    p->fin = (p->hdr[0] & 0x80) ? 1 : 0;
    p->opcode = (uint8_t) opcode;
    p->remaining = len;
    p->hlen = 0;
    p->hneed = 2;

    if (opcode & 0x08) {

        /* 5.5: control frames: short, unfragmented, known */

        if (opcode != GWLOAD_WS_OP_CLOSE
            && opcode != GWLOAD_WS_OP_PING
            && opcode != GWLOAD_WS_OP_PONG)
        {
            return gwload_ws_error(f, GWLOAD_WS_CLOSE_PROTOCOL,
                                   "reserved control opcode");
        }

        if (!p->fin || len > GWLOAD_WS_CONTROL_MAX) {
            return gwload_ws_error(f, GWLOAD_WS_CLOSE_PROTOCOL,
                                   "bad control frame");
        }

        p->ctrl_len = 0;
        p->state = sw_control;
        return GWLOAD_WS_EV_AGAIN;
    }

    /* 5.4 Fragmentation */

    if (opcode == GWLOAD_WS_OP_CONT) {
        if (p->msg_opcode == 0) {
            return gwload_ws_error(f, GWLOAD_WS_CLOSE_PROTOCOL,
                                   "continuation without message");
        }

    } else if (opcode == GWLOAD_WS_OP_TEXT
               || opcode == GWLOAD_WS_OP_BINARY)
    {
        if (p->msg_opcode != 0) {
            return gwload_ws_error(f, GWLOAD_WS_CLOSE_PROTOCOL,
                                   "new message inside fragments");
        }

        p->msg_opcode = (uint8_t) opcode;

    } else {
        return gwload_ws_error(f, GWLOAD_WS_CLOSE_PROTOCOL,
                               "reserved data opcode");
    }

    p->state = sw_data;

    if (len == 0) {
        f->opcode = p->msg_opcode;
        f->data = s;
        f->len = 0;
        f->last = p->fin;
        p->state = sw_head;

        if (p->fin) {
            p->msg_opcode = 0;
        }

        return GWLOAD_WS_EV_DATA;
    }

    return GWLOAD_WS_EV_AGAIN;
}


/*
 * RFC 6455, 5.2 Base Framing Protocol.  Consumes input from *pos and
 * returns one event at a time: the caller loops until GWLOAD_WS_EV_AGAIN.
 * Data payload is not copied: DATA events point into the input.  Control
 * payloads (at most 125 bytes) are collected in p->ctrl.
 */

gwload_ws_ev_e
gwload_ws_parse(gwload_ws_parser_t *p, u_char **pos, u_char *end,
    gwload_ws_frame_t *f)
{
    u_char          *s;
    size_t           n;
    uint64_t         len;
    gwload_ws_ev_e   ev;

    s = *pos;

    for ( ;; ) {

        switch (p->state) {

        case sw_head:

            while (p->hlen < p->hneed) {
                if (s == end) {
                    *pos = s;
                    return GWLOAD_WS_EV_AGAIN;
                }

                p->hdr[p->hlen++] = *s++;

                if (p->hlen == 2) {

                    /* 5.1: a client MUST close on a masked frame */

                    if (p->hdr[1] & 0x80) {
                        *pos = s;
                        return gwload_ws_error(f, GWLOAD_WS_CLOSE_PROTOCOL,
                                               "masked frame from server");
                    }

                    len = p->hdr[1] & 0x7f;
                    p->hneed = 2 + (len == 126 ? 2 : (len == 127 ? 8 : 0));
                }
            }

            *pos = s;

            ev = gwload_ws_header(p, s, f);

            if (ev != GWLOAD_WS_EV_AGAIN) {
                return ev;
            }

            break;

        case sw_data:

            if (s == end) {
                *pos = s;
                return GWLOAD_WS_EV_AGAIN;
            }

            n = end - s;
            if (n > p->remaining) {
                n = p->remaining;
            }

            f->opcode = p->msg_opcode;
            f->data = s;
            f->len = n;
            p->remaining -= n;
            f->last = (p->remaining == 0 && p->fin);
            *pos = s + n;

            if (p->remaining == 0) {
                p->state = sw_head;

                if (p->fin) {
                    p->msg_opcode = 0;
                }
            }

            return GWLOAD_WS_EV_DATA;

        case sw_control:

            n = end - s;
            if (n > p->remaining) {
                n = p->remaining;
            }

            memcpy(p->ctrl + p->ctrl_len, s, n);
            p->ctrl_len += (uint8_t) n;
            p->remaining -= n;
            s += n;

            if (p->remaining) {
                *pos = s;
                return GWLOAD_WS_EV_AGAIN;
            }

            f->opcode = p->opcode;
            f->data = p->ctrl;
            f->len = p->ctrl_len;
            f->last = 1;
            p->state = sw_head;
            *pos = s;

            return GWLOAD_WS_EV_CONTROL;
        }
    }
}


/*
 * RFC 6455, 5.2 and 5.3: a single unfragmented frame, masked with "mask"
 * as every client-to-server frame must be.  buf needs len + 14 bytes.
 */

size_t
gwload_ws_frame(u_char *buf, int opcode, const u_char *data, size_t len,
    uint32_t mask)
{
    size_t   i, n;
    u_char  *m;

    buf[0] = (u_char) (0x80 | opcode);

    if (len < 126) {
        buf[1] = (u_char) (0x80 | len);
        n = 2;

    } else if (len <= 0xffff) {
        buf[1] = 0x80 | 126;
        buf[2] = (u_char) (len >> 8);
        buf[3] = (u_char) len;
        n = 4;

    } else {
        buf[1] = 0x80 | 127;
        for (i = 0; i < 8; i++) {
            buf[2 + i] = (u_char) ((uint64_t) len >> (56 - 8 * i));
        }
        n = 10;
    }

    m = buf + n;
    m[0] = (u_char) (mask >> 24);
    m[1] = (u_char) (mask >> 16);
    m[2] = (u_char) (mask >> 8);
    m[3] = (u_char) mask;
    n += 4;

    for (i = 0; i < len; i++) {
        buf[n + i] = data[i] ^ m[i & 3];
    }

    return n + len;
}
