
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * The Discord REST subset (shared/CONTRACT.md, docs/API.md): gateway
 * discovery, the token's user, a guild, and posting to a channel
 * (ngx_gateway_rest_channels.c).  Paths are /api/v10/... (v9 is
 * accepted as well); errors use Discord's shape.
 */

/* shared/PROTOCOL.md 1.11: a shard per 1000 guilds is recommended */
#define NGX_GATEWAY_GUILDS_PER_SHARD     1000


static void ngx_gateway_rest_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_gateway_rest_dispatch(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_gateway_rest_route(ngx_http_request_t *r,
    ngx_gateway_path_t *path, ngx_str_t *body);
static ngx_int_t ngx_gateway_rest_gateway(ngx_http_request_t *r,
    ngx_uint_t bot);
static ngx_int_t ngx_gateway_rest_me(ngx_http_request_t *r);
static ngx_int_t ngx_gateway_rest_guild(ngx_http_request_t *r,
    ngx_str_t *id);
static ngx_int_t ngx_gateway_rest_unauthorized(ngx_http_request_t *r);


ngx_int_t
ngx_gateway_rest_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;
    ngx_str_t  body;

    if (r->method == NGX_HTTP_POST) {
        rc = ngx_http_read_client_request_body(r,
                                               ngx_gateway_rest_body_handler);

        if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
            r->keepalive = 0;

            return ngx_gateway_http_error(r,
                                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          NGX_GATEWAY_ERR_TOO_LARGE,
                                          "Request entity too large");
        }

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_str_null(&body);

    return ngx_gateway_rest_dispatch(r, &body);
}


static void
ngx_gateway_rest_body_handler(ngx_http_request_t *r)
{
    ngx_str_t  body;

    if (ngx_gateway_http_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r, ngx_gateway_rest_dispatch(r, &body));
}


static ngx_int_t
ngx_gateway_rest_dispatch(ngx_http_request_t *r, ngx_str_t *body)
{
    ngx_gateway_path_t   path;

    if (ngx_gateway_http_path(r, "/api/", &path) != NGX_OK
        || path.n < 2
        || !(ngx_gateway_http_is(&path.seg[0], "v10")
             || ngx_gateway_http_is(&path.seg[0], "v9")))
    {
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "404: Not Found");
    }

    return ngx_gateway_rest_route(r, &path, body);
}


static ngx_int_t
ngx_gateway_rest_route(ngx_http_request_t *r, ngx_gateway_path_t *path,
    ngx_str_t *body)
{
    ngx_str_t  *seg;

    seg = path->seg;

    if (ngx_gateway_http_is(&seg[1], "gateway") && path->n <= 3) {

        if (path->n == 3 && !ngx_gateway_http_is(&seg[2], "bot")) {
            goto not_found;
        }

        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            goto not_allowed;
        }

        return ngx_gateway_rest_gateway(r, path->n == 3);
    }

    if (path->n == 3 && ngx_gateway_http_is(&seg[1], "users")
        && ngx_gateway_http_is(&seg[2], "@me"))
    {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            goto not_allowed;
        }

        return ngx_gateway_rest_me(r);
    }

    if (path->n == 3 && ngx_gateway_http_is(&seg[1], "guilds")) {

        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            goto not_allowed;
        }

        return ngx_gateway_rest_guild(r, &seg[2]);
    }

    if (path->n == 4 && ngx_gateway_http_is(&seg[1], "channels")) {

        if (ngx_gateway_http_is(&seg[3], "messages")) {
            if (r->method != NGX_HTTP_POST) {
                goto not_allowed;
            }

            return ngx_gateway_rest_message_create(r, &seg[2], body);
        }

        if (ngx_gateway_http_is(&seg[3], "typing")) {
            if (r->method != NGX_HTTP_POST) {
                goto not_allowed;
            }

            return ngx_gateway_rest_typing(r, &seg[2]);
        }
    }

not_found:

    return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                  NGX_GATEWAY_ERR_GENERAL, "404: Not Found");

not_allowed:

    return ngx_gateway_http_error(r, NGX_HTTP_NOT_ALLOWED,
                                  NGX_GATEWAY_ERR_GENERAL,
                                  "405: Method Not Allowed");
}


static ngx_int_t
ngx_gateway_rest_unauthorized(ngx_http_request_t *r)
{
    return ngx_gateway_http_error(r, NGX_HTTP_UNAUTHORIZED,
                                  NGX_GATEWAY_ERR_GENERAL,
                                  "401: Unauthorized");
}


/*
 * GET /gateway: {"url"}.  GET /gateway/bot: the URL, a recommended shard
 * count and session_start_limit (1.11).
 */

