
/*
 * gwload: counters, histograms, progress line, text and JSON reports.
 */


#include "gwload.h"

#include <sys/mman.h>
#include <arpa/inet.h>


const char  *gwload_fail_names[GWLOAD_FAIL_MAX] = {
    "refused",          /* GWLOAD_FAIL_REFUSED */
    "timeout",          /* GWLOAD_FAIL_TIMEOUT */
    "status",           /* GWLOAD_FAIL_STATUS */
    "bad_accept",       /* GWLOAD_FAIL_BAD_ACCEPT */
    "reset",            /* GWLOAD_FAIL_RESET */
    "addr_unavail",     /* GWLOAD_FAIL_ADDR */
    "emfile",           /* GWLOAD_FAIL_EMFILE */
    "other"             /* GWLOAD_FAIL_OTHER */
};


const char  *gwload_drop_names[GWLOAD_DROP_MAX] = {
    "close_frame",      /* GWLOAD_DROP_CLOSE */
    "eof",              /* GWLOAD_DROP_EOF */
    "reset",            /* GWLOAD_DROP_RESET */
    "protocol"          /* GWLOAD_DROP_PROTOCOL */
};


static void gwload_stats_series_sum(gwload_wstats_t *sum,
    gwload_wstats_t *w);
static void gwload_stats_proto_text(gwload_conf_t *conf, gwload_wstats_t *s,
    FILE *f);
static void gwload_stats_proto_json(gwload_conf_t *conf, gwload_wstats_t *s,
    FILE *f);


gwload_shm_t *
gwload_stats_create(unsigned nworkers)
{
    size_t         size;
    gwload_shm_t  *shm;

    size = sizeof(gwload_shm_t) + nworkers * sizeof(gwload_wstats_t);

    /* zero-filled, shared with the children across fork() */

    shm = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) {
        return NULL;
    }

    shm->nworkers = nworkers;

    return shm;
}


void
gwload_stats_destroy(gwload_shm_t *shm)
{
    munmap(shm, sizeof(gwload_shm_t)
                + shm->nworkers * sizeof(gwload_wstats_t));
}


size_t
gwload_hist_index(uint64_t v)
{
    unsigned  msb, e;

    if (v < 2 * GWLOAD_HIST_SUB) {
        return v;
    }

    if (v >> (GWLOAD_HIST_MAX_BITS + 1)) {
        v = (1ULL << (GWLOAD_HIST_MAX_BITS + 1)) - 1;
    }

    msb = 63 - __builtin_clzll(v);
    e = msb - GWLOAD_HIST_SUB_BITS;

    return (size_t) e * GWLOAD_HIST_SUB + (v >> e);
}


/* the middle of a bucket */

double
gwload_hist_value(size_t i)
{
    unsigned  e;
    uint64_t  m;

    if (i < 2 * GWLOAD_HIST_SUB) {
        return (double) i;
    }

    e = i / GWLOAD_HIST_SUB - 1;
    m = i % GWLOAD_HIST_SUB + GWLOAD_HIST_SUB;

    return ((double) (m << e) + (double) ((m + 1) << e) - 1) / 2;
}


void
gwload_hist_add(gwload_hist_t *h, uint64_t us)
{
    if (h->n == 0 || us < h->min) {
        h->min = us;
    }

    if (us > h->max) {
        h->max = us;
    }

    h->n++;
    h->sum += us;
    h->counts[gwload_hist_index(us)]++;
}


void
gwload_hist_merge(gwload_hist_t *dst, gwload_hist_t *src)
{
    size_t  i;

    if (src->n == 0) {
        return;
    }

    if (dst->n == 0 || src->min < dst->min) {
        dst->min = src->min;
    }

    if (src->max > dst->max) {
        dst->max = src->max;
    }

    dst->n += src->n;
    dst->sum += src->sum;

    for (i = 0; i < GWLOAD_HIST_BUCKETS; i++) {
        dst->counts[i] += src->counts[i];
    }
}


