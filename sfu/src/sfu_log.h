
/*
 * Copyright (C) The gateway authors
 */


#ifndef _SFU_LOG_H_INCLUDED_
#define _SFU_LOG_H_INCLUDED_


#include "sfu.h"


#define SFU_LOG_ERR     0
#define SFU_LOG_WARN    1
#define SFU_LOG_INFO    2
#define SFU_LOG_DEBUG   3


int sfu_log_open(const char *path, int level);
void sfu_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


#endif /* _SFU_LOG_H_INCLUDED_ */
