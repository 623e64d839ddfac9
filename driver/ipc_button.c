// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipc_button: a GPIO push button as a character device of timestamped,
 * sequence-numbered press and release records.
 *
 * One device per device tree node ("ipcb,gpio-button"), /dev/ipc-buttonN.
 * An edge interrupt takes the CLOCK_MONOTONIC timestamp in hard-IRQ
 * context; the level is then read with the sleeping GPIO API, either from
 * the IRQ thread (no debounce, or debounce done by the GPIO controller) or
 * from delayed work that every edge re-arms (software debounce, as
 * gpio-keys does). Records are emitted only for real changes of the level:
 * edges closer together than the debounce interval are bounces of one
 * change, and the level read must agree with the changes counted (see
 * ipc_button_settle()). Every record goes to the queue of every open file.
 * A full queue drops its oldest record; the loss is counted per file and
 * flagged on the next record that file reads.
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
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/kfifo.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/poll.h>
#include <linux/property.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
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
/* Edge timestamps kept between the hard IRQ and the IRQ thread. */
#define IPC_BUTTON_MAX_EDGES		16

/* The ABI is fixed-size and identical for 32- and 64-bit userspace. */
static_assert(sizeof(struct ipc_button_event) == 32);
static_assert(IS_ALIGNED(sizeof(struct ipc_button_info), 8));
static_assert(IS_ALIGNED(sizeof(struct ipc_button_queue_config), 8));
/* kfifo sizes are powers of two: the documented lengths must be too. */
static_assert((IPC_BUTTON_QUEUE_DEFAULT & (IPC_BUTTON_QUEUE_DEFAULT - 1)) == 0);
static_assert((IPC_BUTTON_QUEUE_MAX & (IPC_BUTTON_QUEUE_MAX - 1)) == 0);

static dev_t ipc_button_devt;
static DEFINE_IDA(ipc_button_minors);

/**
 * struct ipc_button - one button and its character device
 * @dev: the class device; its release frees this structure, after the
 *	 driver unbound and the last open file was closed
 * @cdev: the character device; pins @dev while a file is open
 * @gpio: the button line, requested as input; valid only while bound
 * @label: the device tree label or the device name, for info and the IRQ
 * @line: offset of the line on its GPIO controller, for info
 * @edge_lock: guards @edges and @edge_ns between the hard-IRQ handler and
 *	       the settling code (hence the irqsave users)
 * @edges: edges (interrupts) since the last settle, saturating
 * @edge_ns: CLOCK_MONOTONIC times of the first IPC_BUTTON_MAX_EDGES of
 *	     them, oldest first
 * @debounce_work: software debounce: every edge re-arms it and it settles
 *		   after @debounce_ms of quiet
 * @debounce_ms: the debounce interval; written under @lock, read
 *		 locklessly by the hard-IRQ handler (a stale value only
 *		 affects the edge being handled)
 * @hw_debounce: the GPIO controller debounces, so no software debounce;
 *		 same locking as @debounce_ms
 * @lock: serialises settling (IRQ thread and debounce work), the event
 *	  counters, @clients and @dead; all its users may sleep
 * @pressed: the last level reported, true when pressed
 * @seqno: seqno of the last record emitted
 * @presses: press records emitted
 * @releases: release records emitted
 * @clients: every open file, a &struct ipc_button_client
 * @dead: the driver unbound; written under @lock and every client's
 *	  wait.lock ordering (see ipc_button_unregister()), read under either
 */
struct ipc_button {
	struct device dev;
	struct cdev cdev;
	struct gpio_desc *gpio;
	char label[IPC_BUTTON_LABEL_SIZE];
	u32 line;

	spinlock_t edge_lock;		/* hard IRQ vs settle, see above */
	unsigned int edges;
	u64 edge_ns[IPC_BUTTON_MAX_EDGES];

	struct delayed_work debounce_work;
	unsigned int debounce_ms;
	bool hw_debounce;

	struct mutex lock;		/* settling, counters, clients */
	bool pressed;
	u32 seqno;
	u64 presses;
	u64 releases;
	struct list_head clients;
	bool dead;
};

