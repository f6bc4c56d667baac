package ship

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/moby/api/types/jsonstream"

	"mini-docker/internal/inroot"
	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/dockerfile"
	"mini-docker/mini-docker/engine"
	"mini-docker/pull/reference"
)

// BuildOptions reads POST /build's query as dockerd does: t (each a
// name), dockerfile (a path inside the context), buildargs (a JSON
// object; a null value takes nothing), nocache, target, networkmode,
// q. The rest (rm, forcerm, pull, labels, ...) is accepted and unused.
func BuildOptions(q map[string][]string) (dockerfile.Options, bool, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	flag := func(k string) bool {
		switch strings.ToLower(strings.TrimSpace(get(k))) {
		case "", "0", "no", "false", "none":
			return false
		}
		return true
	}
	o := dockerfile.Options{Tags: q["t"], NoCache: flag("nocache"), Target: get("target"), BuildArgs: map[string]string{}, Network: "none"}
	for _, t := range o.Tags {
		if _, err := reference.Parse(t); err != nil {
			return o, false, wire.Badf("invalid reference format: %q: %v", t, err)
		}
	}
	if df := get("dockerfile"); df != "" {
		o.Dockerfile = path.Clean("/" + df)[1:]
		if o.Dockerfile == "" {
			return o, false, wire.Badf("invalid dockerfile %q: want a file in the context", df)
		}
	}
	if raw := get("buildargs"); raw != "" {
		var args map[string]*string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			return o, false, wire.Badf("invalid buildargs %q: %v", raw, err)
		}
		for k, v := range args {
			if v != nil {
				o.BuildArgs[k] = *v
			}
		}
	}
	switch nm := get("networkmode"); nm {
	case "", "default":
	case "none", "host", "bridge":
		o.Network = nm
	default:
		return o, false, wire.Badf("invalid networkmode %q: mini-docker builds with none, host or bridge", nm)
	}
	return o, flag("q"), nil
}

// build is POST /build (docker build with the classic builder, as
// DOCKER_BUILDKIT=0 asks): the body is the context as a tar stream
// (gzip'd with --compress), unpacked into a folder of its own; the
// build is `mini-docker build`'s (dockerfile.Build), its output sent as
// {"stream": ...} messages, the image ID as {"aux": {"ID": ...}}.
func (s *Server) build(w http.ResponseWriter, r *http.Request) error {
	o, quiet, err := BuildOptions(r.URL.Query())
	if err != nil {
		return err
	}
	e, st, err := s.open()
	if err != nil {
		return err
	}
	st.CleanIngest() // what a killed build (or pull) left in ingest/
	dir, err := os.MkdirTemp("", "mini-docker-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := extractContext(r.Body, dir); err != nil {
		return err
	}
	if o.Dockerfile == "" {
		o.Dockerfile = "Dockerfile"
	}
	// Found inside the context, as Docker's daemon finds it: a link in
	// the context to a host file reads the context's own file of that name.
	df, err := inroot.OpenRegular(dir, o.Dockerfile)
	if err != nil {
		return wire.Badf("Cannot locate specified Dockerfile: %s", o.Dockerfile)
	}
	defer df.Close()
	o.Context, o.Dockerfile = dir, "/proc/self/fd/"+strconv.Itoa(int(df.Fd()))
	stream := wire.NewStream(w)
	o.Out = io.Discard
	if !quiet {
		o.Out = buildOutput{stream}
	}
	o.Explain = e.Explain
	o.Pull = s.pullFunc(r, e, o.Out)
	res, err := dockerfile.Build(st, e, o)
	if err != nil {
		code := 1
		var re *dockerfile.RunError
		if errors.As(err, &re) {
			code = re.Code
		}
		stream.Send(jsonstream.Message{Error: &jsonstream.Error{Code: code, Message: err.Error()}})
		return nil
	}
	aux, _ := json.Marshal(map[string]string{"ID": res.Image.ID.String()})
	raw := json.RawMessage(aux)
	stream.Send(jsonstream.Message{Aux: &raw})
	if quiet { // all the docker CLI prints of build -q is the stream: the ID
		stream.Send(jsonstream.Message{Stream: res.Image.ID.String() + "\n"})
	}
	return nil
}

// buildOutput sends the builder's lines as {"stream": ...} messages,
// but for the context's size: the docker CLI has printed it itself.
type buildOutput struct{ s *wire.Stream }

func (b buildOutput) Write(p []byte) (int, error) {
	if !strings.HasPrefix(string(p), "Sending build context to Docker daemon") {
		b.s.Send(jsonstream.Message{Stream: string(p)})
	}
	return len(p), nil
}

// pullFunc pulls a missing base image with the pull tool, as a build
// by dockerd pulls FROM's image; its lines go to out.
func (s *Server) pullFunc(r *http.Request, e *engine.Engine, out io.Writer) func(ref string) error {
	return func(ref string) error {
		cmd, err := PullCommand(r, e.Tools, "--implicit", "--root", s.Root, ref)
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = out, out
		return cmd.Run()
	}
}

// PullCommand is the pull tool of tools (the program `mini-docker pull`
// runs) with args, for the request r: when the client leaves, or this
// server dies, the pull gets SIGTERM, on which it removes what it half
// made.
func PullCommand(r *http.Request, tools engine.Tools, args ...string) (*exec.Cmd, error) {
	p, err := tools.Path("pull", "pull")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(r.Context(), p, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	return cmd, nil
}

// extractContext unpacks the build context r into dir through an
// os.Root, which refuses any name or link that would lead out of dir
// (a context is the client's, and a hostile one names ../../etc/...).
// Regular files, folders, symlinks and hard links; the rest is skipped.
func extractContext(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	br := bufio.NewReader(r)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return wire.Badf("invalid build context: %v", err)
		}
		in = gz
	}
	// A sparse entry's holes are made up by the reader: counted against
	// the bytes the client sent, a few bytes cannot claim a terabyte.
	var sent byteCount
	tr := tar.NewReader(io.TeeReader(in, &sent))
	var written int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return wire.Badf("invalid build context: %v", err)
		}
		if err := extractEntry(root, h, &bounded{r: tr, sent: &sent, written: &written}); err != nil {
			return wire.Badf("invalid build context: %s: %v", h.Name, err)
		}
	}
}

// extractEntry makes one entry of the context under root.
func extractEntry(root *os.Root, h *tar.Header, content io.Reader) error {
	name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
	if name == "" {
		return nil
	}
	mode := fs.FileMode(h.Mode) & fs.ModePerm
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if err := root.MkdirAll(name, 0o755); err != nil {
			return err
		}
		return root.Chmod(name, mode|0o700)
	case tar.TypeReg:
		f, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		return root.Chmod(name, mode)
	case tar.TypeSymlink:
		return root.Symlink(h.Linkname, name)
	case tar.TypeLink:
		return root.Link(strings.TrimPrefix(path.Clean("/"+h.Linkname), "/"), name)
	}
	return nil
}

// byteCount counts the bytes written to it (what a TeeReader read).
type byteCount int64

func (c *byteCount) Write(p []byte) (int, error) {
	*c += byteCount(len(p))
	return len(p), nil
}

// bounded reads an entry's content while all the contents read so far
// are no more than what was sent, and a megabyte.
type bounded struct {
	r       io.Reader
	sent    *byteCount
	written *int64
}

func (b *bounded) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if *b.written += int64(n); *b.written > int64(*b.sent)+(1<<20) {
		return n, errors.New("more content than was sent: sparse files are not supported")
	}
	return n, err
}
