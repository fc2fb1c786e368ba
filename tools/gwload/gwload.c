
/*
 * gwload: main(), options, worker fan-out and the parent's monitor loop.
 *
 * The parent forks P workers, then only watches: it sums the workers'
 * shared counters for the progress line, starts the hold once every worker
 * has finished connecting (each says so with SIGUSR2), and tells the
 * workers to close (SIGUSR1) when the hold ends or on the first SIGINT or
 * SIGTERM; a second one makes them exit at once (SIGTERM).
 */


#include "gwload.h"

#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/wait.h>


typedef struct {
    pid_t          pid;
    unsigned       alive:1;
} gwload_child_t;


/* the parent's view of the run */
typedef struct {
    gwload_conf_t     *conf;
    gwload_shm_t      *shm;
    gwload_child_t    *children;
    gwload_result_t   *r;

    unsigned           alive;
    unsigned           tty:1;
    unsigned           progress:1;
    unsigned           stopping:1;
    unsigned           holding:1;

    uint64_t           hold_end;      /* 0: forever */
    uint64_t           next_tick;
    uint64_t           last_est;
    uint64_t           last_deliveries;
    uint64_t           last_at;
} gwload_monitor_t;


static int gwload_options(int argc, char **argv, gwload_conf_t *conf);
static const char *gwload_option_name(int ch);
static int gwload_option(gwload_conf_t *conf, int ch, char **argv);
static int gwload_options_check(gwload_conf_t *conf, int src_count_set);
static int gwload_parse_url(gwload_conf_t *conf);
static int gwload_add_header(gwload_conf_t *conf, const char *h);
static int gwload_check_limits(gwload_conf_t *conf);
static int gwload_spawn(gwload_conf_t *conf, gwload_shm_t *shm,
    gwload_child_t *children);
static void gwload_monitor(gwload_conf_t *conf, gwload_shm_t *shm,
    gwload_child_t *children, gwload_result_t *r);
static void gwload_monitor_probe(gwload_conf_t *conf, gwload_result_t *r);
static void gwload_monitor_reap(gwload_monitor_t *m);
static void gwload_monitor_hold(gwload_monitor_t *m, uint64_t now);
static void gwload_monitor_progress(gwload_monitor_t *m, uint64_t now);
static void gwload_signal_children(gwload_child_t *children, unsigned n,
    int sig);
static void gwload_conf_free(gwload_conf_t *conf);
static void gwload_usage(FILE *f);


static struct option  gwload_long_options[] = {
    { "url",            required_argument, NULL, 'u' },
    { "connections",    required_argument, NULL, 'n' },
    { "rate",           required_argument, NULL, 'r' },
    { "procs",          required_argument, NULL, 'p' },
    { "src-from",       required_argument, NULL, 'S' },
    { "src-count",      required_argument, NULL, 'K' },
    { "hold",           required_argument, NULL, 'H' },
    { "ping-interval",  required_argument, NULL, 'i' },
    { "progress",       no_argument,       NULL, 'P' },
    { "no-progress",    no_argument,       NULL, 'Q' },
    { "json",           required_argument, NULL, 'j' },
    { "timeout",        required_argument, NULL, 't' },
    { "header",         required_argument, NULL, 'h' },
    { "protocol",       required_argument, NULL, 'X' },
    { "proto-opt",      required_argument, NULL, 'O' },
    { "expect-messages", required_argument, NULL, 'E' },
    { "help",           no_argument,       NULL, '?' + 256 },
    { "version",        no_argument,       NULL, 'V' },
    { NULL, 0, NULL, 0 }
};


