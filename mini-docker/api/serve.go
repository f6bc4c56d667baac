package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
)

// DefaultHost is where serve listens when no -H is given (dockerd's is
// unix:///var/run/docker.sock).
const DefaultHost = "unix:///run/mini-docker.sock"

// tcpWarning is dockerd's warning for an API on TCP without TLS.
const tcpWarning = `WARNING: API is accessible on %s without encryption.
         Access to the API is equivalent to root access on this host:
         anyone who can reach %s can run any container, mount the host's
         root filesystem in it, and so own this machine.
         Refer to the documentation on how to protect the Docker daemon socket:
         https://docs.docker.com/engine/security/protect-access/
`

// Main is `mini-docker serve`.
func Main(root string, args []string) error {
	f := cli.NewFlags(cli.Command{Tool: "mini-docker serve", Usage: "[-H unix:///PATH] [-H tcp://IP:PORT] [--group NAME]",
		Summary: "Serve the Docker Engine API (version " + APIVersion + ") from this state root, so that the docker CLI drives mini-docker:\n" +
			"DOCKER_HOST=unix:///run/mini-docker.sock docker run debian echo hello world.\n" +
			"The socket is root's alone (0660 root:root; --group lets a group in). TCP only when asked: it gives\n" +
			"root on this host to anyone who reaches the port. With --explain, each request and the engine's steps.",
		Examples: []string{"mini-docker serve", "mini-docker serve -H unix:///tmp/md.sock", "DOCKER_HOST=unix:///tmp/md.sock docker ps",
			"curl --unix-socket /tmp/md.sock http://localhost/_ping"},
		Interspersed: true})
	hosts := f.StringArrayP("host", "H", nil, "where to listen: unix:///PATH or tcp://IP:PORT (repeatable)")
	group := f.String("group", "", "group that may use the unix socket (default: root only)")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() > 0 {
		return cli.Usagef("mini-docker serve", "serve takes no arguments, got %q", f.Arg(0))
	}
	if len(*hosts) == 0 {
		*hosts = []string{DefaultHost}
	}
	gid := 0
	if *group != "" {
		g, err := user.LookupGroup(*group)
		if err != nil {
			return cli.Usagef("mini-docker serve", "--group: %v", err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	var ls []net.Listener
	closeAll := func() {
		for _, l := range ls {
			l.Close()
		}
	}
	for _, h := range *hosts {
		l, err := Listen(h, gid, os.Stderr)
		if err != nil {
			closeAll()
			return cli.WithCode(err, cli.ExitToolFailure)
		}
		ls = append(ls, l)
	}
	s := NewServer(root)
	s.Explain = f.Explainer()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	return s.Serve(ls, sigs)
}

// Listen opens the listener host names: a unix socket, made root's alone
// (0660, owner root, group gid) before anyone can connect, or, only when
// named, a TCP address, with dockerd's warning written to warn.
func Listen(host string, gid int, warn io.Writer) (net.Listener, error) {
	proto, addr, ok := strings.Cut(host, "://")
	if !ok || addr == "" {
		return nil, fmt.Errorf("invalid -H %q: want unix:///PATH or tcp://IP:PORT", host)
	}
	switch proto {
	case "unix":
		return listenUnix(addr, gid)
	case "tcp":
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(warn, tcpWarning, host, l.Addr())
		return l, nil
	}
	return nil, fmt.Errorf("invalid -H %q: the protocol must be unix or tcp", host)
}

// listenUnix makes the socket at path with mode 0660: made under a
// umask that lets nobody else in, then given its group, so there is
// no moment when another user could connect.
func listenUnix(path string, gid int) (net.Listener, error) {
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: another server is listening there", path)
	}
	if st, err := os.Lstat(path); err == nil {
		if st.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket: not removing it", path)
		}
		os.Remove(path) // a stale socket from a server that died
	}
	old := unix.Umask(0o177)
	l, err := net.Listen("unix", path)
	unix.Umask(old)
	if err != nil {
		return nil, err
	}
	if err := os.Chown(path, 0, gid); err != nil {
		l.Close()
		return nil, err
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Serve answers on every listener until a signal comes, then stops:
// no new requests, the containers it runs attached stopped (recorded,
// released), the sockets removed.
func (s *Server) Serve(ls []net.Listener, stop <-chan os.Signal) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second, MaxHeaderBytes: 1 << 20, IdleTimeout: 2 * time.Minute}
	errs := make(chan error, len(ls))
	for _, l := range ls {
		fmt.Fprintf(os.Stderr, "API listen on %s\n", l.Addr())
		go func(l net.Listener) { errs <- srv.Serve(l) }(l)
	}
	var err error
	select {
	case sig := <-stop:
		fmt.Fprintf(os.Stderr, "%v: shutting down\n", sig)
	case err = <-errs:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	s.stopRuns()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// stopRuns stops the containers this process runs attached (docker
// stop's SIGTERM, then SIGKILL), waiting until each end is recorded.
func (s *Server) stopRuns() {
	s.mu.Lock()
	ids := map[string]*run{}
	for id, rn := range s.runs {
		ids[id] = rn
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for id, rn := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e, err := s.engine(); err == nil {
				if ct, err := e.Find(id); err == nil {
					e.Stop(ct, 10*time.Second)
				}
			}
			<-rn.done
		}()
	}
	wg.Wait()
}

// logRequests prints each request as a note when explaining.
func logRequests(ex *explain.Printer, next http.Handler) http.Handler {
	if !ex.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex.Note("API: %s %s", r.Method, r.URL.RequestURI())
		next.ServeHTTP(w, r)
	})
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func kernelVersion() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}
