
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_ws_utf8.h"


/*
 * The validator is a small state machine over the well-formed byte
 * sequences of RFC 3629 section 4:
 *
 *   UTF8-2 = %xC2-DF UTF8-tail
 *   UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
 *            %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
 *   UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
 *            %xF4 %x80-8F 2( UTF8-tail )
 *
 * The restricted second-byte ranges after E0, ED, F0 and F4 reject
 * overlong forms, UTF-16 surrogates (U+D800..U+DFFF) and code points above
 * U+10FFFF.  C0, C1 and F5..FF never start a sequence.
 */

enum {
    sw_accept = NGX_WS_UTF8_ACCEPT,
    sw_tail1,           /* one UTF8-tail (80..BF) to go */
    sw_tail2,           /* two UTF8-tails to go */
    sw_tail3,           /* three UTF8-tails to go */
    sw_after_e0,        /* A0..BF, then one tail */
    sw_after_ed,        /* 80..9F, then one tail */
    sw_after_f0,        /* 90..BF, then two tails */
    sw_after_f4,        /* 80..8F, then two tails */
    sw_reject
};


#define NGX_WS_UTF8_ASCII_MASK  0x8080808080808080ULL


ngx_int_t
ngx_ws_utf8_validate(ngx_uint_t *state, const u_char *p, size_t len)
{
    u_char        ch;
    uint64_t      word;
    ngx_uint_t    s;
    const u_char *last;

    s = *state;
    last = p + len;

    while (p < last) {

        if (s == sw_accept) {

            /* fast path for ASCII runs, eight bytes at a time */

            while (last - p >= 8) {
                ngx_memcpy(&word, p, 8);

                if (word & NGX_WS_UTF8_ASCII_MASK) {
                    break;
                }

                p += 8;
            }

            if (p == last) {
                break;
            }
        }

        ch = *p++;

        switch (s) {

        case sw_accept:

            if (ch < 0x80) {
                break;
            }

            if (ch < 0xc2) {
                s = sw_reject;

            } else if (ch < 0xe0) {
                s = sw_tail1;

            } else if (ch == 0xe0) {
                s = sw_after_e0;

            } else if (ch == 0xed) {
                s = sw_after_ed;

            } else if (ch < 0xf0) {
                s = sw_tail2;

            } else if (ch == 0xf0) {
                s = sw_after_f0;

            } else if (ch < 0xf4) {
                s = sw_tail3;

            } else if (ch == 0xf4) {
                s = sw_after_f4;

            } else {
                s = sw_reject;
            }

            break;

        case sw_tail1:
        case sw_tail2:
        case sw_tail3:
            s = (ch >= 0x80 && ch <= 0xbf) ? s - 1 : sw_reject;
            break;

        case sw_after_e0:
            s = (ch >= 0xa0 && ch <= 0xbf) ? sw_tail1 : sw_reject;
            break;

        case sw_after_ed:
            s = (ch >= 0x80 && ch <= 0x9f) ? sw_tail1 : sw_reject;
            break;

        case sw_after_f0:
            s = (ch >= 0x90 && ch <= 0xbf) ? sw_tail2 : sw_reject;
            break;

        case sw_after_f4:
            s = (ch >= 0x80 && ch <= 0x8f) ? sw_tail2 : sw_reject;
            break;

        default: /* sw_reject */
            break;
        }

        if (s == sw_reject) {
            *state = sw_reject;
            return NGX_ERROR;
        }
    }

    *state = s;

    return NGX_OK;
}
