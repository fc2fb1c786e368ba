
/*
 * gwload: client side of RFC 6455 (sans-IO).
 *
 * The opening handshake (4.1) is built and checked here; frames from the
 * server are parsed incrementally and frames to the server are built masked
 * (5.3).  Nothing here touches a socket or a clock.
 */


#ifndef _GWLOAD_WS_H_INCLUDED_
#define _GWLOAD_WS_H_INCLUDED_


/* RFC 6455, 5.2 Base Framing Protocol: opcodes */
#define GWLOAD_WS_OP_CONT           0x0
#define GWLOAD_WS_OP_TEXT           0x1
#define GWLOAD_WS_OP_BINARY         0x2
#define GWLOAD_WS_OP_CLOSE          0x8
#define GWLOAD_WS_OP_PING           0x9
#define GWLOAD_WS_OP_PONG           0xa

/* RFC 6455, 7.4.1 Defined Status Codes */
#define GWLOAD_WS_CLOSE_NORMAL      1000
#define GWLOAD_WS_CLOSE_PROTOCOL    1002
#define GWLOAD_WS_CLOSE_TOO_BIG     1009
#define GWLOAD_WS_CLOSE_NO_STATUS   1005

/* RFC 6455, 5.5 Control Frames: payload length of 125 bytes or less */
#define GWLOAD_WS_CONTROL_MAX       125

/* largest header: 2 + 8 (64-bit length) + 4 (mask) */
#define GWLOAD_WS_HEADER_MAX        14

/* RFC 6455, 4.1: the nonce is 16 random bytes, base64-encoded (24 chars) */
#define GWLOAD_WS_KEY_LEN           16
#define GWLOAD_WS_KEY_B64_LEN       24

/* upper bound of a 101 response we accept */
#define GWLOAD_WS_RESPONSE_MAX      4096

/* a Retry-After is taken up to a day, in seconds */
#define GWLOAD_WS_RETRY_AFTER_MAX   86400


/* a ws:// (or http://) URL, split (gwload_ws_url(), gwload_url()) */
typedef struct {
    const char     *host;           /* authority, for the Host header */
    size_t          host_len;
    const char     *name;           /* host without the port */
    size_t          name_len;
    unsigned        port;           /* 80 when not given */
    const char     *path;           /* from "/" to "?"; may be empty */
    size_t          path_len;
    const char     *query;          /* from "?" to the end; may be empty */
    size_t          query_len;
    const char     *bad;            /* on error: "scheme", "host", "port",
                                       "path" */
} gwload_ws_url_t;


struct gwload_ws_parser_s {
    uint64_t        remaining;      /* payload bytes left in this frame */
    uint8_t         state;
    uint8_t         hlen;           /* header bytes collected */
    uint8_t         hneed;          /* header bytes needed */
    uint8_t         opcode;         /* opcode of the current frame */
    uint8_t         msg_opcode;     /* data message in progress, 0: none */
    uint8_t         fin;
    uint8_t         ctrl_len;
    u_char          hdr[GWLOAD_WS_HEADER_MAX];
    u_char          ctrl[GWLOAD_WS_CONTROL_MAX];
};


typedef enum {
    GWLOAD_WS_EV_AGAIN = 0,         /* all input consumed */
    GWLOAD_WS_EV_DATA,              /* a chunk of a data message */
    GWLOAD_WS_EV_CONTROL,           /* a complete control frame */
    GWLOAD_WS_EV_ERROR              /* protocol error, see close_code */
} gwload_ws_ev_e;


struct gwload_ws_frame_s {
    int             opcode;         /* text/binary for data chunks */
    unsigned        last:1;         /* this chunk ends the message */
    u_char         *data;
    size_t          len;
    int             close_code;     /* on GWLOAD_WS_EV_ERROR */
    const char     *error;
};


typedef enum {
    GWLOAD_WS_HS_OK = 0,
    GWLOAD_WS_HS_AGAIN,             /* need more bytes */
    GWLOAD_WS_HS_STATUS,            /* status is not 101 */
    GWLOAD_WS_HS_BAD_ACCEPT,        /* Accept, Upgrade or Connection wrong */
    GWLOAD_WS_HS_MALFORMED          /* not HTTP, or too large */
} gwload_ws_hs_e;


size_t gwload_ws_request(u_char *buf, size_t size, gwload_conf_t *conf,
    const gwload_target_t *target, const u_char key[GWLOAD_WS_KEY_LEN]);
int64_t gwload_ws_retry_after(const u_char *buf, size_t len);
int gwload_ws_url(const char *url, size_t len, gwload_ws_url_t *u);
int gwload_url(const char *url, size_t len, const char *scheme,
    gwload_ws_url_t *u);
gwload_ws_hs_e gwload_ws_response(u_char *buf, size_t len,
    const u_char key[GWLOAD_WS_KEY_LEN], int *status, size_t *hlen);
void gwload_ws_accept(const u_char key[GWLOAD_WS_KEY_LEN], char out[29]);

void gwload_ws_parser_init(gwload_ws_parser_t *p);
gwload_ws_ev_e gwload_ws_parse(gwload_ws_parser_t *p, u_char **pos,
    u_char *end, gwload_ws_frame_t *f);

size_t gwload_ws_frame(u_char *buf, int opcode, const u_char *data,
    size_t len, uint32_t mask);


/* SHA-1 (FIPS 180-4) and base64 (RFC 4648), for Sec-WebSocket-Accept */
void gwload_sha1(const u_char *data, size_t len, u_char out[20]);
size_t gwload_base64(const u_char *src, size_t len, char *dst);


#endif /* _GWLOAD_WS_H_INCLUDED_ */
