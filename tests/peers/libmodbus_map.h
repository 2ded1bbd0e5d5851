/*
 * The data map of the libmodbus peers (libmodbus_slave.c, RTU, and
 * libmodbus_tcp_server.c, Modbus TCP); documented in libmodbus_slave.c and in
 * the tests that read it.
 */
#ifndef LIBMODBUS_MAP_H
#define LIBMODBUS_MAP_H

#include <modbus.h>

#define NB_BITS 2000 /* the most fc 1 and 2 can read */
#define NB_REGISTERS 125 /* the most fc 3, 4 and 23 can read */

static void fill_map(modbus_mapping_t *map)
{
    int i;
    static const char text[] = "libmodbus"; /* 9 characters + NUL = 5 registers */

    for (i = 0; i < NB_BITS; i++) {
        map->tab_bits[i] = (i % 3 == 0) ? 1 : 0;
        map->tab_input_bits[i] = (uint8_t)(i % 2);
    }
    for (i = 0; i < NB_REGISTERS; i++) {
        map->tab_registers[i] = (uint16_t)(i * 100 + 7);
        map->tab_input_registers[i] = (uint16_t)(1000 + i);
    }
    map->tab_registers[50] = 0x449A; /* 1234.5f */
    map->tab_registers[51] = 0x5000;
    map->tab_registers[52] = 0x1234; /* 305419896 */
    map->tab_registers[53] = 0x5678;
    map->tab_registers[54] = 0xFFFF; /* -2 */
    map->tab_registers[55] = 0xFFFE;
    for (i = 0; i < 5; i++) {
        map->tab_registers[60 + i] =
            (uint16_t)(((uint8_t)text[2 * i] << 8) | (uint8_t)text[2 * i + 1]);
    }
}

#endif
