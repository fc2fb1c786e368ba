
/*
 * gwload publish: POST messages with latency probes at paced rates.
 *
 *   gwload publish --url http://HOST[:PORT]/PATH --body TEMPLATE
 *                  [--rates R1,R2,... --step S | --rate R --duration S]
 *                  [--connections C] [--header 'N: v']... [--json FILE]
 *
 * One process, one epoll loop, C keep-alive HTTP/1.1 connections with at
 * most one request outstanding on each (no pipelining).  A token bucket at
 * the current step's rate releases messages; a message goes out on a free
 * connection, its body built from the template at that moment, so that
 * the probe's CLOCK_REALTIME stamp (gwload_probe.h) is the send time.
 * Tokens that find no free connection pile up to a small burst and are
 * then counted as skipped: the achieved rate falls short of the target,
 * and says so, instead of catching up later in a burst.
 *
 * Message numbers n run 0, 1, 2, ... over the whole run, whatever the
 * outcome of each request; a subscriber's gwload counts them per message
 * and per connection (--expect-messages).
 */


#include "gwload.h"
#include "gwload_publish.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>


#define GWLOAD_PUB_CONNS            4
#define GWLOAD_PUB_CONNS_MAX        1024
#define GWLOAD_PUB_STEPS_MAX        256
#define GWLOAD_PUB_RBUF             (64 * 1024)
#define GWLOAD_PUB_EVENTS           256

/* a failed connect is retried after this long */
#define GWLOAD_PUB_RETRY_MS         100

/*
 * The bucket holds at least 2 tokens (a late wake-up must not lose one)
 * or 10 ms of them at high rates.
 */
#define GWLOAD_PUB_BURST_MIN        2.0
#define GWLOAD_PUB_BURST_S          0.01

/* the request line and headers besides --header */
#define GWLOAD_PUB_HEAD_MAX         1024


static int gwload_pub_options(gwload_pub_t *p, int argc, char **argv);
static int gwload_pub_option(gwload_pub_t *p, int ch, double *rate,
    double *duration, char **rates);
static const char *gwload_pub_option_name(int ch);
static int gwload_pub_steps(gwload_pub_t *p, double rate, double duration,
    char *rates);
static int gwload_pub_url(gwload_pub_t *p);
static int gwload_pub_header(gwload_pub_t *p, const char *h);
static int gwload_pub_init(gwload_pub_t *p);
static void gwload_pub_free(gwload_pub_t *p);
static void gwload_pub_run(gwload_pub_t *p);
static uint64_t gwload_pub_schedule(gwload_pub_t *p);
static void gwload_pub_send_due(gwload_pub_t *p, gwload_pub_step_t *st,
    uint64_t until);
static void gwload_pub_step(gwload_pub_t *p, unsigned k);
static gwload_pub_conn_t *gwload_pub_free_conn(gwload_pub_t *p);
static void gwload_pub_request(gwload_pub_t *p, gwload_pub_conn_t *c);
static uint64_t gwload_pub_conns_due(gwload_pub_t *p);
static void gwload_pub_connect(gwload_pub_t *p, gwload_pub_conn_t *c);
static void gwload_pub_event(gwload_pub_t *p, gwload_pub_conn_t *c,
    uint32_t events);
static void gwload_pub_flush(gwload_pub_t *p, gwload_pub_conn_t *c);
static void gwload_pub_read(gwload_pub_t *p, gwload_pub_conn_t *c);
static void gwload_pub_response(gwload_pub_t *p, gwload_pub_conn_t *c);
static void gwload_pub_fail(gwload_pub_t *p, gwload_pub_conn_t *c,
    gwload_pub_err_e err, int errnum);
static void gwload_pub_close(gwload_pub_t *p, gwload_pub_conn_t *c,
    uint64_t retry_ms);
static int gwload_pub_signal(gwload_pub_t *p);
static void gwload_pub_usage(FILE *f);


static struct option  gwload_pub_long_options[] = {
    { "url",            required_argument, NULL, 'u' },
    { "body",           required_argument, NULL, 'b' },
    { "header",         required_argument, NULL, 'h' },
    { "rate",           required_argument, NULL, 'r' },
    { "duration",       required_argument, NULL, 'd' },
    { "rates",          required_argument, NULL, 'R' },
    { "step",           required_argument, NULL, 's' },
    { "connections",    required_argument, NULL, 'n' },
    { "timeout",        required_argument, NULL, 't' },
    { "json",           required_argument, NULL, 'j' },
    { "progress",       no_argument,       NULL, 'P' },
    { "no-progress",    no_argument,       NULL, 'Q' },
    { "help",           no_argument,       NULL, '?' + 256 },
    { "version",        no_argument,       NULL, 'V' },
    { NULL, 0, NULL, 0 }
};