int
main(int argc, char **argv)
{
    int              rc;
    gwload_conf_t    conf;
    gwload_shm_t    *shm;
    gwload_child_t  *children;
    gwload_result_t *r;

    /* ~30 KB of histograms: static, so that a forked worker owns nothing */
    static gwload_result_t  result;

    if (argc > 1 && strcmp(argv[1], "publish") == 0) {
        return gwload_publish_main(argc - 1, argv + 1);
    }

    rc = gwload_options(argc, argv, &conf);
    if (rc != GWLOAD_OK) {
        gwload_conf_free(&conf);
        return (rc == GWLOAD_DONE) ? 0 : 2;
    }

    if (gwload_check_limits(&conf) != GWLOAD_OK) {
        gwload_conf_free(&conf);
        return 2;
    }

    shm = gwload_stats_create(conf.procs);
    children = calloc(conf.procs, sizeof(gwload_child_t));
    r = &result;

    if (shm == NULL || children == NULL) {
        fprintf(stderr, "gwload: out of memory\n");
        return 2;
    }

    shm->probe = gwload_probe_area_create(conf.connections, conf.procs);
    if (shm->probe == NULL) {
        fprintf(stderr, "gwload: mmap() of the probe counters: %s\n",
                strerror(errno));
        return 2;
    }

    r->probe_area = shm->probe;

    shm->start_ns = gwload_now();
    shm->probe->start_unix_ns = gwload_realtime();
    shm->parent_pid = getpid();

    if (gwload_spawn(&conf, shm, children) != GWLOAD_OK) {
        rc = 2;
        goto done;
    }

    gwload_monitor(&conf, shm, children, r);

    gwload_stats_report(&conf, r, stdout);
    fflush(stdout);

    rc = r->ok ? 0 : 1;

    if (conf.json && gwload_stats_json(&conf, r, conf.json) != GWLOAD_OK) {
        rc = 1;
    }

done:

    gwload_probe_area_destroy(shm->probe);
    gwload_stats_destroy(shm);
    free(children);
    gwload_conf_free(&conf);

    return rc;
}


static void
gwload_conf_free(gwload_conf_t *conf)
{
    if (conf->proto_conf && conf->proto->cleanup) {
        conf->proto->cleanup(conf);
    }

    free(conf->headers);
    free(conf->proto_opts);
}


static int
gwload_options(int argc, char **argv, gwload_conf_t *conf)
{
    int  ch, rc, src_count_set;

    memset(conf, 0, sizeof(gwload_conf_t));

    conf->connections = 1;
    conf->rate = 2000;
    conf->src_from = 0x7f000002;        /* 127.0.0.2 */
    conf->hold_ms = 0;
    conf->timeout_ms = 10000;
    conf->progress = -1;
    conf->proto = &gwload_proto_ws;
    conf->expect_messages = -1;

    src_count_set = 0;

    opterr = 0;

    for ( ;; ) {
        ch = getopt_long(argc, argv, "u:n:r:p:H:t:", gwload_long_options,
                         NULL);
        if (ch == -1) {
            break;
        }

        if (ch == 'K') {
            src_count_set = 1;
        }

        rc = gwload_option(conf, ch, argv);

        if (rc == GWLOAD_AGAIN) {
            fprintf(stderr, "gwload: invalid value \"%s\" for --%s\n",
                    optarg, gwload_option_name(ch));
            return GWLOAD_ERROR;
        }

        if (rc != GWLOAD_OK) {
            return rc;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "gwload: unexpected argument \"%s\"\n", argv[optind]);
        return GWLOAD_ERROR;
    }

    return gwload_options_check(conf, src_count_set);
}


/* one option; GWLOAD_AGAIN: a bad value */

