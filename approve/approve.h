/* approve — approvals a human gives and an agent cannot forge.
 *
 * An `approve` policy decision holds an operation (exec, file, unix socket,
 * network, signal) while a human decides.  The enforcement supervisor hands the
 * request to a per-session broker with approve_submit() from its notify thread
 * and is called back exactly once with the answer.  Humans answer either inline
 * on the session's outer terminal (approve_prompt_*) or from another terminal
 * through the broker's unix socket (`agentsh approve`, approve_cli()).  Every
 * approving answer carries proof the agent cannot produce: a TOTP code (liboath,
 * RFC 6238, replay-protected) or a FIDO2 assertion (libfido2) whose challenge is
 * derived from the request itself.  Timeout, session end and every error deny.
 *
 * Errors: functions return 0 or -errno; where a human needs to know why, a
 * message is written to the caller's buffer (what failed, on what, what to do).
 */
#ifndef AGENTSH_APPROVE_H
#define AGENTSH_APPROVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define APPROVE_DEFAULT_DIR        "/etc/agentsh/approvers"
#define APPROVE_DEFAULT_SOCKET_DIR "/run/agentsh/approve"
#define APPROVE_DEFAULT_TIMEOUT_MS 300000u
#define APPROVE_DEFAULT_MAX_PENDING 10u
#define APPROVE_ID_MAX 48
#define APPROVE_RP_ID "agentsh"

enum approve_op {
	APPROVE_OP_EXEC = 0,
	APPROVE_OP_FILE,
	APPROVE_OP_UNIX,
	APPROVE_OP_NET,
	APPROVE_OP_SIGNAL,
};

enum approve_verdict {
	APPROVE_ONCE = 1,       /* this operation, this time */
	APPROVE_SESSION,        /* this operation on this target, for the rest of the session */
	APPROVE_DENY,
	APPROVE_TIMEOUT,        /* nobody answered in time: a deny */
};

enum approve_method {
	APPROVE_M_NONE = 0,     /* no human proof (limit reached, session end, timeout) */
	APPROVE_M_TOTP,
	APPROVE_M_WEBAUTHN,
	APPROVE_M_CONFIRM,      /* y/n, only for sessions configured human-only */
	APPROVE_M_GRANT,        /* an earlier "approve for session" covered it */
};

/* What is being asked.  approve_submit() copies everything it keeps. */
struct approve_request {
	char id[APPROVE_ID_MAX];        /* empty: approve_submit() assigns "apr-<session>-<n>" */
	const char *session;            /* NULL: the broker's session */
	enum approve_op op;
	const char *target;             /* path, address, socket path, "SIG pid" ... */
	const char *cmdline;            /* the command line the human typed, if known */
	pid_t pid;                      /* the process that asked */
	char *const *argv;              /* its argv (NULL-terminated, may be NULL) */
	const char *rule;               /* policy rule name */
	const char *message;            /* the rule's rendered message */
	unsigned timeout_ms;            /* 0: the broker's default */
};

struct approve_answer {
	const char *id;
	enum approve_verdict verdict;
	enum approve_method method;
	const char *approver;           /* enrolled approver name ("" if none) */
	uid_t approver_uid;             /* (uid_t)-1: answered on the session's terminal */
	const char *via;                /* "tty", "socket", "grant", "broker" */
	unsigned long wait_ms;
	/* Stable error code for JSON results: NULL when approved, else
	 * "E_APPROVAL_DENIED", "E_APPROVAL_TIMEOUT", "E_APPROVAL_LIMIT",
	 * "E_APPROVAL_SESSION_END", "E_APPROVAL_NO_APPROVER" or
	 * "E_APPROVAL_UNAVAILABLE" (the timer or socket server could not start). */
	const char *error_code;
	const char *reason;             /* one line for the human */
};

static inline bool approve_answer_allows(const struct approve_answer *a)
{
	return a->verdict == APPROVE_ONCE || a->verdict == APPROVE_SESSION;
}

struct approve_broker;

/* Who may answer, and how (approvals.accounts / approvals.rules in the
 * configuration).  A request is answerable by an approver and a method that
 * both its account's scope and its rule's scope allow (absent scope or list:
 * no restriction).  confirm is honoured only when allow_confirm is set.  An
 * empty intersection, or a named approver that is not enrolled, denies the
 * request at once (E_APPROVAL_NO_APPROVER) with the reason. */
struct approve_scope {
	const char *name;               /* account or rule name */
	const char *const *methods;     /* "totp", "webauthn", "confirm"; NULL: any; NULL-terminated */
	const char *const *approvers;   /* enrolled approver names; NULL: any; NULL-terminated */
};

