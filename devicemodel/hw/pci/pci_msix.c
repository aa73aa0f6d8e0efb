/*
 * The MSI-X helper: capability, table and PBA of one device, delivery through vm_send_msi.
 *
 * Layout of the MSI-X BAR: the table at offset 0 (16 bytes per vector). A table of up to 2 KiB
 * shares one 4 KiB BAR with the PBA at 2 KiB (ivshmem's BAR1 must stay 4 KiB); a larger table gets
 * the PBA on the next 4 KiB boundary after it, and the BAR grows to the power of two that holds both.
 *
 * Two locks: `lock` guards the table, the PBA and the enable/function-mask state, and is held while
 * an MSI is sent, so a pending bit and its delivery can never cross. `notify_lock` serialises the
 * reports to the device's notifier, which run with `lock` released (a notifier may attach an irqfd,
 * or raise a vector itself) but still in the order the state changed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "pci.h"
#include "pci_msix.h"
#include "pci_priv.h"
#include "vm.h"

#define MSIX_CAP_LEN		12
#define MSIX_CTRL		2	/* message control, in the capability */
#define MSIX_TABLE		4	/* table offset | BIR */
#define MSIX_PBA		8	/* PBA offset | BIR */
#define MSIX_CTRL_FMASK		0x4000
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_VEC_MASKED		0x1u
#define MSIX_SHARED_PBA_OFF	2048
#define MSIX_PAGE		4096

struct msix_entry {
	uint32_t addr_lo;	/* bits 1:0 read as zero: messages are dword aligned */
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl;		/* bit 0: masked; the rest reserved, reading zero */
};

/* What the notifier was last told about a vector. */
struct msix_report {
	bool usable;
	uint64_t addr;
	uint32_t data;
};

struct pci_msix {
	pthread_mutex_t lock;
	pthread_mutex_t notify_lock;
	unsigned nvec;
	int bar;
	unsigned cap;		/* capability offset in config space */
	uint64_t pba_off;
	bool enabled;
	bool fmask;
	struct msix_entry *table;
	uint64_t *pba;
	struct msix_report *reported;	/* guarded by notify_lock */
	pci_msix_vector_fn notifier;	/* guarded by lock */
	void *notifier_opaque;
};

static unsigned pba_bytes(unsigned nvec)
{
	return (nvec + 63) / 64 * 8;
}

static void msix_layout(unsigned nvec, uint64_t *pba_off, uint64_t *bar_size)
{
	uint64_t table = (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE;
	uint64_t end, size = MSIX_PAGE;

	*pba_off = table <= MSIX_SHARED_PBA_OFF ? MSIX_SHARED_PBA_OFF :
		   (table + MSIX_PAGE - 1) / MSIX_PAGE * MSIX_PAGE;
	end = *pba_off + pba_bytes(nvec);
	while (size < end)
		size <<= 1;
	*bar_size = size;
}

int pci_msix_bar_index(const struct pci_dev *dev)
{
	return dev->msix ? dev->msix->bar : -1;
}

int pci_msix_init(struct pci_dev *dev, unsigned nvec, int bar_idx)
{
	uint64_t pba_off, bar_size;
	int ret;

	if (dev->msix || nvec < 1 || nvec > PCI_MSIX_MAX_VECTORS || bar_idx < 0 ||
	    bar_idx >= PCI_BAR_COUNT) {
		pr_err("pci", "%s: MSI-X with %u vectors in BAR%d: %s", dev->name, nvec, bar_idx,
		       dev->msix ? "the device has MSI-X already" : "out of range");
		return dev->msix ? -EEXIST : -EINVAL;
	}
	msix_layout(nvec, &pba_off, &bar_size);

	struct pci_msix *m = calloc(1, sizeof(*m));
	if (!m) {
		pr_err("pci", "%s: out of memory for MSI-X", dev->name);
		return -ENOMEM;
	}
	m->table = calloc(nvec, sizeof(*m->table));
	m->pba = calloc(pba_bytes(nvec) / 8, sizeof(*m->pba));
	m->reported = calloc(nvec, sizeof(*m->reported));
	if (!m->table || !m->pba || !m->reported) {
		pr_err("pci", "%s: out of memory for %u MSI-X vectors", dev->name, nvec);
		ret = -ENOMEM;
		goto err_free;
	}

	/* Both say why they refuse. */
	ret = pci_add_bar(dev, bar_idx, PCI_BAR_MEM32, bar_size, false, false);
	if (ret < 0)
		goto err_free;
	ret = pci_add_capability(dev, PCIY_MSIX, MSIX_CAP_LEN);
	if (ret < 0)
		goto err_bar;
	m->cap = (unsigned)ret;
	m->nvec = nvec;
	m->bar = bar_idx;
	m->pba_off = pba_off;
	for (unsigned v = 0; v < nvec; v++)
		m->table[v].ctrl = MSIX_VEC_MASKED; /* reset state: every vector masked */

	pci_set_cfg16(dev, m->cap + MSIX_CTRL, (uint16_t)(nvec - 1));
	pci_set_cfg32(dev, m->cap + MSIX_TABLE, (uint32_t)bar_idx);
	pci_set_cfg32(dev, m->cap + MSIX_PBA, (uint32_t)pba_off | (uint32_t)bar_idx);
	dev->wmask[m->cap + MSIX_CTRL + 1] = (MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK) >> 8;

	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->notify_lock, NULL);
	dev->msix = m;
	return 0;

err_bar:
	pci_bar_forget(dev, bar_idx);
err_free:
	free(m->reported);
	free(m->pba);
	free(m->table);
	free(m);
	return ret;
}

