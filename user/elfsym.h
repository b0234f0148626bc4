/* SPDX-License-Identifier: GPL-2.0 */
/* Function symbols of an ELF file and where they sit in the file (libelf). */
#ifndef PAGETRACE_ELFSYM_H
#define PAGETRACE_ELFSYM_H

#include <stdbool.h>
#include <stdint.h>

struct elf_file;

/* NULL with errno set if the file cannot be opened or is not ELF. */
struct elf_file *elf_file__open(const char *path);
void elf_file__free(struct elf_file *ef);

/* A defined function (or ifunc) named name, from .dynsym, else .symtab.
 * exported_only: only global or weak symbols of .dynsym. 0 or -ENOENT. */
int elf_file__function(struct elf_file *ef, const char *name,
		       bool exported_only, uint64_t *vaddr);
/* Translate a virtual address into a file offset through PT_LOAD. */
int elf_file__offset(struct elf_file *ef, uint64_t vaddr, uint64_t *offset);
/* Read len bytes at file offset; 0 or -errno. */
int elf_file__read(struct elf_file *ef, uint64_t offset, void *buf, size_t len);
/* ET_EXEC or ET_DYN with a PT_INTERP: does it need the dynamic loader? */
bool elf_file__is_dynamic(struct elf_file *ef);
/* Does it name a library starting with prefix among its DT_NEEDED? */
bool elf_file__needs(struct elf_file *ef, const char *prefix);

#endif
