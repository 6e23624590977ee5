/* fs/cmd.c — the ctl commands of a conversation (parsing is ctl.c's), and error texts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conv_int.h"
#include "ctl.h"
#include "slink.h"

#define EPHEMERAL_TRIES 32

/* ---- errors -------------------------------------------------------------------------- */

const char *conv_errno_text(int e)
{
	switch (e) {
	case EISCONN: return "connection in use";
	case ECONNREFUSED: return "connection refused";
	case ETIMEDOUT: return "connection timed out";
	case ENETUNREACH: return "network unreachable";
	case EHOSTUNREACH: return "host unreachable";
	case EADDRINUSE: return "address in use";
	case EADDRNOTAVAIL: return "address not available";
	case ENFILE: return "no free devices";
	case EACCES: return "permission denied";
	case ECONNRESET: return "connection reset";
	case ECONNABORTED: return "connection aborted";
	case ENOTCONN: return "not connected";
	case EPIPE: return "hungup";
	case EINVAL: return "invalid argument";
	default: return strerror(e);
	}
}

void conv_set_err(struct conv *c, const char *text)
{
	snprintf(c->err, sizeof(c->err), "%s", text);
}

/* Fail a ctl write: errno to the caller, text to err. */
static void ctl_fail(struct conv *c, fuse_req_t req, int e, const char *text)
{
	conv_set_err(c, text ? text : conv_errno_text(e));
	fuse_reply_err(req, e);
}

/* ---- commands ------------------------------------------------------------------------ */

static void reply_ctl_ok(fuse_req_t req, size_t count)
{
	fuse_reply_write(req, count);
}

static void do_connect(struct conv *c, fuse_req_t req, const struct ctl_cmd *cmd, size_t count,
		       bool nonblock)
{
	int r;

	if (c->used)
		return ctl_fail(c, req, EISCONN, NULL);
	if (cmd->has_lport) {
		if (c->bound)
			return ctl_fail(c, req, EINVAL, "address already bound");
		r = tcp_bind(c->sock, 0, cmd->lport);
		if (r < 0)
			return ctl_fail(c, req, -r, NULL);
		c->bound = true;
	}
	r = tcp_connect(c->sock, cmd->addr.ip, cmd->addr.port);
	if (r < 0)
		return ctl_fail(c, req, -r, NULL);
	c->used = true;
	if (nonblock)
		return (void)fuse_reply_err(req, EINPROGRESS);

	struct wait *w = wait_new(W_CONNECT, req);

	if (!w)
		return (void)fuse_reply_err(req, ENOMEM);
	w->size = count;
	conv_mark_dirty(c);  /* the stack may have decided already (e.g. unreachable) */
	wait_park(c, &c->connects, w);
}

/* Host forward for port p unless the listener is not reachable from the host anyway. */
static int add_forward(struct conv *c, bool want, uint16_t p)
{
	if (!want)
		return 0;
	int r = slink_hostfwd_add(c->tab->link, p, p);

	if (r == 0)
		c->fwd_port = p;
	return r;
}

/* Host forwards deliver to the namespace address, so only a listener on that address (or
 * on any) is reachable through one.  ip: the listener's local address, 0 = any. */
static bool forwardable(const struct conv *c, uint32_t ip)
{
	return c->tab->link && (ip == 0 || ip == c->tab->our_addr);
}

/* The local address a command asks for (0 = any). */
static uint32_t cmd_ip(const struct ctl_addr *a)
{
	return a->any_ip ? 0 : a->ip;
}

/* Bind port 0 of a forwardable address: an ephemeral port free in the namespace and on the
 * host too, so that a later announce (listen(2) after bind(2) to port 0) can forward it. */
static int bind_ephemeral(struct conv *c, uint32_t ip)
{
	for (int i = 0; i < EPHEMERAL_TRIES; i++) {
		uint16_t p = conv_random_port(c->tab);

		if (slink_hostfwd_probe(c->tab->link, p) < 0)
			continue;
		int r = tcp_bind(c->sock, ip, p);

		if (r != -EADDRINUSE)
			return r;
	}
	return -EADDRINUSE;
}

/* Bind the local port and set up its host forward; port 0: try ephemeral candidates until
 * both the namespace and the host have it free. */
static int announce_bind(struct conv *c, const struct ctl_addr *a, bool want_fwd)
{
	uint32_t ip = cmd_ip(a);
	int r;

	if (c->bound) {
		uint16_t p;

		tcp_local(c->sock, &(uint32_t){0}, &p);
		if (a->port != 0 && a->port != p)
			return -EINVAL;
		return add_forward(c, want_fwd, p);
	}
	if (a->port != 0) {
		r = add_forward(c, want_fwd, a->port);
		if (r < 0)
			return r;
		r = tcp_bind(c->sock, ip, a->port);
		if (r < 0)
			conv_remove_forward(c);
		return r;
	}
	if (!want_fwd)
		return tcp_bind(c->sock, ip, 0);
	for (int i = 0; i < EPHEMERAL_TRIES; i++) {
		uint16_t p = conv_random_port(c->tab);

		if (add_forward(c, true, p) < 0)
			continue;
		r = tcp_bind(c->sock, ip, p);
		if (r == 0)
			return 0;
		conv_remove_forward(c);
		if (r != -EADDRINUSE)
			return r;
	}
	return -EADDRINUSE;
}

