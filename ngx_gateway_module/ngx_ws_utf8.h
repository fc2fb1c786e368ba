
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_WS_UTF8_H_INCLUDED_
#define _NGX_WS_UTF8_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Streaming UTF-8 validation (RFC 3629 section 4, RFC 6455 section 8.1).
 * The state survives between calls, so a text message is validated as its
 * bytes arrive, across frames and across reads, and invalid input is
 * reported at the first offending byte ("fail fast").
 */

#define NGX_WS_UTF8_ACCEPT  0

#define ngx_ws_utf8_complete(state)  ((state) == NGX_WS_UTF8_ACCEPT)


ngx_int_t ngx_ws_utf8_validate(ngx_uint_t *state, const u_char *p, size_t len);


#endif /* _NGX_WS_UTF8_H_INCLUDED_ */
