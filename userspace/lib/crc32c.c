// SPDX-License-Identifier: MIT
/*
 * CRC-32C two ways: the CPU's instruction, chosen once before main() when
 * the CPU says it has it, and tables otherwise.
 *
 * The instruction folds eight bytes at a time into the running CRC
 * (reflected, as the tables are), so both ways start from 0xffffffff,
 * take the bytes in order and invert the result; a frame's 36 bytes are
 * four 8-byte steps and one 4-byte step.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define CRC32C_CPU_TARGET	"sse4.2"
#define crc_step8(crc, v)	((uint32_t)_mm_crc32_u64(crc, v))
#define crc_step4(crc, v)	_mm_crc32_u32(crc, v)
#define crc_step1(crc, v)	_mm_crc32_u8(crc, v)
#elif defined(__aarch64__)
#include <arm_acle.h>
#include <asm/hwcap.h>
#include <sys/auxv.h>
#define CRC32C_CPU_TARGET	"+crc"
#define crc_step8(crc, v)	__crc32cd(crc, v)
#define crc_step4(crc, v)	__crc32cw(crc, v)
#define crc_step1(crc, v)	__crc32cb(crc, v)
#endif

#define CRC32C_POLY	0x82f63b78	/* Castagnoli, bit-reflected */

/*
 * Slicing by 8: table k holds the CRC of a byte followed by k zero bytes,
 * so eight bytes fold in with eight independent look-ups, and four with
 * four (tables 3 to 0); the last len % 4 bytes go one at a time through
 * table 0, the classic byte-wise table.
 * Built on first use, once (pthread_once()), so a CPU with the instruction
 * never pays for them, and no caller ever sees them half made.
 */
static uint32_t crc_table[8][256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_table_build(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int bit = 0; bit < 8; bit++)
			c = (c >> 1) ^ (CRC32C_POLY & -(c & 1));
		crc_table[0][i] = c;
	}
	for (int k = 1; k < 8; k++)
		for (uint32_t i = 0; i < 256; i++)
			crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^
					  crc_table[0][crc_table[k - 1][i] & 0xff];
}

static uint32_t (*crc32c_best)(const void *buf, size_t len) = crc32c_portable;

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint32_t crc32c_portable(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffff;

	(void)pthread_once(&crc_table_once, crc_table_build);
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo = get_le32(p) ^ crc, hi = get_le32(p + 4);

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
	}
	/* A frame's 36 bytes end in four: one step of the same kind. */
	if (len >= 4) {
		uint32_t x = get_le32(p) ^ crc;

		crc = crc_table[3][x & 0xff] ^ crc_table[2][(x >> 8) & 0xff] ^
		      crc_table[1][(x >> 16) & 0xff] ^ crc_table[0][x >> 24];
		len -= 4;
		p += 4;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

#ifdef CRC32C_CPU_TARGET
/* Unaligned loads by memcpy(): the compiler makes each one instruction. */
__attribute__((target(CRC32C_CPU_TARGET)))
static uint32_t crc32c_cpu(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffff;
	uint64_t v8;
	uint32_t v4;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&v8, p, sizeof(v8));
		crc = crc_step8(crc, v8);
	}
	if (len >= 4) {
		memcpy(&v4, p, sizeof(v4));
		crc = crc_step4(crc, v4);
		len -= 4;
		p += 4;
	}
	for (; len; len--, p++)
		crc = crc_step1(crc, *p);
	return ~crc;
}

/* Chosen once, before main(): a CPU without the instruction keeps the
 * tables. */
__attribute__((constructor)) static void crc32c_choose(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();	/* a constructor may run before libgcc's */
	if (__builtin_cpu_supports("sse4.2"))
#else
	if (getauxval(AT_HWCAP) & HWCAP_CRC32)
#endif
		crc32c_best = crc32c_cpu;
}
#endif /* CRC32C_CPU_TARGET */

uint32_t crc32c(const void *buf, size_t len)
{
	return crc32c_best(buf, len);
}

bool crc32c_uses_cpu(void)
{
	return crc32c_best != crc32c_portable;
}
