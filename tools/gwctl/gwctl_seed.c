
/*
 * gwctl seed: N bot users, M guilds (a text and a voice channel each) and
 * K members per guild through POST /admin/bulk (docs/API.md, gwctl and
 * Bulk operations).
 *
 * The operations form one sequence of N + M + M*K NDJSON lines, users
 * first, then guilds, then members, sent in order in requests of at most
 * --batch lines (and GWCTL_SEED_BATCH_BYTES), each answered by one result
 * line per input line.  Guild g gets users[(g*K + i) mod N], i < K.
 *
 * All ids are chosen here, so that no request waits for another's ids:
 *
 *   user i            base + i
 *   guild g           base + N + g
 *   its channels      base + N + M + 2g (text), + 1 (voice)
 *
 * base is --id-base, or a Discord-style snowflake of now (milliseconds
 * since 2015 in the top 42 bits, zeros below), so that every run makes new
 * objects.  A rerun with the same --id-base replaces the guilds in place
 * (PUT semantics), and users that already exist ("exists" in the error
 * line) get tokens minted offline from RUN_DIR/token.secret.
 */


#include "gwctl.h"

#include <time.h>


/* error lines printed before the run stops */
#define GWCTL_SEED_MAX_ERRORS       10

/* counts are bounded so that the id arithmetic cannot overflow */
#define GWCTL_SEED_MAX_COUNT        (1ULL << 32)


typedef struct {
    gwctl_conf_t           *conf;
    gwctl_seed_conf_t      *sc;

    uint64_t                base;
    uint64_t                total;           /* lines */
    uint64_t                next;            /* the next line to send */
    uint64_t                existed;         /* users already there */
    uint64_t                ntokens;
    unsigned                errors;

    gwctl_buf_t             body;
    gwctl_buf_t             tokens;          /* "TOKEN\n" per user */
    char                   *token_secret;    /* loaded when needed */
    FILE                   *out;
    double                  start;
} gwctl_seed_t;


static int gwctl_seed_ids(gwctl_seed_t *s);
static void gwctl_seed_line(gwctl_seed_t *s, uint64_t j);
static int gwctl_seed_batch(gwctl_seed_t *s);
static int gwctl_seed_results(gwctl_seed_t *s, uint64_t first,
    uint64_t count, gwctl_response_t *r);
static int gwctl_seed_result(gwctl_seed_t *s, uint64_t j, const char *line,
    size_t len);
static int gwctl_seed_user(gwctl_seed_t *s, uint64_t j, json_t *res);
static int gwctl_seed_fail(gwctl_seed_t *s, uint64_t j, const char *why,
    const char *line, size_t len);
static void gwctl_seed_describe(gwctl_seed_t *s, uint64_t j, char *buf,
    size_t size);
static int gwctl_seed_write_tokens(gwctl_seed_t *s);
static void gwctl_seed_progress(gwctl_seed_t *s);


int
gwctl_seed(gwctl_conf_t *conf, gwctl_seed_conf_t *sc)
{
    int            rc;
    gwctl_seed_t   s;

    memset(&s, 0, sizeof(gwctl_seed_t));
    s.conf = conf;
    s.sc = sc;

    rc = gwctl_seed_ids(&s);
    if (rc != GWCTL_OK) {
        return rc;
    }

    if (gwctl_api_init(conf) != GWCTL_OK) {
        return GWCTL_ERROR;
    }

    if (sc->out == NULL || strcmp(sc->out, "-") == 0) {
        s.out = stdout;

    } else {
        s.out = fopen(sc->out, "w");
        if (s.out == NULL) {
            fprintf(stderr, "gwctl: seed: %s: %s\n", sc->out,
                    strerror(errno));
            return GWCTL_ERROR;
        }
    }

    s.start = gwctl_now();
    rc = GWCTL_OK;

    if (s.sc->users == 0) {
        rc = gwctl_seed_write_tokens(&s);
    }

    while (rc == GWCTL_OK && s.next < s.total) {
        rc = gwctl_seed_batch(&s);
    }

    if (s.out != stdout && fclose(s.out) != 0 && rc == GWCTL_OK) {
        fprintf(stderr, "gwctl: seed: %s: %s\n", sc->out, strerror(errno));
        rc = GWCTL_ERROR;
    }

    if (rc == GWCTL_OK && !sc->quiet) {
        fprintf(stderr, "seed: %" PRIu64 " users (%" PRIu64 " existed), "
                "%" PRIu64 " guilds, %" PRIu64 " members in %.2f s; "
                "ids from %" PRIu64 "\n",
                sc->users, s.existed, sc->guilds, sc->guilds * sc->members,
                gwctl_now() - s.start, s.base);
    }

    gwctl_buf_free(&s.body);
    gwctl_buf_free(&s.tokens);
    free(s.token_secret);

    return rc;
}


