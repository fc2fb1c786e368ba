
/*
 * gwctl: the commands, one admin API call each (docs/API.md, Admin API),
 * except "token" (offline) and "seed" (gwctl_seed.c).
 */


#include "gwctl.h"

#include <time.h>


/* "/admin/users/" + a snowflake, with room for two of them */
#define GWCTL_PATH_LEN              128


static int gwctl_cmd_ids(gwctl_cmd_t *cmd, int n, const char **names);
static int gwctl_cmd_print(gwctl_cmd_t *cmd, const char *method,
    const char *path, json_t *body);
static int gwctl_cmd_call(gwctl_cmd_t *cmd, const char *method,
    const char *path, json_t *body);


/* POST /admin/users: prints "ID TOKEN" */

int
gwctl_cmd_user_add(gwctl_cmd_t *cmd)
{
    int                rc;
    json_t            *body, *res, *id, *token;
    gwctl_response_t   r;

    body = json_pack("{s:s, s:b}", "username", cmd->args[0],
                     "bot", (int) cmd->bot);
    if (body == NULL) {
        fprintf(stderr, "gwctl: the user name must be UTF-8\n");
        return GWCTL_USAGE;
    }

    if (cmd->id) {
        json_object_set_new(body, "id", json_string(cmd->id));
    }

    rc = gwctl_api(cmd->conf, "POST", "/admin/users", body, &r);

    json_decref(body);

    if (rc != GWCTL_OK) {
        return rc;
    }

    res = gwctl_api_json(&r, "POST /admin/users");
    gwctl_response_free(&r);

    if (res == NULL) {
        return GWCTL_ERROR;
    }

    id = json_object_get(res, "id");
    token = json_object_get(res, "token");

    if (!json_is_string(id) || !json_is_string(token)) {
        fprintf(stderr, "gwctl: POST /admin/users: no \"id\" and \"token\" "
                "in the response\n");
        json_decref(res);
        return GWCTL_ERROR;
    }

    printf("%s %s\n", json_string_value(id), json_string_value(token));

    json_decref(res);

    return GWCTL_OK;
}


int
gwctl_cmd_user_get(gwctl_cmd_t *cmd)
{
    char         path[GWCTL_PATH_LEN];
    const char  *names[] = { "user id" };

    if (gwctl_cmd_ids(cmd, 1, names) != GWCTL_OK) {
        return GWCTL_USAGE;
    }

    snprintf(path, sizeof(path), "/admin/users/%s", cmd->args[0]);

    return gwctl_cmd_print(cmd, "GET", path, NULL);
}


int
gwctl_cmd_user_del(gwctl_cmd_t *cmd)
{
    char         path[GWCTL_PATH_LEN];
    const char  *names[] = { "user id" };

    if (gwctl_cmd_ids(cmd, 1, names) != GWCTL_OK) {
        return GWCTL_USAGE;
    }

    snprintf(path, sizeof(path), "/admin/users/%s", cmd->args[0]);

    return gwctl_cmd_call(cmd, "DELETE", path, NULL);
}


/*
 * PUT /admin/guilds/{id}: name, owner_id when --owner is given, and the
 * channels of --channel (an empty list without any: PUT replaces them).
 */

int
gwctl_cmd_guild_put(gwctl_cmd_t *cmd)
{
    int          rc;
    char         path[GWCTL_PATH_LEN];
    json_t      *body, *channels;
    const char  *names[] = { "guild id" };

    if (gwctl_cmd_ids(cmd, 1, names) != GWCTL_OK) {
        return GWCTL_USAGE;
    }

    channels = cmd->channels ? json_incref(cmd->channels) : json_array();

    body = json_pack("{s:s, s:o}", "name", cmd->args[1], "channels",
                     channels);
    if (body == NULL) {
        fprintf(stderr, "gwctl: the guild name must be UTF-8\n");
        return GWCTL_USAGE;
    }

    if (cmd->owner) {
        json_object_set_new(body, "owner_id", json_string(cmd->owner));
    }

    snprintf(path, sizeof(path), "/admin/guilds/%s", cmd->args[0]);

    rc = gwctl_cmd_print(cmd, "PUT", path, body);

    json_decref(body);

    return rc;
}


