// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipc_button: a GPIO push button as a character device of timestamped,
 * sequence-numbered press and release records.
 *
 * One device per device tree node ("ipcb,gpio-button"), /dev/ipc-buttonN.
 * An edge interrupt takes the CLOCK_MONOTONIC timestamp in hard-IRQ
 * context (in the IRQ thread for controllers whose interrupts are nested
 * in a thread); the level is then read with the sleeping GPIO API, either
 * from the IRQ thread (no debounce, or debounce done by the GPIO
 * controller) or from delayed work that the first edge of a quiet line
 * arms (software debounce). Records are emitted only for real changes of
 * the level: edges closer together than the debounce interval are
 * bounces of one change, and the level read must agree with the changes
 * counted (see ipc_button_settle()). Whatever the driver cannot account
 * for edge by edge is flagged, with a count, on the next record. Every
 * record goes to the queue of every open file. A full queue drops its
 * oldest record; the loss is counted per file and flagged on the next
 * record that file reads.
 *
 * Lifetime: the state lives in a struct device registered with the cdev
 * (cdev_device_add), so every open file pins it. Unbinding marks it dead,
 * wakes every reader and poller (read() then fails with ENODEV, poll()
 * reports EPOLLHUP | EPOLLERR), removes the node, frees the IRQ and only
 * then stops the debounce work; the memory goes with the last close.
 *
 * The ABI is documented in docs/driver.md.
 */

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/gpio/consumer.h>
#include <linux/gpio/driver.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/jiffies.h>
#include <linux/kfifo.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/pm.h>
#include <linux/poll.h>
#include <linux/property.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "uapi/ipc_button.h"

#define IPC_BUTTON_NAME			"ipc-button"
#define IPC_BUTTON_MAX_DEVICES		64
#define IPC_BUTTON_DEBOUNCE_DEFAULT_MS	5	/* the gpio-keys default */
#define IPC_BUTTON_DEBOUNCE_MAX_MS	10000
/* Records moved to userspace per copy_to_user() in read(). */
#define IPC_BUTTON_READ_BATCH		8
/*
 * How long edges and level may disagree before the driver reports the
 * level alone: long enough for the interrupt of an edge the level already
 * shows (it is on its way), short enough not to hold records back.
 */
#define IPC_BUTTON_MISMATCH_GRACE_MS	20
/* Retry of a failed read of the line. */
#define IPC_BUTTON_RETRY_MS		20

/* The ABI is fixed-size and identical for 32- and 64-bit userspace. */
static_assert(sizeof(struct ipc_button_event) == 32);
static_assert(IS_ALIGNED(sizeof(struct ipc_button_info), 8));
static_assert(sizeof(struct ipc_button_info) == 104);
static_assert(IS_ALIGNED(sizeof(struct ipc_button_queue_config), 8));
static_assert(IS_ALIGNED(sizeof(struct ipc_button_clock_config), 8));
/* kfifo sizes are powers of two: the documented lengths must be too. */
static_assert((IPC_BUTTON_QUEUE_DEFAULT & (IPC_BUTTON_QUEUE_DEFAULT - 1)) == 0);
static_assert((IPC_BUTTON_QUEUE_MAX & (IPC_BUTTON_QUEUE_MAX - 1)) == 0);
/* The edge ring wraps with a mask. */
static_assert((IPC_BUTTON_MAX_EDGES & (IPC_BUTTON_MAX_EDGES - 1)) == 0);

static dev_t ipc_button_devt;
static DEFINE_IDA(ipc_button_minors);

/**
 * struct ipc_button_edges - edges not settled yet, oldest first
 * @head: index in @ns of the oldest kept edge
 * @count: edges kept with their timestamp
 * @overrun: edges counted after the kept ones without a timestamp (the
 *	     ring was full); while non-zero no edge is kept, so every kept
 *	     edge is older than every counted one
 * @ns: CLOCK_MONOTONIC times of the kept edges, a ring
 */
struct ipc_button_edges {
	unsigned int head;
	unsigned int count;
	unsigned int overrun;
	u64 ns[IPC_BUTTON_MAX_EDGES];
};

/**
 * struct ipc_button - one button and its character device
 * @dev: the class device; its release frees this structure, after the
 *	 driver unbound and the last open file was closed
 * @cdev: the character device; pins @dev while a file is open
 * @gpio: the button line, requested as input; valid only while bound
 * @irq: the line's interrupt; valid only while bound
 * @nested: the controller's interrupts are nested in its own thread
 *	    (handle_nested_irq()): the IRQ core never calls the hard-IRQ
 *	    half, so the thread times the edge; set in probe, then constant
 * @label: the device tree label or the device name, for info and the IRQ
 * @line: offset of the line on its GPIO controller, for info
 * @minor: the minor number, freed on unbind so a rebound button gets its
 *	   name back even while a stale file pins this structure
 * @edge_lock: guards @edges between the hard-IRQ handler and settling; a
 *	       raw lock, as the handler stays in hard-IRQ context even with
 *	       forced threading (IRQF_NO_THREAD)
 * @edges: edges since the last settle
 * @snap: settling's copy of @edges, under @lock (too big for the stack)
 * @settle_work: software debounce: armed by the first edge after a quiet
 *		 line, never pushed back by later ones, so it runs at most
 *		 one interval after any edge; also the retry of a failed
 *		 read and of a disagreement between edges and level
 * @debounce_ms: the debounce interval; written under @lock and
 *		 @config_lock, read locklessly by the hard-IRQ handler (an
 *		 edge handled with the old value is settled all the same)
 * @hw_debounce: the GPIO controller debounces, so no software debounce;
 *		 same locking as @debounce_ms
 * @config_lock: serialises debounce_ms stores
 * @lock: serialises settling (IRQ thread, work, resume, sysfs), the level
 *	  and counters below, @clients and @dead; all its users may sleep
 * @ready: probe read the initial level; settling waits for it
 * @pressed: the last level reported, true when pressed
 * @resync: the next settle re-reads the level without an edge to go by
 *	    and reports it with IPC_BUTTON_EVENT_F_RESYNC
 * @mismatch_ns: when edges and level started to disagree, 0 if they agree
 * @pending_flags: IPC_BUTTON_EVENT_F_* for the next record
 * @pending_lost: lost edges for the next record
 * @seqno: seqno of the last record emitted
 * @presses: press records emitted
 * @releases: release records emitted
 * @lost_edges: edges reported as lost, in total
 * @folded_edges: edges folded into a change as its bounces (or, an even
 *		  number within one interval, a glitch), in total
 * @clients: every open file, a &struct ipc_button_client
 * @dead: the driver unbound; written under @lock and every client's
 *	  wait.lock ordering (see ipc_button_unregister()), read under either
 */
