
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


static ngx_int_t ngx_gateway_zone_init(ngx_shm_zone_t *shm_zone, void *data);
static ngx_int_t ngx_gateway_zone_check(ngx_shm_zone_t *shm_zone,
    ngx_gateway_zone_t *zone);
static void ngx_gateway_pair_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


/* "gateway_zone zone=name:size;" */

char *
ngx_gateway_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_gateway_main_conf_t *gmcf = conf;

    u_char              *p;
    ssize_t              size;
    ngx_str_t           *value, name, s;
    ngx_gateway_zone_t  *zone;

    if (gmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "zone=", 5) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", "
                           "expected \"zone=name:size\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data + 5;

    p = (u_char *) ngx_strchr(name.data, ':');

    if (p == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size in \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.len = p - name.data;

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name in \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    /* the worker table alone takes about 80 KB */

    if (size < (ssize_t) (1024 * 1024)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small: at least 1m is needed",
                           &name);
        return NGX_CONF_ERROR;
    }

    /* resume rings address the zone in 32-bit 8-byte units */

    if ((uint64_t) size > ((uint64_t) 1 << 35)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too large: at most 32g",
                           &name);
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_gateway_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    zone->name = name;
    zone->gmcf = gmcf;

    gmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_gateway_module);
    if (gmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (gmcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    gmcf->shm_zone->init = ngx_gateway_zone_init;
    gmcf->shm_zone->data = zone;

    return NGX_CONF_OK;
}


/*
 * On nginx -s reload a zone of the same name and size is kept by nginx and
 * handed to us with the previous cycle's context in "data": the sessions,
 * rings and directory simply carry on (the limit_req pattern).
 */

static ngx_int_t
ngx_gateway_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_gateway_zone_t *ozone = data;

    size_t               len;
    ngx_uint_t           i;
    ngx_gateway_sh_t    *sh;
    ngx_gateway_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        return ngx_gateway_zone_check(shm_zone, zone);
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;

        return ngx_gateway_zone_check(shm_zone, zone);
    }

    sh = ngx_slab_calloc(zone->shpool, sizeof(ngx_gateway_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    zone->sh = sh;
    zone->shpool->data = sh;

    sh->layout = NGX_GATEWAY_ZONE_LAYOUT;
    sh->ring_max = (uint32_t) zone->gmcf->resume_buffer;
    sh->ring_bytes_max = (uint32_t) zone->gmcf->resume_buffer_size;

    ngx_rbtree_init(&sh->users, &sh->users_sentinel, ngx_rbtree_insert_value);
    ngx_rbtree_init(&sh->guilds, &sh->guilds_sentinel,
                    ngx_rbtree_insert_value);
    ngx_rbtree_init(&sh->channels, &sh->channels_sentinel,
                    ngx_rbtree_insert_value);
    ngx_rbtree_init(&sh->members, &sh->members_sentinel,
                    ngx_gateway_pair_insert);
    ngx_rbtree_init(&sh->memberships, &sh->memberships_sentinel,
                    ngx_gateway_pair_insert);
    ngx_rbtree_init(&sh->sessions, &sh->sessions_sentinel,
                    ngx_gateway_session_insert);
    ngx_rbtree_init(&sh->presence_subs, &sh->presence_subs_sentinel,
                    ngx_rbtree_insert_value);
    ngx_rbtree_init(&sh->upgrade_limits, &sh->upgrade_limits_sentinel,
                    ngx_gateway_limit_insert);
    ngx_queue_init(&sh->upgrade_lru);
    ngx_queue_init(&sh->detached);

    for (i = 0; i < NGX_MAX_PROCESSES; i++) {
        ngx_queue_init(&sh->workers[i].dirty);
    }

    len = sizeof(" in gateway zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in gateway zone \"%V\"%Z",
                &shm_zone->shm.name);

    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


/*
 * A reload that loads a rebuilt module keeps the zone: its records must
 * be laid out as this build expects, or the reload fails with a clear
 * message (the running workers carry on).
 */

static ngx_int_t
ngx_gateway_zone_check(ngx_shm_zone_t *shm_zone, ngx_gateway_zone_t *zone)
{
    if (zone->sh->layout == NGX_GATEWAY_ZONE_LAYOUT) {

        /* the new configuration's ring limits apply from now on */

        zone->sh->ring_max = (uint32_t) zone->gmcf->resume_buffer;
        zone->sh->ring_bytes_max = (uint32_t) zone->gmcf->resume_buffer_size;

        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                  "gateway zone \"%V\" was laid out by another version of "
                  "ngx_gateway_module: rename the zone or restart nginx "
                  "(its sessions re-identify)", &shm_zone->shm.name);

    return NGX_ERROR;
}


/*
 * The member trees are keyed by pairs: node->key is the first id, and
 * ties go by the second, which follows the node in the member record
 * (see ngx_gateway_member_pair()).
 */

static void
ngx_gateway_pair_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t  **p;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            p = (ngx_gateway_member_pair(node) < ngx_gateway_member_pair(temp))
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/*
 * Allocation failures are normal operation for a full zone: the caller
 * answers with an error (HTTP 507, close 4000) and nginx's "no memory"
 * alert is silenced (log_nomem = 0) in favour of our own error line.
 */

void *
ngx_gateway_alloc_locked(ngx_gateway_zone_t *zone, size_t size)
{
    void  *p;

    p = ngx_slab_alloc_locked(zone->shpool, size);

    if (p == NULL) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "gateway zone \"%V\" is full: %uz bytes wanted",
                      &zone->name, size);
    }

    return p;
}


void
ngx_gateway_free_locked(ngx_gateway_zone_t *zone, void *p)
{
    if (p) {
        ngx_slab_free_locked(zone->shpool, p);
    }
}


u_char *
ngx_gateway_strdup_locked(ngx_gateway_zone_t *zone, u_char *s, size_t len)
{
    u_char  *p;

    p = ngx_gateway_alloc_locked(zone, len ? len : 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len);

    return p;
}


/*
 * Discord-style snowflakes: milliseconds since the Discord epoch in the top
 * 42 bits, then 5 bits of node, 5 of process and a 12-bit counter.  Taken
 * under the zone lock, monotonic across all workers of the node.
 */

uint64_t
ngx_gateway_snowflake_locked(ngx_gateway_zone_t *zone, ngx_uint_t node)
{
    uint64_t    ms, id;
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    ms = (uint64_t) tp->sec * 1000 + tp->msec - NGX_GATEWAY_EPOCH_MS;

    id = (ms << 22) | ((uint64_t) (node & 0x3ff) << 12);

    if (id <= zone->sh->snowflake) {
        id = zone->sh->snowflake + 1;
    }

    zone->sh->snowflake = id;

    return id;
}
