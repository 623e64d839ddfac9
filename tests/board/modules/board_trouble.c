// SPDX-License-Identifier: GPL-2.0-only
/*
 * board_trouble: makes the kernel report trouble on purpose, so the test of
 * board/run can prove that the runner fails a run on each kind of report.
 * Never load it anywhere but the emulated board.
 *
 *   insmod board_trouble.ko trouble=warn     a WARN() splat
 *   insmod board_trouble.ko trouble=lockdep  an AB-BA lock order (lockdep)
 *   insmod board_trouble.ko trouble=leak     an allocation nobody frees
 *                                            (kmemleak, with --kmemleak)
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *trouble = "warn";
module_param(trouble, charp, 0444);
MODULE_PARM_DESC(trouble, "warn, lockdep or leak");

static DEFINE_MUTEX(board_trouble_a);
static DEFINE_MUTEX(board_trouble_b);
static void *board_trouble_lost;

static void board_trouble_lock_order(void)
{
	/* A then B, later B then A: no deadlock now, but lockdep sees it. */
	mutex_lock(&board_trouble_a);
	mutex_lock(&board_trouble_b);
	mutex_unlock(&board_trouble_b);
	mutex_unlock(&board_trouble_a);

	mutex_lock(&board_trouble_b);
	mutex_lock(&board_trouble_a);
	mutex_unlock(&board_trouble_a);
	mutex_unlock(&board_trouble_b);
}

static int __init board_trouble_init(void)
{
	if (!strcmp(trouble, "warn")) {
		WARN(1, "board_trouble: a warning on purpose\n");
	} else if (!strcmp(trouble, "lockdep")) {
		board_trouble_lock_order();
	} else if (!strcmp(trouble, "leak")) {
		/* Keep no reference: kmemleak must report it. */
		board_trouble_lost = kmalloc(128, GFP_KERNEL);
		board_trouble_lost = NULL;
	} else {
		pr_err("board_trouble: unknown trouble '%s'\n", trouble);
		return -EINVAL;
	}
	return 0;
}

static void __exit board_trouble_exit(void)
{
}

module_init(board_trouble_init);
module_exit(board_trouble_exit);
MODULE_DESCRIPTION("Kernel trouble on purpose, for testing the board runner");
MODULE_LICENSE("GPL");
