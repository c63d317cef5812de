/* store.c: the store_*() wrappers, which only pick the backend and call
 * through its ops table. Argument checks that do not depend on the backend
 * (ids, NULL handles) live here so every backend gets them. */
#include "store/store.h"
#include "limits.h"

#include <stdlib.h>

static const struct store_ops *backend_of(const struct store_params *params)
{
	return params->backend != NULL ? params->backend : &store_sqlite_ops;
}

int store_create(const struct store_params *params, const char *store_id,
		 const char **error_r)
{
	if (!store_id_valid(store_id)) {
		*error_r = "invalid store id";
		return STORE_INVALID;
	}
	return backend_of(params)->create(params, store_id, error_r);
}

int store_open(const struct store_params *params, const char *store_id,
	       struct store **store_r, const char **error_r)
{
	*store_r = NULL;
	if (!store_id_valid(store_id)) {
		*error_r = "invalid store id";
		return STORE_INVALID;
	}
	return backend_of(params)->open(params, store_id, store_r, error_r);
}

void store_close(struct store **store)
{
	if (*store != NULL)
		(*store)->ops->close(store);
	*store = NULL;
}

void store_release_memory(struct store *s)
{
	if (s != NULL && s->ops->release_memory != NULL)
		s->ops->release_memory(s);
}

int store_mailbox_create(struct store *s, const char *name,
			 enum store_special_use special_use, int64_t *id_r,
			 const char **error_r)
{
	return s->ops->mailbox_create(s, name, special_use, id_r, error_r);
}

int store_mailbox_rename(struct store *s, const char *old_name,
			 const char *new_name, const char **error_r)
{
	return s->ops->mailbox_rename(s, old_name, new_name, error_r);
}

int store_mailbox_delete(struct store *s, const char *name,
			 const char **error_r)
{
	return s->ops->mailbox_delete(s, name, error_r);
}

int store_mailbox_list(struct store *s, store_mailbox_cb *cb, void *ctx,
		       const char **error_r)
{
	return s->ops->mailbox_list(s, cb, ctx, error_r);
}

int store_mailbox_get(struct store *s, const char *name,
		      struct store_mailbox_info *info_r, const char **error_r)
{
	return s->ops->mailbox_get(s, name, info_r, error_r);
}

int store_append(struct store *s, int64_t mailbox_id,
		 const struct store_append *msg, uint32_t *uid_r,
		 uint64_t *modseq_r, const char **error_r)
{
	return s->ops->append(s, mailbox_id, msg, uid_r, modseq_r, error_r);
}

int store_append_batch(struct store *s, int64_t mailbox_id,
		       const struct store_append *msgs, size_t n,
		       uint32_t *uids_r, uint64_t *modseqs_r,
		       const char **error_r)
{
	if (n > 0 && (msgs == NULL || uids_r == NULL || modseqs_r == NULL)) {
		*error_r = "no messages";
		return STORE_INVALID;
	}
	return s->ops->append_batch(s, mailbox_id, msgs, n, uids_r, modseqs_r,
				    error_r);
}

int store_append_packed(struct store *s, int64_t mailbox_id,
			const struct store_append *msgs, size_t n,
			uint32_t *uids_r, uint64_t *modseqs_r,
			const char **error_r)
{
	if (n > 0 && (msgs == NULL || uids_r == NULL || modseqs_r == NULL)) {
		*error_r = "no messages";
		return STORE_INVALID;
	}
	return s->ops->append_packed(s, mailbox_id, msgs, n, uids_r, modseqs_r,
				     error_r);
}

int store_fetch(struct store *s, int64_t mailbox_id, uint32_t uid_first,
		uint32_t uid_last, store_message_cb *cb, void *ctx,
		const char **error_r)
{
	return s->ops->fetch(s, mailbox_id, uid_first, uid_last, cb, ctx,
			     error_r);
}

int store_message_open(struct store *s, int64_t mailbox_id, uint32_t uid,
		       int *fd_r, uint64_t *offset_r, uint64_t *size_r, const char **error_r)
{
	*fd_r = -1;
	*offset_r = 0;
	return s->ops->message_open(s, mailbox_id, uid, fd_r, offset_r, size_r, error_r);
}

int store_flags_update(struct store *s, int64_t mailbox_id,
		       uint32_t uid_first, uint32_t uid_last,
		       const struct store_flag_change *change,
		       store_message_cb *changed_cb, void *ctx,
		       uint64_t *modseq_r, const char **error_r)
{
	return s->ops->flags_update(s, mailbox_id, uid_first, uid_last, change,
				    changed_cb, ctx, modseq_r, error_r);
}

