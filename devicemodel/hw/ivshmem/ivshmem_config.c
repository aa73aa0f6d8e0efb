/*
 * Parsing the ivshmem option string (see ivshmem_config.h). Positional fields first, exactly as
 * ACRN reads them, then key=value pairs. Every rule broken is reported with the field it concerns;
 * nothing is guessed (ACRN silently used region id 0 when it could not parse one, and wrapped
 * sizes over 4 GiB to small ones: both are errors here).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ivshmem_config.h"

#define MAX_FIELDS 16

struct field {
	const char *text;
	size_t len;
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Copies a field into a NUL-terminated buffer; false when it does not fit. */
static bool field_copy(const struct field *f, char *buf, size_t size)
{
	if (f->len >= size)
		return false;
	memcpy(buf, f->text, f->len);
	buf[f->len] = '\0';
	return true;
}

static bool field_is(const struct field *f, const char *word)
{
	return f->len == strlen(word) && memcmp(f->text, word, f->len) == 0;
}

/*
 * dir (from key=shown) as an existing directory: absolute, canonicalised (no symlink, "." or "..")
 * into out. Paths are resolved once, here, so that what is logged is what is used.
 */
static int resolve_dir(const char *key, const char *shown, const char *dir, char *out, size_t size,
		       char *err, size_t errlen)
{
	if (dir[0] != '/')
		return fail(err, errlen, "%s=%s: expected an absolute path", key, shown);
	char *real = realpath(dir, NULL);
	if (!real)
		return fail(err, errlen, "%s=%s: directory %s: %s", key, shown, dir, strerror(errno));
	struct stat st;
	int ret = 0;
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		ret = fail(err, errlen, "%s=%s: %s is not a directory", key, shown, dir);
	else if (strlen(real) >= size)
		ret = fail(err, errlen, "%s=%s: the path is longer than %zu bytes", key, shown,
			   size - 1);
	else
		strcpy(out, real);
	free(real);
	return ret;
}

/* hugetlbfs=DIR: an existing directory (whether it is a hugetlbfs mount is checked at open). */
static int parse_hugetlbfs_dir(const char *value, struct ivshmem_config *cfg, char *err,
			       size_t errlen)
{
	return resolve_dir("hugetlbfs", value, value, cfg->hugetlbfs_dir,
			   sizeof(cfg->hugetlbfs_dir), err, errlen);
}

/*
 * server=PATH: the socket need not exist yet (acrn-dm may start the server), but the directory
 * that holds it must; the result is that directory's canonical path plus the socket's name.
 */
static int parse_server_path(const char *value, struct ivshmem_config *cfg, char *err,
			     size_t errlen)
{
	if (value[0] != '/')
		return fail(err, errlen, "server=%s: expected an absolute socket path", value);
	const char *base = strrchr(value, '/') + 1;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return fail(err, errlen, "server=%s: expected the path of a socket, not of a "
			    "directory", value);
	char dir[4096], real[4096];
	size_t dirlen = (size_t)(base - value);
	if (dirlen >= sizeof(dir))
		return fail(err, errlen, "server=%s: the path is too long", value);
	memcpy(dir, value, dirlen);
	dir[dirlen] = '\0';
	int ret = resolve_dir("server", value, dir, real, sizeof(real), err, errlen);
	if (ret < 0)
		return ret;
	int n = snprintf(cfg->server, sizeof(cfg->server), "%s/%s", strcmp(real, "/") ? real : "",
			 base);
	if (n < 0 || (size_t)n >= sizeof(cfg->server))
		return fail(err, errlen, "server=%s: longer than %zu bytes, a socket path's limit, "
			    "once resolved", value, sizeof(cfg->server) - 1);
	return 0;
}

static bool parse_on_off(const char *value, bool *out)
{
	if (strcmp(value, "on") == 0 || strcmp(value, "1") == 0 || strcmp(value, "yes") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(value, "off") == 0 || strcmp(value, "0") == 0 || strcmp(value, "no") == 0) {
		*out = false;
		return true;
	}
	return false;
}

struct keys_seen {
	bool mem, hugetlbfs, hugepages, large, vectors, server, ioeventfd, irqfd;
};

