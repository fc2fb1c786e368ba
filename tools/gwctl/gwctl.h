
/*
 * gwctl: the command-line client of the gateway node's admin API
 * (docs/API.md, "Admin API" and "gwctl").
 *
 * Private aggregate header: the run configuration, the growable buffer,
 * and the interfaces of the per-concern files (HTTP client, tokens, seed).
 */


#ifndef _GWCTL_H_INCLUDED_
#define _GWCTL_H_INCLUDED_


#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>


typedef unsigned char               u_char;


/* exit statuses (docs/API.md, gwctl) */
#define GWCTL_OK                    0
#define GWCTL_ERROR                 1     /* HTTP, network, I/O errors */
#define GWCTL_USAGE                 2     /* bad command line */

/* HTTP client internal codes */
#define GWCTL_AGAIN                -2
#define GWCTL_DONE                 -4

#define GWCTL_VERSION               "0.1"

#define GWCTL_DEFAULT_PORT          "8080"
#define GWCTL_DEFAULT_RUN_DIR       "run"
#define GWCTL_DEFAULT_TIMEOUT       60          /* seconds, per request */

/* secrets are short files (tools/node.sh writes 64 hex digits) */
#define GWCTL_MAX_SECRET            4096

/* the largest snowflake is 18446744073709551615: 20 digits */
#define GWCTL_SNOWFLAKE_LEN         20

/* ms since 2015-01-01T00:00:00Z, Discord's snowflake epoch */
#define GWCTL_DISCORD_EPOCH_MS      1420070400000ULL

/* a token: 27 + 1 + 14 + 1 + 43 characters at most, with room */
#define GWCTL_TOKEN_LEN             128

/* seed: lines and bytes of one POST /admin/bulk request */
#define GWCTL_SEED_BATCH_LINES      50000
#define GWCTL_SEED_BATCH_BYTES      (8 * 1024 * 1024)


typedef struct {
    char                   *data;
    size_t                  len;
    size_t                  size;
} gwctl_buf_t;


typedef struct {
    /* --url, split */
    char                    host[256];
    char                    port[8];
    char                    host_header[300];
    char                    prefix[256];     /* path prefix, no trailing / */

    const char             *url;
    const char             *run_dir;
    const char             *secret;          /* --secret */
    char                   *admin_secret;    /* loaded on first use */
    int                     timeout;         /* seconds */
} gwctl_conf_t;


typedef struct {
    int                     status;
    char                    reason[64];
    gwctl_buf_t             body;            /* decoded, NUL-terminated */
} gwctl_response_t;


typedef struct {
    uint64_t                users;
    uint64_t                guilds;
    uint64_t                members;
    uint64_t                id_base;         /* 0: from the clock */
    uint64_t                batch;
    const char             *out;             /* NULL or "-": stdout */
    unsigned                quiet:1;
} gwctl_seed_conf_t;


/* the options of the commands (gwctl.c), for the handlers (gwctl_cmd.c) */
typedef struct {
    gwctl_conf_t           *conf;
    char                  **args;            /* after the command words */
    int                     nargs;

    const char             *id;              /* user add --id */
    const char             *owner;           /* guild put --owner */
    json_t                 *channels;        /* guild put --channel... */
    uint64_t                issued_at;       /* token --issued-at */
    unsigned                bot:1;
    unsigned                issued_at_set:1;
    unsigned                sessions:1;      /* status --sessions */

    gwctl_seed_conf_t       seed;
} gwctl_cmd_t;


/* gwctl_cmd.c */
int gwctl_cmd_user_add(gwctl_cmd_t *cmd);
int gwctl_cmd_user_get(gwctl_cmd_t *cmd);
int gwctl_cmd_user_del(gwctl_cmd_t *cmd);
int gwctl_cmd_guild_put(gwctl_cmd_t *cmd);
int gwctl_cmd_guild_get(gwctl_cmd_t *cmd);
int gwctl_cmd_guild_del(gwctl_cmd_t *cmd);
int gwctl_cmd_member_add(gwctl_cmd_t *cmd);
int gwctl_cmd_member_del(gwctl_cmd_t *cmd);
int gwctl_cmd_dispatch(gwctl_cmd_t *cmd);
int gwctl_cmd_token(gwctl_cmd_t *cmd);
int gwctl_cmd_seed(gwctl_cmd_t *cmd);
int gwctl_cmd_status(gwctl_cmd_t *cmd);

/* gwctl_util.c */
void gwctl_oom(void) __attribute__((noreturn));
void *gwctl_alloc(size_t size);
char *gwctl_strdup(const char *s);
void gwctl_buf_reserve(gwctl_buf_t *b, size_t more);
void gwctl_buf_append(gwctl_buf_t *b, const void *p, size_t n);
void gwctl_buf_printf(gwctl_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void gwctl_buf_free(gwctl_buf_t *b);
int gwctl_snowflake_parse(const char *s, uint64_t *v);
int gwctl_uint_parse(const char *s, uint64_t max, uint64_t *v);
double gwctl_now(void);
char *gwctl_read_secret(const char *run_dir, const char *name);

/* gwctl_http.c */
int gwctl_url_parse(gwctl_conf_t *conf, const char *url);
int gwctl_http_request(gwctl_conf_t *conf, const char *method,
    const char *path, const char *ctype, const char *body, size_t len,
    gwctl_response_t *r);
void gwctl_response_free(gwctl_response_t *r);

/* gwctl_api.c */
int gwctl_api_init(gwctl_conf_t *conf);
int gwctl_api(gwctl_conf_t *conf, const char *method, const char *path,
    json_t *body, gwctl_response_t *r);
int gwctl_api_raw(gwctl_conf_t *conf, const char *method, const char *path,
    const char *ctype, const char *body, size_t len, gwctl_response_t *r);
json_t *gwctl_api_json(gwctl_response_t *r, const char *what);
int gwctl_print_json(json_t *json);
void gwctl_print_error(const char *method, const char *path,
    gwctl_response_t *r);

/* gwctl_token.c */
size_t gwctl_base64url(const u_char *in, size_t len, char *out);
int gwctl_token_mint(const char *secret, const char *user_id,
    uint64_t issued_at, char *out, size_t size);

/* gwctl_seed.c */
int gwctl_seed(gwctl_conf_t *conf, gwctl_seed_conf_t *sc);


#endif /* _GWCTL_H_INCLUDED_ */
