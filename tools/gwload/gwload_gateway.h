
/*
 * gwload: Discord Gateway v10 payloads, client side, sans-IO.
 *
 * Decoding reads only what the load generator needs: the envelope's top-level
 * op, s, t and d (PROTOCOL.md 1.2), Hello's heartbeat_interval (1.5), READY's
 * guild list, session_id and resume_gateway_url (1.7), an object's "id",
 * a message's d.content (where publishers put latency probes) and op 9's
 * d (1.8).  Encoding builds Identify (1.6), Resume (1.8) and Heartbeat
 * (1.5).  gwload_gw_close_action() says what a client does after a close
 * (1.9).  Nothing here allocates, touches a socket or reads a clock.
 */


#ifndef _GWLOAD_GATEWAY_H_INCLUDED_
#define _GWLOAD_GATEWAY_H_INCLUDED_


/* PROTOCOL.md 1.3 Gateway opcodes */
#define GWLOAD_GW_OP_DISPATCH           0
#define GWLOAD_GW_OP_HEARTBEAT          1
#define GWLOAD_GW_OP_IDENTIFY           2
#define GWLOAD_GW_OP_RESUME             6
#define GWLOAD_GW_OP_RECONNECT          7
#define GWLOAD_GW_OP_INVALID_SESSION    9
#define GWLOAD_GW_OP_HELLO              10
#define GWLOAD_GW_OP_HEARTBEAT_ACK      11

/* PROTOCOL.md 1.9 close codes: 4000 .. 4014 are named */
#define GWLOAD_GW_CLOSE_FIRST           4000
#define GWLOAD_GW_CLOSE_LAST            4014

/* what discord.js closes with when it means to resume (1.4) */
#define GWLOAD_GW_CLOSE_RESUMING        4200

/*
 * PROTOCOL.md 1.4: a client close with 1000 or 1001 ends the session; any
 * other code keeps it resumable.  gwload closes with 4000 before it
 * resumes after op 7 or op 9 d:true.
 */
#define GWLOAD_GW_CLOSE_RECONNECT       4000

/* gwload_gw_close_action(): PROTOCOL.md 1.9 */
#define GWLOAD_GW_ACTION_RESUME         0   /* reconnect, Resume */
#define GWLOAD_GW_ACTION_IDENTIFY       1   /* reconnect, Identify afresh */
#define GWLOAD_GW_ACTION_STOP           2   /* reconnecting is not allowed */

/* PROTOCOL.md 1.1: the server refuses client messages above 4096 bytes */
#define GWLOAD_GW_CLIENT_MAX            4096

/* PROTOCOL.md 1.10: GUILDS | GUILD_MESSAGES */
#define GWLOAD_GW_INTENTS_DEFAULT       513


typedef struct {
    int64_t         op;             /* -1: missing */
    int64_t         s;
    unsigned        has_s:1;        /* s is an integer (not null/absent) */
    gwload_json_t   t;              /* STRING, or NULL/NONE */
    gwload_json_t   d;              /* NONE when absent; see below */
    const u_char   *end;            /* end of the message */
} gwload_gw_msg_t;


typedef struct {
    gwload_json_t   guilds;         /* ARRAY, or NONE */
    gwload_json_t   session_id;     /* STRING, or NONE */
    gwload_json_t   resume_url;     /* STRING, or NONE */
    uint32_t        nguilds;
} gwload_gw_ready_t;


typedef struct {
    const char     *token;
    size_t          token_len;
    uint64_t        intents;
    int64_t         shard_id;       /* -1: no "shard" */
    int64_t         shard_n;
    int64_t         large_threshold;    /* 0: not sent */
} gwload_gw_identify_t;


int gwload_gw_decode(const u_char *data, size_t len, gwload_gw_msg_t *m);
int gwload_gw_hello(gwload_gw_msg_t *m, uint64_t *interval_ms);
int gwload_gw_ready(gwload_gw_msg_t *m, gwload_gw_ready_t *r);
int gwload_gw_guild_next(gwload_json_iter_t *it, uint64_t *id);
int gwload_gw_object_id(gwload_json_t *obj, const u_char *end,
    uint64_t *id);
uint64_t gwload_gw_snowflake(const u_char *p, const u_char *end);
int gwload_gw_content(gwload_gw_msg_t *m, gwload_json_t *content);

size_t gwload_gw_identify(u_char *buf, size_t size,
    gwload_gw_identify_t *id);
size_t gwload_gw_heartbeat(u_char *buf, size_t size, int64_t seq);
size_t gwload_gw_resume(u_char *buf, size_t size, const char *token,
    size_t token_len, const u_char *session_id, size_t session_id_len,
    int64_t seq);

int gwload_gw_invalid_session_d(gwload_gw_msg_t *m);
int gwload_gw_close_action(int code);
const char *gwload_gw_close_name(int code);

#define gwload_gw_is_dispatch(m, name)  gwload_json_eq(&(m)->t, name)


#endif /* _GWLOAD_GATEWAY_H_INCLUDED_ */
