/* fs/conv.c — conversations: numbers, references, open files, texts, readiness, and the
 * service round that answers parked requests (see conv.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_int.h"
#include "slink.h"
#include "stack.h"

#define EPHEMERAL_LO 32768
#define EPHEMERAL_HI 60999
#define SERVICE_PASSES 64   /* bound on one round of conv_service (spurious events) */

/* ---- table, allocation, references --------------------------------------------------- */

static void on_tcp_event(void *user, struct tcp_sock *s);

void conv_mark_dirty(struct conv *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->next_dirty = c->tab->dirty;
	c->tab->dirty = c;
}

void conv_table_init(struct conv_table *t, struct ns_stack *st, struct slink *link,
		     uint32_t our_addr, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->st = st;
	t->link = link;
	t->our_addr = our_addr;
	t->max = CONV_MAX;
	t->rand = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint16_t conv_random_port(struct conv_table *t)
{
	t->rand ^= t->rand << 13;
	t->rand ^= t->rand >> 7;
	t->rand ^= t->rand << 17;
	return (uint16_t)(EPHEMERAL_LO + t->rand % (EPHEMERAL_HI - EPHEMERAL_LO + 1));
}

void *conv_rx_take(struct conv_table *t, const char *bytes, size_t len)
{
	struct fuse_buf *rx = t->rx;

	if (!rx || !rx->mem || (rx->flags & FUSE_BUF_IS_FD))
		return NULL;
	uintptr_t lo = (uintptr_t)rx->mem, p = (uintptr_t)bytes;

	if (p < lo || p + len > lo + rx->size)
		return NULL;  /* not the loop's buffer: the caller copies */
	void *mem = rx->mem;

	rx->mem = t->rx_spare;
	t->rx_spare = NULL;
	return mem;
}

void conv_rx_put(struct conv_table *t, void *mem)
{
	if (t->rx_spare) {
		free(mem);
		return;
	}
	t->rx_spare = mem;
}

void conv_setup(struct conv *c, uid_t uid, gid_t gid, struct tcp_sock *s)
{
	c->gen++;
	c->live = true;
	c->uid = uid;
	c->gid = gid;
	c->sock = s;
	c->refs = 0;
	c->used = c->announced = c->bound = false;
	c->fwd_port = 0;
	c->backlog = CONV_DEFAULT_BACKLOG;
	c->seen_err = 0;
	c->reset_reported = false;
	c->err[0] = '\0';
	tcp_set_user(s, on_tcp_event, c);
	tcp_setopt(s, TCP_OPT_RCVBUF, CONV_RCVBUF);
}

/* Room for one more number in t->v; doubling keeps clone O(1) amortised. */
static bool table_grow(struct conv_table *t)
{
	unsigned cap = t->cap ? t->cap * 2 : 64;
	struct conv **v;

	if (cap > t->max)
		cap = t->max;
	v = realloc(t->v, sizeof(*v) * cap);
	if (!v)
		return false;
	t->v = v;
	t->cap = cap;
	return true;
}

/* The lowest free conversation structure, or NULL if all t->max are live.  Numbers below
 * free_hint are all live, so a table full of long-lived conversations is not rescanned on
 * every clone. */
struct conv *conv_free_slot(struct conv_table *t)
{
	for (unsigned i = t->free_hint; i < t->nv; i++) {
		if (!t->v[i]->live) {
			t->free_hint = i;
			return t->v[i];
		}
	}
	t->free_hint = t->nv;
	if (t->nv == t->max || (t->nv == t->cap && !table_grow(t)))
		return NULL;
	struct conv *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->tab = t;
	c->n = t->nv;
	t->v[t->nv++] = c;
	return c;
}

struct conv *conv_alloc(struct conv_table *t, uid_t uid, gid_t gid)
{
	struct conv *c = conv_free_slot(t);
	struct tcp_sock *s;

	if (!c)
		return NULL;
	s = tcp_open(t->st, on_tcp_event, c);
	if (!s)
		return NULL;
	conv_setup(c, uid, gid, s);
	return c;
}

struct conv *conv_get(struct conv_table *t, unsigned long n)
{
	if (n >= t->nv || !t->v[n]->live)
		return NULL;
	return t->v[n];
}

bool conv_is_owner(const struct conv *c, uid_t uid, gid_t gid)
{
	return uid == 0 || uid == c->uid || gid == c->gid;
}

void conv_remove_forward(struct conv *c)
{
	if (c->fwd_port && c->tab->link)
		slink_hostfwd_remove(c->tab->link, c->fwd_port);
	c->fwd_port = 0;
}

/* Let go of the socket: FIN after queued data (RST if unread data), or reset a listener's
 * queue.  The stack finishes the connection without us. */
void conv_release_socket(struct conv *c)
{
	conv_remove_forward(c);
	if (c->sock)
		tcp_close(c->sock);
	c->sock = NULL;
}

void conv_free_unused(struct conv *c)
{
	c->refs = 1;
	conv_unref(c);
}

void conv_ref(struct conv *c)
{
	c->refs++;
}

void conv_unref(struct conv *c)
{
	if (--c->refs > 0)
		return;
	/* No open file left, so no parked request can be left either (each belongs to an open
	 * file, and the kernel releases a file only after its requests are answered). */
	conv_release_socket(c);
	c->live = false;
	if (c->n < c->tab->free_hint)
		c->tab->free_hint = c->n;
}

/* ---- open files ---------------------------------------------------------------------- */

struct handle *handle_new(struct conv_table *t, enum handle_kind kind, struct conv *c)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->kind = kind;
	h->conv = c;
	if (c) {
		h->conv_gen = c->gen;
		if (kind != H_TEXT) {
			conv_ref(c);
			h->conv_next = c->handles;
			if (c->handles)
				c->handles->conv_prev = h;
			c->handles = h;
		}
	}
	h->all_next = t->handles;
	if (t->handles)
		t->handles->all_prev = h;
	t->handles = h;
	return h;
}

