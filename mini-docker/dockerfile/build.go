package dockerfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/explain"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/dockerfile/healthcheck"
	"mini-docker/mini-docker/dockerfile/ignore"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/imageops"
	"mini-docker/mini-docker/imageops/newlayer"
	"mini-docker/mini-docker/spec"
	"mini-docker/pull/store"
)

// Options configure a build.
type Options struct {
	Context    string            // the build context folder
	Dockerfile string            // default Context/Dockerfile
	Tags       []string          // -t NAME[:TAG], tagged only when every step succeeded
	BuildArgs  map[string]string // --build-arg K=V
	NoCache    bool
	Target     string // --target: the stage to stop after (default the last)
	Network    string // for RUN: none (default), host, bridge
	Out        io.Writer
	Explain    *explain.Printer
	// Pull fetches a missing base image into the store (nil: refuse).
	Pull func(ref string) error
}

// Result is what a build made.
type Result struct {
	Image  *imageops.Image
	Tags   []string
	Steps  int
	Cached int // steps that used the cache
}

// RunError is a RUN step whose command failed: Docker's words, and its
// exit code (docker build exits with it).
type RunError struct {
	Cmd  string
	Code int
}

func (e *RunError) Error() string {
	return fmt.Sprintf("The command '%s' returned a non-zero code: %d", e.Cmd, e.Code)
}

// ErrInterrupted is a build stopped by Ctrl-C (SIGINT) or SIGTERM while
// a RUN step ran: its container killed and removed, nothing committed,
// as Docker's build stops when its client goes.
var ErrInterrupted = errors.New("build interrupted: the RUN step's container was killed and removed")

// killOnInterrupt watches for SIGINT and SIGTERM until stop is called
// (once or more): interrupted says whether one came. Once running names
// the RUN step's container, a signal kills it: the signal also reaches
// the container, as docker run passes it on, but its PID 1 may ignore
// it, and the build must not go on.
func (b *Builder) killOnInterrupt() (interrupted func() bool, running func(id string), stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	var hit atomic.Bool
	var id atomic.Pointer[string]
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			hit.Store(true)
			if p := id.Load(); p != nil {
				if c, err := b.e.Store.Load(*p); err == nil {
					b.e.Kill(c, syscall.SIGKILL)
				}
			}
		case <-done:
		}
	}()
	var once sync.Once
	return hit.Load, func(s string) { id.Store(&s) }, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
		})
	}
}

// Builder runs one Dockerfile.
type Builder struct {
	s      *store.Store
	e      *engine.Engine
	o      Options
	out    io.Writer
	cur    *imageops.Image
	cfg    ocispec.ImageConfig
	ext    dockerspec.DockerOCIImageConfigExt // SHELL, HEALTHCHECK, ONBUILD
	stages []*stage
	args   map[string]string // ARG values in scope (declared)
	global map[string]string // ARGs declared before FROM
	ignore *ignore.Matcher
	cmdSet bool // CMD was set in this stage (ENTRYPOINT then keeps it)
	// declared are the ARG names of the Dockerfile: a --build-arg for
	// another name is reported unused, as Docker does.
	declared map[string]bool
}

