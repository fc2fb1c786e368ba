
/*
 * Copyright (C) The gateway authors
 */


#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sfu_log.h"
#include "sfu_udp.h"


/*
 * The media socket: one UDP port for every participant (ICE-lite
 * demultiplexes by ufrag and 5-tuple).  Datagrams are drained with
 * recvmmsg(); until the ICE, DTLS and SRTP cores are attached they are
 * only counted.
 */

#define SFU_UDP_BATCH     32
#define SFU_UDP_MAX_SIZE  1500


static void sfu_udp_read_handler(sfu_loop_t *loop, int fd, void *data);


int
sfu_udp_open(sfu_udp_t *udp, const char *addr, int port)
{
    int                 fd, one;
    struct sockaddr_in  sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);

    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        sfu_log(SFU_LOG_ERR, "invalid IPv4 address \"%s\"", addr);
        return SFU_ERROR;
    }

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        sfu_log(SFU_LOG_ERR, "socket() failed: %s", strerror(errno));
        return SFU_ERROR;
    }

    one = 1;

    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1) {
        sfu_log(SFU_LOG_ERR, "setsockopt(SO_REUSEADDR) failed: %s",
                strerror(errno));
        close(fd);
        return SFU_ERROR;
    }

    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1) {
        sfu_log(SFU_LOG_ERR, "bind() to %s:%d failed: %s",
                addr, port, strerror(errno));
        close(fd);
        return SFU_ERROR;
    }

    udp->fd = fd;
    udp->datagrams = 0;
    udp->bytes = 0;

    return SFU_OK;
}


int
sfu_udp_watch(sfu_udp_t *udp, sfu_loop_t *loop)
{
    return sfu_loop_add(loop, udp->fd, sfu_udp_read_handler, udp);
}


void
sfu_udp_close(sfu_udp_t *udp)
{
    if (udp->fd != -1) {
        close(udp->fd);
        udp->fd = -1;
    }
}


static void
sfu_udp_read_handler(sfu_loop_t *loop, int fd, void *data)
{
    int                  i, n;
    sfu_udp_t           *udp = data;
    struct iovec         iov[SFU_UDP_BATCH];
    struct mmsghdr       msgs[SFU_UDP_BATCH];
    struct sockaddr_in   addrs[SFU_UDP_BATCH];
    static u_char        bufs[SFU_UDP_BATCH][SFU_UDP_MAX_SIZE];

    for ( ;; ) {
        memset(msgs, 0, sizeof(msgs));

        for (i = 0; i < SFU_UDP_BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = SFU_UDP_MAX_SIZE;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &addrs[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
        }

        n = recvmmsg(fd, msgs, SFU_UDP_BATCH, MSG_DONTWAIT, NULL);

        if (n == -1) {
            if (errno != EAGAIN && errno != EINTR) {
                sfu_log(SFU_LOG_WARN, "recvmmsg() failed: %s",
                        strerror(errno));
            }

            return;
        }

        for (i = 0; i < n; i++) {
            udp->datagrams++;
            udp->bytes += msgs[i].msg_len;
        }

        if (n < SFU_UDP_BATCH) {
            return;
        }
    }
}
