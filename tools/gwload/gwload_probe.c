
/*
 * gwload: delivery latency probes, the workers' side; see gwload_probe.h.
 *
 * The cost per delivered message is what matters: at 400k deliveries/s
 * over two processes sharing two cores with the server, a message may take
 * about 100 ns here.  So: one memmem() for the marker, a digit loop, one
 * CLOCK_REALTIME read (vDSO), and a handful of counter increments, with no
 * allocation and no lock (each worker writes its own slots).
 */


#include "gwload.h"

#include <time.h>
#include <sys/mman.h>


/* a timestamp has at most 19 digits (fits in uint64), N at most 18 */
#define GWLOAD_PROBE_TS_DIGITS      19
#define GWLOAD_PROBE_N_DIGITS       18

#define gwload_probe_align(n)       (((n) + 63) & ~(size_t) 63)
#define gwload_probe_digit(c)       ((u_char) ((c) - '0') <= 9)


uint64_t
gwload_realtime(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * GWLOAD_NSEC + ts.tv_nsec;
}


/*
 * The first well-formed probe in [p, end): "gwload:" and 1..19 digits not
 * followed by another digit, then optionally ":" and 1..18 digits.
 * GWLOAD_OK, or GWLOAD_DECLINED when there is none.
 */

int
gwload_probe_parse(const u_char *p, const u_char *end, gwload_probe_t *pr)
{
    int            k;
    int64_t        n;
    uint64_t       ts;
    const u_char  *m, *q;

    while (p < end) {
        m = memmem(p, end - p, GWLOAD_PROBE_MARKER,
                   GWLOAD_PROBE_MARKER_LEN);
        if (m == NULL) {
            return GWLOAD_DECLINED;
        }

        q = m + GWLOAD_PROBE_MARKER_LEN;
        ts = 0;

        for (k = 0; q < end && gwload_probe_digit(*q); k++, q++) {
            if (k == GWLOAD_PROBE_TS_DIGITS) {
                break;
            }

            ts = ts * 10 + (*q - '0');
        }

        if (k == 0 || (q < end && gwload_probe_digit(*q))) {
            /* "gwload:" with no number, or too long a one: look further */
            p = m + 1;
            continue;
        }

        pr->ts = ts;
        pr->n = -1;
        pr->pos = m;

        if (q + 1 < end && *q == ':' && gwload_probe_digit(q[1])) {
            n = 0;

            for (k = 0, q++; q < end && gwload_probe_digit(*q); k++, q++) {
                if (k == GWLOAD_PROBE_N_DIGITS) {
                    /* too long: a probe without a number */
                    return GWLOAD_OK;
                }

                n = n * 10 + (*q - '0');
            }

            pr->n = n;
        }

        return GWLOAD_OK;
    }

    return GWLOAD_DECLINED;
}


/*
 * Has this connection had message n before?  A sliding window of the last
 * GWLOAD_PROBE_WINDOW numbers below the highest: publishers with several
 * connections may deliver slightly out of order, not by 64 messages.
 */

int
gwload_probe_seen(gwload_probe_conn_t *pc, uint64_t n)
{
    uint64_t  d;

    if (n >= pc->hi) {
        d = n + 1 - pc->hi;

        pc->win = (pc->hi == 0 || d >= GWLOAD_PROBE_WINDOW)
                  ? 1 : (pc->win << d) | 1;
        pc->hi = n + 1;

        return GWLOAD_PROBE_NEW;
    }

    d = pc->hi - 1 - n;

    if (d >= GWLOAD_PROBE_WINDOW) {
        return GWLOAD_PROBE_UNCHECKED;
    }

    if (pc->win & (1ULL << d)) {
        return GWLOAD_PROBE_DUPLICATE;
    }

    pc->win |= 1ULL << d;

    return GWLOAD_PROBE_NEW;
}


/* the whole area is zero-filled and touched only where written */

gwload_probe_area_t *
gwload_probe_area_create(uint64_t nconns, unsigned nworkers)
{
    u_char               *p;
    size_t                head, conn, sec, size;
    gwload_probe_area_t  *a;

    head = gwload_probe_align(sizeof(gwload_probe_area_t));
    conn = gwload_probe_align(nconns * sizeof(uint32_t));
    sec = gwload_probe_align((size_t) nworkers * GWLOAD_PROBE_SECONDS
                             * sizeof(gwload_probe_sec_t));
    size = head + conn + sec
           + (size_t) nworkers * GWLOAD_PROBE_SEQS * sizeof(uint32_t);

    p = mmap(NULL, size, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }

    a = (gwload_probe_area_t *) p;

    a->size = size;
    a->nconns = nconns;
    a->nworkers = nworkers;
    a->conn_count = (uint32_t *) (p + head);
    a->sec = (gwload_probe_sec_t *) (p + head + conn);
    a->seq_recv = (uint32_t *) (p + head + conn + sec);

    return a;
}


