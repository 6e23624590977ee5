/* The command line shared by lt_sock and lt_files. */
#include "lt.h"

#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s serve PORT [ADDR]   (ADDR 127.0.0.1 unless given)\n"
		"       %s rtt HOST PORT SECONDS\n"
		"       %s cps HOST PORT SECONDS THREADS\n"
		"       %s send|recv HOST PORT SECONDS\n"
		"       %s scale HOST PORT SECONDS LEVEL[,LEVEL...] [RSS_PID]\n",
		prog, prog, prog, prog, prog);
	exit(2);
}

static long number(const char *prog, const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max) {
		warnx("bad number: %s", s);
		usage(prog);
	}
	return v;
}

static double seconds(const char *prog, const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v > 0 && v < 3600)) {
		warnx("bad duration: %s", s);
		usage(prog);
	}
	return v;
}

int lt_cli(const char *prog, int argc, char **argv, const struct lt_transport *t)
{
	/* a vanished peer must show as an error from write, not kill the tool */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((argc == 2 || argc == 3) && strcmp(argv[0], "serve") == 0)
		return lt_serve(t, argc == 3 ? argv[2] : "127.0.0.1",
				(int)number(prog, argv[1], 1, 65535));
	if (argc < 4)
		usage(prog);
	const char *cmd = argv[0], *host = argv[1];
	int port = (int)number(prog, argv[2], 1, 65535);
	double secs = seconds(prog, argv[3]);

	if (argc == 4 && strcmp(cmd, "rtt") == 0)
		return lt_rtt(t, host, port, secs);
	if (argc == 5 && strcmp(cmd, "cps") == 0)
		return lt_cps(t, host, port, secs, (int)number(prog, argv[4], 1, 64));
	if (argc == 4 && strcmp(cmd, "send") == 0)
		return lt_send(t, host, port, secs);
	if (argc == 4 && strcmp(cmd, "recv") == 0)
		return lt_recv(t, host, port, secs);
	if ((argc == 5 || argc == 6) && strcmp(cmd, "scale") == 0)
		return lt_scale(t, host, port, secs, argv[4],
				argc == 6 ? (int)number(prog, argv[5], 1, 1 << 30) : -1);
	usage(prog);
	return 2;
}
