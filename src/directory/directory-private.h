/* directory-private.h: what the directory's files share (private to
 * src/directory): the open database, for grants.c, which keeps its own
 * statements because grants change and are read far less often than
 * users and aliases. */
#ifndef RD_DIRECTORY_PRIVATE_H
#define RD_DIRECTORY_PRIVATE_H
#include "directory/directory.h"
#include <sqlite3.h>

sqlite3 *directory_db(struct directory *d);

#endif
