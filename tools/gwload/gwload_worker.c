
/*
 * gwload: one worker process: its epoll loop, connection pacing, signals.
 *
 * The worker owns connections id, id + P, id + 2P, ... (P workers), so a
 * round-robin over source addresses by id stays round-robin overall.  It
 * starts them at its share R / P of the total rate from a token bucket
 * holding at most 10 ms of tokens, phase-shifted by id / R so that workers
 * interleave.  Nothing runs unless a socket, a timer or a signal is due:
 * idle held connections cost no CPU.
 *
 * Signals (from the parent): SIGUSR1 closes every connection cleanly and
 * exits; SIGTERM exits at once.  SIGINT is ignored: the parent handles ^C.
 * To the parent: SIGUSR2 when every attempt of this worker has ended.
 */


#include "gwload.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>


#define GWLOAD_WORKER_EVENTS        1024

/* connections started or closed per loop turn, at most */
#define GWLOAD_WORKER_BATCH         256

#define GWLOAD_WORKER_RBUF          (64 * 1024)


static int gwload_worker_init(gwload_worker_t *w);
static void gwload_worker_free(gwload_worker_t *w);
static void gwload_worker_pace(gwload_worker_t *w);
static uint64_t gwload_worker_pace_next(gwload_worker_t *w);
static int gwload_worker_signal(gwload_worker_t *w);
static void gwload_worker_stop(gwload_worker_t *w);
static void gwload_worker_posted(gwload_worker_t *w);


uint64_t
gwload_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * GWLOAD_NSEC + ts.tv_nsec;
}


int
gwload_worker_run(gwload_conf_t *conf, gwload_shm_t *shm, unsigned id)
{
    int                  i, n, timeout, rc;
    uint64_t             next, t, k;
    gwload_conn_t       *c;
    gwload_worker_t      w;
    struct epoll_event   events[GWLOAD_WORKER_EVENTS];

    memset(&w, 0, sizeof(gwload_worker_t));

    w.id = id;
    w.conf = conf;
    w.shm = shm;
    w.stats = &shm->w[id];
    w.io = &gwload_io_plain;
    w.ep = -1;
    w.sigfd = -1;

    rc = GWLOAD_ERROR;

    if (gwload_worker_init(&w) != GWLOAD_OK) {
        goto done;
    }

    w.stats->phase = GWLOAD_PHASE_CONNECTING;

    for ( ;; ) {
        w.now = gwload_now();

        gwload_worker_pace(&w);

        if (w.stopping) {
            for (k = 0;
                 k < GWLOAD_WORKER_BATCH && w.close_next < w.nconns;
                 k++)
            {
                gwload_conn_stop(&w.conns[w.close_next++]);
            }

            if (w.close_next == w.nconns && w.active == 0) {
                break;
            }

        } else if (w.stats->phase == GWLOAD_PHASE_CONNECTING
                   && w.next == w.nconns && w.connecting == 0
                   && w.proto_pending == 0)
        {
            /* every attempt has ended: the parent starts the hold */
            w.stats->connected_ns = w.now;
            w.stats->phase = GWLOAD_PHASE_HOLDING;

            /* wake the parent now rather than at its next tick */
            if (getppid() == (pid_t) shm->parent_pid) {
                (void) kill((pid_t) shm->parent_pid, SIGUSR2);
            }
        }

        /* sleep until the next timer or token, or not at all */

        next = gwload_timers_next(&w.timers);
        t = gwload_worker_pace_next(&w);

        if (t && (next == 0 || t < next)) {
            next = t;
        }

        if (w.posted
            || (w.stopping && w.close_next < w.nconns))
        {
            timeout = 0;

        } else if (next == 0) {
            timeout = -1;

        } else if (next <= w.now) {
            timeout = 0;

        } else {
            /* round up: waking early would spin until the deadline */
            t = (next - w.now + GWLOAD_MSEC - 1) / GWLOAD_MSEC;
            timeout = (t > 60000) ? 60000 : (int) t;
        }

        n = epoll_wait(w.ep, events, GWLOAD_WORKER_EVENTS, timeout);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            fprintf(stderr, "gwload: worker %u: epoll_wait(): %s\n", id,
                    strerror(errno));
            goto done;
        }

        for (i = 0; i < n; i++) {
            c = events[i].data.ptr;

            if (c == NULL) {
                if (gwload_worker_signal(&w) == GWLOAD_DONE) {
                    rc = GWLOAD_OK;
                    goto done;
                }

                continue;
            }

            /* a fresh clock per event keeps latencies exact */
            w.now = gwload_now();

            gwload_conn_handler(c, events[i].events);
        }

        w.now = gwload_now();

        gwload_timers_expire(&w.timers, w.now);
        gwload_worker_posted(&w);
    }

    rc = GWLOAD_OK;

