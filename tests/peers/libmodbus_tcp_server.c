/*
 * A small Modbus TCP server built on libmodbus, for interoperability tests.
 *
 * Usage: libmodbus_tcp_server [-d] PORT
 *
 *   PORT  the TCP port to listen on, on 127.0.0.1 only
 *   -d    libmodbus debug output (every frame, on stdout)
 *
 * Prints "ready MAJOR.MINOR.MICRO" once it listens, then serves one
 * connection at a time (modbus_tcp_accept, modbus_receive, modbus_reply)
 * until killed, accepting the next connection when one ends. It answers
 * every unit id, exception codes 1 and 3 after 50 ms (libmodbus waits its
 * response timeout first). The data map is that of libmodbus_slave.c
 * (libmodbus_map.h).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <modbus.h>

#include "libmodbus_map.h"

static void serve(modbus_t *ctx, modbus_mapping_t *map)
{
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];

    for (;;) {
        int rc = modbus_receive(ctx, query);
        if (rc > 0) {
            modbus_reply(ctx, query, rc, map);
        } else if (rc == -1) {
            return; /* the connection ended (or an error): accept the next one */
        }
    }
}

int main(int argc, char *argv[])
{
    int debug = argc == 3 && strcmp(argv[1], "-d") == 0;
    int port = argc >= 2 ? atoi(argv[argc - 1]) : 0;
    modbus_t *ctx;
    modbus_mapping_t *map;
    int listener;

    if (argc < 2 || argc > 3 || port <= 0 || port > 65535) {
        fprintf(stderr, "Usage: %s [-d] PORT\n", argv[0]);
        return 2;
    }
    ctx = modbus_new_tcp("127.0.0.1", port);
    map = modbus_mapping_new(NB_BITS, NB_BITS, NB_REGISTERS, NB_REGISTERS);
    if (ctx == NULL || map == NULL) {
        fprintf(stderr, "libmodbus: %s\n", modbus_strerror(errno));
        return 1;
    }
    modbus_set_debug(ctx, debug ? TRUE : FALSE);
    /* libmodbus waits its response timeout (default 500 ms) before it answers
     * exception code 1 or 3, to flush the line: 50 ms keeps that below a master's timeout */
    modbus_set_response_timeout(ctx, 0, 50000);
    fill_map(map);
    listener = modbus_tcp_listen(ctx, 1);
    if (listener == -1) {
        fprintf(stderr, "modbus_tcp_listen: %s\n", modbus_strerror(errno));
        return 1;
    }
    printf("ready %u.%u.%u\n", libmodbus_version_major, libmodbus_version_minor,
           libmodbus_version_micro);
    fflush(stdout);
    for (;;) {
        if (modbus_tcp_accept(ctx, &listener) == -1) {
            fprintf(stderr, "modbus_tcp_accept: %s\n", modbus_strerror(errno));
            return 1;
        }
        serve(ctx, map);
        modbus_close(ctx);
    }
}
