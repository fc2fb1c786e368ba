
/*
 * gwload: unit tests of delivery probes and of the publisher's HTTP: the
 * probe parser, the per-connection repeat window, recording into a
 * worker's counters and the parent's totals (--expect-messages, receivers
 * per message, the per-second series), d.content of a dispatch, the HTTP
 * response parser (fed whole, byte by byte and in chops), body templates
 * and the request head.  Then the cost of a probe per message, the figure
 * that matters at 400k deliveries/s.  Prints "N passed, N failed" last.
 */


#include "gwload.h"

#include <time.h>
#include <unistd.h>


static unsigned  tu_passed, tu_failed;


#define tu_check_quiet(cond)                                                  \
    do {                                                                      \
        if (!(cond)) {                                                        \
            tu_check(cond);                                                   \
        }                                                                     \
    } while (0)

#define tu_check(cond)                                                        \
    do {                                                                      \
        if (cond) {                                                           \
            tu_passed++;                                                      \
        } else {                                                              \
            tu_failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                     \
    } while (0)


/* a worker of "nconns" connections, without sockets */
typedef struct {
    gwload_shm_t       *shm;
    gwload_worker_t     w[2];
    gwload_conn_t      *conns;
    uint64_t            nconns;
} tu_run_t;


uint64_t
gwload_now(void)
{
    struct timespec  tp;

    clock_gettime(CLOCK_MONOTONIC, &tp);

    return (uint64_t) tp.tv_sec * GWLOAD_NSEC + tp.tv_nsec;
}


static int
tu_parse(const char *s, gwload_probe_t *pr)
{
    return gwload_probe_parse((const u_char *) s,
                              (const u_char *) s + strlen(s), pr);
}


static void
tu_probe_parse(void)
{
    const char      *s;
    gwload_probe_t   pr;

    tu_check(tu_parse("gwload:123:45", &pr) == GWLOAD_OK);
    tu_check(pr.ts == 123 && pr.n == 45);

    s = "{\"content\":\"x gwload:1764500000123456789:7 y\"}";
    tu_check(tu_parse(s, &pr) == GWLOAD_OK);
    tu_check(pr.ts == 1764500000123456789ULL && pr.n == 7);
    tu_check(pr.pos == (const u_char *) s + 14);

    /* no number, or a bad one: a probe without :N */

    tu_check(tu_parse("gwload:99", &pr) == GWLOAD_OK && pr.n == -1);
    tu_check(tu_parse("gwload:99:", &pr) == GWLOAD_OK && pr.n == -1);
    tu_check(tu_parse("gwload:99:x", &pr) == GWLOAD_OK && pr.n == -1);
    tu_check(tu_parse("gwload:99:1234567890123456789", &pr) == GWLOAD_OK
             && pr.ts == 99 && pr.n == -1);
    tu_check(tu_parse("gwload:99:123456789012345678", &pr) == GWLOAD_OK
             && pr.n == 123456789012345678LL);

    /* a marker without digits, or with too many, is passed over */

    tu_check(tu_parse("gwload: gwload:5:6", &pr) == GWLOAD_OK
             && pr.ts == 5 && pr.n == 6);
    tu_check(tu_parse("gwload:12345678901234567890 gwload:7", &pr)
             == GWLOAD_OK && pr.ts == 7);
    tu_check(tu_parse("gwloadgwload:1", &pr) == GWLOAD_OK && pr.ts == 1);

    tu_check(tu_parse("", &pr) == GWLOAD_DECLINED);
    tu_check(tu_parse("gwload", &pr) == GWLOAD_DECLINED);
    tu_check(tu_parse("gwload:", &pr) == GWLOAD_DECLINED);
    tu_check(tu_parse("gwload:x", &pr) == GWLOAD_DECLINED);
    tu_check(tu_parse("gwload:12345678901234567890", &pr)
             == GWLOAD_DECLINED);
    tu_check(tu_parse("{\"op\":0,\"d\":{}}", &pr) == GWLOAD_DECLINED);

    /* bounded by "end", not by a NUL */

    s = "gwload:1234";
    tu_check(gwload_probe_parse((const u_char *) s, (const u_char *) s + 9,
                                &pr) == GWLOAD_OK && pr.ts == 12);
}


static void
tu_probe_seen(void)
{
    gwload_probe_conn_t  pc;

    memset(&pc, 0, sizeof(pc));

    tu_check(gwload_probe_seen(&pc, 0) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 1) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 2) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 1) == GWLOAD_PROBE_DUPLICATE);
    tu_check(gwload_probe_seen(&pc, 2) == GWLOAD_PROBE_DUPLICATE);

    /* out of order within the window */

    tu_check(gwload_probe_seen(&pc, 6) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 4) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 4) == GWLOAD_PROBE_DUPLICATE);
    tu_check(gwload_probe_seen(&pc, 3) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 5) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 0) == GWLOAD_PROBE_DUPLICATE);

    /* the window's edge: hi - 1 - n == 63 is checked, 64 is not */

    tu_check(gwload_probe_seen(&pc, 100) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 37) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 37) == GWLOAD_PROBE_DUPLICATE);
    tu_check(gwload_probe_seen(&pc, 36) == GWLOAD_PROBE_UNCHECKED);
    tu_check(gwload_probe_seen(&pc, 100) == GWLOAD_PROBE_DUPLICATE);

    /* a jump of exactly 64 forgets the old window */

    tu_check(gwload_probe_seen(&pc, 164) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 101) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 100) == GWLOAD_PROBE_UNCHECKED);

    /* the first number need not be 0 */

    memset(&pc, 0, sizeof(pc));
    tu_check(gwload_probe_seen(&pc, 1000) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 999) == GWLOAD_PROBE_NEW);
    tu_check(gwload_probe_seen(&pc, 1000) == GWLOAD_PROBE_DUPLICATE);
}