int
gwctl_cmd_guild_get(gwctl_cmd_t *cmd)
{
    char         path[GWCTL_PATH_LEN];
    const char  *names[] = { "guild id" };

    if (gwctl_cmd_ids(cmd, 1, names) != GWCTL_OK) {
        return GWCTL_USAGE;
    }

    snprintf(path, sizeof(path), "/admin/guilds/%s", cmd->args[0]);

    return gwctl_cmd_print(cmd, "GET", path, NULL);
}


int
gwctl_cmd_guild_del(gwctl_cmd_t *cmd)
{
    char         path[GWCTL_PATH_LEN];
    const char  *names[] = { "guild id" };

    if (gwctl_cmd_ids(cmd, 1, names) != GWCTL_OK) {
        return GWCTL_USAGE;
    }

    snprintf(path, sizeof(path), "/admin/guilds/%s", cmd->args[0]);

    return gwctl_cmd_call(cmd, "DELETE", path, NULL);
}


int
gwctl_cmd_member_add(gwctl_cmd_t *cmd)
{
    int          rc;
    char         path[GWCTL_PATH_LEN];
    json_t      *body;
    const char  *names[] = { "guild id", "user id" };

    if (gwctl_cmd_ids(cmd, 2, names) != GWCTL_OK) {
        return GWCTL_USAGE;
    }

    snprintf(path, sizeof(path), "/admin/guilds/%s/members/%s",
             cmd->args[0], cmd->args[1]);

    body = json_object();
    if (body == NULL) {
        gwctl_oom();
    }

    rc = gwctl_cmd_call(cmd, "PUT", path, body);

    json_decref(body);

    return rc;
}


int
gwctl_cmd_member_del(gwctl_cmd_t *cmd)
{
    char         path[GWCTL_PATH_LEN];
    const char  *names[] = { "guild id", "user id" };

    if (gwctl_cmd_ids(cmd, 2, names) != GWCTL_OK) {
        return GWCTL_USAGE;
    }

    snprintf(path, sizeof(path), "/admin/guilds/%s/members/%s",
             cmd->args[0], cmd->args[1]);

    return gwctl_cmd_call(cmd, "DELETE", path, NULL);
}


/* POST /admin/guilds/{id}/dispatch {"t": EVENT, "d": DATA} */

int
gwctl_cmd_dispatch(gwctl_cmd_t *cmd)
{
    int            rc;
    char           path[GWCTL_PATH_LEN];
    json_t        *body, *data;
    const char    *names[] = { "guild id" };
    json_error_t   err;

    if (gwctl_cmd_ids(cmd, 1, names) != GWCTL_OK) {
        return GWCTL_USAGE;
    }

    if (cmd->nargs < 3) {
        data = json_object();

    } else if (strcmp(cmd->args[2], "-") == 0) {
        data = json_loadf(stdin, JSON_DECODE_ANY, &err);

    } else {
        data = json_loads(cmd->args[2], JSON_DECODE_ANY, &err);
    }

    if (data == NULL) {
        fprintf(stderr, "gwctl: dispatch: DATA is not JSON: %s\n", err.text);
        return GWCTL_USAGE;
    }

    body = json_pack("{s:s, s:o}", "t", cmd->args[1], "d", data);
    if (body == NULL) {
        fprintf(stderr, "gwctl: dispatch: the event name must be UTF-8\n");
        return GWCTL_USAGE;
    }

    snprintf(path, sizeof(path), "/admin/guilds/%s/dispatch", cmd->args[0]);

    rc = gwctl_cmd_call(cmd, "POST", path, body);

    json_decref(body);

    return rc;
}