static void do_announce(struct conv *c, fuse_req_t req, const struct ctl_cmd *cmd, size_t count)
{
	uint32_t ip = cmd_ip(&cmd->addr);
	int r;

	if (c->used)
		return ctl_fail(c, req, EISCONN, NULL);
	if (c->bound)
		tcp_local(c->sock, &ip, &(uint16_t){0});  /* bind decided the address */
	r = announce_bind(c, &cmd->addr, forwardable(c, ip));
	if (r == -EINVAL && c->bound)
		return ctl_fail(c, req, EINVAL, "address already bound");
	if (r < 0)
		return ctl_fail(c, req, -r, NULL);
	c->bound = true;
	r = tcp_listen(c->sock, c->backlog);
	if (r < 0) {
		conv_remove_forward(c);
		return ctl_fail(c, req, -r, NULL);
	}
	c->used = c->announced = true;
	reply_ctl_ok(req, count);
}

static void do_bind(struct conv *c, fuse_req_t req, const struct ctl_cmd *cmd, size_t count)
{
	uint32_t ip = cmd_ip(&cmd->addr);
	int r;

	if (c->used || c->bound)
		return ctl_fail(c, req, EINVAL, "address already bound");
	if (cmd->addr.port == 0 && forwardable(c, ip))
		r = bind_ephemeral(c, ip);
	else
		r = tcp_bind(c->sock, ip, cmd->addr.port);
	if (r < 0)
		return ctl_fail(c, req, -r, NULL);
	c->bound = true;
	reply_ctl_ok(req, count);
}

static int set_option(struct conv *c, const struct ctl_cmd *cmd)
{
	switch (cmd->verb) {
	case CTL_BACKLOG:
		c->backlog = (int)cmd->value;
		return c->announced ? tcp_listen(c->sock, c->backlog) : 0;
	case CTL_KEEPALIVE:
		return tcp_setopt(c->sock, TCP_OPT_KEEPALIVE, cmd->value);
	case CTL_NODELAY:
		return tcp_setopt(c->sock, TCP_OPT_NODELAY, cmd->value);
	case CTL_TTL:
		return tcp_setopt(c->sock, TCP_OPT_TTL, cmd->value);
	case CTL_TOS:
		return tcp_setopt(c->sock, TCP_OPT_TOS, cmd->value);
	default:
		return -EINVAL;
	}
}

void conv_ctl_write(struct conv *c, fuse_req_t req, const char *buf, size_t len, bool nonblock)
{
	struct ctl_cmd cmd;
	const char *errtext;
	int r;

	if (ctl_parse(buf, len, &cmd, &errtext) < 0)
		return ctl_fail(c, req, EINVAL, errtext);
	if (!c->sock) {
		/* after `close` only the commands that need no connection still work */
		if (cmd.verb == CTL_CONNECT || cmd.verb == CTL_ANNOUNCE || cmd.verb == CTL_BIND)
			return ctl_fail(c, req, EISCONN, NULL);
		if (cmd.verb != CTL_HANGUP && cmd.verb != CTL_CLOSE && cmd.verb != CTL_CLEARERR)
			return ctl_fail(c, req, ENOTCONN, "conversation closed");
	}

	switch (cmd.verb) {
	case CTL_CONNECT:
		return do_connect(c, req, &cmd, len, nonblock);
	case CTL_ANNOUNCE:
		return do_announce(c, req, &cmd, len);
	case CTL_BIND:
		return do_bind(c, req, &cmd, len);
	case CTL_HANGUP:
		conv_remove_forward(c);
		if (c->sock)
			tcp_abort(c->sock);
		c->announced = false;
		conv_mark_dirty(c);
		return reply_ctl_ok(req, len);
	case CTL_CLOSE:
		conv_release_socket(c);
		c->announced = false;
		c->used = true;
		conv_mark_dirty(c);
		return reply_ctl_ok(req, len);
	case CTL_SHUTDOWN:
		r = tcp_shutdown(c->sock, cmd.how);
		if (r < 0)
			return ctl_fail(c, req, -r, NULL);
		conv_mark_dirty(c);
		return reply_ctl_ok(req, len);
	case CTL_CLEARERR:
		if (c->sock)
			tcp_error(c->sock, true);
		c->err[0] = '\0';
		conv_mark_dirty(c);
		return reply_ctl_ok(req, len);
	default:
		r = set_option(c, &cmd);
		if (r < 0)
			return ctl_fail(c, req, -r, NULL);
		return reply_ctl_ok(req, len);
	}
}