static int
tu_run_init(tu_run_t *t, uint64_t nconns, unsigned procs)
{
    unsigned          k;
    uint64_t          i;
    gwload_worker_t  *w;

    memset(t, 0, sizeof(tu_run_t));

    t->shm = gwload_stats_create(procs);
    t->conns = calloc(nconns, sizeof(gwload_conn_t));
    t->nconns = nconns;

    if (t->shm == NULL || t->conns == NULL) {
        return GWLOAD_ERROR;
    }

    t->shm->probe = gwload_probe_area_create(nconns, procs);
    if (t->shm->probe == NULL) {
        return GWLOAD_ERROR;
    }

    t->shm->start_ns = gwload_now();
    t->shm->probe->start_unix_ns = gwload_realtime();

    for (k = 0; k < procs; k++) {
        w = &t->w[k];
        w->id = k;
        w->shm = t->shm;
        w->stats = &t->shm->w[k];
        w->probe_sec = t->shm->probe->sec
                       + (size_t) k * GWLOAD_PROBE_SECONDS;
        w->probe_seq = t->shm->probe->seq_recv
                       + (size_t) k * GWLOAD_PROBE_SEQS;
        w->probe_conn = t->shm->probe->conn_count;
        w->now = t->shm->start_ns;
    }

    /* connection i belongs to worker i mod procs, as in gwload */

    for (i = 0; i < nconns; i++) {
        t->conns[i].id = (uint32_t) i;
        t->conns[i].worker = &t->w[i % procs];
    }

    return GWLOAD_OK;
}


static void
tu_run_free(tu_run_t *t)
{
    gwload_probe_area_destroy(t->shm->probe);
    gwload_stats_destroy(t->shm);
    free(t->conns);
}


/* connection c gets message n, sent "ago_us" before */