void handle_free(struct conv_table *t, struct handle *h)
{
	if (h->ph)
		fuse_pollhandle_destroy(h->ph);
	if (h->all_prev)
		h->all_prev->all_next = h->all_next;
	else
		t->handles = h->all_next;
	if (h->all_next)
		h->all_next->all_prev = h->all_prev;
	if (h->conv && h->kind != H_TEXT) {
		struct conv *c = h->conv;

		if (h->conv_prev)
			h->conv_prev->conv_next = h->conv_next;
		else
			c->handles = h->conv_next;
		if (h->conv_next)
			h->conv_next->conv_prev = h->conv_prev;
		conv_unref(c);
	}
	free(h->text);
	free(h);
}

void conv_set_pollhandle(struct handle *h, struct fuse_pollhandle *ph)
{
	if (h->ph)
		fuse_pollhandle_destroy(h->ph);
	h->ph = ph;
}

static void notify_pollers(struct conv *c)
{
	for (struct handle *h = c->handles; h; h = h->conv_next) {
		if (!h->ph)
			continue;
		/* One notification wakes every waiter of this file; the kernel polls again. */
		fuse_lowlevel_notify_poll(h->ph);
		fuse_pollhandle_destroy(h->ph);
		h->ph = NULL;
	}
}

/* ---- texts --------------------------------------------------------------------------- */

static char *format_endpoint(struct tcp_sock *s, bool remote, size_t *len)
{
	uint32_t addr = 0;
	uint16_t port = 0;
	char ip[16];
	char *text;

	if (s) {
		if (remote)
			tcp_remote(s, &addr, &port);
		else
			tcp_local(s, &addr, &port);
	}
	int n = asprintf(&text, "%s!%u\n", ns_format_ip(addr, ip), port);

	*len = n < 0 ? 0 : (size_t)n;
	return n < 0 ? NULL : text;
}

static char *format_status(struct tcp_sock *s, size_t *len)
{
	char *text;

	if (!s) {
		text = strdup("Closed\n");
		*len = text ? strlen(text) : 0;
		return text;
	}
	size_t n = tcp_format_status(s, NULL, 0);

	text = malloc(n + 1);
	if (!text)
		return NULL;
	tcp_format_status(s, text, n + 1);
	*len = strlen(text);
	return text;
}

static char *format_stats(struct ns_stack *st, size_t *len)
{
	size_t n = ns_format_stats(st, NULL, 0);
	char *text = malloc(n + 1);

	if (!text)
		return NULL;
	ns_format_stats(st, text, n + 1);
	*len = strlen(text);
	return text;
}