void pci_msix_free(struct pci_dev *dev)
{
	struct pci_msix *m = dev->msix;

	if (!m)
		return;
	dev->msix = NULL;
	pthread_mutex_destroy(&m->notify_lock);
	pthread_mutex_destroy(&m->lock);
	free(m->reported);
	free(m->pba);
	free(m->table);
	free(m);
}

/* ---- state ---- */

static bool vec_usable(const struct pci_msix *m, unsigned v)
{
	return m->enabled && !m->fmask && !(m->table[v].ctrl & MSIX_VEC_MASKED);
}

static uint64_t vec_addr(const struct pci_msix *m, unsigned v)
{
	return (uint64_t)m->table[v].addr_hi << 32 | m->table[v].addr_lo;
}

static bool pba_test(const struct pci_msix *m, unsigned v)
{
	return m->pba[v / 64] & (1ULL << (v % 64));
}

static void pba_set(struct pci_msix *m, unsigned v, bool on)
{
	if (on)
		m->pba[v / 64] |= 1ULL << (v % 64);
	else
		m->pba[v / 64] &= ~(1ULL << (v % 64));
}

/* Sends vector v's message; with m->lock held. */
static int vec_send(struct pci_dev *dev, struct pci_msix *m, unsigned v)
{
	int ret = vm_send_msi(dev->vm, vec_addr(m, v), m->table[v].data);
	if (ret < 0)
		pr_dbg("pci", "%s: MSI-X vector %u not delivered: %d", dev->name, v, ret);
	return ret;
}

/*
 * After vectors [first, first + count) may have changed: delivers what is pending and has become
 * usable, and tells the notifier of every vector whose usable state changed, or whose message
 * changed while usable (a masked vector's message is passed on when it is unmasked).
 */
static void msix_sync(struct pci_dev *dev, struct pci_msix *m, unsigned first, unsigned count)
{
	pthread_mutex_lock(&m->notify_lock);
	for (unsigned v = first; v < first + count && v < m->nvec; v++) {
		pthread_mutex_lock(&m->lock);
		struct msix_report now = {
			.usable = vec_usable(m, v), .addr = vec_addr(m, v), .data = m->table[v].data,
		};
		if (now.usable && pba_test(m, v)) {
			pba_set(m, v, false);
			(void)vec_send(dev, m, v); /* logged there; the guest sees a lost interrupt */
		}
		pci_msix_vector_fn fn = m->notifier;
		void *opaque = m->notifier_opaque;
		pthread_mutex_unlock(&m->lock);

		struct msix_report *was = &m->reported[v];
		bool changed = now.usable != was->usable ||
			       (now.usable && (now.addr != was->addr || now.data != was->data));
		if (!changed)
			continue;
		*was = now;
		if (fn)
			fn(dev, v, now.usable, now.addr, now.data, opaque);
	}
	pthread_mutex_unlock(&m->notify_lock);
}

void pci_msix_set_notifier(struct pci_dev *dev, pci_msix_vector_fn fn, void *opaque)
{
	struct pci_msix *m = dev->msix;

	if (!m)
		return;
	pthread_mutex_lock(&m->notify_lock);
	pthread_mutex_lock(&m->lock);
	m->notifier = fn;
	m->notifier_opaque = opaque;
	pthread_mutex_unlock(&m->lock);
	/* A new notifier has been told nothing: let the sync below report every usable vector. */
	for (unsigned v = 0; v < m->nvec; v++)
		m->reported[v] = (struct msix_report){ .usable = false };
	pthread_mutex_unlock(&m->notify_lock);
	msix_sync(dev, m, 0, m->nvec);
}

