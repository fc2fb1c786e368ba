
/*
 * gwload: Discord Gateway v10 payloads, client side; see gwload_gateway.h.
 */


#include "gwload.h"


static size_t gwload_gw_escape(u_char *p, u_char *last, const char *s,
    size_t len);


/* PROTOCOL.md 1.9 Gateway close codes */
static const char  *gwload_gw_close_names[] = {
    "unknown error",            /* 4000 */
    "unknown opcode",           /* 4001 */
    "decode error",             /* 4002 */
    "not authenticated",        /* 4003 */
    "authentication failed",    /* 4004 */
    "already authenticated",    /* 4005 */
    "invalid session (old)",    /* 4006, unofficial */
    "invalid seq",              /* 4007 */
    "rate limited",             /* 4008 */
    "session timed out",        /* 4009 */
    "invalid shard",            /* 4010 */
    "sharding required",        /* 4011 */
    "invalid API version",      /* 4012 */
    "invalid intents",          /* 4013 */
    "disallowed intents"        /* 4014 */
};


/*
 * The envelope {op, d, s, t} (PROTOCOL.md 1.2).  Only the top level is
 * read.  When "d" comes after op, s and t (Discord's order is t, s, op, d)
 * it is not skipped: d.end is then the end of the message, which still
 * bounds every later walk of d, and the rest of a big dispatch is never
 * scanned.  Returns GWLOAD_ERROR on malformed input or a missing "op".
 */

int
gwload_gw_decode(const u_char *data, size_t len, gwload_gw_msg_t *m)
{
    int                 c;
    unsigned            seen;
    const u_char       *p, *end;
    gwload_json_t       key, val;
    gwload_json_iter_t  it;

    end = data + len;

    memset(m, 0, sizeof(gwload_gw_msg_t));
    m->op = -1;
    m->end = end;

    p = gwload_json_skip_ws(data, end);

    if (p >= end || *p != '{') {
        return GWLOAD_ERROR;
    }

    /* a container's extent is not known yet: walk it by hand */

    it.pos = p + 1;
    it.end = end;
    it.close = '}';
    it.first = 1;

    seen = 0;

    for ( ;; ) {
        p = gwload_json_skip_ws(it.pos, end);

        if (p < end && *p == (it.first ? '"' : ',') && seen == 7) {
            p = gwload_json_skip_ws(p + (it.first ? 0 : 1), end);

            if ((size_t) (end - p) >= 4 && memcmp(p, "\"d\"", 3) == 0) {
                p = gwload_json_skip_ws(p + 3, end);

                if (p < end && *p == ':') {
                    p = gwload_json_skip_ws(p + 1, end);

                    if (p < end && (*p == '{' || *p == '[')) {
                        m->d.type = (*p == '{') ? GWLOAD_JSON_OBJECT
                                                : GWLOAD_JSON_ARRAY;
                        m->d.start = p;
                        m->d.end = end;
                        break;
                    }
                }
            }
        }

        switch (gwload_json_next(&it, &key, &val)) {

        case GWLOAD_OK:
            break;

        case GWLOAD_DONE:
            goto done;

        default:
            return GWLOAD_ERROR;
        }

        if (gwload_json_eq(&key, "op")) {
            c = 256;            /* no 1-byte key */

        } else if (key.end - key.start == 1) {
            c = key.start[0];

        } else {
            continue;
        }

        switch (c) {

        case 256:
            if (gwload_json_int(&val, &m->op) != GWLOAD_OK || m->op < 0) {
                return GWLOAD_ERROR;
            }

            seen |= 1;
            break;

        case 's':
            if (val.type == GWLOAD_JSON_NUMBER) {
                if (gwload_json_int(&val, &m->s) != GWLOAD_OK) {
                    return GWLOAD_ERROR;
                }

                m->has_s = 1;

            } else if (val.type != GWLOAD_JSON_NULL) {
                return GWLOAD_ERROR;
            }

            seen |= 2;
            break;

        case 't':
            if (val.type != GWLOAD_JSON_STRING
                && val.type != GWLOAD_JSON_NULL)
            {
                return GWLOAD_ERROR;
            }

            m->t = val;
            seen |= 4;
            break;

        case 'd':
            m->d = val;
            break;

        default:
            break;
        }
    }

done:

    return (m->op >= 0) ? GWLOAD_OK : GWLOAD_ERROR;
}


