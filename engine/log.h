/*
 * log.h - one line per event on stderr: level=... msg="..." key=value ...
 *
 * Quiet by default when stderr is not a terminal (cron): only warnings and errors.
 * Values are quoted when they hold spaces, '=', '"' or control characters.
 */
#ifndef RECON_LOG_H
#define RECON_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Set the threshold; events below it are dropped. */
void log_set_level(enum log_level level);
/* Pick the default threshold: INFO on a terminal, WARN otherwise. */
void log_init(void);

/*
 * Write one event: MSG, then KEY, VALUE string pairs terminated by LOG_END.
 * A NULL value is skipped.  Never fails (a failed write to stderr is ignored,
 * as there is nowhere left to report it).
 */
void log_event(enum log_level level, const char *msg, ...) __attribute__((sentinel));

/* The key list's terminator (a typed null pointer, as variadic calls need). */
#define LOG_END ((const char *)NULL)

#endif