static const char  *gwload_pub_err_what[GWLOAD_PUB_ERR_MAX] = {
    "connect() failed",
    "connection lost before the response",
    "no response within --timeout",
    "malformed HTTP response",
    "a response other than 2xx"
};


int
gwload_publish_main(int argc, char **argv)
{
    int            rc;
    gwload_pub_t  *p;

    p = calloc(1, sizeof(gwload_pub_t));
    if (p == NULL) {
        fprintf(stderr, "gwload publish: out of memory\n");
        return 2;
    }

    rc = gwload_pub_options(p, argc, argv);

    if (rc != GWLOAD_OK) {
        gwload_pub_free(p);
        return (rc == GWLOAD_DONE) ? 0 : 2;
    }

    if (gwload_pub_init(p) != GWLOAD_OK) {
        gwload_pub_free(p);
        return 2;
    }

    gwload_pub_run(p);

    gwload_pub_report(p, stdout);
    fflush(stdout);

    rc = gwload_pub_ok(p) ? 0 : 1;

    if (p->json && gwload_pub_json(p, p->json) != GWLOAD_OK) {
        rc = 1;
    }

    gwload_pub_free(p);

    return rc;
}


static int
gwload_pub_options(gwload_pub_t *p, int argc, char **argv)
{
    int     ch, rc;
    char   *rates;
    double  rate, duration;

    p->nconns = GWLOAD_PUB_CONNS;
    p->timeout_ms = 10000;
    p->progress = -1;
    p->content_type = 1;
    p->ep = -1;
    p->sigfd = -1;

    rate = -1;
    duration = -1;
    rates = NULL;

    opterr = 0;
    optind = 1;

    for ( ;; ) {
        ch = getopt_long(argc, argv, "u:r:d:n:t:", gwload_pub_long_options,
                         NULL);
        if (ch == -1) {
            break;
        }

        rc = gwload_pub_option(p, ch, &rate, &duration, &rates);

        if (rc == GWLOAD_AGAIN) {
            fprintf(stderr, "gwload publish: invalid value \"%s\" for "
                    "--%s\n", optarg, gwload_pub_option_name(ch));
            return GWLOAD_ERROR;
        }

        if (rc != GWLOAD_OK) {
            return rc;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "gwload publish: unexpected argument \"%s\"\n",
                argv[optind]);
        return GWLOAD_ERROR;
    }

    if (p->url == NULL || p->body_tpl == NULL) {
        fprintf(stderr, "gwload publish: --url and --body are required\n");
        gwload_pub_usage(stderr);
        return GWLOAD_ERROR;
    }

    if (gwload_http_body_init(&p->body, p->body_tpl) != GWLOAD_OK) {
        fprintf(stderr, "gwload publish: --body: \"%%\" must be followed by "
                "T (the probe), N (the message number) or %%\n");
        return GWLOAD_ERROR;
    }

    if (gwload_pub_steps(p, rate, duration, rates) != GWLOAD_OK) {
        return GWLOAD_ERROR;
    }

    return gwload_pub_url(p);
}


