/*
 * fault.c - crash points (see fault.h).
 *
 * Owns the parsed RECON_FAULT setting and the count of passes through it.
 */
#include "fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static int parsed;
static char want[64];
static long target, passes;

void fault_point(const char *name)
{
	if (!parsed) {
		const char *env = getenv("RECON_FAULT");
		const char *colon = env ? strchr(env, ':') : NULL;

		parsed = 1;
		if (colon && (size_t)(colon - env) < sizeof(want)) {
			memcpy(want, env, (size_t)(colon - env));
			want[colon - env] = '\0';
			target = strtol(colon + 1, NULL, 10);
		}
	}
	if (target <= 0 || strcmp(name, want) != 0)
		return;
	if (++passes == target)
		raise(SIGKILL);
}
