
/*
 * gwload: timers kept in a binary min-heap, one heap per worker.
 *
 * A timer is embedded in its owner (the connection) and carries its heap
 * position, so arming, re-arming and cancelling are O(log n) with no
 * allocation.
 */


#ifndef _GWLOAD_TIMER_H_INCLUDED_
#define _GWLOAD_TIMER_H_INCLUDED_


typedef void (*gwload_timer_handler_pt)(gwload_timer_t *t);


struct gwload_timer_s {
    uint64_t                    deadline;    /* ns, gwload_now() clock */
    int32_t                     index;       /* heap slot, -1: not armed */
    gwload_timer_handler_pt     handler;
    void                       *data;
};


typedef struct {
    gwload_timer_t            **heap;
    size_t                      len;
    size_t                      cap;
} gwload_timers_t;


#define gwload_timer_init(t, h, d)                                            \
    (t)->deadline = 0; (t)->index = -1; (t)->handler = (h); (t)->data = (d)

#define gwload_timer_armed(t)       ((t)->index >= 0)


int gwload_timers_init(gwload_timers_t *tm, size_t cap);
void gwload_timers_free(gwload_timers_t *tm);
int gwload_timer_add(gwload_timers_t *tm, gwload_timer_t *t,
    uint64_t deadline);
void gwload_timer_del(gwload_timers_t *tm, gwload_timer_t *t);
uint64_t gwload_timers_next(gwload_timers_t *tm);
void gwload_timers_expire(gwload_timers_t *tm, uint64_t now);


#endif /* _GWLOAD_TIMER_H_INCLUDED_ */
