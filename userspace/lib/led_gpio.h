/* SPDX-License-Identifier: MIT */
/*
 * The LED as a libgpiod v2 output line. The request is held for the whole
 * life of the LED process: a released gpio line falls back to its bias, so
 * letting go would turn the LED off behind our back.
 */
#ifndef IPC_LED_GPIO_H
#define IPC_LED_GPIO_H

#include <stdbool.h>
#include <stddef.h>

struct led_gpio;

/*
 * Request the line named @line_name (the first chip in /dev that has it),
 * or, if @chip_path is not NULL, line @offset of that chip, as an output
 * that starts off. @consumer shows in gpioinfo. Returns 0, or a negative
 * errno and, in @why (@why_size bytes), which line and what went wrong,
 * for the caller to print.
 */
int led_gpio_open(const char *line_name, const char *chip_path,
		  unsigned int offset, bool active_low, const char *consumer,
		  struct led_gpio **ret, char *why, size_t why_size);
int led_gpio_set(struct led_gpio *led, bool on);
/* "GPIO18 (/dev/gpiochip0 line 18)" */
const char *led_gpio_describe(const struct led_gpio *led);
void led_gpio_close(struct led_gpio *led);

#endif /* IPC_LED_GPIO_H */
