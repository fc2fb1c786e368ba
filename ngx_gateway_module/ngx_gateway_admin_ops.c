
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"
#include "ngx_gateway_admin.h"


/*
 * The directory operations behind the admin API, shared by the single
 * calls and /admin/bulk: JSON to specs, specs applied under the lock, and
 * the member events (GUILD_CREATE / GUILD_MEMBER_ADD, GUILD_DELETE /
 * GUILD_MEMBER_REMOVE).
 */


static ngx_int_t ngx_gateway_admin_name(json_t *v, ngx_str_t *s,
    size_t min, size_t max);
static ngx_int_t ngx_gateway_admin_member_extra_locked(
    ngx_gateway_zone_t *zone, ngx_gateway_guild_t *g,
    ngx_gateway_member_t *m, json_t *root, u_char *err, size_t size);
static void ngx_gateway_admin_member_events_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *g, ngx_gateway_member_t *m, ngx_uint_t joined,
    ngx_gateway_doorbells_t *doorbells, ngx_log_t *log);


/* a name of min..max bytes, without control characters */

static ngx_int_t
ngx_gateway_admin_name(json_t *v, ngx_str_t *s, size_t min, size_t max)
{
    size_t  i;

    if (ngx_gateway_json_string(v, s, max) != NGX_OK || s->len < min) {
        return NGX_ERROR;
    }

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < 0x20 || s->data[i] == 0x7f) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* {"username": "alice", "bot": false, "id"?, "global_name"?,
 *  "privileged_intents"?} */

ngx_int_t
ngx_gateway_admin_user_spec(json_t *root, ngx_gateway_user_spec_t *spec,
    u_char *err, size_t size)
{
    json_t  *v;

    ngx_memzero(spec, sizeof(ngx_gateway_user_spec_t));

    if (ngx_gateway_admin_name(json_object_get(root, "username"),
                               &spec->username, 2, NGX_GATEWAY_MAX_NAME)
        != NGX_OK)
    {
        ngx_snprintf(err, size, "username must be a string of 2 to %d "
                     "bytes%Z", NGX_GATEWAY_MAX_NAME);
        return NGX_ERROR;
    }

    v = json_object_get(root, "global_name");

    if (v && !json_is_null(v)
        && ngx_gateway_admin_name(v, &spec->global_name, 1,
                                  NGX_GATEWAY_MAX_NAME)
           != NGX_OK)
    {
        ngx_snprintf(err, size, "global_name must be a string of 1 to %d "
                     "bytes%Z", NGX_GATEWAY_MAX_NAME);
        return NGX_ERROR;
    }

    v = json_object_get(root, "bot");

    if (v && !json_is_boolean(v)) {
        ngx_snprintf(err, size, "bot must be a boolean%Z");
        return NGX_ERROR;
    }

    spec->bot = json_is_true(v);

    v = json_object_get(root, "id");

    if (v && ngx_gateway_json_snowflake(v, &spec->id) != NGX_OK) {
        ngx_snprintf(err, size, "id must be a snowflake%Z");
        return NGX_ERROR;
    }

    spec->privileged_intents = NGX_GATEWAY_INTENTS_PRIVILEGED;

    v = json_object_get(root, "privileged_intents");

    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0
            || (json_integer_value(v) & ~NGX_GATEWAY_INTENTS_PRIVILEGED))
        {
            ngx_snprintf(err, size, "privileged_intents must be a subset "
                         "of %d%Z", NGX_GATEWAY_INTENTS_PRIVILEGED);
            return NGX_ERROR;
        }

        spec->privileged_intents = (ngx_uint_t) json_integer_value(v);
    }

    return NGX_OK;
}


/*
 * Creates the user and writes {"id": ..., "token": ...} into j.
 * NGX_DECLINED: the id is taken; NGX_ERROR: the zone is full.
 */

