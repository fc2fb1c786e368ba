
/*
 * gwload-test-server -G: the mock Discord Gateway v10 (PROTOCOL.md Part 1):
 * Hello, the Identify checks, READY and the GUILD_CREATEs, heartbeats and
 * their ACKs, and the misbehaviours of -M (gwload_test_server.c lists them).
 * Resume is in gwload_test_session.c.
 */


#include "gwload_test_server.h"

#include <unistd.h>
#include <arpa/inet.h>


/* PROTOCOL.md 1.10: every documented intent bit */
#define TS_GW_INTENTS_ALL   53608447

/* first guild id; connection n has guilds TS_GW_GUILD0 + n * 10000 + j */
#define TS_GW_GUILD0        ((uint64_t) 1100000000000000000ULL)


#define ts_mis_name(id, name)   name,
static const char  *ts_mis_names[] = { TS_MIS(ts_mis_name) NULL };
#undef ts_mis_name


static u_char      *ts_bulk, *ts_scratch;
static size_t       ts_bulk_len, ts_scratch_size;


int
ts_mis(ts_conn_t *c, int m)
{
    return (ts.mis & (1u << m)) && c->n % ts.every == 0
           && (ts.mis_upgrades == 0 || c->n < ts.mis_upgrades);
}


void
ts_gw_text(int fd, const char *s)
{
    ts_frame(fd, GWLOAD_WS_OP_TEXT, (const u_char *) s, strlen(s));
}


void
ts_gw_hello(int fd, ts_conn_t *c)
{
    char  buf[128];

    c->gw = ts_gw_st_hello;

    if (ts_mis(c, ts_mis_no_hello)) {
        return;
    }

    snprintf(buf, sizeof(buf), "{\"t\":null,\"s\":null,\"op\":10,\"d\":"
             "{\"heartbeat_interval\":%" PRIu64 ",\"_trace\":[\"mock\"]}}",
             ts.hello_ms);
    ts_gw_text(fd, buf);
}


static int
ts_token_cmp(const void *a, const void *b)
{
    return strcmp(*(char * const *) a, *(char * const *) b);
}


/* PROTOCOL.md 1.6: 0 if the Identify is good, else the close code */

static int
ts_gw_check_identify(gwload_gw_msg_t *m, gwload_json_t *shard)
{
    int                 rc, have, k;
    char                tok[1100], *key;
    int64_t             x, v[2];
    gwload_json_t       k1, v1, k2, v2;
    gwload_json_iter_t  it, pit;

    if (gwload_json_iter(&it, &m->d, m->end) != GWLOAD_OK
        || m->d.type != GWLOAD_JSON_OBJECT)
    {
        return 4002;
    }

    have = 0;
    memset(shard, 0, sizeof(gwload_json_t));

    while ((rc = gwload_json_next(&it, &k1, &v1)) == GWLOAD_OK) {

        if (gwload_json_eq(&k1, "token")) {
            if (v1.type != GWLOAD_JSON_STRING || v1.end == v1.start
                || v1.end - v1.start >= (ptrdiff_t) sizeof(tok))
            {
                return 4004;
            }

            if (ts.ntokens) {
                memcpy(tok, v1.start, v1.end - v1.start);
                tok[v1.end - v1.start] = '\0';
                key = tok;

                if (bsearch(&key, ts.tokens, ts.ntokens, sizeof(char *),
                            ts_token_cmp) == NULL)
                {
                    return 4004;
                }
            }

            have |= 1;

        } else if (gwload_json_eq(&k1, "intents")) {
            if (gwload_json_int(&v1, &x) != GWLOAD_OK || x < 0
                || (x & ~(int64_t) TS_GW_INTENTS_ALL))
            {
                return 4013;
            }

            have |= 2;

        } else if (gwload_json_eq(&k1, "properties")) {
            if (gwload_json_iter(&pit, &v1, v1.end) != GWLOAD_OK
                || v1.type != GWLOAD_JSON_OBJECT)
            {
                return 4002;
            }

            while (gwload_json_next(&pit, &k2, &v2) == GWLOAD_OK) {
                if (v2.type == GWLOAD_JSON_STRING
                    && (gwload_json_eq(&k2, "os")
                        || gwload_json_eq(&k2, "browser")
                        || gwload_json_eq(&k2, "device")))
                {
                    have |= gwload_json_eq(&k2, "os") ? 4
                            : gwload_json_eq(&k2, "browser") ? 8 : 16;
                }
            }

        } else if (gwload_json_eq(&k1, "shard")) {
            if (gwload_json_iter(&pit, &v1, v1.end) != GWLOAD_OK
                || v1.type != GWLOAD_JSON_ARRAY)
            {
                return 4010;
            }

            for (k = 0; gwload_json_next(&pit, NULL, &v2) == GWLOAD_OK; k++) {
                if (k > 1 || gwload_json_int(&v2, &v[k]) != GWLOAD_OK) {
                    return 4010;
                }
            }

            if (k != 2 || v[0] < 0 || v[1] < 1 || v[0] >= v[1]) {
                return 4010;
            }

            *shard = v1;

        } else if (gwload_json_eq(&k1, "large_threshold")) {
            if (gwload_json_int(&v1, &x) != GWLOAD_OK || x < 50 || x > 250) {
                return 4002;
            }
        }
    }

    if (rc != GWLOAD_DONE) {
        return 4002;
    }

    if (!(have & 1)) {
        return 4004;
    }

    if (!(have & 2)) {
        return 4013;
    }

    return (have == 31) ? 0 : 4002;
}


