
/*
 * gwload: protocol "gateway", the parent's side: the progress line, the
 * verdict (exit status) and the "gateway" sections of the text and JSON
 * summaries, from the counters the workers left in gwload_wstats_t.
 */


#include "gwload.h"
#include "gwload_proto_gateway.h"


static void gwload_gw_report_resume(gwload_conf_t *conf, gwload_result_t *r,
    FILE *f);
static void gwload_gw_report_resume_json(gwload_conf_t *conf,
    gwload_result_t *r, FILE *f);


void
gwload_gw_progress(gwload_conf_t *conf, gwload_wstats_t *sum, char *buf,
    size_t size)
{
    int                n;
    uint64_t          *p, seq;
    gwload_gw_conf_t  *gc;

    gc = conf->proto_conf;
    p = (uint64_t *) sum->proto;

    seq = p[GWLOAD_GW_N_SEQ_GAPS] + p[GWLOAD_GW_N_SEQ_REPEATS]
          + p[GWLOAD_GW_N_SEQ_MISSING];

    n = snprintf(buf, size, "%s %" PRIu64,
                 gc->identify ? "identified" : "hello",
                 p[gc->identify ? GWLOAD_GW_N_IDENTIFIED : GWLOAD_GW_N_HELLO]);

    if (seq && n > 0 && (size_t) n < size) {
        n += snprintf(buf + n, size - n, "  seq_errors %" PRIu64, seq);
    }

    if ((p[GWLOAD_GW_N_RESUMED] || p[GWLOAD_GW_N_REIDENTIFIED])
        && n > 0 && (size_t) n < size)
    {
        snprintf(buf + n, size - n, "  resumed %" PRIu64 "  reidentified %"
                 PRIu64, p[GWLOAD_GW_N_RESUMED], p[GWLOAD_GW_N_REIDENTIFIED]);
    }
}


/*
 * Exit status: beyond the core's rule (every connection established, none
 * lost), every connection must have identified (with identify=1), no
 * dispatch may have broken the sequence or failed to decode, and every
 * session lost while held must have come back, resumed or re-identified.
 */

int
gwload_gw_result(gwload_conf_t *conf, gwload_result_t *r, char *why,
    size_t size)
{
    int                ok, n;
    uint64_t          *p, seq, done;
    gwload_gw_conf_t  *gc;

    gc = conf->proto_conf;
    p = (uint64_t *) r->sum.proto;

    seq = p[GWLOAD_GW_N_SEQ_GAPS] + p[GWLOAD_GW_N_SEQ_REPEATS]
          + p[GWLOAD_GW_N_SEQ_MISSING];

    done = p[gc->identify ? GWLOAD_GW_N_IDENTIFIED : GWLOAD_GW_N_HELLO];

    ok = (seq == 0 && p[GWLOAD_GW_N_DECODE_ERRORS] == 0
          && p[GWLOAD_GW_N_SESSIONS_LOST] == 0
          && (!gc->identify || done == conf->connections));

    if (ok) {
        n = snprintf(why, size, "all %" PRIu64 " %s", done,
                     gc->identify ? "identified" : "got Hello");

    } else {
        n = snprintf(why, size, "%" PRIu64 " of %" PRIu64 " %s, %" PRIu64
                     " seq errors, %" PRIu64 " undecodable",
                     done, conf->connections,
                     gc->identify ? "identified" : "got Hello", seq,
                     p[GWLOAD_GW_N_DECODE_ERRORS]);
    }

    if (p[GWLOAD_GW_N_DISC_CLOSE] + p[GWLOAD_GW_N_DISC_DROP]
        + p[GWLOAD_GW_N_DISC_OP7] + p[GWLOAD_GW_N_DISC_OP9]
        + p[GWLOAD_GW_N_DISC_ZOMBIE]
        && n > 0 && (size_t) n < size)
    {
        snprintf(why + n, size - n, ", %" PRIu64 " resumed, %" PRIu64
                 " re-identified (losses unknown), %" PRIu64
                 " never came back", p[GWLOAD_GW_N_RESUMED],
                 p[GWLOAD_GW_N_REIDENTIFIED], p[GWLOAD_GW_N_SESSIONS_LOST]);
    }

    return ok;
}