static int apply_key(struct ivshmem_config *cfg, struct keys_seen *seen, const char *key,
		     const char *value, bool *large, char *err, size_t errlen)
{
	bool *dup = NULL;
	if (strcmp(key, "mem") == 0) {
		dup = &seen->mem;
		if (strcmp(value, "shm") == 0)
			cfg->backend = IVSHMEM_BACKEND_SHM;
		else if (strcmp(value, "hugetlbfs") == 0)
			cfg->backend = IVSHMEM_BACKEND_HUGETLBFS;
		else if (strcmp(value, "memfd") == 0)
			cfg->backend = IVSHMEM_BACKEND_MEMFD;
		else
			return fail(err, errlen, "mem=%s: expected shm, hugetlbfs or memfd", value);
	} else if (strcmp(key, "hugetlbfs") == 0) {
		dup = &seen->hugetlbfs;
		int ret = parse_hugetlbfs_dir(value, cfg, err, errlen);
		if (ret < 0)
			return ret;
	} else if (strcmp(key, "hugepages") == 0) {
		dup = &seen->hugepages;
		if (!parse_on_off(value, &cfg->memfd_hugetlb))
			return fail(err, errlen, "hugepages=%s: expected on or off", value);
	} else if (strcmp(key, "large") == 0) {
		dup = &seen->large;
		if (!parse_on_off(value, large))
			return fail(err, errlen, "large=%s: expected on or off", value);
	} else if (strcmp(key, "vectors") == 0) {
		dup = &seen->vectors;
		char *end;
		errno = 0;
		unsigned long n = isdigit((unsigned char)value[0]) ? strtoul(value, &end, 10) : 0;
		if (!isdigit((unsigned char)value[0]) || *end || errno || n < 1 ||
		    n > IVSHMEM_MAX_VECTORS)
			return fail(err, errlen, "vectors=%s: expected a number from 1 to %d", value,
				    IVSHMEM_MAX_VECTORS);
		cfg->vectors = (unsigned)n;
	} else if (strcmp(key, "server") == 0) {
		dup = &seen->server;
		int ret = parse_server_path(value, cfg, err, errlen);
		if (ret < 0)
			return ret;
	} else if (strcmp(key, "ioeventfd") == 0 || strcmp(key, "irqfd") == 0) {
		bool is_ioeventfd = key[1] == 'o';
		dup = is_ioeventfd ? &seen->ioeventfd : &seen->irqfd;
		if (!parse_on_off(value, is_ioeventfd ? &cfg->ioeventfd : &cfg->irqfd))
			return fail(err, errlen, "%s=%s: expected on or off", key, value);
	} else {
		return fail(err, errlen,
			    "unknown key '%s' (known: mem, hugetlbfs, hugepages, large, vectors, server, "
			    "ioeventfd, irqfd)", key);
	}
	if (*dup)
		return fail(err, errlen, "key '%s' given more than once", key);
	*dup = true;
	return 0;
}

static int check_combinations(struct ivshmem_config *cfg, const struct keys_seen *seen,
			      char *err, size_t errlen)
{
	if (cfg->land == IVSHMEM_HV_LAND && (seen->mem || seen->hugetlbfs || seen->hugepages ||
					     seen->vectors || seen->server || seen->large ||
					     seen->ioeventfd || seen->irqfd))
		return fail(err, errlen, "hv:/%s: hypervisor-land regions take no keys; their memory "
			    "and interrupts are configured in the scenario", cfg->name);
	if (seen->hugetlbfs && cfg->backend != IVSHMEM_BACKEND_HUGETLBFS)
		return fail(err, errlen, "hugetlbfs=%s needs mem=hugetlbfs", cfg->hugetlbfs_dir);
	if (seen->hugepages && cfg->backend != IVSHMEM_BACKEND_MEMFD)
		return fail(err, errlen, "hugepages= applies to mem=memfd only (mem=hugetlbfs is "
			    "always huge-page backed)");
	if ((seen->ioeventfd || seen->irqfd) && cfg->vectors == 0)
		return fail(err, errlen, "%s= needs vectors=N: only doorbell devices have interrupts",
			    seen->ioeventfd ? "ioeventfd" : "irqfd");
	if (seen->server && cfg->vectors == 0)
		return fail(err, errlen, "server=%s needs vectors=N: only doorbell devices talk to a "
			    "server", cfg->server);
	if (cfg->backend == IVSHMEM_BACKEND_MEMFD && cfg->vectors == 0)
		return fail(err, errlen, "mem=memfd: an anonymous region can only be shared through "
			    "an ivshmem server; add vectors=N");
	if (cfg->vectors && !seen->server) {
		int n = snprintf(cfg->server, sizeof(cfg->server), "%s/%s.sock", IVSHMEM_SERVER_DIR,
				 cfg->name);
		if (n < 0 || (size_t)n >= sizeof(cfg->server))
			return fail(err, errlen, "the default server path for %s is too long", cfg->name);
	}
	return 0;
}

