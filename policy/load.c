/* Loading entry points and simple accessors. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "policy/policy_int.h"

#define POLICY_MAX_BYTES (4u << 20)

extern const char policy_embedded_default_yaml[];
extern const char policy_embedded_default_end[];

const char *policy_embedded_default(size_t *len)
{
	if (len)
		*len = (size_t)(policy_embedded_default_end - policy_embedded_default_yaml);
	return policy_embedded_default_yaml;
}

static char *sha256_hex(const char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL))
		return NULL;
	char *hex = malloc(mdlen * 2 + 1);
	if (!hex)
		return NULL;
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
	return hex;
}

int policy_load_buffer(const char *buf, size_t len, const char *name, const struct policy_vars *vars,
		       struct policy **out, struct policy_diags *diags)
{
	*out = NULL;
	if (!name)
		name = "<buffer>";
	if (len > POLICY_MAX_BYTES) {
		pol_pdiag(diags, POLICY_SEV_ERROR, name, 0, 0, "too-large",
		      "policy is larger than 4 MiB; split it or remove unused rules");
		return -EFBIG;
	}
	struct ynode *root = pol_ytree_parse(buf, len, name, diags);
	if (!root)
		return -EINVAL;
	struct policy *p = calloc(1, sizeof(*p));
	if (!p) {
		pol_ytree_free(root);
		return -ENOMEM;
	}
	int e = policy_compile(root, name, vars, p, diags);
	pol_ytree_free(root);
	if (!e) {
		p->source = strdup(name);
		p->text = malloc(len ? len : 1);
		if (p->text)
			memcpy(p->text, buf, len);
		p->text_len = len;
		if (!p->source || !p->text)
			e = -ENOMEM;
	}
	if (e) {
		policy_free(p);
		return e;
	}
	*out = p;
	return 0;
}

int policy_read_file(const char *path, char **buf, size_t *len, struct policy_diags *diags)
{
	return pol_read_file_ex(path, 0, buf, len, diags);
}

/* Checked on the open descriptor, so the file checked is the file read. */
static int root_owned(int fd, const char *path, struct policy_diags *diags)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid == 0 && !(st.st_mode & 022))
		return 0;
	pol_pdiag(diags, POLICY_SEV_ERROR, path, 0, 0, "permissions",
	      "refused: owned by uid %u with mode %03o; files that decide what the agent may do must be "
	      "owned by root and not writable by group or others (chown root:root; chmod 644)",
	      (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
	return -EPERM;
}

int pol_read_file_ex(const char *path, unsigned flags, char **buf, size_t *len,
		     struct policy_diags *diags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		pol_pdiag(diags, POLICY_SEV_ERROR, path, 0, 0, "io", "cannot open: %s%s", strerror(e),
		      e == ENOENT ? " (check the path or the policy name)" : "");
		return -e;
	}
	if ((flags & POL_READ_ROOT_OWNED) && root_owned(fd, path, diags)) {
		close(fd);
		return -EPERM;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)POLICY_MAX_BYTES) {
		int e = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		pol_pdiag(diags, POLICY_SEV_ERROR, path, 0, 0, "io",
		      e == EFBIG ? "larger than 4 MiB; a policy is never that big"
				 : "not a regular file; give the path of a YAML policy");
		close(fd);
		return -e;
	}
	char *b = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (b && got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!b)
		return -ENOMEM;
	if (got != (size_t)st.st_size) {
		pol_pdiag(diags, POLICY_SEV_ERROR, path, 0, 0, "io", "short read; the file changed while loading");
		free(b);
		return -EIO;
	}
	b[got] = 0;
	*buf = b;
	*len = got;
	return 0;
}

int policy_load_file(const char *path, const struct policy_vars *vars, struct policy **out,
		     struct policy_diags *diags)
{
	return pol_load_file_ex(path, 0, vars, out, diags);
}

int pol_load_file_ex(const char *path, unsigned flags, const struct policy_vars *vars,
		     struct policy **out, struct policy_diags *diags)
{
	char *buf;
	size_t len;
	*out = NULL;
	int e = pol_read_file_ex(path, flags, &buf, &len, diags);
	if (e)
		return e;
	e = policy_load_buffer(buf, len, path, vars, out, diags);
	free(buf);
	return e;
}

int policy_load_embedded(const struct policy_vars *vars, struct policy **out,
			 struct policy_diags *diags)
{
	size_t len;
	const char *b = policy_embedded_default(&len);
	return policy_load_buffer(b, len, "<embedded>", vars, out, diags);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	policy_free_contents(p);
	free(p);
}

const char *policy_name(const struct policy *p) { return p->name ? p->name : ""; }
const char *policy_description(const struct policy *p) { return p->description ? p->description : ""; }
const char *policy_source(const struct policy *p) { return p->source ? p->source : ""; }
const char *policy_sha256(const struct policy *p)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct policy *w = (struct policy *)p;  /* a cache of what the source bytes already say */
	pthread_mutex_lock(&mu);
	if (!w->sha256 && w->text)
		w->sha256 = sha256_hex(w->text, w->text_len);
	pthread_mutex_unlock(&mu);
	return p->sha256 ? p->sha256 : "";
}
const struct policy_limits *policy_limits(const struct policy *p) { return &p->limits; }
const struct policy_audit_settings *policy_audit(const struct policy *p) { return &p->audit; }

void policy_defaults(const struct policy *p, struct policy_default_decisions *o)
{
	*o = (struct policy_default_decisions){ p->defaults.commands, p->defaults.network,
		p->defaults.unix_sockets, p->defaults.file_read, p->defaults.file_write,
		p->defaults.signals, policy_filters_signals(p) };
}

size_t policy_file_rule_count(const struct policy *p) { return p->nfiles; }
int policy_file_rule_get(const struct policy *p, size_t i, struct policy_file_rule_info *o)
{
	if (i >= p->nfiles)
		return -ENOENT;
	const struct file_rule *r = &p->files[i];
	*o = (struct policy_file_rule_info){ r->c.name, r->c.decision, r->ops,
		(const char *const *)r->paths.v, r->paths.n, policy_source(p), r->c.line };
	return 0;
}

size_t policy_net_rule_count(const struct policy *p) { return p->nnets; }
int policy_net_rule_get(const struct policy *p, size_t i, struct policy_net_rule_info *o)
{
	if (i >= p->nnets)
		return -ENOENT;
	const struct net_rule *r = &p->nets[i];
	*o = (struct policy_net_rule_info){ r->c.name, r->c.decision,
		(const char *const *)r->domains.v, r->domains.n, r->cidrs, r->ncidrs, r->ports,
		r->nports, policy_source(p), r->c.line };
	return 0;
}

size_t policy_cmd_rule_count(const struct policy *p) { return p->ncmds; }
int policy_cmd_rule_get(const struct policy *p, size_t i, struct policy_cmd_rule_info *o)
{
	if (i >= p->ncmds)
		return -ENOENT;
	const struct cmd_rule *r = &p->cmds[i];
	*o = (struct policy_cmd_rule_info){ r->c.name, r->c.decision,
		(const char *const *)r->commands.v, r->commands.n, (const char *const *)r->args_src.v,
		r->args_src.n, policy_source(p), r->c.line };
	return 0;
}
