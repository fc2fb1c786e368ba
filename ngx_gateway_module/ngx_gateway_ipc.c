
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>
#include <sys/un.h>
#include "ngx_gateway.h"


static ngx_int_t ngx_gateway_doorbell_open(ngx_cycle_t *cycle,
    ngx_gateway_main_conf_t *gmcf, u_char *name, size_t *len);
static void ngx_gateway_doorbell_handler(ngx_event_t *ev);
static void ngx_gateway_drain_handler(ngx_event_t *ev);
static void ngx_gateway_backstop_handler(ngx_event_t *ev);
static void ngx_gateway_sweep_handler(ngx_event_t *ev);
static void ngx_gateway_reclaim_slot_locked(ngx_gateway_zone_t *zone,
    ngx_uint_t slot);
static void ngx_gateway_doorbell_send(ngx_gateway_main_conf_t *gmcf,
    ngx_uint_t slot);


ngx_gateway_main_conf_t *
ngx_gateway_main_conf(void)
{
    return ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_gateway_module);
}


/*
 * A worker takes its slot in the zone: a new generation (sessions of an
 * earlier occupant that died count as detached from now on), its doorbell,
 * and the timers that drain and sweep.
 */

ngx_int_t
ngx_gateway_ipc_init_process(ngx_cycle_t *cycle)
{
    u_char                    name[NGX_GATEWAY_DOORBELL_NAME];
    size_t                    len;
    ngx_uint_t                slot;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_worker_sh_t  *w;
    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_gateway_module);

    if (gmcf == NULL || gmcf->shm_zone == NULL) {
        return NGX_OK;
    }

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    slot = (ngx_process == NGX_PROCESS_WORKER) ? (ngx_uint_t) ngx_process_slot
                                               : 0;
    zone = ngx_gateway_zone_get(gmcf);

    ngx_gateway_lock(zone);

    w = &zone->sh->workers[slot];

    if (w->pid != 0 && w->pid != ngx_pid) {
        ngx_gateway_reclaim_slot_locked(zone, slot);
    }

    w->generation++;
    w->pid = ngx_pid;
    w->doorbell_len = 0;

    gmcf->slot = slot;
    gmcf->generation = w->generation;

    ngx_gateway_unlock(zone);

    if (ngx_gateway_doorbell_open(cycle, gmcf, name, &len) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_gateway_lock(zone);
    ngx_memcpy(w->doorbell, name, len);
    w->doorbell_len = (uint8_t) len;
    ngx_gateway_unlock(zone);

    gmcf->drain.handler = ngx_gateway_drain_handler;
    gmcf->drain.data = gmcf;
    gmcf->drain.log = cycle->log;

    /* neither timer may keep a worker that is shutting down alive */

    gmcf->backstop.handler = ngx_gateway_backstop_handler;
    gmcf->backstop.data = gmcf;
    gmcf->backstop.log = cycle->log;
    gmcf->backstop.cancelable = 1;
    ngx_add_timer(&gmcf->backstop, NGX_GATEWAY_BACKSTOP_INTERVAL);

    gmcf->sweep.handler = ngx_gateway_sweep_handler;
    gmcf->sweep.data = gmcf;
    gmcf->sweep.log = cycle->log;
    gmcf->sweep.cancelable = 1;
    ngx_add_timer(&gmcf->sweep, NGX_GATEWAY_SWEEP_INTERVAL);

    return NGX_OK;
}


/*
 * The doorbell: a datagram socket in the abstract namespace (no file to
 * clean up), named after the master, the slot and its generation so that
 * two nodes on one machine and successive workers never collide.
 */

static ngx_int_t
ngx_gateway_doorbell_open(ngx_cycle_t *cycle, ngx_gateway_main_conf_t *gmcf,
    u_char *name, size_t *len)
{
    ngx_socket_t         s;
    ngx_connection_t    *c;
    struct sockaddr_un   sun;

    *len = ngx_snprintf(name, NGX_GATEWAY_DOORBELL_NAME,
                        "nginx-gateway/%P/%ui/%uD",
                        ngx_process == NGX_PROCESS_WORKER ? ngx_parent
                                                          : ngx_pid,
                        gmcf->slot, gmcf->generation)
           - name;

    s = socket(AF_UNIX, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
    if (s == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_socket_errno,
                      "gateway doorbell socket() failed");
        return NGX_ERROR;
    }

    ngx_memzero(&sun, sizeof(struct sockaddr_un));
    sun.sun_family = AF_UNIX;
    ngx_memcpy(sun.sun_path + 1, name, *len);

    if (bind(s, (struct sockaddr *) &sun,
             offsetof(struct sockaddr_un, sun_path) + 1 + *len)
        == -1)
    {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_socket_errno,
                      "gateway doorbell bind() to \"@%*s\" failed",
                      *len, name);
        ngx_close_socket(s);
        return NGX_ERROR;
    }

    c = ngx_get_connection(s, cycle->log);
    if (c == NULL) {
        ngx_close_socket(s);
        return NGX_ERROR;
    }

    c->data = gmcf;
    c->read->handler = ngx_gateway_doorbell_handler;
    c->read->log = cycle->log;

    if (ngx_add_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
        ngx_free_connection(c);
        ngx_close_socket(s);
        return NGX_ERROR;
    }

    gmcf->doorbell = c;

    return NGX_OK;
}


