/* netstack/slink.c — the wire: one in-process libslirp 4.7 instance (see slink.h).
 *
 * The only file that includes <slirp/libslirp.h>.  It never polls by itself: slink_fill()
 * and slink_poll() let the owner of the event loop do that.
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

/* slirp's timers (in 4.7 only the IPv6 router-advertisement timer, which we never enable;
 * kept correct anyway because slirp may create one whenever it likes). */
struct slink_timer {
	struct slink_timer *next;
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
	int pos;                    /* its index in slink.set while in_set */
	unsigned round;             /* the last slink_prepare that asked for this fd */
};

struct slink {
	Slirp *slirp;
	struct slink_config cfg;
	slink_frame_fn to_guest;
	void *ctx;
	struct slink_timer *timers;
	/* valid only during slink_fill / slink_poll */
	struct pollfd *pfd;
	int npfd, maxpfd;
	/* epoll mode: slirp's fds stay registered between rounds */
	int epfd;                   /* -1 until slink_watch_fd() */
	struct slink_fd *fds;       /* indexed by fd */
	int nfds;
	int *set;                   /* the fds in the epoll set, unordered */
	int nset, setcap;
	int *ready;                 /* fds whose revents are set */
	int nready, readycap;
	unsigned round;
	int owner_fd;               /* slink_wait's extra fd in the set, -1 none */
	bool owner_ready;
	bool changed;               /* slirp ran since the last fill: its wishes may differ */
	int64_t due_ms;             /* slirp's TCP timers want slirp_pollfds_poll by then */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slink *l = opaque;

