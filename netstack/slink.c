/* netstack/slink.c — the wire: in-process libslirp 4.7 (see slink.h).
 *
 * The only file that includes <slirp/libslirp.h>.  It never polls by itself: slink_fill()
 * and slink_poll(), or slink_prepare()/slink_wait()/slink_dispatch(), let the owner of the
 * event loop do that.
 *
 * Shards.  libslirp 4.7 walks every one of its sockets in slirp_pollfds_fill and again in
 * slirp_pollfds_poll, and an instance must be filled after every frame it is given.  With
 * 10 000 conversations in one instance that walk was most of the daemon's time and made one
 * active conversation's round trip 20x slower than with 10.  So the wire is up to
 * SLINK_SHARDS independent Slirp instances that all play the same network (same gateway,
 * same addresses, same MACs): every TCP connection lives in the shard chosen by the guest's
 * port, and a frame costs a walk over one shard's sockets only.  The guest sees one
 * gateway; the host sees ordinary sockets.  A shard is made when a frame or a host forward
 * first needs it.
 */
#include "slink.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

/* A power of two.  Our stack hands out ephemeral ports consecutively per destination
 * (RFC 6056 algorithm 3), so connections spread evenly; 64 keeps a shard at ~160 sockets
 * with 10 000 conversations, where the walk costs a few microseconds. */
#define SLINK_SHARDS 64

#define ETH_HLEN 14
#define ETH_TYPE_IP 0x0800
#define ETH_TYPE_ARP 0x0806
#define ARP_LEN 28
#define IP_PROTO_TCP 6

struct slink;

/* slirp's timers (in 4.7 only the IPv6 router-advertisement timer, which we never enable;
 * kept correct anyway because slirp may create one whenever it likes). */
struct slink_timer {
	struct slink_timer *next;
	struct shard *shard;        /* whose slirp_handle_timer to call */
	int64_t expire_ms;          /* -1: not armed */
	SlirpTimerCb cb;            /* timer_new flavour */
	void *cb_opaque;
	bool by_id;                 /* timer_new_opaque flavour: slirp_handle_timer(id) */
	SlirpTimerId id;
};

/* What the epoll set knows of one of slirp's fds (slink_prepare / slink_dispatch). */
struct slink_fd {
	short want;                 /* poll events in the set; meaningful while in_set */
	short revents;              /* from the last epoll_wait, until slink_dispatch ends */
	bool in_set;
	int shard;                  /* whose set it is in, while in_set */
	int pos;                    /* its index in that shard's set while in_set */
	unsigned round;             /* the last refill of its shard that asked for it */
};

/* One Slirp instance and what the loop knows of it. */
struct shard {
	struct slink *l;
	Slirp *slirp;
	int index;
	int *set;                   /* its fds in the epoll set, unordered */
	int nset, setcap;
	unsigned round;
	bool changed;               /* slirp ran since the last fill: its wishes may differ */
	bool ready;                 /* one of its fds is ready this round */
	bool mute_arp;              /* drop the ARP it sends (it answers a replayed request) */
	int64_t due_ms;             /* its TCP timers want slirp_pollfds_poll by then */
};