ngx_int_t
ngx_gateway_admin_user_apply(ngx_http_request_t *r,
    ngx_gateway_user_spec_t *spec, ngx_gateway_json_t *j)
{
    u_char                    token[NGX_GATEWAY_TOKEN_MAX];
    size_t                    len;
    ngx_int_t                 rc;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_user_t       *u;
    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ngx_http_get_module_main_conf(r, ngx_gateway_module);
    zone = ngx_gateway_zone_get(gmcf);

    ngx_gateway_lock(zone);
    rc = ngx_gateway_user_create_locked(zone, spec, &u);
    ngx_gateway_unlock(zone);

    if (rc != NGX_OK) {
        return rc;
    }

    len = ngx_gateway_token_create(&gmcf->token_secret, spec->id, ngx_time(),
                                   token);
    if (len == 0) {
        return NGX_ERROR;
    }

    ngx_gateway_json_lit(j, "{\"id\":");
    ngx_gateway_json_id(j, spec->id);
    ngx_gateway_json_lit(j, ",\"token\":");
    ngx_gateway_json_str(j, token, len);
    ngx_gateway_json_lit(j, "}");

    return NGX_OK;
}


/*
 * {"name", "owner_id"?, "channels": [{"id", "name", "type"}],
 *  "roles"?: [{"id", "name", "permissions"?, "color"?, "position"?}]};
 * the id comes from the path, or from the body ("id") in bulk.
 */

