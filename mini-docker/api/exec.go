package api

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"time"

	mobycontainer "github.com/moby/moby/api/types/container"

	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/spec"
)

// An exec is made in two requests, as in dockerd: create records the
// command (an exec ID), start runs it, attached to the connection it
// hijacks; the client then reads its exit code from inspect.

// maxExecs bounds the exec records kept: each is forgotten ten minutes
// after its end (or after its creation, when never started).
const maxExecs = 4096

// execRecord is one exec instance.
type execRecord struct {
	id, containerID string
	opts            engine.ExecOptions
	running, ran    bool
	exitCode        int
	att             *attachment
}

func (s *Server) execRoutes(m *http.ServeMux) {
	wire.Handle(m, "POST /containers/{id}/exec", wire.WithContainer(s.engine, s.execCreate))
	wire.Handle(m, "POST /exec/{id}/start", s.execStart)
	wire.Handle(m, "GET /exec/{id}/json", s.execInspect)
	wire.Handle(m, "POST /exec/{id}/resize", s.execResize)
}

func (s *Server) execCreate(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	var req mobycontainer.ExecCreateRequest
	if err := wire.DecodeBody(r, &req); err != nil {
		return err
	}
	if len(req.Cmd) == 0 {
		return wire.Badf("No exec command specified")
	}
	if err := spec.CheckEnv(req.Env); err != nil {
		return wire.Bad(err)
	}
	if !ct.State.Running {
		return notRunning(ct.ID)
	}
	b := make([]byte, 32)
	rand.Read(b)
	x := &execRecord{id: hex.EncodeToString(b), containerID: ct.ID, opts: engine.ExecOptions{
		Argv: req.Cmd, Env: req.Env, Workdir: req.WorkingDir, User: req.User, Interactive: req.AttachStdin, TTY: req.Tty}}
	s.mu.Lock()
	if len(s.execs) >= maxExecs {
		s.mu.Unlock()
		wire.WriteError(w, http.StatusServiceUnavailable, fmt.Errorf("too many exec instances (%d): try again later", maxExecs))
		return nil
	}
	s.execs[x.id] = x
	s.mu.Unlock()
	s.forgetExec(x, false)
	wire.WriteJSON(w, http.StatusCreated, mobycontainer.ExecCreateResponse{ID: x.id})
	return nil
}

// forgetExec drops x ten minutes from now, unless it is running then
// (or, when ended is false, once it has started: its end does it).
func (s *Server) forgetExec(x *execRecord, ended bool) {
	time.AfterFunc(10*time.Minute, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !x.running && (ended || !x.ran) {
			delete(s.execs, x.id)
		}
	})
}

// exec returns the exec instance id, or dockerd's 404.
func (s *Server) exec(id string) (*execRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.execs[id]
	if x == nil {
		return nil, wire.NotFoundf("No such exec instance: %s", id)
	}
	return x, nil
}

func (s *Server) execStart(w http.ResponseWriter, r *http.Request) error {
	var req mobycontainer.ExecStartRequest
	if err := wire.DecodeBody(r, &req); err != nil {
		return err
	}
	x, err := s.exec(r.PathValue("id"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	if x.running || x.ran {
		s.mu.Unlock()
		return wire.Conflicting(fmt.Errorf("exec %s has already run", x.id))
	}
	x.running, x.ran = true, true
	s.mu.Unlock()
	code, err := s.runExec(w, r, x, req.Detach)
	s.ended(x, code)
	s.forgetExec(x, true)
	return err
}

// runExec runs x: detached, or attached to the connection of r, which
// it hijacks. An error is returned only while the response is unsent.
func (s *Server) runExec(w http.ResponseWriter, r *http.Request, x *execRecord, detach bool) (int, error) {
	e, err := s.engine()
	if err != nil {
		return 126, err
	}
	ct, err := e.Find(x.containerID)
	if err != nil {
		return 126, err
	}
	o := x.opts
	if detach {
		o.Detach, o.Interactive, o.TTY = true, false, false
		if code, err := e.Exec(ct, &o); err != nil {
			return code, wire.Conflicting(err)
		}
		w.WriteHeader(http.StatusOK)
		return 0, nil
	}
	if !ct.State.Running {
		return 126, notRunning(ct.ID)
	}
	var a *attachment
	err = hijack(w, r, o.TTY, func(conn net.Conn, in *bufio.Reader) (err error) {
		a, err = newAttachment(conn, in, o.Interactive, o.TTY)
		return err
	})
	if err != nil {
		return 126, nil
	}
	defer a.close()
	s.mu.Lock()
	x.att = a
	s.mu.Unlock()
	e.Stdout, e.Stderr, e.Stdin, e.Terminal = a.stdout, a.stderr, a.stdinR, a.terminal
	code, err := e.Exec(ct, &o)
	if err != nil {
		fmt.Fprintf(a.stderr, "%v\n", err)
	}
	// Recorded before the deferred close ends the stream: the client
	// asks for the exit code as soon as it sees the end.
	s.ended(x, code)
	return code, nil
}

// ended records that x exited with code.
func (s *Server) ended(x *execRecord, code int) {
	s.mu.Lock()
	x.running, x.exitCode = false, code
	s.mu.Unlock()
}

func (s *Server) execInspect(w http.ResponseWriter, r *http.Request) error {
	x, err := s.exec(r.PathValue("id"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	resp := mobycontainer.ExecInspectResponse{ID: x.id, ContainerID: x.containerID, Running: x.running,
		OpenStdin: x.opts.Interactive, OpenStdout: true, OpenStderr: true,
		ProcessConfig: &mobycontainer.ExecProcessConfig{Tty: x.opts.TTY, Entrypoint: x.opts.Argv[0], Arguments: x.opts.Argv[1:], User: x.opts.User}}
	if x.ran && !x.running {
		code := x.exitCode
		resp.ExitCode = &code
	}
	s.mu.Unlock()
	wire.WriteJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) execResize(w http.ResponseWriter, r *http.Request) error {
	h, wd, err := sizeParams(r)
	if err != nil {
		return err
	}
	x, err := s.exec(r.PathValue("id"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	a := x.att
	s.mu.Unlock()
	if a == nil {
		return wire.Conflicting(fmt.Errorf("exec %s has no terminal attached", x.id))
	}
	a.resize(h, wd)
	w.WriteHeader(http.StatusOK)
	return nil
}