static double
gwload_gw_rate(gwload_wstats_t *s, uint64_t n, double *secs)
{
    *secs = 0;

    if (n == 0 || s->proto_done_ns <= s->first_start_ns) {
        return 0;
    }

    *secs = (s->proto_done_ns - s->first_start_ns) / 1e9;

    return n / *secs;
}


void
gwload_gw_report(gwload_conf_t *conf, gwload_result_t *r, FILE *f)
{
    int                k, code, any;
    double             rate, secs;
    uint64_t          *p, n;
    const char        *name;
    gwload_wstats_t   *s;
    gwload_gw_conf_t  *gc;

    gc = conf->proto_conf;
    s = &r->sum;
    p = (uint64_t *) s->proto;

    fprintf(f, "  gateway         ");

    if (gc->identify) {
        fprintf(f, "identify with %u token%s, intents %" PRIu64,
                gc->ntokens, gc->ntokens == 1 ? "" : "s", gc->intents);

        if (gc->shards) {
            fprintf(f, ", shards [i %% %" PRId64 ", %" PRId64 "]",
                    gc->shards, gc->shards);

        } else if (gc->shard_id >= 0) {
            fprintf(f, ", shard [%" PRId64 ", %" PRId64 "]", gc->shard_id,
                    gc->shard_n);
        }

        if (gc->large_threshold) {
            fprintf(f, ", large_threshold %" PRId64, gc->large_threshold);
        }

    } else {
        fprintf(f, "no identify (identify=0)");
    }

    fprintf(f, ", zombie=%s", gc->zombie_close ? "close" : "count");

    if (gc->resume && gc->identify) {
        fprintf(f, ", resume with backoff %" PRIu64 "-%" PRIu64 " ms\n",
                gc->backoff_min, gc->backoff_max);

    } else {
        fprintf(f, ", no resume\n");
    }

    n = p[gc->identify ? GWLOAD_GW_N_IDENTIFIED : GWLOAD_GW_N_HELLO];
    rate = gwload_gw_rate(s, n, &secs);

    fprintf(f, "  %-16s%" PRIu64 " of %" PRIu64,
            gc->identify ? "identified" : "hello", n, conf->connections);

    if (n) {
        fprintf(f, " in %.2f s (%.1f/s)", secs, rate);
    }

    fprintf(f, ", %" PRIu64 " failed (%" PRIu64 " timed out)",
            p[GWLOAD_GW_N_SETUP_FAILED], p[GWLOAD_GW_N_SETUP_TIMEOUT]);

    if (gc->identify) {
        fprintf(f, ", %" PRIu64 " session ids", p[GWLOAD_GW_N_SESSIONS]);
    }

    fprintf(f, "\n");

    gwload_stats_hist_text(f, "identify", &s->proto_hist[GWLOAD_GW_H_IDENTIFY],
                           "connect start -> READY and all GUILD_CREATEs");
    gwload_stats_hist_text(f, "ready", &s->proto_hist[GWLOAD_GW_H_READY],
                           "Identify sent -> READY");
    gwload_stats_hist_text(f, "hello", &s->proto_hist[GWLOAD_GW_H_HELLO],
                           "connect start -> Hello");
    gwload_stats_hist_text(f, "heartbeat",
                           &s->proto_hist[GWLOAD_GW_H_HEARTBEAT],
                           "heartbeat -> ACK");

    gwload_gw_report_resume(conf, r, f);

    fprintf(f, "  dispatches      READY %" PRIu64 ", GUILD_CREATE %" PRIu64
            " (%" PRIu64 " unexpected), MESSAGE_CREATE %" PRIu64 ", other %"
            PRIu64 "\n",
            p[GWLOAD_GW_N_READY], p[GWLOAD_GW_N_GUILD_CREATE],
            p[GWLOAD_GW_N_GUILD_UNEXPECTED], p[GWLOAD_GW_N_MESSAGE_CREATE],
            p[GWLOAD_GW_N_DISPATCH_OTHER]);

    fprintf(f, "  heartbeats      %" PRIu64 " sent, %" PRIu64 " on request, %"
            PRIu64 " acked, %" PRIu64 " zombies\n",
            p[GWLOAD_GW_N_HB_SENT], p[GWLOAD_GW_N_HB_REQUESTED],
            p[GWLOAD_GW_N_HB_ACKS], p[GWLOAD_GW_N_ZOMBIES]);

    fprintf(f, "  sequence        %" PRIu64 " errors (%" PRIu64 " gaps of %"
            PRIu64 " events, %" PRIu64 " repeats, %" PRIu64 " missing)\n",
            p[GWLOAD_GW_N_SEQ_GAPS] + p[GWLOAD_GW_N_SEQ_REPEATS]
            + p[GWLOAD_GW_N_SEQ_MISSING],
            p[GWLOAD_GW_N_SEQ_GAPS], p[GWLOAD_GW_N_SEQ_LOST],
            p[GWLOAD_GW_N_SEQ_REPEATS], p[GWLOAD_GW_N_SEQ_MISSING]);

    fprintf(f, "  opcodes         op 9 invalid session %" PRIu64 " (d:true %"
            PRIu64 ", d:false %" PRIu64 "), op 7 reconnect %" PRIu64
            ", unexpected %" PRIu64 ", undecodable %" PRIu64 "\n",
            p[GWLOAD_GW_N_INVALID_SESSION], p[GWLOAD_GW_N_INVALID_TRUE],
            p[GWLOAD_GW_N_INVALID_FALSE], p[GWLOAD_GW_N_RECONNECT],
            p[GWLOAD_GW_N_OP_UNEXPECTED], p[GWLOAD_GW_N_DECODE_ERRORS]);

    fprintf(f, "  close codes    ");

    any = 0;

    for (k = GWLOAD_GW_N_CLOSE_1000; k < GWLOAD_GW_N_CLOSE_OTHER; k++) {
        if (p[k] == 0) {
            continue;
        }

        code = (k < GWLOAD_GW_N_CLOSE_4000)
               ? 1000 + (k - GWLOAD_GW_N_CLOSE_1000)
               : 4000 + (k - GWLOAD_GW_N_CLOSE_4000);
        name = gwload_gw_close_name(code);

        fprintf(f, "%s %d%s%s %" PRIu64, any ? "," : "", code,
                name ? " " : "", name ? name : "", p[k]);
        any = 1;
    }

    if (p[GWLOAD_GW_N_CLOSE_OTHER]) {
        fprintf(f, "%s other %" PRIu64, any ? "," : "",
                p[GWLOAD_GW_N_CLOSE_OTHER]);
        any = 1;
    }

    fprintf(f, "%s\n", any ? "" : " none from the server");
}


