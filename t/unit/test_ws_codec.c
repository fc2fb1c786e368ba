
/*
 * Copyright (C) The gateway authors
 */


/*
 * Unit tests of the pure WebSocket codec: ngx_ws_frame.c and
 * ngx_ws_utf8.c, linked alone (no nginx runtime).  Prints TAP.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_ws_frame.h"
#include "ngx_ws_utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int  tests_run;
static int  tests_failed;


#define ok(cond, ...)                                                         \
    do {                                                                      \
        int  passed_ = (cond);                                                \
        tests_run++;                                                          \
        if (passed_) {                                                        \
            printf("ok %d - ", tests_run);                                    \
        } else {                                                              \
            tests_failed++;                                                   \
            printf("not ok %d - ", tests_run);                                \
        }                                                                     \
        printf(__VA_ARGS__);                                                  \
        printf("\n");                                                         \
        if (!passed_) {                                                       \
            printf("#   failed at %s line %d\n", __FILE__, __LINE__);        \
        }                                                                     \
    } while (0)


/* --- helpers -------------------------------------------------------------- */

/* a client frame: masked with key, any header bits */
static size_t
frame_build(u_char *out, unsigned fin, unsigned rsv, unsigned opcode,
    const u_char *payload, uint64_t len, const u_char key[4])
{
    size_t    n;
    uint64_t  i;

    n = 0;
    out[n++] = (u_char) ((fin ? 0x80 : 0) | (rsv << 4) | opcode);

    if (len < 126) {
        out[n++] = (u_char) (0x80 | len);

    } else if (len <= 0xffff) {
        out[n++] = 0x80 | 126;
        out[n++] = (u_char) (len >> 8);
        out[n++] = (u_char) len;

    } else {
        out[n++] = 0x80 | 127;
        for (i = 0; i < 8; i++) {
            out[n++] = (u_char) (len >> (56 - 8 * i));
        }
    }

    memcpy(out + n, key, 4);
    n += 4;

    for (i = 0; i < len; i++) {
        out[n + i] = payload[i] ^ key[i & 3];
    }

    return n + len;
}


typedef struct {
    /* reassembled data messages, concatenated, with their count */
    u_char       data[1 << 20];
    size_t       len;
    ngx_uint_t   messages;
    ngx_uint_t   text;
    /* last control frame */
    u_char       control[128];
    size_t       control_len;
    ngx_uint_t   control_opcode;
    ngx_uint_t   controls;
    /* parse result */
    ngx_int_t    rc;
    ngx_uint_t   close_code;
    size_t       consumed;
} sink_t;


static u_char  work[1 << 21];


/*
 * Feed input in pieces of "step" bytes (0: all at once).  The parser
 * unmasks in place, so it parses a copy and the input can be reused.
 */
static void
parse_all(ngx_ws_parser_t *p, const u_char *input, size_t len, size_t step,
    sink_t *sink)
{
    u_char          *in, *pos, *last, *end;
    ngx_int_t        rc;
    ngx_ws_chunk_t   ch;

    memset(sink, 0, sizeof(sink_t));

    in = work;
    memcpy(in, input, len);
    pos = in;
    end = in + len;

    while (pos < end) {
        last = (step == 0 || (size_t) (end - pos) < step) ? end : pos + step;

        for ( ;; ) {
            rc = ngx_ws_parse(p, &pos, last, &ch);

            if (rc == NGX_AGAIN) {
                break;
            }

            if (rc == NGX_ERROR) {
                sink->rc = NGX_ERROR;
                sink->close_code = p->close_code;
                sink->consumed = pos - in;
                return;
            }

            if (ch.control) {
                if (ch.first) {
                    sink->control_len = 0;
                }

                memcpy(sink->control + sink->control_len, ch.data, ch.len);
                sink->control_len += ch.len;
                sink->control_opcode = ch.opcode;

                if (ch.last) {
                    sink->controls++;
                }

                continue;
            }

            memcpy(sink->data + sink->len, ch.data, ch.len);
            sink->len += ch.len;

            if (ch.last) {
                sink->messages++;
                sink->text += (ch.opcode == NGX_WS_OPCODE_TEXT);
            }
        }
    }

    sink->rc = NGX_OK;
    sink->consumed = pos - in;
}


static const u_char  key0[4] = { 0x37, 0xfa, 0x21, 0x3d };

static u_char  buf[1 << 21];
static u_char  payload[1 << 20];
static sink_t  sink;


