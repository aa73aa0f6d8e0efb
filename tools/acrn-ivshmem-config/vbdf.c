/* VBDF syntax, formatting and allocation. */
#include "vbdf.h"

#include <errno.h>
#include <stdio.h>

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vbdf_parse(const char *text, struct vbdf *out)
{
	const char *p = text;
	unsigned bus = 0;
	int d, n;

	/* Written by hand rather than with sscanf: sscanf accepts signs, spaces and 0x prefixes. */
	if (p == NULL)
		return -EINVAL;
	for (n = 0; n < 2 && (d = hex_digit(*p)) >= 0; n++, p++)
		bus = bus * 16 + (unsigned)d;
	if (n == 0 || *p++ != ':')
		return -EINVAL;
	if (*p != '0' && *p != '1')
		return -EINVAL;
	out->dev = (unsigned)(*p++ - '0') * 16;
	if ((d = hex_digit(*p++)) < 0)
		return -EINVAL;
	out->dev += (unsigned)d;
	if (*p++ != '.')
		return -EINVAL;
	if (*p < '0' || *p > '7')
		return -EINVAL;
	out->func = (unsigned)(*p++ - '0');
	if (*p != '\0')
		return -EINVAL;
	out->bus = bus;
	return 0;
}

void vbdf_format(const struct vbdf *v, char out[VBDF_STRLEN])
{
	snprintf(out, VBDF_STRLEN, "%02x:%02x.%x", v->bus & 0xffu, v->dev & 0x1fu, v->func & 7u);
}

bool vbdf_equal(const struct vbdf *a, const struct vbdf *b)
{
	return a->bus == b->bus && a->dev == b->dev && a->func == b->func;
}

void vbdf_slot_arg(const struct vbdf *v, char *out, size_t size)
{
	if (v->bus != 0)
		snprintf(out, size, "%u:%u:%u", v->bus, v->dev, v->func);
	else if (v->func != 0)
		snprintf(out, size, "%u:%u", v->dev, v->func);
	else
		snprintf(out, size, "%u", v->dev);
}

static bool dev_taken(const struct vbdf *used, size_t n_used, unsigned dev)
{
	for (size_t i = 0; i < n_used; i++)
		if (used[i].bus == 0 && used[i].dev == dev)
			return true;
	return false;
}

int vbdf_pick_free(const struct vbdf *used, size_t n_used, bool post_launched, struct vbdf *out)
{
	unsigned lo = post_launched ? VBDF_POST_DEV_MIN : 0x01u;
	unsigned hi = post_launched ? VBDF_POST_DEV_MAX : 0x1fu;

	for (unsigned dev = VBDF_FIRST_DEFAULT_DEV; dev <= hi; dev++) {
		if (!dev_taken(used, n_used, dev)) {
			*out = (struct vbdf){ .bus = 0, .dev = dev, .func = 0 };
			return 0;
		}
	}
	for (unsigned dev = lo; dev < VBDF_FIRST_DEFAULT_DEV; dev++) {
		if (!dev_taken(used, n_used, dev)) {
			*out = (struct vbdf){ .bus = 0, .dev = dev, .func = 0 };
			return 0;
		}
	}
	return -ENOSPC;
}