static int
gwload_pub_option(gwload_pub_t *p, int ch, double *rate, double *duration,
    char **rates)
{
    char           *end;
    double          d;
    unsigned long   n;

    errno = 0;
    end = NULL;

    switch (ch) {

    case 'u':
        p->url = optarg;
        break;

    case 'b':
        p->body_tpl = optarg;
        break;

    case 'h':
        return gwload_pub_header(p, optarg);

    case 'r':
    case 'd':
    case 's':
        d = strtod(optarg, &end);
        if (*optarg == '\0' || *end || errno || !(d > 0) || d > 1e9) {
            return GWLOAD_AGAIN;
        }

        if (ch == 'r') {
            *rate = d;

        } else if (ch == 'd') {
            *duration = d;

        } else {
            p->step_s = d;
        }

        break;

    case 'R':
        *rates = optarg;
        break;

    case 'n':
        n = strtoul(optarg, &end, 10);
        if (*end || errno || n == 0 || n > GWLOAD_PUB_CONNS_MAX) {
            return GWLOAD_AGAIN;
        }

        p->nconns = (unsigned) n;
        break;

    case 't':
        d = strtod(optarg, &end);
        if (*end || errno || !(d > 0) || d > 1e6) {
            return GWLOAD_AGAIN;
        }

        p->timeout_ms = (uint64_t) (d * 1000);
        p->timeout_ms = p->timeout_ms ? p->timeout_ms : 1;
        break;

    case 'j':
        p->json = optarg;
        break;

    case 'P':
        p->progress = 1;
        break;

    case 'Q':
        p->progress = 0;
        break;

    case 'V':
        printf("gwload %s\n", GWLOAD_VERSION);
        return GWLOAD_DONE;

    case '?' + 256:
        gwload_pub_usage(stdout);
        return GWLOAD_DONE;

    default:
        fprintf(stderr, "gwload publish: unknown option or missing value\n");
        gwload_pub_usage(stderr);
        return GWLOAD_ERROR;
    }

    return GWLOAD_OK;
}


static const char *
gwload_pub_option_name(int ch)
{
    struct option  *o;

    for (o = gwload_pub_long_options; o->name; o++) {
        if (o->val == ch) {
            return o->name;
        }
    }

    return "?";
}


/* --rates R1,R2,... --step S, or --rate R --duration S */

static int
gwload_pub_steps(gwload_pub_t *p, double rate, double duration, char *rates)
{
    char      *s, *end;
    double     d;
    unsigned   k;

    if ((rates == NULL) == (rate < 0)) {
        fprintf(stderr, "gwload publish: give --rates R1,R2,... --step S, "
                "or --rate R --duration S\n");
        return GWLOAD_ERROR;
    }

    if (rates && (p->step_s <= 0 || duration >= 0)) {
        fprintf(stderr, "gwload publish: --rates goes with --step S (and "
                "not --duration)\n");
        return GWLOAD_ERROR;
    }

    if (rates == NULL && (duration < 0 || p->step_s > 0)) {
        fprintf(stderr, "gwload publish: --rate goes with --duration S "
                "(and not --step)\n");
        return GWLOAD_ERROR;
    }

    p->steps = calloc(GWLOAD_PUB_STEPS_MAX, sizeof(gwload_pub_step_t));
    if (p->steps == NULL) {
        return GWLOAD_ERROR;
    }

    if (rates == NULL) {
        p->steps[0].rate = rate;
        p->step_s = duration;
        p->nsteps = 1;
        return GWLOAD_OK;
    }

    for (s = rates, k = 0; *s; k++) {
        errno = 0;
        d = strtod(s, &end);

        if (end == s || errno || !(d > 0) || d > 1e9
            || (*end != ',' && *end != '\0') || k == GWLOAD_PUB_STEPS_MAX)
        {
            fprintf(stderr, "gwload publish: bad --rates \"%s\" (at most %d "
                    "positive numbers, comma-separated)\n", rates,
                    GWLOAD_PUB_STEPS_MAX);
            return GWLOAD_ERROR;
        }

        p->steps[k].rate = d;
        s = (*end == ',') ? end + 1 : end;
    }

    p->nsteps = k;

    return k ? GWLOAD_OK : GWLOAD_ERROR;
}


/* http://host[:port][/path[?query]]; IPv4 */

static int
gwload_pub_url(gwload_pub_t *p)
{
    const char       *why;
    gwload_ws_url_t   u;

    if (gwload_url(p->url, strlen(p->url), "http", &u) != GWLOAD_OK
        || u.host_len >= sizeof(p->host) || (u.path_len == 0 && u.query_len))
    {
        if (u.bad && strcmp(u.bad, "scheme") == 0) {
            fprintf(stderr, "gwload publish: --url must start with http:// "
                    "(https is not supported)\n");

        } else if (u.bad && strcmp(u.bad, "port") == 0) {
            fprintf(stderr, "gwload publish: bad port in \"%s\"\n", p->url);

        } else {
            fprintf(stderr, "gwload publish: bad --url \"%s\"\n", p->url);
        }

        return GWLOAD_ERROR;
    }

    memcpy(p->host, u.host, u.host_len);
    p->host[u.host_len] = '\0';

    p->path = u.path_len ? (char *) u.path : "/";

    if (gwload_resolve(&u, &p->dst, &why) != GWLOAD_OK) {
        fprintf(stderr, "gwload publish: cannot resolve \"%.*s\": %s\n",
                (int) u.name_len, u.name, why);
        return GWLOAD_ERROR;
    }

    return GWLOAD_OK;
}


