
/*
 * gwload: unit tests of the JSON scanner (gwload_json.c) and the gateway
 * payload codec (gwload_gateway.c): values, iteration, integers, the
 * envelope, Hello, READY, ids, Identify and Heartbeat, then malformed input
 * (every prefix, random byte flips) fed from exact-size heap copies, so
 * that an over-read shows under valgrind or ASan, and a scan-speed figure.
 * Prints "N passed, N failed" last; exits non-zero on any failure.
 */


#include "gwload.h"

#include <time.h>


static unsigned  tu_passed, tu_failed;


#define tu_check(cond)                                                        \
    do {                                                                      \
        if (cond) {                                                           \
            tu_passed++;                                                      \
        } else {                                                              \
            tu_failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                     \
    } while (0)

#define tu_str(s)   (const u_char *) (s), (const u_char *) (s) + strlen(s)


uint64_t
gwload_now(void)
{
    struct timespec  tp;

    clock_gettime(CLOCK_MONOTONIC, &tp);

    return (uint64_t) tp.tv_sec * GWLOAD_NSEC + tp.tv_nsec;
}


/* the type of the single value in s, or -1 if it does not scan whole */

static int
tu_type(const char *s)
{
    const u_char   *p, *end;
    gwload_json_t   v;

    end = (const u_char *) s + strlen(s);
    p = gwload_json_value((const u_char *) s, end, &v);

    if (p == NULL) {
        return -1;
    }

    if (gwload_json_skip_ws(p, end) != end) {
        return -2;
    }

    return v.type;
}


static void
tu_values(void)
{
    int             i;
    char           *deep;
    const u_char   *p;
    gwload_json_t   v;

    tu_check(tu_type("null") == GWLOAD_JSON_NULL);
    tu_check(tu_type(" true ") == GWLOAD_JSON_TRUE);
    tu_check(tu_type("false") == GWLOAD_JSON_FALSE);
    tu_check(tu_type("-12.5e+3") == GWLOAD_JSON_NUMBER);
    tu_check(tu_type("0") == GWLOAD_JSON_NUMBER);
    tu_check(tu_type("\"\"") == GWLOAD_JSON_STRING);
    tu_check(tu_type("{}") == GWLOAD_JSON_OBJECT);
    tu_check(tu_type("[]") == GWLOAD_JSON_ARRAY);
    tu_check(tu_type("{\"a\":[1,{\"b\":\"}]\"}],\"c\":\"\\\"{\"}")
             == GWLOAD_JSON_OBJECT);

    /* malformed */
    tu_check(tu_type("") == -1);
    tu_check(tu_type("   ") == -1);
    tu_check(tu_type("nul") == -1);
    tu_check(tu_type("tru") == -1);
    tu_check(tu_type("-") == -1);
    tu_check(tu_type("x") == -1);
    tu_check(tu_type("\"abc") == -1);
    tu_check(tu_type("\"abc\\\"") == -1);
    tu_check(tu_type("[1,2") == -1);
    tu_check(tu_type("[}") == -1);
    tu_check(tu_type("{]") == -1);
    tu_check(tu_type("[[]}") == -1);
    tu_check(tu_type("{\"a\":\"]\"") == -1);
    tu_check(tu_type("]") == -1);

    /* strings: bounds exclude the quotes; escapes are noticed, kept raw */

    p = gwload_json_value(tu_str("\"a\\\"b\" "), &v);
    tu_check(p != NULL && v.type == GWLOAD_JSON_STRING && v.escaped
             && v.end - v.start == 4 && memcmp(v.start, "a\\\"b", 4) == 0);

    /* an escaped backslash before the closing quote */
    p = gwload_json_value(tu_str("\"a\\\\\"x"), &v);
    tu_check(p != NULL && *p == 'x' && v.end - v.start == 3);

    p = gwload_json_value(tu_str("\"plain\""), &v);
    tu_check(p != NULL && !v.escaped && gwload_json_eq(&v, "plain"));

    /* depth: GWLOAD_JSON_DEPTH levels are fine, one more is not */

    deep = malloc(2 * GWLOAD_JSON_DEPTH + 3);

    for (i = 0; i < GWLOAD_JSON_DEPTH; i++) {
        deep[i] = (i & 1) ? '{' : '[';
        deep[2 * GWLOAD_JSON_DEPTH - 1 - i] = (i & 1) ? '}' : ']';
    }

    deep[2 * GWLOAD_JSON_DEPTH] = '\0';

    /* {...} alternates with [...]: "[{[{ }]}]" is not valid JSON but
       the skipper checks brackets only, which is what is tested here */

    tu_check(tu_type(deep) == GWLOAD_JSON_ARRAY);

    memmove(deep + 1, deep, 2 * GWLOAD_JSON_DEPTH + 1);
    deep[0] = '[';
    deep[2 * GWLOAD_JSON_DEPTH + 1] = ']';
    deep[2 * GWLOAD_JSON_DEPTH + 2] = '\0';

    tu_check(tu_type(deep) == -1);

    free(deep);
}


static void
tu_iter(void)
{
    int                  rc, n;
    int64_t              x;
    const u_char        *p;
    gwload_json_t        v, key, val;
    gwload_json_iter_t   it;
    static const char    obj[] = " { \"a\" : 1 , \"bb\":[2,3], \"c\":{} } ";

    p = gwload_json_value(tu_str(obj), &v);
    tu_check(p != NULL && v.type == GWLOAD_JSON_OBJECT);
    tu_check(gwload_json_iter(&it, &v, v.end) == GWLOAD_OK);

    rc = gwload_json_next(&it, &key, &val);
    tu_check(rc == GWLOAD_OK && gwload_json_eq(&key, "a")
             && gwload_json_int(&val, &x) == GWLOAD_OK && x == 1);

    rc = gwload_json_next(&it, &key, &val);
    tu_check(rc == GWLOAD_OK && gwload_json_eq(&key, "bb")
             && val.type == GWLOAD_JSON_ARRAY);

    rc = gwload_json_next(&it, &key, &val);
    tu_check(rc == GWLOAD_OK && gwload_json_eq(&key, "c")
             && val.type == GWLOAD_JSON_OBJECT);

    tu_check(gwload_json_next(&it, &key, &val) == GWLOAD_DONE);

    /* arrays */

    p = gwload_json_value(tu_str("[1, \"x\", [ ], null]"), &v);
    tu_check(p != NULL);
    gwload_json_iter(&it, &v, v.end);

    for (n = 0; (rc = gwload_json_next(&it, NULL, &val)) == GWLOAD_OK; n++) {
        /* void */
    }

    tu_check(rc == GWLOAD_DONE && n == 4);

    p = gwload_json_value(tu_str("[]"), &v);
    gwload_json_iter(&it, &v, v.end);
    tu_check(gwload_json_next(&it, NULL, &val) == GWLOAD_DONE);

    /* structure errors at the walked level */

#define tu_iter_bad(s)                                                        \
    do {                                                                      \
        p = gwload_json_value(tu_str(s), &v);                                 \
        tu_check(p != NULL);                                                  \
        gwload_json_iter(&it, &v, v.end);                                     \
        while ((rc = gwload_json_next(&it, &key, &val)) == GWLOAD_OK) {       \
            /* void */                                                        \
        }                                                                     \
        tu_check(rc == GWLOAD_ERROR);                                         \
    } while (0)

    tu_iter_bad("{\"a\":1,}");
    tu_iter_bad("{\"a\" 1}");
    tu_iter_bad("{\"a\":1 \"b\":2}");
    tu_iter_bad("{1:2}");
    tu_iter_bad("{\"a\":}");
    tu_iter_bad("{,}");
    tu_iter_bad("[1,]");
    tu_iter_bad("[1 2]");

    /* a scalar cannot be walked */
    p = gwload_json_value(tu_str("1"), &v);
    tu_check(gwload_json_iter(&it, &v, v.end) == GWLOAD_ERROR);
}


static void
tu_ints(void)
{
    int64_t        x;
    uint64_t       u;
    gwload_json_t  v;

#define tu_int(s, want_rc, want)                                              \
    do {                                                                      \
        x = 12345;                                                            \
        tu_check(gwload_json_value(tu_str(s), &v) != NULL                     \
                 && gwload_json_int(&v, &x) == (want_rc)                      \
                 && ((want_rc) != GWLOAD_OK || x == (want)));                 \
    } while (0)

    tu_int("0", GWLOAD_OK, 0);
    tu_int("-0", GWLOAD_OK, 0);
    tu_int("41250", GWLOAD_OK, 41250);
    tu_int("9223372036854775807", GWLOAD_OK, INT64_MAX);
    tu_int("-9223372036854775808", GWLOAD_OK, INT64_MIN);
    tu_int("9223372036854775808", GWLOAD_ERROR, 0);
    tu_int("-9223372036854775809", GWLOAD_ERROR, 0);
    tu_int("1.5", GWLOAD_ERROR, 0);
    tu_int("1e3", GWLOAD_ERROR, 0);
    tu_int("--1", GWLOAD_ERROR, 0);
    tu_int("1-", GWLOAD_ERROR, 0);
    tu_int("\"1\"", GWLOAD_ERROR, 0);

    tu_check(gwload_json_uint(tu_str("18446744073709551615"), &u)
             == GWLOAD_OK && u == UINT64_MAX);
    tu_check(gwload_json_uint(tu_str("18446744073709551616"), &u)
             == GWLOAD_ERROR);
    tu_check(gwload_json_uint(tu_str(""), &u) == GWLOAD_ERROR);
}


static int
tu_decode(const char *s, gwload_gw_msg_t *m)
{
    return gwload_gw_decode((const u_char *) s, strlen(s), m);
}


static void
tu_envelope(void)
{
    uint64_t          ms, id;
    gwload_gw_msg_t   m;

    /* Hello as Discord sends it: t, s, op, d */

    tu_check(tu_decode("{\"t\":null,\"s\":null,\"op\":10,\"d\":"
                       "{\"heartbeat_interval\":41250,\"_trace\":[\"x\"]}}",
                       &m) == GWLOAD_OK);
    tu_check(m.op == 10 && !m.has_s && m.t.type == GWLOAD_JSON_NULL
             && m.d.type == GWLOAD_JSON_OBJECT);
    tu_check(gwload_gw_hello(&m, &ms) == GWLOAD_OK && ms == 41250);

    /* d first; whitespace; unknown keys */

    tu_check(tu_decode(" {\n \"d\" : {\"_trace\":[],\"heartbeat_interval\":"
                       "5}, \"x\":{\"op\":3}, \"op\" : 10 } ", &m)
             == GWLOAD_OK);
    tu_check(m.op == 10 && gwload_gw_hello(&m, &ms) == GWLOAD_OK && ms == 5);

    /* a bare ACK */

    tu_check(tu_decode("{\"op\":11}", &m) == GWLOAD_OK && m.op == 11
             && m.d.type == GWLOAD_JSON_NONE);

    /* a dispatch */

    tu_check(tu_decode("{\"t\":\"GUILD_CREATE\",\"s\":42,\"op\":0,\"d\":"
                       "{\"name\":\"{\\\"id\\\":1}\","
                       "\"roles\":[{\"id\":\"7\"}],"
                       "\"id\":\"1100000000000000001\"}}", &m)
             == GWLOAD_OK);
    tu_check(m.op == 0 && m.has_s && m.s == 42
             && gwload_gw_is_dispatch(&m, "GUILD_CREATE")
             && !gwload_gw_is_dispatch(&m, "GUILD_CREAT"));
    tu_check(gwload_gw_object_id(&m.d, m.end, &id) == GWLOAD_OK
             && id == 1100000000000000001ULL);

    /* errors */

    tu_check(tu_decode("", &m) == GWLOAD_ERROR);
    tu_check(tu_decode("[]", &m) == GWLOAD_ERROR);
    tu_check(tu_decode("{}", &m) == GWLOAD_ERROR);
    tu_check(tu_decode("{\"t\":null,\"s\":null,\"d\":{}}", &m)
             == GWLOAD_ERROR);
    tu_check(tu_decode("{\"op\":\"10\"}", &m) == GWLOAD_ERROR);
    tu_check(tu_decode("{\"op\":-1}", &m) == GWLOAD_ERROR);
    tu_check(tu_decode("{\"op\":0,\"s\":\"1\"}", &m) == GWLOAD_ERROR);
    tu_check(tu_decode("{\"op\":0,\"t\":5}", &m) == GWLOAD_ERROR);
    tu_check(tu_decode("{\"op\":0,", &m) == GWLOAD_ERROR);
    tu_check(tu_decode("{\"o\":0}", &m) == GWLOAD_ERROR);

    /* Hello without a usable interval */

    tu_check(tu_decode("{\"op\":10,\"d\":{}}", &m) == GWLOAD_OK
             && gwload_gw_hello(&m, &ms) == GWLOAD_ERROR);
    tu_check(tu_decode("{\"op\":10,\"d\":{\"heartbeat_interval\":0}}", &m)
             == GWLOAD_OK && gwload_gw_hello(&m, &ms) == GWLOAD_ERROR);
    tu_check(tu_decode("{\"op\":10,\"d\":null}", &m) == GWLOAD_OK
             && gwload_gw_hello(&m, &ms) == GWLOAD_ERROR);
}


static void
tu_ready(void)
{
    int                 rc;
    uint64_t            id, ids[4];
    unsigned            n;
    gwload_gw_msg_t     m;
    gwload_gw_ready_t   r;
    gwload_json_iter_t  it;

    static const char   ready[] =
        "{\"t\":\"READY\",\"s\":1,\"op\":0,\"d\":{\"v\":10,"
        "\"user\":{\"id\":\"1000000000000000001\",\"username\":\"b\"},"
        "\"guilds\":[{\"id\":\"1100000000000000001\",\"unavailable\":true},"
        "{\"unavailable\":true,\"id\":\"1100000000000000002\"},"
        "{\"id\":\"not-a-number\"}],"
        "\"session_id\":\"abc\",\"resume_gateway_url\":\"ws://h:1\","
        "\"application\":{\"id\":\"1\",\"flags\":0}}}";

    tu_check(tu_decode(ready, &m) == GWLOAD_OK && m.s == 1
             && gwload_gw_is_dispatch(&m, "READY"));
    tu_check(gwload_gw_ready(&m, &r) == GWLOAD_OK && r.nguilds == 3
             && gwload_json_eq(&r.session_id, "abc")
             && gwload_json_eq(&r.resume_url, "ws://h:1"));

    gwload_json_iter(&it, &r.guilds, r.guilds.end);

    for (n = 0; (rc = gwload_gw_guild_next(&it, &id)) == GWLOAD_OK; n++) {
        ids[n & 3] = id;
    }

    tu_check(rc == GWLOAD_DONE && n == 3);
    tu_check(ids[0] == 1100000000000000001ULL
             && ids[1] == 1100000000000000002ULL
             && ids[2] == gwload_gw_snowflake(tu_str("not-a-number"))
             && (ids[2] >> 63));

    /* no guilds */

    tu_check(tu_decode("{\"op\":0,\"s\":1,\"t\":\"READY\",\"d\":"
                       "{\"guilds\":[],\"session_id\":\"x\"}}", &m)
             == GWLOAD_OK);
    tu_check(gwload_gw_ready(&m, &r) == GWLOAD_OK && r.nguilds == 0);

    /* broken */

    tu_check(tu_decode("{\"op\":0,\"s\":1,\"t\":\"READY\",\"d\":"
                       "{\"session_id\":\"x\"}}", &m) == GWLOAD_OK
             && gwload_gw_ready(&m, &r) == GWLOAD_ERROR);
    tu_check(tu_decode("{\"op\":0,\"s\":1,\"t\":\"READY\",\"d\":"
                       "{\"guilds\":{}}}", &m) == GWLOAD_OK
             && gwload_gw_ready(&m, &r) == GWLOAD_ERROR);
    tu_check(tu_decode("{\"op\":0,\"s\":1,\"t\":\"READY\",\"d\":"
                       "{\"guilds\":[1]}}", &m) == GWLOAD_OK
             && gwload_gw_ready(&m, &r) == GWLOAD_OK);

    gwload_json_iter(&it, &r.guilds, r.guilds.end);
    tu_check(gwload_gw_guild_next(&it, &id) == GWLOAD_ERROR);

    tu_check(gwload_gw_snowflake(tu_str("0")) == 0);
    tu_check(gwload_gw_snowflake(tu_str("18446744073709551615")) >> 63);
}


static void
tu_build(void)
{
    u_char                 buf[GWLOAD_GW_CLIENT_MAX];
    size_t                 n;
    int64_t                x;
    gwload_json_t          key, val;
    gwload_gw_msg_t        m;
    gwload_json_iter_t     it;
    gwload_gw_identify_t   id;
    int                    seen;

    id.token = "tok\"en\\1";
    id.token_len = strlen(id.token);
    id.intents = 513;
    id.shard_id = 3;
    id.shard_n = 8;
    id.large_threshold = 100;

    n = gwload_gw_identify(buf, sizeof(buf), &id);
    tu_check(n > 0);
    tu_check(gwload_gw_decode(buf, n, &m) == GWLOAD_OK && m.op == 2);

    seen = 0;
    gwload_json_iter(&it, &m.d, m.end);

    while (gwload_json_next(&it, &key, &val) == GWLOAD_OK) {
        if (gwload_json_eq(&key, "token")) {
            seen |= (val.end - val.start == 10
                     && memcmp(val.start, "tok\\\"en\\\\1", 10) == 0) ? 1 : 0;

        } else if (gwload_json_eq(&key, "intents")) {
            seen |= (gwload_json_int(&val, &x) == GWLOAD_OK && x == 513)
                    ? 2 : 0;

        } else if (gwload_json_eq(&key, "properties")) {
            seen |= (val.type == GWLOAD_JSON_OBJECT) ? 4 : 0;

        } else if (gwload_json_eq(&key, "shard")) {
            seen |= (val.end - val.start == 5
                     && memcmp(val.start, "[3,8]", 5) == 0) ? 8 : 0;

        } else if (gwload_json_eq(&key, "large_threshold")) {
            seen |= (gwload_json_int(&val, &x) == GWLOAD_OK && x == 100)
                    ? 16 : 0;
        }
    }

    tu_check(seen == 31);

    /* no shard, no large_threshold */

    id.token = "t";
    id.token_len = 1;
    id.shard_id = -1;
    id.large_threshold = 0;

    n = gwload_gw_identify(buf, sizeof(buf), &id);
    buf[n] = '\0';
    tu_check(strcmp((char *) buf, "{\"op\":2,\"d\":{\"token\":\"t\","
                    "\"intents\":513,\"properties\":{\"os\":\"linux\","
                    "\"browser\":\"gwload\",\"device\":\"gwload\"}}}") == 0);

    /* too small */
    tu_check(gwload_gw_identify(buf, 40, &id) == 0);

    n = gwload_gw_heartbeat(buf, sizeof(buf), -1);
    tu_check(n == 17 && memcmp(buf, "{\"op\":1,\"d\":null}", 17) == 0);
    n = gwload_gw_heartbeat(buf, sizeof(buf), 1234);
    tu_check(n == 17 && memcmp(buf, "{\"op\":1,\"d\":1234}", 17) == 0);

    tu_check(strcmp(gwload_gw_close_name(4004), "authentication failed")
             == 0);
    tu_check(strcmp(gwload_gw_close_name(4014), "disallowed intents") == 0);
    tu_check(gwload_gw_close_name(4015) == NULL);
}


/* everything one message can go through in the driver */

static void
tu_consume(const u_char *data, size_t len)
{
    uint64_t            u;
    gwload_gw_msg_t     m;
    gwload_gw_ready_t   r;
    gwload_json_iter_t  it;

    if (gwload_gw_decode(data, len, &m) != GWLOAD_OK) {
        return;
    }

    (void) gwload_gw_hello(&m, &u);
    (void) gwload_gw_object_id(&m.d, m.end, &u);

    if (gwload_gw_ready(&m, &r) == GWLOAD_OK) {
        gwload_json_iter(&it, &r.guilds, r.guilds.end);

        while (gwload_gw_guild_next(&it, &u) == GWLOAD_OK) {
            /* void */
        }
    }
}


static void
tu_malformed(void)
{
    int             k;
    u_char         *copy;
    size_t          i, len, j;
    uint64_t        rng;
    const char     *msg;

    static const char  *msgs[] = {
        "{\"t\":\"READY\",\"s\":1,\"op\":0,\"d\":{\"v\":10,\"guilds\":"
        "[{\"id\":\"11\",\"unavailable\":true},{\"id\":\"12\"}],"
        "\"session_id\":\"a\\\"b\",\"user\":{\"x\":[1,2,{\"y\":null}]}}}",
        "{\"op\":10,\"d\":{\"heartbeat_interval\":41250},\"s\":null,"
        "\"t\":null}",
        "{\"t\":\"GUILD_CREATE\",\"s\":2,\"op\":0,\"d\":{\"members\":"
        "[{\"user\":{\"id\":\"5\",\"name\":\"\\\\\"}}],\"id\":\"11\"}}"
    };

    /* every prefix, in an exact-size heap copy */

    for (k = 0; k < 3; k++) {
        msg = msgs[k];
        len = strlen(msg);

        for (i = 0; i <= len; i++) {
            copy = malloc(i ? i : 1);
            memcpy(copy, msg, i);
            tu_consume(copy, i);
            free(copy);
        }
    }

    /* random byte flips */

    rng = 0x9e3779b97f4a7c15ULL;

    for (j = 0; j < 30000; j++) {
        msg = msgs[j % 3];
        len = strlen(msg);
        copy = malloc(len);
        memcpy(copy, msg, len);

        for (k = 0; k < 3; k++) {
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            i = (rng * 0x2545f4914f6cdd1dULL) % len;
            copy[i] = "{}[]\",:\\0 a"[(rng >> 40) % 11];
        }

        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;

        tu_consume(copy, len - (rng >> 60) % 4);
        free(copy);
    }

    tu_check(1);
}


/* a GUILD_CREATE of about 300 KB with "id" last: MB/s for decode + id */

static void
tu_speed(void)
{
    int              n, rounds;
    u_char          *buf, *p;
    double           secs;
    uint64_t         id, t0, sum;
    gwload_gw_msg_t  m;

    buf = malloc(400 * 1024);
    p = buf;
    p += sprintf((char *) p, "{\"t\":\"GUILD_CREATE\",\"s\":2,\"op\":0,"
                 "\"d\":{\"members\":[");

    for (n = 0; n < 2000; n++) {
        p += sprintf((char *) p, "%s{\"user\":{\"id\":\"%d\",\"username\":"
                     "\"user number %d\",\"avatar\":null,\"bot\":false},"
                     "\"roles\":[\"1\",\"2\"],\"nick\":\"n\\\"%d\","
                     "\"joined_at\":\"2024-01-01T00:00:00+00:00\"}",
                     n ? "," : "", n, n, n);
    }

    p += sprintf((char *) p, "],\"id\":\"1100000000000000007\"}}");

    rounds = 200;
    sum = 0;
    t0 = gwload_now();

    for (n = 0; n < rounds; n++) {
        if (gwload_gw_decode(buf, p - buf, &m) == GWLOAD_OK
            && gwload_gw_object_id(&m.d, m.end, &id) == GWLOAD_OK)
        {
            sum += id;
        }
    }

    secs = (gwload_now() - t0) / 1e9;

    tu_check(sum == 1100000000000000007ULL * rounds);

    printf("scan: %zu-byte GUILD_CREATE, decode + d.id: %.0f MB/s "
           "(%.1f us each)\n", (size_t) (p - buf),
           (p - buf) * (double) rounds / secs / 1e6, secs / rounds * 1e6);

    free(buf);
}


/* Resume (op 6), op 9's d, and the close codes that allow a reconnect */

static void
tu_resume(void)
{
    u_char           buf[GWLOAD_GW_CLIENT_MAX];
    size_t           n;
    gwload_gw_msg_t  m;

    static const u_char  sid[] = "a\\\"b";   /* a\"b, as READY had it */

    n = gwload_gw_resume(buf, sizeof(buf), "t\"k", 3, sid, sizeof(sid) - 1,
                         42);
    buf[n] = '\0';
    tu_check(strcmp((char *) buf, "{\"op\":6,\"d\":{\"token\":\"t\\\"k\","
                    "\"session_id\":\"a\\\"b\",\"seq\":42}}") == 0);
    tu_check(gwload_gw_decode(buf, n, &m) == GWLOAD_OK && m.op == 6
             && m.d.type == GWLOAD_JSON_OBJECT);

    n = gwload_gw_resume(buf, sizeof(buf), "t", 1, sid, sizeof(sid) - 1, 0);
    buf[n] = '\0';
    tu_check(strstr((char *) buf, "\"seq\":null}}") != NULL);

    tu_check(gwload_gw_resume(buf, 40, "t", 1, sid, sizeof(sid) - 1, 42)
             == 0);
    tu_check(gwload_gw_resume(buf, 30, "t", 1, sid, sizeof(sid) - 1, 42)
             == 0);

#define tu_op9(s)                                                             \
    (gwload_gw_decode((const u_char *) (s), strlen(s), &m) == GWLOAD_OK       \
     ? gwload_gw_invalid_session_d(&m) : -2)

    tu_check(tu_op9("{\"op\":9,\"d\":true}") == 1);
    tu_check(tu_op9("{\"op\":9,\"d\":false,\"s\":null}") == 0);
    tu_check(tu_op9("{\"t\":null,\"s\":null,\"op\":9,\"d\":false}") == 0);
    tu_check(tu_op9("{\"op\":9,\"d\":null}") == -1);
    tu_check(tu_op9("{\"op\":9}") == -1);

#undef tu_op9

    /* PROTOCOL.md 1.9 */

    tu_check(gwload_gw_close_action(0) == GWLOAD_GW_ACTION_RESUME);
    tu_check(gwload_gw_close_action(1000) == GWLOAD_GW_ACTION_RESUME);
    tu_check(gwload_gw_close_action(1001) == GWLOAD_GW_ACTION_RESUME);
    tu_check(gwload_gw_close_action(1006) == GWLOAD_GW_ACTION_RESUME);
    tu_check(gwload_gw_close_action(1012) == GWLOAD_GW_ACTION_RESUME);
    tu_check(gwload_gw_close_action(4000) == GWLOAD_GW_ACTION_RESUME);
    tu_check(gwload_gw_close_action(4003) == GWLOAD_GW_ACTION_RESUME);
    tu_check(gwload_gw_close_action(4005) == GWLOAD_GW_ACTION_RESUME);
    tu_check(gwload_gw_close_action(4008) == GWLOAD_GW_ACTION_RESUME);
    tu_check(gwload_gw_close_action(4009) == GWLOAD_GW_ACTION_RESUME);
    tu_check(gwload_gw_close_action(4007) == GWLOAD_GW_ACTION_IDENTIFY);
    tu_check(gwload_gw_close_action(4004) == GWLOAD_GW_ACTION_STOP);
    tu_check(gwload_gw_close_action(4010) == GWLOAD_GW_ACTION_STOP);
    tu_check(gwload_gw_close_action(4011) == GWLOAD_GW_ACTION_STOP);
    tu_check(gwload_gw_close_action(4012) == GWLOAD_GW_ACTION_STOP);
    tu_check(gwload_gw_close_action(4013) == GWLOAD_GW_ACTION_STOP);
    tu_check(gwload_gw_close_action(4014) == GWLOAD_GW_ACTION_STOP);
}


int
main(void)
{
    tu_values();
    tu_iter();
    tu_ints();
    tu_envelope();
    tu_ready();
    tu_build();
    tu_resume();
    tu_malformed();
    tu_speed();

    printf("%u passed, %u failed\n", tu_passed, tu_failed);

    return tu_failed ? 1 : 0;
}