// Build runs the Dockerfile of o. e runs the RUN steps' containers; its
// image store is replaced during the build by the step's parent image.
func Build(s *store.Store, e *engine.Engine, o Options) (*Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Network == "" {
		o.Network = "none"
	}
	ctxDir, err := filepath.Abs(o.Context)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(ctxDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("unable to prepare context: path %q not found", o.Context)
	}
	o.Context = ctxDir
	if o.Dockerfile == "" {
		o.Dockerfile = filepath.Join(ctxDir, "Dockerfile")
	}
	ins, err := ParseFile(o.Dockerfile)
	if err != nil {
		return nil, err
	}
	if ins, err = untilTarget(ins, o.Target); err != nil {
		return nil, err
	}
	ig, err := ignore.Load(ctxDir)
	if err != nil {
		return nil, err
	}
	// Until the image is tagged, its blobs are referenced by nothing: the
	// shared lock keeps an rmi's garbage collection away from them.
	unlock, err := s.LockShared()
	if err != nil {
		return nil, err
	}
	defer unlock()
	b := &Builder{s: s, e: e, o: o, out: o.Out, args: map[string]string{}, global: map[string]string{}, ignore: ig, declared: map[string]bool{}}
	fmt.Fprintf(b.out, "Sending build context to Docker daemon  %s\n", imageops.HumanSize(ignore.ContextSize(ctxDir, ig)))
	res := &Result{Steps: len(ins)}
	for i, in := range ins {
		fmt.Fprintf(b.out, "Step %d/%d : %s\n", i+1, len(ins), in.Original)
		cached, err := b.step(in)
		if err != nil {
			return nil, err
		}
		if len(b.stages) > 0 {
			b.stages[len(b.stages)-1].img = b.cur
		}
		if cached {
			res.Cached++
		}
		if b.cur != nil {
			fmt.Fprintf(b.out, " ---> %s\n", b.cur.ID.Encoded()[:12])
		}
	}
	if b.cur == nil {
		return nil, errors.New("no image was built: FROM scratch and nothing after it")
	}
	var unused []string
	for k := range o.BuildArgs {
		if !b.declared[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		fmt.Fprintf(b.out, "[Warning] One or more build-args %v were not consumed\n", unused)
	}
	res.Image = b.cur
	fmt.Fprintf(b.out, "Successfully built %s\n", b.cur.ID.Encoded()[:12])
	for _, t := range o.Tags {
		name, err := imageops.Tag(s, b.cur, t, o.Explain)
		if err != nil {
			return nil, err
		}
		res.Tags = append(res.Tags, name)
		fmt.Fprintf(b.out, "Successfully tagged %s\n", name)
	}
	return res, nil
}

// lookupVar finds a variable for substitution: ENV first, then ARG.
func (b *Builder) lookupVar(name string) (string, bool) {
	for i := len(b.cfg.Env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(b.cfg.Env[i], "="); k == name {
			return v, true
		}
	}
	v, ok := b.args[name]
	return v, ok
}

// word expands s, a word of instruction in, with the stage's variables
// (Word); a bad ${ is the instruction's parse error.
func (b *Builder) word(in Instruction, s string) (string, error) {
	w, err := Word(s, in.Escape, b.lookupVar)
	if err != nil {
		return "", &ParseError{in.Line, in.Cmd + ": " + err.Error()}
	}
	return w, nil
}

// fields is word for a list: the expansion split at unquoted spaces.
func (b *Builder) fields(in Instruction, s string, vars Vars) ([]string, error) {
	w, err := Fields(s, in.Escape, vars)
	if err != nil {
		return nil, &ParseError{in.Line, in.Cmd + ": " + err.Error()}
	}
	return w, nil
}

// step runs one instruction and reports whether the cache served it.
func (b *Builder) step(in Instruction) (bool, error) {
	if in.Cmd == "FROM" {
		return false, b.from(in)
	}
	if len(b.stages) == 0 && in.Cmd == "ARG" { // before the first FROM: a global ARG
		arg, err := b.word(in, in.Args)
		if err != nil {
			return false, err
		}
		k, v, hasDefault := strings.Cut(arg, "=")
		if bv, ok := b.o.BuildArgs[k]; ok {
			v, hasDefault = bv, true
		}
		if hasDefault {
			b.global[k], b.args[k] = v, v
		}
		b.declared[k] = true
		return false, nil
	}
	switch in.Cmd {
	case "RUN":
		return b.run(in)
	case "COPY", "ADD":
		return b.copy(in)
	case "WORKDIR":
		return b.workdir(in)
	}
	return b.meta(in)
}

// from starts a stage: its base is an image (pulled when the store
// lacks it), an earlier stage (FROM NAME), or scratch.
func (b *Builder) from(in Instruction) error {
	words, err := b.fields(in, in.Args, func(k string) (string, bool) { v, ok := b.global[k]; return v, ok })
	if err != nil {
		return err
	}
	if len(words) == 0 {
		return &ParseError{in.Line, fmt.Sprintf("base name (%s) should not be blank", in.Args)}
	}
	if len(words) != 1 && (len(words) != 3 || !strings.EqualFold(words[1], "AS")) {
		return &ParseError{in.Line, "FROM requires either one or three arguments"}
	}
	ref := words[0]
	b.args, b.cmdSet = map[string]string{}, false
	name, _ := stageName(strings.Join(words, " "))
	b.stages = append(b.stages, &stage{name: name})
	if strings.EqualFold(ref, "scratch") {
		b.cur, b.cfg, b.ext = nil, ocispec.ImageConfig{}, dockerspec.DockerOCIImageConfigExt{}
		return nil
	}
	var img *imageops.Image
	if st, ok := b.findStage(ref); ok && !isNumber(ref) {
		img = st.img
	} else {
		var err error
		if img, err = b.image(ref); err != nil {
			return fmt.Errorf("base %w", err)
		}
	}
	b.cur = img
	if img == nil {
		b.cfg, b.ext = ocispec.ImageConfig{}, dockerspec.DockerOCIImageConfigExt{}
		return nil
	}
	b.cfg, b.ext = img.Config.Config, imageops.ConfigExt(img)
	b.cfg.Env = append([]string{}, b.cfg.Env...)
	return b.triggers()
}

func isNumber(s string) bool { _, err := strconv.Atoi(s); return err == nil }

// cacheKey names a step's result: the parent image, the instruction as
// it will run (variables expanded), and extra (copied content).
func (b *Builder) cacheKey(createdBy, extra string) string {
	h := sha256.New()
	parent := "scratch"
	if b.cur != nil {
		parent = b.cur.ID.String()
	}
	cfg, _ := json.Marshal(dockerspec.DockerOCIImageConfig{ImageConfig: b.cfg, DockerOCIImageConfigExt: b.ext})
	fmt.Fprintf(h, "%s\n%s\n%s\n%s", parent, createdBy, cfg, extra)
	return hex.EncodeToString(h.Sum(nil))
}

// cacheEntry is what the cache keeps of a step's image: its exact
// manifest and config (the layers are in the store, under their digests).
type cacheEntry struct {
	Manifest json.RawMessage `json:"manifest"`
	Config   json.RawMessage `json:"config"`
}

func (b *Builder) cachePath(key string) string {
	return filepath.Join(b.s.Root, "build-cache", key+".json")
}

// fromCache returns the image a step made before, when the store still
// holds every layer of it.
func (b *Builder) fromCache(key string) *imageops.Image {
	if b.o.NoCache {
		return nil
	}
	raw, err := os.ReadFile(b.cachePath(key))
	if err != nil {
		return nil
	}
	var ce cacheEntry
	if json.Unmarshal(raw, &ce) != nil {
		return nil
	}
	img := &imageops.Image{ManifestRaw: ce.Manifest, ConfigRaw: ce.Config}
	if json.Unmarshal(ce.Manifest, &img.Manifest) != nil || json.Unmarshal(ce.Config, &img.Config) != nil {
		return nil
	}
	// The cache is a file under the state root: its digests are checked
	// like an image's before any becomes a layer path.
	if store.ValidateManifest(img.Manifest) != nil || store.ValidateConfig(img.Config, len(img.Manifest.Layers)) != nil {
		return nil
	}
	img.Digest, img.ID = digestOf(ce.Manifest), img.Manifest.Config.Digest
	for i, d := range img.Config.RootFS.DiffIDs {
		dir, err := b.s.LayerDir(d)
		if err != nil || !b.s.HasLayer(d) || !b.s.HasBlob(img.Manifest.Layers[i].Digest) {
			return nil
		}
		img.LayerDirs = append(img.LayerDirs, dir)
	}
	if imageops.Store(b.s, img, nil) != nil {
		return nil
	}
	return img
}

func (b *Builder) remember(key string, img *imageops.Image) {
	raw, _ := json.Marshal(cacheEntry{Manifest: img.ManifestRaw, Config: img.ConfigRaw})
	p := b.cachePath(key)
	os.MkdirAll(filepath.Dir(p), 0o755)
	tmp := p + "." + strconv.Itoa(os.Getpid()) + ".tmp"
	if os.WriteFile(tmp, raw, 0o644) == nil {
		os.Rename(tmp, p)
	}
}

// cached applies a cache hit, when there is one.
func (b *Builder) cached(key string) bool {
	img := b.fromCache(key)
	if img == nil {
		return false
	}
	fmt.Fprintln(b.out, " ---> Using cache")
	b.cur, b.cfg, b.ext = img, img.Config.Config, imageops.ConfigExt(img)
	return true
}

// commit records the step's image and makes it the current one.
func (b *Builder) commit(key, createdBy string, layer *imageops.Layer) error {
	ext := b.ext
	img, err := imageops.New(b.s, b.cur, imageops.Change{Config: b.cfg, Ext: &ext, CreatedBy: createdBy, Layer: layer}, b.o.Explain)
	if err != nil {
		return err
	}
	b.remember(key, img)
	b.cur, b.cfg = img, img.Config.Config
	return nil
}

// meta runs the instructions that change only the config: the new
// image has the parent's layers and an empty_layer history entry.
func (b *Builder) meta(in Instruction) (bool, error) {
	prev := b.ext
	next, desc, err := b.configFor(in)
	if err != nil {
		return false, err
	}
	// The history names the shell in force after the step (Docker's
	// classic builder: "/bin/sh -ec #(nop)  SHELL [/bin/sh -ec]").
	next2 := b.ext
	createdBy := nop(next2.Shell) + " " + desc
	b.ext = prev
	key := b.cacheKey(createdBy, "") // from the parent (its ID covers its config)
	if b.cached(key) {
		return true, nil
	}
	b.cfg, b.ext = next, next2
	return false, b.commit(key, createdBy, nil)
}

// metaConfig is configFor without the history text.
func (b *Builder) metaConfig(in Instruction) (ocispec.ImageConfig, error) {
	next, _, err := b.configFor(in)
	return next, err
}

// declareArg is ARG inside a stage (arg: its NAME[=default], expanded):
// the value from --build-arg, the default, or a global ARG's, for RUN's
// environment.
func (b *Builder) declareArg(arg string) {
	k, v, hasDefault := strings.Cut(arg, "=")
	if gv, ok := b.global[k]; ok && !hasDefault {
		v, hasDefault = gv, true
	}
	if bv, ok := b.o.BuildArgs[k]; ok {
		v, hasDefault = bv, true
	}
	if hasDefault {
		b.args[k] = v
	} else {
		delete(b.args, k) // declared, but without a value: not in RUN's environment
	}
	b.declared[k] = true
}

// expose adds EXPOSE's ports (tcp unless named) to old; the history's
// description lists them all, sorted.
func expose(old map[string]struct{}, args string) (map[string]struct{}, string) {
	ports := copySet(old)
	for _, p := range strings.Fields(args) {
		if !strings.Contains(p, "/") {
			p += "/tcp"
		}
		ports[p] = struct{}{}
	}
	var names []string
	for p := range ports {
		names = append(names, p)
	}
	sort.Strings(names)
	return ports, "EXPOSE " + strings.Join(names, " ")
}

// setCommand is CMD or ENTRYPOINT (the shell form runs /bin/sh -c); it
// returns the history's description.
func (b *Builder) setCommand(cur *ocispec.ImageConfig, in Instruction) string {
	argv := in.JSON
	if !in.IsJSON {
		argv = append(shell(b.ext.Shell), in.Args)
	}
	if in.Cmd == "CMD" {
		cur.Cmd = argv
		b.cmdSet = true
	} else {
		cur.Entrypoint = argv
		if !b.cmdSet {
			cur.Cmd = nil // Docker: ENTRYPOINT resets the base image's CMD
		}
	}
	return in.Cmd + " " + quoteArgv(argv)
}

// configFor returns the config after instruction in, and the text of its
// history entry. ARG changes the builder's variables, not the config.
func (b *Builder) configFor(in Instruction) (ocispec.ImageConfig, string, error) {
	old := b.cfg
	cur := old
	cur.Env = append([]string{}, old.Env...)
	arg, err := b.word(in, in.Args)
	if err != nil {
		return old, "", err
	}
	desc := in.Cmd + " " + arg
	switch in.Cmd {
	case "ENV":
		kvs, err := Pairs(in, b.lookupVar)
		if err != nil {
			return old, "", &ParseError{in.Line, "ENV: " + err.Error()}
		}
		var parts []string
		for _, kv := range kvs {
			cur.Env = setEnv(cur.Env, kv[0]+"="+kv[1])
			parts = append(parts, kv[0]+"="+kv[1])
		}
		desc = "ENV " + strings.Join(parts, " ")
	case "ARG":
		b.declareArg(arg)
		desc = "ARG " + in.Args
	case "LABEL", "MAINTAINER":
		cur.Labels = copyMap(old.Labels)
		if in.Cmd == "MAINTAINER" {
			cur.Labels["maintainer"] = arg
			break
		}
		kvs, err := Pairs(in, b.lookupVar)
		if err != nil {
			return old, "", &ParseError{in.Line, "LABEL: " + err.Error()}
		}
		var parts []string
		for _, kv := range kvs {
			cur.Labels[kv[0]] = kv[1]
			parts = append(parts, kv[0]+"="+kv[1])
		}
		desc = "LABEL " + strings.Join(parts, " ")
	case "USER":
		cur.User = arg
	case "EXPOSE":
		cur.ExposedPorts, desc = expose(old.ExposedPorts, arg)
	case "CMD", "ENTRYPOINT":
		desc = b.setCommand(&cur, in)
	case "STOPSIGNAL":
		cur.StopSignal = arg
	case "VOLUME":
		vols := copySet(old.Volumes)
		list := in.JSON
		if !in.IsJSON {
			list, _ = Fields(in.Args, in.Escape, b.lookupVar) // its errors are arg's
		}
		for _, v := range list {
			vols[v] = struct{}{}
		}
		cur.Volumes = vols
	case "SHELL":
		if !in.IsJSON || len(in.JSON) == 0 {
			return old, "", &ParseError{in.Line, "SHELL requires the arguments to be in JSON form"}
		}
		b.ext.Shell = in.JSON
		desc = "SHELL [" + strings.Join(in.JSON, " ") + "]"
	case "HEALTHCHECK":
		hc, err := healthcheck.Parse(in.Flags, in.Args)
		if err != nil {
			return old, "", &ParseError{in.Line, err.Error()}
		}
		b.ext.Healthcheck, desc = hc, healthcheck.Describe(hc)
	case "ONBUILD":
		b.ext.OnBuild = append(append([]string{}, b.ext.OnBuild...), in.Args)
		desc = "ONBUILD " + in.Args
	}
	return cur, desc, nil
}

func copyMap(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func copySet(m map[string]struct{}) map[string]struct{} {
	out := map[string]struct{}{}
	for k := range m {
		out[k] = struct{}{}
	}
	return out
}

// quoteArgv prints an exec form as Docker's history does: ["a" "b"].
func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(q, " ") + "]"
}

// setEnv sets K=V in env, replacing an earlier K.
func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if ek, _, _ := strings.Cut(e, "="); ek == k {
			out := append([]string{}, env...)
			out[i] = kv
			return out
		}
	}
	return append(env, kv)
}

