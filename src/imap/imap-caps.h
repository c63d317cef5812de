/* imap-caps.h: the capabilities the worker implements after login, in one
 * place so imap-login's "OK [CAPABILITY ...] Logged in" and the worker's
 * CAPABILITY answer can never disagree. Both revisions: a session is
 * IMAP4rev1 until ENABLE IMAP4rev2 switches it to the rev2 forms (UTF-8
 * names, ESEARCH for SEARCH, LIST in SELECT's answer, no RECENT).
 * APPENDLIMIT has no value here:
 * login advertises before the worker's configured limit is known, so
 * the limit is in STATUS (RFC 7889 3.2). ACL: MYRIGHTS/GETACL/LISTRIGHTS,
 * and SETACL/DELETEACL by the owner (or an "a" holder), which master
 * writes to the directory and audits; QUOTA has one root, the
 * principal's store. */
#ifndef RD_IMAP_CAPS_H
#define RD_IMAP_CAPS_H
#define IMAP_POST_AUTH_CAPS \
	"IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT " \
	"SPECIAL-USE CREATE-SPECIAL-USE CHILDREN STATUS=SIZE CONDSTORE QRESYNC ESEARCH SEARCHRES " \
	"LIST-EXTENDED LIST-STATUS APPENDLIMIT BINARY UTF8=ACCEPT " \
	"SORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES " \
	"COMPRESS=DEFLATE ACL RIGHTS=texk QUOTA QUOTA=RES-STORAGE OBJECTID"
#endif