done:

    /* no reconnect from here on */
    w.stopping = 1;

    for (k = 0; k < w.nconns; k++) {
        gwload_conn_abort(&w.conns[k]);
    }

    w.stats->phase = GWLOAD_PHASE_DONE;

    gwload_worker_free(&w);

    return rc;
}


static int
gwload_worker_init(gwload_worker_t *w)
{
    uint64_t             i, seed;
    unsigned             procs;
    sigset_t             set;
    gwload_conf_t       *conf;
    struct epoll_event   ev;

    conf = w->conf;
    procs = conf->procs;

    /* die with the parent, whatever killed it */

    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1) {
        fprintf(stderr, "gwload: worker %u: prctl(): %s\n", w->id,
                strerror(errno));
    }

    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);

    if (sigprocmask(SIG_SETMASK, &set, NULL) == -1) {
        return GWLOAD_ERROR;
    }

    w->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (w->sigfd == -1) {
        fprintf(stderr, "gwload: worker %u: signalfd(): %s\n", w->id,
                strerror(errno));
        return GWLOAD_ERROR;
    }

    w->ep = epoll_create1(EPOLL_CLOEXEC);
    if (w->ep == -1) {
        fprintf(stderr, "gwload: worker %u: epoll_create1(): %s\n", w->id,
                strerror(errno));
        return GWLOAD_ERROR;
    }

    ev.events = EPOLLIN;
    ev.data.ptr = NULL;

    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->sigfd, &ev) == -1) {
        return GWLOAD_ERROR;
    }

    /* the parent may have been gone before PR_SET_PDEATHSIG took effect */

    if (getppid() != (pid_t) w->shm->parent_pid) {
        return GWLOAD_ERROR;
    }

    w->tty = isatty(STDERR_FILENO) ? 1 : 0;

    w->nconns = conf->connections / procs
                + (w->id < conf->connections % procs ? 1 : 0);
    w->stats->planned = w->nconns;

    w->conns = calloc(w->nconns ? w->nconns : 1, sizeof(gwload_conn_t));
    if (w->conns == NULL) {
        goto nomem;
    }

    if (conf->proto->data_size) {
        w->proto_data = calloc(w->nconns ? w->nconns : 1,
                               conf->proto->data_size);
        if (w->proto_data == NULL) {
            goto nomem;
        }
    }

    for (i = 0; i < w->nconns; i++) {
        w->conns[i].fd = -1;
        w->conns[i].id = (uint32_t) (i * procs + w->id);
        w->conns[i].worker = w;

        if (w->proto_data) {
            w->conns[i].proto_data = w->proto_data
                                     + i * conf->proto->data_size;
        }
    }

    w->rbuf_size = GWLOAD_WORKER_RBUF;
    w->rbuf = malloc(w->rbuf_size);

    /* room for a reconnect's target too (gwload_conn_reconnect()) */

    w->req_size = 512 + strlen(conf->path) + strlen(conf->host)
                  + conf->headers_len + GWLOAD_TARGET_MAX;
    w->req = malloc(w->req_size);

    if (w->rbuf == NULL || w->req == NULL) {
        goto nomem;
    }

    if (gwload_timers_init(&w->timers, 2 * w->nconns + 16) != GWLOAD_OK) {
        goto nomem;
    }

    /* this worker's slots of the probe area (gwload_probe.h) */

    w->probe_sec = w->shm->probe->sec + (size_t) w->id * GWLOAD_PROBE_SECONDS;
    w->probe_seq = w->shm->probe->seq_recv
                   + (size_t) w->id * GWLOAD_PROBE_SEQS;
    w->probe_conn = w->shm->probe->conn_count;

    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
        seed = gwload_now();
    }

    w->rng = (seed ^ ((uint64_t) getpid() << 32)) | 1;

    /* token bucket: this worker's share, at most 10 ms of burst */

    w->now = gwload_now();

    if (conf->rate > 0) {
        w->rate = conf->rate / procs;
        w->burst = w->rate / 100;

        if (w->burst < 1) {
            w->burst = 1;
        }

        w->tokens = 1;
        w->tokens_at = w->now + (uint64_t) (w->id * 1e9 / conf->rate);
    }

    if (conf->proto->init && conf->proto->init(w) != GWLOAD_OK) {
        return GWLOAD_ERROR;
    }

    return GWLOAD_OK;

