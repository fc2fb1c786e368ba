
/*
 * Copyright (C) The gateway authors
 */


#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sfu_log.h"


/* the daemon's only process-wide state besides its loop */
static int  sfu_log_fd = STDERR_FILENO;
static int  sfu_log_level = SFU_LOG_INFO;

static const char  *sfu_log_levels[] = { "error", "warn", "info", "debug" };


int
sfu_log_open(const char *path, int level)
{
    int  fd;

    sfu_log_level = level;

    if (path == NULL) {
        return SFU_OK;
    }

    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd == -1) {
        fprintf(stderr, "gateway-sfu: open(\"%s\") failed: %s\n",
                path, strerror(errno));
        return SFU_ERROR;
    }

    sfu_log_fd = fd;

    return SFU_OK;
}


void
sfu_log(int level, const char *fmt, ...)
{
    char        buf[1024];
    size_t      n;
    va_list     args;
    time_t      now;
    struct tm   tm;

    if (level > sfu_log_level) {
        return;
    }

    now = time(NULL);
    localtime_r(&now, &tm);

    n = strftime(buf, sizeof(buf), "%Y/%m/%d %H:%M:%S", &tm);
    n += snprintf(buf + n, sizeof(buf) - n, " [%s] %d: ",
                  sfu_log_levels[level], (int) getpid());

    va_start(args, fmt);
    n += vsnprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0,
                   fmt, args);
    va_end(args);

    if (n >= sizeof(buf)) {
        n = sizeof(buf) - 1;
    }

    buf[n++] = '\n';

    if (write(sfu_log_fd, buf, n) == -1) {
        /* nowhere left to report it */
    }
}