ngx_int_t
ngx_gateway_admin_guild_spec(ngx_pool_t *pool, json_t *root, ngx_str_t *id,
    ngx_gateway_guild_spec_t *spec, u_char *err, size_t size)
{
    size_t                       i;
    json_t                      *v, *e, *f;
    ngx_gateway_role_spec_t     *rs;
    ngx_gateway_channel_spec_t  *cs;

    ngx_memzero(spec, sizeof(ngx_gateway_guild_spec_t));

    if (id) {
        if (ngx_gateway_parse_snowflake(id->data, id->len, &spec->id)
            != NGX_OK)
        {
            ngx_snprintf(err, size, "the guild id must be a snowflake%Z");
            return NGX_ERROR;
        }

    } else if (ngx_gateway_json_snowflake(json_object_get(root, "id"),
                                          &spec->id)
               != NGX_OK)
    {
        ngx_snprintf(err, size, "id must be a snowflake%Z");
        return NGX_ERROR;
    }

    if (ngx_gateway_admin_name(json_object_get(root, "name"), &spec->name, 2,
                               NGX_GATEWAY_MAX_GUILD_NAME)
        != NGX_OK)
    {
        ngx_snprintf(err, size, "name must be a string of 2 to %d bytes%Z",
                     NGX_GATEWAY_MAX_GUILD_NAME);
        return NGX_ERROR;
    }

    v = json_object_get(root, "owner_id");

    if (v && !json_is_null(v)
        && ngx_gateway_json_snowflake(v, &spec->owner_id) != NGX_OK)
    {
        ngx_snprintf(err, size, "owner_id must be a snowflake%Z");
        return NGX_ERROR;
    }

    v = json_object_get(root, "channels");

    if (v == NULL) {
        v = json_array();
        json_object_set_new(root, "channels", v);
    }

    if (!json_is_array(v) || json_array_size(v) > NGX_GATEWAY_MAX_CHANNELS) {
        ngx_snprintf(err, size, "channels must be an array of at most %d%Z",
                     NGX_GATEWAY_MAX_CHANNELS);
        return NGX_ERROR;
    }

    if (ngx_array_init(&spec->channels, pool, json_array_size(v) + 1,
                       sizeof(ngx_gateway_channel_spec_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    json_array_foreach(v, i, e) {
        cs = ngx_array_push(&spec->channels);
        if (cs == NULL) {
            return NGX_ERROR;
        }

        f = json_object_get(e, "type");

        if (!json_is_object(e)
            || ngx_gateway_json_snowflake(json_object_get(e, "id"), &cs->id)
               != NGX_OK
            || ngx_gateway_admin_name(json_object_get(e, "name"), &cs->name,
                                      1, 100)
               != NGX_OK
            || (f && (!json_is_integer(f) || json_integer_value(f) < 0
                      || json_integer_value(f) > 255)))
        {
            ngx_snprintf(err, size, "channel %uz needs an id, a name of 1 "
                         "to 100 bytes and a type 0..255%Z", i);
            return NGX_ERROR;
        }

        cs->type = f ? (ngx_uint_t) json_integer_value(f) : 0;
    }

    v = json_object_get(root, "roles");

    if (v && (!json_is_array(v)
              || json_array_size(v) > NGX_GATEWAY_MAX_ROLES))
    {
        ngx_snprintf(err, size, "roles must be an array of at most %d%Z",
                     NGX_GATEWAY_MAX_ROLES);
        return NGX_ERROR;
    }

    if (ngx_array_init(&spec->roles, pool, v ? json_array_size(v) + 1 : 1,
                       sizeof(ngx_gateway_role_spec_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    json_array_foreach(v, i, e) {
        rs = ngx_array_push(&spec->roles);
        if (rs == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(rs, sizeof(ngx_gateway_role_spec_t));

        if (!json_is_object(e)
            || ngx_gateway_json_snowflake(json_object_get(e, "id"), &rs->id)
               != NGX_OK
            || ngx_gateway_admin_name(json_object_get(e, "name"), &rs->name,
                                      1, 100)
               != NGX_OK)
        {
            ngx_snprintf(err, size, "role %uz needs an id and a name%Z", i);
            return NGX_ERROR;
        }

        f = json_object_get(e, "permissions");

        if (f && ngx_gateway_json_snowflake(f, &rs->permissions) != NGX_OK
            && !(json_is_string(f) && json_string_length(f) == 1
                 && json_string_value(f)[0] == '0'))
        {
            ngx_snprintf(err, size, "role %uz: permissions must be a "
                         "decimal string%Z", i);
            return NGX_ERROR;
        }

        f = json_object_get(e, "color");
        rs->color = json_is_integer(f) ? (ngx_uint_t) json_integer_value(f)
                                       : 0;
        f = json_object_get(e, "position");
        rs->position = json_is_integer(f) ? (ngx_uint_t) json_integer_value(f)
                                          : i + 1;
    }

    return NGX_OK;
}


ngx_int_t
ngx_gateway_admin_guild_apply(ngx_http_request_t *r,
    ngx_gateway_guild_spec_t *spec, ngx_gateway_json_t *j)
{
    ngx_int_t             rc;
    ngx_gateway_zone_t   *zone;
    ngx_gateway_guild_t  *g;

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_gateway_lock(zone);

    rc = ngx_gateway_guild_put_locked(zone, spec, &g);

    if (rc == NGX_OK && j) {
        ngx_gateway_admin_encode_guild(j, g);
    }

    ngx_gateway_unlock(zone);

    return rc;
}


/* the admin view of a guild: the guild object with its channels */

void
ngx_gateway_admin_encode_guild(ngx_gateway_json_t *j, ngx_gateway_guild_t *g)
{
    ngx_uint_t  i;

    ngx_gateway_encode_guild(j, g);

    if (j->error) {
        return;
    }

    j->pos--;   /* reopen the object */

    ngx_gateway_json_lit(j, ",\"member_count\":");
    ngx_gateway_json_uint(j, g->member_count);
    ngx_gateway_json_lit(j, ",\"channels\":[");

    for (i = 0; i < g->channels_n; i++) {
        if (i) {
            ngx_gateway_json_lit(j, ",");
        }

        ngx_gateway_encode_channel(j, g->channels[i], 1);
    }

    ngx_gateway_json_lit(j, "]}");
}


/*
 * Adds the member (an existing member keeps its record; the optional
 * "nick" and "roles" are applied either way).  With "events", a new
 * member's sessions get GUILD_CREATE and the guild's others with
 * GUILD_MEMBERS get GUILD_MEMBER_ADD; bulk loads skip events.
 */

ngx_int_t
ngx_gateway_admin_member_apply(ngx_http_request_t *r,
    ngx_gateway_member_ref_t *ref, json_t *root, ngx_uint_t events,
    u_char *err, size_t size)
{
    ngx_int_t                 rc;
    ngx_uint_t                joined;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_user_t       *u;
    ngx_gateway_guild_t      *g;
    ngx_gateway_member_t     *m;
    ngx_gateway_doorbells_t   doorbells;

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_memzero(&doorbells, sizeof(ngx_gateway_doorbells_t));

    ngx_gateway_lock(zone);

    g = ngx_gateway_guild_lookup_locked(zone, ref->guild_id);
    u = ngx_gateway_user_lookup_locked(zone, ref->user_id);

    if (g == NULL || u == NULL) {
        ngx_gateway_unlock(zone);
        return g ? NGX_GATEWAY_UNKNOWN_USER : NGX_GATEWAY_UNKNOWN_GUILD;
    }

    rc = ngx_gateway_member_add_locked(zone, g, u, &m);

    if (rc == NGX_ERROR) {
        ngx_gateway_unlock(zone);
        return NGX_ERROR;
    }

    joined = (rc == NGX_OK);
    rc = NGX_OK;

    if (root) {
        rc = ngx_gateway_admin_member_extra_locked(zone, g, m, root, err,
                                                   size);

        /* a refused request changes nothing: no half-added member */

        if (rc != NGX_OK && joined) {
            ngx_gateway_member_remove_locked(zone, m);
            ngx_gateway_unlock(zone);
            return rc;
        }
    }

    if (rc == NGX_OK && joined && events) {
        ngx_gateway_admin_member_events_locked(zone, g, m, 1, &doorbells,
                                               r->connection->log);
    }

    ngx_gateway_unlock(zone);

    ngx_gateway_doorbells_ring(&doorbells);

    return rc;
}


/* {"nick": "...", "roles": ["id", ...]} */

static ngx_int_t
ngx_gateway_admin_member_extra_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *g, ngx_gateway_member_t *m, json_t *root,
    u_char *err, size_t size)
{
    size_t                       i, k;
    json_t                      *nick, *roles, *e;
    uint64_t                     role;
    ngx_str_t                    name;
    ngx_gateway_member_extra_t  *x;

    nick = json_object_get(root, "nick");
    roles = json_object_get(root, "roles");

    if (nick == NULL && roles == NULL) {
        return NGX_OK;
    }

    name.len = 0;

    if (nick && !json_is_null(nick)
        && ngx_gateway_admin_name(nick, &name, 1, NGX_GATEWAY_MAX_NAME)
           != NGX_OK)
    {
        ngx_snprintf(err, size, "nick must be a string of 1 to %d bytes%Z",
                     NGX_GATEWAY_MAX_NAME);
        return NGX_GATEWAY_BAD_BODY;
    }

    if (roles && (!json_is_array(roles)
                  || json_array_size(roles) > NGX_GATEWAY_MAX_ROLES))
    {
        ngx_snprintf(err, size, "roles must be an array of role ids%Z");
        return NGX_GATEWAY_BAD_BODY;
    }

    json_array_foreach(roles, i, e) {
        if (ngx_gateway_json_snowflake(e, &role) != NGX_OK) {
            ngx_snprintf(err, size, "roles must be an array of role ids%Z");
            return NGX_GATEWAY_BAD_BODY;
        }

        for (k = 0; k < g->roles_n; k++) {
            if (g->roles[k].id == role) {
                break;
            }
        }

        if (k == g->roles_n) {
            ngx_snprintf(err, size, "role %uL is not a role of guild %uL%Z",
                         role, g->node.key);
            return NGX_GATEWAY_BAD_BODY;
        }
    }

    x = ngx_gateway_alloc_locked(zone,
                                 offsetof(ngx_gateway_member_extra_t, roles)
                                 + (roles ? json_array_size(roles) : 0)
                                   * sizeof(uint64_t));
    if (x == NULL) {
        return NGX_ERROR;
    }

    x->nick_len = (uint8_t) name.len;
    ngx_memcpy(x->nick, name.data, name.len);
    x->roles_n = 0;

    json_array_foreach(roles, i, e) {
        (void) ngx_gateway_json_snowflake(e, &x->roles[x->roles_n++]);
    }

    ngx_gateway_free_locked(zone, m->extra);
    m->extra = x;

    return NGX_OK;
}


ngx_int_t
ngx_gateway_admin_member_remove(ngx_http_request_t *r,
    ngx_gateway_member_ref_t *ref, u_char *err, size_t size)
{
    ngx_gateway_zone_t       *zone;
    ngx_gateway_guild_t      *g;
    ngx_gateway_member_t     *m;
    ngx_gateway_doorbells_t   doorbells;

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_memzero(&doorbells, sizeof(ngx_gateway_doorbells_t));

    ngx_gateway_lock(zone);

    g = ngx_gateway_guild_lookup_locked(zone, ref->guild_id);

    if (g == NULL) {
        ngx_gateway_unlock(zone);
        return NGX_GATEWAY_UNKNOWN_GUILD;
    }

    m = ngx_gateway_member_lookup_locked(zone, ref->guild_id, ref->user_id);

    if (m == NULL) {
        ngx_gateway_unlock(zone);
        ngx_snprintf(err, size, "Unknown Member%Z");
        return NGX_DECLINED;
    }

    ngx_gateway_admin_member_events_locked(zone, g, m, 0, &doorbells,
                                           r->connection->log);

    if (m->voice_channel) {
        g->voice_n--;
    }

    ngx_gateway_member_remove_locked(zone, m);

    ngx_gateway_unlock(zone);

    ngx_gateway_doorbells_ring(&doorbells);

    return NGX_OK;
}


/*
 * A member joined (GUILD_CREATE to its sessions, GUILD_MEMBER_ADD to the
 * others) or is about to leave (GUILD_DELETE, GUILD_MEMBER_REMOVE).  The
 * GUILD_CREATE is per session (its intents shape it); the other event is
 * encoded once for all.
 */

static void
ngx_gateway_admin_member_events_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *g, ngx_gateway_member_t *m, ngx_uint_t joined,
    ngx_gateway_doorbells_t *doorbells, ngx_log_t *log)
{
    ngx_queue_t            *q, *next;
    ngx_gateway_json_t      j;
    ngx_gateway_blob_t     *blob;
    ngx_gateway_publish_t   pub;
    ngx_gateway_session_t  *s;

    for (q = ngx_queue_head(&m->user->sessions);
         q != ngx_queue_sentinel(&m->user->sessions);
         q = next)
    {
        next = ngx_queue_next(q);
        s = ngx_queue_data(q, ngx_gateway_session_t, user_link);

        if (!(s->intents & NGX_GATEWAY_INTENT_GUILDS)
            || (g->node.key >> 22) % s->num_shards != s->shard_id)
        {
            continue;
        }

        if (ngx_gateway_json_init(&j, 1024, log) != NGX_OK) {
            continue;
        }

        if (joined) {
            ngx_gateway_encode_dispatch(&j, "GUILD_CREATE");
            ngx_gateway_encode_guild_create(&j, zone, g, s);

        } else {
            ngx_gateway_encode_dispatch(&j, "GUILD_DELETE");
            ngx_gateway_json_lit(&j, "{\"id\":");
            ngx_gateway_json_id(&j, g->node.key);
            ngx_gateway_json_lit(&j, "}");
        }

        ngx_gateway_json_lit(&j, "}");

        blob = ngx_gateway_event_blob_locked(zone, &j);
        ngx_gateway_json_free(&j);

        if (blob == NULL
            || ngx_gateway_session_dispatch_locked(zone, s, blob) != NGX_OK)
        {
            ngx_gateway_event_done_locked(zone, blob);
            ngx_gateway_session_kill_locked(zone, s,
                                            NGX_GATEWAY_CLOSE_UNKNOWN_ERROR);
        }

        ngx_gateway_doorbells_add_locked(doorbells, s);
    }

    if (ngx_gateway_json_init(&j, 512, log) != NGX_OK) {
        return;
    }

    if (joined) {
        ngx_gateway_encode_dispatch(&j, "GUILD_MEMBER_ADD");
        ngx_gateway_encode_member(&j, m, 1);
        j.pos--;
        ngx_gateway_json_lit(&j, ",\"guild_id\":");
        ngx_gateway_json_id(&j, g->node.key);
        ngx_gateway_json_lit(&j, "}}");

    } else {
        ngx_gateway_encode_dispatch(&j, "GUILD_MEMBER_REMOVE");
        ngx_gateway_json_lit(&j, "{\"guild_id\":");
        ngx_gateway_json_id(&j, g->node.key);
        ngx_gateway_json_lit(&j, ",\"user\":");
        ngx_gateway_encode_user(&j, m->user, 0);
        ngx_gateway_json_lit(&j, "}}");
    }

    ngx_memzero(&pub, sizeof(ngx_gateway_publish_t));

    pub.blob = ngx_gateway_event_blob_locked(zone, &j);
    pub.guild_id = g->node.key;
    pub.intent = NGX_GATEWAY_INTENT_GUILD_MEMBERS;
    pub.except = m->user;
    pub.doorbells = doorbells;

    ngx_gateway_json_free(&j);

    if (pub.blob) {
        ngx_gateway_publish_guild_locked(zone, g, &pub);
        ngx_gateway_event_done_locked(zone, pub.blob);
    }
}


/* a deleted user leaves each of its guilds: GUILD_MEMBER_REMOVE */

void
ngx_gateway_admin_member_leave_all_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *u, ngx_gateway_doorbells_t *doorbells,
    ngx_log_t *log)
{
    ngx_gateway_guild_t   *g;
    ngx_gateway_member_t  *m;

    for (m = ngx_gateway_user_guilds_first_locked(zone, u->node.key);
         m;
         m = ngx_gateway_user_guilds_next_locked(zone, m))
    {
        g = ngx_gateway_guild_lookup_locked(zone, m->guild_id);

        if (g) {
            ngx_gateway_admin_member_events_locked(zone, g, m, 0, doorbells,
                                                   log);
        }
    }
}


ngx_int_t
ngx_gateway_admin_member_result(ngx_http_request_t *r, ngx_int_t rc,
    u_char *err)
{
    switch (rc) {

    case NGX_OK:
        return ngx_gateway_http_status(r, NGX_HTTP_NO_CONTENT);

    case NGX_GATEWAY_UNKNOWN_GUILD:
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_GUILD,
                                      "Unknown Guild");

    case NGX_GATEWAY_UNKNOWN_USER:
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_USER,
                                      "Unknown User");

    case NGX_DECLINED:
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_MEMBER,
                                      "Unknown Member");

    case NGX_GATEWAY_BAD_BODY:
        return ngx_gateway_http_error(r, NGX_HTTP_BAD_REQUEST,
                                      NGX_GATEWAY_ERR_INVALID_BODY,
                                      "Invalid Form Body: %s", err);

    default:
        return ngx_gateway_http_error(r,
                                      NGX_GATEWAY_HTTP_INSUFFICIENT_STORAGE,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "507: shared memory zone is full");
    }
}
