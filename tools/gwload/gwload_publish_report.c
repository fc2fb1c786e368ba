
/*
 * gwload publish: the verdict, the progress line, and the text and JSON
 * summaries, per step and in all.
 */


#include "gwload.h"
#include "gwload_publish.h"


static const char  *gwload_pub_err_names[GWLOAD_PUB_ERR_MAX] = {
    "connect",          /* GWLOAD_PUB_ERR_CONNECT */
    "reset",            /* GWLOAD_PUB_ERR_RESET */
    "timeout",          /* GWLOAD_PUB_ERR_TIMEOUT */
    "bad_response",     /* GWLOAD_PUB_ERR_RESPONSE */
    "status"            /* GWLOAD_PUB_ERR_STATUS */
};


static double gwload_pub_step_secs(gwload_pub_t *p, gwload_pub_step_t *st);


uint64_t
gwload_pub_total(gwload_pub_t *p, int what)
{
    double              skipped;
    unsigned            k;
    uint64_t            n;
    gwload_pub_step_t  *st;

    n = 0;
    skipped = 0;

    for (k = 0; k < p->nsteps; k++) {
        st = &p->steps[k];

        switch (what) {

        case GWLOAD_PUB_SENT:
            n += st->sent;
            break;

        case GWLOAD_PUB_ACCEPTED:
            n += st->accepted;
            break;

        case GWLOAD_PUB_ERRORS:
            n += st->errors;
            break;

        default: /* GWLOAD_PUB_SKIPPED */
            skipped += st->skipped;
            break;
        }
    }

    return (what == GWLOAD_PUB_SKIPPED) ? (uint64_t) skipped : n;
}


/* exit 0: something was sent, and every request got a 2xx */

int
gwload_pub_ok(gwload_pub_t *p)
{
    uint64_t  sent;

    sent = gwload_pub_total(p, GWLOAD_PUB_SENT);

    return sent && gwload_pub_total(p, GWLOAD_PUB_ACCEPTED) == sent;
}


/* how long a step ran: planned, cut short by a stop, or still running */

static double
gwload_pub_step_secs(gwload_pub_t *p, gwload_pub_step_t *st)
{
    uint64_t  end;

    if (st->start_ns == 0) {
        return 0;
    }

    end = (p->end_ns && p->end_ns < st->end_ns) ? p->end_ns : st->end_ns;
    end = (p->now < end) ? p->now : end;

    return (end > st->start_ns) ? (end - st->start_ns) / 1e9 : 0;
}


void
gwload_pub_progress(gwload_pub_t *p)
{
    unsigned            k;
    uint64_t            sent;
    gwload_pub_step_t  *st;

    k = (p->cur < p->nsteps) ? p->cur : p->nsteps - 1;
    st = &p->steps[k];
    sent = gwload_pub_total(p, GWLOAD_PUB_SENT);

    fprintf(stderr, "%s[%7.1fs] step %u/%u rate %g/s  sent %" PRIu64
            " (%" PRIu64 " in the last second)  2xx %" PRIu64 "  errors %"
            PRIu64 "  skipped %" PRIu64 "  outstanding %" PRIu64 "%s%s",
            p->tty ? "\r" : "", (p->now - p->start_ns) / 1e9, k + 1,
            p->nsteps, st->rate, sent, sent - p->last_sent,
            gwload_pub_total(p, GWLOAD_PUB_ACCEPTED),
            gwload_pub_total(p, GWLOAD_PUB_ERRORS),
            gwload_pub_total(p, GWLOAD_PUB_SKIPPED), p->outstanding,
            p->cur == p->nsteps ? "  draining" : "",
            p->tty ? "\033[K" : "\n");

    if (p->tty && p->end_ns) {
        fprintf(stderr, "\n");
    }

    p->last_sent = sent;
}


void
gwload_pub_report(gwload_pub_t *p, FILE *f)
{
    int                 k;
    double              secs;
    unsigned            i;
    uint64_t            sent, ok;
    gwload_pct_t        pc;
    gwload_pub_step_t  *st;

    sent = gwload_pub_total(p, GWLOAD_PUB_SENT);
    ok = gwload_pub_total(p, GWLOAD_PUB_ACCEPTED);

    fprintf(f, "gwload %s publish: %s, %u connection%s, %u step%s of %g s\n",
            GWLOAD_VERSION, p->url, p->nconns, p->nconns == 1 ? "" : "s",
            p->nsteps, p->nsteps == 1 ? "" : "s", p->step_s);

    fprintf(f, "  step     rate/s      sent  achieved/s       2xx    errors"
               "   skipped   post p50 ms   p99 ms\n");

    for (i = 0; i < p->nsteps; i++) {
        st = &p->steps[i];
        secs = gwload_pub_step_secs(p, st);
        gwload_hist_pct(&st->post, &pc);

        fprintf(f, "  %4u %10g %9" PRIu64 " %11.2f %9" PRIu64 " %9" PRIu64
                " %9.0f %13.3f %8.3f\n",
                i + 1, st->rate, st->sent, secs > 0 ? st->sent / secs : 0.0,
                st->accepted, st->errors, st->skipped, pc.p50, pc.p99);
    }

    fprintf(f, "  requests        %" PRIu64 " sent, %" PRIu64 " 2xx, %" PRIu64
            " errors (", sent, ok, gwload_pub_total(p, GWLOAD_PUB_ERRORS));

    for (k = 0; k < GWLOAD_PUB_ERR_MAX; k++) {
        fprintf(f, "%s%s %" PRIu64, k ? ", " : "", gwload_pub_err_names[k],
                p->errors[k]);
    }

    fprintf(f, "), %" PRIu64 " skipped\n",
            gwload_pub_total(p, GWLOAD_PUB_SKIPPED));

    fprintf(f, "  status         ");

    for (i = 0; i < p->nstatus; i++) {
        fprintf(f, "%s %d %" PRIu64, i ? "," : "", p->status[i].code,
                p->status[i].n);
    }

    if (p->status_other) {
        fprintf(f, "%s other %" PRIu64, p->nstatus ? "," : "",
                p->status_other);
    }

    fprintf(f, "%s\n", p->nstatus || p->status_other ? "" : " none");

    gwload_stats_hist_text(f, "post", &p->post, "request sent -> response");

    fprintf(f, "  connections     %u, %" PRIu64 " connects, %" PRIu64
            " idle ones closed by the server\n",
            p->nconns, p->connects, p->server_closes);

    fprintf(f, "  messages        n = 0 .. %" PRId64 "\n",
            (int64_t) p->next_n - 1);

    fprintf(f, "  duration        %.2f s%s\n",
            (p->end_ns - p->start_ns) / 1e9,
            p->interrupted ? " (interrupted)" : "");

    if (gwload_pub_ok(p)) {
        fprintf(f, "  result          OK: all %" PRIu64 " requests got 2xx\n",
                sent);

    } else {
        fprintf(f, "  result          FAIL: %" PRIu64 " of %" PRIu64
                " requests got 2xx\n", ok, sent);
    }
}


