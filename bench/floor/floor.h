/*
 * What the floor programs share: the wall clock the senders stamp and the
 * receivers compare with, and the order for sorting latencies.
 */

#ifndef FLOOR_H
#define FLOOR_H

#include <time.h>


static double
now(void)
{
    struct timespec  t;

    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}


static int
cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

#endif
