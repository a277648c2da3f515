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

/*
 * The terminal progress display: at most four updates a second of one line
 * "FILE: ROWS rows, MB/s, ETA", drawn only when stderr is a terminal and the
 * level lets info through.  log_progress_done clears the line.
 */
void log_progress(const char *file, long long rows, unsigned long long bytes, unsigned long long total);
void log_progress_done(void);

#endif
