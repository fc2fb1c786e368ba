
/*
 * gwctl: main(), the command line and the command table.
 *
 * Options may come before or after the command words (GNU getopt
 * permutes); each command accepts the global options and its own, listed
 * in gwctl_commands[].  "--" ends the options (for a name starting with
 * "-").  Exit status: 0 success, 1 HTTP/network/I/O error, 2 usage error.
 */


#include "gwctl.h"

#include <getopt.h>


/* option bits, for the commands' allowed sets */
#define GWCTL_OPT_BOT               0x0001
#define GWCTL_OPT_ID                0x0002
#define GWCTL_OPT_OWNER             0x0004
#define GWCTL_OPT_CHANNEL           0x0008
#define GWCTL_OPT_ISSUED_AT         0x0010
#define GWCTL_OPT_USERS             0x0020
#define GWCTL_OPT_GUILDS            0x0040
#define GWCTL_OPT_MEMBERS           0x0080
#define GWCTL_OPT_OUT               0x0100
#define GWCTL_OPT_BATCH             0x0200
#define GWCTL_OPT_ID_BASE           0x0400
#define GWCTL_OPT_QUIET             0x0800
#define GWCTL_OPT_SESSIONS          0x1000

#define GWCTL_OPT_SEED              (GWCTL_OPT_USERS | GWCTL_OPT_GUILDS     \
                                     | GWCTL_OPT_MEMBERS | GWCTL_OPT_OUT    \
                                     | GWCTL_OPT_BATCH | GWCTL_OPT_ID_BASE  \
                                     | GWCTL_OPT_QUIET)

#define GWCTL_MAX_TIMEOUT           86400
#define GWCTL_MAX_CHANNEL_TYPE      65535


typedef struct {
    const char             *word1;
    const char             *word2;           /* NULL: one-word command */
    int                     min_args;
    int                     max_args;
    unsigned                options;
    int                   (*handler)(gwctl_cmd_t *cmd);
} gwctl_command_t;


/* long-only options: their values are the bits above, or these */
enum {
    gwctl_opt_url = 0x10000,
    gwctl_opt_run_dir,
    gwctl_opt_secret,
    gwctl_opt_timeout,
    gwctl_opt_version
};


static int gwctl_options(int argc, char **argv, gwctl_cmd_t *cmd,
    unsigned *seen);
static int gwctl_option(gwctl_cmd_t *cmd, int opt, const char *arg);
static int gwctl_channel(gwctl_cmd_t *cmd, const char *arg);
static int gwctl_defaults(gwctl_conf_t *conf);
static const char *gwctl_option_name(unsigned bit);
static void gwctl_usage(FILE *f);


static gwctl_command_t  gwctl_commands[] = {
    { "user", "add", 1, 1, GWCTL_OPT_BOT | GWCTL_OPT_ID,
      gwctl_cmd_user_add },
    { "user", "get", 1, 1, 0, gwctl_cmd_user_get },
    { "user", "del", 1, 1, 0, gwctl_cmd_user_del },
    { "guild", "put", 2, 2, GWCTL_OPT_OWNER | GWCTL_OPT_CHANNEL,
      gwctl_cmd_guild_put },
    { "guild", "get", 1, 1, 0, gwctl_cmd_guild_get },
    { "guild", "del", 1, 1, 0, gwctl_cmd_guild_del },
    { "member", "add", 2, 2, 0, gwctl_cmd_member_add },
    { "member", "del", 2, 2, 0, gwctl_cmd_member_del },
    { "dispatch", NULL, 2, 3, 0, gwctl_cmd_dispatch },
    { "token", NULL, 1, 1, GWCTL_OPT_ISSUED_AT, gwctl_cmd_token },
    { "seed", NULL, 0, 0, GWCTL_OPT_SEED, gwctl_cmd_seed },
    { "status", NULL, 0, 0, GWCTL_OPT_SESSIONS, gwctl_cmd_status },
    { NULL, NULL, 0, 0, 0, NULL }
};


