/* indexer.h: builds the search text of messages filed without it.
 *
 * A bulk import files messages with text_later (store.h), so the text
 * index (the slow half of filing a message) is built off its path. This
 * module catches up: it reads each waiting message from the store, parses
 * it (src/mime, exactly as deliver does) and gives the store its text.
 * The worker runs it in small turns between its sessions' commands and,
 * in full, before a SEARCH TEXT/BODY that needs it; `redoubt index` runs
 * it from the command line. The message is untrusted input: mime_parse
 * bounds everything it produces. */
#ifndef RD_INDEXER_H
#define RD_INDEXER_H
#include "store/store.h"
#include <stdbool.h>
#include <stddef.h>

/* Indexes up to max (1..RD_STORE_MAX_TEXT_BATCH) waiting messages of the
 * mailbox (0: of the whole store), oldest first, in one store
 * transaction. A SEARCH reads only the mailbox it searches: a grantee's
 * worker never opens the owner's other mail to index it. *done_r is how many it
 * took off the list. Returns 1 when messages may still wait, 0 when none
 * do, -1 with *error_r on failure. A message that cannot be read is
 * taken off the list without text (it would fail again each turn). */
int indexer_step(struct store *st, int64_t mailbox_id, size_t max, size_t *done_r,
		 const char **error_r);

/* Steps until no message of the mailbox (0: of the store) waits. What a
 * SEARCH on the index calls first. *done_r as above, summed. */
int indexer_catch_up(struct store *st, int64_t mailbox_id, size_t *done_r,
		     const char **error_r);

#endif
