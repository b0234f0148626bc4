/* SPDX-License-Identifier: GPL-2.0 */
/* Human-readable numbers for the text outputs. */
#ifndef PAGETRACE_FORMAT_H
#define PAGETRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "512 B", "4.0 KiB", "64.0 MiB"; returns buf */
const char *format__bytes(char *buf, size_t size, uint64_t bytes);
/* "850 ns", "12.3 us", "4.56 ms", "1.234 s"; returns buf */
const char *format__duration(char *buf, size_t size, uint64_t ns);

#endif