static struct option  gwctl_long_options[] = {
    { "url",        required_argument, NULL, gwctl_opt_url },
    { "run-dir",    required_argument, NULL, gwctl_opt_run_dir },
    { "secret",     required_argument, NULL, gwctl_opt_secret },
    { "timeout",    required_argument, NULL, gwctl_opt_timeout },
    { "bot",        no_argument,       NULL, GWCTL_OPT_BOT },
    { "id",         required_argument, NULL, GWCTL_OPT_ID },
    { "owner",      required_argument, NULL, GWCTL_OPT_OWNER },
    { "channel",    required_argument, NULL, GWCTL_OPT_CHANNEL },
    { "issued-at",  required_argument, NULL, GWCTL_OPT_ISSUED_AT },
    { "users",      required_argument, NULL, GWCTL_OPT_USERS },
    { "guilds",     required_argument, NULL, GWCTL_OPT_GUILDS },
    { "members",    required_argument, NULL, GWCTL_OPT_MEMBERS },
    { "out",        required_argument, NULL, GWCTL_OPT_OUT },
    { "batch",      required_argument, NULL, GWCTL_OPT_BATCH },
    { "id-base",    required_argument, NULL, GWCTL_OPT_ID_BASE },
    { "quiet",      no_argument,       NULL, GWCTL_OPT_QUIET },
    { "sessions",   no_argument,       NULL, GWCTL_OPT_SESSIONS },
    { "version",    no_argument,       NULL, gwctl_opt_version },
    { "help",       no_argument,       NULL, 'h' },
    { NULL, 0, NULL, 0 }
};


int
main(int argc, char **argv)
{
    int                rc, words, nargs;
    unsigned           seen, bit;
    gwctl_cmd_t        cmd;
    gwctl_conf_t       conf;
    gwctl_command_t   *c;

    memset(&conf, 0, sizeof(gwctl_conf_t));
    memset(&cmd, 0, sizeof(gwctl_cmd_t));

    conf.timeout = GWCTL_DEFAULT_TIMEOUT;
    cmd.conf = &conf;
    cmd.seed.batch = GWCTL_SEED_BATCH_LINES;

    rc = gwctl_options(argc, argv, &cmd, &seen);
    if (rc != GWCTL_OK) {
        goto done;
    }

    nargs = argc - optind;
    argv += optind;

    if (nargs == 0) {
        fprintf(stderr, "gwctl: no command\n");
        gwctl_usage(stderr);
        rc = GWCTL_USAGE;
        goto done;
    }

    for (c = gwctl_commands; c->word1; c++) {
        if (strcmp(argv[0], c->word1) != 0) {
            continue;
        }

        if (c->word2 == NULL
            || (nargs > 1 && strcmp(argv[1], c->word2) == 0))
        {
            break;
        }
    }

    if (c->word1 == NULL) {
        fprintf(stderr, "gwctl: unknown command \"%s%s%s\"\n", argv[0],
                nargs > 1 ? " " : "", nargs > 1 ? argv[1] : "");
        gwctl_usage(stderr);
        rc = GWCTL_USAGE;
        goto done;
    }

    words = c->word2 ? 2 : 1;
    nargs -= words;

    if (nargs < c->min_args || nargs > c->max_args) {
        fprintf(stderr, "gwctl: %s%s%s: wrong number of arguments\n",
                c->word1, c->word2 ? " " : "", c->word2 ? c->word2 : "");
        gwctl_usage(stderr);
        rc = GWCTL_USAGE;
        goto done;
    }

    for (bit = 1; bit <= GWCTL_OPT_SESSIONS; bit <<= 1) {
        if ((seen & bit) && !(c->options & bit)) {
            fprintf(stderr, "gwctl: --%s does not apply to \"%s%s%s\"\n",
                    gwctl_option_name(bit), c->word1, c->word2 ? " " : "",
                    c->word2 ? c->word2 : "");
            rc = GWCTL_USAGE;
            goto done;
        }
    }

    rc = gwctl_defaults(&conf);
    if (rc != GWCTL_OK) {
        goto done;
    }

    cmd.args = argv + words;
    cmd.nargs = nargs;

    rc = c->handler(&cmd);

done:

    json_decref(cmd.channels);
    free(conf.admin_secret);

    if (fflush(stdout) != 0 && rc == GWCTL_OK) {
        fprintf(stderr, "gwctl: writing to stdout failed\n");
        rc = GWCTL_ERROR;
    }

    return rc;
}


