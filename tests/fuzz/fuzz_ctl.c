/* tests/fuzz/fuzz_ctl.c — fuzz target: any bytes as one write to a ctl file.
 *
 * Oracle besides the sanitizers (libFuzzer hands over a buffer of exactly `size` bytes, so
 * any read past len is caught): a rejected command is -EINVAL with an error text; an
 * accepted one names its verb in its first word and carries values inside the ranges the
 * grammar in fs/ctl.h promises.  The address parsers get the same bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl.h"

static void broken(const char *why, const uint8_t *data, size_t size)
{
	fprintf(stderr, "fuzz_ctl: %s; input (%zu bytes): \"", why, size);
	for (size_t i = 0; i < size && i < 200; i++)
		fprintf(stderr, data[i] >= 0x20 && data[i] < 0x7f ? "%c" : "\\x%02x", data[i]);
	fprintf(stderr, "\"\n");
	abort();
}

static bool is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first blank-separated word equals the verb's name. */
static bool first_word_is(const uint8_t *d, size_t n, const char *name)
{
	size_t i = 0;
	while (i < n && is_blank(d[i]))
		i++;
	size_t start = i;
	while (i < n && !is_blank(d[i]))
		i++;
	return i - start == strlen(name) && memcmp(d + start, name, i - start) == 0;
}

static void check_accepted(const struct ctl_cmd *c, const uint8_t *d, size_t n)
{
	const char *name = ctl_verb_name(c->verb);
	if (!name)
		broken("accepted command has a verb without a name", d, n);
	if (n > CTL_MAX_LEN)
		broken("accepted a command longer than CTL_MAX_LEN", d, n);
	if (!first_word_is(d, n, name))
		broken("accepted command's first word is not its verb", d, n);
	switch (c->verb) {
	case CTL_CONNECT:
		if (c->addr.port == 0 || c->addr.any_ip)
			broken("connect accepted without a remote ip and port", d, n);
		break;
	case CTL_SHUTDOWN:
		if (c->how != SHUT_RD && c->how != SHUT_WR && c->how != SHUT_RDWR)
			broken("shutdown accepted with a bad direction", d, n);
		break;
	case CTL_BACKLOG:
	case CTL_KEEPALIVE:
		if (c->value < 0)
			broken("negative backlog/keepalive accepted", d, n);
		break;
	case CTL_NODELAY:
		if (c->value != 0 && c->value != 1)
			broken("nodelay accepted with a value other than 0/1", d, n);
		break;
	case CTL_TTL:
	case CTL_TOS:
		if (c->value < 0 || c->value > 255)
			broken("ttl/tos accepted out of 0..255", d, n);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_cmd cmd;
	const char *errtext = NULL;
	int rc = ctl_parse((const char *)data, size, &cmd, &errtext);
	if (rc == 0)
		check_accepted(&cmd, data, size);
	else if (rc != -EINVAL || !errtext || !errtext[0])
		broken("rejected command without -EINVAL and an error text", data, size);

	struct ctl_addr a;
	rc = ctl_parse_raddr((const char *)data, size, &a);
	if (rc == 0 && (a.port == 0 || a.any_ip))
		broken("remote address accepted without ip or port", data, size);
	if (rc != 0 && rc != -EINVAL)
		broken("ctl_parse_raddr returned neither 0 nor -EINVAL", data, size);
	rc = ctl_parse_laddr((const char *)data, size, &a);
	if (rc != 0 && rc != -EINVAL)
		broken("ctl_parse_laddr returned neither 0 nor -EINVAL", data, size);
	return 0;
}
