
/*
 * Copyright (C) The gateway authors
 */


#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "sfu_log.h"
#include "sfu_loop.h"


/*
 * The only place that waits: one epoll set, signals delivered as a file
 * descriptor (signalfd) so that they are handled between events and never
 * interrupt protocol code.  SIGTERM and SIGINT end the loop.
 */

#define SFU_LOOP_MAX_FDS     64
#define SFU_LOOP_MAX_EVENTS  64


typedef struct {
    int                   fd;
    sfu_loop_handler_pt   handler;
    void                 *data;
} sfu_loop_watch_t;


struct sfu_loop_s {
    int                   epfd;
    int                   sigfd;
    int                   stop;
    int                   nwatches;
    sfu_loop_watch_t      watches[SFU_LOOP_MAX_FDS];
};


static void sfu_loop_signal_handler(sfu_loop_t *loop, int fd, void *data);


sfu_loop_t *
sfu_loop_create(void)
{
    sigset_t     set;
    sfu_loop_t  *loop;

    loop = calloc(1, sizeof(sfu_loop_t));
    if (loop == NULL) {
        sfu_log(SFU_LOG_ERR, "calloc() failed");
        return NULL;
    }

    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd == -1) {
        sfu_log(SFU_LOG_ERR, "epoll_create1() failed: %s", strerror(errno));
        free(loop);
        return NULL;
    }

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        sfu_log(SFU_LOG_ERR, "sigprocmask() failed: %s", strerror(errno));
        goto failed;
    }

    loop->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (loop->sigfd == -1) {
        sfu_log(SFU_LOG_ERR, "signalfd() failed: %s", strerror(errno));
        goto failed;
    }

    if (sfu_loop_add(loop, loop->sigfd, sfu_loop_signal_handler, NULL)
        != SFU_OK)
    {
        close(loop->sigfd);
        goto failed;
    }

    return loop;

failed:

    close(loop->epfd);
    free(loop);

    return NULL;
}


void
sfu_loop_destroy(sfu_loop_t *loop)
{
    close(loop->sigfd);
    close(loop->epfd);
    free(loop);
}


int
sfu_loop_add(sfu_loop_t *loop, int fd, sfu_loop_handler_pt handler,
    void *data)
{
    sfu_loop_watch_t    *w;
    struct epoll_event   ev;

    if (loop->nwatches == SFU_LOOP_MAX_FDS) {
        sfu_log(SFU_LOG_ERR, "too many descriptors in the loop");
        return SFU_ERROR;
    }

    w = &loop->watches[loop->nwatches];
    w->fd = fd;
    w->handler = handler;
    w->data = data;

    ev.events = EPOLLIN;
    ev.data.ptr = w;

    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
        sfu_log(SFU_LOG_ERR, "epoll_ctl() failed: %s", strerror(errno));
        return SFU_ERROR;
    }

    loop->nwatches++;

    return SFU_OK;
}


int
sfu_loop_run(sfu_loop_t *loop)
{
    int                  i, n;
    sfu_loop_watch_t    *w;
    struct epoll_event   events[SFU_LOOP_MAX_EVENTS];

    while (!loop->stop) {

        n = epoll_wait(loop->epfd, events, SFU_LOOP_MAX_EVENTS, -1);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            sfu_log(SFU_LOG_ERR, "epoll_wait() failed: %s", strerror(errno));
            return SFU_ERROR;
        }

        for (i = 0; i < n; i++) {
            w = events[i].data.ptr;
            w->handler(loop, w->fd, w->data);
        }
    }

    return SFU_OK;
}


static void
sfu_loop_signal_handler(sfu_loop_t *loop, int fd, void *data)
{
    ssize_t                   n;
    struct signalfd_siginfo   si;

    for ( ;; ) {
        n = read(fd, &si, sizeof(si));

        if (n != (ssize_t) sizeof(si)) {
            return;
        }

        switch (si.ssi_signo) {

        case SIGTERM:
        case SIGINT:
            sfu_log(SFU_LOG_INFO, "signal %u received, exiting",
                    si.ssi_signo);
            loop->stop = 1;
            break;

        default:
            sfu_log(SFU_LOG_INFO, "signal %u received, ignored",
                    si.ssi_signo);
            break;
        }
    }
}


sfu_msec_t
sfu_loop_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (sfu_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