static int
gwctl_options(int argc, char **argv, gwctl_cmd_t *cmd, unsigned *seen)
{
    int  opt, rc;

    *seen = 0;
    opterr = 0;

    for ( ;; ) {
        opt = getopt_long(argc, argv, ":hV", gwctl_long_options, NULL);

        if (opt == -1) {
            return GWCTL_OK;
        }

        switch (opt) {

        case 'h':
            gwctl_usage(stdout);
            exit(GWCTL_OK);

        case 'V':
        case gwctl_opt_version:
            printf("gwctl " GWCTL_VERSION "\n");
            exit(GWCTL_OK);

        case ':':
            fprintf(stderr, "gwctl: %s needs a value\n", argv[optind - 1]);
            return GWCTL_USAGE;

        case '?':
            fprintf(stderr, "gwctl: unknown option \"%s\"\n",
                    argv[optind - 1]);
            gwctl_usage(stderr);
            return GWCTL_USAGE;
        }

        if (opt < gwctl_opt_url) {
            if ((*seen & (unsigned) opt) && opt != GWCTL_OPT_CHANNEL) {
                fprintf(stderr, "gwctl: --%s is given twice\n",
                        gwctl_option_name((unsigned) opt));
                return GWCTL_USAGE;
            }

            *seen |= (unsigned) opt;
        }

        rc = gwctl_option(cmd, opt, optarg);
        if (rc != GWCTL_OK) {
            return rc;
        }
    }
}


static int
gwctl_option(gwctl_cmd_t *cmd, int opt, const char *arg)
{
    uint64_t       v;
    gwctl_conf_t  *conf;

    conf = cmd->conf;

    switch (opt) {

    case gwctl_opt_url:
        conf->url = arg;
        return GWCTL_OK;

    case gwctl_opt_run_dir:
        conf->run_dir = arg;
        return GWCTL_OK;

    case gwctl_opt_secret:
        if (*arg == '\0') {
            fprintf(stderr, "gwctl: --secret is empty\n");
            return GWCTL_USAGE;
        }

        conf->secret = arg;
        return GWCTL_OK;

    case gwctl_opt_timeout:
        if (gwctl_uint_parse(arg, GWCTL_MAX_TIMEOUT, &v) != GWCTL_OK
            || v == 0)
        {
            fprintf(stderr, "gwctl: --timeout must be 1..%d seconds\n",
                    GWCTL_MAX_TIMEOUT);
            return GWCTL_USAGE;
        }

        conf->timeout = (int) v;
        return GWCTL_OK;

    case GWCTL_OPT_BOT:
        cmd->bot = 1;
        return GWCTL_OK;

    case GWCTL_OPT_QUIET:
        cmd->seed.quiet = 1;
        return GWCTL_OK;

    case GWCTL_OPT_SESSIONS:
        cmd->sessions = 1;
        return GWCTL_OK;

    case GWCTL_OPT_ID:
    case GWCTL_OPT_OWNER:
    case GWCTL_OPT_ID_BASE:
        if (gwctl_snowflake_parse(arg, &v) != GWCTL_OK) {
            fprintf(stderr, "gwctl: --%s: \"%s\" is not a snowflake\n",
                    gwctl_option_name((unsigned) opt), arg);
            return GWCTL_USAGE;
        }

        if (opt == GWCTL_OPT_ID) {
            cmd->id = arg;

        } else if (opt == GWCTL_OPT_OWNER) {
            cmd->owner = arg;

        } else {
            cmd->seed.id_base = v;
        }

        return GWCTL_OK;

    case GWCTL_OPT_CHANNEL:
        return gwctl_channel(cmd, arg);

    case GWCTL_OPT_OUT:
        cmd->seed.out = arg;
        return GWCTL_OK;
    }

    /* the numbers */

    if (gwctl_uint_parse(arg, UINT64_MAX, &v) != GWCTL_OK) {
        fprintf(stderr, "gwctl: --%s: \"%s\" is not a number\n",
                gwctl_option_name((unsigned) opt), arg);
        return GWCTL_USAGE;
    }

    switch (opt) {

    case GWCTL_OPT_ISSUED_AT:
        cmd->issued_at = v;
        cmd->issued_at_set = 1;
        break;

    case GWCTL_OPT_USERS:
        cmd->seed.users = v;
        break;

    case GWCTL_OPT_GUILDS:
        cmd->seed.guilds = v;
        break;

    case GWCTL_OPT_MEMBERS:
        cmd->seed.members = v;
        break;

    case GWCTL_OPT_BATCH:
        if (v == 0) {
            fprintf(stderr, "gwctl: --batch must be at least 1\n");
            return GWCTL_USAGE;
        }

        cmd->seed.batch = v;
        break;
    }

    return GWCTL_OK;
}


/*
 * --channel ID:NAME:TYPE, repeatable.  NAME may contain ":" when TYPE is
 * given; "ID:NAME" is a text channel (type 0).
 */