static int
gwctl_seed_ids(gwctl_seed_t *s)
{
    uint64_t            span, ms;
    struct timespec     ts;
    gwctl_seed_conf_t  *sc;

    sc = s->sc;

    if (sc->users > GWCTL_SEED_MAX_COUNT
        || sc->guilds > GWCTL_SEED_MAX_COUNT)
    {
        fprintf(stderr, "gwctl: seed: at most %llu users and guilds\n",
                GWCTL_SEED_MAX_COUNT);
        return GWCTL_USAGE;
    }

    /* M*K fits: checked by the caller */
    span = sc->users + 3 * sc->guilds;

    if (sc->guilds * sc->members > UINT64_MAX - span) {
        fprintf(stderr, "gwctl: seed: too many lines\n");
        return GWCTL_USAGE;
    }

    /* lines: users, guilds, members */
    s->total = sc->users + sc->guilds + sc->guilds * sc->members;

    if (sc->id_base) {
        s->base = sc->id_base;

    } else {
        clock_gettime(CLOCK_REALTIME, &ts);
        ms = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
        s->base = (ms - GWCTL_DISCORD_EPOCH_MS) << 22;
    }

    if (s->base > UINT64_MAX - span) {
        fprintf(stderr, "gwctl: seed: --id-base %" PRIu64 " leaves no room "
                "for %" PRIu64 " ids\n", s->base, span);
        return GWCTL_USAGE;
    }

    return GWCTL_OK;
}


/* appends line j of the sequence to s->body */

static void
gwctl_seed_line(gwctl_seed_t *s, uint64_t j)
{
    uint64_t            n, m, k, g, u, ch;
    gwctl_seed_conf_t  *sc;

    sc = s->sc;
    n = sc->users;
    m = sc->guilds;
    k = sc->members;

    if (j < n) {
        gwctl_buf_printf(&s->body,
                         "{\"op\":\"user\",\"id\":\"%" PRIu64 "\","
                         "\"username\":\"load-%" PRIu64 "\",\"bot\":true}\n",
                         s->base + j, j);
        return;
    }

    if (j < n + m) {
        g = j - n;
        ch = s->base + n + m + 2 * g;

        gwctl_buf_printf(&s->body,
                         "{\"op\":\"guild\",\"id\":\"%" PRIu64 "\","
                         "\"name\":\"load-guild-%" PRIu64 "\",",
                         s->base + n + g, g);

        if (k) {
            gwctl_buf_printf(&s->body, "\"owner_id\":\"%" PRIu64 "\",",
                             s->base + (g * k) % n);
        }

        gwctl_buf_printf(&s->body,
                         "\"channels\":["
                         "{\"id\":\"%" PRIu64 "\",\"name\":\"general\","
                         "\"type\":0},"
                         "{\"id\":\"%" PRIu64 "\",\"name\":\"Voice\","
                         "\"type\":2}]}\n",
                         ch, ch + 1);
        return;
    }

    j -= n + m;
    g = j / k;
    u = (g * k + j % k) % n;

    gwctl_buf_printf(&s->body,
                     "{\"op\":\"member\",\"guild_id\":\"%" PRIu64 "\","
                     "\"user_id\":\"%" PRIu64 "\"}\n",
                     s->base + n + g, s->base + u);
}