static int
gwload_pub_header(gwload_pub_t *p, const char *h)
{
    size_t  name_len;

    /* the name, if it is one; gwload_header_add() judges the rest */
    name_len = strcspn(h, ":");

    if ((name_len == 14 && strncasecmp(h, "Content-Length", 14) == 0)
        || (name_len == 4 && strncasecmp(h, "Host", 4) == 0))
    {
        fprintf(stderr, "gwload publish: --header: gwload sets %.*s "
                "itself\n", (int) name_len, h);
        return GWLOAD_ERROR;
    }

    if (gwload_header_add(&p->headers, &p->headers_len, h, "gwload publish")
        != GWLOAD_OK)
    {
        return GWLOAD_ERROR;
    }

    if (name_len == 12 && strncasecmp(h, "Content-Type", 12) == 0) {
        p->content_type = 0;
    }

    return GWLOAD_OK;
}


static int
gwload_pub_init(gwload_pub_t *p)
{
    size_t               size;
    unsigned             i;
    sigset_t             set;
    struct epoll_event   ev;

    p->conns = calloc(p->nconns, sizeof(gwload_pub_conn_t));
    p->rbuf = malloc(GWLOAD_PUB_RBUF);
    p->scratch = malloc(gwload_http_body_max(&p->body) + 1);

    if (p->conns == NULL || p->rbuf == NULL || p->scratch == NULL) {
        goto nomem;
    }

    size = GWLOAD_PUB_HEAD_MAX + strlen(p->path) + strlen(p->host)
           + p->headers_len + gwload_http_body_max(&p->body);

    for (i = 0; i < p->nconns; i++) {
        p->conns[i].fd = -1;
        p->conns[i].req = malloc(size);
        p->conns[i].req_cap = size;

        if (p->conns[i].req == NULL) {
            goto nomem;
        }
    }

    /* signals come in through a signalfd: one loop, no handlers */

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);

    signal(SIGPIPE, SIG_IGN);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        return GWLOAD_ERROR;
    }

    p->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    p->ep = epoll_create1(EPOLL_CLOEXEC);

    if (p->sigfd == -1 || p->ep == -1) {
        fprintf(stderr, "gwload publish: signalfd()/epoll_create1(): %s\n",
                strerror(errno));
        return GWLOAD_ERROR;
    }

    ev.events = EPOLLIN;
    ev.data.ptr = NULL;

    if (epoll_ctl(p->ep, EPOLL_CTL_ADD, p->sigfd, &ev) == -1) {
        return GWLOAD_ERROR;
    }

    p->tty = isatty(STDERR_FILENO) ? 1 : 0;

    if (p->progress == -1) {
        p->progress = p->tty;
    }

    return GWLOAD_OK;

nomem:

    fprintf(stderr, "gwload publish: out of memory\n");

    return GWLOAD_ERROR;
}


static void
gwload_pub_free(gwload_pub_t *p)
{
    unsigned  i;

    if (p->conns) {
        for (i = 0; i < p->nconns; i++) {
            if (p->conns[i].fd != -1) {
                close(p->conns[i].fd);
            }

            free(p->conns[i].req);
        }
    }

    if (p->ep != -1) {
        close(p->ep);
    }

    if (p->sigfd != -1) {
        close(p->sigfd);
    }

    free(p->conns);
    free(p->steps);
    free(p->rbuf);
    free(p->scratch);
    free(p->headers);
    free(p);
}


