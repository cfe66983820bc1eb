/* SIGINT/SIGTERM: record, kill the running check's group, let the run end
 * itself cleanly (see warden/interrupt.h). */
#include <signal.h>
#include <string.h>

#include "warden/interrupt.h"

static volatile sig_atomic_t caught;
static volatile sig_atomic_t watched;   /* a pgid: pid_t fits in sig_atomic_t (int) here */

static void on_signal(int sig)
{
	pid_t g = (pid_t)watched;
	struct sigaction dfl;

	caught = sig;
	if (g > 1) {
		kill(-g, SIGKILL);
		kill(g, SIGKILL);
	}
	/* a second signal ends warden at once */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
}

void wd_interrupt_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;  /* no SA_RESTART: a blocking poll returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int wd_interrupt_signal(void)
{
	return (int)caught;
}

void wd_interrupt_watch(pid_t pgid)
{
	watched = (sig_atomic_t)pgid;
	if (pgid > 1 && caught) {
		kill(-pgid, SIGKILL);
		kill(pgid, SIGKILL);
	}
}

void wd_interrupt_raise(int sig)
{
	caught = sig;
}

void wd_interrupt_reset(void)
{
	caught = 0;
	watched = 0;
}