struct ipc_button {
	struct device dev;
	struct cdev cdev;
	struct gpio_desc *gpio;
	int irq;
	bool nested;
	char label[IPC_BUTTON_LABEL_SIZE];
	u32 line;
	int minor;

	raw_spinlock_t edge_lock;	/* hard IRQ vs settle, see above */
	struct ipc_button_edges edges;
	struct ipc_button_edges snap;

	struct delayed_work settle_work;
	unsigned int debounce_ms;
	bool hw_debounce;

	struct mutex config_lock;	/* debounce_ms stores */
	struct mutex lock;		/* settling, counters, clients */
	bool ready;
	bool pressed;
	bool resync;
	u64 mismatch_ns;
	u32 pending_flags;
	u32 pending_lost;
	u32 seqno;
	u64 presses;
	u64 releases;
	u64 lost_edges;
	u64 folded_edges;
	struct list_head clients;
	bool dead;
};

/**
 * struct ipc_button_client - one open file of a button
 * @button: the button; the client holds a reference on its @dev
 * @node: entry in the button's @clients, under the button's @lock
 * @wait: readers and pollers sleep here; as in gpiolib-cdev, its lock
 *	  also guards @events, @pending_dropped, @dropped and @clockid, so
 *	  the queue and its waiters need one lock only
 * @events: records not yet read, oldest first
 * @pending_dropped: records dropped just before the oldest queued one;
 *		     reported (and reset) when that one is read
 * @dropped: records dropped since the file was opened
 * @clockid: the clock of this file's timestamps
 * @fasync: SIGIO subscribers (F_SETOWN, O_ASYNC)
 */
struct ipc_button_client {
	struct ipc_button *button;
	struct list_head node;
	wait_queue_head_t wait;
	DECLARE_KFIFO_PTR(events, struct ipc_button_event);
	u32 pending_dropped;
	u64 dropped;
	clockid_t clockid;
	struct fasync_struct *fasync;
};

static struct ipc_button *ipc_button_from_dev(struct device *dev)
{
	return container_of(dev, struct ipc_button, dev);
}

/* Count @n records lost by @client. */
static void ipc_button_client_drop(struct ipc_button_client *client,
				   unsigned int n)
{
	lockdep_assert_held(&client->wait.lock);

	client->dropped += n;
	client->pending_dropped = min_t(u64, (u64)client->pending_dropped + n,
					U32_MAX);
}

/* A CLOCK_MONOTONIC time on @client's clock. */
static u64 ipc_button_client_time(struct ipc_button_client *client, u64 ns)
{
	lockdep_assert_held(&client->wait.lock);

	switch (client->clockid) {
	case CLOCK_REALTIME:
		return ktime_mono_to_real(ns);
	case CLOCK_BOOTTIME:
		return ktime_mono_to_any(ns, TK_OFFS_BOOT);
	default:
		return ns;
	}
}

/*
 * Queue a record of the change to @pressed for every open file, carrying
 * @flags and @lost (edges it stands for) plus whatever an earlier settle
 * left for the next record.
 */
static void ipc_button_emit(struct ipc_button *button, u64 timestamp_ns,
			    bool pressed, u32 flags, u32 lost)
{
	struct ipc_button_client *client;
	struct ipc_button_event event;

	lockdep_assert_held(&button->lock);

	/* Records reach userspace whole: leave no kernel bytes in padding. */
	memset(&event, 0, sizeof(event));
	event.seqno = ++button->seqno;
	event.type = pressed ? IPC_BUTTON_EVENT_PRESS : IPC_BUTTON_EVENT_RELEASE;
	event.flags = flags | button->pending_flags;
	event.lost_edges = min_t(u64, (u64)lost + button->pending_lost, U32_MAX);
	if (event.lost_edges)
		event.flags |= IPC_BUTTON_EVENT_F_EDGES_LOST;
	button->pending_flags = 0;
	button->pending_lost = 0;
	button->lost_edges += lost;
	button->pressed = pressed;
	if (pressed)
		button->presses++;
	else
		button->releases++;

	list_for_each_entry(client, &button->clients, node) {
		spin_lock(&client->wait.lock);
		event.timestamp_ns = ipc_button_client_time(client, timestamp_ns);
		if (kfifo_is_full(&client->events)) {
			kfifo_skip(&client->events);
			ipc_button_client_drop(client, 1);
		}
		kfifo_in(&client->events, &event, 1);
		spin_unlock(&client->wait.lock);

		wake_up_interruptible_poll(&client->wait, EPOLLIN | EPOLLRDNORM);
		kill_fasync(&client->fasync, SIGIO, POLL_IN);
	}
}

/* Edges without a record: the next record says so. */
static void ipc_button_carry_lost(struct ipc_button *button, u32 flags,
				  unsigned int lost)
{
	lockdep_assert_held(&button->lock);

	button->pending_flags |= flags;
	button->pending_lost = min_t(u64, (u64)button->pending_lost + lost,
				     U32_MAX);
	button->lost_edges += lost;
}

/*
 * Record one edge at @now; true if it is the first since the line was
 * last settled. Hard-IRQ context (or the IRQ thread of a nested one).
 */
