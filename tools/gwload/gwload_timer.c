
/*
 * gwload: binary min-heap of timers.
 */


#include "gwload.h"


static void gwload_timers_up(gwload_timers_t *tm, size_t i);
static void gwload_timers_down(gwload_timers_t *tm, size_t i);


int
gwload_timers_init(gwload_timers_t *tm, size_t cap)
{
    if (cap < 16) {
        cap = 16;
    }

    tm->heap = malloc(cap * sizeof(gwload_timer_t *));
    if (tm->heap == NULL) {
        return GWLOAD_ERROR;
    }

    tm->len = 0;
    tm->cap = cap;

    return GWLOAD_OK;
}


void
gwload_timers_free(gwload_timers_t *tm)
{
    free(tm->heap);
    tm->heap = NULL;
    tm->len = 0;
    tm->cap = 0;
}


int
gwload_timer_add(gwload_timers_t *tm, gwload_timer_t *t, uint64_t deadline)
{
    size_t            cap;
    gwload_timer_t  **heap;

    if (gwload_timer_armed(t)) {
        t->deadline = deadline;
        gwload_timers_up(tm, t->index);
        gwload_timers_down(tm, t->index);
        return GWLOAD_OK;
    }

    if (tm->len == tm->cap) {
        cap = tm->cap * 2;

        heap = realloc(tm->heap, cap * sizeof(gwload_timer_t *));
        if (heap == NULL) {
            return GWLOAD_ERROR;
        }

        tm->heap = heap;
        tm->cap = cap;
    }

    t->deadline = deadline;
    t->index = (int32_t) tm->len;
    tm->heap[tm->len++] = t;

    gwload_timers_up(tm, t->index);

    return GWLOAD_OK;
}


void
gwload_timer_del(gwload_timers_t *tm, gwload_timer_t *t)
{
    size_t           i;
    gwload_timer_t  *last;

    if (!gwload_timer_armed(t)) {
        return;
    }

    i = t->index;
    t->index = -1;

    last = tm->heap[--tm->len];

    if (i == tm->len) {
        return;
    }

    tm->heap[i] = last;
    last->index = (int32_t) i;

    gwload_timers_up(tm, i);
    gwload_timers_down(tm, last->index);
}


/* the earliest deadline, or 0 when no timer is armed */

uint64_t
gwload_timers_next(gwload_timers_t *tm)
{
    return tm->len ? tm->heap[0]->deadline : 0;
}


void
gwload_timers_expire(gwload_timers_t *tm, uint64_t now)
{
    gwload_timer_t  *t;

    while (tm->len && tm->heap[0]->deadline <= now) {
        t = tm->heap[0];
        gwload_timer_del(tm, t);
        t->handler(t);
    }
}


static void
gwload_timers_up(gwload_timers_t *tm, size_t i)
{
    size_t           p;
    gwload_timer_t  *t;

    t = tm->heap[i];

    while (i > 0) {
        p = (i - 1) / 2;

        if (tm->heap[p]->deadline <= t->deadline) {
            break;
        }

        tm->heap[i] = tm->heap[p];
        tm->heap[i]->index = (int32_t) i;
        i = p;
    }

    tm->heap[i] = t;
    t->index = (int32_t) i;
}


static void
gwload_timers_down(gwload_timers_t *tm, size_t i)
{
    size_t           c;
    gwload_timer_t  *t;

    t = tm->heap[i];

    for ( ;; ) {
        c = 2 * i + 1;

        if (c >= tm->len) {
            break;
        }

        if (c + 1 < tm->len
            && tm->heap[c + 1]->deadline < tm->heap[c]->deadline)
        {
            c++;
        }

        if (t->deadline <= tm->heap[c]->deadline) {
            break;
        }

        tm->heap[i] = tm->heap[c];
        tm->heap[i]->index = (int32_t) i;
        i = c;
    }

    tm->heap[i] = t;
    t->index = (int32_t) i;
}