static int
gwload_option(gwload_conf_t *conf, int ch, char **argv)
{
    char            *end, **opts;
    double           d;
    struct in_addr   a;

    errno = 0;
    end = NULL;

    switch (ch) {

    case 'u':
        conf->url = optarg;
        break;

    case 'n':
        conf->connections = strtoull(optarg, &end, 10);
        if (*end || errno || conf->connections == 0
            || conf->connections > UINT32_MAX)
        {
            goto invalid;
        }
        break;

    case 'r':
        conf->rate = strtod(optarg, &end);
        if (*end || errno || conf->rate < 0 || isnan(conf->rate)) {
            goto invalid;
        }
        break;

    case 'p':
        conf->procs = (unsigned) strtoul(optarg, &end, 10);
        if (*end || errno || conf->procs == 0 || conf->procs > 1024) {
            goto invalid;
        }
        break;

    case 'S':
        if (inet_pton(AF_INET, optarg, &a) != 1) {
            goto invalid;
        }
        conf->src_from = ntohl(a.s_addr);
        break;

    case 'K':
        conf->src_count = (unsigned) strtoul(optarg, &end, 10);
        if (*end || errno || conf->src_count == 0
            || conf->src_count > 65536)
        {
            goto invalid;
        }
        break;

    case 'H':
        if (strcmp(optarg, "forever") == 0) {
            conf->hold_ms = -1;
            break;
        }

        d = strtod(optarg, &end);
        if (*end || errno || d < 0 || isnan(d) || d > 1e9) {
            goto invalid;
        }
        conf->hold_ms = (int64_t) (d * 1000);
        break;

    case 'i':
        conf->ping_interval_ms = strtoull(optarg, &end, 10);
        if (*end || errno) {
            goto invalid;
        }
        break;

    case 'P':
        conf->progress = 1;
        break;

    case 'Q':
        conf->progress = 0;
        break;

    case 'j':
        conf->json = optarg;
        break;

    case 't':
        d = strtod(optarg, &end);
        if (*end || errno || d <= 0 || isnan(d) || d > 1e6) {
            goto invalid;
        }
        conf->timeout_ms = (uint64_t) (d * 1000);
        if (conf->timeout_ms == 0) {
            conf->timeout_ms = 1;
        }
        break;

    case 'h':
        if (gwload_add_header(conf, optarg) != GWLOAD_OK) {
            return GWLOAD_ERROR;
        }
        break;

    case 'X':
        conf->proto = gwload_proto_find(optarg);
        if (conf->proto == NULL) {
            fprintf(stderr, "gwload: unknown protocol \"%s\" (known: ",
                    optarg);
            gwload_proto_list(stderr);
            fprintf(stderr, ")\n");
            return GWLOAD_ERROR;
        }
        break;

    case 'O':
        if (strchr(optarg, '=') == NULL) {
            goto invalid;
        }

        opts = realloc(conf->proto_opts,
                       (conf->nproto_opts + 1) * sizeof(char *));
        if (opts == NULL) {
            return GWLOAD_ERROR;
        }

        conf->proto_opts = opts;
        conf->proto_opts[conf->nproto_opts++] = optarg;
        break;

    case 'E':
        if (gwload_probe_expect(conf, optarg) != GWLOAD_OK) {
            goto invalid;
        }
        break;

    case 'V':
        printf("gwload %s\n", GWLOAD_VERSION);
        return GWLOAD_DONE;

    case '?' + 256:
        gwload_usage(stdout);
        return GWLOAD_DONE;

    default:
        if (optopt) {
            fprintf(stderr, "gwload: option -%c: missing or unknown\n",
                    optopt);

        } else {
            fprintf(stderr, "gwload: unknown option \"%s\"\n",
                    argv[optind - 1]);
        }

        gwload_usage(stderr);
        return GWLOAD_ERROR;
    }

    return GWLOAD_OK;

invalid:

    return GWLOAD_AGAIN;
}


static const char *
gwload_option_name(int ch)
{
    struct option  *o;

    for (o = gwload_long_options; o->name; o++) {
        if (o->val == ch) {
            return o->name;
        }
    }

    return "?";
}


/* defaults that depend on other options, and the checks across options */