int
gwload_pub_json(gwload_pub_t *p, const char *path)
{
    int                 k, rc;
    FILE               *f;
    double              secs, start;
    unsigned            i;
    gwload_pub_step_t  *st;

    f = (strcmp(path, "-") == 0) ? stdout : fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "gwload publish: cannot write %s: %s\n", path,
                strerror(errno));
        return GWLOAD_ERROR;
    }

    fprintf(f, "{\"tool\": \"gwload\", \"version\": \"%s\", \"mode\": "
            "\"publish\", \"url\": ", GWLOAD_VERSION);
    gwload_stats_json_str(f, p->url);
    fprintf(f, ", \"body\": ");
    gwload_stats_json_str(f, p->body_tpl);

    fprintf(f, ", \"connections\": %u, \"step_s\": %.3f, \"timeout_s\": "
            "%.3f, \"start_unix\": %.6f, \"duration_s\": %.3f",
            p->nconns, p->step_s, p->timeout_ms / 1000.0,
            p->start_unix_ns / 1e9, (p->end_ns - p->start_ns) / 1e9);

    fprintf(f, ", \"sent\": %" PRIu64 ", \"accepted\": %" PRIu64
            ", \"errors\": %" PRIu64 ", \"skipped\": %" PRIu64
            ", \"messages\": %" PRIu64 ", \"connects\": %" PRIu64
            ", \"server_closes\": %" PRIu64,
            gwload_pub_total(p, GWLOAD_PUB_SENT),
            gwload_pub_total(p, GWLOAD_PUB_ACCEPTED),
            gwload_pub_total(p, GWLOAD_PUB_ERRORS),
            gwload_pub_total(p, GWLOAD_PUB_SKIPPED), p->next_n,
            p->connects, p->server_closes);

    fprintf(f, ", \"error_kinds\": {");
    for (k = 0; k < GWLOAD_PUB_ERR_MAX; k++) {
        fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "",
                gwload_pub_err_names[k], p->errors[k]);
    }

    fprintf(f, "}, \"status\": {");
    for (i = 0; i < p->nstatus; i++) {
        fprintf(f, "%s\"%d\": %" PRIu64, i ? ", " : "", p->status[i].code,
                p->status[i].n);
    }

    if (p->status_other) {
        fprintf(f, "%s\"other\": %" PRIu64, p->nstatus ? ", " : "",
                p->status_other);
    }

    fprintf(f, "}");

    gwload_stats_hist_json(f, ", ", "post_ms", &p->post);

    fprintf(f, ", \"steps\": [");

    for (i = 0; i < p->nsteps; i++) {
        st = &p->steps[i];
        secs = gwload_pub_step_secs(p, st);
        start = st->start_ns ? (st->start_ns - p->start_ns) / 1e9 : 0;

        fprintf(f, "%s{\"rate\": %g, \"start_s\": %.6f, \"start_unix\": "
                "%.6f, \"duration_s\": %.6f, \"first_n\": %" PRIu64
                ", \"sent\": %" PRIu64 ", \"achieved_rate\": %.3f"
                ", \"accepted\": %" PRIu64 ", \"errors\": %" PRIu64
                ", \"skipped\": %.0f",
                i ? ", " : "", st->rate, start,
                p->start_unix_ns / 1e9 + start, secs, st->first_n, st->sent,
                secs > 0 ? st->sent / secs : 0.0, st->accepted, st->errors,
                st->skipped);

        gwload_stats_hist_json(f, ", ", "post_ms", &st->post);

        fprintf(f, "}");
    }

    fprintf(f, "], \"interrupted\": %s, \"ok\": %s}\n",
            p->interrupted ? "true" : "false",
            gwload_pub_ok(p) ? "true" : "false");

    rc = GWLOAD_OK;

    if (f == stdout) {
        fflush(f);

    } else if (fclose(f) != 0) {
        fprintf(stderr, "gwload publish: cannot write %s: %s\n", path,
                strerror(errno));
        rc = GWLOAD_ERROR;
    }

    return rc;
}
