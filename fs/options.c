/* fs/options.c — netfsd's command line (see options.h and netfsd(8)). */
#include "options.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_opt.h>

/* What fuse_opt_parse fills in; strings are malloc'd by fuse_opt. */
struct raw_opts {
	unsigned mtu;
	char *net;
	char *hostfwd_addr;
	int no_host_loopback;
};

#define RAW(t, f) {t, offsetof(struct raw_opts, f), 1}
static const struct fuse_opt spec[] = {
	{"mtu=%u", offsetof(struct raw_opts, mtu), 0},
	{"net=%s", offsetof(struct raw_opts, net), 0},
	{"hostfwd_addr=%s", offsetof(struct raw_opts, hostfwd_addr), 0},
	RAW("no_host_loopback", no_host_loopback),
	FUSE_OPT_END
};

int options_parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

int options_parse_net(const char *s, uint32_t *net, uint32_t *mask)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	char *end;
	long len;
	uint32_t ip, m;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	len = strtol(slash + 1, &end, 10);
	if (*end != '\0' || end == slash + 1 || len < 8 || len > 28)
		return -1;
	if (options_parse_ip(buf, &ip) < 0)
		return -1;
	m = ~0u << (32 - len);
	if (ip & ~m)
		return -1;
	*net = ip;
	*mask = m;
	return 0;
}

void options_usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n\n"
	       "Serve Plan 9's network file tree (/net/tcp/clone, /net/tcp/N/...) at MOUNTPOINT.\n\n"
	       "options:\n"
	       "    -h, --help             print this help\n"
	       "    -V, --version          print versions\n"
	       "    -f                     stay in the foreground\n"
	       "    -d                     debug output (implies -f)\n"
	       "    -o allow_other         let other users use the mount (each owns its conversations)\n"
	       "    -o mtu=N               link MTU toward slirp, 576..65521 (default %u)\n"
	       "    -o net=A.B.C.0/24      namespace network; .15 is ours, .2 the host, .3 DNS\n"
	       "                           (default 10.0.2.0/24)\n"
	       "    -o hostfwd_addr=IP     host address where announced ports appear\n"
	       "                           (default 127.0.0.1)\n"
	       "    -o no_host_loopback    do not let .2 reach the host's 127.0.0.1\n",
	       prog, OPT_DEFAULT_MTU);
}

int options_parse(struct fuse_args *args, struct netfsd_opts *o)
{
	struct raw_opts raw = {.mtu = OPT_DEFAULT_MTU};
	int r = -1;

	memset(o, 0, sizeof(*o));
	if (fuse_opt_parse(args, &raw, spec, NULL) < 0)
		return -1;
	if (fuse_parse_cmdline(args, &o->fuse) < 0)
		goto out;
	o->mtu = raw.mtu;
	o->no_host_loopback = raw.no_host_loopback;
	if (o->mtu < 576 || o->mtu > 65521) {
		fprintf(stderr, "netfsd: mtu must be 576..65521\n");
		goto out;
	}
	if (options_parse_net(raw.net ? raw.net : "10.0.2.0/24", &o->net, &o->netmask) < 0) {
		fprintf(stderr, "netfsd: bad net=%s (want A.B.C.D/len, len 8..28, host bits 0)\n",
			raw.net);
		goto out;
	}
	if (options_parse_ip(raw.hostfwd_addr ? raw.hostfwd_addr : "127.0.0.1",
			     &o->hostfwd_addr) < 0) {
		fprintf(stderr, "netfsd: bad hostfwd_addr=%s\n", raw.hostfwd_addr);
		goto out;
	}
	if (!o->fuse.show_help && !o->fuse.show_version && !o->fuse.mountpoint) {
		fprintf(stderr, "netfsd: no mount point (try --help)\n");
		goto out;
	}
	r = 0;
out:
	free(raw.net);
	free(raw.hostfwd_addr);
	return r;
}