static int
gwload_options_check(gwload_conf_t *conf, int src_count_set)
{
    if (conf->url == NULL) {
        fprintf(stderr, "gwload: --url is required\n");
        gwload_usage(stderr);
        return GWLOAD_ERROR;
    }

    if (gwload_parse_url(conf) != GWLOAD_OK) {
        return GWLOAD_ERROR;
    }

    /* configure() may turn payloads off (protocol ws: probes=0) */

    conf->want_payload = conf->proto->want_payload;

    if (conf->proto->configure && conf->proto->configure(conf) != GWLOAD_OK)
    {
        return GWLOAD_ERROR;
    }

    if (conf->procs == 0) {
        conf->procs = (unsigned) ((conf->connections + GWLOAD_CONNS_PER_PROC
                                   - 1) / GWLOAD_CONNS_PER_PROC);
    }

    if (conf->procs > conf->connections) {
        conf->procs = (unsigned) conf->connections;
    }

    if (!src_count_set) {
        conf->src_count = (unsigned) ((conf->connections
                                       + GWLOAD_CONNS_PER_SRC - 1)
                                      / GWLOAD_CONNS_PER_SRC);
    }

    if ((uint64_t) conf->src_from + conf->src_count - 1 > UINT32_MAX) {
        fprintf(stderr, "gwload: --src-from + --src-count overflows\n");
        return GWLOAD_ERROR;
    }

    return GWLOAD_OK;
}


/* ws://host[:port][/path][?query]; IPv4 only */

static int
gwload_parse_url(gwload_conf_t *conf)
{
    int               rc;
    const char       *why;
    gwload_ws_url_t   u;

    rc = gwload_ws_url(conf->url, strlen(conf->url), &u);

    if (rc == GWLOAD_DECLINED) {
        fprintf(stderr, "gwload: wss:// is not supported yet\n");
        return GWLOAD_ERROR;
    }

    if (rc != GWLOAD_OK || u.host_len >= sizeof(conf->host)) {
        if (u.bad && strcmp(u.bad, "scheme") == 0) {
            fprintf(stderr, "gwload: --url must start with ws://\n");

        } else if (u.bad && strcmp(u.bad, "port") == 0) {
            fprintf(stderr, "gwload: bad port in \"%s\"\n", conf->url);

        } else if (u.bad && strcmp(u.bad, "path") == 0) {
            fprintf(stderr, "gwload: bad path in \"%s\"\n", conf->url);

        } else {
            fprintf(stderr, "gwload: bad host in \"%s\" (IPv4 or a name)\n",
                    conf->url);
        }

        return GWLOAD_ERROR;
    }

    if (u.path_len == 0 && u.query_len) {
        fprintf(stderr, "gwload: write the path before the query: "
                "ws://host/path?query\n");
        return GWLOAD_ERROR;
    }

    /* the Host header is the authority as written */

    memcpy(conf->host, u.host, u.host_len);
    conf->host[u.host_len] = '\0';

    /* the request-target: the path and the query behind it */
    conf->path = u.path_len ? (char *) u.path : "/";

    if (gwload_resolve(&u, &conf->dst, &why) != GWLOAD_OK) {
        fprintf(stderr, "gwload: cannot resolve \"%.*s\": %s\n",
                (int) u.name_len, u.name, why);
        return GWLOAD_ERROR;
    }

    return GWLOAD_OK;
}


int
gwload_resolve(const gwload_ws_url_t *u, struct sockaddr_in *dst,
    const char **why)
{
    int               rc;
    char              name[256], port[8];
    struct addrinfo   hints, *res;

    if (u->name_len >= sizeof(name)) {
        *why = "name too long";
        return GWLOAD_ERROR;
    }

    memcpy(name, u->name, u->name_len);
    name[u->name_len] = '\0';
    snprintf(port, sizeof(port), "%u", u->port);

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(name, port, &hints, &res);
    if (rc != 0) {
        *why = gai_strerror(rc);
        return GWLOAD_ERROR;
    }

    memcpy(dst, res->ai_addr, sizeof(struct sockaddr_in));
    freeaddrinfo(res);

    return GWLOAD_OK;
}


static int
gwload_add_header(gwload_conf_t *conf, const char *h)
{
    return gwload_header_add(&conf->headers, &conf->headers_len, h, "gwload");
}