static void
gwload_pub_run(gwload_pub_t *p)
{
    int                  i, n, timeout;
    unsigned             k;
    uint64_t             next, t;
    struct epoll_event   events[GWLOAD_PUB_EVENTS];

    p->now = gwload_now();
    p->start_ns = p->now;
    p->start_unix_ns = gwload_realtime();
    p->next_tick = p->now + GWLOAD_NSEC;

    for (k = 0; k < p->nconns; k++) {
        gwload_pub_connect(p, &p->conns[k]);
    }

    /* the first message goes as soon as a connection is up */

    p->tokens = 1;
    gwload_pub_step(p, 0);

    for ( ;; ) {
        p->now = gwload_now();

        next = gwload_pub_schedule(p);

        if (p->cur == p->nsteps
            && (p->outstanding == 0 || p->now >= p->drain_end))
        {
            break;
        }

        t = gwload_pub_conns_due(p);
        next = (t && (next == 0 || t < next)) ? t : next;

        if (p->now >= p->next_tick) {
            if (p->progress) {
                gwload_pub_progress(p);
            }

            while (p->next_tick <= p->now) {
                p->next_tick += GWLOAD_NSEC;
            }
        }

        next = (next == 0 || p->next_tick < next) ? p->next_tick : next;

        /* round up: waking early would spin until the deadline */

        timeout = (next <= p->now)
                  ? 0 : (int) ((next - p->now + GWLOAD_MSEC - 1) / GWLOAD_MSEC);

        n = epoll_wait(p->ep, events, GWLOAD_PUB_EVENTS, timeout);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            fprintf(stderr, "gwload publish: epoll_wait(): %s\n",
                    strerror(errno));
            break;
        }

        for (i = 0; i < n; i++) {
            p->now = gwload_now();

            if (events[i].data.ptr == NULL) {
                if (gwload_pub_signal(p) == GWLOAD_DONE) {
                    goto done;
                }

                continue;
            }

            gwload_pub_event(p, events[i].data.ptr, events[i].events);
        }
    }

done:

    /* whatever is still outstanding got no answer in time */

    p->now = gwload_now();

    for (k = 0; k < p->nconns; k++) {
        if (p->conns[k].state == GWLOAD_PUB_BUSY) {
            gwload_pub_fail(p, &p->conns[k], GWLOAD_PUB_ERR_TIMEOUT, 0);
        }

        gwload_pub_close(p, &p->conns[k], 0);
    }

    p->end_ns = p->now;

    if (p->progress) {
        gwload_pub_progress(p);
    }
}


/*
 * Steps and tokens: move to the next step when this one is over, send
 * what the bucket allows; returns when something is due next (ns, 0: no
 * token pending).
 */

static uint64_t
gwload_pub_schedule(gwload_pub_t *p)
{
    double              missed;
    gwload_pub_step_t  *st;

    while (p->cur < p->nsteps
           && (p->stopping || p->now >= p->steps[p->cur].end_ns))
    {
        st = &p->steps[p->cur];

        if (p->stopping && p->now < st->end_ns) {
            st->end_ns = p->now;

        } else if (!p->stopping) {
            /*
             * A wake-up that comes late (a busy machine) still sends the
             * tokens that fell due inside the step, up to its last
             * nanosecond: --rate R --duration S is R x S messages.
             */
            gwload_pub_send_due(p, st, st->end_ns - 1);
        }

        if (p->stopping || p->cur + 1 == p->nsteps) {
            p->cur = p->nsteps;
            p->drain_end = p->now + p->timeout_ms * GWLOAD_MSEC;
            break;
        }

        gwload_pub_step(p, p->cur + 1);
    }

    if (p->cur == p->nsteps) {
        return 0;
    }

    st = &p->steps[p->cur];

    gwload_pub_send_due(p, st, p->now);

    if (p->tokens > p->burst) {
        missed = p->tokens - p->burst;
        st->skipped += missed;
        p->tokens = p->burst;
    }

    if (p->tokens >= 1) {
        /* tokens, but no free connection: an event will wake us */
        return st->end_ns;
    }

    return p->tokens_at + (uint64_t) ((1 - p->tokens) * 1e9 / st->rate) + 1;
}


/* credit the tokens of the step up to "until", send what they allow */

static void
gwload_pub_send_due(gwload_pub_t *p, gwload_pub_step_t *st, uint64_t until)
{
    gwload_pub_conn_t  *c;

    if (until > p->tokens_at) {
        p->tokens += (double) (until - p->tokens_at) * st->rate / 1e9;
        p->tokens_at = until;
    }

    while (p->tokens >= 1) {
        c = gwload_pub_free_conn(p);

        if (c == NULL) {
            break;
        }

        p->tokens -= 1;
        gwload_pub_request(p, c);
    }
}


/* step k starts where the previous one was planned to end: no drift */

