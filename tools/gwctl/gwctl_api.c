
/*
 * gwctl: admin API calls on top of the HTTP client: the admin secret, JSON
 * request bodies, status checks and the Discord-shaped errors
 * ({"code": N, "message": "..."}, docs/API.md, Conventions).
 */


#include "gwctl.h"


#define GWCTL_ERROR_BODY_MAX        512


/*
 * Sends the request and checks for a 2xx status.  Any other status is
 * printed with the server's error and returns GWCTL_ERROR; on GWCTL_OK the
 * caller owns r and frees it with gwctl_response_free().
 */

int
gwctl_api_raw(gwctl_conf_t *conf, const char *method, const char *path,
    const char *ctype, const char *body, size_t len, gwctl_response_t *r)
{
    if (gwctl_api_init(conf) != GWCTL_OK) {
        return GWCTL_ERROR;
    }

    if (gwctl_http_request(conf, method, path, ctype, body, len, r)
        != GWCTL_OK)
    {
        return GWCTL_ERROR;
    }

    if (r->status < 200 || r->status > 299) {
        gwctl_print_error(method, path, r);
        gwctl_response_free(r);
        return GWCTL_ERROR;
    }

    return GWCTL_OK;
}


/* the same with a JSON body (NULL: none) */

int
gwctl_api(gwctl_conf_t *conf, const char *method, const char *path,
    json_t *body, gwctl_response_t *r)
{
    int     rc;
    char   *text;

    if (body == NULL) {
        return gwctl_api_raw(conf, method, path, NULL, NULL, 0, r);
    }

    text = json_dumps(body, JSON_COMPACT);
    if (text == NULL) {
        gwctl_oom();
    }

    rc = gwctl_api_raw(conf, method, path, "application/json", text,
                       strlen(text), r);

    free(text);

    return rc;
}


/* the response body as JSON; prints the error and returns NULL if not */

json_t *
gwctl_api_json(gwctl_response_t *r, const char *what)
{
    json_t        *json;
    json_error_t   err;

    json = json_loadb(r->body.data, r->body.len, JSON_DECODE_ANY, &err);
    if (json == NULL) {
        fprintf(stderr, "gwctl: %s: the response is not JSON: %s\n", what,
                err.text);
    }

    return json;
}


int
gwctl_print_json(json_t *json)
{
    if (json_dumpf(json, stdout, JSON_INDENT(2)) != 0
        || fputc('\n', stdout) == EOF)
    {
        fprintf(stderr, "gwctl: writing to stdout failed\n");
        return GWCTL_ERROR;
    }

    return GWCTL_OK;
}


/*
 * "gwctl: DELETE /admin/users/5: HTTP 404 Not Found:
 *  {"code": 10013, "message": "Unknown User"}" on one line; a body that is
 * not JSON is shown as text, shortened and with control characters
 * replaced.
 */

void
gwctl_print_error(const char *method, const char *path, gwctl_response_t *r)
{
    char     *text;
    size_t    i, n;
    json_t   *json;

    fprintf(stderr, "gwctl: %s %s: HTTP %d%s%s", method, path, r->status,
            r->reason[0] ? " " : "", r->reason);

    json = json_loadb(r->body.data, r->body.len, 0, NULL);

    if (json) {
        text = json_dumps(json, JSON_COMPACT | JSON_ENSURE_ASCII);
        json_decref(json);

        if (text) {
            fprintf(stderr, ": %s\n", text);
            free(text);
            return;
        }
    }

    n = r->body.len;
    while (n && (r->body.data[n - 1] == '\n' || r->body.data[n - 1] == '\r'))
    {
        n--;
    }

    if (n == 0) {
        fputc('\n', stderr);
        return;
    }

    fputs(": ", stderr);

    for (i = 0; i < n && i < GWCTL_ERROR_BODY_MAX; i++) {
        fputc((u_char) r->body.data[i] < ' ' ? ' ' : r->body.data[i],
              stderr);
    }

    fputs(i < n ? "...\n" : "\n", stderr);
}


/*
 * The admin secret: --secret, else RUN_DIR/admin.secret.  It goes into a
 * header line, so it must be visible ASCII.  Called by the first request;
 * seed calls it first, to fail before it truncates --out.
 */

int
gwctl_api_init(gwctl_conf_t *conf)
{
    const char  *p;

    if (conf->admin_secret) {
        return GWCTL_OK;
    }

    if (conf->secret) {
        conf->admin_secret = gwctl_strdup(conf->secret);

    } else {
        conf->admin_secret = gwctl_read_secret(conf->run_dir,
                                               "admin.secret");
        if (conf->admin_secret == NULL) {
            fprintf(stderr, "gwctl: the admin secret is needed: use "
                    "--run-dir DIR or --secret S\n");
            return GWCTL_ERROR;
        }
    }

    for (p = conf->admin_secret; *p; p++) {
        if ((u_char) *p <= ' ' || (u_char) *p >= 0x7f) {
            fprintf(stderr, "gwctl: the admin secret must be visible "
                    "ASCII characters\n");
            return GWCTL_ERROR;
        }
    }

    return GWCTL_OK;
}
