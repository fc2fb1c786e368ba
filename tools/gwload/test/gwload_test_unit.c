
/*
 * gwload: unit tests of the sans-IO parts: SHA-1, base64, the handshake
 * checks, Retry-After and ws:// URLs, the frame parser and builder,
 * histograms and the timer heap.
 * Prints "N passed, N failed" last; exits non-zero on any failure.
 */


#include "gwload.h"

#include <time.h>


static unsigned  tu_passed, tu_failed;


#define tu_check(cond)                                                        \
    do {                                                                      \
        if (cond) {                                                           \
            tu_passed++;                                                      \
        } else {                                                              \
            tu_failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                     \
    } while (0)


uint64_t
gwload_now(void)
{
    struct timespec  tp;

    clock_gettime(CLOCK_MONOTONIC, &tp);

    return (uint64_t) tp.tv_sec * GWLOAD_NSEC + tp.tv_nsec;
}


static void
tu_hex(const u_char *md, char *out)
{
    int  i;

    for (i = 0; i < 20; i++) {
        sprintf(out + 2 * i, "%02x", md[i]);
    }
}


static void
tu_sha1(void)
{
    char     hex[41];
    u_char   md[20], *big;
    size_t   i;

    /* FIPS 180-2 appendix A vectors */

    gwload_sha1((u_char *) "abc", 3, md);
    tu_hex(md, hex);
    tu_check(strcmp(hex, "a9993e364706816aba3e25717850c26c9cd0d89d") == 0);

    gwload_sha1((u_char *) "", 0, md);
    tu_hex(md, hex);
    tu_check(strcmp(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709") == 0);

    gwload_sha1((u_char *)
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                56, md);
    tu_hex(md, hex);
    tu_check(strcmp(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1") == 0);

    big = malloc(1000000);
    for (i = 0; i < 1000000; i++) {
        big[i] = 'a';
    }

    gwload_sha1(big, 1000000, md);
    tu_hex(md, hex);
    tu_check(strcmp(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f") == 0);
    free(big);
}


static void
tu_base64(void)
{
    char  out[16];

    tu_check(gwload_base64((u_char *) "f", 1, out) == 4
             && strcmp(out, "Zg==") == 0);
    tu_check(gwload_base64((u_char *) "fo", 2, out) == 4
             && strcmp(out, "Zm8=") == 0);
    tu_check(gwload_base64((u_char *) "foo", 3, out) == 4
             && strcmp(out, "Zm9v") == 0);
    tu_check(gwload_base64((u_char *) "foobar", 6, out) == 8
             && strcmp(out, "Zm9vYmFy") == 0);
}


static void
tu_handshake(void)
{
    int            status;
    char           accept[29], resp[512];
    u_char         buf[1024];
    size_t         n, hlen;
    gwload_conf_t  conf;

    /* RFC 6455, 1.3: the key of "the sample nonce" */
    static u_char  key[16] = "the sample nonce";

    gwload_ws_accept(key, accept);
    tu_check(strcmp(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);

    memset(&conf, 0, sizeof(conf));
    strcpy(conf.host, "127.0.0.1:8080");
    conf.path = "/gateway?v=10";
    conf.headers = "X-A: b\r\n";
    conf.headers_len = 8;

    n = gwload_ws_request(buf, sizeof(buf), &conf, NULL, key);
    buf[n] = '\0';
    tu_check(n > 0);
    tu_check(strstr((char *) buf, "GET /gateway?v=10 HTTP/1.1\r\n") != NULL);
    tu_check(strstr((char *) buf,
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
             != NULL);
    tu_check(strstr((char *) buf, "\r\nX-A: b\r\n\r\n") != NULL);
    tu_check(gwload_ws_request(buf, 40, &conf, NULL, key) == 0);

    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\n"
                 "upgrade: WebSocket\r\n"
                 "Connection: keep-alive, Upgrade\r\n"
                 "Sec-WebSocket-Accept:  %s \r\n\r\n\x81", accept);
    resp[n++] = '\0';  /* an empty text frame right after the head */

    tu_check(gwload_ws_response((u_char *) resp, n - 10, key, &status, &hlen)
             == GWLOAD_WS_HS_AGAIN);
    tu_check(gwload_ws_response((u_char *) resp, n, key, &status, &hlen)
             == GWLOAD_WS_HS_OK);
    tu_check(status == 101 && hlen == n - 2);

    resp[n - 8] ^= 1;   /* a byte of the accept value */
    tu_check(gwload_ws_response((u_char *) resp, n, key, &status, &hlen)
             == GWLOAD_WS_HS_BAD_ACCEPT);

    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
    tu_check(gwload_ws_response((u_char *) resp, n, key, &status, &hlen)
             == GWLOAD_WS_HS_BAD_ACCEPT);

    n = snprintf(resp, sizeof(resp), "HTTP/1.1 503 Busy\r\n\r\n");
    tu_check(gwload_ws_response((u_char *) resp, n, key, &status, &hlen)
             == GWLOAD_WS_HS_STATUS && status == 503);

    n = snprintf(resp, sizeof(resp), "SSH-2.0-x\r\n\r\n");
    tu_check(gwload_ws_response((u_char *) resp, n, key, &status, &hlen)
             == GWLOAD_WS_HS_MALFORMED);
}


/* a reconnect's request, a 429's Retry-After, resume_gateway_url */

static void
tu_reconnect(void)
{
    u_char           buf[1024];
    size_t           n;
    gwload_conf_t    conf;
    gwload_ws_url_t  u;
    gwload_target_t  t;

    static u_char  key[16] = "the sample nonce";

#define tu_ra(s)    gwload_ws_retry_after((u_char *) (s), strlen(s))

    tu_check(tu_ra("HTTP/1.1 429 Too Many\r\nRetry-After: 3\r\n\r\n")
             == 3000);
    tu_check(tu_ra("HTTP/1.1 429 X\r\nA: b\r\nretry-after:0 \r\n"
                   "C: d\r\n\r\n") == 0);
    tu_check(tu_ra("HTTP/1.1 429 X\r\nRetry-After: 99999999\r\n\r\n")
             == GWLOAD_WS_RETRY_AFTER_MAX * 1000);
    tu_check(tu_ra("HTTP/1.1 429 X\r\nRetry-After: Fri, 31 Dec 1999 "
                   "23:59:59 GMT\r\n\r\n") == -1);
    tu_check(tu_ra("HTTP/1.1 429 X\r\nRetry-After:\r\n\r\n") == -1);
    tu_check(tu_ra("HTTP/1.1 429 X\r\nRetry-After: 1x\r\n\r\n") == -1);
    tu_check(tu_ra("HTTP/1.1 429 X\r\nRetry-Afterx: 1\r\n\r\n") == -1);
    tu_check(tu_ra("HTTP/1.1 429 X\r\n\r\n") == -1);
    tu_check(tu_ra("HTTP/1.1 429 X\r\nRetry-After: 1\r\n") == -1);

#undef tu_ra

#define tu_url(s)   gwload_ws_url(s, strlen(s), &u)

    tu_check(tu_url("ws://127.0.0.1:8080/gateway") == GWLOAD_OK
             && u.host_len == 14 && memcmp(u.host, "127.0.0.1:8080", 14) == 0
             && u.name_len == 9 && u.port == 8080 && u.path_len == 8
             && memcmp(u.path, "/gateway", 8) == 0 && u.query_len == 0);
    tu_check(tu_url("WS://gw.example") == GWLOAD_OK && u.port == 80
             && u.name_len == 10 && u.path_len == 0 && u.query_len == 0);
    tu_check(tu_url("ws://h/p?v=10") == GWLOAD_OK && u.path_len == 2
             && u.query_len == 5);
    tu_check(tu_url("ws://h?v=10") == GWLOAD_OK && u.path_len == 0
             && u.query_len == 5);
    tu_check(tu_url("wss://gateway.discord.gg") == GWLOAD_DECLINED);
    tu_check(tu_url("http://h/") == GWLOAD_ERROR);
    tu_check(tu_url("ws://") == GWLOAD_ERROR);
    tu_check(tu_url("ws://:80/") == GWLOAD_ERROR);
    tu_check(tu_url("ws://h:0/") == GWLOAD_ERROR);
    tu_check(tu_url("ws://h:65536/") == GWLOAD_ERROR);
    tu_check(tu_url("ws://h:123456/") == GWLOAD_ERROR);
    tu_check(tu_url("ws://h:8x/") == GWLOAD_ERROR);
    tu_check(tu_url("ws://[::1]:80/") == GWLOAD_ERROR);
    tu_check(tu_url("ws://u@h/") == GWLOAD_ERROR);
    tu_check(tu_url("ws://h/a b") == GWLOAD_ERROR);
    tu_check(tu_url("ws://h/#f") == GWLOAD_ERROR);

    /* what is at fault, for the error messages */
    tu_check(tu_url("wss://h/") == GWLOAD_DECLINED
             && strcmp(u.bad, "scheme") == 0);
    tu_check(tu_url("http://h/") == GWLOAD_ERROR
             && strcmp(u.bad, "scheme") == 0);
    tu_check(tu_url("ws://u@h/") == GWLOAD_ERROR
             && strcmp(u.bad, "host") == 0);
    tu_check(tu_url("ws://:80/") == GWLOAD_ERROR
             && strcmp(u.bad, "host") == 0);
    tu_check(tu_url("ws://h:8x/") == GWLOAD_ERROR
             && strcmp(u.bad, "port") == 0);
    tu_check(tu_url("ws://h/a b") == GWLOAD_ERROR
             && strcmp(u.bad, "path") == 0);
    tu_check(tu_url("ws://h/") == GWLOAD_OK && u.bad == NULL);

#undef tu_url

#define tu_http(s)  gwload_url(s, strlen(s), "http", &u)

    tu_check(tu_http("http://127.0.0.1:8080/api/v10/x?a=1") == GWLOAD_OK
             && u.host_len == 14 && u.port == 8080 && u.path_len == 10
             && u.query_len == 4);
    tu_check(tu_http("HTTP://h") == GWLOAD_OK && u.port == 80
             && u.path_len == 0);
    tu_check(tu_http("ws://h/") == GWLOAD_ERROR
             && strcmp(u.bad, "scheme") == 0);
    tu_check(tu_http("http:/h/") == GWLOAD_ERROR);
    tu_check(tu_http("http://h:65536/") == GWLOAD_ERROR
             && strcmp(u.bad, "port") == 0);

#undef tu_http

    /* the request goes to the target's host and path */

    memset(&conf, 0, sizeof(conf));
    strcpy(conf.host, "127.0.0.1:8080");
    conf.path = "/gateway?v=10";

    t.host = "resume.example:81";
    t.path = "/r?v=10&encoding=json";

    n = gwload_ws_request(buf, sizeof(buf), &conf, &t, key);
    buf[n] = '\0';
    tu_check(n > 0
             && strstr((char *) buf, "GET /r?v=10&encoding=json HTTP/1.1\r\n"
                                     "Host: resume.example:81\r\n")
                == (char *) buf);
}


/* feed "in" in chunks of "chop" bytes; collect data and events */

typedef struct {
    u_char      data[70000];
    size_t      len;
    int         messages;
    int         controls;
    int         last_control;
    size_t      control_len;
    int         errors;
    int         opcode;
} tu_sink_t;


static void
tu_feed(gwload_ws_parser_t *p, u_char *in, size_t len, size_t chop,
    tu_sink_t *s)
{
    u_char             *pos, *end, *next;
    gwload_ws_frame_t   f;

    pos = in;

    while (pos < in + len) {
        next = pos + chop;
        end = next < in + len ? next : in + len;

        for ( ;; ) {
            switch (gwload_ws_parse(p, &pos, end, &f)) {

            case GWLOAD_WS_EV_AGAIN:
                goto next_chunk;

            case GWLOAD_WS_EV_DATA:
                memcpy(s->data + s->len, f.data, f.len);
                s->len += f.len;
                s->opcode = f.opcode;
                if (f.last) {
                    s->messages++;
                }
                break;

            case GWLOAD_WS_EV_CONTROL:
                s->controls++;
                s->last_control = f.opcode;
                s->control_len = f.len;
                break;

            case GWLOAD_WS_EV_ERROR:
                s->errors++;
                return;
            }
        }

    next_chunk:

        pos = end;
    }
}


/* a server frame (unmasked) */

static size_t
tu_server_frame(u_char *buf, int b0, const u_char *data, uint64_t len)
{
    size_t  n, i;

    buf[0] = (u_char) b0;

    if (len < 126) {
        buf[1] = (u_char) len;
        n = 2;

    } else if (len <= 0xffff) {
        buf[1] = 126;
        buf[2] = (u_char) (len >> 8);
        buf[3] = (u_char) len;
        n = 4;

    } else {
        buf[1] = 127;
        for (i = 0; i < 8; i++) {
            buf[2 + i] = (u_char) (len >> (56 - 8 * i));
        }
        n = 10;
    }

    if (data) {
        memcpy(buf + n, data, len);
    }

    return n + len;
}


static void
tu_parser(void)
{
    size_t               n, i, k, chops[] = { 1, 7, 997, 1000000 };
    u_char              *in, *payload;
    tu_sink_t           *s;
    gwload_ws_parser_t   p;
    uint64_t             lens[] = { 0, 1, 125, 126, 127, 65535, 65536 };

    in = malloc(200000);
    payload = malloc(70000);
    s = malloc(sizeof(tu_sink_t));

    for (i = 0; i < 70000; i++) {
        payload[i] = (u_char) (i * 7);
    }

    /* 5.2 length encodings, fed whole, byte by byte and in 997-byte chops */

    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (k = 0; k < sizeof(chops) / sizeof(chops[0]); k++) {
            n = tu_server_frame(in, 0x82, payload, lens[i]);

            memset(s, 0, sizeof(tu_sink_t));
            gwload_ws_parser_init(&p);
            tu_feed(&p, in, n, chops[k], s);

            tu_check(s->errors == 0 && s->messages == 1
                     && s->len == lens[i]
                     && memcmp(s->data, payload, lens[i]) == 0
                     && s->opcode == GWLOAD_WS_OP_BINARY);
        }
    }

    /* 5.4: fragments with a ping in between */

    n = tu_server_frame(in, 0x01, (u_char *) "Hel", 3);
    n += tu_server_frame(in + n, 0x89, (u_char *) "ping", 4);
    n += tu_server_frame(in + n, 0x00, (u_char *) "lo, ", 4);
    n += tu_server_frame(in + n, 0x80, (u_char *) "world", 5);

    for (k = 0; k < sizeof(chops) / sizeof(chops[0]); k++) {
        memset(s, 0, sizeof(tu_sink_t));
        gwload_ws_parser_init(&p);
        tu_feed(&p, in, n, chops[k], s);

        tu_check(s->errors == 0 && s->messages == 1 && s->controls == 1
                 && s->last_control == GWLOAD_WS_OP_PING
                 && s->control_len == 4 && s->len == 12
                 && memcmp(s->data, "Hello, world", 12) == 0
                 && s->opcode == GWLOAD_WS_OP_TEXT);
    }

    /* empty close frame, then two messages in one buffer */

    n = tu_server_frame(in, 0x81, (u_char *) "a", 1);
    n += tu_server_frame(in + n, 0x81, (u_char *) "b", 1);
    n += tu_server_frame(in + n, 0x88, NULL, 0);

    memset(s, 0, sizeof(tu_sink_t));
    gwload_ws_parser_init(&p);
    tu_feed(&p, in, n, 1000000, s);
    tu_check(s->messages == 2 && s->controls == 1
             && s->last_control == GWLOAD_WS_OP_CLOSE
             && s->control_len == 0);

    /* protocol errors */

    {
        static struct {
            u_char  bytes[4];
            size_t  len;
        } bad[] = {
            { { 0x81, 0x81, 0, 0 }, 2 },      /* masked from server */
            { { 0xc1, 0x00 }, 2 },            /* RSV1 */
            { { 0x83, 0x00 }, 2 },            /* reserved data opcode */
            { { 0x8b, 0x00 }, 2 },            /* reserved control opcode */
            { { 0x80, 0x00 }, 2 },            /* continuation first */
            { { 0x09, 0x00 }, 2 },            /* fragmented ping */
            { { 0x89, 0x7e, 0x00, 0x7e }, 4 } /* ping of 126 bytes */
        };

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            memset(s, 0, sizeof(tu_sink_t));
            gwload_ws_parser_init(&p);
            tu_feed(&p, bad[i].bytes, bad[i].len, 1000000, s);
            tu_check(s->errors == 1);
        }

        /* a text frame inside a fragmented message */
        n = tu_server_frame(in, 0x01, (u_char *) "a", 1);
        n += tu_server_frame(in + n, 0x81, (u_char *) "b", 1);
        memset(s, 0, sizeof(tu_sink_t));
        gwload_ws_parser_init(&p);
        tu_feed(&p, in, n, 1000000, s);
        tu_check(s->errors == 1);

        /* a 64-bit length with the top bit set */
        memset(in, 0, 10);
        in[0] = 0x82;
        in[1] = 127;
        in[2] = 0x80;
        memset(s, 0, sizeof(tu_sink_t));
        gwload_ws_parser_init(&p);
        tu_feed(&p, in, 10, 1000000, s);
        tu_check(s->errors == 1);
    }

    free(in);
    free(payload);
    free(s);
}


static void
tu_builder(void)
{
    size_t    i, k, n, hl;
    u_char   *buf, *data, *m;
    uint64_t  len;
    size_t    lens[] = { 0, 2, 125, 126, 65535, 65536 };

    buf = malloc(70000 + 14);
    data = malloc(70000);

    for (i = 0; i < 70000; i++) {
        data[i] = (u_char) (i * 13 + 5);
    }

    for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        n = gwload_ws_frame(buf, GWLOAD_WS_OP_TEXT, data, lens[k],
                            0xa1b2c3d4);

        tu_check(buf[0] == 0x81 && (buf[1] & 0x80));

        len = buf[1] & 0x7f;
        hl = 2;

        if (len == 126) {
            len = ((uint64_t) buf[2] << 8) | buf[3];
            hl = 4;

        } else if (len == 127) {
            len = 0;
            for (i = 0; i < 8; i++) {
                len = (len << 8) | buf[2 + i];
            }
            hl = 10;
        }

        tu_check(len == lens[k] && n == hl + 4 + len);

        m = buf + hl;
        tu_check(m[0] == 0xa1 && m[1] == 0xb2 && m[2] == 0xc3
                 && m[3] == 0xd4);

        for (i = 0; i < len; i++) {
            if ((buf[hl + 4 + i] ^ m[i & 3]) != data[i]) {
                break;
            }
        }

        tu_check(i == len);
    }

    free(buf);
    free(data);
}


static void
tu_hist(void)
{
    uint64_t       i;
    gwload_pct_t   p;
    gwload_hist_t *h, *h2;

    h = calloc(1, sizeof(gwload_hist_t));
    h2 = calloc(1, sizeof(gwload_hist_t));

    for (i = 1; i <= 10000; i++) {
        gwload_hist_add(h, i);
    }

    gwload_hist_pct(h, &p);

    /* 3.1% bucket resolution */
    tu_check(p.n == 10000);
    tu_check(p.p50 > 5.0 * 0.96 && p.p50 < 5.0 * 1.04);
    tu_check(p.p90 > 9.0 * 0.96 && p.p90 < 9.0 * 1.04);
    tu_check(p.p99 > 9.9 * 0.96 && p.p99 < 9.9 * 1.04);
    tu_check(p.max == 10.0 && p.min == 0.001);

    gwload_hist_add(h2, 5);
    gwload_hist_add(h2, 1ULL << 50);   /* clamped into the last bucket */
    gwload_hist_merge(h, h2);
    gwload_hist_pct(h, &p);
    tu_check(p.n == 10002 && p.max == (double) (1ULL << 50) / 1000);

    memset(h2, 0, sizeof(gwload_hist_t));
    gwload_hist_add(h2, 42);
    gwload_hist_pct(h2, &p);
    tu_check(p.p50 == 0.042 && p.p99 == 0.042);

    free(h);
    free(h2);
}


static int  tu_order[64], tu_norder;


static void
tu_timer_handler(gwload_timer_t *t)
{
    tu_order[tu_norder++] = (int) (intptr_t) t->data;
}


static void
tu_timers(void)
{
    int              i, ok;
    gwload_timer_t   t[40];
    gwload_timers_t  tm;

    tu_check(gwload_timers_init(&tm, 2) == GWLOAD_OK);

    for (i = 0; i < 40; i++) {
        gwload_timer_init(&t[i], tu_timer_handler, (void *) (intptr_t) i);
        tu_check(gwload_timer_add(&tm, &t[i], 1000 + (i * 37) % 40)
                 == GWLOAD_OK);
    }

    /* cancel the odd ones, move 0 to the end */

    for (i = 1; i < 40; i += 2) {
        gwload_timer_del(&tm, &t[i]);
    }

    gwload_timer_add(&tm, &t[0], 5000);

    tu_check(tm.len == 20);

    tu_norder = 0;
    gwload_timers_expire(&tm, 2000);
    tu_check(tu_norder == 19 && tm.len == 1);

    ok = 1;
    for (i = 1; i < tu_norder; i++) {
        if (t[tu_order[i - 1]].deadline > t[tu_order[i]].deadline) {
            ok = 0;
        }
        if (tu_order[i] & 1) {
            ok = 0;
        }
    }
    tu_check(ok);

    tu_check(gwload_timers_next(&tm) == 5000);
    gwload_timers_expire(&tm, 5000);
    tu_check(tu_norder == 20 && tu_order[19] == 0 && tm.len == 0);
    tu_check(gwload_timers_next(&tm) == 0);

    gwload_timers_free(&tm);
}


int
main(void)
{
    tu_sha1();
    tu_base64();
    tu_handshake();
    tu_reconnect();
    tu_parser();
    tu_builder();
    tu_hist();
    tu_timers();

    printf("%u passed, %u failed\n", tu_passed, tu_failed);

    return tu_failed ? 1 : 0;
}
