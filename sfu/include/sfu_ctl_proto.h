
/*
 * Copyright (C) The gateway authors
 */


#ifndef _SFU_CTL_PROTO_H_INCLUDED_
#define _SFU_CTL_PROTO_H_INCLUDED_


/*
 * The control protocol between ngx_voice_signal_module and the SFU
 * daemon.  Both sides include this header and nothing else of each other,
 * so it depends on no library: fixed-size big-endian fields only.
 *
 * Every message starts with this header on the control stream.
 */

#define SFU_CTL_VERSION        1

/* "SFUC" */
#define SFU_CTL_MAGIC          0x53465543u

#define SFU_CTL_HEADER_SIZE    12

/*
 * header layout (network byte order):
 *   u32 magic, u16 version, u16 type, u32 body length
 */

#define SFU_CTL_MAX_BODY       65536


#endif /* _SFU_CTL_PROTO_H_INCLUDED_ */