static void
tu_deliver(tu_run_t *t, uint64_t c, int64_t n, uint64_t ago_us)
{
    char            buf[64];
    uint64_t        ts;
    gwload_conn_t  *conn;

    conn = &t->conns[c];
    ts = gwload_realtime() - ago_us * GWLOAD_USEC;

    snprintf(buf, sizeof(buf), "{\"content\":\"gwload:%" PRIu64 ":%" PRId64
             "\"}", ts, n);

    if (n < 0) {
        snprintf(buf, sizeof(buf), "gwload:%" PRIu64, ts);
    }

    tu_check(gwload_probe_scan(conn, (u_char *) buf, strlen(buf)) == 1);
}


static void
tu_probe_totals(void)
{
    int               ok, fd;
    char              why[160], file[64];
    FILE             *f;
    uint64_t          c, n;
    tu_run_t          t;
    gwload_conf_t     conf;
    gwload_wstats_t  *s;

    static gwload_result_t  r;

    tu_check(tu_run_init(&t, 6, 2) == GWLOAD_OK);

    /* messages 0..4 to every connection, but 3 misses 2 and 5 misses 4 */

    for (n = 0; n < 5; n++) {
        for (c = 0; c < 6; c++) {
            if ((c == 3 && n == 2) || (c == 5 && n == 4)) {
                continue;
            }

            tu_deliver(&t, c, n, 1000 + 1000 * c);
        }
    }

    /* second 2 of the series: a repeat, a probe without :N, one unprobed */

    t.w[0].now = t.shm->start_ns + 2 * GWLOAD_NSEC + 1;
    t.w[1].now = t.w[0].now;

    tu_deliver(&t, 0, 4, 50000);
    tu_deliver(&t, 1, -1, 50000);
    gwload_probe_record(&t.conns[2], NULL);

    memset(&conf, 0, sizeof(conf));
    memset(&r, 0, sizeof(r));

    conf.connections = 6;
    conf.expect_messages = 5;

    gwload_stats_sum(t.shm, &r.sum, 1);
    r.probe_area = t.shm->probe;
    s = &r.sum;

    tu_check(s->probe.deliveries == 31);
    tu_check(s->probe.probed == 30);
    tu_check(s->probe.duplicates == 1);
    tu_check(s->probe.no_seq == 1);
    tu_check(s->probe.seq_end == 5);
    tu_check(s->probe.sec_end == 3);
    tu_check(s->probe.latency.n == 30);
    tu_check(s->probe.latency.min >= 1000 && s->probe.latency.max >= 50000);
    tu_check(s->probe.latency.max < 60000);

    ok = gwload_probe_result(&conf, &r, why, sizeof(why));

    tu_check(!ok && strstr(why, "2 connections got fewer than 5") != NULL);
    tu_check(r.probe.conns_short == 2 && r.probe.missing == 2);

    /* connection 1 got a probe without :N on top: 6, one over */

    tu_check(r.probe.conns_extra == 1);
    tu_check(r.probe.per_conn_min == 4 && r.probe.per_conn_max == 6);
    tu_check(r.probe.messages_seen == 5 && r.probe.messages_unseen == 0);
    tu_check(r.probe.receivers_min == 5 && r.probe.receivers_max == 6);

    /* the same from a file: a publisher's JSON, then a number */

    snprintf(file, sizeof(file), "/tmp/gwload-test-probe.%d", (int) getpid());

    f = fopen(file, "w");
    fprintf(f, "{\"tool\": \"gwload\", \"steps\": [{\"accepted\": 1}], "
            "\"accepted\": 7, \"ok\": true}\n");
    fclose(f);

    conf.expect_messages = -1;
    conf.expect_file = file;

    ok = gwload_probe_result(&conf, &r, why, sizeof(why));

    tu_check(!ok && r.probe.expect == 7 && r.probe.missing == 13);
    tu_check(r.probe.messages_unseen == 2);

    f = fopen(file, "w");
    fprintf(f, " 4\n");
    fclose(f);

    ok = gwload_probe_result(&conf, &r, why, sizeof(why));

    tu_check(ok && r.probe.expect == 4 && r.probe.conns_short == 0);
    tu_check(r.probe.conns_extra == 4);

    f = fopen(file, "w");
    fprintf(f, "{\"sent\": 3}");
    fclose(f);

    /* its complaint on stderr is expected: keep it out of the output */

    fflush(stderr);
    fd = dup(STDERR_FILENO);
    (void) freopen("/dev/null", "w", stderr);

    ok = gwload_probe_result(&conf, &r, why, sizeof(why));

    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    close(fd);

    tu_check(!ok && r.probe.expect_failed);

    unlink(file);

    conf.expect_file = NULL;
    ok = gwload_probe_result(&conf, &r, why, sizeof(why));
    tu_check(ok && why[0] == '\0' && r.probe.expect == -1);

    /* the series: second 0 has 28 deliveries, second 2 has 3 */

    tu_check(t.shm->probe->sec[0].deliveries
             + t.shm->probe->sec[GWLOAD_PROBE_SECONDS].deliveries == 28);
    tu_check(t.shm->probe->sec[2].deliveries
             + t.shm->probe->sec[GWLOAD_PROBE_SECONDS + 2].deliveries == 3);
    tu_check(t.shm->probe->sec[2].probed
             + t.shm->probe->sec[GWLOAD_PROBE_SECONDS + 2].probed == 2);

    /* options */

    tu_check(gwload_probe_expect(&conf, "12") == GWLOAD_OK
             && conf.expect_messages == 12 && conf.expect_file == NULL);
    tu_check(gwload_probe_expect(&conf, "@x") == GWLOAD_OK
             && conf.expect_messages == -1
             && strcmp(conf.expect_file, "x") == 0);
    tu_check(gwload_probe_expect(&conf, "@") == GWLOAD_ERROR);
    tu_check(gwload_probe_expect(&conf, "") == GWLOAD_ERROR);
    tu_check(gwload_probe_expect(&conf, "-1") == GWLOAD_ERROR);
    tu_check(gwload_probe_expect(&conf, "5x") == GWLOAD_ERROR);

    tu_run_free(&t);
}