/**
 * struct ipc_button_client - one open file of a button
 * @button: the button; the client holds a reference on its @dev
 * @node: entry in the button's @clients, under the button's @lock
 * @wait: readers and pollers sleep here; as in gpiolib-cdev, its lock
 *	  also guards @events, @pending_dropped and @dropped, so the queue
 *	  and its waiters need one lock only
 * @events: records not yet read, oldest first
 * @pending_dropped: records dropped just before the oldest queued one;
 *		     reported (and reset) when that one is read
 * @dropped: records dropped since the file was opened
 * @fasync: SIGIO subscribers (F_SETOWN, O_ASYNC)
 */
struct ipc_button_client {
	struct ipc_button *button;
	struct list_head node;
	wait_queue_head_t wait;
	DECLARE_KFIFO_PTR(events, struct ipc_button_event);
	u32 pending_dropped;
	u64 dropped;
	struct fasync_struct *fasync;
};

static struct ipc_button *ipc_button_from_dev(struct device *dev)
{
	return container_of(dev, struct ipc_button, dev);
}

/* Count @n records lost by @client; its wait.lock is held. */
static void ipc_button_client_drop(struct ipc_button_client *client,
				   unsigned int n)
{
	client->dropped += n;
	client->pending_dropped = min_t(u64, (u64)client->pending_dropped + n,
					U32_MAX);
}

