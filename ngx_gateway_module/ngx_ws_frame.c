
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_ws_frame.h"
#include "ngx_ws_utf8.h"


/*
 * RFC 6455 5.2 base framing, as seen by a server:
 *
 *   byte 0   FIN, RSV1-3, opcode
 *   byte 1   MASK (always 1 from a client), payload length 0..125, or
 *            126 + 16-bit length, or 127 + 64-bit length (MSB 0)
 *   4 bytes  masking key
 *   payload
 *
 * The parser consumes input byte by byte until the payload starts, so a
 * header torn across reads needs no save buffer; the payload is unmasked
 * in place and handed out in chunks as it arrives.
 */

enum {
    sw_start = 0,
    sw_length,
    sw_extended_length,
    sw_mask,
    sw_payload
};


static ngx_int_t ngx_ws_parse_header_done(ngx_ws_parser_t *p);
static ngx_int_t ngx_ws_parse_chunk(ngx_ws_parser_t *p, u_char *data,
    size_t len, ngx_ws_chunk_t *chunk);
static void ngx_ws_unmask(ngx_ws_parser_t *p, u_char *data, size_t len);


#define ngx_ws_parse_fail(p, code, text)                                      \
    (p)->close_code = code;                                                   \
    (p)->reason = text;                                                       \
    return NGX_ERROR


void
ngx_ws_parser_init(ngx_ws_parser_t *p, uint64_t max_message_size,
    ngx_uint_t max_fragments)
{
    ngx_memzero(p, sizeof(ngx_ws_parser_t));

    p->max_message_size = max_message_size;
    p->max_fragments = (uint32_t) ngx_min(max_fragments, 0xffffffff);
    p->utf8_state = NGX_WS_UTF8_ACCEPT;
}


/*
 * Returns NGX_OK with *chunk filled, NGX_AGAIN when the input is used up,
 * or NGX_ERROR with p->close_code and p->reason set: the connection must
 * then be failed (RFC 6455 7.1.7) and the parser not called again.
 */