static int
tu_gw_content(const char *msg, char *out, size_t size)
{
    gwload_json_t    content;
    gwload_gw_msg_t  m;

    if (gwload_gw_decode((const u_char *) msg, strlen(msg), &m) != GWLOAD_OK
        || gwload_gw_content(&m, &content) != GWLOAD_OK)
    {
        return GWLOAD_ERROR;
    }

    snprintf(out, size, "%.*s", (int) (content.end - content.start),
             content.start);

    return GWLOAD_OK;
}


static void
tu_content(void)
{
    char  out[128];

    tu_check(tu_gw_content("{\"op\":0,\"s\":3,\"t\":\"MESSAGE_CREATE\","
                           "\"d\":{\"author\":{\"content\":\"no\"},"
                           "\"content\":\"gwload:1:2\",\"id\":\"5\"}}",
                           out, sizeof(out)) == GWLOAD_OK);
    tu_check(strcmp(out, "gwload:1:2") == 0);

    /* Discord's order, t s op d, and escapes left as they are */

    tu_check(tu_gw_content("{\"t\":\"MESSAGE_CREATE\",\"s\":3,\"op\":0,"
                           "\"d\":{\"content\":\"a \\\"b\\\" gwload:1\"}}",
                           out, sizeof(out)) == GWLOAD_OK);
    tu_check(strcmp(out, "a \\\"b\\\" gwload:1") == 0);

    tu_check(tu_gw_content("{\"op\":0,\"s\":3,\"t\":\"X\",\"d\":{\"content\":"
                           "5}}", out, sizeof(out)) == GWLOAD_ERROR);
    tu_check(tu_gw_content("{\"op\":0,\"s\":3,\"t\":\"X\",\"d\":{\"a\":"
                           "{\"content\":\"gwload:1\"}}}", out, sizeof(out))
             == GWLOAD_ERROR);
    tu_check(tu_gw_content("{\"op\":0,\"s\":3,\"t\":\"X\",\"d\":null}",
                           out, sizeof(out)) == GWLOAD_ERROR);
    tu_check(tu_gw_content("{\"op\":0,\"s\":3,\"t\":\"X\",\"d\":{\"content\":"
                           "\"gwload:1", out, sizeof(out)) == GWLOAD_ERROR);
}


