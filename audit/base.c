/* The pruned-through record (table chain_base): where the chain resumes
 * after retention removed its oldest part.  One row, MACed with the chain
 * key over its sequence, count, time and the link of the last removed row,
 * so that verify can start from it and nobody without the key can move it. */
#include "audit/audit_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int base_mac(struct audit_hmac *h, const struct audit_base *b, unsigned char mac[AUDIT_LINK_LEN])
{
	char head[128];
	int n = snprintf(head, sizeof head, "agentsh-audit-base-v1 %" PRId64 " %" PRId64 " %" PRId64 " ",
			 b->seq, b->count, b->ts_ns);
	return audit_hmac2(h, head, (size_t)n, b->link, AUDIT_LINK_LEN, mac);
}

static int base_row(struct audit *a, sqlite3_stmt *st, struct audit_hmac *h, struct audit_base *b)
{
	unsigned char want[AUDIT_LINK_LEN];
	b->seq = sqlite3_column_int64(st, 0);
	b->count = sqlite3_column_int64(st, 2);
	b->ts_ns = sqlite3_column_int64(st, 3);
	if (sqlite3_column_bytes(st, 1) != AUDIT_LINK_LEN || sqlite3_column_bytes(st, 4) != AUDIT_LINK_LEN ||
	    b->seq < 1)
		return audit_seterr(a, -EBADMSG, "the pruned-through record is malformed (edited)");
	memcpy(b->link, sqlite3_column_blob(st, 1), AUDIT_LINK_LEN);
	if (base_mac(h, b, want))
		return audit_seterr(a, -EIO, "audit: HMAC computation failed (OpenSSL)");
	if (memcmp(want, sqlite3_column_blob(st, 4), AUDIT_LINK_LEN) != 0)
		return audit_seterr(a, -EBADMSG, "the pruned-through record fails its MAC (edited or forged)");
	b->present = true;
	return 0;
}

int audit_base_read(struct audit *a, sqlite3 *db, struct audit_hmac *h, struct audit_base *b)
{
	sqlite3_stmt *st;
	memset(b, 0, sizeof *b);
	audit_genesis(h, b->link);
	/* not id = 1: a second row slipped in must not go unnoticed */
	if (sqlite3_prepare_v2(db, "SELECT seq, link, count, pruned_ns, mac FROM chain_base", -1, &st, NULL) != SQLITE_OK) {
		/* a read-only look at a schema-1 store: never pruned */
		if (strstr(sqlite3_errmsg(db), "no such table"))
			return 0;
		return audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(db));
	}
	int rc = 0, s, rows = 0;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW)
		rc = ++rows > 1 ? audit_seterr(a, -EBADMSG, "more than one pruned-through record (inserted)")
				: base_row(a, st, h, b);
	if (!rc && s != SQLITE_DONE)
		rc = audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (rc)
		b->present = false;
	return rc;
}

int audit_base_write(struct audit *a, sqlite3 *db, struct audit_hmac *h, const struct audit_base *b)
{
	unsigned char mac[AUDIT_LINK_LEN];
	sqlite3_stmt *st;
	if (base_mac(h, b, mac))
		return audit_seterr(a, -EIO, "audit: HMAC computation failed (OpenSSL)");
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO chain_base(id, seq, link, count, pruned_ns, mac) "
			       "VALUES(1, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, b->seq);
	sqlite3_bind_blob(st, 2, b->link, AUDIT_LINK_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, b->count);
	sqlite3_bind_int64(st, 4, b->ts_ns);
	sqlite3_bind_blob(st, 5, mac, AUDIT_LINK_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 :
		 audit_seterr(a, -EIO, "audit store %s: writing the pruned-through record: %s", a->db_path,
			      sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}