/* --- UTF-8 ---------------------------------------------------------------- */

static ngx_int_t
utf8_whole(const char *s, size_t len)
{
    ngx_uint_t  state = NGX_WS_UTF8_ACCEPT;

    if (ngx_ws_utf8_validate(&state, (const u_char *) s, len) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_ws_utf8_complete(state) ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
utf8_bytewise(const char *s, size_t len)
{
    size_t      i;
    ngx_uint_t  state = NGX_WS_UTF8_ACCEPT;

    for (i = 0; i < len; i++) {
        if (ngx_ws_utf8_validate(&state, (const u_char *) s + i, 1)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return ngx_ws_utf8_complete(state) ? NGX_OK : NGX_DECLINED;
}


static void
test_utf8(void)
{
    size_t       i;
    ngx_uint_t   state;

    static const struct {
        const char  *s;
        size_t       len;
        ngx_int_t    expect;
        const char  *name;
    } cases[] = {
        { "", 0, NGX_OK, "empty" },
        { "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1"
          "-UTF-8!!", 28, NGX_OK, "Autobahn 6.2 sample" },
        { "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11, NGX_OK,
          "kosme" },
        { "\x7f", 1, NGX_OK, "U+007F" },
        { "\xc2\x80", 2, NGX_OK, "U+0080" },
        { "\xdf\xbf", 2, NGX_OK, "U+07FF" },
        { "\xe0\xa0\x80", 3, NGX_OK, "U+0800" },
        { "\xed\x9f\xbf", 3, NGX_OK, "U+D7FF" },
        { "\xee\x80\x80", 3, NGX_OK, "U+E000" },
        { "\xef\xbf\xbd", 3, NGX_OK, "U+FFFD" },
        { "\xef\xbf\xbf", 3, NGX_OK, "U+FFFF (noncharacter, valid)" },
        { "\xf0\x90\x80\x80", 4, NGX_OK, "U+10000" },
        { "\xf4\x8f\xbf\xbf", 4, NGX_OK, "U+10FFFF" },
        { "\xf4\x90\x80\x80", 4, NGX_ERROR, "U+110000" },
        { "\xed\xa0\x80", 3, NGX_ERROR, "surrogate U+D800" },
        { "\xed\xbf\xbf", 3, NGX_ERROR, "surrogate U+DFFF" },
        { "\xc0\x80", 2, NGX_ERROR, "overlong NUL" },
        { "\xc1\xbf", 2, NGX_ERROR, "overlong U+007F" },
        { "\xe0\x9f\xbf", 3, NGX_ERROR, "overlong U+07FF" },
        { "\xf0\x8f\xbf\xbf", 4, NGX_ERROR, "overlong U+FFFF" },
        { "\xf8\x88\x80\x80\x80", 5, NGX_ERROR, "5-byte form" },
        { "\xfe", 1, NGX_ERROR, "FE" },
        { "\xff", 1, NGX_ERROR, "FF" },
        { "\x80", 1, NGX_ERROR, "lone continuation" },
        { "a\xbf" "b", 3, NGX_ERROR, "continuation after ASCII" },
        { "\xc2", 1, NGX_DECLINED, "truncated 2-byte" },
        { "\xe0\xa0", 2, NGX_DECLINED, "truncated 3-byte" },
        { "\xf0\x90\x80", 3, NGX_DECLINED, "truncated 4-byte" },
        { "\xc2" "a", 2, NGX_ERROR, "lead byte then ASCII" },
        { "0123456789abcdef\xce\xba" "0123456789", 28, NGX_OK,
          "ASCII fast path around a sequence" },
        { "0123456789abcd\xed\xa0\x80" "0123456789", 27, NGX_ERROR,
          "surrogate after the fast path" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ok(utf8_whole(cases[i].s, cases[i].len) == cases[i].expect,
           "utf8 whole: %s", cases[i].name);
        ok(utf8_bytewise(cases[i].s, cases[i].len) == cases[i].expect,
           "utf8 byte by byte: %s", cases[i].name);
    }

    /* fail fast: the error shows at the first offending byte */

    state = NGX_WS_UTF8_ACCEPT;
    ok(ngx_ws_utf8_validate(&state, (u_char *) "\xce\xba\xe1", 3) == NGX_OK
       && !ngx_ws_utf8_complete(state), "utf8: valid prefix is pending");
    ok(ngx_ws_utf8_validate(&state, (u_char *) "\xbd", 1) == NGX_OK,
       "utf8: continuation accepted");
    ok(ngx_ws_utf8_validate(&state, (u_char *) "\xf4\x90", 2) == NGX_ERROR,
       "utf8: > U+10FFFF rejected at its second byte");
}


/* --- frames --------------------------------------------------------------- */

static void
test_rfc_example(void)
{
    ngx_ws_parser_t  p;

    /* RFC 6455 5.7: a single-frame masked text message containing "Hello" */
    static u_char  hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f,
                               0x9f, 0x4d, 0x51, 0x58 };

    ngx_ws_parser_init(&p, 1000, 10);
    parse_all(&p, hello, sizeof(hello), 0, &sink);

    ok(sink.rc == NGX_OK && sink.messages == 1 && sink.text == 1
       && sink.len == 5 && memcmp(sink.data, "Hello", 5) == 0,
       "RFC 6455 5.7 masked \"Hello\"");
    ok(ngx_ws_parser_idle(&p), "parser idle after a whole message");
}


static void
test_lengths(void)
{
    size_t           n, i, step;
    uint64_t         len;
    ngx_ws_parser_t  p;

    static const uint64_t  lens[] = { 0, 1, 125, 126, 127, 128, 65535,
                                      65536, 100000 };
    static const size_t    steps[] = { 0, 1, 2, 7, 997 };

    for (i = 0; i < sizeof(payload); i++) {
        payload[i] = (u_char) (i * 7 + 3);
    }

    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        len = lens[i];
        n = frame_build(buf, 1, 0, NGX_WS_OPCODE_BINARY, payload, len, key0);

        for (step = 0; step < sizeof(steps) / sizeof(steps[0]); step++) {

            if (steps[step] == 1 && len > 70000) {
                continue;
            }

            ngx_ws_parser_init(&p, 1 << 20, 10);
            parse_all(&p, buf, n, steps[step], &sink);

            ok(sink.rc == NGX_OK && sink.messages == 1 && sink.len == len
               && memcmp(sink.data, payload, len) == 0,
               "binary of %llu bytes in %zu-byte reads",
               (unsigned long long) len, steps[step]);
        }
    }
}


static void
test_fragments(void)
{
    size_t           n;
    ngx_ws_parser_t  p;

    /* "Hel" + ping "p" + "lo", then an empty text message */

    n = frame_build(buf, 0, 0, NGX_WS_OPCODE_TEXT, (u_char *) "Hel", 3,
                    key0);
    n += frame_build(buf + n, 1, 0, NGX_WS_OPCODE_PING, (u_char *) "p", 1,
                     key0);
    n += frame_build(buf + n, 0, 0, NGX_WS_OPCODE_CONTINUATION,
                     (u_char *) "", 0, key0);
    n += frame_build(buf + n, 1, 0, NGX_WS_OPCODE_CONTINUATION,
                     (u_char *) "lo", 2, key0);
    n += frame_build(buf + n, 1, 0, NGX_WS_OPCODE_TEXT, (u_char *) "", 0,
                     key0);

    ngx_ws_parser_init(&p, 1000, 10);
    parse_all(&p, buf, n, 1, &sink);

    ok(sink.rc == NGX_OK && sink.messages == 2 && sink.len == 5
       && memcmp(sink.data, "Hello", 5) == 0 && sink.controls == 1
       && sink.control_opcode == NGX_WS_OPCODE_PING
       && sink.control_len == 1 && sink.control[0] == 'p',
       "fragments with an interleaved ping, byte by byte");

    /* a multi-byte character split over two fragments */

    n = frame_build(buf, 0, 0, NGX_WS_OPCODE_TEXT, (u_char *) "\xce", 1,
                    key0);
    n += frame_build(buf + n, 1, 0, NGX_WS_OPCODE_CONTINUATION,
                     (u_char *) "\xba", 1, key0);

    ngx_ws_parser_init(&p, 1000, 10);
    parse_all(&p, buf, n, 0, &sink);

    ok(sink.rc == NGX_OK && sink.messages == 1,
       "UTF-8 sequence split over fragments is valid");
}


typedef struct {
    const char  *name;
    u_char       bytes[32];
    size_t       len;
    ngx_uint_t   code;
} bad_frame_t;


static void
test_errors(void)
{
    size_t           i, n;
    ngx_ws_parser_t  p;

    static const bad_frame_t  bad[] = {
        { "unmasked frame", { 0x81, 0x01, 'a' }, 3, 1002 },
        { "RSV1 without extension", { 0xc1, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "RSV2", { 0xa1, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "RSV3 on ping", { 0x99, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "reserved opcode 3", { 0x83, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "reserved opcode 7", { 0x87, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "reserved opcode 0xb", { 0x8b, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "reserved opcode 0xf", { 0x8f, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "fragmented ping", { 0x09, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "fragmented close", { 0x08, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "ping of 126 bytes", { 0x89, 0xfe, 0, 126 }, 4, 1002 },
        { "continuation first", { 0x80, 0x80, 1, 2, 3, 4 }, 6, 1002 },
        { "continuation, FIN=0, first", { 0x00, 0x80, 1, 2, 3, 4 }, 6,
          1002 },
        { "text inside a fragmented message",
          { 0x01, 0x80, 1, 2, 3, 4, 0x81, 0x80, 1, 2, 3, 4 }, 12, 1002 },
        { "64-bit length with the high bit set",
          { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 10, 1002 },
        { "2^62 bytes declared: too big before any payload",
          { 0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0 }, 10, 1009 },
        { "1001 bytes over a 1000 limit",
          { 0x82, 0xfe, 0x03, 0xe9 }, 4, 1009 },
        { "invalid UTF-8 fails before the frame ends",
          { 0x81, 0x85, 0, 0, 0, 0, 0xf4, 0x90 }, 8, 1007 },
        { "text ending inside a sequence",
          { 0x81, 0x81, 0, 0, 0, 0, 0xce }, 7, 1007 },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ngx_ws_parser_init(&p, 1000, 10);
        parse_all(&p, bad[i].bytes, bad[i].len, 1, &sink);

        ok(sink.rc == NGX_ERROR && sink.close_code == bad[i].code
           && p.reason != NULL,
           "%s: fails with %u (got %u: %s)", bad[i].name,
           (unsigned) bad[i].code, (unsigned) sink.close_code,
           p.reason ? p.reason : "no error");
    }

    /* the fragment limit counts empty fragments too */

    n = 0;
    n += frame_build(buf + n, 0, 0, NGX_WS_OPCODE_TEXT, (u_char *) "", 0,
                     key0);

    for (i = 0; i < 10; i++) {
        n += frame_build(buf + n, 0, 0, NGX_WS_OPCODE_CONTINUATION,
                         (u_char *) "", 0, key0);
    }

    ngx_ws_parser_init(&p, 1000, 10);
    parse_all(&p, buf, n, 0, &sink);

    ok(sink.rc == NGX_ERROR && sink.close_code == 1008,
       "11 empty fragments over a limit of 10: 1008");

    /* the size limit applies to the sum of the fragments */

    memset(payload, 'a', 600);
    n = frame_build(buf, 0, 0, NGX_WS_OPCODE_TEXT, payload, 600, key0);
    n += frame_build(buf + n, 1, 0, NGX_WS_OPCODE_CONTINUATION, payload,
                     600, key0);

    ngx_ws_parser_init(&p, 1000, 10);
    parse_all(&p, buf, n, 0, &sink);

    ok(sink.rc == NGX_ERROR && sink.close_code == 1009
       && sink.consumed <= 608 + 4 && sink.messages == 0,
       "two 600-byte fragments over a 1000 limit: 1009 at the header");
}


static void
test_random_streams(void)
{
    size_t           n, total, len, i, j, step;
    u_char           key[4];
    unsigned         fin, op, frags;
    ngx_uint_t       messages;
    ngx_ws_parser_t  p;
    static u_char    expect[1 << 20];

    srand(12345);

    for (i = 0; i < 200; i++) {
        n = 0;
        total = 0;
        messages = 0;

        for (j = 0; j < 8; j++) {
            frags = 1 + rand() % 4;
            op = (rand() & 1) ? NGX_WS_OPCODE_BINARY : NGX_WS_OPCODE_TEXT;

            while (frags--) {
                len = (rand() % 5 == 0) ? (size_t) (rand() % 70000)
                                        : (size_t) (rand() % 200);
                fin = (frags == 0);

                for (step = 0; step < len; step++) {
                    expect[total + step] = (u_char) ('a' + rand() % 26);
                }

                memcpy(key, &(int) { rand() }, 4);

                n += frame_build(buf + n, fin, 0, op, expect + total, len,
                                 key);
                total += len;
                op = NGX_WS_OPCODE_CONTINUATION;

                if (rand() % 3 == 0) {
                    n += frame_build(buf + n, 1, 0, NGX_WS_OPCODE_PING,
                                     (u_char *) "ping", 4, key);
                }
            }

            messages++;
        }

        step = (i % 4 == 0) ? 1 : (size_t) (1 + rand() % 5000);

        ngx_ws_parser_init(&p, 1 << 20, 100);
        parse_all(&p, buf, n, step, &sink);

        if (sink.rc != NGX_OK || sink.messages != messages
            || sink.len != total || memcmp(sink.data, expect, total) != 0)
        {
            ok(0, "random stream %zu (reads of %zu bytes)", i, step);
            return;
        }
    }

    ok(1, "200 random fragmented streams with pings, random read sizes");
}


static void
test_close(void)
{
    ngx_uint_t   code, fail;
    const char  *reason;

    ok(ngx_ws_close_parse((u_char *) "", 0, &code, &fail, &reason)
       == NGX_OK && code == 1005, "close: empty body is 1005");
    ok(ngx_ws_close_parse((u_char *) "\x03", 1, &code, &fail, &reason)
       == NGX_ERROR && fail == 1002, "close: 1-byte body is 1002");
    ok(ngx_ws_close_parse((u_char *) "\x03\xe8" "bye", 5, &code, &fail,
                          &reason) == NGX_OK && code == 1000,
       "close: 1000 with a reason");
    ok(ngx_ws_close_parse((u_char *) "\x03\xe8\xce\xba\xe1\xbd\xb9", 7,
                          &code, &fail, &reason) == NGX_OK,
       "close: UTF-8 reason");
    ok(ngx_ws_close_parse((u_char *) "\x03\xe8\xce", 3, &code, &fail,
                          &reason) == NGX_ERROR && fail == 1007,
       "close: truncated UTF-8 reason is 1007");
    ok(ngx_ws_close_parse((u_char *) "\x03\xed", 2, &code, &fail, &reason)
       == NGX_ERROR && fail == 1002, "close: 1005 on the wire is 1002");

    ok(ngx_ws_close_code_valid(1000) && ngx_ws_close_code_valid(1003)
       && ngx_ws_close_code_valid(1007) && ngx_ws_close_code_valid(1014)
       && ngx_ws_close_code_valid(3000) && ngx_ws_close_code_valid(4999),
       "close codes valid: 1000 1003 1007 1014 3000 4999");
    ok(!ngx_ws_close_code_valid(0) && !ngx_ws_close_code_valid(999)
       && !ngx_ws_close_code_valid(1004) && !ngx_ws_close_code_valid(1005)
       && !ngx_ws_close_code_valid(1006) && !ngx_ws_close_code_valid(1015)
       && !ngx_ws_close_code_valid(1016) && !ngx_ws_close_code_valid(2999)
       && !ngx_ws_close_code_valid(5000)
       && !ngx_ws_close_code_valid(65535),
       "close codes invalid: 0 999 1004 1005 1006 1015 1016 2999 5000 "
       "65535");
}


static void
test_header_writer(void)
{
    u_char  h[NGX_WS_MAX_SERVER_HEADER];

    ok(ngx_ws_frame_header(h, NGX_WS_OPCODE_TEXT, 1, 0) == 2
       && h[0] == 0x81 && h[1] == 0, "header: empty text");
    ok(ngx_ws_frame_header(h, NGX_WS_OPCODE_BINARY, 1, 125) == 2
       && h[1] == 125, "header: 125 bytes, 7-bit length");
    ok(ngx_ws_frame_header(h, NGX_WS_OPCODE_BINARY, 1, 126) == 4
       && h[1] == 126 && h[2] == 0 && h[3] == 126,
       "header: 126 bytes, 16-bit length");
    ok(ngx_ws_frame_header(h, NGX_WS_OPCODE_BINARY, 0, 65535) == 4
       && h[0] == 0x02 && h[2] == 0xff && h[3] == 0xff,
       "header: 65535 bytes, FIN clear");
    ok(ngx_ws_frame_header(h, NGX_WS_OPCODE_BINARY, 1, 65536) == 10
       && h[1] == 127 && h[7] == 1 && h[8] == 0 && h[9] == 0,
       "header: 65536 bytes, 64-bit length");
}


int
main(void)
{
    test_utf8();
    test_rfc_example();
    test_lengths();
    test_fragments();
    test_errors();
    test_random_streams();
    test_close();
    test_header_writer();

    printf("1..%d\n", tests_run);

    return tests_failed ? 1 : 0;
}
