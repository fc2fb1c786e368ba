
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * New WebSocket upgrades per client address (gateway_upgrade_limit): a
 * leaky bucket per address in the zone, as nginx's limit_req keeps them,
 * so that a reconnect storm from one address cannot starve the node.  Over
 * the limit the upgrade gets 429 with Retry-After (the seconds until the
 * bucket has room) and Discord's rate-limit body.  Addresses not seen for
 * a minute are forgotten, a few at a time.
 */

#define NGX_GATEWAY_LIMIT_IDLE     60000
#define NGX_GATEWAY_LIMIT_EXPIRE   2

#define NGX_GATEWAY_ADDR_LEN       16


typedef struct {
    ngx_rbtree_node_t          node;      /* key: crc32 of the address */
    ngx_queue_t                lru;
    ngx_msec_t                 last;
    uint64_t                   excess;    /* requests x 1000 */
    uint8_t                    len;
    u_char                     addr[NGX_GATEWAY_ADDR_LEN];
} ngx_gateway_limit_node_t;


static ngx_int_t ngx_gateway_limit_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_loc_conf_t *glcf, u_char *addr, size_t len,
    ngx_msec_t *retry);
static ngx_gateway_limit_node_t *ngx_gateway_limit_lookup_locked(
    ngx_gateway_zone_t *zone, uint32_t hash, u_char *addr, size_t len);
static void ngx_gateway_limit_expire_locked(ngx_gateway_zone_t *zone,
    ngx_uint_t n);
static ngx_int_t ngx_gateway_limit_reject(ngx_http_request_t *r,
    ngx_msec_t retry);


/* same hash: ordered by the address */

void
ngx_gateway_limit_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t         **p;
    ngx_gateway_limit_node_t   *ln, *lnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            ln = (ngx_gateway_limit_node_t *) node;
            lnt = (ngx_gateway_limit_node_t *) temp;

            p = (ngx_memn2cmp(ln->addr, lnt->addr, ln->len, lnt->len) < 0)
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


/* NGX_DECLINED: go on with the upgrade; anything else: the response */

ngx_int_t
ngx_gateway_upgrade_limit(ngx_http_request_t *r)
{
    u_char                   *addr;
    size_t                    len;
    ngx_int_t                 rc;
    ngx_msec_t                retry;
    struct sockaddr_in       *sin;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_loc_conf_t   *glcf;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6      *sin6;
#endif

    glcf = ngx_http_get_module_loc_conf(r, ngx_gateway_module);

    if (glcf->upgrade_rate == 0) {
        return NGX_DECLINED;
    }

    switch (r->connection->sockaddr->sa_family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;
        addr = sin6->sin6_addr.s6_addr;
        len = 16;
        break;
#endif

    case AF_INET:
        sin = (struct sockaddr_in *) r->connection->sockaddr;
        addr = (u_char *) &sin->sin_addr.s_addr;
        len = 4;
        break;

    default:

        /* unix sockets: one local client, not limited */

        return NGX_DECLINED;
    }

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_gateway_lock(zone);

    rc = ngx_gateway_limit_locked(zone, glcf, addr, len, &retry);

    ngx_gateway_unlock(zone);

    if (rc == NGX_BUSY) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "gateway: upgrades from this address over %ui/s, "
                      "retry after %M ms", glcf->upgrade_rate, retry);

        return ngx_gateway_limit_reject(r, retry);
    }

    /* out of zone memory: better to let the upgrade through */

    return NGX_DECLINED;
}


/* NGX_OK: within the limit; NGX_BUSY: over it, retry in *retry ms */