static bool ipc_button_add_edge(struct ipc_button *button, u64 now)
{
	struct ipc_button_edges *e = &button->edges;
	unsigned long flags;
	bool first;

	raw_spin_lock_irqsave(&button->edge_lock, flags);
	first = !e->count && !e->overrun;
	if (!e->overrun && e->count < IPC_BUTTON_MAX_EDGES)
		e->ns[(e->head + e->count++) & (IPC_BUTTON_MAX_EDGES - 1)] = now;
	else if (e->overrun != UINT_MAX)
		e->overrun++;
	raw_spin_unlock_irqrestore(&button->edge_lock, flags);
	return first;
}

/* Copy the pending edges, oldest first, into @button->snap (unwrapped). */
static void ipc_button_snapshot(struct ipc_button *button)
{
	struct ipc_button_edges *e = &button->edges, *s = &button->snap;
	unsigned long flags;
	unsigned int i;

	lockdep_assert_held(&button->lock);

	raw_spin_lock_irqsave(&button->edge_lock, flags);
	s->head = 0;
	s->count = e->count;
	s->overrun = e->overrun;
	for (i = 0; i < e->count; i++)
		s->ns[i] = e->ns[(e->head + i) & (IPC_BUTTON_MAX_EDGES - 1)];
	raw_spin_unlock_irqrestore(&button->edge_lock, flags);
}

/*
 * Forget the @kept oldest kept edges and @overrun counted ones, all from
 * the snapshot; edges that came since stay. True if edges remain, with the
 * newest kept one's time in @last_ns (0 if none is kept).
 */
static bool ipc_button_consume(struct ipc_button *button, unsigned int kept,
			       unsigned int overrun, u64 *last_ns)
{
	struct ipc_button_edges *e = &button->edges;
	unsigned long flags;
	bool left;

	raw_spin_lock_irqsave(&button->edge_lock, flags);
	e->head = (e->head + kept) & (IPC_BUTTON_MAX_EDGES - 1);
	e->count -= kept;
	e->overrun -= overrun;
	left = e->count || e->overrun;
	*last_ns = e->count ?
		e->ns[(e->head + e->count - 1) & (IPC_BUTTON_MAX_EDGES - 1)] : 0;
	raw_spin_unlock_irqrestore(&button->edge_lock, flags);
	return left;
}

static unsigned long ipc_button_ns_to_jiffies(u64 ns)
{
	return usecs_to_jiffies(DIV_ROUND_UP_ULL(ns, NSEC_PER_USEC));
}

static u64 ipc_button_window_ns(struct ipc_button *button)
{
	return READ_ONCE(button->hw_debounce) ? 0 :
	       (u64)READ_ONCE(button->debounce_ms) * NSEC_PER_MSEC;
}

/*
 * Report the changes the edges make, burst by burst: edges closer together
 * than the debounce interval are the bounces of one change, which an odd
 * number of them makes, timed at its first edge. A burst is complete once
 * a later edge or the clock is an interval past its last edge, or, for a
 * line that never stays quiet that long, once it is older than the longest
 * settle time; only then is it reported (@all: report every burst now).
 * Returns the kept edges used.
 */
static unsigned int ipc_button_report_bursts(struct ipc_button *button,
					     unsigned int count, u64 now,
					     u64 window_ns, bool all)
{
	const u64 *ns = button->snap.ns;
	unsigned int i, first;
	u32 flags, lost;

	lockdep_assert_held(&button->lock);

	for (first = 0, i = 1; i <= count; i++) {
		if (i < count && ns[i] - ns[i - 1] < window_ns)
			continue;
		flags = 0;
		lost = 0;
		if (i == count && !all && now - ns[i - 1] < window_ns) {
			if (now - ns[first] < window_ns * IPC_BUTTON_SETTLE_FACTOR)
				return first;	/* still bouncing: later */
			/* A train too long for a bounce: say so. */
			flags = IPC_BUTTON_EVENT_F_UNSETTLED;
			lost = i - first;
		}
		if ((i - first) & 1)
			ipc_button_emit(button, ns[first], !button->pressed,
					flags, lost);
		else if (flags)
			ipc_button_carry_lost(button, flags, lost);
		/* Accounted for, one by one: a change and its bounces. */
		if (!flags)
			button->folded_edges += (i - first) - ((i - first) & 1);
		first = i;
	}
	return count;
}

/* (Re)arm the work to run @ns from now. */
static void ipc_button_arm(struct ipc_button *button, u64 ns)
{
	mod_delayed_work(system_highpri_wq, &button->settle_work,
			 max(ipc_button_ns_to_jiffies(ns), 1UL));
}

/*
 * Read the level and report what the edges since the last settle did.
 * Runs in the IRQ thread, the work, resume and sysfs, which all may sleep,
 * as the level of a line on a sleeping controller (I2C expanders,
 * gpio-sim) must be read.
 *
 * The edges' hard-IRQ timestamps tell what happened even when this runs
 * late (a busy or emulated CPU), and the level read must agree with them:
 * an odd number of edges is a change. When edges and level disagree, the
 * interrupt of an edge the level already shows may still be on its way,
 * so the edges are kept and looked at again, with the newer ones, within
 * IPC_BUTTON_MISMATCH_GRACE_MS. Past that (or with more edges than kept,
 * or for a resync) the driver reports what it can account for and then
 * the level, flagged: it is never silent about an edge it could not
 * report.
 */