/* Hello: d.heartbeat_interval, a positive integer (ms) */

int
gwload_gw_hello(gwload_gw_msg_t *m, uint64_t *interval_ms)
{
    int                 rc;
    int64_t             n;
    gwload_json_t       key, val;
    gwload_json_iter_t  it;

    if (gwload_json_iter(&it, &m->d, m->end) != GWLOAD_OK
        || m->d.type != GWLOAD_JSON_OBJECT)
    {
        return GWLOAD_ERROR;
    }

    while ((rc = gwload_json_next(&it, &key, &val)) == GWLOAD_OK) {

        if (gwload_json_eq(&key, "heartbeat_interval")) {
            if (gwload_json_int(&val, &n) != GWLOAD_OK || n <= 0) {
                return GWLOAD_ERROR;
            }

            *interval_ms = (uint64_t) n;
            return GWLOAD_OK;
        }
    }

    return GWLOAD_ERROR;
}


/* READY: d.guilds (counted, not stored), d.session_id, resume URL */

int
gwload_gw_ready(gwload_gw_msg_t *m, gwload_gw_ready_t *r)
{
    int                 rc;
    gwload_json_t       key, val;
    gwload_json_iter_t  it, git;

    memset(r, 0, sizeof(gwload_gw_ready_t));

    if (m->d.type != GWLOAD_JSON_OBJECT
        || gwload_json_iter(&it, &m->d, m->end) != GWLOAD_OK)
    {
        return GWLOAD_ERROR;
    }

    while ((rc = gwload_json_next(&it, &key, &val)) == GWLOAD_OK) {

        if (gwload_json_eq(&key, "guilds")) {
            if (val.type != GWLOAD_JSON_ARRAY) {
                return GWLOAD_ERROR;
            }

            r->guilds = val;
            r->nguilds = 0;

            (void) gwload_json_iter(&git, &val, val.end);

            while ((rc = gwload_json_next(&git, NULL, &val)) == GWLOAD_OK) {
                r->nguilds++;
            }

            if (rc != GWLOAD_DONE) {
                return GWLOAD_ERROR;
            }

        } else if (gwload_json_eq(&key, "session_id")) {
            r->session_id = val;

        } else if (gwload_json_eq(&key, "resume_gateway_url")) {
            r->resume_url = val;
        }
    }

    if (rc != GWLOAD_DONE || r->guilds.type != GWLOAD_JSON_ARRAY) {
        return GWLOAD_ERROR;
    }

    return GWLOAD_OK;
}


/* the next unavailable guild {id, unavailable} of READY's d.guilds */

int
gwload_gw_guild_next(gwload_json_iter_t *it, uint64_t *id)
{
    int            rc;
    gwload_json_t  val;

    rc = gwload_json_next(it, NULL, &val);

    if (rc != GWLOAD_OK) {
        return rc;
    }

    return gwload_gw_object_id(&val, val.end, id);
}


/* obj.id, a snowflake string (or number); "end" bounds the walk */

int
gwload_gw_object_id(gwload_json_t *obj, const u_char *end, uint64_t *id)
{
    int                 rc;
    gwload_json_t       key, val;
    gwload_json_iter_t  it;

    if (obj->type != GWLOAD_JSON_OBJECT
        || gwload_json_iter(&it, obj, end) != GWLOAD_OK)
    {
        return GWLOAD_ERROR;
    }

    while ((rc = gwload_json_next(&it, &key, &val)) == GWLOAD_OK) {

        if (!gwload_json_eq(&key, "id")) {
            continue;
        }

        if (val.type != GWLOAD_JSON_STRING && val.type != GWLOAD_JSON_NUMBER)
        {
            return GWLOAD_ERROR;
        }

        *id = gwload_gw_snowflake(val.start, val.end);

        return GWLOAD_OK;
    }

    return GWLOAD_ERROR;
}


