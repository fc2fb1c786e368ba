/*
 * broadcast_floor: what a broadcast costs this machine with nothing but
 * the kernel in the way.  Two writer processes each accept half of N
 * loopback TCP connections; two reader processes (epoll, edge-triggered)
 * hold them.  Every INTERVAL seconds each writer writes one 700-byte
 * message (the size of a MESSAGE_CREATE, as two iovecs like the gateway's
 * head and body) to each of its sockets; the readers time each delivery
 * from the send time it carries.  The same layout as bench/fanout.sh (2
 * server processes, 2 load processes, 2 cores), without any server or
 * client logic: the lower bound of that benchmark's latency.
 *
 *   broadcast_floor N ROUNDS INTERVAL PORT
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define MESSAGE_SIZE  700
#define PROCS         2


static void
reader(int r, int m, int rounds, struct sockaddr_in *to)
{
    int                  ep, s, e, i;
    long                 k;
    char                 buf[8192];
    double              *lat, t;
    ssize_t              got, off;
    struct epoll_event   ev, evs[512];
    struct sockaddr_in   src;

    ep = epoll_create1(0);

    for (i = 0; i < m; i++) {
        s = socket(AF_INET, SOCK_STREAM, 0);
        memset(&src, 0, sizeof(src));
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000002 + r * 4 + i % 4);

        if (s < 0 || bind(s, (void *) &src, sizeof(src)) != 0
            || connect(s, (void *) to, sizeof(*to)) != 0)
        {
            perror("broadcast_floor: connect");
            exit(1);
        }

        fcntl(s, F_SETFL, O_NONBLOCK);
        ev.events = EPOLLIN | EPOLLET;
        ev.data.fd = s;
        epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    }

    lat = malloc(sizeof(double) * (size_t) m * rounds);
    k = 0;

    while (k < (long) m * rounds) {
        e = epoll_wait(ep, evs, 512, 10000);
        if (e <= 0) {
            break;
        }

        for (i = 0; i < e; i++) {
            for ( ;; ) {
                got = recv(evs[i].data.fd, buf, sizeof(buf), 0);
                if (got <= 0) {
                    break;
                }

                for (off = 0; off + MESSAGE_SIZE <= got; off += MESSAGE_SIZE) {
                    memcpy(&t, buf + off, sizeof(t));
                    lat[k++] = now() - t;
                }

                if (got < (ssize_t) sizeof(buf)) {
                    break;
                }
            }
        }
    }

    qsort(lat, k, sizeof(double), cmp);

    printf("{\"reader\": %d, \"deliveries\": %ld, \"p50_ms\": %.1f, "
           "\"p99_ms\": %.1f, \"max_ms\": %.1f}\n", r, k,
           k ? lat[k / 2] * 1e3 : 0, k ? lat[k * 99 / 100] * 1e3 : 0,
           k ? lat[k - 1] * 1e3 : 0);
    fflush(stdout);
    exit(k == (long) m * rounds ? 0 : 1);
}


static void
writer(int ls, int m, int rounds, double interval, double start)
{
    int            i, r, one, *fds;
    char           msg[MESSAGE_SIZE];
    double         t;
    struct iovec   iov[2];

    one = 1;
    fds = malloc(sizeof(int) * m);

    for (i = 0; i < m; i++) {
        fds[i] = accept(ls, NULL, NULL);
        if (fds[i] < 0) {
            perror("broadcast_floor: accept");
            exit(1);
        }

        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }

    memset(msg, 'x', sizeof(msg));

    for (r = 0; r < rounds; r++) {
        while (now() < start + r * interval) {
            usleep(200);
        }

        t = now();
        memcpy(msg, &t, sizeof(t));

        for (i = 0; i < m; i++) {
            iov[0].iov_base = msg;
            iov[0].iov_len = 32;
            iov[1].iov_base = msg + 32;
            iov[1].iov_len = MESSAGE_SIZE - 32;

            if (writev(fds[i], iov, 2) != MESSAGE_SIZE) {
                perror("broadcast_floor: writev");
                exit(1);
            }
        }
    }

    exit(0);
}


int
main(int argc, char **argv)
{
    int                 n, rounds, ls, one, p, status, failed;
    double              interval, start;
    struct sockaddr_in  a;

    if (argc != 5) {
        fprintf(stderr, "usage: broadcast_floor N ROUNDS INTERVAL PORT\n");
        return 2;
    }

    n = atoi(argv[1]);
    rounds = atoi(argv[2]);
    interval = atof(argv[3]);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(argv[4]));
    a.sin_addr.s_addr = htonl(0x7f000001);

    one = 1;
    ls = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    if (bind(ls, (void *) &a, sizeof(a)) != 0 || listen(ls, 4096) != 0) {
        perror("broadcast_floor: listen");
        return 1;
    }

    /* connections first (readers), then 1 s of quiet, then the rounds */

    start = now() + 1.0 + n / 5000.0;

    for (p = 0; p < PROCS; p++) {
        if (fork() == 0) {
            writer(ls, n / PROCS, rounds, interval, start);
        }
    }

    for (p = 0; p < PROCS; p++) {
        if (fork() == 0) {
            close(ls);
            reader(p, n / PROCS, rounds, &a);
        }
    }

    close(ls);

    failed = 0;

    while (wait(&status) > 0) {
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }

    return failed;
}
