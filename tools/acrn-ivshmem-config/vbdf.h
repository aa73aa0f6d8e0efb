/*
 * Virtual PCI bus:device.function as the scenario writes it ("00:08.0"), and the choice of a
 * free one for a blank VBDF.
 */
#ifndef IVCONFIG_VBDF_H
#define IVCONFIG_VBDF_H

#include <stdbool.h>
#include <stddef.h>

struct vbdf {
	unsigned bus;	/* 0..0xff */
	unsigned dev;	/* 0..0x1f */
	unsigned func;	/* 0..7 */
};

/* "bb:dd.f" plus NUL */
#define VBDF_STRLEN 8

/* Device numbers a post-launched VM may use: acrn-dm keeps 0 (host bridge), 1 (LPC), 2 (GPU)
 * and 31 (the LPC bridge an integrated GPU needs) for itself. */
#define VBDF_POST_DEV_MIN 0x03u
#define VBDF_POST_DEV_MAX 0x1eu

/* ACRN's configurator counts blank VBDFs up from here. */
#define VBDF_FIRST_DEFAULT_DEV 0x08u

/*
 * ACRN's syntax exactly: [0-9A-Fa-f]{1,2}:[0-1][0-9A-Fa-f]\.[0-7], nothing before or after.
 * Returns 0, or -EINVAL when text does not match.
 */
int vbdf_parse(const char *text, struct vbdf *out);

/* Lower-case, zero-padded, as ACRN writes it: "00:0a.0". */
void vbdf_format(const struct vbdf *v, char out[VBDF_STRLEN]);

bool vbdf_equal(const struct vbdf *a, const struct vbdf *b);

/*
 * The acrn-dm slot for a VBDF, in the decimal form ACRN's launch generator writes:
 * "8" for 00:08.0, "8:1" when the function is not 0, "1:8:0" off bus 0.
 */
void vbdf_slot_arg(const struct vbdf *v, char *out, size_t size);

/*
 * Picks the free device number for a blank VBDF of one VM, deterministically: the first device
 * on bus 0, function 0, from 0x08 upwards (ACRN's default), then the lower ones, that no entry of
 * `used` occupies (any function of a device counts as taking it). Post-launched VMs are kept to
 * 0x03..0x1e, other VMs to 0x01..0x1f (0 is the host bridge).
 * Returns 0, or -ENOSPC when every device number is taken.
 */
int vbdf_pick_free(const struct vbdf *used, size_t n_used, bool post_launched, struct vbdf *out);

#endif