// argEnv lists the build args in scope as K=V (sorted), which RUN sees
// in its environment but the image does not keep.
func (b *Builder) argEnv() []string {
	var out []string
	for k, v := range b.args {
		if _, isEnv := b.lookupEnv(k); !isEnv {
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}

func (b *Builder) lookupEnv(name string) (string, bool) {
	for _, e := range b.cfg.Env {
		if k, v, _ := strings.Cut(e, "="); k == name {
			return v, true
		}
	}
	return "", false
}

// run runs a RUN step in a container from the current image (network
// none unless asked), then commits the container's upper dir as a layer.
func (b *Builder) run(in Instruction) (bool, error) {
	if b.cur == nil {
		return false, &ParseError{in.Line, "RUN needs a base image with a shell (FROM scratch has none)"}
	}
	argv := in.JSON
	switch {
	case !in.IsJSON && len(in.Heredocs) > 0:
		argv = append(shell(b.ext.Shell), heredocScript(in))
	case !in.IsJSON:
		argv = append(shell(b.ext.Shell), in.Args)
	}
	createdBy := strings.Join(argv, " ")
	if env := b.argEnv(); len(env) > 0 {
		createdBy = "|" + strconv.Itoa(len(env)) + " " + strings.Join(env, " ") + " " + createdBy
	}
	key := b.cacheKey(createdBy, "")
	if b.cached(key) {
		return true, nil
	}
	layer, err := b.runContainer(argv, in)
	if err != nil {
		return false, err
	}
	return false, b.commit(key, createdBy, layer)
}

// shell is SHELL's command, which runs the shell forms of RUN, CMD and
// ENTRYPOINT (default /bin/sh -c).
func shell(sh []string) []string {
	if len(sh) == 0 {
		return []string{"/bin/sh", "-c"}
	}
	return append([]string{}, sh...)
}

// nop starts the history line of a step that runs nothing: the shell,
// then "#(nop) ", as Docker's classic builder writes it.
func nop(sh []string) string { return strings.Join(shell(sh), " ") + " #(nop) " }

// parentImages gives the engine the build's current image, whatever
// reference the container names: intermediate images are never tagged.
type parentImages struct{ img *imageops.Image }

func (p parentImages) Lookup(ref string) (*engine.Image, error) {
	return &engine.Image{Ref: ref, ID: p.img.ID.String(), Config: p.img.Config, LayerDirs: p.img.LayerDirs}, nil
}

func (b *Builder) runContainer(argv []string, in Instruction) (*imageops.Layer, error) {
	e := b.e
	e.Images = parentImages{b.cur}
	e.Stdout, e.Stderr = b.out, b.out
	empty := ""
	o := &spec.Options{
		Image: b.cur.ID.String(), Args: argv, Entrypoint: &empty, Network: b.o.Network, Pull: "never",
		Env: b.argEnv(), User: b.cfg.User, Workdir: b.cfg.WorkingDir,
	}
	interrupted, running, stop := b.killOnInterrupt()
	defer stop()
	c, err := e.Create(o, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cur, err := e.Store.Load(c.ID); err == nil {
			e.Remove(cur, true)
		}
		fmt.Fprintf(b.out, "Removing intermediate container %s\n", container.ShortID(c.ID))
	}()
	if interrupted() {
		return nil, ErrInterrupted
	}
	fmt.Fprintf(b.out, " ---> Running in %s\n", container.ShortID(c.ID))
	running(c.ID)
	code, err := e.Start(c, engine.Attach{})
	if stop(); interrupted() {
		return nil, ErrInterrupted
	}
	var ce engine.ChainExit
	if errors.As(err, &ce) {
		code, err = ce.ExitCode(), nil
	}
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, &RunError{Cmd: strings.Join(argv, " "), Code: code}
	}
	c, err = e.Store.Load(c.ID)
	if err != nil {
		return nil, err
	}
	upper := c.GraphDriver.Data["UpperDir"]
	if upper == "" {
		return nil, fmt.Errorf("container %s: no upper dir recorded", container.ShortID(c.ID))
	}
	return newlayer.Commit(b.s, upper, b.o.Explain)
}

// workdir sets the working directory, and makes it in a layer of its own
// when the image does not have it yet (as Docker's classic builder does).
func (b *Builder) workdir(in Instruction) (bool, error) {
	dir, err := b.word(in, in.Args)
	if err != nil {
		return false, err
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("/", b.cfg.WorkingDir, dir)
	}
	dir = filepath.Clean(dir)
	createdBy := nop(b.ext.Shell) + "WORKDIR " + dir
	key := b.cacheKey(createdBy, "")
	if b.cached(key) {
		return true, nil
	}
	var layer *imageops.Layer
	if b.cur != nil && !existsInLayers(b.cur.LayerDirs, dir) {
		tmp, err := os.MkdirTemp(filepath.Join(b.s.Root, "ingest"), "build-workdir."+strconv.Itoa(os.Getpid())+".")
		if err != nil {
			return false, err
		}
		defer os.RemoveAll(tmp)
		root, err := os.OpenRoot(tmp)
		if err != nil {
			return false, err
		}
		defer root.Close()
		if err := mkdirLike(root, dir, b.cur.LayerDirs); err != nil {
			return false, err
		}
		if layer, err = newlayer.Commit(b.s, tmp, b.o.Explain); err != nil {
			return false, err
		}
	}
	b.cfg.WorkingDir = dir
	return false, b.commit(key, createdBy, layer)
}

// existsInLayers reports whether p is in the merged view of layers
// (base first): found in some layer and not whited out above it.
func existsInLayers(layers []string, p string) bool {
	for i := len(layers) - 1; i >= 0; i-- {
		for d := p; d != "/"; d = filepath.Dir(d) {
			if fi, err := os.Lstat(filepath.Join(layers[i], filepath.Dir(d), ".wh."+filepath.Base(d))); err == nil && fi != nil {
				return false
			}
		}
		if _, err := os.Lstat(filepath.Join(layers[i], p)); err == nil {
			return true
		}
	}
	return false
}

// mkdirLike makes p (and its parents) inside root, the parents with the
// mode, owner and time they have in the image, the new folders 0755
// root. One that is there but is not a folder (an earlier SOURCE's
// symlink) is replaced by a folder, never followed.
func mkdirLike(root *os.Root, p string, layers []string) error {
	var chain []string
	for d := p; d != "/" && d != "."; d = filepath.Dir(d) {
		chain = append([]string{strings.TrimPrefix(d, "/")}, chain...)
	}
	for _, d := range chain {
		if fi, err := root.Lstat(d); err == nil {
			if fi.IsDir() {
				continue
			}
			if err := root.Remove(d); err != nil {
				return err
			}
		}
		mode, uid, gid, mtime := os.FileMode(0o755), 0, 0, time.Now()
		for i := len(layers) - 1; i >= 0; i-- {
			if fi, err := lstatIn(layers[i], d); err == nil && fi.IsDir() {
				st := statOf(fi)
				mode, uid, gid, mtime = fi.Mode().Perm()|fi.Mode()&(os.ModeSticky|os.ModeSetgid), int(st.Uid), int(st.Gid), fi.ModTime()
				break
			}
		}
		if err := root.Mkdir(d, mode); err != nil {
			return err
		}
		root.Lchown(d, uid, gid)
		root.Chmod(d, mode)
		root.Chtimes(d, mtime, mtime)
	}
	return nil
}

// lstatIn is Lstat of rel inside the folder dir (a layer), its parents
// resolved inside it: a layer's symlink never leads to the host's files.
func lstatIn(dir, rel string) (os.FileInfo, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Lstat(rel)
}

// ApplyChanges applies Dockerfile instructions that only change the
// config, as docker commit -c and docker import -c do: the instructions
// Docker's BuildFromConfig accepts (CMD, ENTRYPOINT, ENV, EXPOSE,
// HEALTHCHECK, LABEL, ONBUILD, USER, VOLUME, WORKDIR); HEALTHCHECK and
// ONBUILD land in ext, Docker's own config fields. Any other is refused
// in Docker's words ("stopsignal is not a valid change command").
func ApplyChanges(cfg ocispec.ImageConfig, ext dockerspec.DockerOCIImageConfigExt, changes []string) (ocispec.ImageConfig, dockerspec.DockerOCIImageConfigExt, error) {
	if len(changes) == 0 {
		return cfg, ext, nil
	}
	ins, err := Parse("FROM scratch\n" + strings.Join(changes, "\n"))
	if err != nil {
		return cfg, ext, err
	}
	b := &Builder{cfg: cfg, ext: ext, args: map[string]string{}, declared: map[string]bool{}}
	for _, in := range ins[1:] {
		switch in.Cmd {
		case "WORKDIR":
			dir, err := b.word(in, in.Args)
			if err != nil {
				return cfg, ext, err
			}
			if !filepath.IsAbs(dir) {
				dir = filepath.Join("/", b.cfg.WorkingDir, dir)
			}
			b.cfg.WorkingDir = filepath.Clean(dir)
		case "ENV", "CMD", "ENTRYPOINT", "USER", "EXPOSE", "LABEL", "VOLUME", "HEALTHCHECK", "ONBUILD":
			next, err := b.metaConfig(in)
			if err != nil {
				return cfg, ext, err
			}
			b.cfg = next
		default:
			return cfg, ext, fmt.Errorf("%s is not a valid change command", strings.ToLower(in.Cmd))
		}
	}
	return b.cfg, b.ext, nil
}