/* percentiles in milliseconds */

void
gwload_hist_pct(gwload_hist_t *h, gwload_pct_t *p)
{
    int             k;
    size_t          i;
    double         *out[4], v;
    uint64_t        acc, rank[4];
    static double   q[4] = { 0.10, 0.50, 0.90, 0.99 };

    memset(p, 0, sizeof(gwload_pct_t));

    p->n = h->n;

    if (h->n == 0) {
        return;
    }

    out[0] = &p->p10;
    out[1] = &p->p50;
    out[2] = &p->p90;
    out[3] = &p->p99;

    for (k = 0; k < 4; k++) {
        /* nearest rank: the smallest value with at least q * n at or below */
        rank[k] = (uint64_t) (q[k] * h->n + 0.999999);
        if (rank[k] == 0) {
            rank[k] = 1;
        }
    }

    acc = 0;
    k = 0;

    for (i = 0; i < GWLOAD_HIST_BUCKETS && k < 4; i++) {
        acc += h->counts[i];

        while (k < 4 && acc >= rank[k]) {
            v = gwload_hist_value(i);

            /* never report beyond the exact extremes */
            if (v > (double) h->max) {
                v = (double) h->max;
            }

            if (v < (double) h->min) {
                v = (double) h->min;
            }

            *out[k++] = v / 1000;
        }
    }

    p->max = (double) h->max / 1000;
    p->min = (double) h->min / 1000;
    p->mean = (double) h->sum / h->n / 1000;
}


void
gwload_stats_sum(gwload_shm_t *shm, gwload_wstats_t *sum, int hist)
{
    size_t            i, k;
    gwload_wstats_t  *w;

    memset(sum, 0, sizeof(gwload_wstats_t));

    for (i = 0; i < shm->nworkers; i++) {
        w = &shm->w[i];

#define gwload_counter_sum(name)  sum->name += w->name;
        GWLOAD_COUNTERS(gwload_counter_sum)
#undef gwload_counter_sum

        for (k = 0; k < GWLOAD_FAIL_MAX; k++) {
            sum->fail[k] += w->fail[k];
        }

        for (k = 0; k < GWLOAD_DROP_MAX; k++) {
            sum->drop[k] += w->drop[k];
        }

        for (k = 0; k < GWLOAD_PROTO_COUNTERS; k++) {
            sum->proto[k] += w->proto[k];
        }

        if (w->first_start_ns
            && (sum->first_start_ns == 0
                || w->first_start_ns < sum->first_start_ns))
        {
            sum->first_start_ns = w->first_start_ns;
        }

        if (w->last_established_ns > sum->last_established_ns) {
            sum->last_established_ns = w->last_established_ns;
        }

        if (w->connected_ns > sum->connected_ns) {
            sum->connected_ns = w->connected_ns;
        }

        if (w->proto_done_ns > sum->proto_done_ns) {
            sum->proto_done_ns = w->proto_done_ns;
        }

        if (w->last_status) {
            sum->last_status = w->last_status;
        }

        if (w->last_close_code) {
            sum->last_close_code = w->last_close_code;
        }

        if (w->last_errno) {
            sum->last_errno = w->last_errno;
        }

        gwload_probe_sum(&sum->probe, &w->probe, hist);

        if (hist) {
            gwload_hist_merge(&sum->connect, &w->connect);
            gwload_hist_merge(&sum->handshake, &w->handshake);

            for (k = 0; k < GWLOAD_PROTO_HISTS; k++) {
                gwload_hist_merge(&sum->proto_hist[k], &w->proto_hist[k]);
            }

            gwload_stats_series_sum(sum, w);
        }
    }
}


