/* fs/ctl.c — parser for the ctl command language (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_WORDS 4  /* the longest command has 3 words; a 4th means "too many" */

struct word {
	const char *p;
	size_t n;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Split into at most MAX_WORDS words; returns the count (MAX_WORDS means "at least"). */
static int split_words(const char *s, size_t len, struct word *w)
{
	int n = 0;
	size_t i = 0;

	while (i < len && n < MAX_WORDS) {
		while (i < len && is_blank(s[i]))
			i++;
		if (i == len)
			break;
		w[n].p = s + i;
		while (i < len && !is_blank(s[i]))
			i++;
		w[n].n = (size_t)(s + i - w[n].p);
		n++;
	}
	return n;
}

static bool word_is(const struct word *w, const char *lit)
{
	size_t n = strlen(lit);

	return w->n == n && memcmp(w->p, lit, n) == 0;
}

/* A decimal number of 1..10 digits, value <= max. */
static int parse_uint(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Strict dotted quad: four decimal parts of 1-3 digits, each 0..255. */
static int parse_ip(const char *s, size_t len, uint32_t *out)
{
	uint32_t ip = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		unsigned long v;

		while (i < len && s[i] != '.')
			i++;
		if (i - start > 3 || parse_uint(s + start, i - start, 255, &v) < 0)
			return -EINVAL;
		ip = ip << 8 | (uint32_t)v;
		if (part < 3) {
			if (i == len)
				return -EINVAL;
			i++;  /* the dot */
		}
	}
	if (i != len)
		return -EINVAL;
	*out = ip;
	return 0;
}

static const char *find_bang(const char *s, size_t len)
{
	return memchr(s, '!', len);
}

int ctl_parse_raddr(const char *s, size_t len, struct ctl_addr *a)
{
	const char *bang = find_bang(s, len);
	unsigned long port;

	if (!bang)
		return -EINVAL;
	const char *pp = bang + 1;
	size_t plen = len - (size_t)(pp - s);
	const char *suffix = find_bang(pp, plen);

	if (suffix)
		plen = (size_t)(suffix - pp);
	if (parse_ip(s, (size_t)(bang - s), &a->ip) < 0)
		return -EINVAL;
	if (parse_uint(pp, plen, 65535, &port) < 0 || port == 0)
		return -EINVAL;
	a->port = (uint16_t)port;
	a->any_ip = false;
	return 0;
}

int ctl_parse_laddr(const char *s, size_t len, struct ctl_addr *a)
{
	const char *bang = find_bang(s, len);
	const char *pp = s;
	unsigned long port;

	a->ip = 0;
	a->any_ip = true;
	if (bang) {
		size_t iplen = (size_t)(bang - s);

		if (!(iplen == 1 && s[0] == '*')) {
			if (parse_ip(s, iplen, &a->ip) < 0)
				return -EINVAL;
			a->any_ip = a->ip == 0;  /* 0.0.0.0 is INADDR_ANY, as for bind(2) */
		}
		pp = bang + 1;
	}
	size_t plen = len - (size_t)(pp - s);

	if (parse_uint(pp, plen, 65535, &port) < 0)
		return -EINVAL;
	a->port = (uint16_t)port;
	return 0;
}

static const char *const verb_names[] = {
	[CTL_CONNECT] = "connect",   [CTL_ANNOUNCE] = "announce", [CTL_BIND] = "bind",
	[CTL_HANGUP] = "hangup",     [CTL_CLOSE] = "close",       [CTL_SHUTDOWN] = "shutdown",
	[CTL_BACKLOG] = "backlog",   [CTL_KEEPALIVE] = "keepalive", [CTL_NODELAY] = "nodelay",
	[CTL_TTL] = "ttl",           [CTL_TOS] = "tos",           [CTL_CLEARERR] = "clearerr",
};

const char *ctl_verb_name(enum ctl_verb v)
{
	return verb_names[v];
}

/* argument count range per verb (after the verb itself) */
static const struct {
	int min, max;
	const char *bad;
} arity[] = {
	[CTL_CONNECT] = {1, 2, "bad args to connect"},
	[CTL_ANNOUNCE] = {1, 1, "bad args to announce"},
	[CTL_BIND] = {1, 1, "bad args to bind"},
	[CTL_HANGUP] = {0, 0, "bad args to hangup"},
	[CTL_CLOSE] = {0, 0, "bad args to close"},
	[CTL_SHUTDOWN] = {1, 1, "bad args to shutdown"},
	[CTL_BACKLOG] = {1, 1, "bad args to backlog"},
	[CTL_KEEPALIVE] = {0, 1, "bad args to keepalive"},
	[CTL_NODELAY] = {1, 1, "bad args to nodelay"},
	[CTL_TTL] = {0, 1, "bad args to ttl"},
	[CTL_TOS] = {0, 1, "bad args to tos"},
	[CTL_CLEARERR] = {0, 0, "bad args to clearerr"},
};

static int parse_args(struct ctl_cmd *c, const struct word *w, int nargs, const char **errtext)
{
	unsigned long v;

	switch (c->verb) {
	case CTL_CONNECT:
		if (ctl_parse_raddr(w[0].p, w[0].n, &c->addr) < 0)
			goto bad_address;
		if (nargs == 2) {
			if (parse_uint(w[1].p, w[1].n, 65535, &v) < 0)
				goto bad_address;
			c->has_lport = true;
			c->lport = (uint16_t)v;
		}
		return 0;
	case CTL_ANNOUNCE:
	case CTL_BIND:
		if (ctl_parse_laddr(w[0].p, w[0].n, &c->addr) < 0)
			goto bad_address;
		return 0;
	case CTL_SHUTDOWN:
		if (word_is(&w[0], "rd"))
			c->how = SHUT_RD;
		else if (word_is(&w[0], "wr"))
			c->how = SHUT_WR;
		else if (word_is(&w[0], "rdwr"))
			c->how = SHUT_RDWR;
		else
			goto bad_value;
		return 0;
	case CTL_NODELAY:
		if (word_is(&w[0], "on"))
			c->value = 1;
		else if (word_is(&w[0], "off"))
			c->value = 0;
		else
			goto bad_value;
		return 0;
	case CTL_KEEPALIVE:
		if (nargs == 0) {
			c->value = CTL_DEFAULT_KEEPALIVE_MS;
			return 0;
		}
		/* fall through */
	case CTL_BACKLOG:
		if (parse_uint(w[0].p, w[0].n, INT_MAX, &v) < 0)
			goto bad_value;
		c->value = (long)v;
		return 0;
	case CTL_TTL:
	case CTL_TOS:
		if (nargs == 0) {
			c->value = c->verb == CTL_TTL ? CTL_DEFAULT_TTL : CTL_DEFAULT_TOS;
			return 0;
		}
		if (parse_uint(w[0].p, w[0].n, 255, &v) < 0 || (c->verb == CTL_TTL && v == 0))
			goto bad_value;
		c->value = (long)v;
		return 0;
	case CTL_HANGUP:
	case CTL_CLOSE:
	case CTL_CLEARERR:
		return 0;
	}
	return 0;
bad_address:
	*errtext = "bad address";
	return -EINVAL;
bad_value:
	*errtext = "bad value";
	return -EINVAL;
}

int ctl_parse(const char *text, size_t len, struct ctl_cmd *cmd, const char **errtext)
{
	struct word w[MAX_WORDS];
	int n;

	if (len > CTL_MAX_LEN) {
		*errtext = "control request too long";
		return -EINVAL;
	}
	n = split_words(text, len, w);
	if (n == 0) {
		*errtext = "short control request";
		return -EINVAL;
	}
	memset(cmd, 0, sizeof(*cmd));
	for (size_t v = 0; v < sizeof(verb_names) / sizeof(verb_names[0]); v++) {
		if (!word_is(&w[0], verb_names[v]))
			continue;
		cmd->verb = (enum ctl_verb)v;
		if (n - 1 < arity[v].min || n - 1 > arity[v].max) {
			*errtext = arity[v].bad;
			return -EINVAL;
		}
		return parse_args(cmd, w + 1, n - 1, errtext);
	}
	*errtext = "unknown control request";
	return -EINVAL;
}
