/* audit verify: recompute the HMAC chain over the whole events table. */
#include "audit/audit_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct vstate {
	struct audit_hmac *h;
	unsigned char link[AUDIT_LINK_LEN], at_anchor[AUDIT_LINK_LEN];
	unsigned char *cbuf;
	size_t ccap;
	int64_t expect, anchor_seq;
	bool seen_anchor;
};

static void bad(struct audit_verify_result *r, int64_t seq, const char *fmt, const char *detail)
{
	r->ok = false;
	r->first_bad_seq = seq;
	snprintf(r->reason, sizeof r->reason, fmt, detail);
}

/* One row: 0 to continue, 1 when it is the first bad one (r filled), <0 error. */
static int check_row(struct vstate *v, sqlite3_stmt *st, struct audit_verify_result *r)
{
	struct audit_event ev;
	int64_t seq;
	const void *stored;
	int drc = audit_row_event(st, &ev, &seq, &stored);
	if (seq != v->expect) {
		char d[64];
		snprintf(d, sizeof d, "%" PRId64, seq);
		bad(r, v->expect, "sequence missing (row deleted or renumbered; next row present is %s)", d);
		return 1;
	}
	if (drc) {
		bad(r, seq, "%s", "row holds a type, decision or layer no agentsh writes (row edited)");
		return 1;
	}
	if (!stored) {
		bad(r, seq, "%s", "row has no valid link (row edited or inserted)");
		return 1;
	}
	ssize_t n = audit_canon(&ev, seq, &v->cbuf, &v->ccap);
	if (n < 0)
		return (int)n;
	unsigned char want[AUDIT_LINK_LEN];
	if (audit_hmac2(v->h, v->link, AUDIT_LINK_LEN, v->cbuf, (size_t)n, want))
		return -EIO;
	if (memcmp(want, stored, AUDIT_LINK_LEN) != 0) {
		bad(r, seq, "%s", "link mismatch (row edited, inserted or reordered)");
		return 1;
	}
	memcpy(v->link, stored, AUDIT_LINK_LEN);
	if (seq == v->anchor_seq) {
		v->seen_anchor = true;
		if (memcmp(v->link, v->at_anchor, AUDIT_LINK_LEN) != 0) {
			bad(r, seq, "%s", "row differs from the root-only anchor (store rolled back or rewritten)");
			return 1;
		}
	}
	v->expect++;
	return 0;
}

static int scan(struct audit *a, sqlite3 *db, struct vstate *v, int64_t through, struct audit_verify_result *r)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT " AUDIT_ROW_COLUMNS " FROM events WHERE seq > ?1 AND seq <= ?2 "
			       "ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, v->expect - 1);
	sqlite3_bind_int64(st, 2, through < 0 ? INT64_MAX : through);
	int rc = 0, s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		r->events++;
		if ((rc = check_row(v, st, r)))
			break;
	}
	if (!rc && s != SQLITE_DONE)
		rc = audit_seterr(a, -EIO, "audit store %s: reading events failed: %s", a->db_path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc < 0 ? rc : 0;
}

int audit_chain_range(struct audit *a, sqlite3 *db, struct audit_hmac *h, int64_t after,
		      unsigned char link[AUDIT_LINK_LEN], int64_t through, struct audit_verify_result *r)
{
	struct vstate v = { .h = h, .expect = after + 1, .anchor_seq = -1 };
	memcpy(v.link, link, AUDIT_LINK_LEN);
	int rc = scan(a, db, &v, through, r);
	if (!rc && r->ok && through >= 0 && v.expect <= through)
		bad(r, v.expect, "%s", "sequence missing (rows deleted)");
	if (!rc && r->ok)
		memcpy(link, v.link, AUDIT_LINK_LEN);
	free(v.cbuf);
	return rc;
}

/* Where the chain starts: genesis, or the MACed pruned-through record. */
static int chain_start(struct audit *a, struct vstate *v, struct audit_verify_result *r)
{
	struct audit_base b;
	int rc = audit_base_read(a, a->db, v->h, &b);
	if (rc == -EBADMSG) {
		bad(r, b.seq > 0 ? b.seq : 1, "%.200s", a->err);
		return 1;
	}
	if (rc)
		return rc;
	memcpy(v->link, b.link, AUDIT_LINK_LEN);
	v->expect = b.seq + 1;
	r->pruned_through = b.seq;
	r->pruned_events = b.count;
	/* the anchor never trails the base by design (a prune event follows every
	 * prune); when it names the base itself it must carry the base's link */
	if (b.present && v->anchor_seq >= 0 && v->anchor_seq <= b.seq) {
		v->seen_anchor = true;
		if (v->anchor_seq == b.seq && memcmp(v->at_anchor, b.link, AUDIT_LINK_LEN) != 0) {
			bad(r, b.seq, "%s", "the pruned-through record differs from the root-only anchor");
			return 1;
		}
	}
	return 0;
}

int audit_verify(struct audit *a, struct audit_verify_result *r)
{
	memset(r, 0, sizeof *r);
	r->ok = true;
	r->first_bad_seq = -1;
	struct vstate v = { .expect = 1 };
	int rc = audit_db_ready(a);
	rc = rc ? rc : audit_hmac_for(a, &v.h);
	if (rc)
		return rc;
	/* anchor first: it only ever names committed rows, so every row it names
	 * is inside the snapshot the scan reads next */
	rc = audit_anchor_read(a, v.h, &v.anchor_seq, v.at_anchor);
	r->anchor_seq = v.anchor_seq;
	if (rc == -EBADMSG) {
		bad(r, 1, "%s", "the anchor file fails its MAC (anchor edited or key replaced)");
		rc = 0;
		goto out;
	}
	if (rc) {
		rc = audit_seterr(a, rc, "cannot read the audit anchor %s: %s", a->anchor_path, strerror(-rc));
		goto out;
	}
	/* one read transaction: the base record and the rows after it are one snapshot */
	if (sqlite3_exec(a->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		rc = audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(a->db));
		goto out;
	}
	rc = chain_start(a, &v, r);
	rc = rc ? rc : scan(a, a->db, &v, -1, r);
	sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL);
	if (rc > 0)
		rc = 0;
	if (!rc && r->ok && v.anchor_seq > 0 && !v.seen_anchor) {
		char d[64];
		snprintf(d, sizeof d, "%" PRId64, v.anchor_seq);
		bad(r, v.expect, "tail truncated: the store ends here but the anchor records sequence %s", d);
	}
out:
	free(v.cbuf);
	audit_hmac_free(v.h);
	return rc;
}