void
gwload_gw_report_json(gwload_conf_t *conf, gwload_result_t *r, FILE *f)
{
    int                k, code;
    double             rate, secs;
    uint64_t          *p, n;
    const char        *sep;
    gwload_wstats_t   *s;
    gwload_gw_conf_t  *gc;

    static const struct {
        const char  *name;
        int          slot;
    } keys[] = {
        { "hello", GWLOAD_GW_N_HELLO },
        { "identify_sent", GWLOAD_GW_N_IDENTIFY_SENT },
        { "ready", GWLOAD_GW_N_READY },
        { "sessions", GWLOAD_GW_N_SESSIONS },
        { "identified", GWLOAD_GW_N_IDENTIFIED },
        { "identify_failed", GWLOAD_GW_N_SETUP_FAILED },
        { "identify_timeouts", GWLOAD_GW_N_SETUP_TIMEOUT },
        { "guild_create", GWLOAD_GW_N_GUILD_CREATE },
        { "guild_unexpected", GWLOAD_GW_N_GUILD_UNEXPECTED },
        { "message_create", GWLOAD_GW_N_MESSAGE_CREATE },
        { "dispatch_other", GWLOAD_GW_N_DISPATCH_OTHER },
        { "heartbeats_sent", GWLOAD_GW_N_HB_SENT },
        { "heartbeats_requested", GWLOAD_GW_N_HB_REQUESTED },
        { "heartbeat_acks", GWLOAD_GW_N_HB_ACKS },
        { "zombies", GWLOAD_GW_N_ZOMBIES },
        { "seq_gaps", GWLOAD_GW_N_SEQ_GAPS },
        { "seq_repeats", GWLOAD_GW_N_SEQ_REPEATS },
        { "seq_missing", GWLOAD_GW_N_SEQ_MISSING },
        { "seq_lost", GWLOAD_GW_N_SEQ_LOST },
        { "invalid_session", GWLOAD_GW_N_INVALID_SESSION },
        { "reconnect", GWLOAD_GW_N_RECONNECT },
        { "op_unexpected", GWLOAD_GW_N_OP_UNEXPECTED },
        { "decode_errors", GWLOAD_GW_N_DECODE_ERRORS }
    };

    gc = conf->proto_conf;
    s = &r->sum;
    p = (uint64_t *) s->proto;

    fprintf(f, "\"gateway\": {\"identify\": %s, \"tokens\": %u, "
            "\"intents\": %" PRIu64 ", \"shards\": %" PRId64
            ", \"large_threshold\": %" PRId64 ", \"zombie_close\": %s",
            gc->identify ? "true" : "false", gc->ntokens, gc->intents,
            gc->shards ? gc->shards : (gc->shard_id >= 0 ? gc->shard_n : 0),
            gc->large_threshold, gc->zombie_close ? "true" : "false");

    for (k = 0; k < (int) (sizeof(keys) / sizeof(keys[0])); k++) {
        fprintf(f, ", \"%s\": %" PRIu64, keys[k].name, p[keys[k].slot]);
    }

    fprintf(f, ", \"seq_errors\": %" PRIu64,
            p[GWLOAD_GW_N_SEQ_GAPS] + p[GWLOAD_GW_N_SEQ_REPEATS]
            + p[GWLOAD_GW_N_SEQ_MISSING]);

    n = p[gc->identify ? GWLOAD_GW_N_IDENTIFIED : GWLOAD_GW_N_HELLO];
    rate = gwload_gw_rate(s, n, &secs);

    fprintf(f, ", \"identify_s\": %.3f, \"identify_rate\": %.1f", secs, rate);

    fprintf(f, ", \"dispatch\": {\"READY\": %" PRIu64 ", \"GUILD_CREATE\": %"
            PRIu64 ", \"MESSAGE_CREATE\": %" PRIu64 ", \"other\": %" PRIu64
            "}",
            p[GWLOAD_GW_N_READY], p[GWLOAD_GW_N_GUILD_CREATE],
            p[GWLOAD_GW_N_MESSAGE_CREATE], p[GWLOAD_GW_N_DISPATCH_OTHER]);

    fprintf(f, ", \"close_codes\": {");

    sep = "";

    for (k = GWLOAD_GW_N_CLOSE_1000; k < GWLOAD_GW_N_CLOSE_OTHER; k++) {
        if (p[k]) {
            code = (k < GWLOAD_GW_N_CLOSE_4000)
                   ? 1000 + (k - GWLOAD_GW_N_CLOSE_1000)
                   : 4000 + (k - GWLOAD_GW_N_CLOSE_4000);

            fprintf(f, "%s\"%d\": %" PRIu64, sep, code, p[k]);
            sep = ", ";
        }
    }

    if (p[GWLOAD_GW_N_CLOSE_OTHER]) {
        fprintf(f, "%s\"other\": %" PRIu64, sep, p[GWLOAD_GW_N_CLOSE_OTHER]);
    }

    fprintf(f, "}");

    gwload_stats_hist_json(f, ", ", "identify_ms",
                           &s->proto_hist[GWLOAD_GW_H_IDENTIFY]);
    gwload_stats_hist_json(f, ", ", "ready_ms",
                           &s->proto_hist[GWLOAD_GW_H_READY]);
    gwload_stats_hist_json(f, ", ", "hello_ms",
                           &s->proto_hist[GWLOAD_GW_H_HELLO]);
    gwload_stats_hist_json(f, ", ", "heartbeat_rtt_ms",
                           &s->proto_hist[GWLOAD_GW_H_HEARTBEAT]);

    fprintf(f, ", ");
    gwload_gw_report_resume_json(conf, r, f);

    fprintf(f, "}");
}


