#include "cmdline.h"

/* Finds the word whose key part is key; returns a pointer just past the key, or NULL. */
static const char *find_key(const char *s, const char *key)
{
	size_t klen = 0;

	while (key[klen])
		klen++;
	while (s && *s) {
		while (*s == ' ')
			s++;
		const char *w = s;
		size_t i = 0;

		while (i < klen && w[i] == key[i])
			i++;
		if (i == klen && (w[i] == '=' || w[i] == ' ' || w[i] == '\0'))
			return w + i;
		while (*s && *s != ' ')
			s++;
	}
	return NULL;
}

bool cmdline_has(const char *cmdline, const char *flag)
{
	return find_key(cmdline, flag) != NULL;
}

bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t len)
{
	const char *v = find_key(cmdline, key);
	size_t n = 0;

	if (!v || *v != '=' || len == 0)
		return false;
	v++;
	while (v[n] && v[n] != ' ' && n + 1 < len) {
		buf[n] = v[n];
		n++;
	}
	buf[n] = '\0';
	return true;
}

bool parse_u64(const char *s, uint64_t *value)
{
	uint64_t v = 0, base = 10;
	bool any = false;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
		any = true;
	}
	if (!any)
		return false;

	unsigned shift = 0;

	if (*s == 'K' || *s == 'k')
		shift = 10;
	else if (*s == 'M' || *s == 'm')
		shift = 20;
	else if (*s == 'G' || *s == 'g')
		shift = 30;
	if (shift) {
		if (v > (UINT64_MAX >> shift))
			return false;
		v <<= shift;
		s++;
	}
	if (*s)
		return false;
	*value = v;
	return true;
}

bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *value)
{
	char buf[32];

	return cmdline_get(cmdline, key, buf, sizeof(buf)) && parse_u64(buf, value);
}
