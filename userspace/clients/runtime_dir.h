/* SPDX-License-Identifier: MIT */
/*
 * The per-user runtime directory that holds every named IPC object (FIFOs,
 * socket files, shared files), and whose inode keys the System V objects.
 */
#ifndef IPC_RUNTIME_DIR_H
#define IPC_RUNTIME_DIR_H

#include <stddef.h>

/*
 * Choose the directory: @explicit_dir (--runtime-dir) if not NULL, else
 * $IPC_BUTTON_RUNTIME_DIR, else $XDG_RUNTIME_DIR/ipc-button, else
 * /run/ipc-button for root. Create it 0700 when missing (its parent must
 * exist); refuse a symlink, a non-directory, one owned by another user or
 * one that others may enter. The chosen path goes to @buf. Returns 0, or a
 * negative errno after printing why.
 */
int runtime_dir_prepare(const char *explicit_dir, char *buf, size_t size);

#endif /* IPC_RUNTIME_DIR_H */