int store_expunge(struct store *s, int64_t mailbox_id, uint32_t uid_first,
		  uint32_t uid_last, struct store_uids *expunged_r,
		  const char **error_r)
{
	expunged_r->uids = NULL;
	expunged_r->count = 0;
	return s->ops->expunge(s, mailbox_id, uid_first, uid_last, expunged_r,
			       error_r);
}

int store_copy(struct store *s, int64_t src_mailbox_id, uint32_t uid_first,
	       uint32_t uid_last, int64_t dst_mailbox_id, bool move,
	       struct store_copy_result *result_r, const char **error_r)
{
	*result_r = (struct store_copy_result){ 0 };
	return s->ops->copy(s, src_mailbox_id, uid_first, uid_last,
			    dst_mailbox_id, move, result_r, error_r);
}

int store_gc(struct store *s, unsigned *removed_r, const char **error_r)
{
	*removed_r = 0;
	return s->ops->gc(s, removed_r, error_r);
}

int store_gc_removed(struct store *s, unsigned *removed_r, const char **error_r)
{
	*removed_r = 0;
	return s->ops->gc_removed(s, removed_r, error_r);
}

int store_search_text(struct store *s, int64_t mailbox_id,
		      enum store_text_part part, const char *needle,
		      size_t needle_len, struct store_uids *uids_r,
		      const char **error_r)
{
	uids_r->uids = NULL;
	uids_r->count = 0;
	if (needle == NULL && needle_len > 0) {
		*error_r = "no needle";
		return STORE_INVALID;
	}
	return s->ops->search_text(s, mailbox_id, part, needle, needle_len,
				   uids_r, error_r);
}

int store_text_pending(struct store *s, int64_t mailbox_id, size_t max,
		       struct store_text_pending *items_r, size_t *n_r, const char **error_r)
{
	*n_r = 0;
	if (max == 0 || max > RD_STORE_MAX_TEXT_BATCH) {
		*error_r = "bad text batch size";
		return STORE_INVALID;
	}
	return s->ops->text_pending(s, mailbox_id, max, items_r, n_r, error_r);
}

int store_text_add(struct store *s, const struct store_text_add *items, size_t n,
		   const char **error_r)
{
	if (n > RD_STORE_MAX_TEXT_BATCH) {
		*error_r = "bad text batch size";
		return STORE_INVALID;
	}
	return n == 0 ? STORE_OK : s->ops->text_add(s, items, n, error_r);
}

int store_text_pending_count(struct store *s, int64_t mailbox_id, uint64_t *count_r,
			     const char **error_r)
{
	*count_r = 0;
	return s->ops->text_pending_count(s, mailbox_id, count_r, error_r);
}

int store_mailbox_state(struct store *s, const char *name,
			struct store_mailbox_state *st_r, const char **error_r)
{
	return s->ops->mailbox_state(s, name, st_r, error_r);
}

int store_fetch_state(struct store *s, int64_t mailbox_id, store_message_cb *cb,
		      void *ctx, const char **error_r)
{
	return s->ops->fetch_state(s, mailbox_id, cb, ctx, error_r);
}

int store_fetch_changed(struct store *s, int64_t mailbox_id, uint64_t since_modseq,
			store_message_cb *cb, void *ctx, const char **error_r)
{
	return s->ops->fetch_changed(s, mailbox_id, since_modseq, cb, ctx, error_r);
}

int store_recent_claim(struct store *s, int64_t mailbox_id, uint32_t *first_r,
		       uint32_t *last_r, const char **error_r)
{
	return s->ops->recent_claim(s, mailbox_id, first_r, last_r, error_r);
}

int store_expunged_since(struct store *s, int64_t mailbox_id, uint64_t modseq,
			 uint32_t uid_first, uint32_t uid_last,
			 struct store_uids *uids_r, const char **error_r)
{
	uids_r->uids = NULL;
	uids_r->count = 0;
	return s->ops->expunged_since(s, mailbox_id, modseq, uid_first, uid_last, uids_r,
				      error_r);
}

void store_uids_free(struct store_uids *uids)
{
	free(uids->uids);
	uids->uids = NULL;
	uids->count = 0;
}

void store_copy_result_free(struct store_copy_result *res)
{
	store_uids_free(&res->src);
	store_uids_free(&res->dst);
}
