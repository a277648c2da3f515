/*
 * inifile.h - reading INI files (profiles, jobs) with libinih, line by line.
 *
 * libinih's own file reader reports neither the line of a key to its handler nor
 * the empty sections, and cuts long lines silently; this reader counts lines,
 * refuses a line longer than libinih takes, and shows every "[section]" line to
 * its owner, so that each message can name the file and line.
 */
#ifndef RECON_INIFILE_H
#define RECON_INIFILE_H

#include <stddef.h>

#define INIFILE_MAX (256 * 1024)  /* bytes of one INI file */
#define INIFILE_LINE_MAX 198      /* libinih's INI_MAX_LINE (200) less newline and NUL */

struct inifile {
	const char *text;   /* the file's bytes */
	size_t pos, size;
	int line;           /* the line being handled */
	/* Called for each "[name]" line and for a line that is too long (NAME NULL). */
	void (*on_line)(void *owner, const char *section);
	void *owner;
};

/*
 * Read the whole file at PATH (at most INIFILE_MAX bytes) into a NUL-terminated
 * buffer the caller frees.  Returns 0, or -1 with "PATH: why" in ERR.
 */
int inifile_read(const char *path, char **text, size_t *len, char *err, size_t errlen);

/* The ini_reader to give ini_parse_stream, with a struct inifile as its stream. */
char *inifile_reader(char *buf, int size, void *stream);

/* "PATH:LINE: MSG" into ERR, or "PATH: MSG" for line 0 (the file as a whole). */
void inifile_message(char *err, size_t errlen, const char *path, int line, const char *msg);

#endif