static void
gwload_pub_step(gwload_pub_t *p, unsigned k)
{
    gwload_pub_step_t  *st;

    st = &p->steps[k];

    st->start_ns = k ? p->steps[k - 1].end_ns : p->now;
    st->end_ns = st->start_ns + (uint64_t) (p->step_s * 1e9);
    st->first_n = p->next_n;

    p->cur = k;
    /* a late start is caught up, within the burst (the rest: skipped) */
    p->tokens_at = st->start_ns;
    p->burst = st->rate * GWLOAD_PUB_BURST_S;

    if (p->burst < GWLOAD_PUB_BURST_MIN) {
        p->burst = GWLOAD_PUB_BURST_MIN;
    }
}


static gwload_pub_conn_t *
gwload_pub_free_conn(gwload_pub_t *p)
{
    unsigned            i;
    gwload_pub_conn_t  *c;

    for (i = 0; i < p->nconns; i++) {
        c = &p->conns[(p->rr + i) % p->nconns];

        if (c->state == GWLOAD_PUB_READY) {
            p->rr = (p->rr + i + 1) % p->nconns;
            return c;
        }
    }

    return NULL;
}


/* message n: the body from the template now, so the probe is the send time */

static void
gwload_pub_request(gwload_pub_t *p, gwload_pub_conn_t *c)
{
    size_t              blen, hlen;
    uint64_t            n;
    gwload_pub_step_t  *st;

    st = &p->steps[p->cur];
    n = p->next_n++;

    blen = gwload_http_body(p->scratch, &p->body, gwload_realtime(), n);

    hlen = gwload_http_request(c->req, c->req_cap - blen, p->path, p->host,
                               p->headers, p->headers_len, p->content_type,
                               blen);

    memcpy(c->req + hlen, p->scratch, blen);

    c->state = GWLOAD_PUB_BUSY;
    c->step = p->cur;
    c->n = n;
    c->sent_ns = gwload_now();
    c->out_len = hlen + blen;
    c->out_pos = 0;

    gwload_http_resp_init(&c->resp);

    st->sent++;
    p->outstanding++;

    gwload_pub_flush(p, c);
}


/* timeouts and reconnects that are due; returns the next deadline */

static uint64_t
gwload_pub_conns_due(gwload_pub_t *p)
{
    unsigned            i;
    uint64_t            next, t;
    gwload_pub_conn_t  *c;

    next = 0;

    for (i = 0; i < p->nconns; i++) {
        c = &p->conns[i];

        switch (c->state) {

        case GWLOAD_PUB_IDLE:
            if (p->cur == p->nsteps) {
                continue;
            }

            if (p->now < c->retry_at) {
                t = c->retry_at;
                break;
            }

            gwload_pub_connect(p, c);

            if (c->state == GWLOAD_PUB_IDLE) {
                t = c->retry_at;
                break;
            }

            /* fall through */

        case GWLOAD_PUB_CONNECTING:
            t = c->since + p->timeout_ms * GWLOAD_MSEC;

            if (p->now >= t) {
                gwload_pub_fail(p, c, GWLOAD_PUB_ERR_CONNECT, ETIMEDOUT);
                gwload_pub_close(p, c, GWLOAD_PUB_RETRY_MS);
                continue;
            }

            break;

        case GWLOAD_PUB_BUSY:
            t = c->sent_ns + p->timeout_ms * GWLOAD_MSEC;

            if (p->now >= t) {
                gwload_pub_fail(p, c, GWLOAD_PUB_ERR_TIMEOUT, 0);
                gwload_pub_close(p, c, 0);
                continue;
            }

            break;

        default:
            continue;
        }

        next = (next == 0 || t < next) ? t : next;
    }

    return next;
}


static void
gwload_pub_connect(gwload_pub_t *p, gwload_pub_conn_t *c)
{
    int                  fd, one;
    struct epoll_event   ev;

    p->connects++;

    c->since = p->now;
    c->reused = 0;
    c->state = GWLOAD_PUB_CONNECTING;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        gwload_pub_fail(p, c, GWLOAD_PUB_ERR_CONNECT, errno);
        gwload_pub_close(p, c, GWLOAD_PUB_RETRY_MS);
        return;
    }

    c->fd = fd;

    one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;

    if (epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &ev) == -1
        || (connect(fd, (struct sockaddr *) &p->dst, sizeof(p->dst)) == -1
            && errno != EINPROGRESS))
    {
        gwload_pub_fail(p, c, GWLOAD_PUB_ERR_CONNECT, errno);
        gwload_pub_close(p, c, GWLOAD_PUB_RETRY_MS);
    }

    /* EPOLLOUT reports the outcome, even of an immediate connect */
}