struct slink {
	struct slink_config cfg;
	slink_frame_fn to_guest;
	void *ctx;
	struct shard *shard[SLINK_SHARDS];  /* NULL until first needed */
	struct shard *live[SLINK_SHARDS];   /* the ones that exist, in creation order */
	int nlive;
	uint8_t guest_arp[ETH_HLEN + ARP_LEN];  /* the guest's last ARP frame, for new shards */
	bool have_guest_arp;
	struct slink_timer *timers;
	/* valid only during slink_fill / slink_poll */
	struct pollfd *pfd;
	int npfd, maxpfd;
	/* epoll mode: slirp's fds stay registered between rounds */
	int epfd;                   /* -1 until slink_watch_fd() */
	struct slink_fd *fds;       /* indexed by fd */
	int nfds;
	int *ready;                 /* fds whose revents are set */
	int nready, readycap;
	int owner_fd;               /* slink_wait's extra fd in the set, -1 none */
	bool owner_ready;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t now_ms(void)
{
	return now_ns() / 1000000;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool is_arp(const uint8_t *frame, size_t len)
{
	return len >= ETH_HLEN + ARP_LEN && get16(frame + 12) == ETH_TYPE_ARP;
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct shard *s = opaque;

	if (s->mute_arp && is_arp(buf, len))
		return (ssize_t)len;  /* the guest has its answer from the first shard */
	/* The owner copies the frame into its queue; slirp's buffer is on its stack. */
	s->l->to_guest(s->l->ctx, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	fprintf(stderr, "netfsd: slirp: guest error: %s\n", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static struct slink_timer *timer_add(struct shard *s)
{
	struct slink_timer *t = calloc(1, sizeof(*t));

	if (!t)
		abort();  /* slirp cannot handle a NULL timer */
	t->shard = s;
	t->expire_ms = -1;
	t->next = s->l->timers;
	s->l->timers = t;
	return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slink_timer *t = timer_add(opaque);

	t->cb = cb;
	t->cb_opaque = cb_opaque;
	return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct slink_timer *t = timer_add(opaque);

	t->by_id = true;
	t->id = id;
	t->cb_opaque = cb_opaque;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct shard *s = opaque;

	for (struct slink_timer **pp = &s->l->timers; *pp; pp = &(*pp)->next) {
		if (*pp == timer) {
			*pp = ((struct slink_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	((struct slink_timer *)timer)->expire_ms = expire_ms;
}

static void epoll_forget(struct slink *l, int fd);

/* slink_fill asks for fds every round, so it needs no registration.  The epoll set does:
 * a new socket may reuse the number of a closed one that the set still remembers (the
 * kernel dropped the closed one from the set by itself). */
static void cb_register_poll_fd(int fd, void *opaque)
{
	epoll_forget(((struct shard *)opaque)->l, fd);
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	epoll_forget(((struct shard *)opaque)->l, fd);
}

/* "A socket wants POLLIN again": slink_fill rebuilds the poll set every round anyway; the
 * epoll set is brought up to date at the next slink_prepare. */
static void cb_notify(void *opaque)
{
	((struct shard *)opaque)->changed = true;
}

static void cb_init_completed(Slirp *slirp, void *opaque)
{
	((struct shard *)opaque)->slirp = slirp;
}

static const SlirpCb callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
	.init_completed = cb_init_completed,
	.timer_new_opaque = cb_timer_new_opaque,
};

static struct in_addr in4(uint32_t host_order)
{
	struct in_addr a = {.s_addr = htonl(host_order)};

	return a;
}

static bool in_net(const struct slink_config *c, uint32_t a)
{
	return (a & c->netmask) == c->net;
}

static bool config_ok(const struct slink_config *c)
{
	return c->mtu >= 68 && c->mtu <= 65521 && c->netmask != 0 && (c->net & ~c->netmask) == 0 &&
	       in_net(c, c->host) && in_net(c, c->dns) && in_net(c, c->guest) &&
	       c->host != c->dns && c->host != c->guest && c->dns != c->guest;
}

static Slirp *new_slirp(const struct slink_config *cfg, struct shard *s)
{
	SlirpConfig sc;

	/* Every address explicitly: slirp has no defaults, zero means 0.0.0.0. */
	memset(&sc, 0, sizeof(sc));
	sc.version = 4;
	sc.restricted = 0;
	sc.in_enabled = true;
	sc.vnetwork = in4(cfg->net);
	sc.vnetmask = in4(cfg->netmask);
	sc.vhost = in4(cfg->host);
	sc.in6_enabled = false;
	sc.vdhcp_start = in4(cfg->guest);  /* also the default hostfwd target */
	sc.vnameserver = in4(cfg->dns);
	sc.if_mtu = cfg->mtu;
	sc.if_mru = cfg->mtu;
	sc.disable_host_loopback = cfg->no_host_loopback;
	sc.enable_emu = false;
	sc.disable_dns = false;
	sc.disable_dhcp = true;  /* our stack has a static address */
	/* cb_init_completed sets s->slirp already, for callbacks made during slirp_new */
	s->slirp = slirp_new(&sc, &callbacks, s);
	return s->slirp;
}

/* Shard i, made on first use.  A new shard has not seen the guest's ARP, and slirp sends
 * nothing to a guest whose MAC it does not know: the last one is replayed (answer muted). */
static struct shard *shard_get(struct slink *l, int i)
{
	struct shard *s = l->shard[i];

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->l = l;
	s->index = i;
	s->changed = true;
	if (!new_slirp(&l->cfg, s)) {
		free(s);
		return NULL;
	}
	l->shard[i] = s;
	l->live[l->nlive++] = s;
	if (l->have_guest_arp) {
		s->mute_arp = true;
		slirp_input(s->slirp, l->guest_arp, sizeof(l->guest_arp));
		s->mute_arp = false;
	}
	return s;
}

struct slink *slink_new(const struct slink_config *cfg, slink_frame_fn to_guest, void *ctx)
{
	struct slink *l;

	if (!cfg || !to_guest || !config_ok(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->cfg = *cfg;
	l->to_guest = to_guest;
	l->ctx = ctx;
	l->epfd = -1;
	l->owner_fd = -1;

	/* slirp writes to host sockets with plain send(): a peer that went away must not kill us. */
	signal(SIGPIPE, SIG_IGN);

	/* shard 0 always exists: non-TCP traffic goes there, and a bad config fails here */
	if (!shard_get(l, 0)) {
		free(l);
		errno = EINVAL;
		return NULL;
	}
	return l;
}

void slink_free(struct slink *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->nlive; i++) {
		slirp_cleanup(l->live[i]->slirp);  /* frees its timers through cb_timer_free */
		free(l->live[i]->set);
		free(l->live[i]);
	}
	while (l->timers) {
		struct slink_timer *t = l->timers;

		l->timers = t->next;
		free(t);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	free(l->fds);
	free(l->ready);
	free(l);
}

/* Which shard a guest frame belongs to: TCP by the guest's port (the source port of what
 * the guest sends), so every segment of a connection, and every connection a host forward
 * accepts, meets the same instance.  Everything else (UDP to the DNS address, ICMP,
 * fragments, which our stack never sends) goes to shard 0. */
static int shard_of_frame(const uint8_t *frame, size_t len)
{
	if (len < ETH_HLEN + 20 || get16(frame + 12) != ETH_TYPE_IP)
		return 0;
	const uint8_t *ip = frame + ETH_HLEN;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;

	if (ip[9] != IP_PROTO_TCP || (get16(ip + 6) & 0x1fff) != 0 || len < ETH_HLEN + ihl + 2)
		return 0;
	return get16(ip + ihl) & (SLINK_SHARDS - 1);
}

static int shard_of_port(uint16_t guest_port)
{
	return guest_port & (SLINK_SHARDS - 1);
}

/* The guest's ARP goes to every shard: each must know the guest's MAC, and a reply may
 * answer any shard's request.  Only shard 0 answers a request.  Either kind teaches slirp
 * the guest's MAC, so the last one is kept for shards made later. */
static void input_arp(struct slink *l, const uint8_t *frame, size_t len)
{
	memcpy(l->guest_arp, frame, sizeof(l->guest_arp));
	l->have_guest_arp = true;
	for (int i = 0; i < l->nlive; i++) {
		struct shard *s = l->live[i];

		s->mute_arp = s->index != 0;
		slirp_input(s->slirp, frame, (int)len);
		s->mute_arp = false;
		s->changed = true;
	}
}

void slink_input(struct slink *l, const uint8_t *frame, size_t len)
{
	if (len > 65535 + 14)
		return;  /* larger than any IPv4 datagram: slirp would misread it */
	if (is_arp(frame, len)) {
		input_arp(l, frame, len);
		return;
	}
	struct shard *s = shard_get(l, shard_of_frame(frame, len));

	if (!s)
		return;  /* out of memory: dropped like a lost frame; TCP retransmits */
	slirp_input(s->slirp, frame, (int)len);
	s->changed = true;
}

static short to_poll_events(int e)
{
	short p = 0;

	if (e & SLIRP_POLL_IN)
		p |= POLLIN;
	if (e & SLIRP_POLL_OUT)
		p |= POLLOUT;
	if (e & SLIRP_POLL_PRI)
		p |= POLLPRI;
	if (e & SLIRP_POLL_ERR)
		p |= POLLERR;
	if (e & SLIRP_POLL_HUP)
		p |= POLLHUP;
	return p;
}

static int from_poll_events(short p)
{
	int e = 0;

	if (p & POLLIN)
		e |= SLIRP_POLL_IN;
	if (p & POLLOUT)
		e |= SLIRP_POLL_OUT;
	if (p & POLLPRI)
		e |= SLIRP_POLL_PRI;
	if (p & (POLLERR | POLLNVAL))
		e |= SLIRP_POLL_ERR;
	if (p & POLLHUP)
		e |= SLIRP_POLL_HUP;
	return e;
}

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct slink *l = ((struct shard *)opaque)->l;

	if (l->npfd >= l->maxpfd) {
		l->npfd = l->maxpfd + 1;  /* remember the overflow */
		return -1;
	}
	l->pfd[l->npfd].fd = fd;
	l->pfd[l->npfd].events = to_poll_events(events);
	l->pfd[l->npfd].revents = 0;
	return l->npfd++;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct slink *l = ((struct shard *)opaque)->l;

	if (idx < 0 || idx >= l->npfd)
		return 0;
	return from_poll_events(l->pfd[idx].revents);
}

static void lower_timeout_for_timers(struct slink *l, uint32_t *timeout_ms)
{
	int64_t now = now_ms();

	for (struct slink_timer *t = l->timers; t; t = t->next) {
		if (t->expire_ms < 0)
			continue;
		int64_t left = t->expire_ms > now ? t->expire_ms - now : 0;

		if ((uint64_t)left < *timeout_ms)
			*timeout_ms = (uint32_t)left;
	}
}

int slink_fill(struct slink *l, struct pollfd *pfd, int max, uint32_t *timeout_ms)
{
	l->pfd = pfd;
	l->npfd = 0;
	l->maxpfd = max;
	for (int i = 0; i < l->nlive && l->npfd <= max; i++)
		slirp_pollfds_fill(l->live[i]->slirp, timeout_ms, cb_add_poll, l->live[i]);
	lower_timeout_for_timers(l, timeout_ms);
	if (l->npfd > max) {
		l->npfd = 0;
		return -1;
	}
	return l->npfd;
}

/* Fire due timers.  A callback may free or re-arm timers, so restart the scan after each. */
static void run_timers(struct slink *l)
{
	int64_t now = now_ms();
	bool fired = true;

	while (fired) {
		fired = false;
		for (struct slink_timer *t = l->timers; t; t = t->next) {
			if (t->expire_ms < 0 || t->expire_ms > now)
				continue;
			t->expire_ms = -1;
			if (t->by_id)
				slirp_handle_timer(t->shard->slirp, t->id, t->cb_opaque);
			else
				t->cb(t->cb_opaque);
			fired = true;
			break;
		}
	}
}

void slink_poll(struct slink *l, struct pollfd *pfd, int n, bool error)
{
	l->pfd = pfd;
	l->npfd = n;
	l->maxpfd = n;
	for (int i = 0; i < l->nlive; i++)
		slirp_pollfds_poll(l->live[i]->slirp, error, cb_get_revents, l->live[i]);
	run_timers(l);
}

/* ---- epoll mode -------------------------------------------------------------------------
 *
 * slink_fill hands every fd to poll() every round, and the kernel then polls every idle
 * socket each time: with thousands of conversations that was most of the daemon's CPU.
 * Here the fds stay in an epoll set; each round only the difference to the last one costs
 * a syscall, and a wait costs what is ready.  slirp still walks its own socket list in
 * slirp_pollfds_fill/poll (4.7 has no other interface): that is what the shards bound.
 */

#define EPOLL_BATCH 256

static bool grow_ints(int **v, int *cap, int need)
{
	if (need <= *cap)
		return true;
	int n = *cap ? *cap * 2 : 64;

	while (n < need)
		n *= 2;
	int *bigger = realloc(*v, sizeof(**v) * (size_t)n);

	if (!bigger)
		return false;
	*v = bigger;
	*cap = n;
	return true;
}

static struct slink_fd *fd_state(struct slink *l, int fd)
{
	if (fd < 0)
		return NULL;
	if (fd >= l->nfds) {
		int n = l->nfds ? l->nfds : 64;

		while (n <= fd)
			n *= 2;
		struct slink_fd *bigger = realloc(l->fds, sizeof(*bigger) * (size_t)n);

		if (!bigger)
			return NULL;
		memset(bigger + l->nfds, 0, sizeof(*bigger) * (size_t)(n - l->nfds));
		l->fds = bigger;
		l->nfds = n;
	}
	return &l->fds[fd];
}

/* Swap the last fd of its shard's set into fd's slot. */
static void set_remove(struct slink *l, int fd)
{
	struct shard *s = l->shard[l->fds[fd].shard];
	int i = l->fds[fd].pos, last = s->set[--s->nset];

	s->set[i] = last;
	l->fds[last].pos = i;
}

/* Take fd out of the set (it is closing, or new under a recycled number). */
static void epoll_forget(struct slink *l, int fd)
{
	if (l->epfd < 0 || fd < 0 || fd >= l->nfds || !l->fds[fd].in_set)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);  /* ENOENT/EBADF: already gone */
	l->fds[fd].in_set = false;
	set_remove(l, fd);
}

static uint32_t to_epoll_events(short p)
{
	return (p & POLLIN ? EPOLLIN : 0) | (p & POLLOUT ? EPOLLOUT : 0) | (p & POLLPRI ? EPOLLPRI : 0);
}

static short from_epoll_events(uint32_t e)
{
	return (short)((e & EPOLLIN ? POLLIN : 0) | (e & EPOLLOUT ? POLLOUT : 0) |
		       (e & EPOLLPRI ? POLLPRI : 0) | (e & EPOLLERR ? POLLERR : 0) |
		       (e & EPOLLHUP ? POLLHUP : 0));
}

/* Make the set watch fd for want on behalf of shard s; false if the fd cannot be watched
 * (slirp then treats it as not polled this round, as for a full pollfd array). */
static bool epoll_want(struct shard *s, int fd, struct slink_fd *f, short want)
{
	struct slink *l = s->l;
	struct epoll_event ev = {.events = to_epoll_events(want), .data.fd = fd};

	if (f->in_set && f->shard != s->index)
		epoll_forget(l, fd);  /* a recycled number now owned by another shard */
	if (f->in_set) {
		if (f->want == want)
			return true;
		if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0) {
			f->want = want;
			return true;
		}
		epoll_forget(l, fd);  /* closed behind our back: add it afresh */
	}
	if (!grow_ints(&s->set, &s->setcap, s->nset + 1))
		return false;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 &&
	    (errno != EEXIST || epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0))
		return false;
	f->in_set = true;
	f->want = want;
	f->shard = s->index;
	f->pos = s->nset;
	s->set[s->nset++] = fd;
	return true;
}

static int cb_add_poll_epoll(int fd, int events, void *opaque)
{
	struct shard *s = opaque;
	struct slink_fd *f = fd_state(s->l, fd);

	if (!f || !epoll_want(s, fd, f, to_poll_events(events)))
		return -1;
	f->round = s->round;
	return fd;  /* the index slirp hands back to cb_get_revents_epoll */
}

static int cb_get_revents_epoll(int idx, void *opaque)
{
	struct slink *l = ((struct shard *)opaque)->l;

	if (idx < 0 || idx >= l->nfds)
		return 0;
	return from_poll_events(l->fds[idx].revents);
}

int slink_watch_fd(struct slink *l)
{
	if (l->epfd < 0)
		l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd;
}

/* Ask a shard's slirp what it wants polled and bring its part of the set up to date. */
static void refill(struct shard *s, int64_t now)
{
	struct slink *l = s->l;
	uint32_t t = UINT32_MAX;

	s->round++;
	slirp_pollfds_fill(s->slirp, &t, cb_add_poll_epoll, s);
	s->due_ms = now + t;  /* slirp never leaves it above 1000 ms */
	s->changed = false;
	/* fds slirp no longer wants to hear about leave the set, or a hung-up socket nobody
	 * reads would keep the set readable (epoll reports HUP and ERR whatever is asked) */
	for (int i = 0; i < s->nset;) {
		int fd = s->set[i];

		if (l->fds[fd].round != s->round)
			epoll_forget(l, fd);  /* moves the last one into slot i */
		else
			i++;
	}
}

/* A shard's fill and poll are skipped in rounds where it has nothing to do: no socket of
 * its ready, no timer of its due (the timeout fill reported), and slirp not entered since
 * the last fill (slink_input, slirp_pollfds_poll and notify set `changed`; everything
 * slirp sends is sent from inside those calls).  A round with only FUSE work then costs
 * nothing here, and a frame costs one shard's walk. */
void slink_prepare(struct slink *l, uint32_t *timeout_ms)
{
	int64_t now = now_ms();

	for (int i = 0; i < l->nlive; i++) {
		struct shard *s = l->live[i];

		if (s->changed || now >= s->due_ms)
			refill(s, now);
		int64_t left = s->due_ms > now ? s->due_ms - now : 0;

		if ((uint64_t)left < *timeout_ms)
			*timeout_ms = (uint32_t)left;
	}
	lower_timeout_for_timers(l, timeout_ms);
}

/* Wait on the set (timeout_ms -1: forever, 0: just look) and copy what is ready into the
 * fds' revents and their shards.  Returns the number of events (the owner's fd among
 * them), or -1. */
static int wait_ready(struct slink *l, int timeout_ms, const sigset_t *mask)
{
	struct epoll_event ev[EPOLL_BATCH];
	int n = epoll_pwait(l->epfd, ev, EPOLL_BATCH, timeout_ms, mask);

	l->owner_ready = false;
	if (n <= 0 || !grow_ints(&l->ready, &l->readycap, l->nready + n))
		return n;
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;

		if (fd == l->owner_fd) {
			l->owner_ready = true;
			continue;
		}
		l->fds[fd].revents = from_epoll_events(ev[i].events);
		l->shard[l->fds[fd].shard]->ready = true;
		l->ready[l->nready++] = fd;
	}
	return n;
}

int slink_wait(struct slink *l, int owner_fd, uint32_t timeout_ms, const sigset_t *mask)
{
	if (owner_fd != l->owner_fd) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = owner_fd};

		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, owner_fd, &ev) < 0)
			return -1;
		l->owner_fd = owner_fd;
	}
	int r = wait_ready(l, timeout_ms > INT_MAX ? -1 : (int)timeout_ms, mask);

	if (r < 0)
		return -1;
	return (l->owner_ready ? SLINK_OWNER_READY : 0) | (l->nready ? SLINK_SLIRP_READY : 0);
}

void slink_dispatch(struct slink *l, bool ready, bool error)
{
	int64_t now = now_ms();

	if (ready && !error && l->nready == 0)
		wait_ready(l, 0, NULL);  /* slink_wait has not looked yet */
	for (int i = 0; i < l->nlive; i++) {
		struct shard *s = l->live[i];

		if (!(s->ready || error || now >= s->due_ms))
			continue;
		slirp_pollfds_poll(s->slirp, error, cb_get_revents_epoll, s);
		s->ready = false;
		s->changed = true;
	}
	for (int i = 0; i < l->nready; i++)
		l->fds[l->ready[i]].revents = 0;
	l->nready = 0;
	run_timers(l);
}

/* Is fd a listening IPv4 socket bound to addr:port (host order)? */
static bool is_listener_on(int fd, uint32_t addr, uint16_t port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int listening = 0;
	socklen_t llen = sizeof(listening);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) < 0 || !listening)
		return false;
	if (getsockname(fd, (struct sockaddr *)&a, &alen) < 0 || a.sin_family != AF_INET)
		return false;
	return a.sin_port == htons(port) && a.sin_addr.s_addr == htonl(addr);
}

