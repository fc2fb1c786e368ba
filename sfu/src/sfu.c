
/*
 * Copyright (C) The gateway authors
 */


#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfu.h"
#include "sfu_log.h"
#include "sfu_loop.h"
#include "sfu_udp.h"
#include "sfu_ctl_proto.h"


#define SFU_DEFAULT_PORT  50000


static void sfu_usage(void);
static int sfu_write_pid(const char *path);


int
main(int argc, char **argv)
{
    int          c, rc;
    sfu_conf_t   conf;
    sfu_udp_t    udp;
    sfu_loop_t  *loop;

    static const struct option  options[] = {
        { "addr",     required_argument, NULL, 'a' },
        { "port",     required_argument, NULL, 'p' },
        { "pid",      required_argument, NULL, 'P' },
        { "log",      required_argument, NULL, 'l' },
        { "debug",    no_argument,       NULL, 'd' },
        { "help",     no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&conf, 0, sizeof(conf));
    conf.addr = "0.0.0.0";
    conf.port = SFU_DEFAULT_PORT;
    conf.log_level = SFU_LOG_INFO;

    while ((c = getopt_long(argc, argv, "a:p:P:l:dh", options, NULL)) != -1) {
        switch (c) {

        case 'a':
            conf.addr = optarg;
            break;

        case 'p':
            conf.port = atoi(optarg);

            if (conf.port <= 0 || conf.port > 65535) {
                fprintf(stderr, "gateway-sfu: invalid port \"%s\"\n",
                        optarg);
                return 2;
            }

            break;

        case 'P':
            conf.pid_file = optarg;
            break;

        case 'l':
            conf.log_file = optarg;
            break;

        case 'd':
            conf.log_level = SFU_LOG_DEBUG;
            break;

        case 'h':
            sfu_usage();
            return 0;

        default:
            sfu_usage();
            return 2;
        }
    }

    if (sfu_log_open(conf.log_file, conf.log_level) != SFU_OK) {
        return 1;
    }

    loop = sfu_loop_create();
    if (loop == NULL) {
        return 1;
    }

    if (sfu_udp_open(&udp, conf.addr, conf.port) != SFU_OK
        || sfu_udp_watch(&udp, loop) != SFU_OK)
    {
        sfu_loop_destroy(loop);
        return 1;
    }

    if (conf.pid_file && sfu_write_pid(conf.pid_file) != SFU_OK) {
        sfu_udp_close(&udp);
        sfu_loop_destroy(loop);
        return 1;
    }

    sfu_log(SFU_LOG_INFO, "gateway-sfu listening on udp %s:%d "
            "(control protocol v%d)", conf.addr, conf.port, SFU_CTL_VERSION);

    rc = sfu_loop_run(loop);

    sfu_log(SFU_LOG_INFO, "exiting: %llu datagrams received",
            (unsigned long long) udp.datagrams);

    sfu_udp_close(&udp);
    sfu_loop_destroy(loop);

    if (conf.pid_file) {
        unlink(conf.pid_file);
    }

    return rc == SFU_OK ? 0 : 1;
}


static void
sfu_usage(void)
{
    fprintf(stderr,
        "usage: gateway-sfu [options]\n"
        "  -a, --addr ADDR   UDP media address (default 0.0.0.0)\n"
        "  -p, --port PORT   UDP media port (default %d)\n"
        "  -P, --pid FILE    write the process id to FILE\n"
        "  -l, --log FILE    log to FILE instead of stderr\n"
        "  -d, --debug       debug logging\n",
        SFU_DEFAULT_PORT);
}


static int
sfu_write_pid(const char *path)
{
    FILE  *f;

    f = fopen(path, "w");
    if (f == NULL) {
        sfu_log(SFU_LOG_ERR, "fopen(\"%s\") failed: %s", path,
                strerror(errno));
        return SFU_ERROR;
    }

    fprintf(f, "%d\n", (int) getpid());

    if (fclose(f) != 0) {
        sfu_log(SFU_LOG_ERR, "fclose(\"%s\") failed: %s", path,
                strerror(errno));
        return SFU_ERROR;
    }

    return SFU_OK;
}
