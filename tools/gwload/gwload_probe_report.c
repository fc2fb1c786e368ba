
/*
 * gwload: delivery latency probes, the parent's side: --expect-messages,
 * the totals worked out from the shared area once the workers are gone,
 * the verdict, the progress words and the text and JSON sections.
 */


#include "gwload.h"

#include <fcntl.h>
#include <unistd.h>


/* an --expect-messages @FILE bigger than this is not ours */
#define GWLOAD_PROBE_FILE_MAX       (1024 * 1024)


typedef struct {
    uint64_t        deliveries;
    uint64_t        probed;
    double          p50;            /* ms; < 0: no probe that second */
    double          p99;
} gwload_probe_second_t;


static int gwload_probe_expect_file(const char *file, int64_t *n);
static void gwload_probe_totals(gwload_conf_t *conf, gwload_result_t *r);
static void gwload_probe_second(gwload_probe_area_t *a, uint64_t sec,
    gwload_probe_second_t *out);
static void gwload_probe_json_series(gwload_result_t *r, FILE *f);


/* --expect-messages N, or @FILE read when the run ends */

int
gwload_probe_expect(gwload_conf_t *conf, const char *value)
{
    char      *end;
    uint64_t   n;

    if (value[0] == '@') {
        if (value[1] == '\0') {
            return GWLOAD_ERROR;
        }

        conf->expect_file = (char *) value + 1;
        conf->expect_messages = -1;

        return GWLOAD_OK;
    }

    errno = 0;
    n = strtoull(value, &end, 10);

    if (*value == '\0' || *end || errno || n > UINT32_MAX) {
        return GWLOAD_ERROR;
    }

    conf->expect_messages = (int64_t) n;
    conf->expect_file = NULL;

    return GWLOAD_OK;
}


/*
 * The file holds a number, or is the JSON summary of "gwload publish"
 * (--json), whose top-level "accepted" (requests answered 2xx) is taken.
 */

static int
gwload_probe_expect_file(const char *file, int64_t *n)
{
    int                  fd, rc;
    u_char              *buf;
    ssize_t              len;
    gwload_json_t        root, key, val;
    const u_char        *p, *end;
    gwload_json_iter_t   it;

    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        fprintf(stderr, "gwload: --expect-messages: cannot open %s: %s\n",
                file, strerror(errno));
        return GWLOAD_ERROR;
    }

    buf = malloc(GWLOAD_PROBE_FILE_MAX);
    len = buf ? read(fd, buf, GWLOAD_PROBE_FILE_MAX) : -1;
    close(fd);

    rc = GWLOAD_ERROR;

    if (len <= 0 || len == GWLOAD_PROBE_FILE_MAX) {
        goto done;
    }

    end = buf + len;
    p = gwload_json_value(buf, end, &root);

    if (p == NULL || gwload_json_skip_ws(p, end) != end) {
        goto done;
    }

    if (root.type == GWLOAD_JSON_NUMBER) {
        rc = gwload_json_int(&root, n);
        goto done;
    }

    if (root.type != GWLOAD_JSON_OBJECT
        || gwload_json_iter(&it, &root, end) != GWLOAD_OK)
    {
        goto done;
    }

    while (gwload_json_next(&it, &key, &val) == GWLOAD_OK) {
        if (gwload_json_eq(&key, "accepted")) {
            rc = gwload_json_int(&val, n);
            break;
        }
    }

done:

    free(buf);

    if (rc != GWLOAD_OK || *n < 0) {
        fprintf(stderr, "gwload: --expect-messages: %s holds neither a "
                "number nor a JSON object with \"accepted\"\n", file);
        return GWLOAD_ERROR;
    }

    return GWLOAD_OK;
}


void
gwload_probe_progress(gwload_wstats_t *sum, double rate, char *buf,
    size_t size)
{
    buf[0] = '\0';

    if (sum->probe.deliveries) {
        snprintf(buf, size, "  deliveries %" PRIu64 " (%.0f/s)",
                 sum->probe.deliveries, rate);
    }
}


/* per connection and per message, from the shared area */

