
/*
 * Copyright (C) The gateway authors
 */


#ifndef _SFU_UDP_H_INCLUDED_
#define _SFU_UDP_H_INCLUDED_


#include "sfu.h"
#include "sfu_loop.h"


typedef struct {
    int          fd;
    uint64_t     datagrams;
    uint64_t     bytes;
} sfu_udp_t;


int sfu_udp_open(sfu_udp_t *udp, const char *addr, int port);
int sfu_udp_watch(sfu_udp_t *udp, sfu_loop_t *loop);
void sfu_udp_close(sfu_udp_t *udp);


#endif /* _SFU_UDP_H_INCLUDED_ */