int
gwload_header_add(char **headers, size_t *headers_len, const char *h,
    const char *who)
{
    char        *p;
    size_t       len;
    const char  *colon;

    len = strlen(h);
    colon = strchr(h, ':');

    if (colon == NULL || colon == h || strpbrk(h, "\r\n")
        || strcspn(h, " \t") < (size_t) (colon - h))
    {
        fprintf(stderr, "%s: --header wants \"Name: value\", got \"%s\"\n",
                who, h);
        return GWLOAD_ERROR;
    }

    if (*headers_len + len + 2 > GWLOAD_MAX_HEADERS_LEN) {
        fprintf(stderr, "%s: --header: more than %d bytes in all\n", who,
                GWLOAD_MAX_HEADERS_LEN);
        return GWLOAD_ERROR;
    }

    p = realloc(*headers, *headers_len + len + 3);
    if (p == NULL) {
        return GWLOAD_ERROR;
    }

    memcpy(p + *headers_len, h, len);
    memcpy(p + *headers_len + len, "\r\n", 3);

    *headers = p;
    *headers_len += len + 2;

    return GWLOAD_OK;
}


/*
 * Raise RLIMIT_NOFILE to the hard limit (the children inherit it), then
 * refuse plans that cannot work and warn about ones that may not.
 */

static int
gwload_check_limits(gwload_conf_t *conf)
{
    FILE           *f;
    unsigned        lo, hi;
    uint64_t        per_proc, per_src, need, ports;
    struct rlimit   rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
        fprintf(stderr, "gwload: getrlimit(): %s\n", strerror(errno));
        return GWLOAD_ERROR;
    }

    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;

        if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
            fprintf(stderr, "gwload: setrlimit(RLIMIT_NOFILE, %llu): %s\n",
                    (unsigned long long) rl.rlim_max, strerror(errno));
            (void) getrlimit(RLIMIT_NOFILE, &rl);
        }
    }

    per_proc = (conf->connections + conf->procs - 1) / conf->procs;

    if (rl.rlim_cur != RLIM_INFINITY
        && per_proc + GWLOAD_FD_RESERVE > rl.rlim_cur)
    {
        need = (conf->connections + rl.rlim_cur - GWLOAD_FD_RESERVE - 1)
               / (rl.rlim_cur - GWLOAD_FD_RESERVE);

        fprintf(stderr, "gwload: %" PRIu64 " connections per process do not "
                "fit in RLIMIT_NOFILE %llu: use --procs %" PRIu64
                " or more\n",
                per_proc, (unsigned long long) rl.rlim_cur, need);
        return GWLOAD_ERROR;
    }

    per_src = (conf->connections + conf->src_count - 1) / conf->src_count;

    lo = 32768;
    hi = 60999;

    f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%u %u", &lo, &hi) != 2 || hi < lo) {
            lo = 32768;
            hi = 60999;
        }

        fclose(f);
    }

    ports = hi - lo + 1;

    if (per_src > ports) {
        fprintf(stderr, "gwload: warning: %" PRIu64 " connections per source "
                "address but only %" PRIu64 " local ports "
                "(ip_local_port_range): expect EADDRNOTAVAIL; raise "
                "--src-count to %" PRIu64 "\n",
                per_src, ports, (conf->connections + ports - 1) / ports);
    }

    return GWLOAD_OK;
}


static int
gwload_spawn(gwload_conf_t *conf, gwload_shm_t *shm, gwload_child_t *children)
{
    int       rc;
    pid_t     pid;
    unsigned  i;
    sigset_t  set;

    /* the parent takes its signals with sigtimedwait() */

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);

    sigaddset(&set, SIGUSR2);

    /* blocked before fork(): a worker must not die of an early SIGUSR1 */
    sigaddset(&set, SIGUSR1);

    sigprocmask(SIG_BLOCK, &set, NULL);

    signal(SIGPIPE, SIG_IGN);

    fflush(stdout);
    fflush(stderr);

    for (i = 0; i < conf->procs; i++) {
        pid = fork();

        if (pid == -1) {
            fprintf(stderr, "gwload: fork(): %s\n", strerror(errno));
            gwload_signal_children(children, i, SIGTERM);

            while (wait(NULL) > 0) {
                /* void */
            }

            return GWLOAD_ERROR;
        }

        if (pid == 0) {
            rc = gwload_worker_run(conf, shm, i);

            gwload_probe_area_destroy(shm->probe);
            gwload_stats_destroy(shm);
            free(children);
            gwload_conf_free(conf);

            exit(rc == GWLOAD_OK ? 0 : 1);
        }

        children[i].pid = pid;
        children[i].alive = 1;
    }

    return GWLOAD_OK;
}


