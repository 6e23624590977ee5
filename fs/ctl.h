/* fs/ctl.h — the ctl command language of /net/tcp/N/ctl, as a pure parser.
 *
 * One write to a ctl file is one command.  ctl_parse() turns its text into a struct ctl_cmd
 * without touching any conversation, so it can be unit-tested and fuzzed on its own.
 * It never allocates, never reads past len, and accepts any bytes (NULs included).
 *
 * Grammar (words are separated by blanks: space, tab, CR, LF; one trailing newline is
 * part of "blanks"):
 *   connect RADDR [LPORT]      RADDR  = a.b.c.d!port[!suffix...]   port 1..65535
 *   announce LADDR             LADDR  = [a.b.c.d!]port | *!port     port 0..65535 (0 = pick one);
 *                                       0.0.0.0!port means the same as *!port
 *   bind LADDR                 LPORT  = port 0..65535
 *   hangup | close | clearerr
 *   shutdown rd|wr|rdwr
 *   backlog N                  N 0..INT_MAX (the stack clamps it)
 *   keepalive [MS]             default 120000 (Plan 9's DEF_KAT); 0 = off
 *   nodelay on|off
 *   ttl [N] | tos [N]          N 0..255; no argument = the default (ttl 255, tos 0)
 * Plan 9 ignores `!suffix` words after a remote port (e.g. dial's "!r"); so do we.
 *
 * Errors: ctl_parse() returns -EINVAL and sets *errtext to a static text for the err file.
 */
#ifndef FS_CTL_H
#define FS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_MAX_LEN 1024          /* longer commands are rejected ("control request too long") */
#define CTL_DEFAULT_KEEPALIVE_MS 120000
#define CTL_DEFAULT_TTL 255
#define CTL_DEFAULT_TOS 0

enum ctl_verb {
	CTL_CONNECT,
	CTL_ANNOUNCE,
	CTL_BIND,
	CTL_HANGUP,
	CTL_CLOSE,
	CTL_SHUTDOWN,
	CTL_BACKLOG,
	CTL_KEEPALIVE,
	CTL_NODELAY,
	CTL_TTL,
	CTL_TOS,
	CTL_CLEARERR,
};

/* An address from a command, host byte order.  any_ip: no ip given, "*" or 0.0.0.0. */
struct ctl_addr {
	uint32_t ip;
	uint16_t port;
	bool any_ip;
};

struct ctl_cmd {
	enum ctl_verb verb;
	struct ctl_addr addr;  /* connect: remote; announce/bind: local */
	bool has_lport;        /* connect with a local port */
	uint16_t lport;
	int how;               /* shutdown: SHUT_RD, SHUT_WR or SHUT_RDWR */
	long value;            /* backlog, keepalive ms, nodelay 0/1, ttl, tos */
};

/* Parse one command.  0 on success; -EINVAL with *errtext set otherwise. */
int ctl_parse(const char *text, size_t len, struct ctl_cmd *cmd, const char **errtext);

/* "a.b.c.d!port[!suffix...]": a remote address; port 1..65535. 0 or -EINVAL. */
int ctl_parse_raddr(const char *s, size_t len, struct ctl_addr *a);
/* "[a.b.c.d!]port" or "*!port": a local address; port 0..65535. 0 or -EINVAL. */
int ctl_parse_laddr(const char *s, size_t len, struct ctl_addr *a);

/* Name of a verb as written in commands ("connect", ...). */
const char *ctl_verb_name(enum ctl_verb v);

#endif