static void
gwload_stats_series_sum(gwload_wstats_t *sum, gwload_wstats_t *w)
{
    size_t  k, i;

    for (k = 0; k < GWLOAD_PROTO_SERIES; k++) {
        for (i = 0; i < w->proto_sec_end; i++) {
            sum->proto_sec[k][i] += w->proto_sec[k][i];
        }
    }

    if (w->proto_sec_end > sum->proto_sec_end) {
        sum->proto_sec_end = w->proto_sec_end;
    }

    sum->proto_sec_overflow += w->proto_sec_overflow;
}


/* one count in series k, in the second since the start it happens in */

void
gwload_stats_series_add(gwload_worker_t *w, unsigned k)
{
    uint64_t          sec;
    gwload_wstats_t  *st;

    st = w->stats;
    sec = (w->now - w->shm->start_ns) / GWLOAD_NSEC;

    if (k >= GWLOAD_PROTO_SERIES || sec >= GWLOAD_PROTO_SECONDS) {
        st->proto_sec_overflow++;
        return;
    }

    st->proto_sec[k][sec]++;

    if (sec >= st->proto_sec_end) {
        st->proto_sec_end = sec + 1;
    }
}


static uint64_t
gwload_stats_connecting(gwload_wstats_t *s)
{
    uint64_t  done;

    /* the counters are read at slightly different moments: clamp */

    done = s->established + s->failed + s->aborted;

    return (s->attempted > done) ? s->attempted - done : 0;
}


void
gwload_stats_progress(gwload_conf_t *conf, gwload_wstats_t *s,
    double elapsed, double rate, double drate, int tty)
{
    int   n;
    char  dropped[80], extra[128], deliv[96];

    dropped[0] = '\0';
    extra[0] = ' ';
    extra[1] = ' ';
    extra[2] = '\0';

    if (conf->proto->progress) {
        conf->proto->progress(conf, s, extra + 2, sizeof(extra) - 2);
    }

    if (extra[2] == '\0') {
        extra[0] = '\0';
    }

    n = 0;

    if (s->dropped) {
        n = snprintf(dropped, sizeof(dropped), "  dropped %" PRIu64,
                     s->dropped);
    }

    if (s->reconnecting && n >= 0 && (size_t) n < sizeof(dropped)) {
        snprintf(dropped + n, sizeof(dropped) - n, "  reconnecting %" PRIu64,
                 s->reconnecting);
    }

    gwload_probe_progress(s, drate, deliv, sizeof(deliv));

    /* on a terminal the line is redrawn in place */

    fprintf(stderr,
            "%s[%7.1fs] connecting %" PRIu64 "  established %" PRIu64
            "  failed %" PRIu64 "  closed %" PRIu64 "%s  rate %.0f/s"
            "  msgs %" PRIu64 "%s%s%s",
            tty ? "\r" : "", elapsed, gwload_stats_connecting(s),
            s->open, s->failed,
            s->closed + s->close_unclean + s->dropped, dropped, rate,
            s->msgs_in, extra, deliv, tty ? "\033[K" : "\n");

    fflush(stderr);
}