int ivshmem_parse_config(const char *text, struct ivshmem_config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = IVSHMEM_BACKEND_SHM;
	cfg->ioeventfd = true;
	cfg->irqfd = true;
	if (!text || !*text)
		return fail(err, errlen, "missing configuration: expected dm:/NAME,SIZE_MB[,REGION_ID]"
			    " or hv:/NAME,SIZE_MB[,REGION_ID]");

	struct field fields[MAX_FIELDS];
	size_t nfields = 0;
	for (const char *p = text;;) {
		const char *comma = strchr(p, ',');
		if (nfields == MAX_FIELDS)
			return fail(err, errlen, "too many fields (at most %d)", MAX_FIELDS);
		fields[nfields].text = p;
		fields[nfields].len = comma ? (size_t)(comma - p) : strlen(p);
		nfields++;
		if (!comma)
			break;
		p = comma + 1;
	}

	/* Field 1: the land and the name. */
	const struct field *f = &fields[0];
	if (f->len >= 4 && memcmp(f->text, "dm:/", 4) == 0)
		cfg->land = IVSHMEM_DM_LAND;
	else if (f->len >= 4 && memcmp(f->text, "hv:/", 4) == 0)
		cfg->land = IVSHMEM_HV_LAND;
	else
		return fail(err, errlen, "region '%.*s': expected dm:/NAME or hv:/NAME", (int)f->len,
			    f->text);
	struct field name = { f->text + 4, f->len - 4 };
	char namebuf[64];
	struct ivshmem_error ierr = { { 0 } };
	if (!field_copy(&name, namebuf, sizeof(namebuf)))
		return fail(err, errlen, "region name '%.*s...': longer than %d characters", 20,
			    name.text, IVSHMEM_NAME_MAX);
	if (ivshmem_name_check(namebuf, &ierr) < 0)
		return fail(err, errlen, "%s", ierr.msg); /* it starts with "region name" */
	strcpy(cfg->name, namebuf);

	/* Field 2: the size, kept as text until the keys said whether large sizes are allowed. */
	if (nfields < 2 || memchr(fields[1].text, '=', fields[1].len))
		return fail(err, errlen, "%.*s: missing the size in MB after the name", (int)f->len,
			    f->text);
	char sizebuf[32];
	if (!field_copy(&fields[1], sizebuf, sizeof(sizebuf)))
		return fail(err, errlen, "size '%.*s...': not a size in MB", 16, fields[1].text);

	/* Field 3, when it is not a key: the region id. */
	size_t next = 2;
	if (nfields > 2 && !memchr(fields[2].text, '=', fields[2].len)) {
		char idbuf[32];
		if (!field_copy(&fields[2], idbuf, sizeof(idbuf)))
			return fail(err, errlen, "region id '%.*s...': expected 0..65535, decimal or "
				    "0x-hex", 16, fields[2].text);
		if (ivshmem_parse_region_id(idbuf, &cfg->region_id, &ierr) < 0)
			return fail(err, errlen, "%s", ierr.msg); /* it starts with "region id" */
		next = 3;
	}

	struct keys_seen seen = { 0 };
	bool large = false;
	for (size_t i = next; i < nfields; i++) {
		char kv[300];
		if (!field_copy(&fields[i], kv, sizeof(kv)))
			return fail(err, errlen, "option '%.*s...': too long", 20, fields[i].text);
		char *eq = strchr(kv, '=');
		if (field_is(&fields[i], ""))
			return fail(err, errlen, "empty option after '%.*s'", (int)fields[i - 1].len,
				    fields[i - 1].text);
		if (!eq)
			return fail(err, errlen, "option '%s': expected key=value", kv);
		*eq = '\0';
		if (eq[1] == '\0')
			return fail(err, errlen, "option '%s=': missing value", kv);
		int ret = apply_key(cfg, &seen, kv, eq + 1, &large, err, errlen);
		if (ret < 0)
			return ret;
	}

	unsigned max_mb = large ? IVSHMEM_LARGE_SIZE_MB : IVSHMEM_SIZE_MB_MAX_DEFAULT;
	if (ivshmem_parse_size_mb(sizebuf, max_mb, &cfg->size, &ierr) < 0) {
		/* Point at large=on only where it helps: a valid size above ACRN's maximum. */
		uint64_t large_size;
		struct ivshmem_error ignored = { { 0 } };
		bool hint = !large && cfg->land == IVSHMEM_DM_LAND &&
			    ivshmem_parse_size_mb(sizebuf, IVSHMEM_LARGE_SIZE_MB, &large_size,
						  &ignored) == 0;
		if (hint)
			return fail(err, errlen, "%s (large=on allows up to %u MB in device-model "
				    "land)", ierr.msg, IVSHMEM_LARGE_SIZE_MB);
		return fail(err, errlen, "%s", ierr.msg); /* it starts with "region size" */
	}
	return check_combinations(cfg, &seen, err, errlen);
}

void ivshmem_config_label(const struct ivshmem_config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s:/%s", cfg->land == IVSHMEM_HV_LAND ? "hv" : "dm", cfg->name);
}
