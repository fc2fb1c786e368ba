
/*
 * gwload: protocol "ws", plain WebSocket.
 *
 * The core already answers server pings and counts every frame.  With
 * --ping-interval this protocol also sends a ping every interval (the first
 * at a random offset so that connections do not ping in step) and measures
 * the ping -> pong round trip: the ping carries its send time, so no
 * per-connection state is needed.
 *
 * Every text message is scanned for a delivery probe (gwload_probe.h): a
 * publisher's "gwload:<ns>[:<n>]" anywhere in it, e.g. nchan passing on
 * what was POSTed.  --proto-opt probes=0 turns that off, and with it the
 * reassembly of fragmented messages, as before probes.
 */


#include "gwload.h"


/* gwload_wstats_t.proto[] slots */
#define GWLOAD_PROTO_WS_PINGS_SENT      0
#define GWLOAD_PROTO_WS_PONGS_MATCHED   1


static int gwload_proto_ws_configure(gwload_conf_t *conf);
static int gwload_proto_ws_on_open(gwload_conn_t *c);
static int gwload_proto_ws_on_message(gwload_conn_t *c, int opcode,
    u_char *data, size_t len);
static int gwload_proto_ws_on_control(gwload_conn_t *c, int opcode,
    u_char *data, size_t len);
static int gwload_proto_ws_on_timer(gwload_conn_t *c);


const gwload_proto_t  gwload_proto_ws = {
    "ws",
    0,                              /* data_size */
    1,                              /* want_payload: probes */
    { "pings_sent", "pongs_received" },
    { "ping_rtt" },

    gwload_proto_ws_configure,
    NULL,                           /* cleanup */
    NULL,                           /* init */
    gwload_proto_ws_on_open,
    gwload_proto_ws_on_message,
    gwload_proto_ws_on_control,
    gwload_proto_ws_on_timer,
    NULL,                           /* on_close */
    NULL,                           /* on_reconnect_failed */
    NULL,                           /* on_reconnect_end */

    NULL,                           /* progress */
    NULL,                           /* result */
    NULL,                           /* report: the generic one */
    NULL                            /* report_json */
};


static int
gwload_proto_ws_configure(gwload_conf_t *conf)
{
    unsigned     i;
    const char  *opt;

    for (i = 0; i < conf->nproto_opts; i++) {
        opt = conf->proto_opts[i];

        if (strcmp(opt, "probes=1") == 0) {
            conf->want_payload = 1;

        } else if (strcmp(opt, "probes=0") == 0) {
            conf->want_payload = 0;

        } else {
            fprintf(stderr, "gwload: protocol ws: unknown --proto-opt \"%s\" "
                    "(known: probes=1|0)\n", opt);
            return GWLOAD_ERROR;
        }
    }

    return GWLOAD_OK;
}


static int
gwload_proto_ws_on_open(gwload_conn_t *c)
{
    uint64_t  ms;

    ms = c->worker->conf->ping_interval_ms;

    if (ms == 0) {
        return GWLOAD_OK;
    }

    return gwload_conn_timer(c, 1 + gwload_worker_random(c->worker) % ms);
}


static int
gwload_proto_ws_on_message(gwload_conn_t *c, int opcode, u_char *data,
    size_t len)
{
    if (opcode == GWLOAD_WS_OP_TEXT && data) {
        (void) gwload_probe_scan(c, data, len);
    }

    return GWLOAD_OK;
}


static int
gwload_proto_ws_on_timer(gwload_conn_t *c)
{
    uint64_t  now;

    now = gwload_conn_now(c);

    if (gwload_conn_send_frame(c, GWLOAD_WS_OP_PING, (u_char *) &now,
                               sizeof(now))
        != GWLOAD_OK)
    {
        return GWLOAD_ERROR;
    }

    gwload_conn_stats(c)->proto[GWLOAD_PROTO_WS_PINGS_SENT]++;

    return gwload_conn_timer(c, c->worker->conf->ping_interval_ms);
}


static int
gwload_proto_ws_on_control(gwload_conn_t *c, int opcode, u_char *data,
    size_t len)
{
    uint64_t  sent, now;

    if (opcode != GWLOAD_WS_OP_PONG || len != sizeof(sent)) {
        /* a ping, or an unsolicited pong (RFC 6455, 5.5.3): ignore */
        return GWLOAD_OK;
    }

    memcpy(&sent, data, sizeof(sent));
    now = gwload_conn_now(c);

    if (sent > now || now - sent > 3600 * GWLOAD_NSEC) {
        return GWLOAD_OK;
    }

    gwload_conn_stats(c)->proto[GWLOAD_PROTO_WS_PONGS_MATCHED]++;
    gwload_hist_add(&gwload_conn_stats(c)->proto_hist[0],
                    (now - sent) / GWLOAD_USEC);

    return GWLOAD_OK;
}