void
ngx_gateway_ipc_exit_process(ngx_cycle_t *cycle)
{
    ngx_gateway_zone_t       *zone;
    ngx_gateway_worker_sh_t  *w;
    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_gateway_module);

    if (gmcf == NULL || gmcf->shm_zone == NULL || gmcf->doorbell == NULL) {
        return;
    }

    zone = ngx_gateway_zone_get(gmcf);

    /* written frames whose blobs still wait to be released */

    ngx_gateway_release_flush(zone);

    ngx_gateway_lock(zone);

    w = &zone->sh->workers[gmcf->slot];

    if (w->pid == ngx_pid) {
        ngx_gateway_reclaim_slot_locked(zone, gmcf->slot);
    }

    ngx_gateway_unlock(zone);

    ngx_close_connection(gmcf->doorbell);
    gmcf->doorbell = NULL;
}


/*
 * A slot's worker is gone (exited, or killed): its sessions are detached
 * and resumable, and the slot is free.
 */

static void
ngx_gateway_reclaim_slot_locked(ngx_gateway_zone_t *zone, ngx_uint_t slot)
{
    ngx_rbtree_node_t       *node, *next;
    ngx_gateway_session_t   *s;
    ngx_gateway_worker_sh_t *w;

    w = &zone->sh->workers[slot];

    if (w->sessions) {
        for (node = ngx_rbtree_min(zone->sh->sessions.root,
                                   zone->sh->sessions.sentinel);
             node && node != zone->sh->sessions.sentinel;
             node = next)
        {
            next = ngx_rbtree_next(&zone->sh->sessions, node);
            s = (ngx_gateway_session_t *) node;

            if (s->state == ngx_gateway_session_attached
                && s->owner == (int16_t) slot)
            {
                ngx_gateway_session_detach_locked(zone, s);
            }
        }
    }

    w->pid = 0;
    w->generation++;
    w->doorbell_len = 0;
    w->evict_n = 0;
}


ngx_uint_t
ngx_gateway_session_mine(ngx_gateway_session_t *s)
{
    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ngx_gateway_main_conf();

    return s->state == ngx_gateway_session_attached
           && s->owner == (int16_t) gmcf->slot
           && s->owner_generation == gmcf->generation;
}


/*
 * The session still belongs to this very connection: a connection's
 * pointer to its session is only followed after this check, since a
 * resume elsewhere may have taken the session (and it may even be gone;
 * the zone stays mapped, and a freed record cannot match all of these).
 */

ngx_uint_t
ngx_gateway_session_is(ngx_gateway_session_t *s, ngx_connection_t *c)
{
    return ngx_gateway_session_mine(s)
           && s->conn_index == (uint32_t) (c - ngx_cycle->connections)
           && s->conn_number == c->number;
}


void
ngx_gateway_doorbells_add_locked(ngx_gateway_doorbells_t *d,
    ngx_gateway_session_t *s)
{
    if (s->state == ngx_gateway_session_attached) {
        d->bits[s->owner / 64] |= (uint64_t) 1 << (s->owner % 64);
        d->any = 1;
    }
}


/* after the zone is unlocked: one doorbell per owner, however many events */

void
ngx_gateway_doorbells_ring(ngx_gateway_doorbells_t *d)
{
    uint64_t                  bits;
    ngx_uint_t                i, slot;
    ngx_gateway_main_conf_t  *gmcf;

    if (!d->any) {
        return;
    }

    gmcf = ngx_gateway_main_conf();

    for (i = 0; i < NGX_MAX_PROCESSES / 64; i++) {

        for (bits = d->bits[i]; bits; bits &= bits - 1) {
            slot = i * 64 + __builtin_ctzll(bits);

            if (slot == gmcf->slot) {
                if (!gmcf->drain.posted) {
                    ngx_post_event(&gmcf->drain, &ngx_posted_events);
                }

                continue;
            }

            ngx_gateway_doorbell_send(gmcf, slot);
        }
    }
}


