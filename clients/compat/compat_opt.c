/* compat_opt.c — socket options the daemon does not keep.
 *
 * Options with a ctl command (TCP_NODELAY, SO_KEEPALIVE, IP_TTL, IP_TOS) are sent to the
 * daemon; this table only remembers values so getsockopt can return them, plus the receive
 * and send timeouts, which the library itself enforces.  It is per process and keyed by
 * conversation number: compat_opt_forget() runs whenever this process creates a socket, so a
 * reused number does not inherit old values.  It does not cross exec(2) or SCM_RIGHTS
 * (documented in libnetfs-compat(3)).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "compat.h"

#define OPT_VAL_MAX 16  /* the largest option we keep: struct timeval */

struct compat_opt {
	int n, level, name;
	socklen_t len;
	unsigned char val[OPT_VAL_MAX];
};

static pthread_mutex_t compat_opt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct compat_opt *compat_opt_tab;
static size_t compat_opt_count, compat_opt_cap;

static struct compat_opt *compat_opt_find(int n, int level, int name)
{
	for (size_t i = 0; i < compat_opt_count; i++) {
		struct compat_opt *o = &compat_opt_tab[i];
		if (o->n == n && o->level == level && o->name == name)
			return o;
	}
	return NULL;
}

int compat_opt_store(int n, int level, int name, const void *val, socklen_t len)
{
	struct compat_opt *o;
	int ret = 0;

	if (len > OPT_VAL_MAX)
		len = OPT_VAL_MAX;
	pthread_mutex_lock(&compat_opt_lock);
	o = compat_opt_find(n, level, name);
	if (!o && compat_opt_count == compat_opt_cap) {
		size_t cap = compat_opt_cap ? compat_opt_cap * 2 : 16;
		struct compat_opt *t = realloc(compat_opt_tab, cap * sizeof(*t));
		if (!t) {
			errno = ENOMEM;
			ret = -1;
			goto out;
		}
		compat_opt_tab = t;
		compat_opt_cap = cap;
	}
	if (!o)
		o = &compat_opt_tab[compat_opt_count++];
	o->n = n;
	o->level = level;
	o->name = name;
	o->len = len;
	memcpy(o->val, val, len);
out:
	pthread_mutex_unlock(&compat_opt_lock);
	return ret;
}

int compat_opt_lookup(int n, int level, int name, void *val, socklen_t *len)
{
	struct compat_opt *o;
	int found = 0;

	pthread_mutex_lock(&compat_opt_lock);
	o = compat_opt_find(n, level, name);
	if (o) {
		memcpy(val, o->val, o->len);
		*len = o->len;
		found = 1;
	}
	pthread_mutex_unlock(&compat_opt_lock);
	return found;
}

void compat_opt_forget(int n)
{
	pthread_mutex_lock(&compat_opt_lock);
	for (size_t i = 0; i < compat_opt_count;) {
		if (compat_opt_tab[i].n == n)
			compat_opt_tab[i] = compat_opt_tab[--compat_opt_count];
		else
			i++;
	}
	pthread_mutex_unlock(&compat_opt_lock);
}

void compat_opt_move(int n, int m)
{
	pthread_mutex_lock(&compat_opt_lock);
	for (size_t i = 0; i < compat_opt_count; i++)
		if (compat_opt_tab[i].n == n)
			compat_opt_tab[i].n = m;
	pthread_mutex_unlock(&compat_opt_lock);
}

static long compat_opt_timeout(int n, int name)
{
	struct timeval tv;
	socklen_t len;

	if (compat_opt_lookup(n, SOL_SOCKET, name, &tv, &len) != 1 || len != sizeof(tv))
		return 0;
	return tv.tv_sec * 1000L + (tv.tv_usec + 999) / 1000;
}

void compat_opt_get(int n, struct compat_opts *o)
{
	o->rcvtimeo_ms = compat_opt_timeout(n, SO_RCVTIMEO);
	o->sndtimeo_ms = compat_opt_timeout(n, SO_SNDTIMEO);
}
