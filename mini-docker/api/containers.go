package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	mobycontainer "github.com/moby/moby/api/types/container"

	"mini-docker/mini-docker/api/objects"
	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/restart"
	"mini-docker/mini-docker/events"
	"mini-docker/mini-docker/filters"
	"mini-docker/mini-docker/formatter"
	"mini-docker/mini-docker/networks"
	"mini-docker/mini-docker/spec"
	"mini-docker/pull/reference"
)

func (s *Server) containerRoutes(m *http.ServeMux) {
	on := wire.ContainerRoutes(m, s.engine)
	wire.Handle(m, "GET /containers/json", s.list)
	wire.Handle(m, "POST /containers/create", s.create)
	on("GET /containers/{id}/json", s.inspect)
	on("POST /containers/{id}/start", s.start)
	on("POST /containers/{id}/stop", s.stop)
	on("POST /containers/{id}/restart", s.restart)
	on("POST /containers/{id}/kill", s.kill)
	on("POST /containers/{id}/pause", s.pause)
	on("POST /containers/{id}/unpause", s.pause)
	on("POST /containers/{id}/wait", s.wait)
	on("DELETE /containers/{id}", s.remove)
	on("POST /containers/{id}/attach", s.attach)
	on("POST /containers/{id}/resize", s.resize)
	on("GET /containers/{id}/logs", s.logs)
	on("POST /containers/{id}/rename", s.rename)
}

// listFilters are the filters GET /containers/json takes.
var listFilters = []string{"id", "name", "status", "label", "network"}

// matches reports whether ct passes every filter (any value of one;
// every value of label).
func matches(ct *container.Container, f filters.Args) bool {
	return f.Any("id", func(v string) bool { return strings.HasPrefix(ct.ID, v) }) &&
		f.Any("name", func(v string) bool {
			return strings.Contains(strings.TrimPrefix(ct.Name, "/"), strings.TrimPrefix(v, "/"))
		}) &&
		f.Any("status", func(v string) bool { return string(ct.State.Status) == v }) &&
		f.Any("network", func(v string) bool { return ct.NetworkSettings.Networks[v] != nil || networks.PrimaryNetwork(ct) == v }) &&
		f.MatchLabels(ct.Config.Labels)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) error {
	f, err := wire.ParseFilters(r.URL.Query().Get("filters"), listFilters...)
	if err != nil {
		return err
	}
	limit := -1
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil {
			return wire.Badf("invalid limit %q", v)
		}
	}
	_, cs, err := s.containers()
	if err != nil {
		return err
	}
	all := wire.BoolParam(r, "all") || limit > 0 || len(f["status"]) > 0
	out := []mobycontainer.Summary{}
	for _, ct := range cs {
		if (!all && !ct.State.Running) || !matches(ct, f) || (limit > 0 && len(out) == limit) {
			continue
		}
		out = append(out, summary(ct))
	}
	wire.WriteJSON(w, http.StatusOK, out)
	return nil
}

// summary is a container as GET /containers/json lists it.
func summary(ct *container.Container) mobycontainer.Summary {
	sum := mobycontainer.Summary{ID: ct.ID, Names: []string{ct.Name}, Image: ct.Config.Image, ImageID: ct.Image,
		Command: strings.Join(append([]string{ct.Path}, ct.Args...), " "), Created: ct.Created.Unix(),
		Labels: ct.Config.Labels, State: ct.State.Status, Status: formatter.Status(ct), Ports: []mobycontainer.PortSummary{},
		Mounts: []mobycontainer.MountPoint{}}
	sum.HostConfig.NetworkMode = string(ct.HostConfig.NetworkMode)
	sum.Ports = networks.PortSummaries(ct) // the ports it got, as Docker lists them
	sum.NetworkSettings = objects.Endpoints(ct)
	return sum
}

func (s *Server) inspect(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	wire.WriteJSON(w, http.StatusOK, ct)
	return nil
}