/*
 * d.content of a MESSAGE_CREATE (or any dispatch): GWLOAD_OK with the raw
 * string (escapes left as they are), else GWLOAD_DECLINED.  The walk stops
 * at the key, so the members after it are never scanned.
 */

int
gwload_gw_content(gwload_gw_msg_t *m, gwload_json_t *content)
{
    gwload_json_t       key, val;
    gwload_json_iter_t  it;

    if (m->d.type != GWLOAD_JSON_OBJECT
        || gwload_json_iter(&it, &m->d, m->end) != GWLOAD_OK)
    {
        return GWLOAD_DECLINED;
    }

    while (gwload_json_next(&it, &key, &val) == GWLOAD_OK) {

        if (!gwload_json_eq(&key, "content")) {
            continue;
        }

        if (val.type != GWLOAD_JSON_STRING) {
            return GWLOAD_DECLINED;
        }

        *content = val;

        return GWLOAD_OK;
    }

    return GWLOAD_DECLINED;
}


/*
 * A snowflake is a 64-bit integer written as a string (PROTOCOL.md 1.13).
 * Anything else is hashed (FNV-1a, top bit set), so that ids of any form
 * can still be matched.
 */

uint64_t
gwload_gw_snowflake(const u_char *p, const u_char *end)
{
    uint64_t  n;

    if (gwload_json_uint(p, end, &n) == GWLOAD_OK && !(n >> 63)) {
        return n;
    }

    n = 0xcbf29ce484222325ULL;

    for ( ; p < end; p++) {
        n = (n ^ *p) * 0x100000001b3ULL;
    }

    return n | (1ULL << 63);
}


/* Identify, op 2 (PROTOCOL.md 1.6); 0 if it does not fit */

size_t
gwload_gw_identify(u_char *buf, size_t size, gwload_gw_identify_t *id)
{
    int      n;
    u_char  *p, *last;
    size_t   k;

    p = buf;
    last = buf + size;

#define gwload_gw_put(fmt, ...)                                               \
    n = snprintf((char *) p, last - p, fmt, __VA_ARGS__);                     \
    if (n < 0 || n >= last - p) {                                             \
        return 0;                                                             \
    }                                                                         \
    p += n

    gwload_gw_put("%s", "{\"op\":2,\"d\":{\"token\":\"");

    k = gwload_gw_escape(p, last, id->token, id->token_len);
    if (k == 0 && id->token_len) {
        return 0;
    }

    p += k;

    gwload_gw_put("\",\"intents\":%" PRIu64 ",\"properties\":{\"os\":"
                  "\"linux\",\"browser\":\"gwload\",\"device\":\"gwload\"}",
                  id->intents);

    if (id->shard_id >= 0) {
        gwload_gw_put(",\"shard\":[%" PRId64 ",%" PRId64 "]", id->shard_id,
                      id->shard_n);
    }

    if (id->large_threshold > 0) {
        gwload_gw_put(",\"large_threshold\":%" PRId64, id->large_threshold);
    }

    gwload_gw_put("%s", "}}");

#undef gwload_gw_put

    return p - buf;
}


/* a JSON string body; 0 if it does not fit */

static size_t
gwload_gw_escape(u_char *p, u_char *last, const char *s, size_t len)
{
    u_char         c;
    u_char        *start;
    const char    *end;
    static u_char  hex[] = "0123456789abcdef";

    start = p;

    for (end = s + len; s < end; s++) {
        c = (u_char) *s;

        if (last - p < 6) {
            return 0;
        }

        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = c;

        } else if (c < 0x20) {
            *p++ = '\\';
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];

        } else {
            *p++ = c;
        }
    }

    return p - start;
}


/* Heartbeat, op 1 (PROTOCOL.md 1.5): d is the last s, or null (seq < 0) */