/* Queue @event for every open file; @button->lock is held. */
static void ipc_button_emit(struct ipc_button *button, u64 timestamp_ns,
			    bool pressed)
{
	struct ipc_button_client *client;
	struct ipc_button_event event;

	/* Records reach userspace whole: leave no kernel bytes in padding. */
	memset(&event, 0, sizeof(event));
	event.timestamp_ns = timestamp_ns;
	event.seqno = ++button->seqno;
	event.type = pressed ? IPC_BUTTON_EVENT_PRESS : IPC_BUTTON_EVENT_RELEASE;
	if (pressed)
		button->presses++;
	else
		button->releases++;

	list_for_each_entry(client, &button->clients, node) {
		spin_lock(&client->wait.lock);
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

/* Edges taken from the hard-IRQ half by one settle. */
struct ipc_button_edges {
	unsigned int count;
	u64 ns[IPC_BUTTON_MAX_EDGES];
};

static void ipc_button_take_edges(struct ipc_button *button,
				  struct ipc_button_edges *edges)
{
	unsigned long flags;

	spin_lock_irqsave(&button->edge_lock, flags);
	edges->count = button->edges;
	memcpy(edges->ns, button->edge_ns,
	       min(edges->count, IPC_BUTTON_MAX_EDGES) * sizeof(u64));
	button->edges = 0;
	spin_unlock_irqrestore(&button->edge_lock, flags);
}

/*
 * Put @edges back in front of edges that arrived since they were taken;
 * false if none did. Those newer edges have woken the IRQ thread again
 * (or re-armed the debounce work), whose next settle sees all of them
 * against one level.
 */
static bool ipc_button_return_edges(struct ipc_button *button,
				    const struct ipc_button_edges *edges)
{
	unsigned int newer, ours, moved;
	unsigned long flags;

	spin_lock_irqsave(&button->edge_lock, flags);
	newer = button->edges;
	if (newer) {
		ours = min(edges->count, IPC_BUTTON_MAX_EDGES);
		moved = min(min(newer, IPC_BUTTON_MAX_EDGES),
			    IPC_BUTTON_MAX_EDGES - ours);
		memmove(&button->edge_ns[ours], button->edge_ns,
			moved * sizeof(u64));
		memcpy(button->edge_ns, edges->ns, ours * sizeof(u64));
		button->edges = min_t(u64, (u64)newer + edges->count,
				      UINT_MAX);
	}
	spin_unlock_irqrestore(&button->edge_lock, flags);
	return newer;
}

/*
 * Read the settled level and report what changed. Runs in the IRQ thread
 * or the debounce work, both of which may sleep, as the level of a line on
 * a sleeping controller (I2C expanders, gpio-sim) must be read.
 *
 * The edges' timestamps tell what happened even when this runs late (a
 * busy or emulated CPU): edges closer together than the debounce interval
 * are the bounces of one change, which an odd number of them makes. When
 * those changes agree with the level read, each is reported, timed at
 * its first edge; so a click shorter than the delay of this bottom half,
 * but longer than the debounce interval, is not lost.
 */
static void ipc_button_settle(struct ipc_button *button)
{
	u64 window_ns, change_ns[IPC_BUTTON_MAX_EDGES];
	struct ipc_button_edges edges;
	unsigned int i, first, changes = 0;
	bool changed;
	int value;

	/*
	 * Take the edges before reading the level: an edge that arrives
	 * after this point schedules another settle of its own.
	 */
	ipc_button_take_edges(button, &edges);
	window_ns = READ_ONCE(button->hw_debounce) ? 0 :
		    (u64)READ_ONCE(button->debounce_ms) * NSEC_PER_MSEC;

	value = gpiod_get_value_cansleep(button->gpio);
	if (value < 0) {
		dev_err_ratelimited(button->dev.parent,
				    "cannot read the button line: %d\n", value);
		return;
	}

	mutex_lock(&button->lock);
	if (button->dead)
		goto out_unlock;
	changed = !!value != button->pressed;

	if (edges.count && edges.count <= IPC_BUTTON_MAX_EDGES) {
		/* Split the edges into bursts; an odd burst is a change. */
		for (first = 0, i = 1; i <= edges.count; i++) {
			if (i < edges.count &&
			    edges.ns[i] - edges.ns[i - 1] < window_ns)
				continue;
			if ((i - first) & 1)
				change_ns[changes++] = edges.ns[first];
			first = i;
		}
		if ((changes & 1) == changed) {
			for (i = 0; i < changes; i++) {
				button->pressed = !button->pressed;
				ipc_button_emit(button, change_ns[i],
						button->pressed);
			}
			goto out_unlock;
		}
		/* The level already shows newer edges: settle them together. */
		if (ipc_button_return_edges(button, &edges))
			goto out_unlock;
	}

	/*
	 * Edges the controller merged, or more than we keep: report the
	 * level alone, timed at the first edge.
	 */
	if (changed) {
		button->pressed = value;
		ipc_button_emit(button, edges.count ? edges.ns[0] :
				ktime_get_ns(), value);
	}
out_unlock:
	mutex_unlock(&button->lock);
}

static void ipc_button_debounce_work(struct work_struct *work)
{
	struct ipc_button *button = container_of(to_delayed_work(work),
						 struct ipc_button,
						 debounce_work);

	ipc_button_settle(button);
}

static irqreturn_t ipc_button_irq_thread(int irq, void *data)
{
	ipc_button_settle(data);
	return IRQ_HANDLED;
}

/*
 * Hard-IRQ half: timestamp the edge as close to it as possible, then
 * leave the level to sleeping context.
 */
static irqreturn_t ipc_button_irq(int irq, void *data)
{
	struct ipc_button *button = data;
	u64 now = ktime_get_ns();
	unsigned int debounce_ms;

	spin_lock(&button->edge_lock);
	if (button->edges < IPC_BUTTON_MAX_EDGES)
		button->edge_ns[button->edges] = now;
	if (button->edges != UINT_MAX)
		button->edges++;
	spin_unlock(&button->edge_lock);

	debounce_ms = READ_ONCE(button->debounce_ms);
	if (debounce_ms && !READ_ONCE(button->hw_debounce)) {
		/*
		 * Every edge restarts the quiet period. The work is this
		 * interrupt's bottom half: high priority workers keep busy
		 * tasks from delaying it past the next edge.
		 */
		mod_delayed_work(system_highpri_wq, &button->debounce_work,
				 msecs_to_jiffies(debounce_ms));
		return IRQ_HANDLED;
	}
	return IRQ_WAKE_THREAD;
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

	client = kzalloc(sizeof(*client), GFP_KERNEL);
	if (!client)
		return -ENOMEM;

	ret = kfifo_alloc(&client->events, IPC_BUTTON_QUEUE_DEFAULT,
			  GFP_KERNEL);
	if (ret)
		goto err_free_client;

	init_waitqueue_head(&client->wait);
	client->button = button;
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

		/* As in evdev: records taken for a bad buffer are lost. */
		if (copy_to_user(buf + copied, batch, n * sizeof(batch[0])))
			return -EFAULT;
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

	spin_lock(&client->wait.lock);
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
	ret = kfifo_alloc(&fifo, max(config.length, 2U), GFP_KERNEL);
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

static ssize_t debounce_ms_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct ipc_button *button = ipc_button_from_dev(dev);
	unsigned int debounce_ms;
	int ret;

	ret = kstrtouint(buf, 0, &debounce_ms);
	if (ret)
		return ret;
	if (debounce_ms > IPC_BUTTON_DEBOUNCE_MAX_MS)
		return -EINVAL;

	mutex_lock(&button->lock);
	ipc_button_set_debounce(button, debounce_ms);
	mutex_unlock(&button->lock);

	return count;
}
static DEVICE_ATTR_RW(debounce_ms);

static struct attribute *ipc_button_attrs[] = {
	&dev_attr_press_count.attr,
	&dev_attr_state.attr,
	&dev_attr_debounce_ms.attr,
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

	ida_free(&ipc_button_minors, MINOR(dev->devt));
	mutex_destroy(&button->lock);
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

	cancel_delayed_work_sync(&button->debounce_work);
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
}

/* The controller line offset, the first cell of the button-gpios entry. */
static u32 ipc_button_line_offset(struct device *dev)
{
	struct fwnode_reference_args args;
	u32 line = 0;

	if (fwnode_property_get_reference_args(dev_fwnode(dev), "button-gpios",
					       "#gpio-cells", 0, 0, &args))
		return 0;
	if (args.nargs >= 1)
		line = args.args[0];
	fwnode_handle_put(args.fwnode);
	return line;
}

static int ipc_button_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct ipc_button *button;
	unsigned int debounce_ms = IPC_BUTTON_DEBOUNCE_DEFAULT_MS;
	const char *label = dev_name(dev);
	int minor, irq, value, ret;

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
	spin_lock_init(&button->edge_lock);
	mutex_init(&button->lock);
	INIT_LIST_HEAD(&button->clients);
	INIT_DELAYED_WORK(&button->debounce_work, ipc_button_debounce_work);

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
	button->line = ipc_button_line_offset(dev);

	irq = gpiod_to_irq(button->gpio);
	if (irq < 0)
		return dev_err_probe(dev, irq, "the button line has no IRQ\n");

	ipc_button_set_debounce(button, debounce_ms);

	value = gpiod_get_value_cansleep(button->gpio);
	if (value < 0)
		return dev_err_probe(dev, value, "cannot read the button line\n");
	button->pressed = value;

	/* Registered before the IRQ, so devres runs it after freeing it. */
	ret = devm_add_action_or_reset(dev, ipc_button_quiesce, button);
	if (ret)
		return ret;

	/*
	 * Not IRQF_ONESHOT: the line stays unmasked while the thread runs,
	 * so a controller that does not latch edges while masked (gpio-sim)
	 * loses none; the hard-IRQ half has stored the timestamp already.
	 */
	ret = devm_request_threaded_irq(dev, irq, ipc_button_irq,
					ipc_button_irq_thread,
					IRQF_TRIGGER_RISING |
					IRQF_TRIGGER_FALLING,
					button->label, button);
	if (ret)
		return dev_err_probe(dev, ret, "cannot request IRQ %d\n", irq);

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
	dev_info(dev, "%s: \"%s\" on line %u, debounce %u ms (%s)\n",
		 dev_name(&button->dev), button->label, button->line,
		 debounce_ms, button->hw_debounce ? "hardware" : "software");
	return 0;
}

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
