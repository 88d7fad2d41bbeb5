/* probe_int.h — kernel feature probes shared by session set-up and doctor. */
#ifndef AGENTSH_ENFORCE_PROBE_INT_H
#define AGENTSH_ENFORCE_PROBE_INT_H

#define ENF_CAP_FILTER      0x01u   /* seccomp filters with errno actions */
#define ENF_CAP_NOTIFY      0x02u   /* SECCOMP_FILTER_FLAG_NEW_LISTENER */
#define ENF_CAP_KILLABLE    0x04u   /* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV */
#define ENF_CAP_SYNC_WAKEUP 0x08u   /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP */
#define ENF_CAP_ADDFD       0x10u   /* SECCOMP_IOCTL_NOTIF_ADDFD */
#define ENF_CAP_ID_VALID    0x20u   /* SECCOMP_IOCTL_NOTIF_ID_VALID */

struct enf_seccomp_caps {
	unsigned flags;
	int err;                    /* the probe itself failed: -errno */
};

/* Full probe in a throwaway child (doctor). */
const struct enf_seccomp_caps *enf_probe_seccomp(void);
/* FILTER, NOTIFY, KILLABLE only, without a fork (session start). */
unsigned enf_probe_seccomp_flags(void);

#endif
