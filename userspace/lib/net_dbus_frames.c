// SPDX-License-Identifier: MIT
#include "net_dbus_frames.h"

int net_dbus_frames_call(sd_bus *bus, sd_bus_message **ret, const char *dest,
			 const char *path, const char *interface,
			 struct redelivery_window *w, unsigned int i,
			 unsigned int n)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, dest, path, interface,
					   n > 1 ? "SetStates" : "SetState");
	if (r >= 0 && n > 1)
		r = sd_bus_message_open_container(m, 'a', "ay");
	for (unsigned int k = 0; r >= 0 && k < n; k++) {
		const struct redelivery_slot *s = redelivery_window_at(w, i + k);

		r = sd_bus_message_append_array(m, 'y', s->bytes, s->len);
	}
	if (r >= 0 && n > 1)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	*ret = m;
	return 0;
}

int net_dbus_frames_read(sd_bus_message *m, const void **bytes, size_t *len,
			 unsigned int max)
{
	unsigned int n = 0;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "ay");
	while (r >= 0 && (r = sd_bus_message_at_end(m, false)) == 0) {
		if (n == max)
			return (int)max + 1;
		r = sd_bus_message_read_array(m, 'y', &bytes[n], &len[n]);
		n++;
	}
	return r < 0 ? r : (int)n;
}

int net_dbus_frames_answer(sd_bus_message *call, uint32_t applied)
{
	if (sd_bus_message_is_method_call(call, NULL, "SetStates"))
		return sd_bus_reply_method_return(call, "u", applied);
	return sd_bus_reply_method_return(call, NULL);
}