/* offline: RUN_DIR/token.secret, issued now unless --issued-at */

int
gwctl_cmd_token(gwctl_cmd_t *cmd)
{
    int          rc;
    char        *secret, token[GWCTL_TOKEN_LEN];
    uint64_t     at;
    const char  *names[] = { "user id" };

    if (gwctl_cmd_ids(cmd, 1, names) != GWCTL_OK) {
        return GWCTL_USAGE;
    }

    secret = gwctl_read_secret(cmd->conf->run_dir, "token.secret");
    if (secret == NULL) {
        return GWCTL_ERROR;
    }

    at = cmd->issued_at_set ? cmd->issued_at : (uint64_t) time(NULL);

    rc = gwctl_token_mint(secret, cmd->args[0], at, token, sizeof(token));

    free(secret);

    if (rc != GWCTL_OK) {
        return GWCTL_ERROR;
    }

    printf("%s\n", token);

    return GWCTL_OK;
}


int
gwctl_cmd_seed(gwctl_cmd_t *cmd)
{
    gwctl_seed_conf_t  *sc;

    sc = &cmd->seed;

    if (sc->users == 0 && sc->guilds == 0) {
        fprintf(stderr, "gwctl: seed: --users N (or --guilds M) is "
                "needed\n");
        return GWCTL_USAGE;
    }

    if (sc->members > sc->users) {
        fprintf(stderr, "gwctl: seed: --members (%" PRIu64 ") is more than "
                "--users (%" PRIu64 ")\n", sc->members, sc->users);
        return GWCTL_USAGE;
    }

    if (sc->members && sc->guilds > UINT64_MAX / sc->members) {
        fprintf(stderr, "gwctl: seed: too many memberships\n");
        return GWCTL_USAGE;
    }

    return gwctl_seed(cmd->conf, sc);
}


/* GET /admin/status[?sessions=1], indented */

int
gwctl_cmd_status(gwctl_cmd_t *cmd)
{
    return gwctl_cmd_print(cmd, "GET",
                           cmd->sessions ? "/admin/status?sessions=1"
                                         : "/admin/status",
                           NULL);
}


/* the first n arguments must be snowflakes */

static int
gwctl_cmd_ids(gwctl_cmd_t *cmd, int n, const char **names)
{
    int       i;
    uint64_t  v;

    for (i = 0; i < n; i++) {
        if (gwctl_snowflake_parse(cmd->args[i], &v) != GWCTL_OK) {
            fprintf(stderr, "gwctl: the %s \"%s\" is not a snowflake (a "
                    "decimal 1..18446744073709551615)\n", names[i],
                    cmd->args[i]);
            return GWCTL_USAGE;
        }
    }

    return GWCTL_OK;
}


/* a call whose JSON answer is printed, indented */

static int
gwctl_cmd_print(gwctl_cmd_t *cmd, const char *method, const char *path,
    json_t *body)
{
    int                rc;
    char               what[GWCTL_PATH_LEN + 16];
    json_t            *res;
    gwctl_response_t   r;

    rc = gwctl_api(cmd->conf, method, path, body, &r);
    if (rc != GWCTL_OK) {
        return rc;
    }

    snprintf(what, sizeof(what), "%s %s", method, path);

    res = gwctl_api_json(&r, what);
    gwctl_response_free(&r);

    if (res == NULL) {
        return GWCTL_ERROR;
    }

    rc = gwctl_print_json(res);

    json_decref(res);

    return rc;
}


/* a call whose answer (204, 202) carries nothing to print */

static int
gwctl_cmd_call(gwctl_cmd_t *cmd, const char *method, const char *path,
    json_t *body)
{
    int                rc;
    gwctl_response_t   r;

    rc = gwctl_api(cmd->conf, method, path, body, &r);
    if (rc != GWCTL_OK) {
        return rc;
    }

    gwctl_response_free(&r);

    return GWCTL_OK;
}