/* the resume lines, when resume is on or there was something to resume */

static void
gwload_gw_report_resume(gwload_conf_t *conf, gwload_result_t *r, FILE *f)
{
    uint64_t          *p, disc;
    gwload_wstats_t   *s;
    gwload_gw_conf_t  *gc;

    gc = conf->proto_conf;
    s = &r->sum;
    p = (uint64_t *) s->proto;

    disc = p[GWLOAD_GW_N_DISC_CLOSE] + p[GWLOAD_GW_N_DISC_DROP]
           + p[GWLOAD_GW_N_DISC_OP7] + p[GWLOAD_GW_N_DISC_OP9]
           + p[GWLOAD_GW_N_DISC_ZOMBIE];

    if (!(gc->resume && gc->identify) && disc == 0) {
        return;
    }

    fprintf(f, "  disconnects     %" PRIu64 " (close frame %" PRIu64
            ", no close frame %" PRIu64 ", op 7 %" PRIu64 ", op 9 %" PRIu64
            ", zombie %" PRIu64 ")\n", disc, p[GWLOAD_GW_N_DISC_CLOSE],
            p[GWLOAD_GW_N_DISC_DROP], p[GWLOAD_GW_N_DISC_OP7],
            p[GWLOAD_GW_N_DISC_OP9], p[GWLOAD_GW_N_DISC_ZOMBIE]);

    fprintf(f, "  resumes         %" PRIu64 " attempted (op 6), %" PRIu64
            " resumed, %" PRIu64 " re-identified (losses unknown), %"
            PRIu64 " never came back\n", p[GWLOAD_GW_N_RESUME_SENT],
            p[GWLOAD_GW_N_RESUMED], p[GWLOAD_GW_N_REIDENTIFIED],
            p[GWLOAD_GW_N_SESSIONS_LOST]);

    fprintf(f, "  replay          %" PRIu64 " events replayed, %" PRIu64
            " lost (gaps), %" PRIu64 " repeated; %" PRIu64 " HTTP 429s, %"
            PRIu64 " unusable resume URLs\n", p[GWLOAD_GW_N_REPLAYED],
            p[GWLOAD_GW_N_SEQ_LOST], p[GWLOAD_GW_N_SEQ_REPEATS],
            p[GWLOAD_GW_N_HTTP_429], p[GWLOAD_GW_N_RESUME_URL_BAD]);

    gwload_stats_hist_text(f, "resume", &s->proto_hist[GWLOAD_GW_H_RESUME],
                           "connection lost -> RESUMED");

    if (p[GWLOAD_GW_N_REIDENTIFIED]) {
        gwload_stats_hist_text(f, "reidentify",
                               &s->proto_hist[GWLOAD_GW_H_REIDENTIFY],
                               "connection lost -> identified again");
    }
}


