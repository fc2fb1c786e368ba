
/*
 * gwload: delivery latency probes.
 *
 * A publisher (gwload publish, or anything else) writes a probe into the
 * text of a message: the marker "gwload:" and a CLOCK_REALTIME timestamp in
 * nanoseconds, optionally followed by ":N", the publisher's message number:
 *
 *     gwload:1764500000123456789:42
 *
 * Receivers find it with memmem() (protocol "ws": the whole text message;
 * "gateway": d.content of a dispatch), and count a delivery: the latency
 * now - ts goes into a histogram, the message into a per-second series, N
 * into per-connection and per-message counters.  The parser is sans-IO;
 * gwload_probe_record() is the worker's side, the report (in the parent)
 * is in gwload_probe_report.c.
 *
 * Storage: the counters and the latency histogram are in each worker's
 * gwload_wstats_t (probe: gwload_probe_stats_t, in gwload_stats.h).  The
 * per-connection counts, each worker's per-second series and its
 * per-message receiver counts are in one more MAP_SHARED mapping
 * (gwload_probe_area_t), made before fork(), touched only where used
 * (MAP_NORESERVE): about 13 MB of address space per worker.
 */


#ifndef _GWLOAD_PROBE_H_INCLUDED_
#define _GWLOAD_PROBE_H_INCLUDED_


#define GWLOAD_PROBE_MARKER         "gwload:"
#define GWLOAD_PROBE_MARKER_LEN     (sizeof(GWLOAD_PROBE_MARKER) - 1)

/* "gwload:" + 20 digits + ":" + 20 digits */
#define GWLOAD_PROBE_MAX            (GWLOAD_PROBE_MARKER_LEN + 42)

/* the per-second series covers this many seconds from the start */
#define GWLOAD_PROBE_SECONDS        3600

/* message numbers counted per message: 0 .. GWLOAD_PROBE_SEQS - 1 */
#define GWLOAD_PROBE_SEQS           (1 << 20)

/*
 * A second's latency histogram: the buckets of gwload_hist_t for values
 * below 2^24 us (16.7 s; larger ones land in the last bucket), uint32.
 */
#define GWLOAD_PROBE_SEC_MAX_US     ((1ULL << 24) - 1)
#define GWLOAD_PROBE_SEC_BUCKETS    640

/* repeats of :N are detected within this many numbers of the highest */
#define GWLOAD_PROBE_WINDOW         64


typedef struct {
    uint64_t                    ts;           /* CLOCK_REALTIME, ns */
    int64_t                     n;            /* :N; -1: none */
    const u_char               *pos;          /* the marker */
} gwload_probe_t;


/* per connection, in gwload_conn_t: which :N came lately */
typedef struct {
    uint64_t                    hi;           /* highest N + 1; 0: none */
    uint64_t                    win;          /* bit i: N = hi - 1 - i */
} gwload_probe_conn_t;


typedef struct {
    uint32_t                    deliveries;
    uint32_t                    probed;
    uint32_t                    counts[GWLOAD_PROBE_SEC_BUCKETS];
} gwload_probe_sec_t;


/* one mapping, shared with the workers */
struct gwload_probe_area_s {
    size_t                      size;
    uint64_t                    nconns;
    unsigned                    nworkers;
    uint64_t                    start_unix_ns; /* CLOCK_REALTIME at start */
    uint32_t                   *conn_count;   /* [nconns], by conn id */
    gwload_probe_sec_t         *sec;          /* [nworkers][SECONDS] */
    uint32_t                   *seq_recv;     /* [nworkers][SEQS] */
};


/* sans-IO */
int gwload_probe_parse(const u_char *p, const u_char *end,
    gwload_probe_t *pr);
int gwload_probe_seen(gwload_probe_conn_t *pc, uint64_t n);

#define GWLOAD_PROBE_NEW            0
#define GWLOAD_PROBE_DUPLICATE      1
#define GWLOAD_PROBE_UNCHECKED      2

/* CLOCK_REALTIME in ns */
uint64_t gwload_realtime(void);

/* parent: before fork() and at the end */
gwload_probe_area_t *gwload_probe_area_create(uint64_t nconns,
    unsigned nworkers);
void gwload_probe_area_destroy(gwload_probe_area_t *a);
void gwload_probe_sum(gwload_probe_stats_t *dst, gwload_probe_stats_t *src,
    int hist);

/* worker */
int gwload_probe_scan(gwload_conn_t *c, const u_char *data, size_t len);
void gwload_probe_record(gwload_conn_t *c, gwload_probe_t *pr);

/* parent: gwload_probe_report.c */
int gwload_probe_expect(gwload_conf_t *conf, const char *value);
void gwload_probe_progress(gwload_wstats_t *sum, double rate, char *buf,
    size_t size);
int gwload_probe_result(gwload_conf_t *conf, gwload_result_t *r,
    char *why, size_t size);
void gwload_probe_report(gwload_conf_t *conf, gwload_result_t *r, FILE *f);
void gwload_probe_report_json(gwload_conf_t *conf, gwload_result_t *r,
    FILE *f);


#endif /* _GWLOAD_PROBE_H_INCLUDED_ */
