/*
 * resume_floor: what a herd of resumes costs this machine with nothing but
 * the kernel in the way, the lower bound of bench/resume_storm.sh's herd.
 *
 * A "victim" process accepts N loopback TCP connections from CLIENTS
 * client processes (epoll, edge-triggered, source addresses spread over
 * 127.0.4.2 and up) and holds them; SERVERS server processes listen on
 * another port (SO_REUSEPORT, as nginx's workers).  The parent kills the
 * victim with SIGKILL; each client, on the EOF of a held socket, closes
 * it and at once opens a new connection to the servers and plays the
 * packets of a resume: a request of the size of the upgrade, a response
 * of the size of the 101 and Hello, a message of the size of op 6, a
 * response of the size of a replay of two dispatches and RESUMED.  The
 * time from the EOF to that last response is a resume; the run's rate is
 * N over the time from the kill to the last one.
 *
 *   resume_floor N CLIENTS SERVERS VICTIM_PORT PORT
 *
 * Each client prints a JSON line: {"n", "first_eof", "last_done",
 * "p50_ms", "p99_ms"}; the parent prints {"killed": t}.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define REQUEST_SIZE   230      /* GET /?v=10&encoding=json + WS headers */
#define HELLO_SIZE     250      /* 101 response + Hello, one write */
#define RESUME_SIZE    160      /* op 6, masked */
#define REPLAY_SIZE    1250     /* 2 x MESSAGE_CREATE + RESUMED */
#define SOURCES        6
#define EVENTS         512

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT  24
#endif


typedef struct {
    int       fd;
    int       state;            /* 0 held, 1 request sent, 2 op 6 sent */
    size_t    got;
    double    eof_at;
} conn_t;


static char  zeros[4096];


static void
die(const char *what)
{
    perror(what);
    exit(2);
}


static int
listener(int port, int reuseport)
{
    int                 s, one = 1;
    struct sockaddr_in  a;

    s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s == -1) {
        die("socket");
    }

    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    if (reuseport) {
        setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    }

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(s, (struct sockaddr *) &a, sizeof(a)) == -1
        || listen(s, 16384) == -1)
    {
        die("bind/listen");
    }

    return s;
}


/* read what is there; returns bytes, 0 on EOF, -1 on EAGAIN */

static ssize_t
drain(int fd)
{
    char     buf[8192];
    ssize_t  n, total = 0;

    for ( ;; ) {
        n = recv(fd, buf, sizeof(buf), 0);

        if (n > 0) {
            total += n;
            continue;
        }

        if (n == 0) {
            return total ? total : 0;
        }

        return total ? total : -1;
    }
}


/*
 * A server: accept all that is queued, read the request, answer with
 * HELLO_SIZE bytes; read op 6, answer with REPLAY_SIZE bytes; hold.  The
 * victim only accepts and holds (its peers did their exchange long ago).
 */

static void
server(int ls, int victim)
{
    int                 ep, n, i, fd;
    ssize_t             got;
    size_t             *seen;
    struct epoll_event  ev, evs[EVENTS];

    seen = calloc(65536, sizeof(size_t));
    ep = epoll_create1(0);

    if (seen == NULL || ep == -1) {
        die("server init");
    }

    ev.events = EPOLLIN;
    ev.data.fd = ls;
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);

    for ( ;; ) {
        n = epoll_wait(ep, evs, EVENTS, -1);

        for (i = 0; i < n; i++) {
            fd = evs[i].data.fd;

            if (fd == ls) {
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) != -1) {
                    if (fd >= 65536) {
                        close(fd);
                        continue;
                    }

                    seen[fd] = 0;
                    ev.events = EPOLLIN | EPOLLET;
                    ev.data.fd = fd;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }

                continue;
            }

            got = drain(fd);

            if (got == 0) {
                close(fd);
                continue;
            }

            if (got < 0 || victim) {
                continue;
            }

            seen[fd] += got;

            if (seen[fd] == REQUEST_SIZE) {
                (void) send(fd, zeros, HELLO_SIZE, 0);

            } else if (seen[fd] == REQUEST_SIZE + RESUME_SIZE) {
                (void) send(fd, zeros, REPLAY_SIZE, 0);
            }
        }
    }
}


static int
dial(int port, int src)
{
    int                 fd, one = 1;
    struct sockaddr_in  a;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd == -1) {
        die("socket");
    }

    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000402 + src);

    if (bind(fd, (struct sockaddr *) &a, sizeof(a)) == -1) {
        die("bind");
    }

    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(fd, (struct sockaddr *) &a, sizeof(a)) == -1
        && errno != EINPROGRESS)
    {
        die("connect");
    }

    return fd;
}


/*
 * A client: m held connections to the victim; on each one's EOF, close
 * it and resume on the servers' port.  Exits when all m are done.
 */