static void ipc_button_settle(struct ipc_button *button, bool resync)
{
	struct ipc_button_edges *s = &button->snap;
	unsigned int kept, changes;
	u64 now, window_ns, last_ns;
	bool level, lossy;
	u32 flags;
	int value;

	mutex_lock(&button->lock);
	if (button->dead || !button->ready)
		goto out_unlock;
	button->resync |= resync;

	/* The edges first: the level read after them shows all of them. */
	ipc_button_snapshot(button);
	value = gpiod_get_value_cansleep(button->gpio);
	if (value < 0) {
		dev_err_ratelimited(button->dev.parent,
				    "cannot read the button line: %d\n", value);
		/* Keep the edges; read again soon, and say so then. */
		button->resync = true;
		ipc_button_arm(button, IPC_BUTTON_RETRY_MS * NSEC_PER_MSEC);
		goto out_unlock;
	}
	level = value;
	now = ktime_get_ns();
	window_ns = ipc_button_window_ns(button);

	lossy = s->overrun ||
		(((s->count & 1) != 0) != (level != button->pressed));
	if (lossy && !s->overrun && !button->resync) {
		if (!button->mismatch_ns)
			button->mismatch_ns = now;
		if (now - button->mismatch_ns <
		    IPC_BUTTON_MISMATCH_GRACE_MS * NSEC_PER_MSEC) {
			ipc_button_arm(button, button->mismatch_ns - now +
				       IPC_BUTTON_MISMATCH_GRACE_MS * NSEC_PER_MSEC);
			goto out_unlock;
		}
	}
	button->mismatch_ns = 0;

	flags = 0;
	if (button->resync) {
		flags = IPC_BUTTON_EVENT_F_RESYNC;
		button->resync = false;
	}

	if (!lossy) {
		/* A resync flags the next record, whenever that comes. */
		button->pending_flags |= flags;
		kept = ipc_button_report_bursts(button, s->count, now,
						window_ns, false);
		ipc_button_consume(button, kept, 0, &last_ns);
		goto out_rearm;
	}

	/*
	 * Edges without timestamps, or an edge the level proves that never
	 * came (or one too many): report the bursts that are certain, then
	 * the level, standing for the rest.
	 */
	if (s->overrun && s->count) {
		/* The last kept burst may go on among the counted edges. */
		for (kept = s->count - 1; kept > 0; kept--)
			if (s->ns[kept] - s->ns[kept - 1] >= window_ns)
				break;
	} else {
		kept = s->count;
	}
	ipc_button_report_bursts(button, kept, now, window_ns, true);
	changes = s->count - kept + s->overrun;
	if (!s->overrun)
		changes = 1;	/* the edge the level proves */
	if (level != button->pressed)
		ipc_button_emit(button, kept < s->count ? s->ns[kept] : now,
				level, flags | IPC_BUTTON_EVENT_F_EDGES_LOST,
				changes);
	else
		ipc_button_carry_lost(button,
				      flags | IPC_BUTTON_EVENT_F_EDGES_LOST,
				      changes);
	ipc_button_consume(button, s->count, s->overrun, &last_ns);

out_rearm:
	/* Edges left (a burst still bouncing, or newer ones): settle later. */
	if (ipc_button_consume(button, 0, 0, &last_ns) && window_ns)
		ipc_button_arm(button, last_ns && last_ns + window_ns > now ?
			       last_ns + window_ns - now : 0);
out_unlock:
	mutex_unlock(&button->lock);
}

static void ipc_button_settle_work(struct work_struct *work)
{
	struct ipc_button *button = container_of(to_delayed_work(work),
						 struct ipc_button,
						 settle_work);

	ipc_button_settle(button, false);
}

/*
 * A new edge at @now: with software debounce, the first edge of a quiet
 * line arms the work one interval ahead, and later edges leave it there,
 * so a train of edges never holds the settle off; otherwise the level is
 * read at once, in the thread. True if the thread should settle.
 */
static bool ipc_button_edge(struct ipc_button *button, u64 now)
{
	unsigned int debounce_ms = READ_ONCE(button->debounce_ms);
	bool first = ipc_button_add_edge(button, now);

	if (debounce_ms && !READ_ONCE(button->hw_debounce)) {
		/*
		 * The work is this interrupt's bottom half: high priority
		 * workers keep busy tasks from delaying it.
		 */
		if (first)
			queue_delayed_work(system_highpri_wq,
					   &button->settle_work,
					   msecs_to_jiffies(debounce_ms));
		return false;
	}
	return true;
}

static irqreturn_t ipc_button_irq_thread(int irq, void *data)
{
	struct ipc_button *button = data;

	/*
	 * A nested interrupt (handle_nested_irq() from the controller's
	 * thread) runs this alone: time the edge here, as gpiolib-cdev
	 * does, and debounce from here.
	 */
	if (button->nested && !ipc_button_edge(button, ktime_get_ns()))
		return IRQ_HANDLED;
	ipc_button_settle(button, false);
	return IRQ_HANDLED;
}

/*
 * Hard-IRQ half: timestamp the edge as close to it as possible, then
 * leave the level to sleeping context.
 */
static irqreturn_t ipc_button_irq(int irq, void *data)
{
	struct ipc_button *button = data;

	return ipc_button_edge(button, ktime_get_ns()) ? IRQ_WAKE_THREAD :
							 IRQ_HANDLED;
}

/*
 * Debounce in the GPIO controller when it can, in software otherwise.
 * Called in probe and from sysfs; may sleep.
 */
static void ipc_button_set_debounce(struct ipc_button *button,
				    unsigned int debounce_ms)
{
	bool hw = false;

	if (debounce_ms)
		hw = !gpiod_set_debounce(button->gpio,
					 debounce_ms * USEC_PER_MSEC);
	else
		/* Controllers without debounce refuse; nothing to undo then. */
		(void)gpiod_set_debounce(button->gpio, 0);

	WRITE_ONCE(button->hw_debounce, hw);
	WRITE_ONCE(button->debounce_ms, debounce_ms);
}

/* ---------------------------------------------------------------------- */
/* File operations */

