
/*
 * Copyright (C) The gateway authors
 */


#ifndef _SFU_H_INCLUDED_
#define _SFU_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


typedef intptr_t   sfu_int_t;
typedef uintptr_t  sfu_uint_t;

/* milliseconds of a monotonic clock; every protocol core takes "now" */
typedef uint64_t   sfu_msec_t;

#define SFU_OK      0
#define SFU_ERROR  -1
#define SFU_AGAIN  -2


typedef struct {
    const char   *addr;            /* UDP media address */
    int           port;            /* UDP media port */
    const char   *pid_file;
    const char   *log_file;
    int           log_level;
} sfu_conf_t;


#endif /* _SFU_H_INCLUDED_ */