/* READY, a GUILD_CREATE per guild, the extras, then the misbehaviours */

static void
ts_gw_ready(int fd, ts_conn_t *c, gwload_json_t *shard)
{
    char       sid[24], url[64];
    u_char    *p, *last;
    uint32_t   j;
    uint64_t   base;

    p = ts_scratch;
    last = ts_scratch + ts_scratch_size;
    base = TS_GW_GUILD0 + (uint64_t) c->n * TS_GW_GUILDS_MAX;

    c->seq = 1;
    c->sess = ts_sess_create(fd);
    ts_sess_id(c, sid, sizeof(sid));

    p += snprintf((char *) p, last - p, "{\"t\":\"READY\",\"s\":1,\"op\":0,"
                  "\"d\":{\"v\":10,\"user\":{\"id\":\"%" PRIu64 "\","
                  "\"username\":\"bot%u\",\"discriminator\":\"0\","
                  "\"global_name\":null,\"avatar\":null,\"bot\":true},"
                  "\"guilds\":[", (uint64_t) 1000000000000000000ULL + c->n,
                  c->n);

    for (j = 0; j < ts.guilds && last - p > 256; j++) {
        p += snprintf((char *) p, last - p, "%s{\"id\":\"%" PRIu64 "\","
                      "\"unavailable\":true}", j ? "," : "", base + j);
    }

    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/resume",
             ntohs(ts.addr.sin_port));

    p += snprintf((char *) p, last - p, "],\"session_id\":\"%s\","
                  "\"resume_gateway_url\":\"%.512s\"", sid,
                  ts.resume_url ? ts.resume_url : url);

    if (shard->type == GWLOAD_JSON_ARRAY) {
        p += snprintf((char *) p, last - p, ",\"shard\":%.*s",
                      (int) (shard->end - shard->start), shard->start);
    }

    p += snprintf((char *) p, last - p, ",\"application\":{\"id\":\"%"
                  PRIu64 "\",\"flags\":0}}}",
                  (uint64_t) 1000000000000000000ULL + c->n);

    ts_gw_dispatch(fd, c, ts_scratch, p - ts_scratch);

    for (j = 0; j < ts.guilds; j++) {

        if (j == ts.guilds - 1 && ts_mis(c, ts_mis_drop_guild)) {
            break;
        }

        if (!(j == 0 && ts_mis(c, ts_mis_seq_repeat))) {
            c->seq += (j == 0 && ts_mis(c, ts_mis_seq_gap)) ? 2 : 1;
        }

        /* the id last: the client has to skip the whole guild to find it */

        p = ts_scratch;
        p += snprintf((char *) p, last - p, "{\"t\":\"GUILD_CREATE\",\"s\":%"
                      PRId64 ",\"op\":0,\"d\":{\"name\":\"guild {%u}\","
                      "\"unavailable\":false,\"member_count\":2,\"large\":"
                      "false,\"joined_at\":\"2024-01-01T00:00:00+00:00\","
                      "\"channels\":[{\"id\":\"%" PRIu64 "\",\"type\":0,"
                      "\"name\":\"general\"}],\"roles\":[],\"members\":[",
                      c->seq, j, base + j);

        memcpy(p, ts_bulk, ts_bulk_len);
        p += ts_bulk_len;

        p += snprintf((char *) p, last - p, "],\"voice_states\":[],"
                      "\"id\":\"%" PRIu64 "\"}}", base + j);

        ts_gw_dispatch(fd, c, ts_scratch, p - ts_scratch);
    }

    for (j = 0; j < ts.extra; j++) {
        p = ts_scratch;
        p += snprintf((char *) p, last - p, "{\"t\":\"MESSAGE_CREATE\",\"s\":%"
                      PRId64 ",\"op\":0,\"d\":{\"id\":\"%u\",\"channel_id\":"
                      "\"1\",\"guild_id\":\"%" PRIu64 "\",\"content\":"
                      "\"hello \\\"%u\\\"\",\"author\":{\"id\":\"2\"}}}",
                      ++c->seq, j, base, j);
        ts_gw_dispatch(fd, c, ts_scratch, p - ts_scratch);
    }

    if (ts_mis(c, ts_mis_op7)) {
        /* -L: the session goes on while the client reconnects */
        ts_sess_lose(c, ts.lost);
        ts_gw_text(fd, "{\"t\":null,\"s\":null,\"op\":7,\"d\":null}");
    }

    if (ts_mis(c, ts_mis_drop_eof) || ts_mis(c, ts_mis_drop_rst)
        || ts_mis(c, ts_mis_drop_close) || ts_mis(c, ts_mis_op9_true))
    {
        /* ts_gw_drop(), from the server's tick */
        c->drop_at = gwload_now() + ts.drop_after_ms * GWLOAD_MSEC;
    }

    if (ts_mis(c, ts_mis_hb_request)) {
        ts_gw_text(fd, "{\"t\":null,\"s\":null,\"op\":1,\"d\":null}");
    }

    if (ts_mis(c, ts_mis_bad_json)) {
        ts_gw_text(fd, "{\"op\":0,\"s\":");
    }
}


