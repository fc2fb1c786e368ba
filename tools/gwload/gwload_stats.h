
/*
 * gwload: counters, latency histograms, progress line and final report.
 *
 * Every worker owns one gwload_wstats_t slot in a MAP_SHARED anonymous
 * mapping created by the parent before fork().  Only the worker writes its
 * slot; the parent reads the counters live (for the progress line) and the
 * histograms once the worker has exited (waitpid() orders the reads).
 */


#ifndef _GWLOAD_STATS_H_INCLUDED_
#define _GWLOAD_STATS_H_INCLUDED_


/*
 * Log-linear histogram of microsecond values: values below 64 are exact,
 * above that each power of two is split into 32 buckets (at most 3.1%
 * error).  1216 buckets reach 2^40 us (12 days).
 */
#define GWLOAD_HIST_SUB_BITS        5
#define GWLOAD_HIST_SUB             (1 << GWLOAD_HIST_SUB_BITS)
#define GWLOAD_HIST_MAX_BITS        40
#define GWLOAD_HIST_BUCKETS                                                   \
    ((GWLOAD_HIST_MAX_BITS - GWLOAD_HIST_SUB_BITS + 1) * GWLOAD_HIST_SUB     \
     + GWLOAD_HIST_SUB)


struct gwload_hist_s {
    uint64_t                    n;
    uint64_t                    sum;         /* us */
    uint64_t                    max;         /* us */
    uint64_t                    min;         /* us, valid when n > 0 */
    uint64_t                    counts[GWLOAD_HIST_BUCKETS];
};


/* why a connection attempt failed before the 101 was accepted */
typedef enum {
    GWLOAD_FAIL_REFUSED = 0,     /* ECONNREFUSED */
    GWLOAD_FAIL_TIMEOUT,         /* --timeout before the 101 */
    GWLOAD_FAIL_STATUS,          /* HTTP status other than 101 */
    GWLOAD_FAIL_BAD_ACCEPT,      /* 101 with bad Sec-WebSocket-Accept/Upgrade */
    GWLOAD_FAIL_RESET,           /* ECONNRESET, EPIPE or EOF before the 101 */
    GWLOAD_FAIL_ADDR,            /* EADDRNOTAVAIL: out of local ports */
    GWLOAD_FAIL_EMFILE,          /* EMFILE/ENFILE: out of descriptors */
    GWLOAD_FAIL_OTHER,           /* malformed response, other errno */
    GWLOAD_FAIL_MAX
} gwload_fail_e;


/* why an established connection was lost before we closed it */
typedef enum {
    GWLOAD_DROP_CLOSE = 0,       /* peer sent a close frame */
    GWLOAD_DROP_EOF,             /* TCP FIN without a close frame */
    GWLOAD_DROP_RESET,           /* ECONNRESET and other socket errors */
    GWLOAD_DROP_PROTOCOL,        /* bad frame from the peer, or proto hook */
    GWLOAD_DROP_MAX
} gwload_drop_e;


typedef enum {
    GWLOAD_PHASE_STARTING = 0,
    GWLOAD_PHASE_CONNECTING,
    GWLOAD_PHASE_HOLDING,        /* every attempt has ended one way or other */
    GWLOAD_PHASE_CLOSING,
    GWLOAD_PHASE_DONE
} gwload_phase_e;


/* delivery probes (gwload_probe.h): per worker */
typedef struct {
    volatile uint64_t           deliveries;   /* probed + unprobed */
    volatile uint64_t           probed;       /* with a timestamp */
    volatile uint64_t           duplicates;   /* a :N again, same conn */
    volatile uint64_t           unchecked;    /* :N too old to check */
    volatile uint64_t           no_seq;       /* probes without :N */
    volatile uint64_t           seq_overflow; /* N >= GWLOAD_PROBE_SEQS */
    volatile uint64_t           clock_skew;   /* ts in the future */
    volatile uint64_t           series_overflow; /* past the series */
    volatile uint64_t           first_ns;     /* monotonic, 0: none */
    volatile uint64_t           last_ns;
    volatile uint64_t           seq_end;      /* highest N + 1 */
    volatile uint64_t           sec_end;      /* highest second + 1 */
    gwload_hist_t               latency;      /* publish -> receive, us */
} gwload_probe_stats_t;


/* delivery probes: what the parent works out at the end */
typedef struct {
    int64_t                     expect;       /* -1: not asked */
    uint64_t                    messages_seen;   /* distinct :N */
    uint64_t                    messages_unseen; /* no receiver below max */
    uint64_t                    receivers_min;
    uint64_t                    receivers_max;
    uint64_t                    per_conn_min;
    uint64_t                    per_conn_max;
    uint64_t                    conns_short;  /* fewer than expect */
    uint64_t                    conns_extra;  /* more than expect */
    uint64_t                    missing;      /* sum of expect - count */
    unsigned                    expect_failed:1; /* @FILE unreadable */
} gwload_probe_total_t;


/* per-protocol counters and latency histograms (gwload_proto.h) */
#define GWLOAD_PROTO_COUNTERS       96
#define GWLOAD_PROTO_HISTS          6

/*
 * per-protocol per-second series (gwload_stats_series_add()): counts per
 * wall-clock second since the start, as the probes' series
 */
#define GWLOAD_PROTO_SERIES         3
#define GWLOAD_PROTO_SECONDS        3600


/*
 * Summed counters, one X() per field: the field list, the sum and the JSON
 * report are all generated from this list.
 */
