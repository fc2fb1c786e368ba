
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"
#include "ngx_gateway_admin.h"


/*
 * POST /admin/bulk: NDJSON, one operation a line, one result line per
 * operation in order (docs/API.md).  A bad line gets an error line and the
 * others still apply; members are added without events (a load, not a
 * stream of joins).
 */

static void ngx_gateway_bulk_line(ngx_http_request_t *r, u_char *line,
    size_t len, ngx_gateway_json_t *out);
static void ngx_gateway_bulk_error(ngx_gateway_json_t *out, const char *fmt,
    ...);


ngx_int_t
ngx_gateway_admin_bulk(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char              *p, *last, *eol;
    ngx_gateway_json_t   out;

    static ngx_str_t  ndjson = ngx_string("application/x-ndjson");

    if (ngx_gateway_json_init(&out, 64 + body->len, r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = body->data;
    last = p + body->len;

    while (p < last) {
        eol = ngx_strlchr(p, last, '\n');

        if (eol == NULL) {
            eol = last;
        }

        /* blank lines (and a CR before LF) carry no operation */

        if (eol - p > 0 && eol[-1] == '\r') {
            ngx_gateway_bulk_line(r, p, eol - p - 1, &out);

        } else if (eol > p) {
            ngx_gateway_bulk_line(r, p, eol - p, &out);
        }

        p = eol + 1;
    }

    return ngx_gateway_http_send_type(r, NGX_HTTP_OK, &out, &ndjson);
}


static void
ngx_gateway_bulk_line(ngx_http_request_t *r, u_char *line, size_t len,
    ngx_gateway_json_t *out)
{
    u_char                    err[128];
    json_t                   *root, *op;
    ngx_int_t                 rc;
    ngx_str_t                 name;
    ngx_gateway_user_spec_t   user;
    ngx_gateway_guild_spec_t  guild;
    ngx_gateway_member_ref_t  ref;

    root = ngx_gateway_json_parse(line, len, err, sizeof(err));

    if (root == NULL) {
        ngx_gateway_bulk_error(out, "%s", err);
        ngx_gateway_json_lit(out, "\n");
        return;
    }

    op = json_object_get(root, "op");

    if (ngx_gateway_json_string(op, &name, 16) != NGX_OK) {
        ngx_gateway_bulk_error(out, "\"op\" must be user, guild or member");
        goto done;
    }

    if (ngx_gateway_http_is(&name, "user")) {

        if (ngx_gateway_admin_user_spec(root, &user, err, sizeof(err))
            != NGX_OK)
        {
            ngx_gateway_bulk_error(out, "%s", err);
            goto done;
        }

        rc = ngx_gateway_admin_user_apply(r, &user, out);

        if (rc == NGX_DECLINED) {
            ngx_gateway_bulk_error(out, "user %uL exists", user.id);

        } else if (rc != NGX_OK) {
            ngx_gateway_bulk_error(out, "shared memory zone is full");
        }

    } else if (ngx_gateway_http_is(&name, "guild")) {

        if (ngx_gateway_admin_guild_spec(r->pool, root, NULL, &guild, err,
                                         sizeof(err))
            != NGX_OK)
        {
            ngx_gateway_bulk_error(out, "%s", err);
            goto done;
        }

        rc = ngx_gateway_admin_guild_apply(r, &guild, NULL);

        if (rc == NGX_OK) {
            ngx_gateway_json_lit(out, "{\"id\":");
            ngx_gateway_json_id(out, guild.id);
            ngx_gateway_json_lit(out, "}");

        } else if (rc == NGX_DECLINED) {
            ngx_gateway_bulk_error(out, "a channel id belongs to another "
                                   "guild");

        } else {
            ngx_gateway_bulk_error(out, "shared memory zone is full");
        }

    } else if (ngx_gateway_http_is(&name, "member")) {

        if (ngx_gateway_json_snowflake(json_object_get(root, "guild_id"),
                                       &ref.guild_id)
            != NGX_OK
            || ngx_gateway_json_snowflake(json_object_get(root, "user_id"),
                                          &ref.user_id)
               != NGX_OK)
        {
            ngx_gateway_bulk_error(out, "guild_id and user_id must be "
                                   "snowflakes");
            goto done;
        }

        rc = ngx_gateway_admin_member_apply(r, &ref, root, 0, err,
                                            sizeof(err));

        switch (rc) {

        case NGX_OK:
            ngx_gateway_json_lit(out, "{\"guild_id\":");
            ngx_gateway_json_id(out, ref.guild_id);
            ngx_gateway_json_lit(out, ",\"user_id\":");
            ngx_gateway_json_id(out, ref.user_id);
            ngx_gateway_json_lit(out, "}");
            break;

        case NGX_GATEWAY_UNKNOWN_GUILD:
            ngx_gateway_bulk_error(out, "Unknown Guild");
            break;

        case NGX_GATEWAY_UNKNOWN_USER:
            ngx_gateway_bulk_error(out, "Unknown User");
            break;

        case NGX_GATEWAY_BAD_BODY:
            ngx_gateway_bulk_error(out, "%s", err);
            break;

        default:
            ngx_gateway_bulk_error(out, "shared memory zone is full");
        }

    } else {
        ngx_gateway_bulk_error(out, "\"op\" must be user, guild or member");
    }

done:

    ngx_gateway_json_lit(out, "\n");

    json_decref(root);
}


static void
ngx_gateway_bulk_error(ngx_gateway_json_t *out, const char *fmt, ...)
{
    u_char   msg[256], *p;
    va_list  args;

    va_start(args, fmt);
    p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
    va_end(args);

    ngx_gateway_json_lit(out, "{\"code\":");
    ngx_gateway_json_uint(out, NGX_GATEWAY_ERR_INVALID_BODY);
    ngx_gateway_json_lit(out, ",\"message\":");
    ngx_gateway_json_str(out, msg, p - msg);
    ngx_gateway_json_lit(out, "}");
}
