// Package api is `mini-docker serve`: the Docker Engine API over a unix
// socket, so that Docker's own client (the docker CLI, compose, the SDKs)
// drives mini-docker. Everything in Docker is made through this HTTP API;
// the docker CLI is only one of its clients. The server here is a front
// end over the same engine the mini-docker CLI runs, with the same state
// root: a container made by `mini-docker run` is in `docker ps`, and one
// made by `docker run` is in `mini-docker ps`.
//
// Lesson 14 (lessons/14-api.md) teaches it. The files, by endpoint:
//
//	server.go      listening, API versions (/_ping, /version), errors
//	containers.go  create, start, stop, kill, rm, wait, list, inspect,
//	               rename
//	attach.go      attach and logs: the hijacked connection, and the
//	               multiplexed stream (stdcopy framing) without a TTY
//	exec.go        exec create, start, inspect, resize
//	images.go      pull (the pull tool's output as a progress stream),
//	               images, inspect, tag, rmi
//	contents/      top, stats, diff (changes), export, cp (archive)
//	ship/          commit, build, history, push, save, load
//	objects/       networks and volumes (and a create's network and labels)
//	wire/          errors, JSON, streams: what every endpoint shares
//	serve.go       the serve command: sockets, permissions, shutdown
//
// The types on the wire are the API's own, from github.com/moby/moby/api.
package api

import (
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/system"

	"mini-docker/internal/cli"
	"mini-docker/internal/explain"
	"mini-docker/mini-docker/api/contents"
	"mini-docker/mini-docker/api/objects"
	"mini-docker/mini-docker/api/ship"
	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/imageops"
	"mini-docker/pull/store"
)

// The API versions served. Clients negotiate down to APIVersion, the
// version of Docker 20.10 (the docker CLI of Debian 12 asks for no more;
// newer CLIs take the server's version from /_ping and use it).
const (
	APIVersion    = "1.41"
	MinAPIVersion = "1.24"
)

// Server answers the Engine API from one state root.
type Server struct {
	Root string
	// Explain, when set, receives each request and the engine's steps.
	Explain *explain.Printer

	mu        sync.Mutex
	attaching map[string]*attachment // container ID -> a client attached before start
	runs      map[string]*run        // container ID -> a foreground run in this process
	execs     map[string]*execRecord // exec ID -> exec instance
	ship      *ship.Server
}

// NewServer returns a server on state root root.
func NewServer(root string) *Server {
	s := &Server{Root: root, attaching: map[string]*attachment{}, runs: map[string]*run{}, execs: map[string]*execRecord{}}
	s.ship = &ship.Server{Root: root, Open: s.engine}
	return s
}

// engine opens the engine for one request: the CLI's own, with the
// image store.
func (s *Server) engine() (*engine.Engine, error) {
	e, err := engine.NewEngine(s.Root)
	if err != nil {
		return nil, err
	}
	if err := imageops.OpenImages(e); err != nil {
		return nil, err
	}
	e.Explain = s.Explain
	return e, nil
}

// Handler returns the server's routes, behind the version check.
func (s *Server) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /_ping", ping)
	m.HandleFunc("HEAD /_ping", ping)
	m.HandleFunc("GET /version", version)
	wire.Handle(m, "GET /info", s.info)
	s.containerRoutes(m)
	s.execRoutes(m)
	s.imageRoutes(m)
	contents.Routes(m, s.engine)
	s.ship.Routes(m)
	(&objects.Server{Open: s.engine}).Routes(m)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		wire.WriteError(w, http.StatusNotFound, fmt.Errorf("page not found"))
	})
	return logRequests(s.Explain, versioned(m))
}

