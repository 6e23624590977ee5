/* tests/compat/diff.c — the differential test of libnetfs-compat.
 *
 * Run once on the kernel's sockets and once with the library against a netfsd mount; every
 * case prints one line, and the two outputs must be identical (run_diff.sh compares them).
 * Everything happens on 127.0.0.1, which is the kernel's loopback in the first run and the
 * namespace's own loopback in the second.  Ports are printed relative to the base port given
 * on the command line ("+3"), ephemeral ports as "eph", addresses by role ("client").
 *
 * usage: diff BASEPORT      run the cases
 *        diff --send-on FD  (used by the exec case) send "exec" on inherited socket FD
 *        diff --where      print what a new TCP socket's fd is (a netfs data file or a
 *                          kernel socket), so a run can prove which one it tested
 */
#include "diff.h"

static int where(void)
{
	char link[64], path[4096];
	int s = tcp(0);
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", s);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 1;
	printf("%.*s\n", (int)n, path);
	return 0;
}

int main(int argc, char **argv)
{
	/* the exec'd half of case_passing: an inherited socket, used after exec */
	if (argc == 3 && strcmp(argv[1], "--send-on") == 0)
		return send(atoi(argv[2]), "exec", 4, 0) == 4 &&
		       getsockopt(atoi(argv[2]), SOL_SOCKET, SO_TYPE, &(int){0},
				  &(socklen_t){sizeof(int)}) == 0 ? 0 : 1;
	if (argc != 2)
		return 2;
	if (strcmp(argv[1], "--where") == 0)
		return where();
	base_port = atoi(argv[1]);
	faults = getenv("DIFF_NO_FAULTS") == NULL;
	next_port = base_port;
	signal(SIGPIPE, SIG_DFL);

	case_accept_checks();
	case_accept_eagain();
	case_accept_signals();
	case_accept_faults();
	case_accept_emfile();
	case_accept_addrlen();
	case_accept_flags();
	case_accept_peer();
	case_listener_readiness();
	case_bind();
	case_listen();
	case_connect();
	case_connect_nonblocking();
	case_connect_retry();
	case_poll_states();
	case_ports();
	case_names();
	case_half_close();
	case_peek_dontwait();
	case_msg();
	case_recv_signals();
	case_unconnected_io();
	case_reset();
	case_sockopts();
	case_fd_sharing();
	case_more_io();
	case_epoll_edge();
	case_passing(argv[0]);
	case_other_families();
	out("done", "");
	return 0;
}
