
/*
 * gwload: SHA-1 (FIPS 180-4, 6.1) and base64 (RFC 4648, 4), only what
 * Sec-WebSocket-Accept needs (RFC 6455, 4.2.2, item 5.4).  Kept local so
 * that gwload links against libc only.
 */


#include "gwload.h"


#define gwload_rol(x, n)  (((x) << (n)) | ((x) >> (32 - (n))))


static void gwload_sha1_block(uint32_t h[5], const u_char *p);


void
gwload_sha1(const u_char *data, size_t len, u_char out[20])
{
    size_t    i, rest;
    uint32_t  h[5];
    uint64_t  bits;
    u_char    block[128];

    h[0] = 0x67452301;
    h[1] = 0xefcdab89;
    h[2] = 0x98badcfe;
    h[3] = 0x10325476;
    h[4] = 0xc3d2e1f0;

    bits = (uint64_t) len * 8;

    while (len >= 64) {
        gwload_sha1_block(h, data);
        data += 64;
        len -= 64;
    }

    /* FIPS 180-4, 5.1.1 Padding the Message */

    memset(block, 0, sizeof(block));
    memcpy(block, data, len);
    block[len] = 0x80;

    rest = (len < 56) ? 64 : 128;

    for (i = 0; i < 8; i++) {
        block[rest - 1 - i] = (u_char) (bits >> (8 * i));
    }

    gwload_sha1_block(h, block);

    if (rest == 128) {
        gwload_sha1_block(h, block + 64);
    }

    for (i = 0; i < 5; i++) {
        out[4 * i] = (u_char) (h[i] >> 24);
        out[4 * i + 1] = (u_char) (h[i] >> 16);
        out[4 * i + 2] = (u_char) (h[i] >> 8);
        out[4 * i + 3] = (u_char) h[i];
    }
}


static void
gwload_sha1_block(uint32_t h[5], const u_char *p)
{
    int       t;
    uint32_t  a, b, c, d, e, f, k, tmp, w[80];

    for (t = 0; t < 16; t++) {
        w[t] = ((uint32_t) p[4 * t] << 24) | ((uint32_t) p[4 * t + 1] << 16)
               | ((uint32_t) p[4 * t + 2] << 8) | (uint32_t) p[4 * t + 3];
    }

    for (t = 16; t < 80; t++) {
        w[t] = gwload_rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    }

    a = h[0];
    b = h[1];
    c = h[2];
    d = h[3];
    e = h[4];

    for (t = 0; t < 80; t++) {

        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;

        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;

        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;

        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }

        tmp = gwload_rol(a, 5) + f + e + k + w[t];
        e = d;
        d = c;
        c = gwload_rol(b, 30);
        b = a;
        a = tmp;
    }

    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}


/* writes 4 * ceil(len / 3) characters and a NUL; returns the length */

size_t
gwload_base64(const u_char *src, size_t len, char *dst)
{
    char                *d;
    uint32_t             v;
    static const char    tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    d = dst;

    while (len >= 3) {
        v = ((uint32_t) src[0] << 16) | ((uint32_t) src[1] << 8) | src[2];
        *d++ = tab[(v >> 18) & 0x3f];
        *d++ = tab[(v >> 12) & 0x3f];
        *d++ = tab[(v >> 6) & 0x3f];
        *d++ = tab[v & 0x3f];
        src += 3;
        len -= 3;
    }

    if (len) {
        v = (uint32_t) src[0] << 16;

        if (len == 2) {
            v |= (uint32_t) src[1] << 8;
        }

        *d++ = tab[(v >> 18) & 0x3f];
        *d++ = tab[(v >> 12) & 0x3f];
        *d++ = (len == 2) ? tab[(v >> 6) & 0x3f] : '=';
        *d++ = '=';
    }

    *d = '\0';

    return d - dst;
}
