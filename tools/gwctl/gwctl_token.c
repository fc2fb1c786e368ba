
/*
 * gwctl: tokens (docs/API.md, Tokens), minted offline exactly as the node
 * verifies them:
 *
 *   base64url(user_id) "." base64url(issued_at) "."
 *   base64url(HMAC-SHA256(secret, part1 "." part2))
 *
 * user_id is the decimal snowflake string, issued_at the decimal Unix time
 * in seconds, base64url is RFC 4648, 5 without padding, and the MAC covers
 * the first two parts exactly as they appear in the token.  This is the
 * only file that uses OpenSSL.
 */


#include "gwctl.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>


#define GWCTL_SHA256_LEN            32


/* RFC 4648, 5: "base64url", the URL and filename safe alphabet */
static const char  gwctl_base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


/* writes ceil(len * 4 / 3) characters (no padding) and a NUL */

size_t
gwctl_base64url(const u_char *in, size_t len, char *out)
{
    char        *p;
    uint32_t     v;
    const char  *a;

    a = gwctl_base64url_alphabet;
    p = out;

    while (len >= 3) {
        v = ((uint32_t) in[0] << 16) | ((uint32_t) in[1] << 8) | in[2];

        *p++ = a[(v >> 18) & 0x3f];
        *p++ = a[(v >> 12) & 0x3f];
        *p++ = a[(v >> 6) & 0x3f];
        *p++ = a[v & 0x3f];

        in += 3;
        len -= 3;
    }

    if (len == 2) {
        v = ((uint32_t) in[0] << 16) | ((uint32_t) in[1] << 8);

        *p++ = a[(v >> 18) & 0x3f];
        *p++ = a[(v >> 12) & 0x3f];
        *p++ = a[(v >> 6) & 0x3f];

    } else if (len == 1) {
        v = (uint32_t) in[0] << 16;

        *p++ = a[(v >> 18) & 0x3f];
        *p++ = a[(v >> 12) & 0x3f];
    }

    *p = '\0';

    return (size_t) (p - out);
}


int
gwctl_token_mint(const char *secret, const char *user_id,
    uint64_t issued_at, char *out, size_t size)
{
    char           at[GWCTL_SNOWFLAKE_LEN + 1];
    u_char         mac[EVP_MAX_MD_SIZE];
    size_t         n, id_len, at_len;
    unsigned int   mac_len;

    id_len = strlen(user_id);
    at_len = (size_t) snprintf(at, sizeof(at), "%" PRIu64, issued_at);

    /* base64url grows by 4/3; the MAC part is 43 characters */
    if (id_len > GWCTL_SNOWFLAKE_LEN
        || (id_len + 2) / 3 * 4 + (at_len + 2) / 3 * 4 + 2 + 44 > size)
    {
        return GWCTL_ERROR;
    }

    n = gwctl_base64url((const u_char *) user_id, id_len, out);
    out[n++] = '.';
    n += gwctl_base64url((const u_char *) at, at_len, out + n);

    if (HMAC(EVP_sha256(), secret, (int) strlen(secret), (u_char *) out, n,
             mac, &mac_len)
        == NULL || mac_len != GWCTL_SHA256_LEN)
    {
        fprintf(stderr, "gwctl: HMAC-SHA256 failed\n");
        return GWCTL_ERROR;
    }

    out[n++] = '.';
    gwctl_base64url(mac, mac_len, out + n);

    return GWCTL_OK;
}