static void
gwload_probe_totals(gwload_conf_t *conf, gwload_result_t *r)
{
    int64_t                expect;
    uint32_t              *cc;
    uint64_t               i, n, recv, range;
    unsigned               k;
    gwload_probe_area_t   *a;
    gwload_probe_total_t  *t;

    a = r->probe_area;
    t = &r->probe;

    memset(t, 0, sizeof(gwload_probe_total_t));

    expect = conf->expect_messages;

    if (conf->expect_file
        && gwload_probe_expect_file(conf->expect_file, &expect)
           != GWLOAD_OK)
    {
        t->expect_failed = 1;
        expect = -1;
    }

    t->expect = expect;

    cc = a->conn_count;
    t->per_conn_min = conf->connections ? UINT64_MAX : 0;

    for (i = 0; i < conf->connections; i++) {
        n = cc[i];

        t->per_conn_min = (n < t->per_conn_min) ? n : t->per_conn_min;
        t->per_conn_max = (n > t->per_conn_max) ? n : t->per_conn_max;

        if (expect < 0) {
            continue;
        }

        if (n < (uint64_t) expect) {
            t->conns_short++;
            t->missing += expect - n;

        } else if (n > (uint64_t) expect) {
            t->conns_extra++;
        }
    }

    /* every number up to the highest seen (or expected) should have come */

    range = r->sum.probe.seq_end;

    if (expect > 0 && (uint64_t) expect > range) {
        range = expect;
    }

    if (range > GWLOAD_PROBE_SEQS) {
        range = GWLOAD_PROBE_SEQS;
    }

    t->receivers_min = UINT64_MAX;

    for (i = 0; i < range; i++) {
        recv = 0;

        for (k = 0; k < a->nworkers; k++) {
            recv += a->seq_recv[(size_t) k * GWLOAD_PROBE_SEQS + i];
        }

        if (recv == 0) {
            t->messages_unseen++;
            continue;
        }

        t->messages_seen++;
        t->receivers_min = (recv < t->receivers_min) ? recv
                                                     : t->receivers_min;
        t->receivers_max = (recv > t->receivers_max) ? recv
                                                     : t->receivers_max;
    }

    if (t->messages_seen == 0) {
        t->receivers_min = 0;
    }
}


/*
 * The verdict: with --expect-messages, every connection must have had that
 * many probes (distinct :N).  Without it there is nothing to fail.
 */

int
gwload_probe_result(gwload_conf_t *conf, gwload_result_t *r, char *why,
    size_t size)
{
    gwload_probe_total_t  *t;

    t = &r->probe;

    gwload_probe_totals(conf, r);

    why[0] = '\0';

    if (t->expect_failed) {
        snprintf(why, size, "--expect-messages: cannot read %s",
                 conf->expect_file);
        return 0;
    }

    if (t->expect < 0) {
        return 1;
    }

    if (t->conns_short) {
        snprintf(why, size, "%" PRIu64 " connections got fewer than %"
                 PRId64 " probe messages (%" PRIu64 " missing)",
                 t->conns_short, t->expect, t->missing);
        return 0;
    }

    snprintf(why, size, "every connection got %" PRId64 " probe messages",
             t->expect);

    return 1;
}


static double
gwload_probe_window(gwload_probe_stats_t *s, double *rate)
{
    double  secs;

    secs = (s->last_ns > s->first_ns) ? (s->last_ns - s->first_ns) / 1e9
                                      : 0;
    *rate = (secs > 0) ? s->deliveries / secs : 0;

    return secs;
}


void
gwload_probe_report(gwload_conf_t *conf, gwload_result_t *r, FILE *f)
{
    double                 rate, secs;
    gwload_probe_stats_t  *s;
    gwload_probe_total_t  *t;

    (void) conf;

    s = &r->sum.probe;
    t = &r->probe;

    if (s->deliveries == 0 && t->expect < 0) {
        return;
    }

    gwload_stats_hist_text(f, "delivery", &s->latency,
                           "publish -> receive");

    secs = gwload_probe_window(s, &rate);

    fprintf(f, "  deliveries      %" PRIu64 " in %.2f s (%.1f/s), %" PRIu64
            " without a probe\n",
            s->deliveries, secs, rate, s->deliveries - s->probed);

    fprintf(f, "  probes          %" PRIu64 " messages seen", t->messages_seen);

    if (t->messages_seen) {
        fprintf(f, " (receivers min %" PRIu64 " max %" PRIu64 ")",
                t->receivers_min, t->receivers_max);
    }

    fprintf(f, ", %" PRIu64 " unseen; per connection min %" PRIu64
            " max %" PRIu64 "\n",
            t->messages_unseen, t->per_conn_min, t->per_conn_max);

    if (s->duplicates || s->unchecked || s->no_seq || s->seq_overflow
        || s->clock_skew || s->series_overflow)
    {
        fprintf(f, "                  %" PRIu64 " duplicates, %" PRIu64
                " unchecked, %" PRIu64 " without :N, %" PRIu64
                " beyond :%d, %" PRIu64 " ahead of the clock, %" PRIu64
                " after the series\n",
                s->duplicates, s->unchecked, s->no_seq, s->seq_overflow,
                GWLOAD_PROBE_SEQS - 1, s->clock_skew, s->series_overflow);
    }

    if (t->expect >= 0) {
        fprintf(f, "  missing         %" PRIu64 " (expected %" PRId64
                " per connection: %" PRIu64 " connections short, %" PRIu64
                " over)\n",
                t->missing, t->expect, t->conns_short, t->conns_extra);
    }
}


