/* version.h - the library version, single source for C and Lua (core.VERSION). */
#ifndef CTCT_VERSION_H
#define CTCT_VERSION_H
#define CTCT_VERSION "0.1.0"
#endif