static void
client(int c, int m, int victim_port, int port, int ready)
{
    int                 ep, n, i, k, fd, done = 0, held = 0;
    char                one = 1;
    ssize_t             got;
    conn_t             *conns, **byfd, *x;
    double              first_eof = 0, last_done = 0, *lat;
    struct epoll_event  ev, evs[EVENTS];

    conns = calloc(m, sizeof(conn_t));
    byfd = calloc(65536, sizeof(conn_t *));
    lat = calloc(m, sizeof(double));
    ep = epoll_create1(0);

    if (conns == NULL || byfd == NULL || lat == NULL || ep == -1) {
        die("client init");
    }

    for (k = 0; k < m; k++) {
        fd = dial(victim_port, (c * m + k) % SOURCES);
        conns[k].fd = fd;
        byfd[fd] = &conns[k];
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);

        /* hold the line: a few hundred in flight at most */
        if (k % 200 == 199) {
            usleep(20000);
        }
    }

    /* held: tell the parent (the victim has accepted them by now) */
    usleep(500000);
    (void) write(ready, &one, 1);

    while (done < m) {
        n = epoll_wait(ep, evs, EVENTS, 30000);

        if (n <= 0) {
            fprintf(stderr, "client %d: stuck at %d of %d\n", c, done, m);
            break;
        }

        for (i = 0; i < n; i++) {
            fd = evs[i].data.fd;
            x = byfd[fd];

            if (x == NULL) {
                continue;
            }

            if (x->state == 0) {
                /* the victim died: close, resume elsewhere at once */
                got = drain(fd);

                if (got != 0 && !(evs[i].events & (EPOLLRDHUP | EPOLLERR))) {
                    continue;
                }

                x->eof_at = now();

                if (first_eof == 0) {
                    first_eof = x->eof_at;
                }

                byfd[fd] = NULL;
                close(fd);

                fd = dial(port, held++ % SOURCES);
                x->fd = fd;
                x->state = 1;
                x->got = 0;
                byfd[fd] = x;
                ev.events = EPOLLOUT | EPOLLIN | EPOLLET;
                ev.data.fd = fd;
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                continue;
            }

            if ((evs[i].events & EPOLLOUT) && x->state == 1 && x->got == 0
                && !(evs[i].events & EPOLLIN))
            {
                /* connected: the upgrade request */
                if (send(fd, zeros, REQUEST_SIZE, 0) != REQUEST_SIZE) {
                    die("send request");
                }

                x->got = 1;     /* sent; the count starts at 1 */
                continue;
            }

            got = drain(fd);

            if (got <= 0) {
                continue;
            }

            x->got += got;

            if (x->state == 1 && x->got == 1 + HELLO_SIZE) {
                if (send(fd, zeros, RESUME_SIZE, 0) != RESUME_SIZE) {
                    die("send op 6");
                }

                x->state = 2;
                x->got = 0;

            } else if (x->state == 2 && x->got == REPLAY_SIZE) {
                x->state = 3;
                last_done = now();
                lat[done++] = (last_done - x->eof_at) * 1000;
            }
        }
    }

    qsort(lat, done, sizeof(double), cmp);

    printf("{\"client\": %d, \"n\": %d, \"first_eof\": %.6f, "
           "\"last_done\": %.6f, \"p50_ms\": %.1f, \"p99_ms\": %.1f}\n",
           c, done, first_eof, last_done,
           done ? lat[done / 2] : 0.0, done ? lat[done * 99 / 100] : 0.0);
    fflush(stdout);

    exit(done == m ? 0 : 1);
}


int
main(int argc, char **argv)
{
    int     n, clients, servers, vport, port, i, ls, vs, status, rc;
    int     pipefd[2];
    char    b;
    pid_t   victim, *pids;

    if (argc != 6) {
        fprintf(stderr, "usage: resume_floor N CLIENTS SERVERS VICTIM_PORT "
                "PORT\n");
        return 2;
    }

    n = atoi(argv[1]);
    clients = atoi(argv[2]);
    servers = atoi(argv[3]);
    vport = atoi(argv[4]);
    port = atoi(argv[5]);

    pids = calloc(clients + servers, sizeof(pid_t));
    if (pids == NULL || pipe(pipefd) == -1) {
        die("init");
    }

    vs = listener(vport, 0);

    victim = fork();
    if (victim == 0) {
        server(vs, 1);
    }

    close(vs);

    for (i = 0; i < servers; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            ls = listener(port, 1);
            server(ls, 0);
        }
    }

    usleep(200000);

    for (i = 0; i < clients; i++) {
        pids[servers + i] = fork();
        if (pids[servers + i] == 0) {
            close(pipefd[0]);
            client(i, n / clients, vport, port, pipefd[1]);
        }
    }

    close(pipefd[1]);

    for (i = 0; i < clients; i++) {
        if (read(pipefd[0], &b, 1) != 1) {
            die("ready");
        }
    }

    printf("{\"killed\": %.6f}\n", now());
    fflush(stdout);
    kill(victim, SIGKILL);

    rc = 0;

    for (i = 0; i < clients; i++) {
        if (waitpid(pids[servers + i], &status, 0) == -1
            || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        {
            rc = 1;
        }
    }

    for (i = 0; i < servers; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
    }

    waitpid(victim, NULL, 0);

    return rc;
}
