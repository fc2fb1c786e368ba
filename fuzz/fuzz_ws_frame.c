
/*
 * Copyright (C) The gateway authors
 */


/*
 * Fuzz target: the WebSocket frame parser (ngx_ws_frame.c).
 *
 * Input: byte 0 picks the limits, byte 1 seeds the read sizes, the rest
 * is the client byte stream.  The stream is fed in pieces, as reads would
 * deliver it, and the parser's promises are checked: chunks stay inside
 * the input, control payloads stay under 126 bytes, messages under the
 * size limit, chunk flags follow the message structure, and errors carry
 * a close code a server may send.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_ws_frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#define check(cond)  if (!(cond)) abort()


static const uint64_t    max_sizes[] = { 16, 1000, 65536, 1 << 20 };
static const ngx_uint_t  max_frags[] = { 1, 4, 100, 100000 };


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char           *in, *pos, *last, *end, *before, close[125];
    size_t            control_len;
    uint32_t          rnd;
    uint64_t          message_len;
    ngx_int_t         rc;
    ngx_uint_t        open, code, fail;
    const char       *reason;
    ngx_ws_chunk_t    ch;
    ngx_ws_parser_t   p;

    if (size < 2) {
        return 0;
    }

    ngx_ws_parser_init(&p, max_sizes[data[0] & 3], max_frags[(data[0] >> 2)
                                                            & 3]);
    p.allowed_rsv = (data[0] & 0x10) ? NGX_WS_RSV1 : 0;

    rnd = data[1] * 2654435761u + 1;

    size -= 2;
    in = malloc(size ? size : 1);
    if (in == NULL) {
        return 0;
    }

    memcpy(in, data + 2, size);

    pos = in;
    end = in + size;
    open = 0;
    message_len = 0;
    control_len = 0;

    while (pos < end) {
        rnd = rnd * 1103515245u + 12345;
        last = pos + 1 + (rnd >> 16) % 64;

        if (last > end) {
            last = end;
        }

        for ( ;; ) {
            before = pos;

            rc = ngx_ws_parse(&p, &pos, last, &ch);

            if (rc == NGX_AGAIN) {
                check(pos == last);
                break;
            }

            if (rc == NGX_ERROR) {
                check(p.reason != NULL);
                check(p.close_code == NGX_WS_CLOSE_PROTOCOL_ERROR
                      || p.close_code == NGX_WS_CLOSE_INVALID_PAYLOAD
                      || p.close_code == NGX_WS_CLOSE_POLICY_VIOLATION
                      || p.close_code == NGX_WS_CLOSE_MESSAGE_TOO_BIG);
                goto done;
            }

            check(rc == NGX_OK);
            check(ch.data >= before && ch.data + ch.len <= last);
            check(pos >= before && pos <= last);

            if (ch.control) {
                check(ch.opcode == NGX_WS_OPCODE_CLOSE
                      || ch.opcode == NGX_WS_OPCODE_PING
                      || ch.opcode == NGX_WS_OPCODE_PONG);

                if (ch.first) {
                    control_len = 0;
                }

                check(control_len + ch.len <= NGX_WS_MAX_CONTROL_PAYLOAD);

                if (ch.opcode == NGX_WS_OPCODE_CLOSE) {
                    memcpy(close + control_len, ch.data, ch.len);
                }

                control_len += ch.len;

                if (ch.last && ch.opcode == NGX_WS_OPCODE_CLOSE) {
                    (void) ngx_ws_close_parse(close, control_len, &code,
                                              &fail, &reason);
                }

                continue;
            }

            check(ch.opcode == NGX_WS_OPCODE_TEXT
                  || ch.opcode == NGX_WS_OPCODE_BINARY);
            check(ch.first == !open);

            open = 1;
            message_len += ch.len;

            check(message_len <= p.max_message_size);

            if (ch.last) {
                open = 0;
                message_len = 0;
                check(ngx_ws_parser_idle(&p) || p.state != 0);
            }
        }
    }

done:

    free(in);

    return 0;
}
