/*
 * The identity table (docs/ivshmem-server.md, "Beyond QEMU"): clients of the identity socket name
 * themselves in a hello (hello.c); a returning identity from the same user gets its previous peer
 * id back. After the hello the connection is ordinary protocol 0, served by server.c.
 */
#include <glib.h>

#include "server_priv.h"

#define DEFAULT_RESERVE_MS 60000
/*
 * Identities remembered per allowed peer; one user may hold half of them. When the table (or the
 * user's half) is full, the identity gone longest whose reservation has lapsed is forgotten; a live
 * reservation never is, and a newcomer finding no such entry is served without being remembered.
 */
#define IDENTS_PER_PEER 4

static void unreserve(struct ivs_server *s, struct ivs_identity *ident)
{
	/* Its entry may have been taken over by a later holder of the same id: leave that one. */
	if (ident->reserved && g_hash_table_lookup(s->reserved, GUINT_TO_POINTER(ident->id)) == ident)
		g_hash_table_remove(s->reserved, GUINT_TO_POINTER(ident->id));
	ident->reserved = false;
}

static bool reservation_live(const struct ivs_server *s, const struct ivs_identity *ident)
{
	return ident->reserved &&
	       g_get_monotonic_time() - ident->left_us < (gint64)s->p.id_reserve_ms * 1000;
}

/* The id may go back to ident: nobody uses it and it is not held for another identity. */
static bool can_reclaim(const struct ivs_server *s, const struct ivs_identity *ident)
{
	if (!ident->left_us || server_id_used(s, ident->id))
		return false;
	const struct ivs_identity *holder =
		g_hash_table_lookup(s->reserved, GUINT_TO_POINTER(ident->id));
	return !holder || holder == ident || !ident_id_reserved(s, ident->id);
}

static unsigned uid_count(const struct ivs_server *s, uid_t uid)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(s->uid_idents, GUINT_TO_POINTER(uid)));
}

static void uid_count_set(struct ivs_server *s, uid_t uid, unsigned n)
{
	if (n)
		g_hash_table_insert(s->uid_idents, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(n));
	else
		g_hash_table_remove(s->uid_idents, GUINT_TO_POINTER(uid));
}

static unsigned table_capacity(const struct ivs_server *s)
{
	return s->p.max_peers * IDENTS_PER_PEER;
}

static unsigned uid_quota(const struct ivs_server *s)
{
	return MAX(1u, table_capacity(s) / 2);
}

/*
 * Makes room by forgetting the identity (of *only_uid, when given) gone longest that is neither
 * connected nor holding a live reservation; false when there is none.
 */
static bool evict_one(struct ivs_server *s, const uid_t *only_uid)
{
	GHashTableIter it;
	gpointer value;
	struct ivs_identity *oldest = NULL;

	g_hash_table_iter_init(&it, s->idents);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct ivs_identity *ident = value;
		if (ident->peer || reservation_live(s, ident) ||
		    (only_uid && ident->uid != *only_uid))
			continue;
		if (!oldest || ident->left_us < oldest->left_us)
			oldest = ident;
	}
	if (!oldest)
		return false;
	unreserve(s, oldest);
	uid_count_set(s, oldest->uid, uid_count(s, oldest->uid) - 1);
	g_hash_table_remove(s->idents, oldest->name);
	return true;
}

/* A new entry for name, or NULL when the user's share or the table is full of live entries. */
static struct ivs_identity *remember(struct ivs_server *s, const char *name, uid_t uid)
{
	const char *full = NULL;
	if (uid_count(s, uid) >= uid_quota(s) && !evict_one(s, &uid))
		full = "this user's half of the identity table";
	else if (g_hash_table_size(s->idents) >= table_capacity(s) && !evict_one(s, NULL))
		full = "the identity table";
	if (full) {
		s->stats.not_remembered++;
		if (log_ratelimit_ok(&s->refuse_rl, 5))
			pr_warn(LOG_PREFIX, "identity socket: %s (uid %u) gets a new id that is not "
				"kept for it: %s is full of connected or reserved identities", name,
				(unsigned)uid, full);
		return NULL;
	}
	struct ivs_identity *ident = g_new0(struct ivs_identity, 1);
	g_strlcpy(ident->name, name, sizeof(ident->name));
	ident->uid = uid;
	g_hash_table_insert(s->idents, ident->name, ident);
	uid_count_set(s, uid, uid_count(s, uid) + 1);
	return ident;
}