static ngx_int_t
ngx_gateway_limit_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_loc_conf_t *glcf, u_char *addr, size_t len, ngx_msec_t *retry)
{
    uint32_t                   hash;
    uint64_t                   drained, excess, burst;
    ngx_msec_int_t             ms;
    ngx_gateway_limit_node_t  *ln;

    hash = ngx_crc32_short(addr, len);

    ln = ngx_gateway_limit_lookup_locked(zone, hash, addr, len);

    if (ln == NULL) {
        ngx_gateway_limit_expire_locked(zone, NGX_GATEWAY_LIMIT_EXPIRE);

        ln = ngx_gateway_alloc_locked(zone, sizeof(ngx_gateway_limit_node_t));
        if (ln == NULL) {
            return NGX_ERROR;
        }

        ln->node.key = hash;
        ln->len = (uint8_t) len;
        ngx_memcpy(ln->addr, addr, len);
        ln->excess = 0;
        ln->last = ngx_current_msec;

        ngx_rbtree_insert(&zone->sh->upgrade_limits, &ln->node);
        ngx_queue_insert_head(&zone->sh->upgrade_lru, &ln->lru);

        return NGX_OK;
    }

    ms = (ngx_msec_int_t) (ngx_current_msec - ln->last);

    if (ms < 0) {
        ms = 0;
    }

    /* the bucket leaks "rate" requests a second: rate per ms x 1000 */

    drained = (uint64_t) glcf->upgrade_rate * (uint64_t) ms;
    excess = (ln->excess > drained ? ln->excess - drained : 0) + 1000;
    burst = (uint64_t) glcf->upgrade_burst * 1000;

    if (excess > burst) {
        *retry = (ngx_msec_t) ((excess - burst + glcf->upgrade_rate - 1)
                               / glcf->upgrade_rate);
        return NGX_BUSY;
    }

    ln->excess = excess;
    ln->last = ngx_current_msec;

    ngx_queue_remove(&ln->lru);
    ngx_queue_insert_head(&zone->sh->upgrade_lru, &ln->lru);

    return NGX_OK;
}


static ngx_gateway_limit_node_t *
ngx_gateway_limit_lookup_locked(ngx_gateway_zone_t *zone, uint32_t hash,
    u_char *addr, size_t len)
{
    ngx_int_t                  rc;
    ngx_rbtree_node_t         *node, *sentinel;
    ngx_gateway_limit_node_t  *ln;

    node = zone->sh->upgrade_limits.root;
    sentinel = zone->sh->upgrade_limits.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        ln = (ngx_gateway_limit_node_t *) node;

        rc = ngx_memn2cmp(addr, ln->addr, len, ln->len);

        if (rc == 0) {
            return ln;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* addresses idle for a minute, from the least recently seen */

static void
ngx_gateway_limit_expire_locked(ngx_gateway_zone_t *zone, ngx_uint_t n)
{
    ngx_queue_t               *q;
    ngx_gateway_limit_node_t  *ln;

    while (n-- && !ngx_queue_empty(&zone->sh->upgrade_lru)) {

        q = ngx_queue_last(&zone->sh->upgrade_lru);
        ln = ngx_queue_data(q, ngx_gateway_limit_node_t, lru);

        if ((ngx_msec_int_t) (ngx_current_msec - ln->last)
            < NGX_GATEWAY_LIMIT_IDLE)
        {
            return;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&zone->sh->upgrade_limits, &ln->node);
        ngx_gateway_free_locked(zone, ln);
    }
}


/*
 * 429 with Retry-After in whole seconds (RFC 9110 10.2.3), and Discord's
 * rate-limit body with the exact figure.
 */

static ngx_int_t
ngx_gateway_limit_reject(ngx_http_request_t *r, ngx_msec_t retry)
{
    u_char              *p;
    ngx_table_elt_t     *h;
    ngx_gateway_json_t   j;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    h->value.data = p;
    h->value.len = ngx_sprintf(p, "%M", (retry + 999) / 1000) - p;

    if (ngx_gateway_json_init(&j, 128, r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_gateway_json_lit(&j, "{\"message\":\"You are being rate limited.\","
                             "\"retry_after\":");

    p = ngx_gateway_json_reserve(&j, NGX_INT_T_LEN + 4);
    if (p) {
        j.pos = ngx_sprintf(p, "%M.%03M", retry / 1000, retry % 1000);
    }

    ngx_gateway_json_lit(&j, ",\"global\":false,\"code\":0}");

    r->keepalive = 0;

    return ngx_gateway_http_send(r, NGX_HTTP_TOO_MANY_REQUESTS, &j);
}