void
gwload_stats_report(gwload_conf_t *conf, gwload_result_t *r, FILE *f)
{
    int               k;
    char              src[INET_ADDRSTRLEN];
    uint64_t          not_started;
    struct in_addr    a;
    gwload_wstats_t  *s;

    s = &r->sum;

    a.s_addr = htonl(conf->src_from);
    inet_ntop(AF_INET, &a, src, sizeof(src));

    not_started = conf->connections > s->attempted
                  ? conf->connections - s->attempted : 0;

    fprintf(f, "gwload %s: %s, protocol %s\n", GWLOAD_VERSION, conf->url,
            conf->proto->name);

    fprintf(f, "  connections     %" PRIu64 " over %u proc%s, %u source "
            "address%s from %s, rate %s",
            conf->connections, r->procs, r->procs == 1 ? "" : "s",
            conf->src_count, conf->src_count == 1 ? "" : "es", src,
            conf->rate > 0 ? "" : "unlimited\n");

    if (conf->rate > 0) {
        fprintf(f, "%.0f/s\n", conf->rate);
    }

    fprintf(f, "  attempted       %" PRIu64 "\n", s->attempted);

    fprintf(f, "  established     %" PRIu64, s->established);

    if (s->established && r->establish > 0) {
        fprintf(f, " in %.2f s (%.1f/s)", r->establish,
                s->established / r->establish);
    }

    fprintf(f, "\n");

    fprintf(f, "  failed          %" PRIu64 "\n", s->failed);

    if (s->failed) {
        fprintf(f, "   ");

        for (k = 0; k < GWLOAD_FAIL_MAX; k++) {
            fprintf(f, " %s %" PRIu64, gwload_fail_names[k], s->fail[k]);
        }

        fprintf(f, "\n");

        if (s->fail[GWLOAD_FAIL_STATUS]) {
            fprintf(f, "    last status %" PRId64 "\n", s->last_status);
        }

        if (s->last_errno) {
            fprintf(f, "    last other error %s (%s)\n",
                    strerrorname_np(s->last_errno)
                    ? strerrorname_np(s->last_errno) : "?",
                    strerror(s->last_errno));
        }
    }

    if (s->aborted || not_started) {
        fprintf(f, "  aborted         %" PRIu64 " (stopped while connecting)"
                ", %" PRIu64 " not started\n", s->aborted, not_started);
    }

    fprintf(f, "  dropped         %" PRIu64 " (lost while held)\n",
            s->dropped);

    if (s->dropped) {
        fprintf(f, "   ");

        for (k = 0; k < GWLOAD_DROP_MAX; k++) {
            fprintf(f, " %s %" PRIu64, gwload_drop_names[k], s->drop[k]);
        }

        fprintf(f, "\n");
    }

    if (s->disconnected || s->reconnects) {
        fprintf(f, "  reconnects      %" PRIu64 " attempts after %" PRIu64
                " disconnects: %" PRIu64 " got their 101, %" PRIu64
                " failed\n", s->reconnects, s->disconnected,
                s->reconnected, s->reconnect_failed);
    }

    fprintf(f, "  closed          %" PRIu64 " clean, %" PRIu64 " unclean\n",
            s->closed, s->close_unclean);

    gwload_stats_hist_text(f, "connect", &s->connect, "TCP connect");
    gwload_stats_hist_text(f, "handshake", &s->handshake,
                           "connect start -> 101");

    fprintf(f, "  messages in     %" PRIu64 " (%" PRIu64 " text, %" PRIu64
            " binary, %" PRIu64 " payload bytes)\n",
            s->msgs_in, s->text_in, s->binary_in, s->bytes_in);

    fprintf(f, "  control in      %" PRIu64 " pings (%" PRIu64
            " pongs sent), %" PRIu64 " close frames",
            s->pings_in, s->pongs_out, s->closes_in);

    if (s->last_close_code) {
        fprintf(f, " (last code %" PRId64 ")", s->last_close_code);
    }

    fprintf(f, "\n");

    if (conf->proto->report) {
        conf->proto->report(conf, r, f);

    } else {
        gwload_stats_proto_text(conf, s, f);
    }

    gwload_probe_report(conf, r, f);

    fprintf(f, "  duration        %.2f s\n", r->duration);

    if (r->workers_lost) {
        fprintf(f, "  workers lost    %u (exited abnormally)\n",
                r->workers_lost);
    }

    if (r->ok) {
        fprintf(f, "  result          OK: all %" PRIu64 " established and "
                "held%s%s\n", conf->connections,
                r->proto_why[0] ? ", " : "", r->proto_why);

    } else if (r->core_ok) {
        fprintf(f, "  result          FAIL: %s\n", r->proto_why);

    } else {
        fprintf(f, "  result          FAIL: %" PRIu64 " of %" PRIu64
                " established, %" PRIu64 " dropped%s\n",
                s->established, conf->connections, s->dropped,
                r->interrupted ? ", interrupted" : "");
    }
}


