/* imap-caps.h: the capabilities the worker implements after login, in one
 * place so imap-login's "OK [CAPABILITY ...] Logged in" and the worker's
 * CAPABILITY answer can never disagree. IMAP4rev2 is not claimed: its
 * differences (ENABLE IMAP4rev2 switching responses to the rev2 forms,
 * ESEARCH-only answers, LIST's \NonExistent rules...) are not built,
 * though the extensions it folds in are. APPENDLIMIT has no value here:
 * login advertises before the worker's configured limit is known, so
 * the limit is in STATUS (RFC 7889 3.2). ACL: rights are read with
 * MYRIGHTS/GETACL/LISTRIGHTS and set by the operator (SETACL answers NO);
 * QUOTA has one root, the principal's store. THREAD=REFERENCES is not
 * built. */
#ifndef RD_IMAP_CAPS_H
#define RD_IMAP_CAPS_H
#define IMAP_POST_AUTH_CAPS \
	"IMAP4rev1 LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT " \
	"SPECIAL-USE CHILDREN STATUS=SIZE CONDSTORE QRESYNC ESEARCH SEARCHRES " \
	"LIST-EXTENDED LIST-STATUS APPENDLIMIT BINARY UTF8=ACCEPT " \
	"SORT THREAD=ORDEREDSUBJECT " \
	"COMPRESS=DEFLATE ACL RIGHTS=texk QUOTA QUOTA=RES-STORAGE OBJECTID"
#endif