size_t
gwload_gw_heartbeat(u_char *buf, size_t size, int64_t seq)
{
    int  n;

    if (seq < 0) {
        n = snprintf((char *) buf, size, "{\"op\":1,\"d\":null}");

    } else {
        n = snprintf((char *) buf, size, "{\"op\":1,\"d\":%" PRId64 "}", seq);
    }

    return (n < 0 || (size_t) n >= size) ? 0 : (size_t) n;
}


/*
 * Resume, op 6 (PROTOCOL.md 1.8): {token, session_id, seq}, seq the last s
 * received (null if none).  session_id is READY's string as it came,
 * escapes included, so it goes back verbatim.  0 if it does not fit.
 */

size_t
gwload_gw_resume(u_char *buf, size_t size, const char *token,
    size_t token_len, const u_char *session_id, size_t session_id_len,
    int64_t seq)
{
    int      n;
    u_char  *p, *last;
    size_t   k;

    static const char  sid[] = "\",\"session_id\":\"";

    p = buf;
    last = buf + size;

    n = snprintf((char *) p, last - p, "{\"op\":6,\"d\":{\"token\":\"");
    if (n < 0 || n >= last - p) {
        return 0;
    }

    p += n;

    k = gwload_gw_escape(p, last, token, token_len);
    if (k == 0 && token_len) {
        return 0;
    }

    p += k;

    if ((size_t) (last - p) < sizeof(sid) - 1 + session_id_len) {
        return 0;
    }

    p = (u_char *) memcpy(p, sid, sizeof(sid) - 1) + sizeof(sid) - 1;
    p = (u_char *) memcpy(p, session_id, session_id_len) + session_id_len;

    if (seq > 0) {
        n = snprintf((char *) p, last - p, "\",\"seq\":%" PRId64 "}}", seq);

    } else {
        n = snprintf((char *) p, last - p, "\",\"seq\":null}}");
    }

    if (n < 0 || n >= last - p) {
        return 0;
    }

    return p + n - buf;
}


/* op 9's d (PROTOCOL.md 1.8): 1 "resumable", 0 not, -1 not a boolean */

int
gwload_gw_invalid_session_d(gwload_gw_msg_t *m)
{
    switch (m->d.type) {

    case GWLOAD_JSON_TRUE:
        return 1;

    case GWLOAD_JSON_FALSE:
        return 0;

    default:
        return -1;
    }
}


/*
 * What a client does once the server closed with "code" (0: the
 * connection dropped without a close frame), PROTOCOL.md 1.9: 4004 and
 * 4010-4014 allow no reconnect; 4007 (invalid seq) answers a Resume, and
 * the same seq would get it again, so identify afresh, as discord.js does;
 * anything else (1000/1001 from the server too, 1006-like drops, 1012,
 * 4000-4003, 4005, 4008, 4009, unknown codes) resumes, as discord.js does
 * with codes it does not know.
 */

int
gwload_gw_close_action(int code)
{
    switch (code) {

    case 4004:                  /* authentication failed */
    case 4010:                  /* invalid shard */
    case 4011:                  /* sharding required */
    case 4012:                  /* invalid API version */
    case 4013:                  /* invalid intents */
    case 4014:                  /* disallowed intents */
        return GWLOAD_GW_ACTION_STOP;

    case 4007:                  /* invalid seq */
        return GWLOAD_GW_ACTION_IDENTIFY;

    default:
        return GWLOAD_GW_ACTION_RESUME;
    }
}


const char *
gwload_gw_close_name(int code)
{
    switch (code) {

    case 1000:
        return "normal";

    case 1001:
        return "going away";

    case 1002:
        return "protocol error";

    case 1005:
        return "no status";

    case 1008:
        return "policy violation";

    case 1009:
        return "message too big";

    case 1011:
        return "internal error";

    case 1012:
        return "service restart";

    case 1013:
        return "try again later";

    default:
        break;
    }

    if (code >= GWLOAD_GW_CLOSE_FIRST && code <= GWLOAD_GW_CLOSE_LAST) {
        return gwload_gw_close_names[code - GWLOAD_GW_CLOSE_FIRST];
    }

    return NULL;
}