/* the generic protocol section: named counters, then histograms */

static void
gwload_stats_proto_text(gwload_conf_t *conf, gwload_wstats_t *s, FILE *f)
{
    int          k;
    const char  *sep;

    sep = "";

    for (k = 0; k < GWLOAD_PROTO_COUNTERS; k++) {
        if (conf->proto->counter_names[k]) {
            fprintf(f, "%s%s %" PRIu64,
                    *sep ? sep : "  protocol        ",
                    conf->proto->counter_names[k], s->proto[k]);
            sep = ", ";
        }
    }

    if (*sep) {
        fprintf(f, "\n");
    }

    for (k = 0; k < GWLOAD_PROTO_HISTS; k++) {
        if (conf->proto->hist_names[k] && s->proto_hist[k].n) {
            gwload_stats_hist_text(f, conf->proto->hist_names[k],
                                   &s->proto_hist[k], conf->proto->name);
        }
    }
}


void
gwload_stats_hist_text(FILE *f, const char *label, gwload_hist_t *h,
    const char *note)
{
    gwload_pct_t  p;

    gwload_hist_pct(h, &p);

    if (p.n == 0) {
        fprintf(f, "  %-12s ms  -\n", label);
        return;
    }

    fprintf(f, "  %-12s ms  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f"
            "  (%s, n=%" PRIu64 ")\n",
            label, p.p50, p.p90, p.p99, p.max, note, p.n);
}


void
gwload_stats_json_str(FILE *f, const char *s)
{
    fputc('"', f);

    for ( ; *s; s++) {
        if (*s == '"' || *s == '\\') {
            fprintf(f, "\\%c", *s);

        } else if ((u_char) *s < 0x20) {
            fprintf(f, "\\u%04x", (u_char) *s);

        } else {
            fputc(*s, f);
        }
    }

    fputc('"', f);
}


/* "key": [n, n, ...], series k from the start to its last second */

void
gwload_stats_series_json(FILE *f, const char *key, gwload_wstats_t *s,
    unsigned k)
{
    uint64_t  i;

    fprintf(f, "\"%s\": [", key);

    for (i = 0; k < GWLOAD_PROTO_SERIES && i < s->proto_sec_end; i++) {
        fprintf(f, "%s%" PRIu32, i ? ", " : "", s->proto_sec[k][i]);
    }

    fprintf(f, "]");
}


int
gwload_stats_json(gwload_conf_t *conf, gwload_result_t *r, const char *path)
{
    int               k, rc;
    FILE             *f;
    char              src[INET_ADDRSTRLEN];
    struct in_addr    a;
    gwload_wstats_t  *s;

    s = &r->sum;

    f = (strcmp(path, "-") == 0) ? stdout : fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "gwload: cannot write %s: %s\n", path,
                strerror(errno));
        return GWLOAD_ERROR;
    }

    a.s_addr = htonl(conf->src_from);
    inet_ntop(AF_INET, &a, src, sizeof(src));

    fprintf(f, "{\"tool\": \"gwload\", \"version\": \"%s\", \"url\": ",
            GWLOAD_VERSION);
    gwload_stats_json_str(f, conf->url);
    fprintf(f, ", \"protocol\": ");
    gwload_stats_json_str(f, conf->proto->name);

    fprintf(f, ", \"connections\": %" PRIu64 ", \"procs\": %u"
            ", \"src_from\": \"%s\", \"src_count\": %u, \"rate\": %.3f"
            ", \"hold_s\": %.3f, \"ping_interval_ms\": %" PRIu64
            ", \"timeout_s\": %.3f",
            conf->connections, r->procs, src, conf->src_count, conf->rate,
            conf->hold_ms < 0 ? -1.0 : conf->hold_ms / 1000.0,
            conf->ping_interval_ms, conf->timeout_ms / 1000.0);

