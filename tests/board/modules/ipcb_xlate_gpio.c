// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipcb_xlate_gpio: a GPIO controller with its own of_xlate, for the
 * ipc_button board tests only; never load it anywhere but the emulated
 * board. It binds to the device tree node "ipcb,test-xlate-gpio" of
 * tests/board/overlays/xlate-button.dts, whose cells are <bank pin flags>
 * with 8 lines per bank, as some pin controllers number them: the cell
 * <1 2 0> is line 10. The first cell of a consumer's phandle is therefore
 * not the line's offset.
 *
 * Every line reads 0 except line XLATE_HIGH_LINE (10), which reads 1, so a
 * consumer that read another line would see another level. Interrupts
 * can be requested on every line (a button needs one) and never fire.
 */
#include <linux/gpio/driver.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>

#define XLATE_LINES_PER_BANK	8
#define XLATE_BANKS		2
#define XLATE_HIGH_LINE		10

/**
 * struct xlate_gpio - the controller
 * @gc: the chip, XLATE_BANKS banks of XLATE_LINES_PER_BANK lines
 * @domain: the lines' interrupts, which never fire
 */
struct xlate_gpio {
	struct gpio_chip gc;
	struct irq_domain *domain;
};

static int xlate_get(struct gpio_chip *gc, unsigned int offset)
{
	return offset == XLATE_HIGH_LINE;
}

static int xlate_get_direction(struct gpio_chip *gc, unsigned int offset)
{
	return GPIO_LINE_DIRECTION_IN;
}

static int xlate_direction_input(struct gpio_chip *gc, unsigned int offset)
{
	return 0;
}

/* <bank pin flags> to the line's offset; the flags go to gpiolib. */
static int xlate_of_xlate(struct gpio_chip *gc,
			  const struct of_phandle_args *spec, u32 *flags)
{
	u32 bank = spec->args[0], pin = spec->args[1];

	if (spec->args_count != 3 || bank >= XLATE_BANKS ||
	    pin >= XLATE_LINES_PER_BANK)
		return -EINVAL;
	if (flags)
		*flags = spec->args[2];
	return bank * XLATE_LINES_PER_BANK + pin;
}

static void xlate_irq_noop(struct irq_data *d)
{
}

static int xlate_irq_set_type(struct irq_data *d, unsigned int type)
{
	return type & ~IRQ_TYPE_EDGE_BOTH ? -EINVAL : 0;
}

static const struct irq_chip xlate_irq_chip = {
	.name = "ipcb-xlate",
	.irq_mask = xlate_irq_noop,
	.irq_unmask = xlate_irq_noop,
	.irq_set_type = xlate_irq_set_type,
	.flags = IRQCHIP_IMMUTABLE,
};

static int xlate_irq_map(struct irq_domain *d, unsigned int virq,
			 irq_hw_number_t hw)
{
	irq_set_chip_and_handler(virq, &xlate_irq_chip, handle_simple_irq);
	irq_set_noprobe(virq);
	return 0;
}

static const struct irq_domain_ops xlate_domain_ops = {
	.map = xlate_irq_map,
};

static int xlate_to_irq(struct gpio_chip *gc, unsigned int offset)
{
	struct xlate_gpio *xg = gpiochip_get_data(gc);

	return irq_create_mapping(xg->domain, offset) ?: -ENXIO;
}

static void xlate_remove_domain(void *data)
{
	struct irq_domain *domain = data;
	unsigned int hw, irq;

	for (hw = 0; hw < XLATE_BANKS * XLATE_LINES_PER_BANK; hw++) {
		irq = irq_find_mapping(domain, hw);
		if (irq)
			irq_dispose_mapping(irq);
	}
	irq_domain_remove(domain);
}

static int xlate_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct xlate_gpio *xg;
	int ret;

	xg = devm_kzalloc(dev, sizeof(*xg), GFP_KERNEL);
	if (!xg)
		return -ENOMEM;

	xg->domain = irq_domain_create_linear(NULL,
					      XLATE_BANKS * XLATE_LINES_PER_BANK,
					      &xlate_domain_ops, xg);
	if (!xg->domain)
		return -ENOMEM;
	/* Registered first, so it runs after the chip is removed. */
	ret = devm_add_action_or_reset(dev, xlate_remove_domain, xg->domain);
	if (ret)
		return ret;

	xg->gc.label = "ipcb-xlate";
	xg->gc.parent = dev;
	xg->gc.owner = THIS_MODULE;
	xg->gc.base = -1;
	xg->gc.ngpio = XLATE_BANKS * XLATE_LINES_PER_BANK;
	xg->gc.get = xlate_get;
	xg->gc.get_direction = xlate_get_direction;
	xg->gc.direction_input = xlate_direction_input;
	xg->gc.to_irq = xlate_to_irq;
	xg->gc.of_gpio_n_cells = 3;
	xg->gc.of_xlate = xlate_of_xlate;

	return devm_gpiochip_add_data(dev, &xg->gc, xg);
}

static const struct of_device_id xlate_of_match[] = {
	{ .compatible = "ipcb,test-xlate-gpio" },
	{ }
};

static struct platform_driver xlate_driver = {
	.probe = xlate_probe,
	.driver = {
		.name = "ipcb-xlate-gpio",
		.of_match_table = xlate_of_match,
	},
};
module_platform_driver(xlate_driver);

MODULE_DESCRIPTION("A GPIO controller with its own of_xlate, for ipc_button board tests");
MODULE_LICENSE("GPL");
