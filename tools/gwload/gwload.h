
/*
 * gwload: WebSocket / gateway load generator.
 *
 * Private aggregate header: forward typedefs, the run configuration, common
 * constants, then the per-concern sub-headers.
 */


#ifndef _GWLOAD_H_INCLUDED_
#define _GWLOAD_H_INCLUDED_


#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <netinet/in.h>


typedef unsigned char               u_char;

typedef struct gwload_conf_s        gwload_conf_t;
typedef struct gwload_worker_s      gwload_worker_t;
typedef struct gwload_conn_s        gwload_conn_t;
typedef struct gwload_target_s      gwload_target_t;
typedef struct gwload_timer_s       gwload_timer_t;
typedef struct gwload_proto_s       gwload_proto_t;
typedef struct gwload_ws_parser_s   gwload_ws_parser_t;
typedef struct gwload_ws_frame_s    gwload_ws_frame_t;
typedef struct gwload_hist_s        gwload_hist_t;
typedef struct gwload_wstats_s      gwload_wstats_t;
typedef struct gwload_shm_s         gwload_shm_t;
typedef struct gwload_probe_area_s  gwload_probe_area_t;


#define GWLOAD_OK                   0
#define GWLOAD_ERROR               -1
#define GWLOAD_AGAIN               -2
#define GWLOAD_DONE                -4
#define GWLOAD_DECLINED            -5


#define GWLOAD_VERSION              "0.1"

/* one worker process is planned for at most this many connections */
#define GWLOAD_CONNS_PER_PROC       15000

/*
 * By default a source address carries at most this many connections to one
 * destination.  The hard ceiling is the local port range (~28k), but the
 * kernel's port search in connect() gets slow well before it: measured
 * here, 15000 connections at 2000/s from 1 address: p99 handshake 27 ms and
 * 1.66 s of system CPU; from 3 addresses: p99 0.7 ms and 1.05 s.
 */
#define GWLOAD_CONNS_PER_SRC        5000

/* descriptors a worker keeps for itself: epoll, signalfd, stdio, slack */
#define GWLOAD_FD_RESERVE           32

#define GWLOAD_MAX_HEADERS_LEN      4096
#define GWLOAD_MAX_MESSAGE          (16 * 1024 * 1024)

#define GWLOAD_NSEC                 1000000000ULL
#define GWLOAD_MSEC                 1000000ULL
#define GWLOAD_USEC                 1000ULL


struct gwload_conf_s {
    char                   *url;
    char                    host[300];       /* Host header value */
    char                   *path;            /* request-target */
    struct sockaddr_in      dst;

    uint64_t                connections;
    double                  rate;            /* total conn/s, 0: no limit */
    unsigned                procs;

    uint32_t                src_from;        /* host byte order */
    unsigned                src_count;

    int64_t                 hold_ms;         /* -1: forever */
    uint64_t                ping_interval_ms;
    uint64_t                timeout_ms;
    int                     progress;        /* -1: auto (tty) */
    char                   *json;

    char                   *headers;         /* "Name: value\r\n"... */
    size_t                  headers_len;

    const gwload_proto_t   *proto;
    char                  **proto_opts;      /* --proto-opt KEY=VALUE */
    unsigned                nproto_opts;
    void                   *proto_conf;      /* set by proto->configure */

    unsigned                want_payload:1;  /* proto's, unless it said no */

    int64_t                 expect_messages; /* -1: not asked */
    char                   *expect_file;     /* --expect-messages @FILE */
};


/* monotonic clock in nanoseconds; CLOCK_MONOTONIC is system-wide */
uint64_t gwload_now(void);

/* "gwload publish ...": the publisher, gwload_publish.c */
int gwload_publish_main(int argc, char **argv);


#include "gwload_timer.h"
#include "gwload_stats.h"
#include "gwload_ws.h"
#include "gwload_json.h"
#include "gwload_gateway.h"
#include "gwload_probe.h"
#include "gwload_http.h"
#include "gwload_proto.h"
#include "gwload_conn.h"


/*
 * The IPv4 address of a split URL's host and port (getaddrinfo()); on
 * error *why says what went wrong.
 */
int gwload_resolve(const gwload_ws_url_t *u, struct sockaddr_in *dst,
    const char **why);

/*
 * --header "Name: value": checked, appended as a line to *headers; "who"
 * prefixes the error messages.
 */
int gwload_header_add(char **headers, size_t *headers_len, const char *h,
    const char *who);


#endif /* _GWLOAD_H_INCLUDED_ */
