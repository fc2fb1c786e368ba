
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/* the content handler of "gateway" and "gateway_ws_echo" */

ngx_int_t
ngx_gateway_upgrade_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_gateway_loc_conf_t  *glcf;

    glcf = ngx_http_get_module_loc_conf(r, ngx_gateway_module);

    rc = ngx_gateway_upgrade_limit(r);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_ws_upgrade(r, &glcf->ws);
}
