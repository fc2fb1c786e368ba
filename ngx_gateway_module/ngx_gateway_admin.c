
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"
#include "ngx_gateway_admin.h"

#include <openssl/crypto.h>


/*
 * The admin API of shared/CONTRACT.md and docs/API.md: loopback clients
 * with "Authorization: Admin <secret>" manage users, guilds and members,
 * load them in bulk, dispatch events and read the node's status.
 */


static void ngx_gateway_admin_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_gateway_admin_route(ngx_http_request_t *r,
    ngx_gateway_path_t *path, ngx_str_t *body);
static ngx_int_t ngx_gateway_admin_authorized(ngx_http_request_t *r);
static ngx_int_t ngx_gateway_admin_user_create(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_gateway_admin_user_get(ngx_http_request_t *r,
    ngx_str_t *id);
static ngx_int_t ngx_gateway_admin_user_delete(ngx_http_request_t *r,
    ngx_str_t *id);
static ngx_int_t ngx_gateway_admin_guild_put(ngx_http_request_t *r,
    ngx_str_t *id, ngx_str_t *body);
static ngx_int_t ngx_gateway_admin_guild_get(ngx_http_request_t *r,
    ngx_str_t *id);
static ngx_int_t ngx_gateway_admin_guild_delete(ngx_http_request_t *r,
    ngx_str_t *id);
static ngx_int_t ngx_gateway_admin_member_put(ngx_http_request_t *r,
    ngx_str_t *gid, ngx_str_t *uid, ngx_str_t *body);
static ngx_int_t ngx_gateway_admin_member_delete(ngx_http_request_t *r,
    ngx_str_t *gid, ngx_str_t *uid);
static ngx_int_t ngx_gateway_admin_dispatch(ngx_http_request_t *r,
    ngx_str_t *gid, ngx_str_t *body);


ngx_int_t
ngx_gateway_admin_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (!ngx_gateway_http_loopback(r)) {
        return ngx_gateway_http_error(r, NGX_HTTP_FORBIDDEN,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "403: Forbidden");
    }

    if (ngx_gateway_admin_authorized(r) != NGX_OK) {
        return ngx_gateway_http_error(r, NGX_HTTP_UNAUTHORIZED,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "401: Unauthorized");
    }

    rc = ngx_http_read_client_request_body(r,
                                           ngx_gateway_admin_body_handler);

    if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {

        /* in Discord's shape rather than nginx's HTML page */

        r->keepalive = 0;

        return ngx_gateway_http_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                      NGX_GATEWAY_ERR_TOO_LARGE,
                                      "Request entity too large");
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_gateway_admin_body_handler(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_str_t            body;
    ngx_gateway_path_t   path;

    if (ngx_gateway_http_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_gateway_http_path(r, "/admin/", &path) != NGX_OK) {
        rc = ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                    NGX_GATEWAY_ERR_GENERAL,
                                    "404: Not Found");

    } else {
        rc = ngx_gateway_admin_route(r, &path, &body);
    }

    ngx_http_finalize_request(r, rc);
}


/* the secret compared in constant time (TESTING 3.1) */

static ngx_int_t
ngx_gateway_admin_authorized(ngx_http_request_t *r)
{
    u_char                   *p;
    size_t                    len;
    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ngx_http_get_module_main_conf(r, ngx_gateway_module);

    if (r->headers_in.authorization == NULL || gmcf->admin_secret.len == 0) {
        return NGX_DECLINED;
    }

    p = r->headers_in.authorization->value.data;
    len = r->headers_in.authorization->value.len;

    if (len != sizeof("Admin ") - 1 + gmcf->admin_secret.len
        || ngx_strncasecmp(p, (u_char *) "Admin ", sizeof("Admin ") - 1)
           != 0)
    {
        return NGX_DECLINED;
    }

    p += sizeof("Admin ") - 1;

    return CRYPTO_memcmp(p, gmcf->admin_secret.data, gmcf->admin_secret.len)
           == 0 ? NGX_OK : NGX_DECLINED;
}


#define ngx_gateway_not_allowed(r)                                            \
    ngx_gateway_http_error(r, NGX_HTTP_NOT_ALLOWED, NGX_GATEWAY_ERR_GENERAL,  \
                           "405: Method Not Allowed")

#define ngx_gateway_not_found(r)                                              \
    ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND, NGX_GATEWAY_ERR_GENERAL,    \
                           "404: Not Found")