void
ts_gw_message(int fd, ts_conn_t *c, u_char *data, size_t len)
{
    int               code;
    int64_t           x;
    gwload_json_t     shard;
    gwload_gw_msg_t   m;

    /* PROTOCOL.md 1.1: client messages of at most 4096 bytes */

    memset(&shard, 0, sizeof(gwload_json_t));

    if (len > GWLOAD_GW_CLIENT_MAX
        || gwload_gw_decode(data, len, &m) != GWLOAD_OK)
    {
        ts_close_code(fd, 4002);
        return;
    }

    switch (m.op) {

    case GWLOAD_GW_OP_HEARTBEAT:
        c->hbs++;
        ts_heartbeats++;

        if (m.d.type == GWLOAD_JSON_NUMBER) {
            if (gwload_json_int(&m.d, &x) != GWLOAD_OK || x < 1
                || x > c->seq)
            {
                ts_bad_heartbeats++;
            }

        } else if (m.d.type != GWLOAD_JSON_NULL) {
            ts_bad_heartbeats++;
        }

        if (ts_mis(c, ts_mis_no_ack)
            || (c->hbs == 1 && ts_mis(c, ts_mis_skip_ack)))
        {
            return;
        }

        ts_acks++;
        ts_gw_text(fd, "{\"t\":null,\"s\":null,\"op\":11,\"d\":null}");
        return;

    case GWLOAD_GW_OP_RESUME:
        ts_gw_resume(fd, c, &m);
        return;

    case GWLOAD_GW_OP_IDENTIFY:
        if (c->gw != ts_gw_st_hello) {
            ts_close_code(fd, 4005);
            return;
        }

        code = ts_gw_check_identify(&m, &shard);

        if (code) {
            ts_bad_identifies++;
            ts_close_code(fd, code);
            return;
        }

        ts_identifies++;

        if (ts_mis(c, ts_mis_close4004)) {
            ts_close_code(fd, 4004);
            return;
        }

        if (ts_mis(c, ts_mis_op9)) {
            c->gw = ts_gw_st_refused;
            ts_gw_text(fd, "{\"t\":null,\"s\":null,\"op\":9,\"d\":false}");
            return;
        }

        c->gw = ts_gw_st_ready;
        ts_gw_ready(fd, c, &shard);
        return;

    default:
        ts_close_code(fd, c->gw == ts_gw_st_ready ? 4001 : 4003);
        return;
    }
}