nomem:

    fprintf(stderr, "gwload: worker %u: out of memory for %" PRIu64
            " connections\n", w->id, w->nconns);

    return GWLOAD_ERROR;
}


static void
gwload_worker_free(gwload_worker_t *w)
{
    gwload_timers_free(&w->timers);

    free(w->conns);
    free(w->proto_data);
    free(w->rbuf);
    free(w->req);

    if (w->ep != -1) {
        close(w->ep);
    }

    if (w->sigfd != -1) {
        close(w->sigfd);
    }
}


static void
gwload_worker_pace(gwload_worker_t *w)
{
    uint64_t  n, k;

    if (w->stopping || w->next >= w->nconns) {
        return;
    }

    n = w->nconns - w->next;

    if (w->rate > 0) {

        if (w->now < w->tokens_at) {
            return;
        }

        w->tokens += (double) (w->now - w->tokens_at) * w->rate / 1e9;
        w->tokens_at = w->now;

        if (w->tokens > w->burst) {
            w->tokens = w->burst;
        }

        if ((double) n > w->tokens) {
            n = (uint64_t) w->tokens;
        }

        w->tokens -= (double) n;
    }

    if (n > GWLOAD_WORKER_BATCH) {
        n = GWLOAD_WORKER_BATCH;
    }

    for (k = 0; k < n; k++) {
        (void) gwload_conn_start(&w->conns[w->next++]);
    }
}


/* when the next connection may start; 0: none pending */

static uint64_t
gwload_worker_pace_next(gwload_worker_t *w)
{
    if (w->stopping || w->next >= w->nconns) {
        return 0;
    }

    if (w->rate <= 0 || w->tokens >= 1) {
        return w->now;
    }

    if (w->now < w->tokens_at) {
        return w->tokens_at;
    }

    return w->tokens_at + (uint64_t) ((1 - w->tokens) * 1e9 / w->rate) + 1;
}


static int
gwload_worker_signal(gwload_worker_t *w)
{
    ssize_t                   n;
    uint64_t                  k;
    struct signalfd_siginfo   si;

    for ( ;; ) {
        n = read(w->sigfd, &si, sizeof(si));

        if (n != sizeof(si)) {
            return GWLOAD_OK;
        }

        switch (si.ssi_signo) {

        case SIGUSR1:
            gwload_worker_stop(w);
            break;

        case SIGTERM:
            w->stopping = 1;

            for (k = 0; k < w->nconns; k++) {
                gwload_conn_abort(&w->conns[k]);
            }

            return GWLOAD_DONE;
        }
    }
}


static void
gwload_worker_stop(gwload_worker_t *w)
{
    if (w->stopping) {
        return;
    }

    w->stopping = 1;
    w->close_next = 0;
    w->stats->phase = GWLOAD_PHASE_CLOSING;
}


static void
gwload_worker_posted(gwload_worker_t *w)
{
    gwload_conn_t  *c, *list;

    list = w->posted;
    w->posted = NULL;

    while (list) {
        c = list;
        list = c->posted_next;
        c->posted = 0;
        c->posted_next = NULL;

        if (c->fd != -1) {
            w->now = gwload_now();
            gwload_conn_read(c);
        }
    }
}


/* xorshift64*: fast, good enough for nonces, masks and jitter */

uint64_t
gwload_worker_random(gwload_worker_t *w)
{
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;

    return w->rng * 0x2545f4914f6cdd1dULL;
}