static int
gwctl_seed_batch(gwctl_seed_t *s)
{
    int                rc;
    uint64_t           first, count;
    gwctl_response_t   r;

    first = s->next;
    s->body.len = 0;

    for (count = 0;
         count < s->sc->batch && s->next < s->total
         && s->body.len < GWCTL_SEED_BATCH_BYTES;
         count++)
    {
        gwctl_seed_line(s, s->next++);
    }

    rc = gwctl_api_raw(s->conf, "POST", "/admin/bulk",
                       "application/x-ndjson", s->body.data, s->body.len,
                       &r);
    if (rc != GWCTL_OK) {
        fprintf(stderr, "gwctl: seed: stopped at line %" PRIu64 " of %"
                PRIu64 "\n", first, s->total);
        return rc;
    }

    rc = gwctl_seed_results(s, first, count, &r);

    gwctl_response_free(&r);

    /* the users exist even if a later line of the batch failed */

    if (first < s->sc->users && s->next >= s->sc->users
        && s->ntokens == s->sc->users)
    {
        if (gwctl_seed_write_tokens(s) != GWCTL_OK) {
            return GWCTL_ERROR;
        }
    }

    if (rc != GWCTL_OK) {
        return rc;
    }

    gwctl_seed_progress(s);

    return GWCTL_OK;
}


/* the NDJSON answer: one line per line sent, in order */

static int
gwctl_seed_results(gwctl_seed_t *s, uint64_t first, uint64_t count,
    gwctl_response_t *r)
{
    char      *p, *end, *nl;
    size_t     len;
    uint64_t   j;

    p = r->body.data;
    end = p + r->body.len;
    j = first;

    while (p < end) {
        nl = memchr(p, '\n', (size_t) (end - p));
        len = nl ? (size_t) (nl - p) : (size_t) (end - p);

        if (len && p[len - 1] == '\r') {
            len--;
        }

        if (len) {
            if (j == first + count) {
                fprintf(stderr, "gwctl: seed: POST /admin/bulk: more "
                        "result lines than the %" PRIu64 " sent\n", count);
                return GWCTL_ERROR;
            }

            gwctl_seed_result(s, j++, p, len);
        }

        p = nl ? nl + 1 : end;
    }

    if (j != first + count) {
        fprintf(stderr, "gwctl: seed: POST /admin/bulk: %" PRIu64 " result "
                "lines for the %" PRIu64 " sent\n", j - first, count);
        return GWCTL_ERROR;
    }

    if (s->errors) {
        fprintf(stderr, "gwctl: seed: %u line%s failed in lines %" PRIu64
                "..%" PRIu64 "; stopped\n", s->errors,
                s->errors == 1 ? "" : "s", first, first + count - 1);
        return GWCTL_ERROR;
    }

    return GWCTL_OK;
}


/*
 * One result line: {"id","token"} (user), {"id"} (guild),
 * {"guild_id","user_id"} (member), or {"code","message"}.
 */

static int
gwctl_seed_result(gwctl_seed_t *s, uint64_t j, const char *line, size_t len)
{
    char          id[GWCTL_SNOWFLAKE_LEN + 1];
    json_t       *res, *v;
    uint64_t      n, m;
    const char   *want;

    res = json_loadb(line, len, 0, NULL);
    if (!json_is_object(res)) {
        json_decref(res);
        return gwctl_seed_fail(s, j, "not a JSON object", line, len);
    }

    n = s->sc->users;
    m = s->sc->guilds;

    if (j < n) {
        return gwctl_seed_user(s, j, res);
    }

    if (json_object_get(res, "code")) {
        json_decref(res);
        return gwctl_seed_fail(s, j, NULL, line, len);
    }

    if (j < n + m) {
        snprintf(id, sizeof(id), "%" PRIu64, s->base + j);
        v = json_object_get(res, "id");
        want = "id";

    } else {
        v = json_object_get(res, "user_id");
        want = "user_id";
    }

    if (!json_is_string(v)
        || (j < n + m && strcmp(json_string_value(v), id) != 0))
    {
        json_decref(res);
        return gwctl_seed_fail(s, j, want, line, len);
    }

    json_decref(res);

    return GWCTL_OK;
}