static void
gwload_pub_event(gwload_pub_t *p, gwload_pub_conn_t *c, uint32_t events)
{
    int        err;
    socklen_t  len;

    if (c->fd == -1) {
        return;
    }

    if (c->state == GWLOAD_PUB_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            return;
        }

        err = 0;
        len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
            err = errno;
        }

        if (err) {
            gwload_pub_fail(p, c, GWLOAD_PUB_ERR_CONNECT, err);
            gwload_pub_close(p, c, GWLOAD_PUB_RETRY_MS);
            return;
        }

        c->state = GWLOAD_PUB_READY;
        return;
    }

    if ((events & EPOLLOUT) && c->state == GWLOAD_PUB_BUSY
        && c->out_pos < c->out_len)
    {
        gwload_pub_flush(p, c);

        if (c->fd == -1) {
            return;
        }
    }

    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        gwload_pub_read(p, c);
    }
}


static void
gwload_pub_flush(gwload_pub_t *p, gwload_pub_conn_t *c)
{
    ssize_t  n;

    while (c->out_pos < c->out_len) {
        n = send(c->fd, c->req + c->out_pos, c->out_len - c->out_pos,
                 MSG_NOSIGNAL);

        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }

            if (errno == EINTR) {
                continue;
            }

            gwload_pub_fail(p, c, GWLOAD_PUB_ERR_RESET, errno);
            gwload_pub_close(p, c, 0);
            return;
        }

        c->out_pos += n;
    }
}


static void
gwload_pub_read(gwload_pub_t *p, gwload_pub_conn_t *c)
{
    ssize_t             n;
    const u_char       *pos, *end;
    gwload_http_rc_e    rc;

    for ( ;; ) {
        n = recv(c->fd, p->rbuf, GWLOAD_PUB_RBUF, 0);

        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }

            if (errno == EINTR) {
                continue;
            }

            gwload_pub_fail(p, c, GWLOAD_PUB_ERR_RESET, errno);
            gwload_pub_close(p, c, 0);
            return;
        }

        if (n == 0) {
            if (c->state == GWLOAD_PUB_BUSY) {
                if (gwload_http_eof(&c->resp) == GWLOAD_HTTP_OK) {
                    gwload_pub_response(p, c);

                } else {
                    gwload_pub_fail(p, c, GWLOAD_PUB_ERR_RESET, 0);
                }

            } else {
                /* an idle keep-alive connection closed by the server */
                p->server_closes++;
            }

            gwload_pub_close(p, c, 0);
            return;
        }

        if (c->state != GWLOAD_PUB_BUSY) {
            /* bytes nobody asked for */
            gwload_pub_fail(p, c, GWLOAD_PUB_ERR_RESPONSE, 0);
            gwload_pub_close(p, c, 0);
            return;
        }

        pos = p->rbuf;
        end = p->rbuf + n;

        rc = gwload_http_parse(&c->resp, &pos, end);

        if (rc == GWLOAD_HTTP_AGAIN) {
            continue;
        }

        if (rc == GWLOAD_HTTP_ERROR || pos != end) {
            /* a bad response, or more than one response to one request */
            gwload_pub_fail(p, c, GWLOAD_PUB_ERR_RESPONSE, 0);
            gwload_pub_close(p, c, 0);
            return;
        }

        gwload_pub_response(p, c);

        if (c->resp.close) {
            gwload_pub_close(p, c, 0);
            return;
        }
    }
}


