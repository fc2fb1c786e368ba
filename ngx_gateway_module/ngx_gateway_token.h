
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_GATEWAY_TOKEN_H_INCLUDED_
#define _NGX_GATEWAY_TOKEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Tokens of shared/CONTRACT.md: base64url(user_id) "." base64url(issued_at)
 * "." base64url(HMAC-SHA256(secret, first two parts)), verified without a
 * lookup and compared in constant time.
 */

/* 20-digit id and time in base64url, 32-byte MAC in base64url, 2 dots */
#define NGX_GATEWAY_TOKEN_MAX  (28 + 28 + 43 + 2)


ngx_int_t ngx_gateway_token_verify(ngx_str_t *secret, u_char *token,
    size_t len, uint64_t *user_id);
size_t ngx_gateway_token_create(ngx_str_t *secret, uint64_t user_id,
    time_t issued_at, u_char *buf);


#endif /* _NGX_GATEWAY_TOKEN_H_INCLUDED_ */