static char *conv_text(struct conv_table *t, struct handle *h, size_t *len)
{
	struct conv *c = h->conv;
	char *text = NULL;
	int n = -1;

	switch (h->kind) {
	case H_CTL:
		n = asprintf(&text, "%u", c->n);
		break;
	case H_ERR:
		n = asprintf(&text, c->err[0] ? "%s\n" : "%s", c->err);
		break;
	case H_TEXT:
		if (!c)
			return format_stats(t->st, len);
		if (!c->live || c->gen != h->conv_gen)
			return NULL;  /* the conversation is gone: keep the last snapshot */
		if (h->file == NF_STATUS)
			return format_status(c->sock, len);
		return format_endpoint(c->sock, h->file == NF_REMOTE, len);
	default:
		return NULL;
	}
	*len = n < 0 ? 0 : (size_t)n;
	return n < 0 ? NULL : text;
}

void handle_refresh_text(struct conv_table *t, struct handle *h)
{
	size_t len = 0;
	char *text = conv_text(t, h, &len);

	if (!text)
		return;
	free(h->text);
	h->text = text;
	h->text_len = len;
}

/* ---- readiness and the service round ------------------------------------------------- */

unsigned conv_poll_events(struct conv *c)
{
	unsigned ev = 0, t;

	if (!c->sock)
		return POLLIN | POLLRDNORM | POLLOUT | POLLHUP;
	if (c->announced)
		return tcp_accept_queue_len(c->sock) > 0 ? POLLIN | POLLRDNORM : 0;
	t = tcp_poll(c->sock);
	if (!c->used && t == 0)
		return POLLOUT | POLLWRNORM | POLLHUP;  /* what Linux says of an unconnected socket */
	if (t & TCP_EV_IN)
		ev |= POLLIN | POLLRDNORM;
	if (t & TCP_EV_OUT)
		ev |= POLLOUT | POLLWRNORM;
	if (t & TCP_EV_ERR)
		ev |= POLLERR;
	if (t & TCP_EV_HUP)
		ev |= POLLHUP | POLLRDHUP;  /* hung up both ways includes the receive side */
	if (t & TCP_EV_RDHUP)
		ev |= POLLRDHUP;
	return ev;
}

static void on_tcp_event(void *user, struct tcp_sock *s)
{
	(void)s;
	conv_mark_dirty(user);  /* never call the stack from here (stack.h) */
}

static void note_error(struct conv *c)
{
	int e = c->sock ? tcp_error(c->sock, false) : 0;

	if (e != 0 && e != c->seen_err)
		conv_set_err(c, conv_errno_text(-e));
	c->seen_err = e;
}

/* Answer what can be answered on c; afterwards wake its pollers. */
static void service_one(struct conv *c)
{
	note_error(c);
	conv_serve_connects(c);
	conv_serve_writers(c);
	conv_serve_readers(c);
	notify_pollers(c);
	conv_serve_listeners(c);  /* last: it may free c */
}

bool conv_service(struct conv_table *t)
{
	for (int pass = 0; pass < SERVICE_PASSES && t->dirty; pass++) {
		struct conv *list = t->dirty;

		t->dirty = NULL;
		while (list) {
			struct conv *c = list;

			list = c->next_dirty;
			c->dirty = false;
			if (c->live)
				service_one(c);
		}
	}
	return t->dirty != NULL;
}

void conv_table_fini(struct conv_table *t, int err)
{
	for (unsigned i = 0; i < t->nv; i++) {
		struct conv *c = t->v[i];
		struct wait_queue *qs[] = {&c->readers, &c->writers, &c->connects, &c->listeners};

		for (size_t q = 0; q < sizeof(qs) / sizeof(qs[0]); q++) {
			struct wait *w;

			while ((w = qs[q]->head)) {
				wait_hold(w);
				fuse_reply_err(w->req, err);
				wait_done(w);
			}
		}
	}
	while (t->handles) {
		struct handle *h = t->handles;

		t->handles = h->all_next;
		if (h->ph)
			fuse_pollhandle_destroy(h->ph);
		free(h->text);
		free(h);
	}
	for (unsigned i = 0; i < t->nv; i++) {
		if (t->v[i]->live && t->v[i]->sock)
			tcp_close(t->v[i]->sock);
		free(t->v[i]);
	}
	free(t->v);
	t->v = NULL;
	free(t->rx_spare);
	t->rx_spare = NULL;
	t->nv = t->cap = t->free_hint = 0;
	t->dirty = NULL;
}