static int ipc_button_open(struct inode *inode, struct file *file)
{
	struct ipc_button *button = container_of(inode->i_cdev,
						 struct ipc_button, cdev);
	struct ipc_button_client *client;
	int ret;

	/* Charged to the opener's memory cgroup: any user may open many. */
	client = kzalloc(sizeof(*client), GFP_KERNEL_ACCOUNT);
	if (!client)
		return -ENOMEM;

	ret = kfifo_alloc(&client->events, IPC_BUTTON_QUEUE_DEFAULT,
			  GFP_KERNEL_ACCOUNT);
	if (ret)
		goto err_free_client;

	init_waitqueue_head(&client->wait);
	client->button = button;
	client->clockid = CLOCK_MONOTONIC;
	file->private_data = client;
	stream_open(inode, file);

	mutex_lock(&button->lock);
	if (button->dead) {
		mutex_unlock(&button->lock);
		ret = -ENODEV;
		goto err_free_fifo;
	}
	get_device(&button->dev);
	list_add_tail(&client->node, &button->clients);
	mutex_unlock(&button->lock);

	return 0;

err_free_fifo:
	kfifo_free(&client->events);
err_free_client:
	kfree(client);
	return ret;
}

static int ipc_button_release(struct inode *inode, struct file *file)
{
	struct ipc_button_client *client = file->private_data;
	struct ipc_button *button = client->button;

	mutex_lock(&button->lock);
	list_del(&client->node);
	mutex_unlock(&button->lock);

	kfifo_free(&client->events);
	kfree(client);
	put_device(&button->dev);
	return 0;
}

/* Wake-up condition of blocked readers; the client's wait.lock is held. */
static bool ipc_button_readable(struct ipc_button_client *client)
{
	return !kfifo_is_empty(&client->events) ||
	       READ_ONCE(client->button->dead);
}

/*
 * Whole records only; blocks until at least one is queued unless
 * O_NONBLOCK, and returns what it has rather than block again.
 */
static ssize_t ipc_button_read(struct file *file, char __user *buf,
			       size_t count, loff_t *ppos)
{
	struct ipc_button_client *client = file->private_data;
	struct ipc_button *button = client->button;
	struct ipc_button_event batch[IPC_BUTTON_READ_BATCH];
	size_t copied = 0;
	unsigned int n;
	int ret;

	if (count < sizeof(batch[0]))
		return -EINVAL;

	for (;;) {
		n = min_t(size_t, (count - copied) / sizeof(batch[0]),
			  ARRAY_SIZE(batch));

		spin_lock(&client->wait.lock);
		if (READ_ONCE(button->dead)) {
			spin_unlock(&client->wait.lock);
			return copied ? copied : -ENODEV;
		}
		if (kfifo_is_empty(&client->events)) {
			if (copied || (file->f_flags & O_NONBLOCK)) {
				spin_unlock(&client->wait.lock);
				return copied ? copied : -EAGAIN;
			}
			/* The device going away must wake readers too. */
			ret = wait_event_interruptible_locked(client->wait,
							      ipc_button_readable(client));
			if (ret) {
				spin_unlock(&client->wait.lock);
				return ret;
			}
			if (READ_ONCE(button->dead)) {
				spin_unlock(&client->wait.lock);
				return -ENODEV;
			}
		}

		n = kfifo_out(&client->events, batch, n);
		if (client->pending_dropped) {
			batch[0].flags |= IPC_BUTTON_EVENT_F_DROPPED;
			batch[0].dropped = client->pending_dropped;
			client->pending_dropped = 0;
		}
		spin_unlock(&client->wait.lock);

		if (copy_to_user(buf + copied, batch, n * sizeof(batch[0]))) {
			/*
			 * The records taken for a bad buffer are lost: the
			 * next one read says so. Earlier batches did reach
			 * the caller, so they are what this read returns.
			 */
			spin_lock(&client->wait.lock);
			ipc_button_client_drop(client, n + batch[0].dropped);
			client->dropped -= batch[0].dropped;
			spin_unlock(&client->wait.lock);
			return copied ? copied : -EFAULT;
		}
		copied += n * sizeof(batch[0]);
		if (count - copied < sizeof(batch[0]))
			return copied;
	}
}

