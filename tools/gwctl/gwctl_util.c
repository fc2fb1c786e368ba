
/*
 * gwctl: memory, the growable buffer, number parsing, secret files.
 *
 * gwctl is a short-lived command: running out of memory ends it with
 * status 1 (gwctl_oom()) instead of threading the error through callers.
 */


#include "gwctl.h"

#include <ctype.h>
#include <time.h>


void
gwctl_oom(void)
{
    fprintf(stderr, "gwctl: out of memory\n");
    exit(GWCTL_ERROR);
}


void *
gwctl_alloc(size_t size)
{
    void  *p;

    p = malloc(size ? size : 1);
    if (p == NULL) {
        gwctl_oom();
    }

    return p;
}


char *
gwctl_strdup(const char *s)
{
    char  *p;

    p = strdup(s);
    if (p == NULL) {
        gwctl_oom();
    }

    return p;
}


void
gwctl_buf_reserve(gwctl_buf_t *b, size_t more)
{
    char    *p;
    size_t   size;

    /* one byte more than asked, so that the data can be NUL-terminated */
    if (b->len + more < b->size) {
        return;
    }

    size = b->size ? b->size : 4096;

    while (size <= b->len + more) {
        if (size > SIZE_MAX / 2) {
            gwctl_oom();
        }

        size *= 2;
    }

    p = realloc(b->data, size);
    if (p == NULL) {
        gwctl_oom();
    }

    b->data = p;
    b->size = size;
}


void
gwctl_buf_append(gwctl_buf_t *b, const void *p, size_t n)
{
    gwctl_buf_reserve(b, n);

    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}


void
gwctl_buf_printf(gwctl_buf_t *b, const char *fmt, ...)
{
    int      n;
    va_list  args;

    gwctl_buf_reserve(b, 256);

    va_start(args, fmt);
    n = vsnprintf(b->data + b->len, b->size - b->len, fmt, args);
    va_end(args);

    if (n < 0) {
        gwctl_oom();
    }

    if ((size_t) n >= b->size - b->len) {
        gwctl_buf_reserve(b, (size_t) n);

        va_start(args, fmt);
        n = vsnprintf(b->data + b->len, b->size - b->len, fmt, args);
        va_end(args);
    }

    b->len += (size_t) n;
}


void
gwctl_buf_free(gwctl_buf_t *b)
{
    free(b->data);

    b->data = NULL;
    b->len = 0;
    b->size = 0;
}


/*
 * A snowflake is the decimal string of an unsigned 64-bit integer, "1" ..
 * "18446744073709551615"; "0", signs, spaces and leading zeros are refused
 * (docs/API.md, Conventions).
 */

int
gwctl_snowflake_parse(const char *s, uint64_t *v)
{
    uint64_t  n;

    if (*s < '1' || *s > '9') {
        return GWCTL_ERROR;
    }

    for (n = 0; *s; s++) {
        if (*s < '0' || *s > '9') {
            return GWCTL_ERROR;
        }

        if (n > (UINT64_MAX - (uint64_t) (*s - '0')) / 10) {
            return GWCTL_ERROR;
        }

        n = n * 10 + (uint64_t) (*s - '0');
    }

    *v = n;

    return GWCTL_OK;
}


/* a plain decimal count: digits only, at most max */

int
gwctl_uint_parse(const char *s, uint64_t max, uint64_t *v)
{
    uint64_t  n;

    if (*s == '\0') {
        return GWCTL_ERROR;
    }

    for (n = 0; *s; s++) {
        if (*s < '0' || *s > '9') {
            return GWCTL_ERROR;
        }

        if (n > (max - (uint64_t) (*s - '0')) / 10) {
            return GWCTL_ERROR;
        }

        n = n * 10 + (uint64_t) (*s - '0');
    }

    *v = n;

    return GWCTL_OK;
}


double
gwctl_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


/*
 * RUN_DIR/NAME as a NUL-terminated string.  tools/node.sh writes the
 * secrets without a newline; a trailing newline or spaces that an operator
 * added with an editor are dropped, so that "echo S > token.secret" works
 * (the node must trim the same way: see README.md).  Prints the error and
 * returns NULL on failure.
 */

char *
gwctl_read_secret(const char *run_dir, const char *name)
{
    int      fail;
    char    *s, path[4096];
    FILE    *f;
    size_t   n;

    if ((size_t) snprintf(path, sizeof(path), "%s/%s", run_dir, name)
        >= sizeof(path))
    {
        fprintf(stderr, "gwctl: run directory name too long\n");
        return NULL;
    }

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "gwctl: cannot open %s: %s\n", path,
                strerror(errno));
        return NULL;
    }

    s = gwctl_alloc(GWCTL_MAX_SECRET + 1);

    n = fread(s, 1, GWCTL_MAX_SECRET + 1, f);
    fail = ferror(f);
    fclose(f);

    if (fail) {
        fprintf(stderr, "gwctl: cannot read %s\n", path);
        free(s);
        return NULL;
    }

    if (n > GWCTL_MAX_SECRET) {
        fprintf(stderr, "gwctl: %s: longer than %d bytes\n", path,
                GWCTL_MAX_SECRET);
        free(s);
        return NULL;
    }

    while (n && isspace((u_char) s[n - 1])) {
        n--;
    }

    s[n] = '\0';

    if (n == 0) {
        fprintf(stderr, "gwctl: %s is empty\n", path);
        free(s);
        return NULL;
    }

    if (strlen(s) != n) {
        fprintf(stderr, "gwctl: %s contains a NUL byte\n", path);
        free(s);
        return NULL;
    }

    return s;
}
