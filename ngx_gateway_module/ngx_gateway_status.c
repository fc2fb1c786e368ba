
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"
#include "ngx_gateway_admin.h"


/*
 * GET /admin/status (docs/API.md): the node, its workers with their
 * sessions, the directory's size and the zone's use; ?sessions=1 lists
 * every session.
 */

static void ngx_gateway_status_sessions_locked(ngx_gateway_json_t *j,
    ngx_gateway_zone_t *zone);


ngx_int_t
ngx_gateway_admin_status(ngx_http_request_t *r)
{
    size_t                    used;
    ngx_str_t                 value;
    ngx_uint_t                i, n, list;
    ngx_gateway_sh_t         *sh;
    ngx_gateway_json_t        j;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ngx_http_get_module_main_conf(r, ngx_gateway_module);
    zone = ngx_gateway_zone_get(gmcf);
    sh = zone->sh;

    list = ngx_http_arg(r, (u_char *) "sessions", 8, &value) == NGX_OK
           && value.len == 1 && value.data[0] == '1';

    if (ngx_gateway_json_init(&j, 4096, r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_gateway_json_lit(&j, "{\"node\":");
    ngx_gateway_json_str(&j, gmcf->node_id.data, gmcf->node_id.len);
    ngx_gateway_json_lit(&j, ",\"pid\":");
    ngx_gateway_json_uint(&j, ngx_process == NGX_PROCESS_WORKER
                              ? (uint64_t) ngx_parent : (uint64_t) ngx_pid);
    ngx_gateway_json_lit(&j, ",\"mode\":\"embedded\",\"workers\":[");

    ngx_gateway_lock(zone);

    n = 0;

    for (i = 0; i < NGX_MAX_PROCESSES; i++) {

        if (sh->workers[i].pid == 0) {
            continue;
        }

        if (n++) {
            ngx_gateway_json_lit(&j, ",");
        }

        ngx_gateway_json_lit(&j, "{\"slot\":");
        ngx_gateway_json_uint(&j, i);
        ngx_gateway_json_lit(&j, ",\"pid\":");
        ngx_gateway_json_uint(&j, (uint64_t) sh->workers[i].pid);
        ngx_gateway_json_lit(&j, ",\"sessions\":");
        ngx_gateway_json_uint(&j, sh->workers[i].sessions);
        ngx_gateway_json_lit(&j, "}");
    }

    ngx_gateway_json_lit(&j, "],\"sessions\":{\"attached\":");
    ngx_gateway_json_uint(&j, sh->sessions_attached);
    ngx_gateway_json_lit(&j, ",\"detached\":");
    ngx_gateway_json_uint(&j, sh->sessions_detached);
    ngx_gateway_json_lit(&j, "},\"users\":");
    ngx_gateway_json_uint(&j, sh->users_n);
    ngx_gateway_json_lit(&j, ",\"guilds\":");
    ngx_gateway_json_uint(&j, sh->guilds_n);
    ngx_gateway_json_lit(&j, ",\"members\":");
    ngx_gateway_json_uint(&j, sh->members_n);

    /* embedded mode: this node owns every shard */

    ngx_gateway_json_lit(&j, ",\"shards\":[{\"id\":0,\"owner\":");
    ngx_gateway_json_str(&j, gmcf->node_id.data, gmcf->node_id.len);
    ngx_gateway_json_lit(&j, ",\"state\":\"active\"}]");

    used = (zone->shpool->pfree < (ngx_uint_t) (zone->shpool->end
                                                - zone->shpool->start)
                                  / ngx_pagesize)
           ? (size_t) (zone->shpool->end - zone->shpool->start)
             - zone->shpool->pfree * ngx_pagesize
           : 0;

    ngx_gateway_json_lit(&j, ",\"zone\":{\"name\":");
    ngx_gateway_json_str(&j, zone->name.data, zone->name.len);
    ngx_gateway_json_lit(&j, ",\"size\":");
    ngx_gateway_json_uint(&j, gmcf->shm_zone->shm.size);
    ngx_gateway_json_lit(&j, ",\"used\":");
    ngx_gateway_json_uint(&j, used);
    ngx_gateway_json_lit(&j, "}");

    if (list) {
        ngx_gateway_status_sessions_locked(&j, zone);
    }

    ngx_gateway_unlock(zone);

    ngx_gateway_json_lit(&j, "}");

    return ngx_gateway_http_send(r, NGX_HTTP_OK, &j);
}


static void
ngx_gateway_status_sessions_locked(ngx_gateway_json_t *j,
    ngx_gateway_zone_t *zone)
{
    u_char                  hex[2 * NGX_GATEWAY_SESSION_ID_LEN];
    ngx_uint_t              n;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_gateway_session_t  *s;

    ngx_gateway_json_lit(j, ",\"session_list\":[");

    sentinel = zone->sh->sessions.sentinel;
    n = 0;

    if (zone->sh->sessions.root != sentinel) {

        for (node = ngx_rbtree_min(zone->sh->sessions.root, sentinel);
             node;
             node = ngx_rbtree_next(&zone->sh->sessions, node))
        {
            s = (ngx_gateway_session_t *) node;

            if (n++) {
                ngx_gateway_json_lit(j, ",");
            }

            ngx_gateway_json_lit(j, "{\"session_id\":");
            ngx_gateway_session_id_hex(hex, s);
            ngx_gateway_json_str(j, hex, sizeof(hex));
            ngx_gateway_json_lit(j, ",\"user_id\":");

            if (s->user) {
                ngx_gateway_json_id(j, s->user->node.key);

            } else {
                ngx_gateway_json_lit(j, "null");
            }

            ngx_gateway_json_lit(j, ",\"pid\":");

            if (s->state == ngx_gateway_session_attached) {
                ngx_gateway_json_uint(j, (uint64_t)
                                      zone->sh->workers[s->owner].pid);

            } else {
                ngx_gateway_json_lit(j, "null");
            }

            ngx_gateway_json_lit(j, ",\"shard\":[");
            ngx_gateway_json_uint(j, s->shard_id);
            ngx_gateway_json_lit(j, ",");
            ngx_gateway_json_uint(j, s->num_shards);
            ngx_gateway_json_lit(j, "],\"seq\":");
            ngx_gateway_json_uint(j, s->seq);
            ngx_gateway_json_lit(j, ",\"attached\":");
            ngx_gateway_json_bool(j, s->state
                                     == ngx_gateway_session_attached);
            ngx_gateway_json_lit(j, "}");
        }
    }

    ngx_gateway_json_lit(j, "]");
}