static __poll_t ipc_button_poll(struct file *file, poll_table *wait)
{
	struct ipc_button_client *client = file->private_data;

	poll_wait(file, &client->wait, wait);

	if (READ_ONCE(client->button->dead))
		return EPOLLHUP | EPOLLERR;
	if (!kfifo_is_empty_spinlocked_noirqsave(&client->events,
						 &client->wait.lock))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

static int ipc_button_fasync(int fd, struct file *file, int on)
{
	struct ipc_button_client *client = file->private_data;

	return fasync_helper(fd, file, on, &client->fasync);
}

static long ipc_button_get_info(struct ipc_button_client *client,
				void __user *arg)
{
	struct ipc_button *button = client->button;
	struct ipc_button_info info;

	memset(&info, 0, sizeof(info));
	info.queue_max = IPC_BUTTON_QUEUE_MAX;

	mutex_lock(&button->lock);
	if (button->dead) {
		mutex_unlock(&button->lock);
		return -ENODEV;
	}
	strscpy(info.label, button->label, sizeof(info.label));
	info.line = button->line;
	if (button->pressed)
		info.flags |= IPC_BUTTON_INFO_F_PRESSED;
	if (gpiod_is_active_low(button->gpio))
		info.flags |= IPC_BUTTON_INFO_F_ACTIVE_LOW;
	if (READ_ONCE(button->hw_debounce))
		info.flags |= IPC_BUTTON_INFO_F_HW_DEBOUNCE;
	info.debounce_ms = READ_ONCE(button->debounce_ms);
	info.last_seqno = button->seqno;
	info.presses = button->presses;
	info.releases = button->releases;
	info.lost_edges = button->lost_edges;
	info.folded_edges = button->folded_edges;

	spin_lock(&client->wait.lock);
	info.clockid = client->clockid;
	info.queue_length = kfifo_size(&client->events);
	info.queued = kfifo_len(&client->events);
	info.dropped = client->dropped;
	spin_unlock(&client->wait.lock);
	mutex_unlock(&button->lock);

	if (copy_to_user(arg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long ipc_button_set_queue_length(struct ipc_button_client *client,
					void __user *arg)
{
	struct ipc_button_queue_config config;
	struct ipc_button_event event;
	typeof(client->events) fifo;
	unsigned int excess;
	int ret;

	if (copy_from_user(&config, arg, sizeof(config)))
		return -EFAULT;
	if (config.padding || !config.length ||
	    config.length > IPC_BUTTON_QUEUE_MAX)
		return -EINVAL;

	/*
	 * Allocate outside the lock. kfifo rounds up to a power of two and
	 * holds at least two elements.
	 */
	ret = kfifo_alloc(&fifo, max(config.length, 2U), GFP_KERNEL_ACCOUNT);
	if (ret)
		return ret;

	spin_lock(&client->wait.lock);
	/* Keep the newest records that fit, as an overflow would. */
	excess = kfifo_len(&client->events) -
		 min(kfifo_len(&client->events), kfifo_size(&fifo));
	ipc_button_client_drop(client, excess);
	while (excess--)
		kfifo_skip(&client->events);
	while (kfifo_out(&client->events, &event, 1))
		kfifo_in(&fifo, &event, 1);
	swap(client->events, fifo);
	config.length = kfifo_size(&client->events);
	spin_unlock(&client->wait.lock);

	kfifo_free(&fifo);

	if (copy_to_user(arg, &config, sizeof(config)))
		return -EFAULT;
	return 0;
}

static long ipc_button_set_clock(struct ipc_button_client *client,
				 void __user *arg)
{
	struct ipc_button_clock_config config;

	if (copy_from_user(&config, arg, sizeof(config)))
		return -EFAULT;
	if (config.padding)
		return -EINVAL;
	switch (config.clockid) {
	case CLOCK_MONOTONIC:
	case CLOCK_REALTIME:
	case CLOCK_BOOTTIME:
		break;
	default:
		return -EINVAL;
	}

	spin_lock(&client->wait.lock);
	if (client->clockid != config.clockid) {
		/* Queued records are on the old clock: drop and say so. */
		ipc_button_client_drop(client, kfifo_len(&client->events));
		kfifo_reset_out(&client->events);
		client->clockid = config.clockid;
	}
	spin_unlock(&client->wait.lock);
	return 0;
}

static long ipc_button_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct ipc_button_client *client = file->private_data;
	void __user *argp = (void __user *)arg;

	if (READ_ONCE(client->button->dead))
		return -ENODEV;

	switch (cmd) {
	case IPC_BUTTON_GET_INFO:
		return ipc_button_get_info(client, argp);
	case IPC_BUTTON_SET_QUEUE_LENGTH:
		return ipc_button_set_queue_length(client, argp);
	case IPC_BUTTON_SET_CLOCK:
		return ipc_button_set_clock(client, argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations ipc_button_fops = {
	.owner		= THIS_MODULE,
	.open		= ipc_button_open,
	.release	= ipc_button_release,
	.read		= ipc_button_read,
	.poll		= ipc_button_poll,
	.fasync		= ipc_button_fasync,
	.unlocked_ioctl	= ipc_button_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* ---------------------------------------------------------------------- */
/* sysfs: /sys/class/ipc-button/ipc-buttonN/ */

static ssize_t press_count_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct ipc_button *button = ipc_button_from_dev(dev);
	u64 presses;

	mutex_lock(&button->lock);
	presses = button->presses;
	mutex_unlock(&button->lock);

	return sysfs_emit(buf, "%llu\n", presses);
}
static DEVICE_ATTR_RO(press_count);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct ipc_button *button = ipc_button_from_dev(dev);
	bool pressed;

	mutex_lock(&button->lock);
	pressed = button->pressed;
	mutex_unlock(&button->lock);

	return sysfs_emit(buf, "%s\n", pressed ? "pressed" : "released");
}
static DEVICE_ATTR_RO(state);

static ssize_t debounce_ms_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct ipc_button *button = ipc_button_from_dev(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(button->debounce_ms));
}

/*
 * A new interval takes effect between two settles: set under the mutex
 * every settle holds, then the IRQ handlers still running with the old
 * one are waited for and the work armed with it is cancelled, and the
 * edges pending are settled with the new interval. The line is never
 * masked, so no edge is lost meanwhile (a nested controller could not
 * replay one).
 */
static ssize_t debounce_ms_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct ipc_button *button = ipc_button_from_dev(dev);
	unsigned int debounce_ms;
	int ret;

	/* Milliseconds are decimal: "010" is 10, not octal 8. */
	ret = kstrtouint(buf, 10, &debounce_ms);
	if (ret)
		return ret;
	if (debounce_ms > IPC_BUTTON_DEBOUNCE_MAX_MS)
		return -EINVAL;

	mutex_lock(&button->config_lock);
	mutex_lock(&button->lock);
	ipc_button_set_debounce(button, debounce_ms);
	mutex_unlock(&button->lock);

	synchronize_irq(button->irq);
	cancel_delayed_work_sync(&button->settle_work);
	ipc_button_settle(button, false);
	mutex_unlock(&button->config_lock);

	return count;
}
static DEVICE_ATTR_RW(debounce_ms);

static ssize_t label_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n", ipc_button_from_dev(dev)->label);
}
static DEVICE_ATTR_RO(label);

static ssize_t lost_edges_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct ipc_button *button = ipc_button_from_dev(dev);
	u64 lost;

	mutex_lock(&button->lock);
	lost = button->lost_edges;
	mutex_unlock(&button->lock);

	return sysfs_emit(buf, "%llu\n", lost);
}
static DEVICE_ATTR_RO(lost_edges);

static ssize_t folded_edges_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct ipc_button *button = ipc_button_from_dev(dev);
	u64 folded;

	mutex_lock(&button->lock);
	folded = button->folded_edges;
	mutex_unlock(&button->lock);

	return sysfs_emit(buf, "%llu\n", folded);
}
static DEVICE_ATTR_RO(folded_edges);

