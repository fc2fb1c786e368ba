
/*
 * Copyright (C) The gateway authors
 */


#ifndef _SFU_LOOP_H_INCLUDED_
#define _SFU_LOOP_H_INCLUDED_


#include "sfu.h"


typedef struct sfu_loop_s  sfu_loop_t;

/* called when fd is readable */
typedef void (*sfu_loop_handler_pt)(sfu_loop_t *loop, int fd, void *data);


sfu_loop_t *sfu_loop_create(void);
void sfu_loop_destroy(sfu_loop_t *loop);
int sfu_loop_add(sfu_loop_t *loop, int fd, sfu_loop_handler_pt handler,
    void *data);
int sfu_loop_run(sfu_loop_t *loop);
sfu_msec_t sfu_loop_now(void);


#endif /* _SFU_LOOP_H_INCLUDED_ */