static void
gwload_monitor(gwload_conf_t *conf, gwload_shm_t *shm,
    gwload_child_t *children, gwload_result_t *r)
{
    int                sig;
    uint64_t           now, wait;
    sigset_t           set;
    siginfo_t          si;
    gwload_wstats_t   *sum;
    struct timespec    ts;
    gwload_monitor_t   m;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGUSR2);

    memset(&m, 0, sizeof(gwload_monitor_t));

    m.conf = conf;
    m.shm = shm;
    m.children = children;
    m.r = r;
    m.tty = isatty(STDERR_FILENO);
    m.progress = (conf->progress == -1) ? m.tty : conf->progress;
    m.alive = conf->procs;
    m.last_at = shm->start_ns;
    m.next_tick = shm->start_ns + GWLOAD_NSEC;

    sum = &r->sum;
    r->procs = conf->procs;

    while (m.alive) {
        now = gwload_now();

        /*
         * Sleep until the next progress tick, the end of the hold, or a
         * signal: SIGCHLD, SIGUSR2 (a worker is done connecting), ^C.
         */

        wait = (m.next_tick > now) ? m.next_tick - now : 0;

        if (m.holding && !m.stopping && m.hold_end && m.hold_end > now
            && m.hold_end - now < wait)
        {
            wait = m.hold_end - now;
        }

        ts.tv_sec = wait / GWLOAD_NSEC;
        ts.tv_nsec = wait % GWLOAD_NSEC;

        sig = sigtimedwait(&set, &si, &ts);

        if (sig == SIGINT || sig == SIGTERM) {

            if (!m.stopping) {
                m.stopping = 1;
                r->interrupted = 1;

                fprintf(stderr, "%sgwload: %s: closing connections (again "
                        "to exit at once)\n",
                        (m.progress && m.tty) ? "\n" : "",
                        sig == SIGINT ? "SIGINT" : "SIGTERM");

                gwload_signal_children(children, conf->procs, SIGUSR1);

            } else {
                gwload_signal_children(children, conf->procs, SIGTERM);
            }
        }

        gwload_monitor_reap(&m);

        now = gwload_now();
        gwload_stats_sum(shm, sum, 0);

        if (!m.holding && !m.stopping) {
            gwload_monitor_hold(&m, now);
        }

        /* a connection that is reconnecting may still come back */

        if (m.holding && !m.stopping
            && ((m.hold_end && now >= m.hold_end)
                || conf->hold_ms == 0
                || (sum->open == 0 && sum->reconnecting == 0)))
        {
            if (sum->open == 0 && sum->reconnecting == 0
                && sum->established)
            {
                fprintf(stderr, "gwload: no connection left open\n");
            }

            m.stopping = 1;
            gwload_signal_children(children, conf->procs, SIGUSR1);
        }

        if (now >= m.next_tick) {
            gwload_monitor_progress(&m, now);

            while (m.next_tick <= now) {
                m.next_tick += GWLOAD_NSEC;
            }
        }
    }

    now = gwload_now();

    gwload_stats_sum(shm, sum, 1);

    if (m.progress) {
        gwload_stats_progress(conf, sum, (now - shm->start_ns) / 1e9, 0, 0,
                              m.tty);

        if (m.tty) {
            fprintf(stderr, "\n");
        }
    }

    r->duration = (now - shm->start_ns) / 1e9;
    r->establish = sum->last_established_ns
                   ? (sum->last_established_ns - shm->start_ns) / 1e9 : 0;

    r->core_ok = (sum->established == conf->connections
                  && sum->failed == 0
                  && sum->dropped == 0
                  && sum->aborted == 0
                  && r->workers_lost == 0);

    r->proto_ok = 1;

    if (conf->proto->result) {
        r->proto_ok = conf->proto->result(conf, r, r->proto_why,
                                          sizeof(r->proto_why))
                      ? 1 : 0;
    }

    gwload_monitor_probe(conf, r);

    r->ok = r->core_ok && r->proto_ok;
}