void
gwload_probe_report_json(gwload_conf_t *conf, gwload_result_t *r, FILE *f)
{
    double                 rate, secs;
    gwload_probe_stats_t  *s;
    gwload_probe_total_t  *t;

    (void) conf;

    s = &r->sum.probe;
    t = &r->probe;

    secs = gwload_probe_window(s, &rate);

    fprintf(f, "\"probe\": {\"deliveries\": %" PRIu64 ", \"probed\": %" PRIu64
            ", \"unprobed\": %" PRIu64 ", \"duplicates\": %" PRIu64
            ", \"unchecked\": %" PRIu64 ", \"no_seq\": %" PRIu64
            ", \"seq_overflow\": %" PRIu64 ", \"clock_skew\": %" PRIu64
            ", \"window_s\": %.3f, \"rate\": %.1f",
            s->deliveries, s->probed, s->deliveries - s->probed,
            s->duplicates, s->unchecked, s->no_seq, s->seq_overflow,
            s->clock_skew, secs, rate);

    gwload_stats_hist_json(f, ", ", "latency_ms", &s->latency);

    fprintf(f, ", \"messages_seen\": %" PRIu64 ", \"messages_unseen\": %"
            PRIu64 ", \"seq_max\": %" PRId64 ", \"receivers_min\": %" PRIu64
            ", \"receivers_max\": %" PRIu64 ", \"per_conn_min\": %" PRIu64
            ", \"per_conn_max\": %" PRIu64,
            t->messages_seen, t->messages_unseen,
            (int64_t) s->seq_end - 1, t->receivers_min, t->receivers_max,
            t->per_conn_min, t->per_conn_max);

    if (t->expect >= 0) {
        fprintf(f, ", \"expect_messages\": %" PRId64, t->expect);

    } else {
        fprintf(f, ", \"expect_messages\": null");
    }

    fprintf(f, ", \"connections_short\": %" PRIu64 ", \"connections_extra\": %"
            PRIu64 ", \"missing\": %" PRIu64,
            t->conns_short, t->conns_extra, t->missing);

    fprintf(f, ", \"start_unix\": %.6f, \"series_overflow\": %" PRIu64,
            r->probe_area->start_unix_ns / 1e9, s->series_overflow);

    gwload_probe_json_series(r, f);

    fprintf(f, "}");
}


/* one second of the series, all workers merged */

static void
gwload_probe_second(gwload_probe_area_t *a, uint64_t sec,
    gwload_probe_second_t *out)
{
    int                  q;
    size_t               i;
    unsigned             k;
    uint64_t             acc, rank[2], counts[GWLOAD_PROBE_SEC_BUCKETS];
    gwload_probe_sec_t  *ss;
    static double        quant[2] = { 0.50, 0.99 };

    memset(out, 0, sizeof(gwload_probe_second_t));
    memset(counts, 0, sizeof(counts));

    for (k = 0; k < a->nworkers; k++) {
        ss = &a->sec[(size_t) k * GWLOAD_PROBE_SECONDS + sec];

        out->deliveries += ss->deliveries;
        out->probed += ss->probed;

        if (ss->probed == 0) {
            continue;
        }

        for (i = 0; i < GWLOAD_PROBE_SEC_BUCKETS; i++) {
            counts[i] += ss->counts[i];
        }
    }

    out->p50 = -1;
    out->p99 = -1;

    if (out->probed == 0) {
        return;
    }

    /* nearest rank, as gwload_hist_pct() */

    for (q = 0; q < 2; q++) {
        rank[q] = (uint64_t) (quant[q] * out->probed + 0.999999);
        rank[q] = rank[q] ? rank[q] : 1;
    }

    acc = 0;
    q = 0;

    for (i = 0; i < GWLOAD_PROBE_SEC_BUCKETS && q < 2; i++) {
        acc += counts[i];

        while (q < 2 && acc >= rank[q]) {
            *(q == 0 ? &out->p50 : &out->p99) = gwload_hist_value(i) / 1000;
            q++;
        }
    }
}


/* "series": parallel arrays, one entry per second since the start */

static void
gwload_probe_json_series(gwload_result_t *r, FILE *f)
{
    int                     k;
    uint64_t                i, n;
    gwload_probe_second_t  *sv;
    static const char      *names[4] = {
        "deliveries", "probed", "p50_ms", "p99_ms"
    };

    n = r->sum.probe.sec_end;

    sv = n ? calloc(n, sizeof(gwload_probe_second_t)) : NULL;

    if (n && sv == NULL) {
        n = 0;
    }

    for (i = 0; i < n; i++) {
        gwload_probe_second(r->probe_area, i, &sv[i]);
    }

    fprintf(f, ", \"series\": {");

    for (k = 0; k < 4; k++) {
        fprintf(f, "%s\"%s\": [", k ? ", " : "", names[k]);

        for (i = 0; i < n; i++) {
            fprintf(f, "%s", i ? ", " : "");

            if (k == 0) {
                fprintf(f, "%" PRIu64, sv[i].deliveries);

            } else if (k == 1) {
                fprintf(f, "%" PRIu64, sv[i].probed);

            } else if ((k == 2 ? sv[i].p50 : sv[i].p99) < 0) {
                fprintf(f, "null");

            } else {
                fprintf(f, "%.3f", k == 2 ? sv[i].p50 : sv[i].p99);
            }
        }

        fprintf(f, "]");
    }

    fprintf(f, "}");

    free(sv);
}