/*
 * Feed "in" to a fresh parser in chops of "chop" bytes (0: whole); returns
 * the last result, with *used the bytes taken when a response completed.
 */

static gwload_http_rc_e
tu_http(const char *in, size_t chop, gwload_http_resp_t *r, size_t *used)
{
    size_t             len, n;
    const u_char      *p, *end, *pos;
    gwload_http_rc_e   rc;

    gwload_http_resp_init(r);

    p = (const u_char *) in;
    len = strlen(in);
    end = p + len;
    rc = GWLOAD_HTTP_AGAIN;
    *used = 0;

    while (p < end) {
        n = (chop && (size_t) (end - p) > chop) ? chop : (size_t) (end - p);
        pos = p;

        rc = gwload_http_parse(r, &pos, p + n);

        if (rc != GWLOAD_HTTP_AGAIN) {
            *used = pos - (const u_char *) in;
            return rc;
        }

        p += n;
    }

    return rc;
}


static void
tu_http_all(const char *in, gwload_http_rc_e want, int status, int close,
    size_t used)
{
    size_t              chops[4] = { 0, 1, 2, 7 };
    size_t              u;
    unsigned            i;
    gwload_http_rc_e    rc;
    gwload_http_resp_t  r;

    for (i = 0; i < 4; i++) {
        rc = tu_http(in, chops[i], &r, &u);

        tu_check(rc == want);

        if (rc == GWLOAD_HTTP_OK) {
            tu_check(r.status == status && r.close == close);
            tu_check(u == (used ? used : strlen(in)));
        }
    }
}


static void
tu_http_resp(void)
{
    size_t              u;
    gwload_http_resp_t  r;
    const char         *s;

    /* nchan's answer to a publish */

    tu_http_all("HTTP/1.1 201 Created\r\nServer: nginx/1.22.1\r\n"
                "Content-Type: text/plain\r\nContent-Length: 13\r\n"
                "Connection: keep-alive\r\n\r\nqueued: 1\r\n\r\n",
                GWLOAD_HTTP_OK, 201, 0, 0);

    /* a pipelined second response is left alone */

    s = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n";
    tu_http_all(s, GWLOAD_HTTP_OK, 200, 0, strlen(s) - 17);

    tu_http_all("HTTP/1.1 202 Accepted\r\ntransfer-encoding:  gzip, Chunked"
                "\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\n"
                "X-Trailer: 1\r\n\r\n", GWLOAD_HTTP_OK, 202, 0, 0);

    tu_http_all("HTTP/1.1 204 No Content\r\nConnection: Close\r\n\r\n",
                GWLOAD_HTTP_OK, 204, 1, 0);

    tu_http_all("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
                GWLOAD_HTTP_OK, 200, 1, 0);
    tu_http_all("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                "Content-Length: 0\r\n\r\n", GWLOAD_HTTP_OK, 200, 0, 0);

    /* bare LFs, an interim response, a long header line */

    tu_http_all("HTTP/1.1 100 Continue\n\nHTTP/1.1 429 Too Many\n"
                "Content-Length: 1\nX-Long: "
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "\n\nx", GWLOAD_HTTP_OK, 429, 0, 0);

    /* no framing: the body runs to the close */

    tu_check(tu_http("HTTP/1.1 200 OK\r\n\r\nabc", 0, &r, &u)
             == GWLOAD_HTTP_AGAIN);
    tu_check(r.close && gwload_http_eof(&r) == GWLOAD_HTTP_OK);

    tu_check(tu_http("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", 0,
                     &r, &u) == GWLOAD_HTTP_AGAIN);
    tu_check(gwload_http_eof(&r) == GWLOAD_HTTP_ERROR);

    /* errors */

    tu_http_all("HTTP/2 200\r\n\r\n", GWLOAD_HTTP_ERROR, 0, 0, 0);
    tu_http_all("HTTP/1.1 20 OK\r\n\r\n", GWLOAD_HTTP_ERROR, 0, 0, 0);
    tu_http_all("HTTP/1.1 200OK\r\n\r\n", GWLOAD_HTTP_ERROR, 0, 0, 0);
    tu_http_all("SSH-2.0-OpenSSH\r\n", GWLOAD_HTTP_ERROR, 0, 0, 0);
    tu_http_all("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
                GWLOAD_HTTP_ERROR, 0, 0, 0);
    tu_http_all("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                "Content-Length: 2\r\n\r\n", GWLOAD_HTTP_ERROR, 0, 0, 0);
    tu_http_all("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", GWLOAD_HTTP_ERROR,
                0, 0, 0);
    tu_http_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                "zz\r\n", GWLOAD_HTTP_ERROR, 0, 0, 0);
    tu_http_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                "1\r\nab\r\n", GWLOAD_HTTP_ERROR, 0, 0, 0);
    tu_http_all("HTTP/1.1 101 Switching\r\n\r\n", GWLOAD_HTTP_ERROR, 0, 0,
                0);
}