ngx_int_t
ngx_ws_parse(ngx_ws_parser_t *p, u_char **pos, u_char *last,
    ngx_ws_chunk_t *chunk)
{
    u_char    ch, *s;
    size_t    n;
    ngx_int_t rc;

    s = *pos;

    for ( ;; ) {

        switch (p->state) {

        case sw_start:

            if (s == last) {
                *pos = s;
                return NGX_AGAIN;
            }

            ch = *s++;

            p->fin = ch >> 7;
            p->rsv = (ch >> 4) & 0x7;
            p->opcode = ch & 0xf;

            if (p->rsv & ~p->allowed_rsv) {
                ngx_ws_parse_fail(p, NGX_WS_CLOSE_PROTOCOL_ERROR,
                                  "reserved bits set");
            }

            switch (p->opcode) {

            case NGX_WS_OPCODE_CONTINUATION:

                /* RFC 6455 5.4: a continuation needs an open message */

                if (p->message_opcode == 0) {
                    ngx_ws_parse_fail(p, NGX_WS_CLOSE_PROTOCOL_ERROR,
                                      "continuation frame without a message");
                }

                /* RFC 7692 6: RSV1 only on a message's first frame */

                if (p->rsv) {
                    ngx_ws_parse_fail(p, NGX_WS_CLOSE_PROTOCOL_ERROR,
                                      "reserved bits set on a continuation");
                }

                break;

            case NGX_WS_OPCODE_TEXT:
            case NGX_WS_OPCODE_BINARY:

                /* RFC 6455 5.4: fragments of messages must not interleave */

                if (p->message_opcode != 0) {
                    ngx_ws_parse_fail(p, NGX_WS_CLOSE_PROTOCOL_ERROR,
                                  "new message inside a fragmented message");
                }

                p->message_opcode = p->opcode;
                p->message_started = 0;
                p->message_size = 0;
                p->fragments = 0;
                p->utf8_state = NGX_WS_UTF8_ACCEPT;
                break;

            case NGX_WS_OPCODE_CLOSE:
            case NGX_WS_OPCODE_PING:
            case NGX_WS_OPCODE_PONG:

                /* RFC 6455 5.5: control frames are never fragmented */

                if (!p->fin) {
                    ngx_ws_parse_fail(p, NGX_WS_CLOSE_PROTOCOL_ERROR,
                                      "fragmented control frame");
                }

                if (p->rsv) {
                    ngx_ws_parse_fail(p, NGX_WS_CLOSE_PROTOCOL_ERROR,
                                      "reserved bits set on a control frame");
                }

                break;

            default:
                ngx_ws_parse_fail(p, NGX_WS_CLOSE_PROTOCOL_ERROR,
                                  "reserved opcode");
            }

            p->state = sw_length;

            /* fall through */

        case sw_length:

            if (s == last) {
                *pos = s;
                return NGX_AGAIN;
            }

            ch = *s++;

            /* RFC 6455 5.1: a server MUST close on an unmasked frame */

            if (!(ch & 0x80)) {
                ngx_ws_parse_fail(p, NGX_WS_CLOSE_PROTOCOL_ERROR,
                                  "unmasked client frame");
            }

            ch &= 0x7f;

            if (ngx_ws_opcode_is_control(p->opcode)
                && ch > NGX_WS_MAX_CONTROL_PAYLOAD)
            {
                ngx_ws_parse_fail(p, NGX_WS_CLOSE_PROTOCOL_ERROR,
                                  "control frame over 125 bytes");
            }

            p->frame_left = 0;

            if (ch == 126) {
                p->length_bytes = 2;
                p->state = sw_extended_length;
                break;
            }

            if (ch == 127) {
                p->length_bytes = 8;
                p->state = sw_extended_length;
                break;
            }

            p->frame_left = ch;

            rc = ngx_ws_parse_header_done(p);
            if (rc != NGX_OK) {
                return rc;
            }

            break;

        case sw_extended_length:

            while (p->length_bytes && s < last) {
                p->frame_left = (p->frame_left << 8) | *s++;
                p->length_bytes--;
            }

            if (p->length_bytes) {
                *pos = s;
                return NGX_AGAIN;
            }

            /* RFC 6455 5.2: the most significant bit MUST be 0 */

            if (p->frame_left & 0x8000000000000000ULL) {
                ngx_ws_parse_fail(p, NGX_WS_CLOSE_PROTOCOL_ERROR,
                                  "frame length with the high bit set");
            }

            rc = ngx_ws_parse_header_done(p);
            if (rc != NGX_OK) {
                return rc;
            }

            break;

        case sw_mask:

            while (p->mask_bytes < 4 && s < last) {
                p->mask[p->mask_bytes++] = *s++;
            }

            if (p->mask_bytes < 4) {
                *pos = s;
                return NGX_AGAIN;
            }

            p->mask_offset = 0;
            p->control_started = 0;
            p->state = sw_payload;

            if (p->frame_left == 0) {
                *pos = s;
                return ngx_ws_parse_chunk(p, s, 0, chunk);
            }

            /* fall through */

        case sw_payload:

            if (s == last) {
                *pos = s;
                return NGX_AGAIN;
            }

            n = (size_t) (last - s);

            if ((uint64_t) n > p->frame_left) {
                n = (size_t) p->frame_left;
            }

            ngx_ws_unmask(p, s, n);

            *pos = s + n;

            return ngx_ws_parse_chunk(p, s, n, chunk);

        default:
            ngx_ws_parse_fail(p, NGX_WS_CLOSE_INTERNAL_ERROR,
                              "parser in an invalid state");
        }
    }
}


static ngx_int_t
ngx_ws_parse_header_done(ngx_ws_parser_t *p)
{
    if (!ngx_ws_opcode_is_control(p->opcode)) {

        /*
         * RFC 6455 10.4: protect against oversized messages before any of
         * the payload is read, let alone stored
         */

        if (p->frame_left > p->max_message_size
            || p->message_size > p->max_message_size - p->frame_left)
        {
            ngx_ws_parse_fail(p, NGX_WS_CLOSE_MESSAGE_TOO_BIG,
                              "message too big");
        }

        /* empty fragments count too: they cost a parse each */

        if (++p->fragments > p->max_fragments) {
            ngx_ws_parse_fail(p, NGX_WS_CLOSE_POLICY_VIOLATION,
                              "too many fragments");
        }

        p->message_size += p->frame_left;
    }

    p->mask_bytes = 0;
    p->state = sw_mask;

    return NGX_OK;
}


static ngx_int_t
ngx_ws_parse_chunk(ngx_ws_parser_t *p, u_char *data, size_t len,
    ngx_ws_chunk_t *chunk)
{
    ngx_uint_t  utf8;

    chunk->data = data;
    chunk->len = len;

    if (ngx_ws_opcode_is_control(p->opcode)) {
        chunk->control = 1;
        chunk->opcode = p->opcode;
        chunk->first = !p->control_started;

        p->control_started = 1;
        p->frame_left -= len;

        chunk->last = (p->frame_left == 0);

        if (chunk->last) {
            p->state = sw_start;
        }

        return NGX_OK;
    }

    chunk->control = 0;
    chunk->opcode = p->message_opcode;
    chunk->first = !p->message_started;

    p->message_started = 1;
    p->frame_left -= len;

    /* RFC 6455 8.1, fail fast: check text as it arrives, not at its end */

    if (p->message_opcode == NGX_WS_OPCODE_TEXT) {
        utf8 = p->utf8_state;

        if (ngx_ws_utf8_validate(&utf8, data, len) != NGX_OK) {
            ngx_ws_parse_fail(p, NGX_WS_CLOSE_INVALID_PAYLOAD,
                              "invalid UTF-8 in a text message");
        }

        p->utf8_state = (uint8_t) utf8;
    }

    chunk->last = (p->frame_left == 0 && p->fin);

    if (p->frame_left == 0) {
        p->state = sw_start;
    }

    if (chunk->last) {

        if (p->message_opcode == NGX_WS_OPCODE_TEXT
            && !ngx_ws_utf8_complete(p->utf8_state))
        {
            ngx_ws_parse_fail(p, NGX_WS_CLOSE_INVALID_PAYLOAD,
                              "text message ends inside a UTF-8 sequence");
        }

        p->message_opcode = 0;
    }

    return NGX_OK;
}


