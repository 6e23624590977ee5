/* fs/main.c — netfsd: mount /net, run the loop, unmount cleanly. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon.h"
#include "netfs_config.h"
#include "slink.h"
#include "stack.h"
#include "stream.h"

static uint64_t random_seed(void)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)loop_now_ms() * 6364136223846793005ull ^ (uint64_t)getpid();
	return seed;
}

/* Every connected conversation holds one host socket of slirp's, and the usual soft limit
 * (1024) would cap the tree far below its 65536 conversations.  The loop uses ppoll, not
 * select, so descriptors above FD_SETSIZE are fine. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Keep buffers of 64 KiB and more in their own mappings for good.  libslirp reserves two
 * socket buffers of 128 KiB per connection and soon reallocs them to a multiple of the MSS
 * (192 KiB); idle, they stay untouched but for the page glibc writes its chunk header
 * into, as long as each is a mapping of its own.  One that comes from the heap is copied
 * by the realloc, and all of it becomes resident.  Two glibc habits put them there:
 *   - it raises its mmap threshold when a mapped block is freed, so after the first mass
 *     close every buffer came from the heap (~260 KiB more per idle connection).  Setting
 *     the threshold turns that off; 64 KiB, not 128, because the first reservation
 *     (2 x MSS = 130 960 bytes) is just under 128 KiB;
 *   - it carves requests from the heap's free top whatever their size, and keeps up to
 *     M_TOP_PAD (128 KiB) free there after each growth: 1.5% of the buffers were copied,
 *     38 MiB of 133 MB at 10 000 idle conversations.  No padding, no such top. */
static void tune_malloc(void)
{
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	mallopt(M_TOP_PAD, 0);
}

/* The stack and its wire; created before mounting so a failure leaves nothing mounted. */
static int start_network(struct netfsd *d)
{
	const struct netfsd_opts *o = &d->opts;
	uint64_t seed = random_seed();
	struct slink_config lc = {
		.net = o->net,
		.netmask = o->netmask,
		.host = options_host_addr(o),
		.dns = options_dns_addr(o),
		.guest = options_our_addr(o),
		.mtu = o->mtu,
		.hostfwd_addr = o->hostfwd_addr,
		.no_host_loopback = o->no_host_loopback,
	};
	struct ns_config nc = {
		.addr = options_our_addr(o),
		.netmask = o->netmask,
		.gateway = options_host_addr(o),
		.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
		.mtu = o->mtu,
		.seed = seed,
		/* Every frame the stack receives was built by libslirp in this process moments
		 * before, with checksums it computed over the very bytes we get (it copies them
		 * out of its own mbuf, nothing in between can alter them).  Verifying them again
		 * would only catch a libslirp bug that corrupted the bytes after summing them:
		 * not worth 5-7% of the daemon's CPU in bulk transfers.  The IP header checksum
		 * is still checked (20 bytes); the stack's tests and the lossy test link keep
		 * verifying everything. */
		.rx_csum_trusted = true,
	};

	d->link = slink_new(&lc, wire_from_slirp, &d->wire);
	if (!d->link) {
		fprintf(stderr, "netfsd: cannot start libslirp: %s\n", strerror(errno));
		return -1;
	}
	d->wire.link = d->link;
	d->st = ns_create(&nc, wire_from_stack, &d->wire, loop_now_ms());
	if (!d->st) {
		fprintf(stderr, "netfsd: cannot create the network stack\n");
		return -1;
	}
	d->wire.st = d->st;
	ns_announce(d->st);  /* slirp learns our MAC before the first connection */
	conv_table_init(&d->convs, d->st, d->link, nc.addr, seed);
	return 0;
}

/* 0, -1 (mount failed) or -2 (FUSE rejected the command line). */
static int mount_tree(struct netfsd *d, struct fuse_args *args)
{
	int fd;

	d->se = fuse_session_new(args, &netfs_ops, sizeof(netfs_ops), d);
	if (!d->se)
		return -2;  /* it has printed why: an unknown option, mostly */
	if (fuse_session_mount(d->se, d->opts.fuse.mountpoint) != 0)
		return -1;
	if (stream_install(d->se) != 0) {
		fprintf(stderr, "netfsd: cannot install the FUSE I/O hook\n");
		return -1;
	}
	/* The loop drains the device until EAGAIN and never blocks in a read. */
	fd = fuse_session_fd(d->se);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

static void stop(struct netfsd *d)
{
	/* Blocked callers get an error now, before unmounting, rather than whatever an
	 * aborted connection gives them. */
	conv_table_fini(&d->convs, ECONNABORTED);
	if (d->se) {
		fuse_session_unmount(d->se);
		fuse_session_destroy(d->se);
	}
	if (d->st)
		ns_destroy(d->st);
	d->wire.st = NULL;
	slink_free(d->link);
	wire_clear(&d->wire);
}

int main(int argc, char **argv)
{
	static struct netfsd d;
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	int status = 1, r;

	if (options_parse(&args, &d.opts) < 0) {
		status = 2;
		goto out;
	}
	if (d.opts.fuse.show_help) {
		options_usage(argv[0]);
		printf("\nFUSE options:\n");
		fuse_lowlevel_help();
		status = 0;
		goto out;
	}
	if (d.opts.fuse.show_version) {
		printf("netfsd %s\nlibfuse %s\nlibslirp %s\n", NETFS_VERSION, fuse_pkgversion(),
		       slink_version());
		status = 0;
		goto out;
	}
	d.uid = getuid();
	d.gid = getgid();
	fuse_opt_add_arg(&args, "-ofsname=netfs,subtype=netfs");
	raise_fd_limit();
	tune_malloc();
	if (start_network(&d) < 0)
		goto stop;
	r = mount_tree(&d, &args);
	if (r < 0) {
		status = r == -2 ? 2 : 1;
		goto stop;
	}
	/* Only now, with the tree mounted, may the parent exit: `netfsd /net && ls /net/tcp`. */
	if (fuse_daemonize(d.opts.fuse.foreground) != 0)
		goto stop;
	status = loop_run(&d) == 0 ? 0 : 1;
stop:
	stop(&d);
out:
	free(d.opts.fuse.mountpoint);
	fuse_opt_free_args(&args);
	return status;
}
