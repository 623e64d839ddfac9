// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipcb_nested_gpio: a one-line GPIO controller whose interrupts are nested
 * in a thread, as those of I2C and SPI expanders (pca953x) are, plus an
 * ipc_button on that line; for the driver's board tests only. Never load
 * it anywhere but the emulated board.
 *
 * The controller sleeps (can_sleep) and raises its interrupt with
 * handle_nested_irq() from a work item, so the IRQ core never runs a
 * consumer's hard-IRQ handler. The button is an "ipc_button" platform
 * device labelled "nested", active high (level 1 is pressed), with the
 * debounce interval of the `debounce` parameter.
 *
 * The line is driven through /sys/module/ipcb_nested_gpio/parameters/:
 *   level=0|1          set the level; a change raises the interrupt, at
 *                      once in the writer's context (one write, one IRQ)
 *   silent=0|1         set the level without an interrupt (a lost edge)
 *   merge=N            toggle the level N times, then raise one interrupt
 *                      (edges a controller merged)
 *   fail_reads=N       the next N reads of the line fail with EIO
 *   edge_after_read=1  right after the next read, toggle the level and
 *                      raise the interrupt at once, from inside the read
 *                      (a change just after a probe read the line; needs
 *                      a debounce, or the consumer's settle would nest)
 *   lag_ms=N           deliver interrupts N ms after the change (an
 *                      interrupt still on its way when the level is read)
 *   hold_read=1        the next read of the line samples the level, then
 *                      waits (up to 10 s) for a later write of `level` (or
 *                      `merge`) and returns the level sampled: a slow read
 *                      (I2C) with a change crossing it, in a fixed order;
 *                      with lag_ms=0 that write delivers its interrupt
 *                      before it releases the read
 *   held               reading it waits (up to 10 s) for a held read to
 *                      start, then gives 1 (0 if none started)
 *
 * /dev/ipcb-fault-page: mmap() it (MAP_PRIVATE) and the first touch of
 * each page makes `fault_toggles` changes of the line, each with its
 * interrupt, before the page (zeroes) is mapped: records that arrive while
 * a consumer's copy to that page is under way, at a known point.
 */
#include <linux/gpio/driver.h>
#include <linux/gpio/machine.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#define NESTED_CHIP_LABEL	"ipcb-nested"
#define NESTED_BUTTON_ID	90

static unsigned int lag_ms;
module_param(lag_ms, uint, 0644);
MODULE_PARM_DESC(lag_ms, "delay of every interrupt, ms");

static unsigned int fault_toggles;
module_param(fault_toggles, uint, 0644);
MODULE_PARM_DESC(fault_toggles, "line changes made by a fault on /dev/ipcb-fault-page");

/* How long a held read or a wait for one lasts at most. */
#define NESTED_HOLD_TIMEOUT	(10 * HZ)

static unsigned int debounce = 5;
module_param(debounce, uint, 0444);
MODULE_PARM_DESC(debounce, "debounce-interval of the button, ms");

/**
 * struct nested_gpio - the controller
 * @gc: the chip, one line
 * @lock: guards the fields below; the work, the parameters and the
 *	  chip callbacks may all sleep
 * @level: the line's level
 * @raised: level changes not yet signalled (the work signals them)
 * @irq_type: the trigger the consumer asked for
 * @fail_reads: reads still to fail
 * @edge_after_read: toggle and raise after the next read
 * @hold_read: hold the next read until a level write
 * @held: a read is held now
 * @hold_wait: a held read and the waiters for one sleep here
 * @raise_work: calls handle_nested_irq(), in process context
 * @domain: the line's interrupt (its own domain: the board's kernel has
 *	    no GPIOLIB_IRQCHIP, as gpio-sim needs none)
 */
struct nested_gpio {
	struct gpio_chip gc;
	struct mutex lock;	/* see above */
	int level;
	unsigned int raised;
	unsigned int irq_type;
	unsigned int fail_reads;
	bool edge_after_read;
	bool hold_read;
	bool held;
	wait_queue_head_t hold_wait;
	struct delayed_work raise_work;
	struct irq_domain *domain;
};

static struct nested_gpio *nested;
static struct platform_device *nested_pdev;
static struct platform_device *button_pdev;

static struct gpiod_lookup_table nested_lookup = {
	.dev_id = "ipc_button." __stringify(NESTED_BUTTON_ID),
	.table = {
		GPIO_LOOKUP_IDX(NESTED_CHIP_LABEL, 0, "button", 0,
				GPIO_ACTIVE_HIGH),
		{ }
	},
};

/*
 * Deliver the interrupts raised so far, one by one, as an expander's IRQ
 * thread does. The button asks for both edges, so every one is wanted.
 */
static void nested_raise_now(struct nested_gpio *ng)
{
	unsigned int irq, fire;

	mutex_lock(&ng->lock);
	fire = ng->raised;
	ng->raised = 0;
	mutex_unlock(&ng->lock);

	irq = irq_find_mapping(ng->domain, 0);
	if (!irq || !(READ_ONCE(ng->irq_type) & IRQ_TYPE_EDGE_BOTH))
		return;
	while (fire--)
		handle_nested_irq(irq);
}

static void nested_raise_work(struct work_struct *work)
{
	nested_raise_now(container_of(to_delayed_work(work),
				      struct nested_gpio, raise_work));
}

/* Set the level; raise the interrupt after @toggles changes if @raise. */
static void nested_change(int level, unsigned int toggles, bool raise)
{
	mutex_lock(&nested->lock);
	if (toggles) {
		if (toggles & 1)
			nested->level = !nested->level;
	} else if (level != nested->level) {
		nested->level = level;
		toggles = 1;
	}
	if (raise && toggles)
		nested->raised++;
	mutex_unlock(&nested->lock);
	if (raise && toggles) {
		/* Without a lag, in the writer's context: one write, one IRQ. */
		if (READ_ONCE(lag_ms))
			queue_delayed_work(system_highpri_wq, &nested->raise_work,
					   msecs_to_jiffies(READ_ONCE(lag_ms)));
		else
			nested_raise_now(nested);
	}
	/* After the interrupt (unless lagged): a held read resumes last. */
	if (raise) {
		mutex_lock(&nested->lock);
		WRITE_ONCE(nested->held, false);
		mutex_unlock(&nested->lock);
		wake_up_all(&nested->hold_wait);
	}
}

/* Wait conditions: no sleeping lock there; @held is set under @lock. */
static bool nested_released(struct nested_gpio *ng)
{
	return !READ_ONCE(ng->held);
}

static int nested_get(struct gpio_chip *gc, unsigned int offset)
{
	struct nested_gpio *ng = gpiochip_get_data(gc);
	bool toggle = false;
	int value;

	mutex_lock(&ng->lock);
	if (ng->fail_reads) {
		ng->fail_reads--;
		mutex_unlock(&ng->lock);
		return -EIO;
	}
	value = ng->level;
	if (ng->edge_after_read) {
		ng->edge_after_read = false;
		toggle = true;
	}
	if (ng->hold_read) {
		ng->hold_read = false;
		WRITE_ONCE(ng->held, true);
		mutex_unlock(&ng->lock);
		wake_up_all(&ng->hold_wait);
		/* A slow bus: the level was sampled, the answer comes later. */
		wait_event_timeout(ng->hold_wait, nested_released(ng),
				   NESTED_HOLD_TIMEOUT);
		mutex_lock(&ng->lock);
		WRITE_ONCE(ng->held, false);
	}
	mutex_unlock(&ng->lock);

	if (toggle) {
		mutex_lock(&ng->lock);
		ng->level = !ng->level;
		ng->raised++;
		mutex_unlock(&ng->lock);
		nested_raise_now(ng);
	}
	return value;
}

static int nested_get_direction(struct gpio_chip *gc, unsigned int offset)
{
	return GPIO_LINE_DIRECTION_IN;
}

static int nested_direction_input(struct gpio_chip *gc, unsigned int offset)
{
	return 0;
}

/* Delivery checks the trigger only: masking is the IRQ core's business. */
static void nested_irq_mask(struct irq_data *d)
{
}

static void nested_irq_unmask(struct irq_data *d)
{
}

static int nested_irq_set_type(struct irq_data *d, unsigned int type)
{
	struct nested_gpio *ng = irq_data_get_irq_chip_data(d);

	if (type & ~IRQ_TYPE_EDGE_BOTH)
		return -EINVAL;
	/* Called under the descriptor's raw lock: no mutex here. */
	WRITE_ONCE(ng->irq_type, type);
	return 0;
}

static const struct irq_chip nested_irq_chip = {
	.name = "ipcb-nested",
	.irq_mask = nested_irq_mask,
	.irq_unmask = nested_irq_unmask,
	.irq_set_type = nested_irq_set_type,
	.flags = IRQCHIP_IMMUTABLE,
};

static int nested_irq_map(struct irq_domain *d, unsigned int virq,
			  irq_hw_number_t hw)
{
	irq_set_chip_data(virq, d->host_data);
	irq_set_chip_and_handler(virq, &nested_irq_chip, handle_simple_irq);
	/* What makes it an expander's interrupt: handled in a thread. */
	irq_set_nested_thread(virq, true);
	irq_set_noprobe(virq);
	return 0;
}

static const struct irq_domain_ops nested_domain_ops = {
	.map = nested_irq_map,
	.xlate = irq_domain_xlate_twocell,
};

static int nested_to_irq(struct gpio_chip *gc, unsigned int offset)
{
	struct nested_gpio *ng = gpiochip_get_data(gc);

	return irq_create_mapping(ng->domain, offset) ?: -ENXIO;
}

static int nested_param_set(const char *val, const struct kernel_param *kp)
{
	const char *name = kp->name;
	unsigned int n;
	int ret;

	if (!nested)
		return -ENODEV;
	ret = kstrtouint(val, 10, &n);
	if (ret)
		return ret;

	if (!strcmp(name, "level") || !strcmp(name, "silent")) {
		if (n > 1)
			return -EINVAL;
		nested_change(n, 0, !strcmp(name, "level"));
	} else if (!strcmp(name, "merge")) {
		if (!n)
			return -EINVAL;
		nested_change(0, n, true);
	} else if (!strcmp(name, "fail_reads")) {
		mutex_lock(&nested->lock);
		nested->fail_reads = n;
		mutex_unlock(&nested->lock);
	} else if (!strcmp(name, "hold_read")) {
		mutex_lock(&nested->lock);
		nested->hold_read = n;
		mutex_unlock(&nested->lock);
	} else {
		mutex_lock(&nested->lock);
		nested->edge_after_read = n;
		mutex_unlock(&nested->lock);
	}
	return 0;
}

static bool nested_holding(struct nested_gpio *ng)
{
	return READ_ONCE(ng->held);
}

static int nested_param_get(char *buf, const struct kernel_param *kp)
{
	int level;

	if (!nested)
		return -ENODEV;
	if (!strcmp(kp->name, "held"))
		return sysfs_emit(buf, "%d\n",
				  wait_event_timeout(nested->hold_wait,
						     nested_holding(nested),
						     NESTED_HOLD_TIMEOUT) ? 1 : 0);
	mutex_lock(&nested->lock);
	level = nested->level;
	mutex_unlock(&nested->lock);
	return sysfs_emit(buf, "%d\n", level);
}

static const struct kernel_param_ops nested_param_ops = {
	.set = nested_param_set,
	.get = nested_param_get,
};

module_param_cb(level, &nested_param_ops, NULL, 0644);
MODULE_PARM_DESC(level, "line level; a change raises the interrupt");
module_param_cb(silent, &nested_param_ops, NULL, 0644);
MODULE_PARM_DESC(silent, "line level, changed without an interrupt");
module_param_cb(merge, &nested_param_ops, NULL, 0644);
MODULE_PARM_DESC(merge, "toggle N times, raise one interrupt");
module_param_cb(fail_reads, &nested_param_ops, NULL, 0644);
MODULE_PARM_DESC(fail_reads, "the next N reads fail");
module_param_cb(edge_after_read, &nested_param_ops, NULL, 0644);
MODULE_PARM_DESC(edge_after_read, "toggle and raise right after a read");
module_param_cb(hold_read, &nested_param_ops, NULL, 0644);
MODULE_PARM_DESC(hold_read, "hold the next read until a level write");
module_param_cb(held, &nested_param_ops, NULL, 0444);
MODULE_PARM_DESC(held, "wait for a held read; 1 if one is held");

/*
 * A page that changes the line when first touched. The toggles run in
 * the faulting task, with no lock of the consumer's held: a consumer's
 * copy to user memory is done outside its locks.
 */
static vm_fault_t nested_fault(struct vm_fault *vmf)
{
	unsigned int i, n = READ_ONCE(fault_toggles);
	struct page *page;

	for (i = 0; i < n; i++)
		nested_change(0, 1, true);
	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!page)
		return VM_FAULT_OOM;
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct nested_vm_ops = {
	.fault = nested_fault,
};

static int nested_fault_mmap(struct file *file, struct vm_area_struct *vma)
{
	/* Private only: a write copies the page, so ours is freed. */
	if (vma->vm_flags & VM_SHARED)
		return -EINVAL;
	vma->vm_ops = &nested_vm_ops;
	return 0;
}

static const struct file_operations nested_fault_fops = {
	.owner = THIS_MODULE,
	.mmap = nested_fault_mmap,
};

static struct miscdevice nested_fault_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ipcb-fault-page",
	.fops = &nested_fault_fops,
};

