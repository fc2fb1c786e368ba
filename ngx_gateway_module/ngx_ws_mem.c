
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_ws.h"


/*
 * Short-lived buffers (frames waiting for the socket, messages being
 * assembled, payloads being encoded) come from power-of-two blocks kept on
 * per-process free lists instead of malloc() and free() each time.  Two
 * reasons: the churn costs no allocator work, and the transient blocks
 * stay among themselves: freed back to malloc, kilobyte-sized buffers
 * leave holes in the heap that the long-lived per-connection objects
 * (nginx's connection pools, our connection state) fall into, scattering
 * them over pages that can then not be given back.
 *
 * Each block has a 16-byte header with its class; blocks above the
 * largest class are plain malloc() memory.  A class keeps at most
 * NGX_WS_MEM_CACHE bytes of free blocks.
 */

#define NGX_WS_MEM_MIN_SHIFT   7                    /* 128 bytes */
#define NGX_WS_MEM_HEADER      16
#define NGX_WS_MEM_LARGE       ((ngx_uint_t) -1)
#define NGX_WS_MEM_CACHE       ((ngx_uint_t) 1024 * 1024)


typedef struct ngx_ws_block_s  ngx_ws_block_t;

struct ngx_ws_block_s {
    ngx_ws_block_t  *next;
};


void *
ngx_ws_alloc(ngx_ws_main_t *m, size_t size, ngx_log_t *log)
{
    u_char          *p;
    ngx_uint_t       cls, shift;
    ngx_ws_block_t  *b;

    size += NGX_WS_MEM_HEADER;

    for (shift = NGX_WS_MEM_MIN_SHIFT, cls = 0;
         cls < NGX_WS_MEM_CLASSES && ((size_t) 1 << shift) < size;
         shift++, cls++)
    {
        /* void */
    }

    if (cls == NGX_WS_MEM_CLASSES) {
        p = ngx_alloc(size, log);
        if (p == NULL) {
            return NULL;
        }

        *(ngx_uint_t *) p = NGX_WS_MEM_LARGE;

        return p + NGX_WS_MEM_HEADER;
    }

    b = m->free[cls];

    if (b) {
        m->free[cls] = b->next;
        m->nfree[cls]--;
        p = (u_char *) b;

    } else {
        p = ngx_alloc((size_t) 1 << shift, log);
        if (p == NULL) {
            return NULL;
        }
    }

    *(ngx_uint_t *) p = cls;

    return p + NGX_WS_MEM_HEADER;
}


void
ngx_ws_free(ngx_ws_main_t *m, void *ptr)
{
    u_char          *p;
    ngx_uint_t       cls;
    ngx_ws_block_t  *b;

    if (ptr == NULL) {
        return;
    }

    p = (u_char *) ptr - NGX_WS_MEM_HEADER;
    cls = *(ngx_uint_t *) p;

    if (cls == NGX_WS_MEM_LARGE
        || m->nfree[cls] >= NGX_WS_MEM_CACHE
                            >> (cls + NGX_WS_MEM_MIN_SHIFT))
    {
        ngx_free(p);
        return;
    }

    b = (ngx_ws_block_t *) p;
    b->next = m->free[cls];
    m->free[cls] = b;
    m->nfree[cls]++;
}


/* the usable size of a block from ngx_ws_alloc() */

size_t
ngx_ws_alloc_size(void *ptr)
{
    ngx_uint_t  cls;

    cls = *(ngx_uint_t *) ((u_char *) ptr - NGX_WS_MEM_HEADER);

    if (cls == NGX_WS_MEM_LARGE) {
        return 0;
    }

    return ((size_t) 1 << (cls + NGX_WS_MEM_MIN_SHIFT)) - NGX_WS_MEM_HEADER;
}


void
ngx_ws_mem_exit(ngx_ws_main_t *m)
{
    ngx_uint_t       cls;
    ngx_ws_block_t  *b;

    for (cls = 0; cls < NGX_WS_MEM_CLASSES; cls++) {
        while (m->free[cls]) {
            b = m->free[cls];
            m->free[cls] = b->next;
            ngx_free(b);
        }

        m->nfree[cls] = 0;
    }
}