/* the probes' verdict joins the protocol's (--expect-messages) */

static void
gwload_monitor_probe(gwload_conf_t *conf, gwload_result_t *r)
{
    int     ok;
    char    why[160];
    size_t  len;

    ok = gwload_probe_result(conf, r, why, sizeof(why));

    if (why[0] == '\0' || (ok && !r->proto_ok)) {
        return;
    }

    if (!ok && r->proto_ok) {
        /* the protocol's own note on success does not explain a failure */
        r->proto_why[0] = '\0';
    }

    len = strlen(r->proto_why);

    snprintf(r->proto_why + len, sizeof(r->proto_why) - len, "%s%s",
             len ? "; " : "", why);

    if (!ok) {
        r->proto_ok = 0;
    }
}


static void
gwload_monitor_reap(gwload_monitor_t *m)
{
    int        status;
    pid_t      pid;
    unsigned   i;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {

        for (i = 0; i < m->conf->procs; i++) {
            if (m->children[i].pid == pid && m->children[i].alive) {
                break;
            }
        }

        if (i == m->conf->procs) {
            continue;
        }

        m->children[i].alive = 0;
        m->alive--;

        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            continue;
        }

        m->r->workers_lost++;

        if (WIFSIGNALED(status)) {
            fprintf(stderr, "gwload: worker %u killed by signal %d\n", i,
                    WTERMSIG(status));

        } else {
            fprintf(stderr, "gwload: worker %u exited with status %d\n", i,
                    WEXITSTATUS(status));
        }
    }
}


/* the hold starts once every live worker has ended all its attempts */

static void
gwload_monitor_hold(gwload_monitor_t *m, uint64_t now)
{
    char              extra[128];
    unsigned          i;
    gwload_conf_t    *conf;
    gwload_wstats_t  *sum;

    conf = m->conf;
    sum = &m->r->sum;

    for (i = 0; i < conf->procs; i++) {
        if (m->children[i].alive
            && m->shm->w[i].phase < GWLOAD_PHASE_HOLDING)
        {
            return;
        }
    }

    m->holding = 1;
    m->hold_end = (conf->hold_ms < 0) ? 0 : now + conf->hold_ms * GWLOAD_MSEC;

    if (m->progress) {
        gwload_monitor_progress(m, now);
    }

    extra[0] = '\0';

    if (conf->proto->progress) {
        conf->proto->progress(conf, sum, extra, sizeof(extra));
    }

    fprintf(stderr, "%sgwload: %" PRIu64 " of %" PRIu64 " established, %"
            PRIu64 " failed, %s%safter %.2f s; ",
            (m->progress && m->tty) ? "\n" : "",
            sum->established, conf->connections, sum->failed, extra,
            extra[0] ? ", " : "", (now - m->shm->start_ns) / 1e9);

    if (sum->open == 0 && sum->reconnecting == 0) {
        fprintf(stderr, "nothing to hold\n");

    } else if (conf->hold_ms < 0) {
        fprintf(stderr, "holding until SIGINT/SIGTERM\n");

    } else {
        fprintf(stderr, "holding for %.1f s\n", conf->hold_ms / 1000.0);
    }
}


static void
gwload_monitor_progress(gwload_monitor_t *m, uint64_t now)
{
    double            rate, drate, secs;
    gwload_wstats_t  *sum;

    sum = &m->r->sum;

    secs = (now > m->last_at) ? (now - m->last_at) / 1e9 : 0;

    rate = secs ? (sum->established - m->last_est) / secs : 0;
    drate = secs ? (sum->probe.deliveries - m->last_deliveries) / secs : 0;

    m->last_est = sum->established;
    m->last_deliveries = sum->probe.deliveries;
    m->last_at = now;

    if (m->progress) {
        gwload_stats_progress(m->conf, sum, (now - m->shm->start_ns) / 1e9,
                              rate, drate, m->tty);
    }
}


