// SPDX-License-Identifier: MIT
#include "led_gpio.h"

#include <dirent.h>
#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct led_gpio {
	struct gpiod_line_request *request;
	unsigned int offset;
	char description[400];
};

static int chip_filter(const struct dirent *entry)
{
	return !strncmp(entry->d_name, "gpiochip", 8);
}

/*
 * Line names are not unique across chips; like libgpiod's tools we take
 * the first match, scanning chips in name order so the choice is stable.
 * A chip we may not open is remembered in @ret_path: when no other chip
 * has the line, -EACCES names it, since "no such line" would send the
 * user looking for the wrong mistake (plain Debian keeps /dev/gpiochip*
 * root-only; Raspberry Pi OS gives them to the group gpio).
 */
static int find_line(const char *name, char *ret_path, size_t size,
		     unsigned int *ret_offset)
{
	struct dirent **entries;
	int n, r = -ENOENT;
	bool refused = false;

	n = scandir("/dev", &entries, chip_filter, versionsort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		char path[300];
		struct gpiod_chip *chip;
		int offset;

		snprintf(path, sizeof(path), "/dev/%s", entries[i]->d_name);
		if (r != -ENOENT || !gpiod_is_gpiochip_device(path))
			continue;
		chip = gpiod_chip_open(path);
		if (!chip) {
			if ((errno == EACCES || errno == EPERM) && !refused) {
				snprintf(ret_path, size, "%s", path);
				refused = true;
			}
			continue;
		}
		offset = gpiod_chip_get_line_offset_from_name(chip, name);
		gpiod_chip_close(chip);
		if (offset >= 0) {
			snprintf(ret_path, size, "%s", path);
			*ret_offset = (unsigned int)offset;
			r = 0;
		}
	}
	for (int i = 0; i < n; i++)
		free(entries[i]);
	free(entries);
	return r == -ENOENT && refused ? -EACCES : r;
}

static struct gpiod_line_request *request_output(const char *chip_path,
						 unsigned int offset,
						 bool active_low,
						 const char *consumer)
{
	struct gpiod_line_request *request = NULL;
	struct gpiod_request_config *req_cfg = NULL;
	struct gpiod_line_settings *settings;
	struct gpiod_line_config *line_cfg = NULL;
	struct gpiod_chip *chip;
	int saved_errno;

	chip = gpiod_chip_open(chip_path);
	if (!chip)
		return NULL;
	settings = gpiod_line_settings_new();
	if (!settings)
		goto out_close_chip;
	if (gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT) ||
	    gpiod_line_settings_set_output_value(settings, GPIOD_LINE_VALUE_INACTIVE))
		goto out_free_settings;
	gpiod_line_settings_set_active_low(settings, active_low);
	line_cfg = gpiod_line_config_new();
	if (!line_cfg ||
	    gpiod_line_config_add_line_settings(line_cfg, &offset, 1, settings))
		goto out_free_settings;
	req_cfg = gpiod_request_config_new();
	if (!req_cfg)
		goto out_free_settings;
	gpiod_request_config_set_consumer(req_cfg, consumer);
	request = gpiod_chip_request_lines(chip, req_cfg, line_cfg);

out_free_settings:
	saved_errno = errno;
	gpiod_request_config_free(req_cfg);
	gpiod_line_config_free(line_cfg);
	gpiod_line_settings_free(settings);
	errno = saved_errno;
out_close_chip:
	saved_errno = errno;
	/* The request keeps its own descriptor: the chip is not needed. */
	gpiod_chip_close(chip);
	errno = saved_errno;
	return request;
}

int led_gpio_open(const char *line_name, const char *chip_path,
		  unsigned int offset, bool active_low, const char *consumer,
		  struct led_gpio **ret, char *why, size_t why_size)
{
	char found_path[300];
	struct led_gpio *led;
	int r;

	if (!chip_path) {
		r = find_line(line_name, found_path, sizeof(found_path), &offset);
		if (r == -ENOENT)
			snprintf(why, why_size, "gpio line %s: no chip in /dev has a line of that name (see gpioinfo)",
				 line_name);
		else if (r == -EACCES)
			snprintf(why, why_size, "gpio line %s: not in any chip this user may open, and %s refused it (the LED's user needs the group that owns it, e.g. gpio)",
				 line_name, found_path);
		else if (r < 0)
			snprintf(why, why_size, "gpio line %s: scanning /dev", line_name);
		if (r < 0)
			return r;
		chip_path = found_path;
	}
	led = calloc(1, sizeof(*led));
	if (!led)
		return -ENOMEM;
	led->offset = offset;
	led->request = request_output(chip_path, offset, active_low, consumer);
	if (!led->request) {
		r = -errno;
		snprintf(why, why_size, "gpio %s line %u", chip_path, offset);
		free(led);
		return r;
	}
	if (line_name)
		snprintf(led->description, sizeof(led->description),
			 "%s (%s line %u)", line_name, chip_path, offset);
	else
		snprintf(led->description, sizeof(led->description),
			 "%s line %u", chip_path, offset);
	*ret = led;
	return 0;
}

int led_gpio_set(struct led_gpio *led, bool on)
{
	if (gpiod_line_request_set_value(led->request, led->offset,
					 on ? GPIOD_LINE_VALUE_ACTIVE :
					      GPIOD_LINE_VALUE_INACTIVE) < 0)
		return -errno;
	return 0;
}

const char *led_gpio_describe(const struct led_gpio *led)
{
	return led->description;
}

void led_gpio_close(struct led_gpio *led)
{
	if (!led)
		return;
	gpiod_line_request_release(led->request);
	free(led);
}
