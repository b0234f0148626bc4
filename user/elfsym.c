// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elfsym.h"

struct elf_file {
	int fd;
	Elf *elf;
};

struct elf_file *elf_file__open(const char *path)
{
	struct elf_file *ef;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOSYS;
		return NULL;
	}
	ef = calloc(1, sizeof(*ef));
	if (!ef)
		return NULL;
	ef->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ef->fd < 0) {
		free(ef);
		return NULL;
	}
	ef->elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF) {
		elf_file__free(ef);
		errno = ENOEXEC;
		return NULL;
	}
	return ef;
}

void elf_file__free(struct elf_file *ef)
{
	if (!ef)
		return;
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	free(ef);
}

static int search_table(struct elf_file *ef, Elf64_Word table_type,
			const char *name, bool exported_only, uint64_t *vaddr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(ef->elf, scn))) {
		Elf_Data *data;
		size_t i, count;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != table_type ||
		    !shdr.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		count = shdr.sh_size / shdr.sh_entsize;
		for (i = 0; i < count; i++) {
			GElf_Sym sym;
			const char *sym_name;
			int type, bind;

			if (!gelf_getsym(data, (int)i, &sym))
				continue;
			type = GELF_ST_TYPE(sym.st_info);
			bind = GELF_ST_BIND(sym.st_info);
			if (sym.st_shndx == SHN_UNDEF ||
			    (type != STT_FUNC && type != STT_GNU_IFUNC))
				continue;
			if (exported_only && bind != STB_GLOBAL &&
			    bind != STB_WEAK)
				continue;
			sym_name =
				elf_strptr(ef->elf, shdr.sh_link, sym.st_name);
			if (sym_name && !strcmp(sym_name, name)) {
				*vaddr = sym.st_value;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int elf_file__function(struct elf_file *ef, const char *name,
		       bool exported_only, uint64_t *vaddr)
{
	if (!search_table(ef, SHT_DYNSYM, name, exported_only, vaddr))
		return 0;
	if (exported_only)
		return -ENOENT;
	return search_table(ef, SHT_SYMTAB, name, false, vaddr);
}

int elf_file__offset(struct elf_file *ef, uint64_t vaddr, uint64_t *offset)
{
	size_t i, count;
	GElf_Phdr phdr;

	if (elf_getphdrnum(ef->elf, &count))
		return -ENOEXEC;
	for (i = 0; i < count; i++) {
		if (!gelf_getphdr(ef->elf, (int)i, &phdr) ||
		    phdr.p_type != PT_LOAD)
			continue;
		if (vaddr >= phdr.p_vaddr &&
		    vaddr < phdr.p_vaddr + phdr.p_filesz) {
			*offset = vaddr - phdr.p_vaddr + phdr.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

bool elf_file__is_dynamic(struct elf_file *ef)
{
	size_t i, count;
	GElf_Phdr phdr;

	if (elf_getphdrnum(ef->elf, &count))
		return false;
	for (i = 0; i < count; i++)
		if (gelf_getphdr(ef->elf, (int)i, &phdr) &&
		    phdr.p_type == PT_INTERP)
			return true;
	return false;
}

bool elf_file__needs(struct elf_file *ef, const char *prefix)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(ef->elf, scn))) {
		Elf_Data *data;
		size_t i;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNAMIC ||
		    !shdr.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (i = 0; data && i < shdr.sh_size / shdr.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *name;

			if (!gelf_getdyn(data, (int)i, &dyn) ||
			    dyn.d_tag != DT_NEEDED)
				continue;
			name = elf_strptr(ef->elf, shdr.sh_link,
					  dyn.d_un.d_val);
			if (name && !strncmp(name, prefix, strlen(prefix)))
				return true;
		}
	}
	return false;
}

int elf_file__read(struct elf_file *ef, uint64_t offset, void *buf, size_t len)
{
	ssize_t got = pread(ef->fd, buf, len, (off_t)offset);

	if (got < 0)
		return -errno;
	return (size_t)got == len ? 0 : -EIO;
}
