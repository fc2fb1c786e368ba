
/*
 * Copyright (C) The gateway authors
 */


#ifndef _NGX_WS_FRAME_H_INCLUDED_
#define _NGX_WS_FRAME_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * The WebSocket frame codec (RFC 6455 section 5), server side.  Pure: it
 * reads and writes memory only and calls nothing of nginx's at run time,
 * so the unit tests and fuzz targets link it alone.
 */


/* RFC 6455 5.2 opcodes */
#define NGX_WS_OPCODE_CONTINUATION   0x0
#define NGX_WS_OPCODE_TEXT           0x1
#define NGX_WS_OPCODE_BINARY         0x2
#define NGX_WS_OPCODE_CLOSE          0x8
#define NGX_WS_OPCODE_PING           0x9
#define NGX_WS_OPCODE_PONG           0xa

#define ngx_ws_opcode_is_control(op)  ((op) & 0x8)


/* RFC 6455 7.4.1 status codes, and the IANA registry additions */
#define NGX_WS_CLOSE_NORMAL            1000
#define NGX_WS_CLOSE_GOING_AWAY        1001
#define NGX_WS_CLOSE_PROTOCOL_ERROR    1002
#define NGX_WS_CLOSE_UNSUPPORTED_DATA  1003
#define NGX_WS_CLOSE_NO_STATUS         1005   /* never sent on the wire */
#define NGX_WS_CLOSE_ABNORMAL          1006   /* never sent on the wire */
#define NGX_WS_CLOSE_INVALID_PAYLOAD   1007
#define NGX_WS_CLOSE_POLICY_VIOLATION  1008
#define NGX_WS_CLOSE_MESSAGE_TOO_BIG   1009
#define NGX_WS_CLOSE_INTERNAL_ERROR    1011
#define NGX_WS_CLOSE_SERVICE_RESTART   1012
#define NGX_WS_CLOSE_TRY_AGAIN_LATER   1013


/* RFC 6455 5.5: control frames carry at most 125 bytes */
#define NGX_WS_MAX_CONTROL_PAYLOAD     125

/* a close reason fits in a control frame after the 2-byte code */
#define NGX_WS_MAX_CLOSE_REASON        123

/* 2 bytes + 8 bytes of extended length; servers never mask (RFC 6455 5.1) */
#define NGX_WS_MAX_SERVER_HEADER       10

/* RSV1 is the "per-message compressed" bit of RFC 7692 section 6 */
#define NGX_WS_RSV1                    0x4


/* kept small: one lives in every connection */
typedef struct {
    /* limits, set by the owner before the first call */
    uint64_t        max_message_size;
    uint32_t        max_fragments;

    /* the data message being read, across its fragments */
    uint32_t        fragments;
    uint64_t        message_size;

    /* the frame being read: its length until the header ends, then the
     * payload bytes still to come */
    uint64_t        frame_left;
    u_char          mask[4];

    /* set when ngx_ws_parse() returns NGX_ERROR */
    uint16_t        close_code;
    const char     *reason;

    uint8_t         state;
    uint8_t         length_bytes;       /* extended length bytes to go */
    uint8_t         mask_bytes;         /* masking key bytes read */
    uint8_t         mask_offset;        /* payload offset modulo 4 */
    uint8_t         utf8_state;

    unsigned        allowed_rsv:3;      /* RSV bits negotiated extensions use */
    unsigned        opcode:4;
    unsigned        fin:1;
    unsigned        rsv:3;
    unsigned        message_opcode:4;   /* 0 while no message is open */
    unsigned        message_started:1;  /* a chunk of it was returned */
    unsigned        control_started:1;  /* a chunk of this control frame */
} ngx_ws_parser_t;


/*
 * One piece of a frame's payload, already unmasked in place.  Data chunks
 * carry the opcode of their message and "first"/"last" for the message's
 * first and last chunk; a control frame comes in chunks of its own with
 * "first"/"last" for the frame.  An empty frame yields one empty chunk.
 */
typedef struct {
    u_char         *data;
    size_t          len;
    ngx_uint_t      opcode;
    unsigned        control:1;
    unsigned        first:1;
    unsigned        last:1;
} ngx_ws_chunk_t;


void ngx_ws_parser_init(ngx_ws_parser_t *p, uint64_t max_message_size,
    ngx_uint_t max_fragments);
ngx_int_t ngx_ws_parse(ngx_ws_parser_t *p, u_char **pos, u_char *last,
    ngx_ws_chunk_t *chunk);
ngx_uint_t ngx_ws_parser_idle(ngx_ws_parser_t *p);

ngx_int_t ngx_ws_close_parse(u_char *data, size_t len, ngx_uint_t *code,
    ngx_uint_t *fail_code, const char **reason);
ngx_uint_t ngx_ws_close_code_valid(ngx_uint_t code);

size_t ngx_ws_frame_header(u_char *buf, ngx_uint_t opcode, ngx_uint_t fin,
    uint64_t len);


#endif /* _NGX_WS_FRAME_H_INCLUDED_ */
