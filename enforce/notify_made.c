/* notify_made.c — what the session made itself.
 *
 * A soft delete keeps what the agent removes so that a human can bring it
 * back.  Files the session created itself (editor swap files, git's and the
 * compiler's temporaries, a build's outputs) held nothing before it, so their
 * deletion needs no trash: kept, they filled it and buried the entries that
 * matter under notices nobody reads.  The supervisor records every file,
 * directory, node and symlink it creates for the session by its identity
 * (device, inode and birth time, so that a recycled inode number is someone
 * else's), and a soft delete of one of them is a plain delete.  Anything not
 * recorded (older files, a full table, a file system without birth times) goes
 * to the trash as before. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "enforce/notify_sup_int.h"

#define MADE_MAX (1u << 18)     /* entries (16 MB of table at most); beyond, new files are not recorded */

struct made_key {
	uint64_t dev, ino;
	int64_t bsec;
	uint32_t bnsec;
	uint32_t state;         /* 0 empty, 1 used, 2 removed */
};

struct made_set {
	pthread_mutex_t lock;
	struct made_key *t;
	size_t cap, used;       /* used: slots not empty (live + removed) */
};

static int identity(int dirfd, const char *name, struct made_key *k)
{
	struct statx sx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | (name[0] ? 0 : AT_EMPTY_PATH),
		  STATX_INO | STATX_BTIME, &sx) < 0)
		return -errno;
	if (!(sx.stx_mask & STATX_BTIME))
		return -EOPNOTSUPP;
	*k = (struct made_key){ .dev = ((uint64_t)sx.stx_dev_major << 32) | sx.stx_dev_minor,
				.ino = sx.stx_ino, .bsec = sx.stx_btime.tv_sec,
				.bnsec = sx.stx_btime.tv_nsec, .state = 1 };
	return 0;
}

static size_t slot_of(const struct made_set *m, const struct made_key *k)
{
	uint64_t h = (k->dev * 0x9e3779b97f4a7c15ull) ^ (k->ino * 0xc2b2ae3d27d4eb4full) ^
		     (uint64_t)k->bsec;
	return (size_t)(h ^ (h >> 29)) & (m->cap - 1);
}

static bool same(const struct made_key *a, const struct made_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->bsec == b->bsec && a->bnsec == b->bnsec;
}

/* A free slot for k in m (cap a power of two, never full: used < cap / 2). */
static void put(struct made_set *m, const struct made_key *k)
{
	for (size_t i = slot_of(m, k);; i = (i + 1) & (m->cap - 1))
		if (m->t[i].state != 1 || same(&m->t[i], k)) {
			if (m->t[i].state == 0)
				m->used++;
			m->t[i] = *k;
			return;
		}
}

/* Rehash into a table twice the size, or the same size when removed entries
 * are what fills it (a build making and deleting temporaries all day). */
static bool grow(struct made_set *m)
{
	size_t live = 0;
	for (size_t i = 0; i < m->cap; i++)
		live += m->t[i].state == 1;
	size_t ncap = !m->cap ? 1024 : live * 4 < m->cap ? m->cap : m->cap * 2;
	struct made_key *old = m->t, *nt = calloc(ncap, sizeof *nt);

	if (!nt || ncap / 2 > MADE_MAX) {
		free(nt);
		return false;
	}
	size_t ocap = m->cap;
	m->t = nt;
	m->cap = ncap;
	m->used = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].state == 1)
			put(m, &old[i]);
	free(old);
	return true;
}

void made_record(struct notify *n, int dirfd, const char *name)
{
	struct made_key k;
	struct made_set *m = n->made;

	if (!m || identity(dirfd, name, &k) < 0)
		return;
	pthread_mutex_lock(&m->lock);
	if ((m->used + 1) * 2 <= m->cap || grow(m))
		put(m, &k);
	pthread_mutex_unlock(&m->lock);
}

/* Is the object at dirfd/name one the session made?  take: forget it too. */
static bool lookup(struct notify *n, int dirfd, const char *name, bool take)
{
	struct made_key k;
	struct made_set *m = n->made;
	bool found = false;

	if (!m || identity(dirfd, name, &k) < 0)
		return false;
	pthread_mutex_lock(&m->lock);
	for (size_t i = m->cap ? slot_of(m, &k) : 0; m->cap && m->t[i].state;
	     i = (i + 1) & (m->cap - 1))
		if (m->t[i].state == 1 && same(&m->t[i], &k)) {
			if (take)
				m->t[i].state = 2;
			found = true;
			break;
		}
	pthread_mutex_unlock(&m->lock);
	return found;
}

bool made_take(struct notify *n, int dirfd, const char *name)
{
	return lookup(n, dirfd, name, true);
}

bool made_known(struct notify *n, int dirfd, const char *name)
{
	return lookup(n, dirfd, name, false);
}

size_t made_capacity(struct notify *n)
{
	struct made_set *m = n->made;
	size_t cap;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	cap = m->cap;
	pthread_mutex_unlock(&m->lock);
	return cap;
}

int made_init(struct notify *n)
{
	struct made_set *m = calloc(1, sizeof *m);

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	n->made = m;
	return 0;
}

void made_free(struct notify *n)
{
	struct made_set *m = n->made;

	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->t);
	free(m);
	n->made = NULL;
}