static void nested_remove_domain(struct nested_gpio *ng)
{
	unsigned int irq = irq_find_mapping(ng->domain, 0);

	if (irq)
		irq_dispose_mapping(irq);
	irq_domain_remove(ng->domain);
}

static int __init nested_init(void)
{
	const struct property_entry props[] = {
		PROPERTY_ENTRY_STRING("label", "nested"),
		PROPERTY_ENTRY_U32("debounce-interval", debounce),
		{ }
	};
	struct platform_device_info button_info = {
		.name = "ipc_button",
		.id = NESTED_BUTTON_ID,
		.properties = props,
	};
	int ret;

	nested_pdev = platform_device_register_simple("ipcb-nested-gpio",
						      PLATFORM_DEVID_NONE,
						      NULL, 0);
	if (IS_ERR(nested_pdev))
		return PTR_ERR(nested_pdev);

	nested = kzalloc(sizeof(*nested), GFP_KERNEL);
	if (!nested) {
		ret = -ENOMEM;
		goto err_unregister_pdev;
	}
	mutex_init(&nested->lock);
	init_waitqueue_head(&nested->hold_wait);
	INIT_DELAYED_WORK(&nested->raise_work, nested_raise_work);

	nested->gc.label = NESTED_CHIP_LABEL;
	nested->gc.parent = &nested_pdev->dev;
	nested->gc.owner = THIS_MODULE;
	nested->gc.base = -1;
	nested->gc.ngpio = 1;
	nested->gc.can_sleep = true;
	nested->gc.get = nested_get;
	nested->gc.get_direction = nested_get_direction;
	nested->gc.direction_input = nested_direction_input;

	nested->gc.to_irq = nested_to_irq;

	nested->domain = irq_domain_create_linear(NULL, 1, &nested_domain_ops,
						  nested);
	if (!nested->domain) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = gpiochip_add_data(&nested->gc, nested);
	if (ret)
		goto err_remove_domain;

	gpiod_add_lookup_table(&nested_lookup);
	button_pdev = platform_device_register_full(&button_info);
	if (IS_ERR(button_pdev)) {
		ret = PTR_ERR(button_pdev);
		goto err_remove_lookup;
	}
	ret = misc_register(&nested_fault_dev);
	if (ret)
		goto err_unregister_button;
	return 0;

err_unregister_button:
	platform_device_unregister(button_pdev);
err_remove_lookup:
	gpiod_remove_lookup_table(&nested_lookup);
	gpiochip_remove(&nested->gc);
err_remove_domain:
	nested_remove_domain(nested);
err_free:
	kfree(nested);
	nested = NULL;
err_unregister_pdev:
	platform_device_unregister(nested_pdev);
	return ret;
}

static void __exit nested_exit(void)
{
	misc_deregister(&nested_fault_dev);
	/* The consumer first, while the line and its IRQ still exist. */
	platform_device_unregister(button_pdev);
	gpiod_remove_lookup_table(&nested_lookup);
	cancel_delayed_work_sync(&nested->raise_work);
	gpiochip_remove(&nested->gc);
	nested_remove_domain(nested);
	mutex_destroy(&nested->lock);
	kfree(nested);
	nested = NULL;
	platform_device_unregister(nested_pdev);
}

module_init(nested_init);
module_exit(nested_exit);
MODULE_DESCRIPTION("A GPIO controller with nested interrupts, for ipc_button board tests");
MODULE_LICENSE("GPL");