static void
tu_http_body(void)
{
    u_char              buf[512], head[256];
    size_t              n;
    gwload_http_body_t  b;

    tu_check(gwload_http_body_init(&b, "{\"content\":\"%T\",\"n\":%N,"
                                   "\"p\":\"100%%\"}") == GWLOAD_OK);
    tu_check(b.probes == 1 && b.numbers == 1);

    n = gwload_http_body(buf, &b, 1764500000123456789ULL, 42);
    buf[n] = '\0';

    tu_check(strcmp((char *) buf, "{\"content\":\"gwload:1764500000123456789"
                    ":42\",\"n\":42,\"p\":\"100%\"}") == 0);

    n = gwload_http_body(buf, &b, UINT64_MAX, UINT64_MAX);
    tu_check(n <= gwload_http_body_max(&b));

    tu_check(gwload_http_body_init(&b, "%T%T") == GWLOAD_OK);
    n = gwload_http_body(buf, &b, 0, 0);
    buf[n] = '\0';
    tu_check(strcmp((char *) buf, "gwload:0:0gwload:0:0") == 0);

    tu_check(gwload_http_body_init(&b, "") == GWLOAD_OK);
    tu_check(gwload_http_body(buf, &b, 1, 1) == 0);

    tu_check(gwload_http_body_init(&b, "50%") == GWLOAD_ERROR);
    tu_check(gwload_http_body_init(&b, "%t") == GWLOAD_ERROR);

    n = gwload_http_request(head, sizeof(head), "/pub/a?x=1", "h:80",
                            "Authorization: Bot x\r\n", 22, 1, 17);
    head[n] = '\0';

    tu_check(strcmp((char *) head, "POST /pub/a?x=1 HTTP/1.1\r\nHost: h:80\r\n"
                    "User-Agent: gwload/" GWLOAD_VERSION "\r\n"
                    "Authorization: Bot x\r\n"
                    "Content-Type: application/json\r\n"
                    "Content-Length: 17\r\n\r\n") == 0);

    n = gwload_http_request(head, sizeof(head), "/", "h", NULL, 0, 0, 0);
    tu_check(n && strstr((char *) head, "Content-Type") == NULL);

    tu_check(gwload_http_request(head, 20, "/", "h", NULL, 0, 0, 0) == 0);
}


/*
 * The cost per delivered message of the probe work alone: find, parse,
 * time, count (nchan's message: the POSTed body); and for the gateway, a
 * MESSAGE_CREATE of about 700 bytes: the decode the driver does anyway,
 * then memmem(), d.content and the probe.
 */

