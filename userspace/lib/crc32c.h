/* SPDX-License-Identifier: MIT */
/*
 * CRC-32C (Castagnoli, reflected, initial and final value 0xffffffff),
 * the checksum of every wire frame (message.h). Castagnoli rather than
 * the Ethernet CRC-32 because both CPUs this project runs on compute it in
 * one instruction per eight bytes (x86-64 with SSE4.2, arm64 with the CRC
 * extension, every Raspberry Pi from the 3 on), so a frame's check costs
 * a few nanoseconds and no table in the cache. A CPU without it gets the
 * same value from tables.
 */
#ifndef IPC_CRC32C_H
#define IPC_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of @len bytes at @buf, with the CPU's instruction if it has one. */
uint32_t crc32c(const void *buf, size_t len);

/* The same from tables alone, on any CPU (and to test the other against). */
uint32_t crc32c_portable(const void *buf, size_t len);

/* Whether crc32c() uses the CPU's instruction on this machine. */
bool crc32c_uses_cpu(void);

#endif /* IPC_CRC32C_H */