	/* The owner copies the frame into its queue; slirp's buffer is on its stack. */
	l->to_guest(l->ctx, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	fprintf(stderr, "netfsd: slirp: guest error: %s\n", msg);
}

static int64_t now_ms(void)
{
	return now_ns() / 1000000;
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static struct slink_timer *timer_add(struct slink *l)
{
	struct slink_timer *t = calloc(1, sizeof(*t));

	if (!t)
		abort();  /* slirp cannot handle a NULL timer */
	t->expire_ms = -1;
	t->next = l->timers;
	l->timers = t;
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
	struct slink *l = opaque;

	for (struct slink_timer **pp = &l->timers; *pp; pp = &(*pp)->next) {
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
	epoll_forget(opaque, fd);
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	epoll_forget(opaque, fd);
}

/* "A socket wants POLLIN again": slink_fill rebuilds the poll set every round anyway; the
 * epoll set is brought up to date at the next slink_prepare. */
static void cb_notify(void *opaque)
{
	((struct slink *)opaque)->changed = true;
}

static void cb_init_completed(Slirp *slirp, void *opaque)
{
	((struct slink *)opaque)->slirp = slirp;
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

struct slink *slink_new(const struct slink_config *cfg, slink_frame_fn to_guest, void *ctx)
{
	struct slink *l;
	SlirpConfig sc;

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
	l->changed = true;

	/* slirp writes to host sockets with plain send(): a peer that went away must not kill us. */
	signal(SIGPIPE, SIG_IGN);

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

	if (!slirp_new(&sc, &callbacks, l) || !l->slirp) {
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
	slirp_cleanup(l->slirp);  /* frees its timers through cb_timer_free */
	while (l->timers) {
		struct slink_timer *t = l->timers;

		l->timers = t->next;
		free(t);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	free(l->fds);
	free(l->set);
	free(l->ready);
	free(l);
}

void slink_input(struct slink *l, const uint8_t *frame, size_t len)
{
	if (len > 65535 + 14)
		return;  /* larger than any IPv4 datagram: slirp would misread it */
	slirp_input(l->slirp, frame, (int)len);
	l->changed = true;
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
	struct slink *l = opaque;

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
	struct slink *l = opaque;

	if (idx < 0 || idx >= l->npfd)
		return 0;
	return from_poll_events(l->pfd[idx].revents);
}

static void lower_timeout_for_timers(struct slink *l, uint32_t *timeout_ms)
{
	int64_t now = now_ns() / 1000000;

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
	slirp_pollfds_fill(l->slirp, timeout_ms, cb_add_poll, l);
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
	int64_t now = now_ns() / 1000000;
	bool fired = true;

	while (fired) {
		fired = false;
		for (struct slink_timer *t = l->timers; t; t = t->next) {
			if (t->expire_ms < 0 || t->expire_ms > now)
				continue;
			t->expire_ms = -1;
			if (t->by_id)
				slirp_handle_timer(l->slirp, t->id, t->cb_opaque);
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
	slirp_pollfds_poll(l->slirp, error, cb_get_revents, l);
	run_timers(l);
}

/* ---- epoll mode -------------------------------------------------------------------------
 *
 * slink_fill hands every fd to poll() every round, and the kernel then polls every idle
 * socket each time: with thousands of conversations that was most of the daemon's CPU.
 * Here the fds stay in an epoll set; each round only the difference to the last one costs
 * a syscall, and a wait costs what is ready.  slirp still walks its own socket list in
 * slirp_pollfds_fill/poll (4.7 has no other interface), which is cheap user-space work.
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

/* Swap the last fd of the set into fd's slot. */
static void set_remove(struct slink *l, int fd)
{
	int i = l->fds[fd].pos, last = l->set[--l->nset];

	l->set[i] = last;
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

/* Make the set watch fd for want; false if the fd cannot be watched (slirp then treats it
 * as not polled this round, as for a full pollfd array). */
static bool epoll_want(struct slink *l, int fd, struct slink_fd *f, short want)
{
	struct epoll_event ev = {.events = to_epoll_events(want), .data.fd = fd};

	if (f->in_set) {
		if (f->want == want)
			return true;
		if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0) {
			f->want = want;
			return true;
		}
		epoll_forget(l, fd);  /* closed behind our back: add it afresh */
	}
	if (!grow_ints(&l->set, &l->setcap, l->nset + 1))
		return false;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 &&
	    (errno != EEXIST || epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0))
		return false;
	f->in_set = true;
	f->want = want;
	f->pos = l->nset;
	l->set[l->nset++] = fd;
	return true;
}

static int cb_add_poll_epoll(int fd, int events, void *opaque)
{
	struct slink *l = opaque;
	struct slink_fd *f = fd_state(l, fd);

	if (!f || !epoll_want(l, fd, f, to_poll_events(events)))
		return -1;
	f->round = l->round;
	return fd;  /* the index slirp hands back to cb_get_revents_epoll */
}

static int cb_get_revents_epoll(int idx, void *opaque)
{
	struct slink *l = opaque;

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

/* Ask slirp what it wants polled and bring the set up to date. */
static void refill(struct slink *l, int64_t now)
{
	uint32_t t = UINT32_MAX;

	l->round++;
	slirp_pollfds_fill(l->slirp, &t, cb_add_poll_epoll, l);
	l->due_ms = now + t;  /* slirp never leaves it above 1000 ms */
	l->changed = false;
	/* fds slirp no longer wants to hear about leave the set, or a hung-up socket nobody
	 * reads would keep the set readable (epoll reports HUP and ERR whatever is asked) */
	for (int i = 0; i < l->nset;) {
		int fd = l->set[i];

		if (l->fds[fd].round != l->round)
			epoll_forget(l, fd);  /* moves the last one into slot i */
		else
			i++;
	}
}

/* slirp 4.7 walks every one of its sockets in slirp_pollfds_fill and slirp_pollfds_poll,
 * which with thousands of idle conversations is the loop's main cost.  So both are skipped
 * in rounds where slirp has nothing to do: no socket of its ready, no timer of its due
 * (the timeout fill reported), and slirp not entered since the last fill (slink_input,
 * slirp_pollfds_poll and notify set `changed`; everything slirp sends is sent from inside
 * those calls).  A round with only FUSE work then costs nothing here. */
void slink_prepare(struct slink *l, uint32_t *timeout_ms)
{
	int64_t now = now_ms();

	if (l->changed || now >= l->due_ms)
		refill(l, now);
	int64_t left = l->due_ms > now ? l->due_ms - now : 0;

	if ((uint64_t)left < *timeout_ms)
		*timeout_ms = (uint32_t)left;
	lower_timeout_for_timers(l, timeout_ms);
}

/* Wait on the set (timeout_ms -1: forever, 0: just look) and copy what is ready into the
 * fds' revents.  Returns the number of events (the owner's fd among them), or -1. */
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
	if (ready || error || now_ms() >= l->due_ms) {
		if (ready && !error && l->nready == 0)
			wait_ready(l, 0, NULL);  /* slink_wait has not looked yet */
		slirp_pollfds_poll(l->slirp, error, cb_get_revents_epoll, l);
		for (int i = 0; i < l->nready; i++)
			l->fds[l->ready[i]].revents = 0;
		l->nready = 0;
		l->changed = true;
	}
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

int slink_hostfwd_add(struct slink *l, uint16_t host_port, uint16_t guest_port)
{
	errno = 0;
	if (slirp_add_hostfwd(l->slirp, 0, in4(l->cfg.hostfwd_addr), host_port,
			      in4(l->cfg.guest), guest_port) < 0)
		return errno ? -errno : -EADDRINUSE;
	widen_backlog(l, host_port);
	l->changed = true;
	return 0;
}

int slink_hostfwd_remove(struct slink *l, uint16_t host_port)
{
	if (slirp_remove_hostfwd(l->slirp, 0, in4(l->cfg.hostfwd_addr), host_port) < 0)
		return -ENOENT;
	l->changed = true;
	return 0;
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