static void
tu_speed(void)
{
    int               i, k;
    char              nchan[64], gw[1024];
    double            ns[3];
    size_t            len[2];
    uint64_t          t0, ts;
    tu_run_t          t;
    gwload_json_t     content;
    gwload_probe_t    pr;
    gwload_gw_msg_t   m;

    enum { TU_N = 2000000, TU_CONNS = 10000 };

    if (tu_run_init(&t, TU_CONNS, 1) != GWLOAD_OK) {
        tu_check(0);
        return;
    }

    ts = gwload_realtime();

    len[0] = snprintf(nchan, sizeof(nchan), "{\"content\":\"gwload:%" PRIu64
                      ":%d\"}", ts, 123456);

    len[1] = snprintf(gw, sizeof(gw), "{\"op\":0,\"s\":1234,\"t\":"
                      "\"MESSAGE_CREATE\",\"d\":{\"type\":0,\"tts\":false,"
                      "\"timestamp\":\"2025-11-30T12:00:00.000000+00:00\","
                      "\"pinned\":false,\"mentions\":[],\"mention_roles\":[],"
                      "\"mention_everyone\":false,\"member\":{\"roles\":[],"
                      "\"premium_since\":null,\"pending\":false,\"nick\":null,"
                      "\"mute\":false,\"joined_at\":\"2025-01-01T00:00:00+00:"
                      "00\",\"flags\":0,\"deaf\":false,\"avatar\":null},"
                      "\"id\":\"1312345678901234567\",\"flags\":0,"
                      "\"embeds\":[],\"edited_timestamp\":null,"
                      "\"content\":\"gwload:%" PRIu64 ":%d\",\"components\":[],"
                      "\"channel_id\":\"1312345678901234000\",\"author\":"
                      "{\"username\":\"user [1]\",\"public_flags\":0,"
                      "\"id\":\"1312345678901230001\",\"global_name\":null,"
                      "\"discriminator\":\"0\",\"avatar\":null},"
                      "\"attachments\":[],\"guild_id\":\"1312345678901230000\""
                      "}}", ts, 123456);

    for (k = 0; k < 3; k++) {
        t0 = gwload_now();

        for (i = 0; i < TU_N; i++) {

            if (k == 0) {
                (void) gwload_probe_scan(&t.conns[i % TU_CONNS],
                                         (u_char *) nchan, len[0]);
                continue;
            }

            if (k == 2) {
                /* what the driver does for every message anyway */
                tu_check_quiet(gwload_gw_decode((u_char *) gw, len[1], &m)
                               == GWLOAD_OK);
                continue;
            }

            if (gwload_gw_decode((u_char *) gw, len[1], &m) == GWLOAD_OK
                && memmem(m.d.start, m.d.end - m.d.start, "gwload:", 7)
                && gwload_gw_content(&m, &content) == GWLOAD_OK
                && gwload_probe_parse(content.start, content.end, &pr)
                   == GWLOAD_OK)
            {
                gwload_probe_record(&t.conns[i % TU_CONNS], &pr);
            }
        }

        ns[k] = (double) (gwload_now() - t0) / TU_N;
    }

    tu_check(t.w[0].stats->probe.probed == 2 * TU_N);

    printf("probe: %.0f ns per message (%zu-byte nchan message: find, "
           "parse, clock, count); %.0f ns (%zu-byte MESSAGE_CREATE: decode "
           "%.0f ns, which the driver does anyway, then d.content and the "
           "probe)\n", ns[0], len[0], ns[1], len[1], ns[2]);

    tu_run_free(&t);
}


int
main(void)
{
    tu_probe_parse();
    tu_probe_seen();
    tu_probe_totals();
    tu_content();
    tu_http_resp();
    tu_http_body();
    tu_speed();

    printf("%u passed, %u failed\n", tu_passed, tu_failed);

    return tu_failed ? 1 : 0;
}
