/*
 * pagetrim.c - MADV_DONTNEED over the non-writable segments of every loaded
 * object, found with dl_iterate_phdr (no /proc: it works inside each role's
 * sandbox; madvise is in every seccomp filter).
 *
 * Why: a process's start-up runs code and reads tables it never needs again
 * (relocation and symbol lookup read every library's symbol tables), and
 * the kernel maps up to 16 neighbouring page-cache pages with each file page
 * fault (fault-around). An idle tree kept all of it mapped: the supervisor
 * its NSS module and YAML parser, the exporter a third of libcrypto.
 *
 * Why it is safe: a non-writable PT_LOAD segment of a private file mapping
 * holds only page-cache pages as long as nothing wrote to it, and then
 * MADV_DONTNEED only removes our page-table entries: the next touch maps
 * the same file page again. Something could have written to one only by
 * text relocations (DT_TEXTREL: such objects are skipped) or a debugger's
 * breakpoint (lost, not crashed). Writable segments, which hold RELRO (the
 * loader's relocated, then read-only, copies), are never advised.
 * MADV_PAGEOUT would free the pages too, but the kernel refuses it for file
 * pages of files the process could not write (every library, for a role
 * user), so it would only work for root.
 */
#include "common/pagetrim.h"

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct trim {
	uintptr_t page;
	size_t advised;
};

/* textrel - whether the object's dynamic section asks for text relocations */
static int
textrel(const struct dl_phdr_info *info)
{
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_DYNAMIC)
			continue;
		for (const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
		    d->d_tag != DT_NULL; d++)
			if (d->d_tag == DT_TEXTREL ||
			    (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL) != 0))
				return 1;
	}
	return 0;
}

/* the most PT_LOAD segments an object has (ld makes four; more are left mapped) */
#define TRIM_MAX_SEGS 16

/* writable_page - whether the page at page (an address) holds part of a
 * writable segment of the object: its data, RELRO or bss */
static int
writable_page(const struct dl_phdr_info *info, uintptr_t page, uintptr_t pg)
{
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(pg - 1);
		uintptr_t hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) != 0 && page >= lo && page < hi)
			return 1;
	}
	return 0;
}

static int
trim_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct trim *t = arg;
	uintptr_t lo[TRIM_MAX_SEGS], hi[TRIM_MAX_SEGS];
	size_t n = 0;

	(void)size;
	/* the vDSO is the kernel's own pages, not a file */
	if (info->dlpi_name != NULL && strncmp(info->dlpi_name, "linux-vdso", 10) == 0)
		return 0;
	if (textrel(info))
		return 0;
	/*
	 * Every range first, then the advice: the program headers are read
	 * from the object's first page, and reading one after that page was
	 * advised away maps it again, with the 15 neighbours fault-around
	 * brings (64 KiB of every library's symbol tables, left mapped for good).
	 */
	for (ElfW(Half) i = 0; i < info->dlpi_phnum && n < TRIM_MAX_SEGS; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) != 0 || ph->p_memsz == 0)
			continue;
		/* whole pages, the partial ones at either end too (the end of
		 * each segment's last page is file bytes nothing writes), except
		 * a page shared with a writable neighbour, which is left mapped */
		lo[n] = (info->dlpi_addr + ph->p_vaddr) & ~(t->page - 1);
		hi[n] = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + t->page - 1) & ~(t->page - 1);
		if (writable_page(info, lo[n], t->page))
			lo[n] += t->page;
		if (hi[n] > lo[n] && writable_page(info, hi[n] - t->page, t->page))
			hi[n] -= t->page;
		if (hi[n] > lo[n])
			n++;
	}
	for (size_t i = 0; i < n; i++)
		if (madvise((void *)lo[i], hi[i] - lo[i], MADV_DONTNEED) == 0)
			t->advised++;
	return 0;
}

size_t
tfo_pagetrim(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct trim t = { .page = ps > 0 ? (uintptr_t)ps : 4096, .advised = 0 };

	(void)dl_iterate_phdr(trim_object, &t);
	return t.advised;
}

void
tfo_pagetrim_arm(struct tfo_pagetrim_sched *s, int64_t now_ms)
{
	s->due_ms[0] = now_ms > 0 ? now_ms : 1;
	s->due_ms[1] = s->due_ms[0] + TFO_PAGETRIM_LATER_MS;
}

int
tfo_pagetrim_tick(struct tfo_pagetrim_sched *s, int64_t now_ms)
{
	int due = 0;

	for (int i = 0; i < 2; i++) {
		if (s->due_ms[i] != 0 && now_ms >= s->due_ms[i]) {
			s->due_ms[i] = 0;
			due = 1;
		}
	}
	if (due)
		(void)tfo_pagetrim();
	return due;
}
