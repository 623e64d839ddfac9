/* SPDX-License-Identifier: MIT */
/*
 * The emulated board's measurements (ipc-bench --board-...), run inside the
 * guest with the driver loaded and its overlay applied (debounce 0, so that
 * the driver delivers from its IRQ thread like the GPIO character device).
 *
 *   --board-irq     the driver's IRQ-to-read() latency beside the kernel's
 *                   GPIO character device (libgpiod v2 edge events on a
 *                   second simulated line), edge by edge in the same run,
 *                   then bursts of edges as fast as gpio-sim takes them,
 *                   counting what each drops;
 *   --board-e2e     one mechanism end to end: the real ipc-button reading
 *                   the device, an LED receiver on GPIO18 (the transport,
 *                   the decoder and lib/led_gpio, as in ipc-led), from the
 *                   hard-IRQ timestamp in the message to the line being set.
 *
 * Presses are writes to gpio-sim's pull attribute; every wait is a blocking
 * read or a futex, never a sleep.
 */
#ifndef BENCH_BOARD_H
#define BENCH_BOARD_H

int board_main(int argc, char **argv);

#endif /* BENCH_BOARD_H */