struct approve_config {
	const char *session;            /* session id (required; [A-Za-z0-9._-]) */
	uid_t session_uid;              /* the session's account: never an approver */
	const char *approvers_dir;      /* NULL: APPROVE_DEFAULT_DIR */
	const char *socket_dir;         /* NULL: APPROVE_DEFAULT_SOCKET_DIR; "" no socket */
	unsigned default_timeout_ms;    /* 0: APPROVE_DEFAULT_TIMEOUT_MS */
	unsigned max_pending;           /* 0: APPROVE_DEFAULT_MAX_PENDING */
	unsigned totp_window;           /* steps accepted either side of now; 0: 1 */
	unsigned fail_limit;            /* failed proofs per minute per session; 0: 5 */
	bool allow_confirm;             /* human-only session: plain y/n accepted inline */
	/* Unix accounts allowed to answer over the socket in addition to accounts
	 * named like an enrolled approver.  NULL-terminated, may be NULL. */
	const char *const *approver_accounts;
	/* Restrictions (see struct approve_scope); all optional.  account names
	 * the session's account, matched against account_scopes[].name. */
	const char *account;
	const struct approve_scope *account_scopes;
	size_t naccount_scopes;
	const struct approve_scope *rule_scopes;
	size_t nrule_scopes;
	/* Called (from the submitting thread, without broker locks held) when a
	 * request starts waiting for a human, and when it is resolved; the shell
	 * uses them to raise and drop the inline prompt.  Optional. */
	void (*on_pending)(void *ctx, const struct approve_request *req);
	void (*on_resolved)(void *ctx, const struct approve_answer *ans);
	void *hook_ctx;
	/* Audit (audit/audit.h, optional): every request, answer, failed proof and
	 * timeout becomes an "approval" event. */
	struct audit *audit;
};

typedef void (*approve_done_fn)(void *ctx, const struct approve_answer *ans);

/* Create the broker.  Its timer thread and (unless socket_dir is "") the
 * server of <socket_dir>/<session>.sock for remote approvers start with the
 * first request that waits for a human; if they cannot, that request is
 * denied with E_APPROVAL_UNAVAILABLE and the reason. */
int approve_broker_new(const struct approve_config *cfg, struct approve_broker **out,
		       char *err, size_t errlen);
/* Deny everything still pending (E_APPROVAL_SESSION_END), stop, free. NULL ok. */
void approve_broker_free(struct approve_broker *b);
/* Deny everything pending now (session end) but keep the broker. */
void approve_broker_end_session(struct approve_broker *b);

/* Never blocks on a human.  done(ctx, ans) is called exactly once: synchronously
 * before approve_submit returns when a session grant covers the request, the
 * pending limit is reached or no approver is enrolled; otherwise later from a
 * broker thread (answer, timeout, session end).  If req->id was empty it is
 * filled in.  Returns 0, or -errno when the request is malformed (done is then
 * not called and the caller must deny). */
int approve_submit(struct approve_broker *b, struct approve_request *req,
		   approve_done_fn done, void *ctx);

/* true when an earlier "approve for session" covers op on target. */
bool approve_session_lookup(struct approve_broker *b, enum approve_op op, const char *target);

/* Proof that comes with an approving answer. */
struct approve_proof {
	enum approve_method method;
	const char *totp_code;          /* APPROVE_M_TOTP */
	const char *assertion_json;     /* APPROVE_M_WEBAUTHN: approve_webauthn_sign() output */
};

/* Who answers: uid (uid_t)-1 and via "tty" for the session's own terminal. */
struct approve_actor {
	uid_t uid;
	const char *via;
};

/* Resolve a pending request.  APPROVE_ONCE/APPROVE_SESSION need a valid proof;
 * APPROVE_DENY needs none.  Returns 0; -ENOENT (no such pending id), -EACCES
 * (wrong code/assertion: the request stays pending), -EBUSY (too many failed
 * proofs: wait), -EPERM (this actor may not approve), -EINVAL. */
int approve_resolve(struct approve_broker *b, const char *id, enum approve_verdict v,
		    const struct approve_proof *proof, const struct approve_actor *who,
		    char *err, size_t errlen);

/* Snapshot of what is pending, as a JSON array (malloc'd string, free()). */
char *approve_pending_json(struct approve_broker *b);
/* How many requests are waiting. */
size_t approve_pending_count(struct approve_broker *b);

/* Stable names (for JSON and audit). */
const char *approve_op_name(enum approve_op op);
int approve_op_parse(const char *s, enum approve_op *out);
const char *approve_verdict_name(enum approve_verdict v);
const char *approve_method_name(enum approve_method m);
/* APPROVE_M_TOTP/WEBAUTHN/CONFIRM from "totp"/"webauthn"/"confirm"; -EINVAL otherwise. */
int approve_method_parse(const char *s, enum approve_method *out);

/* The request's canonical serialisation's SHA-256: the FIDO2 clientDataHash.
 * Covers id, session, op, target and rule, so one request's signature cannot
 * approve another. */
int approve_request_digest(const char *id, const char *session, enum approve_op op,
			   const char *target, const char *rule, unsigned char out[32]);

/* ---- approver store (root only) ---- */

/* `agentsh approver add NAME --totp [--secret B32] | --webauthn [--device D]`,
 * `agentsh approver list [--json]`, `agentsh approver remove NAME`.
 * argv[0] is "approver".  Returns the process exit status. */
int approve_approver_cli(int argc, char **argv);