static ngx_int_t
ngx_gateway_admin_route(ngx_http_request_t *r, ngx_gateway_path_t *path,
    ngx_str_t *body)
{
    ngx_str_t   *seg;
    ngx_uint_t   m;

    seg = path->seg;
    m = r->method;

    if (path->n == 0) {
        return ngx_gateway_not_found(r);
    }

    if (ngx_gateway_http_is(&seg[0], "users")) {

        if (path->n == 1) {
            return (m == NGX_HTTP_POST)
                   ? ngx_gateway_admin_user_create(r, body)
                   : ngx_gateway_not_allowed(r);
        }

        if (path->n == 2) {
            switch (m) {
            case NGX_HTTP_GET:
                return ngx_gateway_admin_user_get(r, &seg[1]);
            case NGX_HTTP_DELETE:
                return ngx_gateway_admin_user_delete(r, &seg[1]);
            default:
                return ngx_gateway_not_allowed(r);
            }
        }

        return ngx_gateway_not_found(r);
    }

    if (ngx_gateway_http_is(&seg[0], "guilds") && path->n >= 2) {

        if (path->n == 2) {
            switch (m) {
            case NGX_HTTP_PUT:
                return ngx_gateway_admin_guild_put(r, &seg[1], body);
            case NGX_HTTP_GET:
                return ngx_gateway_admin_guild_get(r, &seg[1]);
            case NGX_HTTP_DELETE:
                return ngx_gateway_admin_guild_delete(r, &seg[1]);
            default:
                return ngx_gateway_not_allowed(r);
            }
        }

        if (path->n == 3 && ngx_gateway_http_is(&seg[2], "dispatch")) {
            return (m == NGX_HTTP_POST)
                   ? ngx_gateway_admin_dispatch(r, &seg[1], body)
                   : ngx_gateway_not_allowed(r);
        }

        if (path->n == 4 && ngx_gateway_http_is(&seg[2], "members")) {
            switch (m) {
            case NGX_HTTP_PUT:
                return ngx_gateway_admin_member_put(r, &seg[1], &seg[3],
                                                    body);
            case NGX_HTTP_DELETE:
                return ngx_gateway_admin_member_delete(r, &seg[1], &seg[3]);
            default:
                return ngx_gateway_not_allowed(r);
            }
        }

        return ngx_gateway_not_found(r);
    }

    if (path->n == 1 && ngx_gateway_http_is(&seg[0], "bulk")) {
        return (m == NGX_HTTP_POST) ? ngx_gateway_admin_bulk(r, body)
                                    : ngx_gateway_not_allowed(r);
    }

    if (path->n == 1 && ngx_gateway_http_is(&seg[0], "status")) {
        return (m == NGX_HTTP_GET) ? ngx_gateway_admin_status(r)
                                   : ngx_gateway_not_allowed(r);
    }

    if (path->n == 3 && ngx_gateway_http_is(&seg[0], "shards")
        && ngx_gateway_http_is(&seg[2], "move"))
    {
        if (m != NGX_HTTP_POST) {
            return ngx_gateway_not_allowed(r);
        }

        return ngx_gateway_http_error(r, NGX_HTTP_CONFLICT,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "shards move between the nodes of a "
                                      "cluster; this node runs in embedded "
                                      "mode");
    }

    return ngx_gateway_not_found(r);
}


/* --- users ------------------------------------------------------------- */

