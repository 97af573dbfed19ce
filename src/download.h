/* download.h - the one atomic download-to-file of ctct.core (download.c),
 * shared by the libcurl transport (http.c's `sink`) and, through
 * core.open_part, the nginx transport. */
#ifndef CTCT_DOWNLOAD_H
#define CTCT_DOWNLOAD_H

#include <stddef.h>

#include "compat.h"

typedef struct ctct_part ctct_part_t;

/* Create "<path>.part" (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600). NULL and a
 * message in err when it cannot be made safely. */
ctct_part_t *ctct_part_open(const char *path, char *err, size_t errlen);

/* Append n bytes. 1 on success, 0 on failure (see ctct_part_error). */
int ctct_part_write(ctct_part_t *p, const char *data, size_t n);

/* Bytes written so far; the ".part" file's name; the last failure's message. */
long long ctct_part_bytes(const ctct_part_t *p);
const char *ctct_part_name(const ctct_part_t *p);
const char *ctct_part_error(const ctct_part_t *p);

/* fsync, close, rename over the destination, fsync its directory; on failure
 * the ".part" is removed and err says why. Frees p. 1 | 0. */
int ctct_part_commit(ctct_part_t *p, char *err, size_t errlen);

/* Close and remove the ".part" file. Frees p; NULL is allowed. */
void ctct_part_abort(ctct_part_t *p);

/* core.open_part(path) -> part | nil, err (methods write, commit, abort, bytes, name). */
void ctct_open_download(lua_State *L);

#endif
