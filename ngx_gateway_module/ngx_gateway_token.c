
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_gateway_token.h"
#include "ngx_gateway_json.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>


#define NGX_GATEWAY_MAC_LEN  32


static ngx_int_t ngx_gateway_token_mac(ngx_str_t *secret, u_char *data,
    size_t len, u_char *mac);


/* Returns NGX_OK with *user_id, or NGX_DECLINED for any bad token. */

ngx_int_t
ngx_gateway_token_verify(ngx_str_t *secret, u_char *token, size_t len,
    uint64_t *user_id)
{
    u_char     *dot1, *dot2, *last;
    u_char      id[NGX_INT64_LEN + 4], mac[NGX_GATEWAY_MAC_LEN];
    u_char      given[NGX_GATEWAY_MAC_LEN + 4];
    ngx_str_t   src, dst;

    if (len > NGX_GATEWAY_TOKEN_MAX || secret->len == 0) {
        return NGX_DECLINED;
    }

    last = token + len;

    dot1 = ngx_strlchr(token, last, '.');
    if (dot1 == NULL) {
        return NGX_DECLINED;
    }

    dot2 = ngx_strlchr(dot1 + 1, last, '.');
    if (dot2 == NULL) {
        return NGX_DECLINED;
    }

    /* the MAC first: nothing else of a forged token is looked at */

    src.data = dot2 + 1;
    src.len = last - src.data;

    if (src.len != ngx_base64_encoded_length(NGX_GATEWAY_MAC_LEN) - 1) {
        return NGX_DECLINED;
    }

    dst.data = given;

    if (ngx_decode_base64url(&dst, &src) != NGX_OK
        || dst.len != NGX_GATEWAY_MAC_LEN)
    {
        return NGX_DECLINED;
    }

    if (ngx_gateway_token_mac(secret, token, dot2 - token, mac) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (CRYPTO_memcmp(mac, given, NGX_GATEWAY_MAC_LEN) != 0) {
        return NGX_DECLINED;
    }

    src.data = token;
    src.len = dot1 - token;

    if (src.len > ngx_base64_encoded_length(NGX_INT64_LEN)) {
        return NGX_DECLINED;
    }

    dst.data = id;

    if (ngx_decode_base64url(&dst, &src) != NGX_OK
        || ngx_gateway_parse_snowflake(id, dst.len, user_id) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* writes the token into buf (NGX_GATEWAY_TOKEN_MAX bytes); 0 on failure */

size_t
ngx_gateway_token_create(ngx_str_t *secret, uint64_t user_id,
    time_t issued_at, u_char *buf)
{
    u_char     *p, digits[NGX_INT64_LEN], mac[NGX_GATEWAY_MAC_LEN];
    ngx_str_t   src, dst;

    p = buf;

    src.data = digits;
    src.len = ngx_sprintf(digits, "%uL", user_id) - digits;
    dst.data = p;
    ngx_encode_base64url(&dst, &src);
    p += dst.len;

    *p++ = '.';

    src.len = ngx_sprintf(digits, "%T", issued_at) - digits;
    dst.data = p;
    ngx_encode_base64url(&dst, &src);
    p += dst.len;

    if (ngx_gateway_token_mac(secret, buf, p - buf, mac) != NGX_OK) {
        return 0;
    }

    *p++ = '.';

    src.data = mac;
    src.len = NGX_GATEWAY_MAC_LEN;
    dst.data = p;
    ngx_encode_base64url(&dst, &src);
    p += dst.len;

    return p - buf;
}


static ngx_int_t
ngx_gateway_token_mac(ngx_str_t *secret, u_char *data, size_t len,
    u_char *mac)
{
    unsigned int  mac_len;

    mac_len = NGX_GATEWAY_MAC_LEN;

    if (HMAC(EVP_sha256(), secret->data, (int) secret->len, data, len, mac,
             &mac_len) == NULL
        || mac_len != NGX_GATEWAY_MAC_LEN)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
