/* Inline prompts for one outer terminal: a queue of requests waiting for a
 * human, one prompt up at a time.  The broker's hooks (any thread) only queue
 * and poke an eventfd; everything that touches the terminal runs in the
 * shell's relay thread through approve_tty_service()/approve_tty_feed(). */
#include "approve/approve_int.h"
#include "pty/pty.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

struct queued {
	struct queued *next;
	struct approve_request req;     /* strings owned */
	bool resolved;
};

struct approve_tty {
	pthread_mutex_t mu;
	int efd, out_fd;
	struct approve_broker *b;
	struct queued *q;               /* FIFO */
	struct approve_prompt *cur;
	char cur_id[APPROVE_ID_MAX];
	bool cur_resolved;
	uint64_t last_draw;
};

static void queued_free(struct queued *e)
{
	if (!e)
		return;
	free((char *)e->req.session);
	free((char *)e->req.target);
	free((char *)e->req.cmdline);
	free((char *)e->req.rule);
	free((char *)e->req.message);
	for (char *const *a = e->req.argv; a && *a; a++)
		free(*a);
	free((void *)e->req.argv);
	free(e);
}

static struct queued *queued_new(const struct approve_request *r)
{
	struct queued *e = calloc(1, sizeof(*e));
	size_t n = 0;
	char **argv;

	if (!e)
		return NULL;
	e->req = *r;
	e->req.session = strdup(r->session ? r->session : "");
	e->req.target = strdup(r->target ? r->target : "");
	e->req.cmdline = strdup(r->cmdline ? r->cmdline : "");
	e->req.rule = strdup(r->rule ? r->rule : "");
	e->req.message = strdup(r->message ? r->message : "");
	while (r->argv && r->argv[n])
		n++;
	argv = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; argv && i < n; i++)
		argv[i] = strdup(r->argv[i]);
	e->req.argv = argv;
	if (!e->req.session || !e->req.target || !e->req.cmdline || !e->req.rule || !e->req.message || !argv) {
		queued_free(e);
		return NULL;
	}
	return e;
}

int approve_tty_new(int out_fd, struct approve_tty **out)
{
	struct approve_tty *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return -ENOMEM;
	if ((t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		int e = errno;
		free(t);
		return -e;
	}
	pthread_mutex_init(&t->mu, NULL);
	t->out_fd = out_fd;
	*out = t;
	return 0;
}

void approve_tty_attach(struct approve_tty *t, struct approve_broker *b)
{
	t->b = b;
}

void approve_tty_free(struct approve_tty *t)
{
	if (!t)
		return;
	approve_prompt_free(t->cur);
	while (t->q) {
		struct queued *e = t->q;
		t->q = e->next;
		queued_free(e);
	}
	close(t->efd);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

int approve_tty_wake_fd(const struct approve_tty *t)
{
	return t->efd;
}

static void poke(struct approve_tty *t)
{
	uint64_t one = 1;

	(void)!write(t->efd, &one, sizeof(one));
}

void approve_tty_on_pending(void *ctx, const struct approve_request *r)
{
	struct approve_tty *t = ctx;
	struct queued *e = queued_new(r), **pp;

	if (!e)
		return;         /* no prompt: the request still times out (deny) or is answered remotely */
	pthread_mutex_lock(&t->mu);
	for (pp = &t->q; *pp; pp = &(*pp)->next)
		;
	*pp = e;
	pthread_mutex_unlock(&t->mu);
	poke(t);
}

void approve_tty_on_resolved(void *ctx, const struct approve_answer *a)
{
	struct approve_tty *t = ctx;

	pthread_mutex_lock(&t->mu);
	for (struct queued *e = t->q; e; e = e->next)
		if (strcmp(e->req.id, a->id) == 0)
			e->resolved = true;
	if (strcmp(t->cur_id, a->id) == 0)
		t->cur_resolved = true;
	pthread_mutex_unlock(&t->mu);
	poke(t);
}

bool approve_tty_active(const struct approve_tty *t)
{
	return t && t->cur != NULL;
}

int approve_tty_timeout_ms(const struct approve_tty *t)
{
	return approve_tty_active(t) ? 1000 : -1;
}

static void finish_current(struct approve_tty *t, const struct pty_screen *inner)
{
	approve_prompt_restore(t->cur, inner);
	approve_prompt_free(t->cur);
	t->cur = NULL;
	pthread_mutex_lock(&t->mu);
	t->cur_id[0] = 0;
	t->cur_resolved = false;
	pthread_mutex_unlock(&t->mu);
}

/* Next request still pending, unlinked; caller owns it.  (A request can be
 * answered before its on_pending hook queued it: ask the broker.) */
static struct queued *next_request(struct approve_tty *t)
{
	struct queued *e;

	pthread_mutex_lock(&t->mu);
	while ((e = t->q) && (e->resolved || !ap_broker_is_pending(t->b, e->req.id))) {
		t->q = e->next;
		queued_free(e);
	}
	if (e) {
		t->q = e->next;
		memcpy(t->cur_id, e->req.id, sizeof(t->cur_id));
		t->cur_resolved = false;
	}
	pthread_mutex_unlock(&t->mu);
	return e;
}

bool approve_tty_service(struct approve_tty *t, const struct pty_screen *inner, int rows, int cols)
{
	uint64_t v;
	bool resolved;

	(void)!read(t->efd, &v, sizeof(v));
	pthread_mutex_lock(&t->mu);
	resolved = t->cur_resolved;
	pthread_mutex_unlock(&t->mu);
	if (t->cur && resolved)
		finish_current(t, inner);
	if (!t->cur && t->b) {
		struct queued *e = next_request(t);
		if (e) {
			if (approve_prompt_new(t->b, &e->req, t->out_fd, rows, cols, &t->cur) == 0) {
				/* what waits in the terminal's input was typed (or made
				 * the terminal reply) before there was a question: it is
				 * not an answer, as a passphrase prompt discards type-ahead */
				tcflush(t->out_fd, TCIFLUSH);
				approve_prompt_draw(t->cur);
			}
			t->last_draw = ap_now_ms();
			queued_free(e);
		}
	} else if (t->cur && ap_now_ms() - t->last_draw >= 900) {
		approve_prompt_draw(t->cur);        /* the countdown */
		t->last_draw = ap_now_ms();
	}
	return t->cur != NULL;
}

void approve_tty_feed(struct approve_tty *t, const char *buf, size_t n, const struct pty_screen *inner,
		      int rows, int cols)
{
	enum approve_prompt_state st;

	if (!t->cur)
		return;
	st = approve_prompt_feed(t->cur, buf, n);
	if (st == APPROVE_PROMPT_SUBMITTED || st == APPROVE_PROMPT_CLOSED) {
		finish_current(t, inner);
		approve_tty_service(t, inner, rows, cols);      /* the next one, if any */
	}
}

void approve_tty_resize(struct approve_tty *t, int rows, int cols)
{
	if (!t || !t->cur)
		return;
	approve_prompt_resize(t->cur, rows, cols);
	approve_prompt_draw(t->cur);
	t->last_draw = ap_now_ms();
}