static struct attribute *ipc_button_attrs[] = {
	&dev_attr_press_count.attr,
	&dev_attr_state.attr,
	&dev_attr_debounce_ms.attr,
	&dev_attr_label.attr,
	&dev_attr_lost_edges.attr,
	&dev_attr_folded_edges.attr,
	NULL
};
ATTRIBUTE_GROUPS(ipc_button);

static struct class ipc_button_class = {
	.name		= IPC_BUTTON_NAME,
	.dev_groups	= ipc_button_groups,
};

/* ---------------------------------------------------------------------- */
/* Probe and removal */

static void ipc_button_free(struct device *dev)
{
	struct ipc_button *button = ipc_button_from_dev(dev);

	/* Probe failed before registering: the minor is still ours. */
	if (button->minor >= 0)
		ida_free(&ipc_button_minors, button->minor);
	mutex_destroy(&button->lock);
	mutex_destroy(&button->config_lock);
	kfree(button);
}

/* devm action, last to run: the driver's reference on the state. */
static void ipc_button_put(void *data)
{
	struct ipc_button *button = data;

	put_device(&button->dev);
}

/* devm action, run after the IRQ is freed: nothing can re-arm the work. */
static void ipc_button_quiesce(void *data)
{
	struct ipc_button *button = data;

	cancel_delayed_work_sync(&button->settle_work);
}

/*
 * devm action, first to run on unbind: fail every file and remove the
 * node, while the IRQ and the GPIO are still there.
 */
static void ipc_button_unregister(void *data)
{
	struct ipc_button *button = data;
	struct ipc_button_client *client;

	mutex_lock(&button->lock);
	/*
	 * A reader checks @dead under its wait.lock, which the wake-up below
	 * takes after this store: it either sees @dead or is already
	 * queued to be woken.
	 */
	WRITE_ONCE(button->dead, true);
	list_for_each_entry(client, &button->clients, node) {
		wake_up_interruptible_poll(&client->wait, EPOLLHUP | EPOLLERR);
		kill_fasync(&client->fasync, SIGIO, POLL_HUP);
	}
	mutex_unlock(&button->lock);

	cdev_device_del(&button->cdev, &button->dev);
	/*
	 * The name and the minor are free again, as evdev frees its minor
	 * on disconnect: a rebound button comes back as the same
	 * /dev/ipc-buttonN even while a stale file still pins this one
	 * (its cdev is gone, so it cannot be reached by the number).
	 */
	ida_free(&ipc_button_minors, button->minor);
	button->minor = -1;
}

/*
 * The line's offset on its controller, as the controller translated the
 * binding (its own of_xlate may differ from the first cell).
 */
static u32 ipc_button_line_offset(struct gpio_desc *desc)
{
#ifdef IPC_BUTTON_HAVE_GPIO_DEVICE
	return desc_to_gpio(desc) -
	       gpio_device_get_base(gpiod_to_gpio_device(desc));
#else
	return desc_to_gpio(desc) - gpiod_to_chip(desc)->base;
#endif
}

/*
 * Make the driver core unbind the button before its GPIO controller: on
 * its own, removing the controller (gpiochip_remove()) disposes of the
 * line's interrupt under the button, whose managed free_irq() then warns
 * "Trying to free already-free IRQ". A device link from the controller
 * is how a consumer avoids that; it goes away when the button unbinds.
 */
static void ipc_button_link_controller(struct device *dev,
				       struct gpio_desc *desc)
{
	struct device *supplier;
	bool bound;

	/* A managed link needs a bound supplier (not every chip has one). */
#ifdef IPC_BUTTON_HAVE_GPIO_DEVICE
	supplier = gpio_device_to_device(gpiod_to_gpio_device(desc))->parent;
	bound = supplier && device_is_bound(supplier);
#else
	/* 6.1 does not export device_is_bound(). */
	supplier = gpiod_to_chip(desc)->parent;
	bound = supplier && READ_ONCE(supplier->driver);
#endif
	if (bound &&
	    !device_link_add(dev, supplier, DL_FLAG_AUTOREMOVE_CONSUMER))
		dev_warn(dev, "no device link to %s: unbind the button before it\n",
			 dev_name(supplier));
}

/*
 * Read the level the button starts from, after the IRQ was requested so
 * that no change falls between the two: edges timed before the read are
 * shown by it; later ones are settled as usual.
 */
static int ipc_button_start(struct ipc_button *button)
{
	unsigned int old;
	u64 last_ns, before;
	int value;

	mutex_lock(&button->lock);
	ipc_button_snapshot(button);
	before = ktime_get_ns();
	value = gpiod_get_value_cansleep(button->gpio);
	if (value >= 0) {
		for (old = 0; old < button->snap.count; old++)
			if (button->snap.ns[old] > before)
				break;
		ipc_button_consume(button, old, button->snap.overrun, &last_ns);
		button->pressed = value;
		button->ready = true;
	}
	mutex_unlock(&button->lock);
	if (value < 0)
		return value;

	/* Edges that came meanwhile were left for this. */
	ipc_button_settle(button, false);
	return 0;
}

