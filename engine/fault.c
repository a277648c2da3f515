/*
 * fault.c - crash points (see fault.h).
 *
 * Owns the parsed RECON_FAULT setting and the count of passes through it.
 */
#include "fault.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static pthread_once_t parsed = PTHREAD_ONCE_INIT;
static char want[64];
static long target, passes;

static void parse(void)
{
	const char *env = getenv("RECON_FAULT");
	const char *colon = env ? strchr(env, ':') : NULL;

	if (colon && (size_t)(colon - env) < sizeof(want)) {
		memcpy(want, env, (size_t)(colon - env));
		want[colon - env] = '\0';
		target = strtol(colon + 1, NULL, 10);
	}
}

/* The shards of one ingest pass their points on threads of their own: the
 * count is shared, so the Nth pass of any of them is the one killed. */
void fault_point(const char *name)
{
	(void)pthread_once(&parsed, parse);
	if (target <= 0 || strcmp(name, want) != 0)
		return;
	if (__atomic_add_fetch(&passes, 1, __ATOMIC_SEQ_CST) == target)
		raise(SIGKILL);
}