// OptionsOf turns a create request into docker run's flags, which the
// engine checks and records exactly as for `mini-docker run`: the API
// and the CLI make a container through one path. Images are never
// pulled here: a missing image is a 404, and the client pulls it.
func OptionsOf(name string, req *mobycontainer.CreateRequest) (*spec.Options, error) {
	cfg, hc := req.Config, req.HostConfig
	if cfg == nil {
		return nil, wire.Badf("config cannot be empty in order to create a container")
	}
	if hc == nil {
		hc = &mobycontainer.HostConfig{}
	}
	if cfg.Image == "" {
		return nil, wire.Badf("no image given: Config.Image is empty")
	}
	if _, err := reference.Parse(cfg.Image); err != nil {
		return nil, wire.Badf("invalid reference format: %q: %v", cfg.Image, err)
	}
	if len(hc.Mounts) > 0 || len(hc.Devices) > 0 || len(hc.VolumesFrom) > 0 {
		return nil, wire.Badf("Mounts, Devices and VolumesFrom are not supported by mini-docker: use Binds (docker run -v)")
	}
	if hc.Memory < 0 || hc.NanoCPUs < 0 || hc.CPUShares < 0 {
		return nil, wire.Badf("invalid Memory, NanoCpus or CpuShares (%d, %d, %d): want 0 or more", hc.Memory, hc.NanoCPUs, hc.CPUShares)
	}
	o := &spec.Options{Image: cfg.Image, Name: name, Env: cfg.Env, Workdir: cfg.WorkingDir, User: cfg.User,
		Hostname: cfg.Hostname, TTY: cfg.Tty, Interactive: cfg.OpenStdin, Detach: !cfg.AttachStdout && !cfg.AttachStderr,
		Rm: hc.AutoRemove, Privileged: hc.Privileged, ReadOnly: hc.ReadonlyRootfs, CapAdd: hc.CapAdd, CapDrop: hc.CapDrop,
		SecurityOpt: hc.SecurityOpt, Volumes: hc.Binds, Pull: "never",
		CPUShares: hc.CPUShares, CpusetCpus: hc.CpusetCpus}
	if err := objects.NetworkOptions(o, string(hc.NetworkMode), req.NetworkingConfig); err != nil {
		return nil, err
	}
	netOptions(o, hc)
	o.Labels, o.StopSignal, o.StopTimeout = objects.LabelList(cfg.Labels), cfg.StopSignal, -1
	if cfg.StopTimeout != nil {
		o.StopTimeout = *cfg.StopTimeout
	}
	if len(cfg.Entrypoint) > 0 {
		entry := cfg.Entrypoint[0]
		o.Entrypoint = &entry
		o.Args = append(append([]string{}, cfg.Entrypoint[1:]...), cfg.Cmd...)
	} else {
		o.Args = append([]string{}, cfg.Cmd...)
	}
	if hc.Memory > 0 {
		o.Memory = strconv.FormatInt(hc.Memory, 10)
	}
	if hc.MemorySwap != 0 {
		o.MemorySwap = strconv.FormatInt(hc.MemorySwap, 10)
	}
	if hc.NanoCPUs > 0 {
		o.CPUs = strconv.FormatFloat(float64(hc.NanoCPUs)/1e9, 'f', -1, 64)
	}
	if hc.PidsLimit != nil {
		o.PidsLimit = *hc.PidsLimit
	}
	if hc.Init != nil {
		o.Init = *hc.Init
	}
	if p := hc.RestartPolicy; p.Name != "" {
		o.Restart = string(p.Name) + ":" + strconv.Itoa(p.MaximumRetryCount)
	}
	for port, bs := range hc.PortBindings {
		for _, b := range bs {
			p := b.HostPort + ":" + port.String()
			if b.HostIP.IsValid() && b.HostIP != netip.IPv4Unspecified() {
				p = b.HostIP.String() + ":" + p
			}
			o.Publish = append(o.Publish, p)
		}
	}
	sort.Strings(o.Publish)
	return o, resourceOptions(o, hc)
}