static void
gwload_signal_children(gwload_child_t *children, unsigned n, int sig)
{
    unsigned  i;

    for (i = 0; i < n; i++) {
        if (children[i].alive) {
            (void) kill(children[i].pid, sig);
        }
    }
}


static void
gwload_usage(FILE *f)
{
    fprintf(f,
"usage: gwload --url ws://HOST[:PORT]/PATH [options]\n"
"\n"
"  -u, --url URL            ws:// URL to connect to (IPv4)\n"
"  -n, --connections N      connections in total [1]\n"
"  -r, --rate R             new connections per second in total, 0: no "
"limit [2000]\n"
"  -p, --procs P            worker processes [ceil(N / %d)]\n"
"      --src-from ADDR      first source address [127.0.0.2]\n"
"      --src-count K        source addresses, round-robin "
"[ceil(N / %d)]\n"
"  -H, --hold S|forever     hold after the last is established [0]\n"
"      --ping-interval MS   send a ping every MS per connection [0: off]\n"
"      --progress           progress line on stderr every second\n"
"      --no-progress        no progress line (default: when a tty)\n"
"      --json FILE          also write the summary as JSON (- for stdout)\n"
"  -t, --timeout S          connect + handshake timeout, and close "
"timeout [10]\n"
"      --header 'N: v'      extra request header (repeatable)\n"
"      --protocol NAME      protocol driver: ws, gateway [ws]\n"
"      --proto-opt K=V      protocol option (repeatable)\n"
"      --expect-messages N|@FILE  each connection must get N probe "
"messages;\n"
"                           @FILE: read N at the end (a number, or "
"\"accepted\"\n"
"                           of a gwload publish --json file)\n"
"      --version, --help\n"
"\n"
"Probes: a text message (ws) or a dispatch's d.content (gateway) that "
"holds\n"
"gwload:<CLOCK_REALTIME ns>[:<n>] is a delivery, timed from that stamp.\n"
"\n"
"  gwload publish --url http://HOST[:PORT]/PATH --body TEMPLATE [options]\n"
"                           POSTs messages with probes (%%T) at paced "
"rates;\n"
"                           see gwload publish --help\n"
"\n"
"Protocol gateway (Discord Gateway v10, JSON; the URL gets "
"?v=10&encoding=json\n"
"unless it has a query), --proto-opt:\n"
"  tokens=FILE              one per line; connection i uses line i mod "
"count\n"
"  intents=N                [513]\n"
"  shard=I,N | shards=N     [I, N] for all, or [i mod N, N] for "
"connection i\n"
"  large_threshold=N        sent in Identify when given\n"
"  zombie=count|close       un-ACKed beat: count it, or also close 4200 "
"[count]\n"
"  identify=1|0             0: no Identify, wait for Hello only [1]\n"
"  identify_timeout=S       from the 101 to identified, per connection "
"[30]\n"
"  resume=1|0               reconnect a lost session and Resume it (op 9 "
"d:false:\n"
"                           Identify again) [1]\n"
"  backoff=MIN-MAX          first reconnect after a random MIN..MAX ms, "
"then\n"
"                           doubling; 0: at once [1000-5000]\n"
"\n"
"Protocol ws, --proto-opt:\n"
"  probes=1|0               scan text messages for probes (and "
"reassemble\n"
"                           fragmented ones) [1]\n"
"\n"
"Exit status: 0 when every connection was established and held (with "
"the gateway\n"
"protocol: and identified, with no sequence error and no undecodable "
"message,\n"
"and every session lost while held resumed or re-identified;\n"
"with --expect-messages: and every connection got its probes),\n"
"1 otherwise, 2 on a usage or setup error.\n",
            GWLOAD_CONNS_PER_PROC, GWLOAD_CONNS_PER_SRC);
}