void
gwload_probe_area_destroy(gwload_probe_area_t *a)
{
    if (a) {
        munmap(a, a->size);
    }
}


void
gwload_probe_sum(gwload_probe_stats_t *dst, gwload_probe_stats_t *src,
    int hist)
{
    dst->deliveries += src->deliveries;
    dst->probed += src->probed;
    dst->duplicates += src->duplicates;
    dst->unchecked += src->unchecked;
    dst->no_seq += src->no_seq;
    dst->seq_overflow += src->seq_overflow;
    dst->clock_skew += src->clock_skew;
    dst->series_overflow += src->series_overflow;

    if (src->first_ns
        && (dst->first_ns == 0 || src->first_ns < dst->first_ns))
    {
        dst->first_ns = src->first_ns;
    }

    if (src->last_ns > dst->last_ns) {
        dst->last_ns = src->last_ns;
    }

    if (src->seq_end > dst->seq_end) {
        dst->seq_end = src->seq_end;
    }

    if (src->sec_end > dst->sec_end) {
        dst->sec_end = src->sec_end;
    }

    if (hist) {
        gwload_hist_merge(&dst->latency, &src->latency);
    }
}


/* a probe anywhere in the message: 1 if one was found and counted */

int
gwload_probe_scan(gwload_conn_t *c, const u_char *data, size_t len)
{
    gwload_probe_t  pr;

    if (gwload_probe_parse(data, data + len, &pr) != GWLOAD_OK) {
        return 0;
    }

    gwload_probe_record(c, &pr);

    return 1;
}


/* one delivery on c; pr is NULL for a delivery without a probe */

void
gwload_probe_record(gwload_conn_t *c, gwload_probe_t *pr)
{
    uint64_t               now, real, us, sec;
    gwload_worker_t       *w;
    gwload_probe_sec_t    *ss;
    gwload_probe_stats_t  *ps;

    w = c->worker;
    ps = &w->stats->probe;
    now = w->now;

    ps->deliveries++;

    if (ps->first_ns == 0) {
        ps->first_ns = now;
    }

    ps->last_ns = now;

    /* the series is by receive time, in seconds since the run started */

    sec = (now - w->shm->start_ns) / GWLOAD_NSEC;
    ss = NULL;

    if (sec < GWLOAD_PROBE_SECONDS) {
        ss = &w->probe_sec[sec];
        ss->deliveries++;

        if (sec >= ps->sec_end) {
            ps->sec_end = sec + 1;
        }

    } else {
        ps->series_overflow++;
    }

    if (pr == NULL) {
        return;
    }

    ps->probed++;

    /* CLOCK_REALTIME on both sides: the publisher may be another process */

    real = gwload_realtime();

    if (pr->ts > real) {
        ps->clock_skew++;
        us = 0;

    } else {
        us = (real - pr->ts) / GWLOAD_USEC;
    }

    gwload_hist_add(&ps->latency, us);

    if (ss) {
        ss->probed++;
        ss->counts[gwload_hist_index(us < GWLOAD_PROBE_SEC_MAX_US
                                     ? us : GWLOAD_PROBE_SEC_MAX_US)]++;
    }

    if (pr->n < 0) {
        ps->no_seq++;
        w->probe_conn[c->id]++;
        return;
    }

    switch (gwload_probe_seen(&c->probe, (uint64_t) pr->n)) {

    case GWLOAD_PROBE_DUPLICATE:
        ps->duplicates++;
        return;

    case GWLOAD_PROBE_UNCHECKED:
        ps->unchecked++;
        break;

    default:
        break;
    }

    w->probe_conn[c->id]++;

    if (pr->n >= GWLOAD_PROBE_SEQS) {
        ps->seq_overflow++;
        return;
    }

    w->probe_seq[pr->n]++;

    if ((uint64_t) pr->n >= ps->seq_end) {
        ps->seq_end = pr->n + 1;
    }
}