static void
gwload_pub_response(gwload_pub_t *p, gwload_pub_conn_t *c)
{
    int                 code;
    unsigned            i;
    uint64_t            us;
    gwload_pub_step_t  *st;

    st = &p->steps[c->step];
    code = c->resp.status;
    us = (gwload_now() - c->sent_ns) / GWLOAD_USEC;

    gwload_hist_add(&st->post, us);
    gwload_hist_add(&p->post, us);

    for (i = 0; i < p->nstatus && p->status[i].code != code; i++) {
        /* void */
    }

    if (i < p->nstatus) {
        p->status[i].n++;

    } else if (i < GWLOAD_PUB_STATUS_MAX) {
        p->status[i].code = code;
        p->status[i].n = 1;
        p->nstatus++;

    } else {
        p->status_other++;
    }

    p->outstanding--;
    c->state = GWLOAD_PUB_READY;
    c->reused = 1;

    if (code >= 200 && code < 300) {
        st->accepted++;
        return;
    }

    st->errors++;
    p->errors[GWLOAD_PUB_ERR_STATUS]++;

    if (!p->warned[GWLOAD_PUB_ERR_STATUS]++) {
        fprintf(stderr, "%sgwload publish: message %" PRIu64 ": HTTP %d "
                "(further ones are only counted)\n",
                p->tty && p->progress ? "\r\033[K" : "", c->n, code);
    }
}


/* a request (or a connect) failed: count it once, warn once per kind */

static void
gwload_pub_fail(gwload_pub_t *p, gwload_pub_conn_t *c, gwload_pub_err_e err,
    int errnum)
{
    if (c->state == GWLOAD_PUB_BUSY) {
        p->steps[c->step].errors++;
        p->outstanding--;
        c->state = GWLOAD_PUB_READY;

    } else if (err != GWLOAD_PUB_ERR_CONNECT) {
        /* nothing was outstanding: not a lost message */
        return;
    }

    p->errors[err]++;

    if (p->warned[err]++) {
        return;
    }

    fprintf(stderr, "%sgwload publish: %s%s%s%s (further ones are only "
            "counted)\n",
            p->tty && p->progress ? "\r\033[K" : "", gwload_pub_err_what[err],
            errnum ? ": " : "",
            errnum && strerrorname_np(errnum) ? strerrorname_np(errnum) : "",
            err == GWLOAD_PUB_ERR_RESET && c->reused
            ? " (a reused keep-alive connection)" : "");
}


static void
gwload_pub_close(gwload_pub_t *p, gwload_pub_conn_t *c, uint64_t retry_ms)
{
    if (c->fd != -1) {
        close(c->fd);
        c->fd = -1;
    }

    c->state = GWLOAD_PUB_IDLE;
    c->retry_at = p->now + retry_ms * GWLOAD_MSEC;
}


/* the first SIGINT/SIGTERM ends the steps and drains; a second one exits */

static int
gwload_pub_signal(gwload_pub_t *p)
{
    ssize_t                   n;
    struct signalfd_siginfo   si;

    for ( ;; ) {
        n = read(p->sigfd, &si, sizeof(si));

        if (n != sizeof(si)) {
            return GWLOAD_OK;
        }

        if (p->stopping) {
            return GWLOAD_DONE;
        }

        fprintf(stderr, "%sgwload publish: %s: stopping, waiting for the "
                "responses (again to exit at once)\n",
                p->tty && p->progress ? "\r\033[K" : "",
                si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");

        p->stopping = 1;
        p->interrupted = 1;
    }
}


static void
gwload_pub_usage(FILE *f)
{
    fprintf(f,
"usage: gwload publish --url http://HOST[:PORT]/PATH --body TEMPLATE\n"
"                      (--rates R1,R2,... --step S | --rate R --duration S)"
"\n"
"                      [options]\n"
"\n"
"  -u, --url URL            http:// URL to POST to (IPv4)\n"
"      --body TEMPLATE      request body; %%T is the probe "
"gwload:<ns>:<n>,\n"
"                           %%N the message number n, %%%% a %%\n"
"  -r, --rate R             messages per second ...\n"
"  -d, --duration S         ... for S seconds\n"
"      --rates R1,R2,...    or each rate in turn ...\n"
"      --step S             ... for S seconds each\n"
"  -n, --connections C      keep-alive connections, one request "
"outstanding\n"
"                           on each [%d]\n"
"      --header 'N: v'      extra request header (repeatable); "
"Content-Type\n"
"                           is application/json unless given\n"
"  -t, --timeout S          connect and response timeout [10]\n"
"      --json FILE          also write the summary as JSON (- for stdout)\n"
"      --progress           progress line on stderr every second\n"
"      --no-progress        no progress line (default: when a tty)\n"
"      --version, --help\n"
"\n"
"Message numbers n run from 0 over the whole run.  Exit status: 0 when "
"every\n"
"request got a 2xx, 1 otherwise, 2 on a usage or setup error.\n",
            GWLOAD_PUB_CONNS);
}