/* slirp 4.7 listens for a host forward with a backlog of 1 (tcp_listen in socket.c), so a
 * burst of host clients overflows the kernel's accept queue: they then wait for SYN-ACK
 * retransmissions (seconds) and are finally reset.  listen() again on the same socket
 * raises the backlog; slirp does not tell us the fd, so find it by its address. */
static void widen_backlog(struct slink *l, uint16_t port)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(dir))
			continue;
		if (is_listener_on(fd, l->cfg.hostfwd_addr, port)) {
			listen(fd, SOMAXCONN);
			epoll_forget(l, fd);  /* slirp 4.7 does not register listeners */
			break;
		}
	}
	closedir(dir);
}

/* The forward lives in the shard of guest_port: the connections it accepts are the guest's
 * connections on that port, and their frames from the guest are routed by it. */
int slink_hostfwd_add(struct slink *l, uint16_t host_port, uint16_t guest_port)
{
	struct shard *s = shard_get(l, shard_of_port(guest_port));

	if (!s)
		return -ENOMEM;
	errno = 0;
	if (slirp_add_hostfwd(s->slirp, 0, in4(l->cfg.hostfwd_addr), host_port,
			      in4(l->cfg.guest), guest_port) < 0)
		return errno ? -errno : -EADDRINUSE;
	widen_backlog(l, host_port);
	s->changed = true;
	return 0;
}

/* Only the host port names a forward here, so ask each shard (there is one forward per
 * host port: the host socket itself guarantees it). */
int slink_hostfwd_remove(struct slink *l, uint16_t host_port)
{
	for (int i = 0; i < l->nlive; i++) {
		struct shard *s = l->live[i];

		if (slirp_remove_hostfwd(s->slirp, 0, in4(l->cfg.hostfwd_addr), host_port) == 0) {
			s->changed = true;
			return 0;
		}
	}
	return -ENOENT;
}

int slink_hostfwd_probe(struct slink *l, uint16_t host_port)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(host_port),
		.sin_addr = in4(l->cfg.hostfwd_addr),
	};
	int one = 1, r = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* as slirp's own listener does, so a port in TIME_WAIT counts as free */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		r = -errno;
	close(fd);
	return r;
}

const char *slink_version(void)
{
	return slirp_version_string();
}