static int
gwctl_channel(gwctl_cmd_t *cmd, const char *arg)
{
    char         id[GWCTL_SNOWFLAKE_LEN + 1], *name;
    size_t       n;
    json_t      *ch;
    uint64_t     v, type;
    const char  *colon, *last;

    colon = strchr(arg, ':');
    n = colon ? (size_t) (colon - arg) : 0;

    if (n == 0 || n >= sizeof(id)) {
        goto invalid;
    }

    memcpy(id, arg, n);
    id[n] = '\0';

    if (gwctl_snowflake_parse(id, &v) != GWCTL_OK) {
        goto invalid;
    }

    last = strrchr(colon + 1, ':');
    type = 0;

    if (last && gwctl_uint_parse(last + 1, GWCTL_MAX_CHANNEL_TYPE, &type)
                == GWCTL_OK)
    {
        n = (size_t) (last - colon - 1);

    } else {
        type = 0;
        n = strlen(colon + 1);
    }

    if (n == 0) {
        goto invalid;
    }

    name = gwctl_alloc(n + 1);
    memcpy(name, colon + 1, n);
    name[n] = '\0';

    if (cmd->channels == NULL) {
        cmd->channels = json_array();
    }

    ch = json_pack("{s:s, s:s, s:I}", "id", id, "name", name,
                   "type", (json_int_t) type);

    free(name);

    if (cmd->channels == NULL || ch == NULL) {
        fprintf(stderr, "gwctl: --channel: the name must be UTF-8\n");
        json_decref(ch);
        return GWCTL_USAGE;
    }

    json_array_append_new(cmd->channels, ch);

    return GWCTL_OK;

invalid:

    fprintf(stderr, "gwctl: --channel must be ID:NAME:TYPE (ID a "
            "snowflake, TYPE a number), not \"%s\"\n", arg);
    return GWCTL_USAGE;
}


/*
 * --url defaults to http://127.0.0.1:$PORT (8080), --run-dir to $RUN_DIR
 * (run).
 */

static int
gwctl_defaults(gwctl_conf_t *conf)
{
    char         url[300];
    const char  *port, *dir;

    if (conf->url == NULL) {
        port = getenv("PORT");
        if (port == NULL || *port == '\0') {
            port = GWCTL_DEFAULT_PORT;
        }

        snprintf(url, sizeof(url), "http://127.0.0.1:%s", port);

        if (gwctl_url_parse(conf, url) != GWCTL_OK) {
            fprintf(stderr, "gwctl: (from PORT=%s)\n", port);
            return GWCTL_USAGE;
        }

    } else if (gwctl_url_parse(conf, conf->url) != GWCTL_OK) {
        return GWCTL_USAGE;
    }

    if (conf->run_dir == NULL) {
        dir = getenv("RUN_DIR");
        conf->run_dir = (dir && *dir) ? dir : GWCTL_DEFAULT_RUN_DIR;
    }

    return GWCTL_OK;
}


static const char *
gwctl_option_name(unsigned bit)
{
    struct option  *o;

    for (o = gwctl_long_options; o->name; o++) {
        if ((unsigned) o->val == bit) {
            return o->name;
        }
    }

    return "?";
}


static void
gwctl_usage(FILE *f)
{
    fprintf(f,
"usage: gwctl [--url http://127.0.0.1:8080] [--run-dir run] [--secret S]\n"
"             [--timeout SECONDS] COMMAND\n"
"\n"
"  user add NAME [--bot] [--id ID]      create a user, prints \"ID TOKEN\"\n"
"  user get ID                          print the user\n"
"  user del ID                          delete the user\n"
"  guild put ID NAME [--owner ID] [--channel ID:NAME:TYPE]...\n"
"                                       create or replace a guild, prints "
"it\n"
"  guild get ID                         print the guild\n"
"  guild del ID                         delete the guild\n"
"  member add GUILD USER                add a member\n"
"  member del GUILD USER                remove a member\n"
"  dispatch GUILD EVENT [DATA_JSON]     dispatch {\"t\": EVENT, \"d\": DATA}"
"\n"
"                                       to the guild (DATA: {} or - for "
"stdin)\n"
"  token USER_ID [--issued-at UNIX]     mint a token offline from\n"
"                                       RUN_DIR/token.secret\n"
"  seed --users N [--guilds M] [--members K] [--out FILE]\n"
"       [--batch LINES] [--id-base ID] [--quiet]\n"
"                                       bulk-create N bots and M guilds "
"of K\n"
"                                       members; one token a line to FILE\n"
"  status [--sessions]                  print the node's status\n"
"\n"
"--url defaults to http://127.0.0.1:$PORT (8080), --run-dir to $RUN_DIR "
"(run);\n"
"the admin secret is --secret or RUN_DIR/admin.secret.\n"
"Exit status: 0 success, 1 HTTP or network error, 2 usage error.\n");
}