static ngx_int_t
ngx_gateway_admin_user_create(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char                    err[128];
    json_t                   *root;
    ngx_int_t                 rc;
    ngx_gateway_json_t        j;
    ngx_gateway_user_spec_t   spec;

    root = ngx_gateway_json_parse(body->data, body->len, err, sizeof(err));

    if (root == NULL) {
        return ngx_gateway_http_error(r, NGX_HTTP_BAD_REQUEST,
                                      NGX_GATEWAY_ERR_INVALID_BODY,
                                      "Invalid Form Body: %s", err);
    }

    if (ngx_gateway_admin_user_spec(root, &spec, err, sizeof(err))
        != NGX_OK)
    {
        json_decref(root);
        return ngx_gateway_http_error(r, NGX_HTTP_BAD_REQUEST,
                                      NGX_GATEWAY_ERR_INVALID_BODY,
                                      "Invalid Form Body: %s", err);
    }

    if (ngx_gateway_json_init(&j, 256, r->connection->log) != NGX_OK) {
        json_decref(root);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gateway_admin_user_apply(r, &spec, &j);

    json_decref(root);

    switch (rc) {

    case NGX_OK:
        return ngx_gateway_http_send(r, NGX_HTTP_OK, &j);

    case NGX_DECLINED:
        ngx_gateway_json_free(&j);
        return ngx_gateway_http_error(r, NGX_HTTP_CONFLICT,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "user %uL exists", spec.id);

    default:
        ngx_gateway_json_free(&j);
        return ngx_gateway_http_error(r,
                                      NGX_GATEWAY_HTTP_INSUFFICIENT_STORAGE,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "507: shared memory zone is full");
    }
}


static ngx_int_t
ngx_gateway_admin_user_get(ngx_http_request_t *r, ngx_str_t *id)
{
    uint64_t              uid;
    ngx_gateway_json_t    j;
    ngx_gateway_zone_t   *zone;
    ngx_gateway_user_t   *u;

    if (ngx_gateway_parse_snowflake(id->data, id->len, &uid) != NGX_OK) {
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_USER,
                                      "Unknown User");
    }

    if (ngx_gateway_json_init(&j, 512, r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_gateway_lock(zone);

    u = ngx_gateway_user_lookup_locked(zone, uid);

    if (u) {
        ngx_gateway_encode_user(&j, u, 0);
    }

    ngx_gateway_unlock(zone);

    if (u == NULL) {
        ngx_gateway_json_free(&j);
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_USER,
                                      "Unknown User");
    }

    return ngx_gateway_http_send(r, NGX_HTTP_OK, &j);
}


/*
 * The user goes, with its memberships; its live sessions are closed with
 * 4004 (their token names a user that no longer exists).
 */

static ngx_int_t
ngx_gateway_admin_user_delete(ngx_http_request_t *r, ngx_str_t *id)
{
    uint64_t                  uid;
    ngx_queue_t              *q, *next;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_user_t       *u;
    ngx_gateway_session_t    *s;
    ngx_gateway_doorbells_t   doorbells;

    if (ngx_gateway_parse_snowflake(id->data, id->len, &uid) != NGX_OK) {
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_USER,
                                      "Unknown User");
    }

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_memzero(&doorbells, sizeof(ngx_gateway_doorbells_t));

    ngx_gateway_lock(zone);

    u = ngx_gateway_user_lookup_locked(zone, uid);

    if (u) {
        for (q = ngx_queue_head(&u->sessions);
             q != ngx_queue_sentinel(&u->sessions);
             q = next)
        {
            next = ngx_queue_next(q);
            s = ngx_queue_data(q, ngx_gateway_session_t, user_link);

            ngx_queue_remove(&s->user_link);
            s->user = NULL;

            ngx_gateway_doorbells_add_locked(&doorbells, s);
            ngx_gateway_session_kill_locked(zone, s,
                                            NGX_GATEWAY_CLOSE_AUTH_FAILED);
        }

        /* the guilds' other sessions see the user leave */

        ngx_gateway_admin_member_leave_all_locked(zone, u, &doorbells,
                                                  r->connection->log);

        ngx_gateway_user_delete_locked(zone, u);
    }

    ngx_gateway_unlock(zone);

    ngx_gateway_doorbells_ring(&doorbells);

    if (u == NULL) {
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_USER,
                                      "Unknown User");
    }

    return ngx_gateway_http_status(r, NGX_HTTP_NO_CONTENT);
}


/* --- guilds ----------------------------------------------------------- */