// resourceOptions carries the HostConfig fields docker run's other
// flags set over to o, as those flags would (--tmpfs, --shm-size,
// --ulimit, --group-add, --memory-reservation, --oom-kill-disable,
// --log-driver/--log-opt), and refuses, in one line, the fields
// mini-docker has no flag for: a setting the caller asked for is never
// dropped in silence.
func resourceOptions(o *spec.Options, hc *mobycontainer.HostConfig) error {
	for _, f := range []struct {
		set  bool
		name string
	}{
		{hc.PidMode != "", "PidMode"}, {hc.IpcMode != "" && hc.IpcMode != "private" && hc.IpcMode != "shareable", "IpcMode"},
		{hc.UTSMode != "", "UTSMode"}, {hc.UsernsMode != "", "UsernsMode"}, {len(hc.Sysctls) > 0, "Sysctls"},
		{hc.CgroupParent != "", "CgroupParent"}, {hc.CgroupnsMode != "" && hc.CgroupnsMode != "private", "CgroupnsMode"},
		{hc.OomScoreAdj != 0, "OomScoreAdj"}, {hc.CpusetMems != "", "CpusetMems"}, {len(hc.DeviceCgroupRules) > 0, "DeviceCgroupRules"},
		{hc.LogConfig.Type != "" && hc.LogConfig.Type != "json-file", "LogConfig.Type " + hc.LogConfig.Type},
	} {
		if f.set {
			return wire.Badf("HostConfig.%s is not supported by mini-docker (docker run has it; mini-docker run has no such flag)", f.name)
		}
	}
	for dst, opts := range hc.Tmpfs {
		if opts != "" {
			dst += ":" + opts
		}
		o.Tmpfs = append(o.Tmpfs, dst)
	}
	sort.Strings(o.Tmpfs)
	if hc.ShmSize != 0 {
		o.ShmSize = strconv.FormatInt(hc.ShmSize, 10)
	}
	if hc.MemoryReservation != 0 {
		o.MemoryReservation = strconv.FormatInt(hc.MemoryReservation, 10)
	}
	if hc.OomKillDisable != nil {
		o.OOMKillDisable = *hc.OomKillDisable
	}
	for _, u := range hc.Ulimits {
		o.Ulimits = append(o.Ulimits, u.String())
	}
	o.GroupAdd = hc.GroupAdd
	for k, v := range hc.LogConfig.Config {
		o.LogOpts = append(o.LogOpts, k+"="+v)
	}
	sort.Strings(o.LogOpts)
	return nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) error {
	var req mobycontainer.CreateRequest
	if err := wire.DecodeBody(r, &req); err != nil {
		return err
	}
	name := r.URL.Query().Get("name")
	if name != "" {
		if err := container.CheckName(strings.TrimPrefix(name, "/")); err != nil {
			return wire.Bad(err)
		}
	}
	o, err := OptionsOf(name, &req)
	if err != nil {
		return err
	}
	o.Platform = r.URL.Query().Get("platform")
	if _, err := o.HostConfig(); err != nil {
		return wire.Bad(err) // the flag parsers' refusal
	}
	e, err := s.engine()
	if err != nil {
		return err
	}
	ct, err := e.Create(o, nil)
	if err != nil {
		return createError(err)
	}
	// The container waits for its start, which may come from any client
	// at any time: no process watches it until then.
	ct.Runtime.MonitorPid, ct.Runtime.MonitorStart = 0, 0
	if err := e.Store.Save(ct); err != nil {
		return err
	}
	wire.WriteJSON(w, http.StatusCreated, mobycontainer.CreateResponse{ID: ct.ID, Warnings: []string{}})
	return nil
}

// createError gives Create's validation errors (bad flags, a bad
// working directory, no command) their 400; the rest keep their kind.
func createError(err error) error {
	if wire.StatusOf(err) != http.StatusInternalServerError {
		return err
	}
	msg := err.Error()
	for _, s := range []string{"invalid", "no command specified", "needs to be an absolute path", "platform", "must be"} {
		if strings.Contains(msg, s) {
			return wire.Bad(err)
		}
	}
	return err
}

