
/*
 * gwload: protocol hook table.
 *
 * The core (gwload_conn.c) owns TCP, the HTTP/1.1 upgrade, WebSocket
 * framing, pings from the server, the close handshake and all timeouts.  A
 * protocol only sees whole events on an established connection:
 *
 *   configure   once, in the parent before fork(): check conf->proto_opts
 *               (--proto-opt KEY=VALUE), load what all workers share, set
 *               conf->proto_conf; GWLOAD_ERROR ends the run (exit 2)
 *   init        once per worker process, after fork()
 *   on_open     after the 101 was accepted
 *   on_message  one complete data message (text or binary); "data" is
 *               NULL unless want_payload is set (configure may clear
 *               conf->want_payload), "len" is always the size
 *   on_control  a ping or pong from the peer, after the core answered pings
 *   on_timer    the connection's protocol timer fired (gwload_conn_timer())
 *   on_close    the connection is leaving the open state, exactly once per
 *               opened socket (also on an abort); "code" is the peer's
 *               close code, or 0 when we are closing it or it was dropped
 *   on_reconnect_failed  a reconnect attempt ended before its 101:
 *               "reason" is a gwload_fail_e, "status" the HTTP status (0:
 *               none), "retry_after" its Retry-After in ms (-1: none);
 *               calling gwload_conn_reconnect() again retries, else the
 *               connection ends (and on_reconnect_end follows)
 *   on_reconnect_end  a connection lost for a reconnect ends without being
 *               reopened: the protocol gave up, or the worker stops
 *
 * on_open, on_message, on_control and on_timer return GWLOAD_OK, or
 * GWLOAD_ERROR to drop the connection as a protocol failure.
 *
 * Per-connection protocol state: the worker allocates data_size bytes per
 * connection (zeroed) and hands it out as c->proto_data.
 *
 * Counters: a protocol may name up to GWLOAD_PROTO_COUNTERS counters
 * (gwload_wstats_t.proto[]) and GWLOAD_PROTO_HISTS latency histograms
 * (proto_hist[]); the generic report prints the named ones under the
 * protocol's name.  A protocol with a report section of its own (report,
 * report_json) may use the slots unnamed.
 *
 * Hooks that run in the parent (all optional):
 *
 *   cleanup     free what configure allocated (parent and every worker)
 *   progress    a few words appended to the progress line
 *   result      the protocol's verdict: 1 if the run passed, else 0 with a
 *               reason in "why"; it may also put a note in "why" on
 *               success.  The exit status is 0 only if both the core and
 *               the protocol passed.
 *   report      the protocol's section of the text summary
 *   report_json the protocol's member(s) of the JSON object: "key": value
 *
 * Reconnects: a protocol may call gwload_conn_reconnect(c, delay_ms,
 * target) from on_close (or just before gwload_conn_close()).  The loss is
 * then counted as "disconnected" rather than "dropped"; once the old socket
 * is done, the connection waits delay_ms and connects again, to "target"
 * (NULL: --url), and on_open follows its 101 as for the first socket.
 * Reconnect attempts are counted apart ("reconnects", "reconnected",
 * "reconnect_failed"), so "attempted", "established" and "failed" keep
 * counting connections, not sockets.
 *
 * Setup phase: a protocol that has work to do after the 101 (a login, say)
 * counts such connections in w->proto_pending; the worker reports "done
 * connecting" (and the hold starts) only once that is back to 0.
 */


#ifndef _GWLOAD_PROTO_H_INCLUDED_
#define _GWLOAD_PROTO_H_INCLUDED_


struct gwload_proto_s {
    const char     *name;
    size_t          data_size;
    unsigned        want_payload:1;

    const char     *counter_names[GWLOAD_PROTO_COUNTERS];
    const char     *hist_names[GWLOAD_PROTO_HISTS];

    int           (*configure)(gwload_conf_t *conf);
    void          (*cleanup)(gwload_conf_t *conf);
    int           (*init)(gwload_worker_t *w);
    int           (*on_open)(gwload_conn_t *c);
    int           (*on_message)(gwload_conn_t *c, int opcode, u_char *data,
                                size_t len);
    int           (*on_control)(gwload_conn_t *c, int opcode, u_char *data,
                                size_t len);
    int           (*on_timer)(gwload_conn_t *c);
    void          (*on_close)(gwload_conn_t *c, int code);
    void          (*on_reconnect_failed)(gwload_conn_t *c,
                                         gwload_fail_e reason, int status,
                                         int64_t retry_after);
    void          (*on_reconnect_end)(gwload_conn_t *c);

    void          (*progress)(gwload_conf_t *conf, gwload_wstats_t *sum,
                              char *buf, size_t size);
    int           (*result)(gwload_conf_t *conf, gwload_result_t *r,
                            char *why, size_t size);
    void          (*report)(gwload_conf_t *conf, gwload_result_t *r,
                            FILE *f);
    void          (*report_json)(gwload_conf_t *conf, gwload_result_t *r,
                                 FILE *f);
};


const gwload_proto_t *gwload_proto_find(const char *name);
void gwload_proto_list(FILE *f);

extern const gwload_proto_t  gwload_proto_ws;
extern const gwload_proto_t  gwload_proto_gateway;


#endif /* _GWLOAD_PROTO_H_INCLUDED_ */