static ngx_int_t
ngx_gateway_admin_guild_put(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *body)
{
    u_char                     err[128];
    json_t                    *root;
    ngx_int_t                  rc;
    ngx_gateway_json_t         j;
    ngx_gateway_guild_spec_t   spec;

    root = ngx_gateway_json_parse(body->data, body->len, err, sizeof(err));

    if (root == NULL
        || ngx_gateway_admin_guild_spec(r->pool, root, id, &spec, err,
                                        sizeof(err))
           != NGX_OK)
    {
        if (root) {
            json_decref(root);
        }

        return ngx_gateway_http_error(r, NGX_HTTP_BAD_REQUEST,
                                      NGX_GATEWAY_ERR_INVALID_BODY,
                                      "Invalid Form Body: %s", err);
    }

    if (ngx_gateway_json_init(&j, 1024, r->connection->log) != NGX_OK) {
        json_decref(root);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gateway_admin_guild_apply(r, &spec, &j);

    json_decref(root);

    switch (rc) {

    case NGX_OK:
        return ngx_gateway_http_send(r, NGX_HTTP_OK, &j);

    case NGX_DECLINED:
        ngx_gateway_json_free(&j);
        return ngx_gateway_http_error(r, NGX_HTTP_CONFLICT,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "a channel id belongs to another guild");

    default:
        ngx_gateway_json_free(&j);
        return ngx_gateway_http_error(r,
                                      NGX_GATEWAY_HTTP_INSUFFICIENT_STORAGE,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "507: shared memory zone is full");
    }
}


static ngx_int_t
ngx_gateway_admin_guild_get(ngx_http_request_t *r, ngx_str_t *id)
{
    uint64_t              gid;
    ngx_gateway_json_t    j;
    ngx_gateway_zone_t   *zone;
    ngx_gateway_guild_t  *g;

    if (ngx_gateway_parse_snowflake(id->data, id->len, &gid) != NGX_OK) {
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

    g = ngx_gateway_guild_lookup_locked(zone, gid);

    if (g) {
        ngx_gateway_admin_encode_guild(&j, g);
    }

    ngx_gateway_unlock(zone);

    if (g == NULL) {
        ngx_gateway_json_free(&j);
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_GUILD,
                                      "Unknown Guild");
    }

    return ngx_gateway_http_send(r, NGX_HTTP_OK, &j);
}


/* the guild goes; its members' sessions get GUILD_DELETE (1.15) */

static ngx_int_t
ngx_gateway_admin_guild_delete(ngx_http_request_t *r, ngx_str_t *id)
{
    uint64_t                  gid;
    ngx_gateway_json_t        j;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_guild_t      *g;
    ngx_gateway_publish_t     pub;
    ngx_gateway_doorbells_t   doorbells;

    if (ngx_gateway_parse_snowflake(id->data, id->len, &gid) != NGX_OK) {
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_GUILD,
                                      "Unknown Guild");
    }

    if (ngx_gateway_json_init(&j, 128, r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_gateway_encode_dispatch(&j, "GUILD_DELETE");
    ngx_gateway_json_lit(&j, "{\"id\":");
    ngx_gateway_json_id(&j, gid);
    ngx_gateway_json_lit(&j, "}}");

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_memzero(&doorbells, sizeof(ngx_gateway_doorbells_t));
    ngx_memzero(&pub, sizeof(ngx_gateway_publish_t));

    ngx_gateway_lock(zone);

    g = ngx_gateway_guild_lookup_locked(zone, gid);

    if (g) {
        pub.blob = ngx_gateway_event_blob_locked(zone, &j);
        pub.guild_id = gid;
        pub.intent = NGX_GATEWAY_INTENT_GUILDS;
        pub.doorbells = &doorbells;

        if (pub.blob) {
            ngx_gateway_publish_guild_locked(zone, g, &pub);
            ngx_gateway_event_done_locked(zone, pub.blob);
        }

        ngx_gateway_guild_delete_locked(zone, g);
    }

    ngx_gateway_unlock(zone);

    ngx_gateway_json_free(&j);
    ngx_gateway_doorbells_ring(&doorbells);

    if (g == NULL) {
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_GUILD,
                                      "Unknown Guild");
    }

    return ngx_gateway_http_status(r, NGX_HTTP_NO_CONTENT);
}


/* --- members ------------------------------------------------------------ */

/*
 * A new member's sessions get GUILD_CREATE for the guild; the guild's
 * other sessions with GUILD_MEMBERS get GUILD_MEMBER_ADD.
 */

static ngx_int_t
ngx_gateway_admin_member_put(ngx_http_request_t *r, ngx_str_t *gid,
    ngx_str_t *uid, ngx_str_t *body)
{
    u_char                  err[128];
    json_t                 *root;
    ngx_int_t               rc;
    ngx_gateway_member_ref_t  ref;

    if (ngx_gateway_parse_snowflake(gid->data, gid->len, &ref.guild_id)
        != NGX_OK
        || ngx_gateway_parse_snowflake(uid->data, uid->len, &ref.user_id)
           != NGX_OK)
    {
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "404: Not Found");
    }

    root = NULL;

    if (body->len) {
        root = ngx_gateway_json_parse(body->data, body->len, err,
                                      sizeof(err));
        if (root == NULL) {
            return ngx_gateway_http_error(r, NGX_HTTP_BAD_REQUEST,
                                          NGX_GATEWAY_ERR_INVALID_BODY,
                                          "Invalid Form Body: %s", err);
        }
    }

    rc = ngx_gateway_admin_member_apply(r, &ref, root, 1, err, sizeof(err));

    if (root) {
        json_decref(root);
    }

    return ngx_gateway_admin_member_result(r, rc, err);
}