void pci_msix_cfg_written(struct pci_dev *dev, unsigned reg, unsigned size)
{
	struct pci_msix *m = dev->msix;

	if (!m || !pci_ranges_overlap(reg, size, m->cap + MSIX_CTRL, 2))
		return;
	uint16_t ctrl = pci_get_cfg16(dev, m->cap + MSIX_CTRL);
	pthread_mutex_lock(&m->lock);
	bool changed = m->enabled != !!(ctrl & MSIX_CTRL_ENABLE) ||
		       m->fmask != !!(ctrl & MSIX_CTRL_FMASK);
	m->enabled = ctrl & MSIX_CTRL_ENABLE;
	m->fmask = ctrl & MSIX_CTRL_FMASK;
	pthread_mutex_unlock(&m->lock);
	if (changed)
		msix_sync(dev, m, 0, m->nvec);
}

/* ---- BAR accesses ---- */

static bool access_ok(uint64_t off, unsigned size)
{
	return (size == 4 || size == 8) && off % size == 0;
}

static uint32_t table_word(const struct pci_msix *m, uint64_t off)
{
	const struct msix_entry *e = &m->table[off / PCI_MSIX_ENTRY_SIZE];
	switch (off % PCI_MSIX_ENTRY_SIZE) {
	case 0:
		return e->addr_lo;
	case 4:
		return e->addr_hi;
	case 8:
		return e->data;
	default:
		return e->ctrl;
	}
}

static void table_word_write(struct pci_msix *m, uint64_t off, uint32_t v)
{
	struct msix_entry *e = &m->table[off / PCI_MSIX_ENTRY_SIZE];
	switch (off % PCI_MSIX_ENTRY_SIZE) {
	case 0:
		e->addr_lo = v & ~0x3u;
		break;
	case 4:
		e->addr_hi = v;
		break;
	case 8:
		e->data = v;
		break;
	default:
		e->ctrl = v & MSIX_VEC_MASKED;
		break;
	}
}

/* One dword of the BAR, with m->lock held: table, PBA, or reserved (zero). */
static uint32_t bar_dword(const struct pci_msix *m, uint64_t off)
{
	if (off < (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE)
		return table_word(m, off);
	if (off >= m->pba_off && off - m->pba_off < pba_bytes(m->nvec)) {
		uint64_t q = m->pba[(off - m->pba_off) / 8];
		return (uint32_t)(off % 8 ? q >> 32 : q);
	}
	return 0;
}

int pci_msix_bar_read(struct pci_dev *dev, uint64_t off, unsigned size, uint64_t *value)
{
	struct pci_msix *m = dev->msix;

	*value = 0;
	if (!m || !access_ok(off, size))
		return 0;
	pthread_mutex_lock(&m->lock);
	*value = bar_dword(m, off);
	if (size == 8)
		*value |= (uint64_t)bar_dword(m, off + 4) << 32;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int pci_msix_bar_write(struct pci_dev *dev, uint64_t off, unsigned size, uint64_t value)
{
	struct pci_msix *m = dev->msix;

	/* The PBA is read-only and the rest of the BAR reserved: only table writes count. */
	if (!m || !access_ok(off, size) || off >= (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE)
		return 0;
	pthread_mutex_lock(&m->lock);
	table_word_write(m, off, (uint32_t)value);
	if (size == 8)
		table_word_write(m, off + 4, (uint32_t)(value >> 32));
	pthread_mutex_unlock(&m->lock);
	msix_sync(dev, m, (unsigned)(off / PCI_MSIX_ENTRY_SIZE), 1);
	return 0;
}

/* ---- the device's side ---- */

int pci_msix_notify(struct pci_dev *dev, unsigned vector)
{
	struct pci_msix *m = dev->msix;
	int ret = 0;

	if (!m || vector >= m->nvec)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (vec_usable(m, vector))
		ret = vec_send(dev, m, vector);
	else
		pba_set(m, vector, true);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

bool pci_msix_enabled(struct pci_dev *dev)
{
	struct pci_msix *m = dev->msix;

	if (!m)
		return false;
	pthread_mutex_lock(&m->lock);
	bool on = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return on;
}

bool pci_msix_pending(struct pci_dev *dev, unsigned vector)
{
	struct pci_msix *m = dev->msix;

	if (!m || vector >= m->nvec)
		return false;
	pthread_mutex_lock(&m->lock);
	bool pending = pba_test(m, vector);
	pthread_mutex_unlock(&m->lock);
	return pending;
}

unsigned pci_msix_vectors(struct pci_dev *dev)
{
	return dev->msix ? dev->msix->nvec : 0;
}