static int ipc_button_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct ipc_button *button;
	unsigned int debounce_ms = IPC_BUTTON_DEBOUNCE_DEFAULT_MS;
	const char *label = dev_name(dev);
	int minor, irq, ret;

	button = kzalloc(sizeof(*button), GFP_KERNEL);
	if (!button)
		return -ENOMEM;

	minor = ida_alloc_max(&ipc_button_minors, IPC_BUTTON_MAX_DEVICES - 1,
			      GFP_KERNEL);
	if (minor < 0) {
		kfree(button);
		return dev_err_probe(dev, minor, "no free minor number\n");
	}

	/* From here on the class device owns the memory and the minor. */
	device_initialize(&button->dev);
	button->dev.class = &ipc_button_class;
	button->dev.parent = dev;
	button->dev.devt = MKDEV(MAJOR(ipc_button_devt), minor);
	button->dev.release = ipc_button_free;
	button->minor = minor;
	raw_spin_lock_init(&button->edge_lock);
	mutex_init(&button->config_lock);
	mutex_init(&button->lock);
	INIT_LIST_HEAD(&button->clients);
	INIT_DELAYED_WORK(&button->settle_work, ipc_button_settle_work);

	ret = devm_add_action_or_reset(dev, ipc_button_put, button);
	if (ret)
		return ret;

	ret = dev_set_name(&button->dev, IPC_BUTTON_NAME "%d", minor);
	if (ret)
		return ret;

	device_property_read_string(dev, "label", &label);
	strscpy(button->label, label, sizeof(button->label));

	device_property_read_u32(dev, "debounce-interval", &debounce_ms);
	if (debounce_ms > IPC_BUTTON_DEBOUNCE_MAX_MS)
		return dev_err_probe(dev, -EINVAL,
				     "debounce-interval %u ms is above %u\n",
				     debounce_ms, IPC_BUTTON_DEBOUNCE_MAX_MS);

	/* Flags (active level, pull) come from the button-gpios cell. */
	button->gpio = devm_gpiod_get(dev, "button", GPIOD_IN);
	if (IS_ERR(button->gpio))
		return dev_err_probe(dev, PTR_ERR(button->gpio),
				     "cannot get button-gpios\n");
	button->line = ipc_button_line_offset(button->gpio);
	ipc_button_link_controller(dev, button->gpio);

	irq = gpiod_to_irq(button->gpio);
	if (irq < 0)
		return dev_err_probe(dev, irq, "the button line has no IRQ\n");
	button->irq = irq;
	button->nested = irq_check_status_bit(irq, IRQ_NESTED_THREAD);

	ipc_button_set_debounce(button, debounce_ms);

	/* Registered before the IRQ, so devres runs it after freeing it. */
	ret = devm_add_action_or_reset(dev, ipc_button_quiesce, button);
	if (ret)
		return ret;

	/*
	 * Not IRQF_ONESHOT: the line stays unmasked while the thread runs,
	 * so a controller that does not latch edges while masked (gpio-sim)
	 * loses none; the hard-IRQ half has stored the timestamp already.
	 * IRQF_NO_THREAD keeps that half in hard-IRQ context when
	 * interrupts are force-threaded (threadirqs, PREEMPT_RT), so the
	 * timestamp stays where the uAPI says it is taken.
	 */
	ret = devm_request_threaded_irq(dev, irq, ipc_button_irq,
					ipc_button_irq_thread,
					IRQF_TRIGGER_RISING |
					IRQF_TRIGGER_FALLING | IRQF_NO_THREAD,
					button->label, button);
	if (ret)
		return dev_err_probe(dev, ret, "cannot request IRQ %d\n", irq);

	/* Only now: a change after this read raises the IRQ. */
	ret = ipc_button_start(button);
	if (ret)
		return dev_err_probe(dev, ret, "cannot read the button line\n");

	cdev_init(&button->cdev, &ipc_button_fops);
	button->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&button->cdev, &button->dev);
	if (ret)
		return dev_err_probe(dev, ret, "cannot add %s\n",
				     dev_name(&button->dev));

	ret = devm_add_action_or_reset(dev, ipc_button_unregister, button);
	if (ret)
		return ret;

	platform_set_drvdata(pdev, button);
	dev_dbg(dev, "%s: \"%s\" on line %u, debounce %u ms (%s)%s\n",
		dev_name(&button->dev), button->label, button->line,
		debounce_ms, button->hw_debounce ? "hardware" : "software",
		button->nested ? ", nested IRQ" : "");
	return 0;
}

/*
 * The line may have changed while the system slept, with its edge lost
 * (gpio-keys re-reads its buttons on resume for the same reason): read
 * it again and report any change as a resync.
 */
static int ipc_button_resume(struct device *dev)
{
	struct ipc_button *button = dev_get_drvdata(dev);

	ipc_button_settle(button, true);
	return 0;
}

static DEFINE_SIMPLE_DEV_PM_OPS(ipc_button_pm_ops, NULL, ipc_button_resume);

static const struct of_device_id ipc_button_of_match[] = {
	{ .compatible = "ipcb,gpio-button" },
	{ }
};
MODULE_DEVICE_TABLE(of, ipc_button_of_match);

static struct platform_driver ipc_button_driver = {
	.probe = ipc_button_probe,
	.driver = {
		.name = "ipc_button",
		.of_match_table = ipc_button_of_match,
		.pm = pm_sleep_ptr(&ipc_button_pm_ops),
	},
};

static int __init ipc_button_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&ipc_button_devt, 0, IPC_BUTTON_MAX_DEVICES,
				  IPC_BUTTON_NAME);
	if (ret)
		return ret;

	ret = class_register(&ipc_button_class);
	if (ret)
		goto err_unregister_region;

	ret = platform_driver_register(&ipc_button_driver);
	if (ret)
		goto err_unregister_class;

	return 0;

err_unregister_class:
	class_unregister(&ipc_button_class);
err_unregister_region:
	unregister_chrdev_region(ipc_button_devt, IPC_BUTTON_MAX_DEVICES);
	return ret;
}
module_init(ipc_button_init);

static void __exit ipc_button_exit(void)
{
	platform_driver_unregister(&ipc_button_driver);
	class_unregister(&ipc_button_class);
	unregister_chrdev_region(ipc_button_devt, IPC_BUTTON_MAX_DEVICES);
	ida_destroy(&ipc_button_minors);
}
module_exit(ipc_button_exit);

MODULE_DESCRIPTION("GPIO push button as a character device of press/release records");
MODULE_AUTHOR("ipc-button project");
MODULE_LICENSE("GPL");
