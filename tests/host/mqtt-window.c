// SPDX-License-Identifier: MIT
/*
 * mqtt-window: host tests of the mqtt button's end-to-end bound
 * (lib/pub_window.h, lib/net_mqtt_pub.h), printing TAP. With the PUBACK
 * bound out of the way (every publication acknowledged at once): the
 * sender takes publications up to its bound beyond the receiver's
 * progress, then is full and its fd not writable; a report releases every
 * publication up to its seqno and makes the fd writable again; a report
 * beyond the newest publication (an earlier run's, or forged), one before
 * the oldest, or a payload that is not a seqno changes nothing; seqnos
 * wrap; a publication without a seqno is not counted; with the reports
 * off the bound is gone. And the report's text: decimal, all 32 bits.
 */
#include "lib/tap.h"
#include "../../userspace/lib/net_mqtt_pub.h"
#include "../../userspace/lib/pub_window.h"

#include <poll.h>
#include <stdint.h>
#include <string.h>

#define AHEAD	3

static bool writable(const struct pub_window *w)
{
	struct pollfd p = { pub_window_fd(w), POLLOUT, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/* One publication whose last frame has @seqno, acknowledged at once. */
static bool publish(struct pub_window *w, uint32_t seqno, bool tracked)
{
	bool took;

	pthread_mutex_lock(&w->lock);
	took = pub_window_take(w, seqno);
	if (took)
		pub_window_sent(w, seqno, tracked);
	pthread_mutex_unlock(&w->lock);
	if (took)
		pub_window_acked(w);
	return took;
}

static bool report(struct net_mqtt_pub *p, const char *topic, const char *text)
{
	struct mosquitto_message m = {
		.topic = (char *)topic,
		.payload = (void *)text,
		.payloadlen = (int)strlen(text),
	};

	return net_mqtt_pub_progress(p, &m);
}

int main(void)
{
	const char *topic = "ipc-button/t/applied";
	struct pub_window w;
	struct net_mqtt_pub p = { .window = &w, .progress_topic = topic };
	char text[NET_MQTT_PROGRESS_MAX];
	int n;

	if (pub_window_init(&w, 4, AHEAD) < 0) {
		tap_ok(false, "pub_window_init");
		return tap_done();
	}
	tap_ok(publish(&w, 10, true) && publish(&w, 11, true) &&
	       publish(&w, 12, true) && pub_window_ahead(&w) == AHEAD &&
	       writable(&w),
	       "%d publications beyond the receiver's progress are taken", AHEAD);
	tap_ok(!publish(&w, 13, true) && !writable(&w),
	       "one more is refused and the fd is not writable");
	tap_ok(report(&p, topic, "1000") && pub_window_ahead(&w) == AHEAD &&
	       !writable(&w),
	       "a report beyond the newest publication changes nothing");
	tap_ok(report(&p, topic, "9") && pub_window_ahead(&w) == AHEAD,
	       "a report before the oldest publication changes nothing");
	tap_ok(!report(&p, topic, "not a seqno") && !report(&p, topic, "") &&
	       !report(&p, topic, "-1") && !report(&p, topic, "4294967296") &&
	       !report(&p, "ipc-button/t/led", "11") && pub_window_ahead(&w) == AHEAD,
	       "a payload that is not a seqno, or another topic, is ignored");
	tap_ok(report(&p, topic, "11") && pub_window_ahead(&w) == 1 &&
	       writable(&w) && publish(&w, 13, true),
	       "a report releases every publication up to its seqno; the fd is writable again");
	tap_ok(report(&p, topic, "13") && pub_window_ahead(&w) == 0,
	       "a report of the newest releases all");
	/* A sender whose seqnos wrap during its run. */
	pub_window_destroy(&w);
	if (pub_window_init(&w, 4, AHEAD) < 0) {
		tap_ok(false, "pub_window_init");
		return tap_done();
	}
	tap_ok(publish(&w, UINT32_MAX - 1, true) && publish(&w, UINT32_MAX, true) &&
	       publish(&w, 1, true) && !publish(&w, 2, true) &&
	       report(&p, topic, "2") && pub_window_ahead(&w) == AHEAD &&
	       report(&p, topic, "4294967295") && pub_window_ahead(&w) == 1 &&
	       report(&p, topic, "1") && pub_window_ahead(&w) == 0,
	       "seqnos wrap: 4294967295 comes before 1, and 2 is beyond the newest");
	tap_ok(publish(&w, 2, false) && publish(&w, 2, false) &&
	       publish(&w, 2, false) && publish(&w, 2, false) &&
	       pub_window_ahead(&w) == 0,
	       "publications without a seqno are not counted");
	pub_window_no_progress(&w);
	tap_ok(publish(&w, 3, true) && publish(&w, 4, true) &&
	       publish(&w, 5, true) && publish(&w, 6, true) && writable(&w),
	       "with the reports off (subscription refused) the bound is gone");
	n = net_mqtt_progress_payload(UINT32_MAX, text);
	tap_ok(n == 10 && !strcmp(text, "4294967295"),
	       "a report's text is the seqno in decimal, all 32 bits ('%s')", text);
	pub_window_destroy(&w);
	return tap_done();
}