#define gwload_counter_json(name)                                             \
    fprintf(f, ", \"" #name "\": %" PRIu64, (uint64_t) s->name);
    GWLOAD_COUNTERS(gwload_counter_json)
#undef gwload_counter_json

    fprintf(f, ", \"not_started\": %" PRIu64,
            conf->connections > s->attempted
            ? conf->connections - s->attempted : 0);

    fprintf(f, ", \"failures\": {");
    for (k = 0; k < GWLOAD_FAIL_MAX; k++) {
        fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "",
                gwload_fail_names[k], s->fail[k]);
    }
    fprintf(f, "}, \"drops\": {");
    for (k = 0; k < GWLOAD_DROP_MAX; k++) {
        fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "",
                gwload_drop_names[k], s->drop[k]);
    }
    fprintf(f, "}");

    fprintf(f, ", \"last_status\": %" PRId64 ", \"last_close_code\": %"
            PRId64 ", \"last_errno\": ", s->last_status, s->last_close_code);
    gwload_stats_json_str(f, s->last_errno && strerrorname_np(s->last_errno)
                             ? strerrorname_np(s->last_errno) : "");

    fprintf(f, ", \"establish_s\": %.3f, \"establish_rate\": %.1f",
            r->establish > 0 ? r->establish : 0.0,
            r->establish > 0 ? s->established / r->establish : 0.0);

    gwload_stats_hist_json(f, ", ", "connect_ms", &s->connect);
    gwload_stats_hist_json(f, ", ", "handshake_ms", &s->handshake);

    if (conf->proto->report_json) {
        fprintf(f, ", ");
        conf->proto->report_json(conf, r, f);

    } else {
        gwload_stats_proto_json(conf, s, f);
    }

    fprintf(f, ", ");
    gwload_probe_report_json(conf, r, f);

    fprintf(f, ", \"duration_s\": %.3f, \"workers_lost\": %u"
            ", \"interrupted\": %s, \"ok\": %s}\n",
            r->duration, r->workers_lost,
            r->interrupted ? "true" : "false", r->ok ? "true" : "false");

    rc = GWLOAD_OK;

    if (f == stdout) {
        fflush(f);

    } else if (fclose(f) != 0) {
        fprintf(stderr, "gwload: cannot write %s: %s\n", path,
                strerror(errno));
        rc = GWLOAD_ERROR;
    }

    return rc;
}


/* the generic "proto" object: named counters and <hist>_ms */

static void
gwload_stats_proto_json(gwload_conf_t *conf, gwload_wstats_t *s, FILE *f)
{
    int          k;
    char         key[64];
    const char  *sep;

    fprintf(f, ", \"proto\": {");

    sep = "";

    for (k = 0; k < GWLOAD_PROTO_COUNTERS; k++) {
        if (conf->proto->counter_names[k]) {
            fprintf(f, "%s\"%s\": %" PRIu64, sep,
                    conf->proto->counter_names[k], s->proto[k]);
            sep = ", ";
        }
    }

    for (k = 0; k < GWLOAD_PROTO_HISTS; k++) {
        if (conf->proto->hist_names[k]) {
            snprintf(key, sizeof(key), "%s_ms", conf->proto->hist_names[k]);
            gwload_stats_hist_json(f, sep, key, &s->proto_hist[k]);
            sep = ", ";
        }
    }

    fprintf(f, "}");
}


void
gwload_stats_hist_json(FILE *f, const char *sep, const char *key,
    gwload_hist_t *h)
{
    gwload_pct_t  p;

    gwload_hist_pct(h, &p);

    fprintf(f, "%s\"%s\": {\"n\": %" PRIu64 ", \"p10\": %.3f, \"p50\": %.3f"
            ", \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f, \"min\": %.3f"
            ", \"mean\": %.3f}",
            sep, key, p.n, p.p10, p.p50, p.p90, p.p99, p.max, p.min, p.mean);
}