static int
gwctl_seed_user(gwctl_seed_t *s, uint64_t j, json_t *res)
{
    int          rc, code;
    char         id[GWCTL_SNOWFLAKE_LEN + 1], token[GWCTL_TOKEN_LEN], *text;
    json_t      *v, *t;
    const char  *msg;

    snprintf(id, sizeof(id), "%" PRIu64, s->base + j);

    v = json_object_get(res, "id");
    t = json_object_get(res, "token");

    if (json_is_string(v) && json_is_string(t)
        && strcmp(json_string_value(v), id) == 0)
    {
        gwctl_buf_printf(&s->tokens, "%s\n", json_string_value(t));
        s->ntokens++;
        json_decref(res);
        return GWCTL_OK;
    }

    /* a rerun: the user exists, its token needs no server */

    msg = json_string_value(json_object_get(res, "message"));

    if (json_object_get(res, "code") && msg && strcasestr(msg, "exist")) {
        if (s->token_secret == NULL) {
            s->token_secret = gwctl_read_secret(s->conf->run_dir,
                                                "token.secret");
        }

        if (s->token_secret
            && gwctl_token_mint(s->token_secret, id, (uint64_t) time(NULL),
                                token, sizeof(token))
               == GWCTL_OK)
        {
            gwctl_buf_printf(&s->tokens, "%s\n", token);
            s->ntokens++;
            s->existed++;
            json_decref(res);
            return GWCTL_OK;
        }
    }

    code = (json_object_get(res, "code") != NULL);
    text = json_dumps(res, JSON_COMPACT);
    json_decref(res);

    rc = gwctl_seed_fail(s, j, code ? NULL : "id", text ? text : "?",
                         text ? strlen(text) : 1);

    free(text);

    return rc;
}


static int
gwctl_seed_fail(gwctl_seed_t *s, uint64_t j, const char *why,
    const char *line, size_t len)
{
    char  what[128];

    if (s->errors++ < GWCTL_SEED_MAX_ERRORS) {
        gwctl_seed_describe(s, j, what, sizeof(what));

        fprintf(stderr, "gwctl: seed: %s: %s%s%s%.*s\n", what,
                why ? "no valid \"" : "", why ? why : "",
                why ? "\" in " : "", (int) (len > 300 ? 300 : len), line);
    }

    return GWCTL_ERROR;
}


static void
gwctl_seed_describe(gwctl_seed_t *s, uint64_t j, char *buf, size_t size)
{
    uint64_t  n, m, k;

    n = s->sc->users;
    m = s->sc->guilds;
    k = s->sc->members;

    if (j < n) {
        snprintf(buf, size, "user %" PRIu64 " (id %" PRIu64 ")", j,
                 s->base + j);

    } else if (j < n + m) {
        snprintf(buf, size, "guild %" PRIu64 " (id %" PRIu64 ")", j - n,
                 s->base + j);

    } else {
        j -= n + m;
        snprintf(buf, size, "member %" PRIu64 " of guild %" PRIu64
                 " (user %" PRIu64 ")", j % k, j / k,
                 s->base + ((j / k) * k + j % k) % n);
    }
}


static int
gwctl_seed_write_tokens(gwctl_seed_t *s)
{
    if ((s->tokens.len
         && fwrite(s->tokens.data, 1, s->tokens.len, s->out)
            != s->tokens.len)
        || fflush(s->out) != 0)
    {
        fprintf(stderr, "gwctl: seed: writing the tokens: %s\n",
                strerror(errno));
        return GWCTL_ERROR;
    }

    gwctl_buf_free(&s->tokens);

    return GWCTL_OK;
}


static void
gwctl_seed_progress(gwctl_seed_t *s)
{
    uint64_t            n, m, users, guilds;
    gwctl_seed_conf_t  *sc;

    sc = s->sc;

    if (sc->quiet) {
        return;
    }

    n = sc->users;
    m = sc->guilds;
    users = s->next < n ? s->next : n;
    guilds = s->next < n ? 0 : (s->next < n + m ? s->next - n : m);

    fprintf(stderr, "seed: %" PRIu64 "/%" PRIu64 " lines: users %" PRIu64
            "/%" PRIu64 ", guilds %" PRIu64 "/%" PRIu64 ", members %" PRIu64
            "/%" PRIu64 " (%.2f s)\n",
            s->next, s->total, users, n, guilds, m,
            s->next > n + m ? s->next - n - m : 0, m * sc->members,
            gwctl_now() - s->start);
}