// start starts ct: attached to the client that attached before (its
// output streamed to it, this process waiting for it), or detached,
// with a monitor, as docker start and docker run -d do.
func (s *Server) start(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	if ct.State.Running {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	a := s.takeAttachment(ct.ID)
	if a == nil {
		var msg bytes.Buffer
		e.Stdout, e.Stderr = &msg, &msg
		if _, err := e.Start(ct, engine.Attach{Detach: true}); err != nil {
			return startError(err, msg.String())
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	started := s.runAttached(e, ct, a)
	if err := <-started; err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// startError is a failed start as dockerd words it, so that the docker
// CLI gives docker run's exit code: 127 when the command was not found,
// 126 when it could not be run, 125 for the rest.
func startError(err error, msg string) error {
	msg = strings.TrimSpace(msg)
	var ce engine.ChainExit
	if errors.As(err, &ce) {
		if msg == "" {
			msg = err.Error()
		}
		switch ce.ExitCode() {
		case 127:
			if !strings.Contains(msg, "not found") && !strings.Contains(msg, "no such file") {
				msg += ": executable file not found"
			}
		case 126:
			if !strings.Contains(msg, "permission denied") {
				msg += ": permission denied"
			}
		}
		return wire.Bad(fmt.Errorf("failed to create the container's process: %s", msg))
	}
	return err
}

// run is a container this process runs in the foreground (attached to
// a client): its end, for wait.
type run struct {
	done chan struct{}
	code int
	att  *attachment
}

// runAttached runs ct in this process with a's streams. The channel
// says once whether it started (nil once the container runs its
// command or has ended, the error of a start that failed).
func (s *Server) runAttached(e *engine.Engine, ct *container.Container, a *attachment) <-chan error {
	rn := &run{done: make(chan struct{}), att: a}
	s.mu.Lock()
	s.runs[ct.ID] = rn
	s.mu.Unlock()
	e.Stdout, e.Stderr, e.Stdin, e.Terminal = a.stdout, a.stderr, a.stdinR, a.terminal
	started := make(chan error, 1)
	ended := make(chan error, 1)
	go func() {
		code, err := e.Start(ct, engine.Attach{Stdin: a.stdin, TTY: ct.Config.Tty})
		if err != nil && code == 125 {
			fmt.Fprintf(a.stderr, "%v\n", err)
		}
		rn.code = code
		a.close()
		close(rn.done)
		ended <- err
		// Kept for a late wait; a wait that comes after this reads the
		// recorded state.
		time.AfterFunc(time.Minute, func() {
			s.mu.Lock()
			if s.runs[ct.ID] == rn {
				delete(s.runs, ct.ID)
			}
			s.mu.Unlock()
		})
	}()
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case err := <-ended:
				if err != nil && rn.code == 125 {
					started <- err
				} else {
					started <- nil
				}
				return
			case <-tick.C:
				if cur, err := e.Store.Load(ct.ID); err == nil && cur.State.Status != container.Created {
					started <- nil
					return
				}
			}
		}
	}()
	return started
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	if !ct.State.Running {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if err := stopWithin(r, e, ct); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// stopWithin stops ct within the request's ?t= (Engine.Stop: SIGTERM,
// then SIGKILL once t has passed).
func stopWithin(r *http.Request, e *engine.Engine, ct *container.Container) error {
	t, err := timeoutParam(r, ct.StopGrace())
	if err != nil {
		return err
	}
	return e.Stop(ct, t)
}

// timeoutParam reads ?t=SECONDS (def when there is none: dockerd then
// takes the container's own stop timeout).
func timeoutParam(r *http.Request, def time.Duration) (time.Duration, error) {
	v := r.URL.Query().Get("t")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < -1 {
		return 0, wire.Badf("invalid value for t: %q", v)
	}
	if n == -1 {
		return -1, nil // wait for ever, as dockerd does (Engine.Stop: negative)
	}
	return time.Duration(n) * time.Second, nil
}

func (s *Server) restart(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	err := stopWithin(r, e, ct)
	if err == nil {
		ct, err = e.Find(ct.ID)
	}
	if err == nil {
		var msg bytes.Buffer
		e.Stdout, e.Stderr = &msg, &msg
		if _, err = e.Start(ct, engine.Attach{Detach: true}); err != nil {
			err = startError(err, msg.String())
		}
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) kill(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	name := r.URL.Query().Get("signal")
	if name == "" {
		name = "KILL"
	}
	sig, err := container.ParseSignal(name)
	if err != nil {
		return wire.Bad(err)
	}
	ct, done := restart.ForKill(e.Store, ct)
	if done { // a restarting container only leaves its loop
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if !ct.State.Running {
		return notRunning(ct.ID)
	}
	if err := e.Kill(ct, sig); err != nil {
		return err
	}
	if sig == syscall.SIGKILL {
		e.WaitExit(ct, 5*time.Second)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pause(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	var err error
	if strings.HasSuffix(r.URL.Path, "/unpause") {
		err = e.Unpause(ct)
	} else {
		err = e.Pause(ct)
	}
	if err != nil {
		if !ct.State.Running {
			err = wire.Conflicting(err)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) remove(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	if err := e.Remove(ct, wire.BoolParam(r, "force")); err != nil {
		return err
	}
	if a := s.takeAttachment(ct.ID); a != nil {
		a.close()
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// wait answers POST /containers/{id}/wait: the header at once (the
// client starts the container only after it), the exit code once the
// condition holds: not-running (the default), next-exit, or removed.
func (s *Server) wait(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	cond := r.URL.Query().Get("condition")
	switch cond {
	case "", "not-running", "next-exit", "removed":
	default:
		return wire.Badf("invalid condition: %q", cond)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	code, ok := s.waitFor(r.Context(), e, ct, cond)
	if !ok {
		return nil
	}
	json.NewEncoder(w).Encode(mobycontainer.WaitResponse{StatusCode: int64(code)})
	return nil
}

// active reports whether a container counts as running for wait.
func active(ct *container.Container) bool {
	return ct.State.Running || ct.State.Paused
}

// waitFor blocks until cond holds for ct, and returns its exit code;
// false when the client went away first. A run of this process says
// so itself; others (detached, or run by the CLI) are read from their
// recorded state.
func (s *Server) waitFor(ctx context.Context, e *engine.Engine, ct *container.Container, cond string) (int, bool) {
	if (cond == "" || cond == "not-running") && !active(ct) {
		return ct.State.ExitCode, true
	}
	last, code := ct.State.FinishedAt, ct.State.ExitCode
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	seen := false // the end of this process's run, once read
	for {
		s.mu.Lock()
		rn := s.runs[ct.ID]
		s.mu.Unlock()
		var done <-chan struct{}
		if rn != nil && !seen {
			done = rn.done
		}
		select {
		case <-ctx.Done():
			return 0, false
		case <-done:
			if cond != "removed" {
				return rn.code, true
			}
			code, seen = rn.code, true
		case <-tick.C:
		}
		cur, err := e.Find(ct.ID)
		if err != nil { // removed: by --rm, the end of a run here says the code
			s.mu.Lock()
			rn := s.runs[ct.ID]
			s.mu.Unlock()
			if rn != nil && !seen {
				select {
				case <-rn.done:
					return rn.code, true
				case <-ctx.Done():
					return 0, false
				}
			}
			return code, true
		}
		ended := !active(cur) && cur.State.Status != container.Created && !cur.State.FinishedAt.Equal(last)
		if ended || (cond == "" || cond == "not-running") && !active(cur) && cur.State.Status != container.Created {
			code = cur.State.ExitCode
			if cond != "removed" {
				return code, true
			}
		}
	}
}

// rename is docker rename: the store's Rename, under the lock that
// gives names, as `mini-docker rename` does. A name in use is a 409,
// a bad name or the same name again the client's error.
func (s *Server) rename(w http.ResponseWriter, r *http.Request, e *engine.Engine, ct *container.Container) error {
	name := r.URL.Query().Get("name")
	if name == "" {
		return wire.Badf("Neither old nor new names may be empty")
	}
	renamed, err := e.Store.Rename(ct.ID, name)
	if err != nil {
		if msg := err.Error(); wire.StatusOf(err) == http.StatusInternalServerError && (strings.HasPrefix(msg, "Error when allocating") || strings.HasPrefix(msg, "Renaming")) {
			err = wire.Bad(err)
		}
		return err
	}
	events.Container(s.Root, "rename", renamed, map[string]string{"oldName": ct.Name})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// notRunning is dockerd's 409 for a container that must be running.
func notRunning(id string) error {
	//lint:ignore ST1005 Docker's own words, as the docker CLI prints them
	return wire.Conflicting(fmt.Errorf("Container %s is not running", id))
}
