//go:build cgo

// Package nsenter joins existing namespaces before the Go runtime starts.
//
// setns(2) into a mount namespace is refused (EINVAL) to a process whose
// filesystem information (root, working directory) is shared with another
// thread, and setns into a user namespace to any multi-threaded process.
// A Go program is multi-threaded before main runs: the runtime starts its
// threads (sysmon, GC workers) during initialisation, sharing CLONE_FS.
// So the join is done here, in C, in a constructor that the C runtime calls
// before it hands over to Go, while the process still has one thread. This
// is what runc's libcontainer/nsenter (nsexec.c) does for `runc exec`.
//
// The Go side (mini-docker/unshare/ns) opens the namespace files, passes
// them as inherited file descriptors in the environment variable
// _MINI_DOCKER_NSENTER ("user:3,net:4,mnt:5,root:6,cwd:7"), and re-executes
// itself. The constructor then:
//
//  1. setns(2)s into each namespace in two passes, as util-linux's nsenter
//     does: first every namespace but the user namespace, passing over
//     those refused, then the user namespace and the ones refused before.
//     A namespace the host's user namespace owns (a network namespace made
//     before the container's user namespace, as mini-docker makes it) can
//     be joined only while we still have the host's privileges; one owned
//     by a user namespace we have no privilege over (an unprivileged
//     caller's) only once we are inside that user namespace;
//  2. with root/cwd: fchdir + chroot(".") into the target's root, then
//     fchdir into its working directory (what nsenter --root --wd does);
//  3. after joining a PID or time namespace, forks: those apply only to
//     children, and the kernel refuses to create threads (as Go will) in a
//     process whose children would be in another PID or time namespace.
//     The parent stays, waits, forwards signals and exits with the child's
//     status; the child goes on into the Go runtime, inside everything.
//
// Failures print one line and exit 125 before Go starts.
//
// Lesson 02 (lessons/02-namespaces.md) teaches it.
package nsenter

/*
#cgo CFLAGS: -Wall -std=gnu99
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int nsenter_joined = 0;
static pid_t nsenter_child = 0;

static void nsenter_die(const char *what, const char *name) {
	int err = errno;
	fprintf(stderr, "unshare: error: %s %s: %s\n", what, name, strerror(err));
	if ((err == EPERM || err == EACCES) && geteuid() != 0)
		fprintf(stderr, "unshare: hint: joining another process's namespaces needs root: run it with sudo\n");
	_exit(125);
}

static int nsenter_type(const char *name) {
	static const struct { const char *name; int flag; } types[] = {
		{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mnt", CLONE_NEWNS},
		{"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"time", CLONE_NEWTIME},
		{"user", CLONE_NEWUSER}, {"uts", CLONE_NEWUTS},
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, name) == 0)
			return types[i].flag;
	return -1;
}

static void nsenter_forward(int sig) {
	if (nsenter_child > 0)
		kill(nsenter_child, sig);
}

// nsenter_wait is the parent's life after the fork: wait for the child,
// forward signals to it, and end with its exit code (128+N if killed by N).
static void nsenter_wait(void) {
	int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nsenter_forward;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	int status;
	while (waitpid(nsenter_child, &status, 0) < 0) {
		if (errno != EINTR)
			nsenter_die("wait for", "the joined child");
	}
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}

__attribute__((constructor)) static void nsenter(void) {
	const char *spec = getenv("_MINI_DOCKER_NSENTER");
	if (spec == NULL)
		return;
	char buf[1024];
	if (strlen(spec) >= sizeof(buf)) {
		errno = E2BIG;
		nsenter_die("read", "_MINI_DOCKER_NSENTER");
	}
	strcpy(buf, spec);
	int rootfd = -1, cwdfd = -1, needfork = 0, n = 0;
	struct { char *name; int fd, flag; } ns[16];
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		int fd = atoi(colon + 1);
		if (strcmp(tok, "root") == 0) {
			rootfd = fd;
			continue;
		}
		if (strcmp(tok, "cwd") == 0) {
			cwdfd = fd;
			continue;
		}
		int flag = nsenter_type(tok);
		if (flag < 0) {
			errno = EINVAL;
			nsenter_die("unknown namespace", tok);
		}
		if (n == (int)(sizeof(ns) / sizeof(ns[0]))) {
			errno = E2BIG;
			nsenter_die("read", "_MINI_DOCKER_NSENTER");
		}
		ns[n].name = tok, ns[n].fd = fd, ns[n].flag = flag;
		n++;
	}
	for (int pass = 0; pass < 2; pass++) {
		// The second pass joins the user namespace before the rest.
		for (int user = pass; user >= 0; user--) {
			for (int i = 0; i < n; i++) {
				if (ns[i].fd < 0 || (ns[i].flag == CLONE_NEWUSER) != (user == 1))
					continue;
				if (setns(ns[i].fd, ns[i].flag) < 0) {
					if (pass == 0)
						continue;
					nsenter_die("setns into the namespace", ns[i].name);
				}
				close(ns[i].fd);
				ns[i].fd = -1;
				if (ns[i].flag == CLONE_NEWPID || ns[i].flag == CLONE_NEWTIME)
					needfork = 1;
			}
		}
	}
	if (rootfd >= 0) {
		if (fchdir(rootfd) < 0 || chroot(".") < 0)
			nsenter_die("enter the root", "directory");
		close(rootfd);
		if (cwdfd < 0 && chdir("/") < 0)
			nsenter_die("chdir", "/");
	}
	if (cwdfd >= 0) {
		if (fchdir(cwdfd) < 0)
			nsenter_die("enter the working", "directory");
		close(cwdfd);
	}
	if (needfork) {
		nsenter_child = fork();
		if (nsenter_child < 0)
			nsenter_die("fork into the", "PID namespace");
		if (nsenter_child > 0)
			nsenter_wait();
	}
	nsenter_joined = 1;
}
*/
import "C"

import "os"

// Available reports whether this binary carries the constructor (it was
// built with cgo, as scripts/build does for unshare).
const Available = true

// Env is the variable the Go side sets to ask the constructor for a join.
const Env = "_MINI_DOCKER_NSENTER"

// Joined reports whether the constructor joined namespaces in this process.
func Joined() bool { return C.nsenter_joined != 0 }

func init() {
	// The request is for this process only: not for the command it runs.
	os.Unsetenv(Env)
}
