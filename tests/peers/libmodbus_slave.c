/*
 * A small Modbus RTU slave built on libmodbus, for interoperability tests.
 *
 * Usage: libmodbus_slave [-d] [-t MILLISECONDS] DEVICE SLAVE_ID [BAUDRATE]
 *
 *   DEVICE     a serial device path (in the tests: one end of a pty pair)
 *   SLAVE_ID   1..247
 *   BAUDRATE   default 19200; always 8 data bits, no parity, 1 stop bit
 *   -d         libmodbus debug output (every frame, on stdout)
 *   -t MS      libmodbus's response timeout and byte timeout, default 50 ms.
 *              A slave uses the byte timeout as the longest gap inside a
 *              request, and sleeps the response timeout before it answers
 *              exception code 1 (illegal function) or 3 (illegal data value),
 *              to flush the line; libmodbus's default, 500 ms, would make
 *              those answers slower than a master's timeout.
 *
 * Prints "ready MAJOR.MINOR.MICRO" (the version of the libmodbus library
 * actually loaded) on stdout once the device is open, then answers requests
 * with modbus_reply() until SIGTERM or SIGINT, and exits with status 0.
 *
 * The data map (anything beyond is answered with exception code 2, illegal
 * data address); big enough for the largest request of each function code:
 *
 *   coils             0..1999  coil i = 1 if i % 3 == 0, else 0
 *   discrete inputs   0..1999  input i = i % 2
 *   holding registers 0..124   register i = i * 100 + 7, except:
 *                     50..51 float 1234.5 (0x449A5000), big-endian:
 *                            50 = 0x449A, 51 = 0x5000
 *                     52..53 long 305419896 (0x12345678): 52 = 0x1234, 53 = 0x5678
 *                     54..55 long -2 (0xFFFFFFFE): 54 = 0xFFFF, 55 = 0xFFFE
 *                     60..64 the string "libmodbus" padded with one NUL,
 *                            two characters per register, first in the high
 *                            byte: 60 = 'l''i', 61 = 'b''m', 62 = 'o''d',
 *                            63 = 'b''u', 64 = 's''\0'
 *   input registers   0..124   register i = 1000 + i
 *
 * libmodbus 3.1.6's modbus_reply() serves function codes 1, 2, 3, 4, 5, 6,
 * 15, 16, 17, 22 and 23 and answers other function codes with exception
 * code 1 (illegal function), with these quirks of libmodbus 3.1.6:
 *
 *  - function code 7 is not answered at all (modbus_reply returns -1, ENOPROTOOPT);
 *  - a request of a function code it does not know is assumed to have no data
 *    after the function code, so only such requests (fc 11, 12, 65, ...)
 *    get exception code 1; fc 8, 24, 43 with their data fail the CRC check
 *    and are not answered;
 *  - fc 17 answers the fixed byte 0xB4 (180) as "slave id", then the run
 *    indicator 0xFF and "LMB" + version, e.g. B4 FF "LMB3.1.6";
 *  - after a request for another slave address it treats the next frame on
 *    the line as that slave's response and skips it, whatever it is.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <modbus.h>

#include "libmodbus_map.h"

static int signal_pipe[2] = {-1, -1};

static void on_signal(int signum)
{
    int saved_errno = errno;
    unsigned char byte = (unsigned char)signum;
    ssize_t ignored = write(signal_pipe[1], &byte, 1);
    (void)ignored;
    errno = saved_errno;
}

static int install_signal_handlers(void)
{
    struct sigaction action;

    if (pipe(signal_pipe) != 0) {
        return -1;
    }
    fcntl(signal_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(signal_pipe[1], F_SETFL, O_NONBLOCK);
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGTERM, &action, NULL) != 0 || sigaction(SIGINT, &action, NULL) != 0) {
        return -1;
    }
    return 0;
}

static void usage(const char *program)
{
    fprintf(stderr, "Usage: %s [-d] [-t MILLISECONDS] DEVICE SLAVE_ID [BAUDRATE]\n", program);
}

int main(int argc, char *argv[])
{
    int debug = 0;
    int arg = 1;
    const char *device;
    int slave_id;
    int baudrate = 19200;
    int timeout_ms = 50;
    modbus_t *ctx;
    modbus_mapping_t *map;
    uint8_t query[MODBUS_RTU_MAX_ADU_LENGTH];
    int status = 0;

    if (arg < argc && strcmp(argv[arg], "-d") == 0) {
        debug = 1;
        arg++;
    }
    if (arg + 1 < argc && strcmp(argv[arg], "-t") == 0) {
        timeout_ms = atoi(argv[arg + 1]);
        arg += 2;
    }
    if (argc - arg < 2 || argc - arg > 3 || timeout_ms <= 0 || timeout_ms >= 10000) {
        usage(argv[0]);
        return 2;
    }
    device = argv[arg];
    slave_id = atoi(argv[arg + 1]);
    if (argc - arg == 3) {
        baudrate = atoi(argv[arg + 2]);
    }
    if (slave_id < 1 || slave_id > 247 || baudrate <= 0) {
        usage(argv[0]);
        return 2;
    }

    if (install_signal_handlers() != 0) {
        perror("signal handlers");
        return 1;
    }

    ctx = modbus_new_rtu(device, baudrate, 'N', 8, 1);
    if (ctx == NULL) {
        fprintf(stderr, "modbus_new_rtu: %s\n", modbus_strerror(errno));
        return 1;
    }
    modbus_set_debug(ctx, debug ? TRUE : FALSE);
    if (modbus_set_response_timeout(ctx, (uint32_t)timeout_ms / 1000,
                                    (uint32_t)timeout_ms % 1000 * 1000) != 0 ||
        modbus_set_byte_timeout(ctx, (uint32_t)timeout_ms / 1000,
                                (uint32_t)timeout_ms % 1000 * 1000) != 0) {
        fprintf(stderr, "timeouts: %s\n", modbus_strerror(errno));
        modbus_free(ctx);
        return 1;
    }
    if (modbus_set_slave(ctx, slave_id) != 0) {
        fprintf(stderr, "modbus_set_slave: %s\n", modbus_strerror(errno));
        modbus_free(ctx);
        return 1;
    }
    map = modbus_mapping_new(NB_BITS, NB_BITS, NB_REGISTERS, NB_REGISTERS);
    if (map == NULL) {
        fprintf(stderr, "modbus_mapping_new: %s\n", modbus_strerror(errno));
        modbus_free(ctx);
        return 1;
    }
    fill_map(map);
    if (modbus_connect(ctx) != 0) {
        fprintf(stderr, "modbus_connect %s: %s\n", device, modbus_strerror(errno));
        modbus_mapping_free(map);
        modbus_free(ctx);
        return 1;
    }

    printf("ready %u.%u.%u\n", libmodbus_version_major, libmodbus_version_minor,
           libmodbus_version_micro);
    fflush(stdout);

    for (;;) {
        struct pollfd fds[2];
        int rc;

        fds[0].fd = signal_pipe[0];
        fds[0].events = POLLIN;
        fds[1].fd = modbus_get_socket(ctx);
        fds[1].events = POLLIN;
        rc = poll(fds, 2, -1);
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("poll");
            status = 1;
            break;
        }
        if (fds[0].revents & POLLIN) {
            break; /* SIGTERM or SIGINT */
        }
        if (fds[1].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            fprintf(stderr, "device %s hung up\n", device);
            status = 1;
            break;
        }
        if (!(fds[1].revents & POLLIN)) {
            continue;
        }
        rc = modbus_receive(ctx, query);
        if (rc > 0) {
            if (modbus_reply(ctx, query, rc, map) < 0) {
                fprintf(stderr, "modbus_reply: %s\n", modbus_strerror(errno));
            }
        } else if (rc < 0) {
            /* A bad frame (CRC, timeout between bytes): keep serving, unless the
               device itself is gone. */
            if (errno == EIO || errno == EBADF || errno == ENXIO) {
                fprintf(stderr, "modbus_receive: %s\n", modbus_strerror(errno));
                status = 1;
                break;
            }
            if (debug) {
                fprintf(stderr, "modbus_receive: %s\n", modbus_strerror(errno));
            }
        }
        /* rc == 0: a request for another slave, ignored. */
    }

    modbus_close(ctx);
    modbus_free(ctx);
    modbus_mapping_free(map);
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    return status;
}