static ngx_int_t
ngx_gateway_rest_gateway(ngx_http_request_t *r, ngx_uint_t bot)
{
    uint64_t                  user_id;
    ngx_msec_t                reset_after;
    ngx_uint_t                guilds, left;
    ngx_gateway_json_t        j;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_user_t       *u;
    ngx_gateway_main_conf_t  *gmcf;

    guilds = 0;
    left = 0;
    reset_after = 0;

    gmcf = ngx_http_get_module_main_conf(r, ngx_gateway_module);

    if (bot) {
        if (ngx_gateway_http_user(r, &user_id) != NGX_OK) {
            return ngx_gateway_rest_unauthorized(r);
        }

        zone = ngx_gateway_zone_get(gmcf);

        ngx_gateway_lock(zone);

        u = ngx_gateway_user_lookup_locked(zone, user_id);

        if (u) {
            guilds = u->guilds;
            left = ngx_gateway_session_starts_left_locked(u,
                                               gmcf->session_start_limit,
                                               &reset_after);
        }

        ngx_gateway_unlock(zone);

        if (u == NULL) {
            return ngx_gateway_rest_unauthorized(r);
        }
    }

    if (ngx_gateway_json_init(&j, 256, r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_gateway_json_lit(&j, "{\"url\":");
    ngx_gateway_http_gateway_url(r, &j);

    if (bot) {
        ngx_gateway_json_lit(&j, ",\"shards\":");
        ngx_gateway_json_uint(&j, guilds / NGX_GATEWAY_GUILDS_PER_SHARD + 1);
        ngx_gateway_json_lit(&j, ",\"session_start_limit\":{\"total\":");
        ngx_gateway_json_uint(&j, gmcf->session_start_limit);
        ngx_gateway_json_lit(&j, ",\"remaining\":");
        ngx_gateway_json_uint(&j, left);
        ngx_gateway_json_lit(&j, ",\"reset_after\":");
        ngx_gateway_json_uint(&j, reset_after);
        ngx_gateway_json_lit(&j, ",\"max_concurrency\":");
        ngx_gateway_json_uint(&j, gmcf->identify_concurrency);
        ngx_gateway_json_lit(&j, "}");
    }

    ngx_gateway_json_lit(&j, "}");

    return ngx_gateway_http_send(r, NGX_HTTP_OK, &j);
}


static ngx_int_t
ngx_gateway_rest_me(ngx_http_request_t *r)
{
    uint64_t              user_id;
    ngx_gateway_json_t    j;
    ngx_gateway_zone_t   *zone;
    ngx_gateway_user_t   *u;

    if (ngx_gateway_http_user(r, &user_id) != NGX_OK) {
        return ngx_gateway_rest_unauthorized(r);
    }

    if (ngx_gateway_json_init(&j, 512, r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_gateway_lock(zone);

    u = ngx_gateway_user_lookup_locked(zone, user_id);

    if (u) {
        ngx_gateway_encode_user(&j, u, 1);
    }

    ngx_gateway_unlock(zone);

    if (u == NULL) {
        ngx_gateway_json_free(&j);
        return ngx_gateway_rest_unauthorized(r);
    }

    return ngx_gateway_http_send(r, NGX_HTTP_OK, &j);
}


/* GET /guilds/{id}: members only (50001 Missing Access otherwise) */

static ngx_int_t
ngx_gateway_rest_guild(ngx_http_request_t *r, ngx_str_t *id)
{
    uint64_t               user_id, guild_id;
    ngx_uint_t             member;
    ngx_gateway_json_t     j;
    ngx_gateway_zone_t    *zone;
    ngx_gateway_guild_t   *g;

    if (ngx_gateway_http_user(r, &user_id) != NGX_OK) {
        return ngx_gateway_rest_unauthorized(r);
    }

    if (ngx_gateway_parse_snowflake(id->data, id->len, &guild_id) != NGX_OK) {
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_GUILD,
                                      "Unknown Guild");
    }

    if (ngx_gateway_json_init(&j, 1024, r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_gateway_lock(zone);

    g = ngx_gateway_guild_lookup_locked(zone, guild_id);
    member = g && ngx_gateway_member_lookup_locked(zone, guild_id, user_id);

    if (member) {
        ngx_gateway_encode_guild(&j, g);
    }

    ngx_gateway_unlock(zone);

    if (g == NULL) {
        ngx_gateway_json_free(&j);
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_GUILD,
                                      "Unknown Guild");
    }

    if (!member) {
        ngx_gateway_json_free(&j);
        return ngx_gateway_http_error(r, NGX_HTTP_FORBIDDEN,
                                      NGX_GATEWAY_ERR_MISSING_ACCESS,
                                      "Missing Access");
    }

    return ngx_gateway_http_send(r, NGX_HTTP_OK, &j);
}