#define GWLOAD_COUNTERS(X)                                                    \
    X(planned)          /* connections assigned */                            \
    X(attempted)        /* connect() started */                               \
    X(established)      /* 101 accepted, cumulative */                        \
    X(open)             /* established and not closing, now */                \
    X(failed)           /* attempts that never got a good 101 */              \
    X(dropped)          /* established ones lost before we closed them */     \
    X(aborted)          /* attempts cut short by a stop */                    \
    X(closed)           /* our close handshakes that completed */             \
    X(close_unclean)    /* ours that got no close frame back */               \
    X(msgs_in)          /* complete data messages received */                 \
    X(text_in)                                                                \
    X(binary_in)                                                              \
    X(bytes_in)         /* data payload bytes received */                     \
    X(pings_in)                                                               \
    X(pongs_out)                                                              \
    X(closes_in)        /* close frames received */                           \
    X(disconnected)     /* established ones lost, to be reconnected */        \
    X(reconnects)       /* reconnect attempts started */                      \
    X(reconnected)      /* ... that got their 101 */                          \
    X(reconnect_failed) /* ... that did not */                                \
    X(reconnecting)     /* lost and not yet reopened, now */


struct gwload_wstats_s {
    /* live values: single writer (the worker), read by the parent */
    volatile uint64_t           phase;

#define gwload_counter_field(name)  volatile uint64_t  name;
    GWLOAD_COUNTERS(gwload_counter_field)
#undef gwload_counter_field

    volatile uint64_t           fail[GWLOAD_FAIL_MAX];
    volatile uint64_t           drop[GWLOAD_DROP_MAX];
    volatile uint64_t           proto[GWLOAD_PROTO_COUNTERS];
    volatile uint32_t           proto_sec[GWLOAD_PROTO_SERIES]
                                         [GWLOAD_PROTO_SECONDS];
    volatile uint64_t           proto_sec_end;  /* highest second + 1 */
    volatile uint64_t           proto_sec_overflow;

    volatile uint64_t           first_start_ns;
    volatile uint64_t           last_established_ns;
    volatile uint64_t           connected_ns; /* entered PHASE_HOLDING */
    volatile uint64_t           proto_done_ns; /* last protocol milestone */

    volatile int64_t            last_status;  /* last non-101 status */
    volatile int64_t            last_close_code;
    volatile int64_t            last_errno;   /* last GWLOAD_FAIL_OTHER */

    /* read by the parent only after the worker exited */
    gwload_hist_t               connect;      /* TCP connect start -> done */
    gwload_hist_t               handshake;    /* connect start -> 101 */
    gwload_hist_t               proto_hist[GWLOAD_PROTO_HISTS];
                                              /* named by the protocol */
    gwload_probe_stats_t        probe;
};


struct gwload_shm_s {
    uint64_t                    start_ns;
    uint64_t                    nworkers;
    int64_t                     parent_pid;
    gwload_probe_area_t        *probe;        /* its own mapping */
    gwload_wstats_t             w[];
};


typedef struct {
    double                      p10;
    double                      p50;
    double                      p90;
    double                      p99;
    double                      max;
    double                      min;
    double                      mean;
    uint64_t                    n;
} gwload_pct_t;


typedef struct {
    gwload_wstats_t             sum;
    double                      duration;     /* s, start to exit */
    double                      establish;    /* s, start to last 101 */
    unsigned                    procs;
    unsigned                    workers_lost; /* exited abnormally */
    unsigned                    interrupted:1;
    unsigned                    core_ok:1;    /* connections alone */
    unsigned                    proto_ok:1;   /* the protocol's verdict */
    unsigned                    ok:1;         /* both: the exit status */
    char                        proto_why[160];
    gwload_probe_total_t        probe;
    gwload_probe_area_t        *probe_area;
} gwload_result_t;


gwload_shm_t *gwload_stats_create(unsigned nworkers);
void gwload_stats_destroy(gwload_shm_t *shm);

size_t gwload_hist_index(uint64_t v);
double gwload_hist_value(size_t i);
void gwload_hist_add(gwload_hist_t *h, uint64_t us);
void gwload_hist_merge(gwload_hist_t *dst, gwload_hist_t *src);
void gwload_hist_pct(gwload_hist_t *h, gwload_pct_t *p);

void gwload_stats_sum(gwload_shm_t *shm, gwload_wstats_t *sum, int hist);

void gwload_stats_progress(gwload_conf_t *conf, gwload_wstats_t *sum,
    double elapsed, double rate, double drate, int tty);
void gwload_stats_report(gwload_conf_t *conf, gwload_result_t *r, FILE *f);
int gwload_stats_json(gwload_conf_t *conf, gwload_result_t *r,
    const char *path);

/* for protocols: a count in their per-second series k (worker side) */
void gwload_stats_series_add(gwload_worker_t *w, unsigned k);

/* for protocols' own report sections */
void gwload_stats_hist_text(FILE *f, const char *label, gwload_hist_t *h,
    const char *note);
void gwload_stats_hist_json(FILE *f, const char *sep, const char *key,
    gwload_hist_t *h);
void gwload_stats_json_str(FILE *f, const char *s);
void gwload_stats_series_json(FILE *f, const char *key, gwload_wstats_t *s,
    unsigned k);

extern const char *gwload_fail_names[GWLOAD_FAIL_MAX];
extern const char *gwload_drop_names[GWLOAD_DROP_MAX];


#endif /* _GWLOAD_STATS_H_INCLUDED_ */