/* members {...},{...} of about "size" bytes, built once */

int
ts_gw_init(void)
{
    int     n;
    size_t  len;
    char    one[512];

    ts_bulk = malloc(ts.bulk + sizeof(one));
    if (ts_bulk == NULL) {
        return -1;
    }

    ts_bulk_len = 0;

    for (n = 0; ts_bulk_len < ts.bulk; n++) {
        len = snprintf(one, sizeof(one), "%s{\"user\":{\"id\":\"%d\","
                       "\"username\":\"member [%d]\",\"avatar\":null,"
                       "\"bot\":false},\"roles\":[\"1\"],\"nick\":"
                       "\"nick \\\"%d\\\" \\\\\",\"joined_at\":"
                       "\"2024-01-01T00:00:00+00:00\",\"deaf\":false,"
                       "\"mute\":false}", n ? "," : "", n, n, n);
        memcpy(ts_bulk + ts_bulk_len, one, len);
        ts_bulk_len += len;
    }

    ts_scratch_size = ts_bulk_len + 64 * (ts.guilds + 64) + 4096;
    ts_scratch = malloc(ts_scratch_size);

    return ts_scratch ? 0 : -1;
}


int
ts_gw_tokens(const char *file)
{
    FILE    *f;
    char     line[1100], **t;
    size_t   cap, n;

    f = fopen(file, "r");
    if (f == NULL) {
        perror(file);
        return -1;
    }

    cap = 0;

    while (fgets(line, sizeof(line), f)) {
        n = strcspn(line, "\r\n");
        line[n] = '\0';

        if (n == 0) {
            continue;
        }

        if (ts.ntokens == cap) {
            cap = cap ? 2 * cap : 1024;
            t = realloc(ts.tokens, cap * sizeof(char *));
            if (t == NULL) {
                fclose(f);
                return -1;
            }
            ts.tokens = t;
        }

        ts.tokens[ts.ntokens++] = strdup(line);
    }

    fclose(f);

    qsort(ts.tokens, ts.ntokens, sizeof(char *), ts_token_cmp);

    return 0;
}


int
ts_mis_parse(char *list)
{
    int    k;
    char  *name, *save;

    for (name = strtok_r(list, ",", &save); name;
         name = strtok_r(NULL, ",", &save))
    {
        for (k = 0; ts_mis_names[k]; k++) {
            if (strcmp(name, ts_mis_names[k]) == 0) {
                break;
            }
        }

        if (ts_mis_names[k] == NULL) {
            fprintf(stderr, "gwload-test-server: unknown misbehaviour "
                    "\"%s\"\n", name);
            return -1;
        }

        ts.mis |= 1u << k;
    }

    return 0;
}