// versionPrefix is the /v1.41 a client puts before every path.
var versionPrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/v([0-9]+\.[0-9]+)(/|$)`) })

// versioned strips the version prefix, refusing versions the server
// does not speak as dockerd does, and refuses paths with empty or dot
// segments, also %2F-encoded ones (what path.Clean would redirect, a
// 301 no client follows): a name or ID never holds a slash.
func versioned(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", APIVersion)
		w.Header().Set("Server", "mini-docker/"+cli.Version+" ("+runtime.GOOS+")")
		p := r.URL.Path
		if m := versionPrefix().FindStringSubmatch(p); m != nil {
			if err := checkVersion(m[1]); err != nil {
				wire.WriteError(w, http.StatusBadRequest, err)
				return
			}
			p = strings.TrimPrefix(p, "/v"+m[1])
		}
		segs := strings.Split(p, "/")[1:]
		for i, seg := range segs {
			if seg == "." || seg == ".." || (seg == "" && i < len(segs)-1) {
				wire.WriteError(w, http.StatusBadRequest, fmt.Errorf("invalid path %q: no empty, . or .. segments", r.URL.Path))
				return
			}
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = p, ""
		next.ServeHTTP(w, r2)
	})
}

// checkVersion returns dockerd's error for a version outside
// [MinAPIVersion, APIVersion].
func checkVersion(v string) error {
	if versionLess(APIVersion, v) {
		return fmt.Errorf("client version %s is too new. Maximum supported API version is %s", v, APIVersion)
	}
	if versionLess(v, MinAPIVersion) {
		return fmt.Errorf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinAPIVersion)
	}
	return nil
}

// versionLess compares two MAJOR.MINOR versions.
func versionLess(a, b string) bool {
	am, an, _ := strings.Cut(a, ".")
	bm, bn, _ := strings.Cut(b, ".")
	x, _ := strconv.Atoi(am)
	y, _ := strconv.Atoi(bm)
	if x != y {
		return x < y
	}
	x, _ = strconv.Atoi(an)
	y, _ = strconv.Atoi(bn)
	return x < y
}

// ping is /_ping: "OK", and in its headers the API version the client
// negotiates down to.
func ping(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Ostype", runtime.GOOS)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Length", "0")
		return
	}
	w.Write([]byte("OK"))
}

func version(w http.ResponseWriter, r *http.Request) {
	wire.WriteJSON(w, http.StatusOK, system.VersionResponse{
		Platform:   system.PlatformInfo{Name: "mini-docker"},
		Version:    cli.Version,
		APIVersion: APIVersion, MinAPIVersion: MinAPIVersion,
		Os: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version(),
		KernelVersion: kernelVersion(),
		Components:    []system.ComponentVersion{{Name: "Engine", Version: cli.Version, Details: map[string]string{"ApiVersion": APIVersion, "MinAPIVersion": MinAPIVersion}}},
	})
}

// containers opens the engine and lists every container, refreshed.
func (s *Server) containers() (*engine.Engine, []*container.Container, error) {
	e, err := s.engine()
	if err != nil {
		return nil, nil, err
	}
	cs, err := e.List()
	return e, cs, err
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	_, cs, err := s.containers()
	if err != nil {
		return err
	}
	info := system.Info{ID: "mini-docker", Name: hostname(), ServerVersion: cli.Version, Driver: "overlay2",
		DockerRootDir: s.Root, OperatingSystem: "mini-docker", OSType: runtime.GOOS, Architecture: runtime.GOARCH,
		KernelVersion: kernelVersion(), NCPU: runtime.NumCPU(), CgroupDriver: "cgroupfs", LoggingDriver: "json-file"}
	info.Containers = len(cs)
	for _, c := range cs {
		switch {
		case c.State.Paused:
			info.ContainersPaused++
		case c.State.Running:
			info.ContainersRunning++
		default:
			info.ContainersStopped++
		}
	}
	if st, err := store.Open(s.Root); err == nil {
		if list, err := st.List(); err == nil {
			info.Images = len(list)
		}
	}
	wire.WriteJSON(w, http.StatusOK, info)
	return nil
}
