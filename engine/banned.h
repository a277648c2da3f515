/*
 * banned.h - library functions recon does not use, made into compile errors
 * (as git's banned.h): unbounded copies and formats, and number parsers that
 * cannot report errors.  Include it last, after every system header.
 */
#ifndef RECON_BANNED_H
#define RECON_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_recon

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atof
#define atof(x) BANNED(atof)
#undef strtok
#define strtok(x, y) BANNED(strtok)

#endif
