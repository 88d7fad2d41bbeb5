/* First-use loading of libfido2 and libqrencode (see lazylib_int.h for why).
 * RTLD_LOCAL keeps their symbols out of the global scope; in a setuid process
 * the dynamic loader ignores LD_LIBRARY_PATH, so only the system's copies load. */
#define AP_LAZYLIB_IMPL
#include "approve/lazylib_int.h"
#include "approve/approve_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

struct ap_fido_api ap_fido_api;
struct ap_qr_api ap_qr_api;

struct lazylib {
	pthread_once_t once;
	const char *soname, *package, *what;
	char why[256];          /* empty once loaded */
};

static struct lazylib fido_lib = { PTHREAD_ONCE_INIT, AP_FIDO_SONAME, "libfido2-1",
				   "security-key (FIDO2) support", "" };
static struct lazylib qr_lib = { PTHREAD_ONCE_INIT, AP_QR_SONAME, "libqrencode4",
				 "QR codes for TOTP enrollment", "" };

/* dlsym every name into the table (slots of pointer size, in name order); on
 * any miss the caller leaves its table unfilled and the loader reports why. */
static int resolve(struct lazylib *l, void *h, const char *const *names, void *table, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		void *p = dlsym(h, names[i]);
		if (!p) {
			snprintf(l->why, sizeof(l->why), "%s has no symbol %s", l->soname, names[i]);
			return -1;
		}
		memcpy((char *)table + i * sizeof(p), &p, sizeof(p));
	}
	return 0;
}

static void *open_lib(struct lazylib *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	const char *e;

	if (!h) {
		e = dlerror();
		snprintf(l->why, sizeof(l->why), "%s", e ? e : l->soname);
	}
	return h;
}

#define AP_NAME(n) #n,
static const char *const fido_names[] = { AP_FIDO_SYMS(AP_NAME) };
#undef AP_NAME

static void load_fido(void)
{
	struct ap_fido_api t;
	void *h = open_lib(&fido_lib);

	_Static_assert(sizeof(t) == sizeof(fido_names) / sizeof(fido_names[0]) * sizeof(void *),
		       "one slot per name");
	if (h && resolve(&fido_lib, h, fido_names, &t, sizeof(fido_names) / sizeof(fido_names[0])) == 0)
		ap_fido_api = t;
}

static void load_qr(void)
{
	static const char *const names[] = { "QRcode_encodeString", "QRcode_free" };
	struct ap_qr_api t;
	void *h = open_lib(&qr_lib);

	_Static_assert(sizeof(t) == sizeof(names) / sizeof(names[0]) * sizeof(void *), "one slot per name");
	if (h && resolve(&qr_lib, h, names, &t, 2) == 0)
		ap_qr_api = t;
}

static int loaded(const struct lazylib *l, char *err, size_t errlen)
{
	if (!l->why[0])
		return 0;
	ap_err(err, errlen, "cannot load %s for %s (%s); install the Debian package %s", l->soname,
	       l->what, l->why, l->package);
	return -ENOSYS;
}

int ap_fido_load(char *err, size_t errlen)
{
	pthread_once(&fido_lib.once, load_fido);
	return loaded(&fido_lib, err, errlen);
}

int ap_qr_load(char *err, size_t errlen)
{
	pthread_once(&qr_lib.once, load_qr);
	return loaded(&qr_lib, err, errlen);
}