static void
ngx_ws_unmask(ngx_ws_parser_t *p, u_char *data, size_t len)
{
    u_char      key8[8], *last;
    uint64_t    key, word;
    ngx_uint_t  i, off;

    last = data + len;
    off = p->mask_offset;

    while (data < last && ((uintptr_t) data & 7)) {
        *data++ ^= p->mask[off++ & 3];
    }

    if (last - data >= 8) {

        /* eight bytes at a time; 8 is a multiple of the 4-byte key */

        for (i = 0; i < 8; i++) {
            key8[i] = p->mask[(off + i) & 3];
        }

        ngx_memcpy(&key, key8, 8);

        while (last - data >= 8) {
            ngx_memcpy(&word, data, 8);
            word ^= key;
            ngx_memcpy(data, &word, 8);
            data += 8;
        }
    }

    while (data < last) {
        *data++ ^= p->mask[off++ & 3];
    }

    p->mask_offset = off & 3;
}


ngx_uint_t
ngx_ws_parser_idle(ngx_ws_parser_t *p)
{
    return p->state == sw_start && p->message_opcode == 0;
}


/*
 * RFC 6455 5.5.1 and 7.4: a close body is empty, or a 2-byte status code
 * followed by a UTF-8 reason.  Returns NGX_OK with *code (1005 when the
 * body is empty), or NGX_ERROR with the code to fail the connection with.
 */

ngx_int_t
ngx_ws_close_parse(u_char *data, size_t len, ngx_uint_t *code,
    ngx_uint_t *fail_code, const char **reason)
{
    ngx_uint_t  state;

    if (len == 0) {
        *code = NGX_WS_CLOSE_NO_STATUS;
        return NGX_OK;
    }

    if (len == 1) {
        *fail_code = NGX_WS_CLOSE_PROTOCOL_ERROR;
        *reason = "close frame with a 1-byte body";
        return NGX_ERROR;
    }

    *code = ((ngx_uint_t) data[0] << 8) | data[1];

    if (!ngx_ws_close_code_valid(*code)) {
        *fail_code = NGX_WS_CLOSE_PROTOCOL_ERROR;
        *reason = "invalid close code";
        return NGX_ERROR;
    }

    state = NGX_WS_UTF8_ACCEPT;

    if (ngx_ws_utf8_validate(&state, data + 2, len - 2) != NGX_OK
        || !ngx_ws_utf8_complete(state))
    {
        *fail_code = NGX_WS_CLOSE_INVALID_PAYLOAD;
        *reason = "invalid UTF-8 in a close reason";
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * RFC 6455 7.4.1-7.4.2 and the IANA registry: 1000-1003 and 1007-1014
 * are defined (1012-1014 registered later), 1004-1006 and 1015 must not
 * appear on the wire, 1016-2999 are reserved, 3000-4999 are for
 * libraries and applications (Discord's 4000-4014 among them).
 */

ngx_uint_t
ngx_ws_close_code_valid(ngx_uint_t code)
{
    return (code >= 1000 && code <= 1003)
           || (code >= 1007 && code <= 1014)
           || (code >= 3000 && code <= 4999);
}


size_t
ngx_ws_frame_header(u_char *buf, ngx_uint_t opcode, ngx_uint_t fin,
    uint64_t len)
{
    ngx_uint_t  i;

    buf[0] = (u_char) ((fin ? 0x80 : 0) | opcode);

    if (len < 126) {
        buf[1] = (u_char) len;
        return 2;
    }

    if (len <= 0xffff) {
        buf[1] = 126;
        buf[2] = (u_char) (len >> 8);
        buf[3] = (u_char) len;
        return 4;
    }

    buf[1] = 127;

    for (i = 0; i < 8; i++) {
        buf[2 + i] = (u_char) (len >> (56 - 8 * i));
    }

    return NGX_WS_MAX_SERVER_HEADER;
}