static ngx_int_t
ngx_gateway_admin_member_delete(ngx_http_request_t *r, ngx_str_t *gid,
    ngx_str_t *uid)
{
    u_char                    err[128];
    ngx_int_t                 rc;
    ngx_gateway_member_ref_t  ref;

    if (ngx_gateway_parse_snowflake(gid->data, gid->len, &ref.guild_id)
        != NGX_OK
        || ngx_gateway_parse_snowflake(uid->data, uid->len, &ref.user_id)
           != NGX_OK)
    {
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "404: Not Found");
    }

    rc = ngx_gateway_admin_member_remove(r, &ref, err, sizeof(err));

    return ngx_gateway_admin_member_result(r, rc, err);
}


/* --- dispatch -------------------------------------------------------------- */

/*
 * An event from another backend service, dispatched to the guild's member
 * sessions that its intent admits (1.10).
 */

static ngx_int_t
ngx_gateway_admin_dispatch(ngx_http_request_t *r, ngx_str_t *gid,
    ngx_str_t *body)
{
    u_char                    err[128];
    char                     *d;
    json_t                   *root, *t;
    uint64_t                  guild_id;
    ngx_str_t                 name;
    ngx_uint_t                i;
    ngx_gateway_json_t        j;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_guild_t      *g;
    ngx_gateway_publish_t     pub;
    ngx_gateway_doorbells_t   doorbells;

    if (ngx_gateway_parse_snowflake(gid->data, gid->len, &guild_id)
        != NGX_OK)
    {
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_GUILD,
                                      "Unknown Guild");
    }

    root = ngx_gateway_json_parse(body->data, body->len, err, sizeof(err));

    if (root == NULL) {
        return ngx_gateway_http_error(r, NGX_HTTP_BAD_REQUEST,
                                      NGX_GATEWAY_ERR_INVALID_BODY,
                                      "Invalid Form Body: %s", err);
    }

    t = json_object_get(root, "t");

    if (ngx_gateway_json_string(t, &name, 64) != NGX_OK || name.len == 0
        || json_object_get(root, "d") == NULL)
    {
        json_decref(root);
        return ngx_gateway_http_error(r, NGX_HTTP_BAD_REQUEST,
                                      NGX_GATEWAY_ERR_INVALID_BODY,
                                      "Invalid Form Body: \"t\" (an event "
                                      "name) and \"d\" are required");
    }

    /* event names are upper-case words joined by underscores */

    for (i = 0; i < name.len; i++) {
        if (!((name.data[i] >= 'A' && name.data[i] <= 'Z')
              || (name.data[i] >= '0' && name.data[i] <= '9')
              || name.data[i] == '_'))
        {
            json_decref(root);
            return ngx_gateway_http_error(r, NGX_HTTP_BAD_REQUEST,
                                          NGX_GATEWAY_ERR_INVALID_BODY,
                                          "Invalid Form Body: invalid "
                                          "event name");
        }
    }

    d = json_dumps(json_object_get(root, "d"),
                   JSON_COMPACT|JSON_ENCODE_ANY);

    if (d == NULL || ngx_gateway_json_init(&j, ngx_strlen(d) + 64,
                                           r->connection->log)
                     != NGX_OK)
    {
        free(d);
        json_decref(root);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_gateway_json_lit(&j, "\"t\":\"");
    ngx_gateway_json_raw(&j, name.data, name.len);
    ngx_gateway_json_lit(&j, "\",\"d\":");
    ngx_gateway_json_raw(&j, (u_char *) d, ngx_strlen(d));
    ngx_gateway_json_lit(&j, "}");

    free(d);

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_memzero(&doorbells, sizeof(ngx_gateway_doorbells_t));
    ngx_memzero(&pub, sizeof(ngx_gateway_publish_t));

    ngx_gateway_lock(zone);

    g = ngx_gateway_guild_lookup_locked(zone, guild_id);

    if (g) {
        pub.blob = ngx_gateway_event_blob_locked(zone, &j);
        pub.guild_id = guild_id;
        pub.intent = ngx_gateway_event_intent(name.data, name.len);
        pub.doorbells = &doorbells;

        if (pub.blob) {
            ngx_gateway_publish_guild_locked(zone, g, &pub);
            ngx_gateway_event_done_locked(zone, pub.blob);
        }
    }

    ngx_gateway_unlock(zone);

    json_decref(root);
    ngx_gateway_json_free(&j);
    ngx_gateway_doorbells_ring(&doorbells);

    if (g == NULL) {
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_GUILD,
                                      "Unknown Guild");
    }

    if (pub.blob == NULL) {
        return ngx_gateway_http_error(r,
                                      NGX_GATEWAY_HTTP_INSUFFICIENT_STORAGE,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "507: shared memory zone is full");
    }

    return ngx_gateway_http_status(r, NGX_HTTP_ACCEPTED);
}
