
/*
 * Copyright (C) The gateway authors
 */


/*
 * Fuzz target: the streaming UTF-8 validator (ngx_ws_utf8.c), checked
 * against a reference that decodes code points (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), and against itself fed in
 * random pieces: the verdict may not depend on how the input is split.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_ws_utf8.h"

#include <stdint.h>
#include <stdlib.h>


#define check(cond)  if (!(cond)) abort()

enum { valid = 0, pending, invalid };


/* the bytes that may follow lead byte "lead" as its first continuation */
static int
second_byte_ok(uint8_t lead, uint8_t b)
{
    switch (lead) {
    case 0xe0: return b >= 0xa0 && b <= 0xbf;
    case 0xed: return b >= 0x80 && b <= 0x9f;
    case 0xf0: return b >= 0x90 && b <= 0xbf;
    case 0xf4: return b >= 0x80 && b <= 0x8f;
    default:   return b >= 0x80 && b <= 0xbf;
    }
}


static int
reference(const uint8_t *s, size_t n)
{
    size_t    i, k, len;
    uint32_t  cp, min;

    for (i = 0; i < n; i += len) {

        if (s[i] < 0x80) {
            len = 1;
            continue;
        }

        if ((s[i] & 0xe0) == 0xc0) {
            len = 2; cp = s[i] & 0x1f; min = 0x80;

        } else if ((s[i] & 0xf0) == 0xe0) {
            len = 3; cp = s[i] & 0x0f; min = 0x800;

        } else if ((s[i] & 0xf8) == 0xf0 && s[i] <= 0xf4) {
            len = 4; cp = s[i] & 0x07; min = 0x10000;

        } else {
            return invalid;
        }

        if (len == 2 && s[i] < 0xc2) {
            return invalid;
        }

        for (k = 1; k < len; k++) {

            if (i + k == n) {
                return pending;
            }

            if ((s[i + k] & 0xc0) != 0x80) {
                return invalid;
            }

            if (k == 1 && !second_byte_ok(s[i], s[i + k])) {
                return invalid;
            }

            cp = (cp << 6) | (s[i + k] & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return invalid;
        }
    }

    return valid;
}


static int
streaming(const uint8_t *s, size_t n, uint32_t seed)
{
    size_t      off, piece;
    ngx_uint_t  state;

    state = NGX_WS_UTF8_ACCEPT;

    for (off = 0; off < n; off += piece) {
        seed = seed * 1103515245u + 12345;
        piece = seed ? 1 + (seed >> 16) % 17 : n;

        if (piece > n - off) {
            piece = n - off;
        }

        if (ngx_ws_utf8_validate(&state, s + off, piece) != NGX_OK) {
            return invalid;
        }
    }

    return ngx_ws_utf8_complete(state) ? valid : pending;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int  expect;

    expect = reference(data, size);

    check(streaming(data, size, 0) == expect);
    check(streaming(data, size, 1) == expect);
    check(streaming(data, size, (uint32_t) size * 7919) == expect);

    return 0;
}