static void
gwload_gw_report_resume_json(gwload_conf_t *conf, gwload_result_t *r,
    FILE *f)
{
    int                k;
    uint64_t          *p;
    gwload_wstats_t   *s;
    gwload_gw_conf_t  *gc;

    static const struct {
        const char  *name;
        int          slot;
    } keys[] = {
        { "resume_attempts", GWLOAD_GW_N_RESUME_SENT },
        { "resumed", GWLOAD_GW_N_RESUMED },
        { "reidentified", GWLOAD_GW_N_REIDENTIFIED },
        { "lost_unknown", GWLOAD_GW_N_REIDENTIFIED },
        { "sessions_lost", GWLOAD_GW_N_SESSIONS_LOST },
        { "invalid_session_true", GWLOAD_GW_N_INVALID_TRUE },
        { "invalid_session_false", GWLOAD_GW_N_INVALID_FALSE },
        { "http_429", GWLOAD_GW_N_HTTP_429 },
        { "replayed", GWLOAD_GW_N_REPLAYED },
        { "lost", GWLOAD_GW_N_SEQ_LOST },
        { "repeated", GWLOAD_GW_N_SEQ_REPEATS },
        { "resume_url_bad", GWLOAD_GW_N_RESUME_URL_BAD }
    };

    gc = conf->proto_conf;
    s = &r->sum;
    p = (uint64_t *) s->proto;

    fprintf(f, "\"resume\": {\"enabled\": %s, \"backoff_min_ms\": %"
            PRIu64 ", \"backoff_max_ms\": %" PRIu64 ", \"disconnects\": %"
            PRIu64 ", \"disconnect_causes\": {\"close_frame\": %" PRIu64
            ", \"no_close_frame\": %" PRIu64 ", \"op7\": %" PRIu64
            ", \"op9\": %" PRIu64 ", \"zombie\": %" PRIu64 "}",
            gc->resume && gc->identify ? "true" : "false", gc->backoff_min,
            gc->backoff_max,
            p[GWLOAD_GW_N_DISC_CLOSE] + p[GWLOAD_GW_N_DISC_DROP]
            + p[GWLOAD_GW_N_DISC_OP7] + p[GWLOAD_GW_N_DISC_OP9]
            + p[GWLOAD_GW_N_DISC_ZOMBIE],
            p[GWLOAD_GW_N_DISC_CLOSE], p[GWLOAD_GW_N_DISC_DROP],
            p[GWLOAD_GW_N_DISC_OP7], p[GWLOAD_GW_N_DISC_OP9],
            p[GWLOAD_GW_N_DISC_ZOMBIE]);

    for (k = 0; k < (int) (sizeof(keys) / sizeof(keys[0])); k++) {
        fprintf(f, ", \"%s\": %" PRIu64, keys[k].name, p[keys[k].slot]);
    }

    fprintf(f, ", \"reconnects\": %" PRIu64 ", \"reconnect_failed\": %"
            PRIu64, s->reconnects, s->reconnect_failed);

    gwload_stats_hist_json(f, ", ", "resume_ms",
                           &s->proto_hist[GWLOAD_GW_H_RESUME]);
    gwload_stats_hist_json(f, ", ", "reidentify_ms",
                           &s->proto_hist[GWLOAD_GW_H_REIDENTIFY]);

    /* second i is [start_unix + i, start_unix + i + 1) */

    fprintf(f, ", \"start_unix\": %.6f, \"series_overflow\": %" PRIu64
            ", \"series\": {",
            r->probe_area ? r->probe_area->start_unix_ns / 1e9 : 0.0,
            (uint64_t) s->proto_sec_overflow);
    gwload_stats_series_json(f, "disconnects", s, GWLOAD_GW_S_DISCONNECTS);
    fprintf(f, ", ");
    gwload_stats_series_json(f, "resumed", s, GWLOAD_GW_S_RESUMED);
    fprintf(f, ", ");
    gwload_stats_series_json(f, "reidentified", s,
                             GWLOAD_GW_S_REIDENTIFIED);
    fprintf(f, "}}");
}