void ident_join(struct ivs_server *s, int sock, const struct ucred *cred, const char *name)
{
	uint16_t id;
	bool reclaimed = false;

	struct ivs_identity *ident = g_hash_table_lookup(s->idents, name);
	if (ident && ident->peer) {
		char why[128];
		g_snprintf(why, sizeof(why), "identity %s is already connected as peer %u", name,
			   ident->peer->id);
		server_refuse(s, sock, &s->stats.refused_hello, why, cred);
		return;
	}
	if (!server_check_room(s, sock, cred))
		return;
	if (ident && ident->uid != cred->uid) {
		/* Never hand one user's id to another: served, but as a stranger. */
		if (log_ratelimit_ok(&s->refuse_rl, 5))
			pr_warn(LOG_PREFIX, "identity socket: %s belongs to uid %u, not %u: new id",
				name, (unsigned)ident->uid, (unsigned)cred->uid);
		ident = NULL;
	} else if (!ident) {
		ident = remember(s, name, cred->uid);
	}
	if (ident && can_reclaim(s, ident)) {
		id = ident->id;
		reclaimed = true;
	} else if (!server_id_alloc(s, &id)) {
		server_refuse(s, sock, &s->stats.refused_full, "every peer id is in use", cred);
		return;
	}
	if (ident)
		unreserve(s, ident);

	struct ivs_peer *p = server_start_peer(s, sock, cred, id);
	if (!p)
		return;
	if (reclaimed) {
		s->stats.reclaimed++;
		server_log_member(s, LOG_INFO, "identity %s is back as peer %u", name, id);
	}
	if (ident) {
		ident->id = id;
		ident->peer = p;
		p->ident = ident;
	}
}

void ident_init(struct ivs_server *s)
{
	s->idents = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	s->uid_idents = g_hash_table_new(g_direct_hash, g_direct_equal);
	s->reserved = g_hash_table_new(g_direct_hash, g_direct_equal);
	if (!s->p.id_reserve_ms)
		s->p.id_reserve_ms = DEFAULT_RESERVE_MS;
}

void ident_fini(struct ivs_server *s)
{
	g_hash_table_destroy(s->reserved);
	g_hash_table_destroy(s->uid_idents);
	g_hash_table_destroy(s->idents);
}

bool ident_id_reserved(const struct ivs_server *s, uint16_t id)
{
	const struct ivs_identity *ident = g_hash_table_lookup(s->reserved, GUINT_TO_POINTER(id));
	return ident && reservation_live(s, ident);
}

void ident_peer_left(struct ivs_server *s, struct ivs_peer *p)
{
	struct ivs_identity *ident = p->ident;
	if (!ident)
		return;
	p->ident = NULL;
	ident->peer = NULL;
	ident->left_us = g_get_monotonic_time();
	struct ivs_identity *old = g_hash_table_lookup(s->reserved, GUINT_TO_POINTER(ident->id));
	if (old && old != ident)
		old->reserved = false;	/* its reservation had lapsed: the id went on to ident */
	ident->reserved = true;
	g_hash_table_replace(s->reserved, GUINT_TO_POINTER(ident->id), ident);
}

void ident_expire(struct ivs_server *s)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, s->reserved);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct ivs_identity *ident = value;
		if (!reservation_live(s, ident)) {
			ident->reserved = false;
			g_hash_table_iter_remove(&it);
		}
	}
}