/* the owners collected in zone->pending, rung by ngx_gateway_unlock() */

void
ngx_gateway_ring_pending(ngx_gateway_zone_t *zone)
{
    ngx_gateway_doorbells_t  d;

    d = zone->pending;
    ngx_memzero(&zone->pending, sizeof(ngx_gateway_doorbells_t));

    ngx_gateway_doorbells_ring(&d);
}


/*
 * The name is read without the lock: it changes only when a worker starts,
 * and a doorbell sent to a worker that just went is lost harmlessly.
 */

static void
ngx_gateway_doorbell_send(ngx_gateway_main_conf_t *gmcf, ngx_uint_t slot)
{
    size_t                    len;
    ngx_gateway_zone_t       *zone;
    struct sockaddr_un        sun;
    ngx_gateway_worker_sh_t  *w;

    zone = ngx_gateway_zone_get(gmcf);
    w = &zone->sh->workers[slot];

    len = w->doorbell_len;

    if (len == 0 || len > NGX_GATEWAY_DOORBELL_NAME
        || gmcf->doorbell == NULL)
    {
        return;
    }

    ngx_memzero(&sun, sizeof(struct sockaddr_un));
    sun.sun_family = AF_UNIX;
    ngx_memcpy(sun.sun_path + 1, w->doorbell, len);

    if (sendto(gmcf->doorbell->fd, "", 0, MSG_DONTWAIT,
               (struct sockaddr *) &sun,
               offsetof(struct sockaddr_un, sun_path) + 1 + len)
        == -1)
    {
        /* a full socket means the owner has doorbells to read already */

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, ngx_socket_errno,
                       "gateway doorbell to slot %ui, \"@%*s\" failed",
                       slot, w->doorbell);
    }
}


static void
ngx_gateway_doorbell_handler(ngx_event_t *ev)
{
    u_char                    buf[64];
    ssize_t                   n;
    ngx_connection_t         *c;
    ngx_gateway_main_conf_t  *gmcf;

    c = ev->data;
    gmcf = c->data;

    do {
        n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
    } while (n >= 0);

    ngx_gateway_deliver_queue(gmcf);
}


static void
ngx_gateway_drain_handler(ngx_event_t *ev)
{
    ngx_gateway_deliver_queue(ev->data);
}


static void
ngx_gateway_backstop_handler(ngx_event_t *ev)
{
    ngx_gateway_zone_t       *zone;
    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ev->data;
    zone = ngx_gateway_zone_get(gmcf);

    /* a peek without the lock: a stale answer only delays to next time */

    if (!ngx_queue_empty(&zone->sh->workers[gmcf->slot].dirty)) {
        ngx_gateway_deliver_queue(gmcf);
    }

    ngx_add_timer(ev, NGX_GATEWAY_BACKSTOP_INTERVAL);
}


static void
ngx_gateway_sweep_handler(ngx_event_t *ev)
{
    ngx_err_t                 err;
    ngx_uint_t                i;
    ngx_gateway_zone_t       *zone;
    ngx_gateway_sh_t         *sh;
    ngx_gateway_main_conf_t  *gmcf;

    gmcf = ev->data;
    zone = ngx_gateway_zone_get(gmcf);
    sh = zone->sh;

    ngx_gateway_lock(zone);

    (void) ngx_gateway_session_expire_locked(zone, gmcf->resume_timeout,
                                             NGX_GATEWAY_SWEEP_MAX);

    /* a worker killed without exiting leaves its slot taken: free it */

    for (i = 0; i < NGX_MAX_PROCESSES; i++) {

        if (sh->workers[i].pid == 0 || i == gmcf->slot) {
            continue;
        }

        if (kill(sh->workers[i].pid, 0) == -1) {
            err = ngx_errno;

            if (err == NGX_ESRCH) {
                ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                              "gateway: worker %P of slot %ui is gone, "
                              "its sessions are detached",
                              sh->workers[i].pid, i);
                ngx_gateway_reclaim_slot_locked(zone, i);
            }
        }
    }

    ngx_gateway_unlock(zone);

    ngx_add_timer(ev, NGX_GATEWAY_SWEEP_INTERVAL);
}
