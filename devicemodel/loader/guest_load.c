/*
 * guest_load(): reads the -E image, decides how it starts (Multiboot or a plain ELF64), puts it in
 * guest RAM and fills the boot vCPU's state. See guest_load.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_load.h"
#include "loader_priv.h"
#include "log.h"
#include "mem_layout.h"
#include "vm_state.h"

/* Guest images are small; this only keeps a wrong -E (a disk image) from eating host memory. */
#define LOAD_MAX_FILE	(1 * GiB)

int load_error(struct loader_ctx *c, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: %s", c->path, reason);
	return -1;
}

/* Reads the whole file into a fresh buffer; *buf is NULL on failure. */
static int read_file(struct loader_ctx *c, uint8_t **buf)
{
	struct stat st;
	uint8_t *data = NULL;
	int fd, ret = -1;

	*buf = NULL;
	fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return load_error(c, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		load_error(c, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		load_error(c, "is a directory, not a guest image");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		load_error(c, "not a regular file");
		goto out;
	}
	if (st.st_size == 0) {
		load_error(c, "empty file");
		goto out;
	}
	if ((uint64_t)st.st_size > LOAD_MAX_FILE) {
		load_error(c, "file too large (%lld bytes)", (long long)st.st_size);
		goto out;
	}
	c->size = (uint64_t)st.st_size;
	data = malloc(c->size);
	if (!data) {
		load_error(c, "out of memory reading %llu bytes", (unsigned long long)c->size);
		goto out;
	}
	for (uint64_t done = 0; done < c->size;) {
		ssize_t n = read(fd, data + done, c->size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			load_error(c, "read error: %s", strerror(errno));
			goto out;
		}
		if (n == 0) {
			load_error(c, "file shrank while being read");
			goto out;
		}
		done += (uint64_t)n;
	}
	*buf = data;
	data = NULL;
	ret = 0;
out:
	free(data);
	close(fd);
	return ret;
}

/* Finds the segments and the entry point; returns 1 for a Multiboot start, 0 for long mode. */
static int parse_image(struct loader_ctx *c)
{
	struct mb_header mb;
	int found = mb_find_header(c, &mb);

	if (found < 0)
		return -1;
	if (found) {
		if (mb_check_flags(c, &mb) < 0)
			return -1;
		if (mb.flags & (1U << 16))
			return mb_aout_segments(c, &mb) < 0 ? -1 : 1;
		if (!elf_is_elf(c))
			return load_error(c, "Multiboot header without load addresses (flag bit 16) "
					  "in a file that is not ELF");
		return elf_parse(c) < 0 ? -1 : 1;
	}
	if (!elf_is_elf(c))
		return load_error(c, "neither an ELF file nor a Multiboot image");
	if (elf_parse(c) < 0)
		return -1;
	if (!c->elf64)
		return load_error(c, "a 32-bit ELF needs a Multiboot header to say how it starts");
	return 0;
}

int guest_load(struct vm *vm, const char *path, const char *bootargs,
	       struct vcpu_boot_state *boot, char *err, size_t errlen)
{
	struct loader_ctx c = {
		.vm = vm, .path = path ? path : "(null)", .err = err, .errlen = errlen,
	};
	uint8_t *buf = NULL;
	int multiboot, ret = -1;

	if (err && errlen)
		err[0] = '\0';
	if (!vm || !path || !boot)
		return load_error(&c, "guest_load: missing argument");
	memset(boot, 0, sizeof(*boot));

	if (read_file(&c, &buf) < 0)
		return -1;
	c.file = buf;
	multiboot = parse_image(&c);
	if (multiboot < 0 || load_check_segments(&c) < 0)
		goto out;
	load_copy_segments(&c);
	if (multiboot)
		ret = mb_prepare_boot(&c, bootargs, boot);
	else
		ret = longmode_prepare_boot(&c, boot);
	if (ret < 0)
		goto out;

	pr_info("loader", "%s: %u segment(s), entry 0x%llx, %s start", path, c.nsegs,
		(unsigned long long)c.entry, multiboot ? "Multiboot" : "long mode");
	if (!multiboot && bootargs)
		pr_warn("loader", "%s: no Multiboot header, so the boot arguments are not passed",
			path);
out:
	free(buf);
	return ret;
}