/* ---- remote approver client ---- */

/* `agentsh approve [list|show ID|allow ID [--session]|deny ID] [--json]
 *  [--code CODE | --webauthn [--device D]] [--socket-dir DIR]`,
 * `agentsh approve --remote user@host ...`, and the ssh-side helper
 * `agentsh approve --serve-remote`.  argv[0] is "approve".  Exit status. */
int approve_cli(int argc, char **argv);

/* FIDO2 signing on the approver's machine: given the challenge JSON of one
 * request (approve show --json), open the authenticator (device: a hidraw
 * path, "unix:/path" for a software authenticator, NULL: the first one found),
 * ask for a touch and return the assertion JSON (malloc'd).  */
int approve_webauthn_sign(const char *challenge_json, const char *device,
			  char **assertion_json, char *err, size_t errlen);

/* ---- inline prompt on the outer terminal ---- */

struct approve_prompt;

enum approve_prompt_state {
	APPROVE_PROMPT_OPEN = 0,        /* still reading keys */
	APPROVE_PROMPT_SUBMITTED,       /* an answer was sent to the broker and accepted */
	APPROVE_PROMPT_REJECTED,        /* last answer refused (wrong code): still open */
	APPROVE_PROMPT_CLOSED,          /* request resolved elsewhere (timeout, remote) */
};

/* A prompt for one pending request, drawn on out_fd (the outer terminal).
 * rows/cols: the outer terminal's size. */
int approve_prompt_new(struct approve_broker *b, const struct approve_request *req,
		       int out_fd, int rows, int cols, struct approve_prompt **out);
void approve_prompt_free(struct approve_prompt *p);
/* Draw (or redraw: call once a second for the countdown). */
int approve_prompt_draw(struct approve_prompt *p);
/* Feed bytes read from the outer terminal.  Enter submits: "123456" approves
 * once, "123456s" approves for the session, "d" denies, "t" starts a FIDO2
 * touch on a local authenticator ("ts": for the session), "y"/"n" when
 * confirm is allowed.  Returns the new state. */
enum approve_prompt_state approve_prompt_feed(struct approve_prompt *p, const char *buf, size_t n);
/* The request was resolved by someone else (on_resolved): stop reading. */
void approve_prompt_close(struct approve_prompt *p);
const char *approve_prompt_id(const struct approve_prompt *p);
/* The outer terminal changed size: the next draw uses it. */
void approve_prompt_resize(struct approve_prompt *p, int rows, int cols);
/* Erase the prompt (clear the screen). */
int approve_prompt_erase(struct approve_prompt *p);
/* Erase the prompt and repaint the inner screen from the shell's libvterm
 * model (pty_screen_redraw), which also shows any sandbox output that was held
 * back while the prompt was up (fed to the model, not to the terminal). */
struct pty_screen;
int approve_prompt_restore(struct approve_prompt *p, const struct pty_screen *inner);

/* ---- the prompts of one outer terminal, for the shell's relay loop ----
 *
 *   approve_tty_new(outer_fd, &t);
 *   cfg.on_pending = approve_tty_on_pending; cfg.on_resolved = approve_tty_on_resolved;
 *   cfg.hook_ctx = t;  approve_broker_new(&cfg, &b, ...);  approve_tty_attach(t, b);
 *   relay loop: poll approve_tty_wake_fd(t) too, with timeout approve_tty_timeout_ms(t);
 *     on wake or timeout: approve_tty_service(t, screen, rows, cols);
 *     keyboard bytes: approve_tty_active(t) ? approve_tty_feed(t, buf, n, screen, rows, cols)
 *                                          : write them to the inner master;
 *     master output: pty_screen_feed(screen, ...); write it out only if !approve_tty_active(t)
 *       (held output is shown when the prompt ends: the screen is redrawn from the model).
 * See docs/approvals.md. */
struct approve_tty;
int approve_tty_new(int out_fd, struct approve_tty **out);
void approve_tty_attach(struct approve_tty *t, struct approve_broker *b);
void approve_tty_free(struct approve_tty *t);
void approve_tty_on_pending(void *tty, const struct approve_request *req);  /* broker hook, any thread */
void approve_tty_on_resolved(void *tty, const struct approve_answer *ans);  /* broker hook, any thread */
int approve_tty_wake_fd(const struct approve_tty *t);
int approve_tty_timeout_ms(const struct approve_tty *t);                    /* -1: none needed */
/* Raise the next prompt, redraw the countdown, drop a prompt answered
 * elsewhere (restoring inner).  Returns true while a prompt is up. */
bool approve_tty_service(struct approve_tty *t, const struct pty_screen *inner, int rows, int cols);
bool approve_tty_active(const struct approve_tty *t);
void approve_tty_feed(struct approve_tty *t, const char *buf, size_t n, const struct pty_screen *inner,
		      int rows, int cols);
/* SIGWINCH while a prompt is up: redraw it at the new size (the inner screen
 * model is resized by the caller as usual). */
void approve_tty_resize(struct approve_tty *t, int rows, int cols);

#endif
