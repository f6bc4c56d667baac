package spec

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/mount"

	"mini-docker/internal/units"
)

// The three ways docker run asks for a mount, parsed with the words of
// Docker's CLI (opts/mount.go) and daemon (volume/mounts/linux_parser.go):
//
//	-v /host:/ctr[:MODE]      a bind mount (the host folder is made when missing)
//	-v NAME:/ctr[:MODE]       a named volume, created on first use
//	-v /ctr                   an anonymous volume
//	--mount type=bind|volume|tmpfs,source=...,target=...,readonly,...
//	--tmpfs /ctr[:OPTIONS]    a tmpfs
//
// Each is one mount.Mount, Docker's own type; engine/volumes.go turns
// them into the host paths that chroot binds (package volume makes the
// volumes).

// mountError is Docker's daemon-side refusal of a mount.
func mountError(typ mount.Type, format string, args ...any) error {
	return fmt.Errorf("invalid mount config for type %q: %s", typ, fmt.Sprintf(format, args...))
}

// volumeName is what Docker's local driver accepts as a volume's name.
var volumeName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`) })

// CheckVolumeName refuses a name the local driver does not accept, in
// Docker's words.
func CheckVolumeName(name string) error {
	if len(name) == 1 {
		return fmt.Errorf("volume name is too short, names should be at least two alphanumeric characters")
	}
	if !volumeName().MatchString(name) {
		return fmt.Errorf("%q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", name)
	}
	return nil
}

// ParseVolume reads one -v value. MODE is a comma list of rw or ro,
// nocopy (a volume not filled from the image), z or Z (SELinux labels:
// accepted and ignored, as without SELinux) and a propagation mode.
// A bind's missing host folder is created at the start
// (BindOptions.CreateMountpoint), as Docker does for -v only.
func ParseVolume(v string) (mount.Mount, error) {
	if v == "" {
		return mount.Mount{}, fmt.Errorf("invalid empty volume spec")
	}
	p := strings.Split(v, ":")
	var m mount.Mount
	mode := ""
	switch len(p) {
	case 1:
		m = mount.Mount{Type: mount.TypeVolume, Target: p[0]}
	case 2, 3:
		m = mount.Mount{Type: mount.TypeVolume, Source: p[0], Target: p[1]}
		if len(p) == 3 {
			mode = p[2]
		}
	default:
		return m, fmt.Errorf("invalid volume specification: '%s'", v)
	}
	if m.Source == "" && len(p) > 1 || m.Target == "" {
		return m, fmt.Errorf("invalid volume specification: '%s'", v)
	}
	if filepath.IsAbs(m.Source) {
		m.Type = mount.TypeBind
		m.BindOptions = &mount.BindOptions{CreateMountpoint: true}
	}
	for _, o := range strings.Split(mode, ",") {
		switch {
		case o == "" || o == "rw" || o == "z" || o == "Z":
		case o == "ro":
			m.ReadOnly = true
		case o == "nocopy" && m.Type == mount.TypeVolume:
			m.VolumeOptions = &mount.VolumeOptions{NoCopy: true}
		case slices.Contains(mount.Propagations, mount.Propagation(o)) && m.Type == mount.TypeBind:
			m.BindOptions.Propagation = mount.Propagation(o)
		default:
			return m, fmt.Errorf("invalid mode: %s", mode)
		}
	}
	return m, CheckMount(m)
}

// ParseMount reads one --mount value, a CSV list of KEY=VALUE fields
// (readonly and volume-nocopy may stand alone), as Docker's CLI does.
func ParseMount(v string) (mount.Mount, error) {
	r := csv.NewReader(strings.NewReader(v))
	fields, err := r.Read()
	if err != nil {
		return mount.Mount{}, err
	}
	m := mount.Mount{Type: mount.TypeVolume}
	var seen []string // the option families given: bind, volume, tmpfs
	for _, field := range fields {
		key, val, hasVal := strings.Cut(field, "=")
		key = strings.ToLower(key)
		if !hasVal && key != "readonly" && key != "ro" && key != "volume-nocopy" {
			return m, fmt.Errorf("invalid field '%s' must be a key=value pair", field)
		}
		if fam, _, ok := strings.Cut(key, "-"); ok && (fam == "bind" || fam == "volume" || fam == "tmpfs") {
			seen = append(seen, fam)
		}
		if err := setMountField(&m, key, val, hasVal, field); err != nil {
			return m, err
		}
	}
	for _, fam := range seen {
		if string(m.Type) != fam {
			return m, fmt.Errorf("cannot mix '%s-*' options with mount type '%s'", fam, m.Type)
		}
	}
	if m.Target == "" {
		return m, fmt.Errorf("target is required")
	}
	return m, nil
}

// setMountField sets the one --mount field key=val on m.
func setMountField(m *mount.Mount, key, val string, hasVal bool, field string) error {
	boolVal := func() (bool, error) {
		if !hasVal {
			return true, nil
		}
		b, err := strconv.ParseBool(val)
		if err != nil {
			return false, fmt.Errorf("invalid value for %s: %s", key, val)
		}
		return b, nil
	}
	var err error
	switch key {
	case "type":
		m.Type = mount.Type(strings.ToLower(val))
	case "source", "src":
		m.Source = val
	case "target", "dst", "destination":
		m.Target = val
	case "readonly", "ro":
		m.ReadOnly, err = boolVal()
	case "consistency":
		m.Consistency = mount.Consistency(strings.ToLower(val))
	case "bind-propagation":
		bindOpts(m).Propagation = mount.Propagation(strings.ToLower(val))
	case "bind-nonrecursive":
		bindOpts(m).NonRecursive, err = boolVal()
	case "volume-nocopy":
		volumeOpts(m).NoCopy, err = boolVal()
	case "volume-label":
		k, v, _ := strings.Cut(val, "=")
		o := volumeOpts(m)
		if o.Labels == nil {
			o.Labels = map[string]string{}
		}
		o.Labels[k] = v
	case "volume-driver":
		volumeOpts(m).DriverConfig = &mount.Driver{Name: val}
	case "volume-opt":
		return fmt.Errorf("volume-opt: the local driver here takes no options")
	case "tmpfs-size":
		n, perr := units.RAMInBytes(val)
		if perr != nil || n <= 0 {
			return fmt.Errorf("invalid value for %s: %s", key, val)
		}
		tmpfsOpts(m).SizeBytes = n
	case "tmpfs-mode":
		n, perr := strconv.ParseUint(val, 8, 32)
		if perr != nil || n > 0o7777 {
			return fmt.Errorf("invalid value for %s: %s", key, val)
		}
		tmpfsOpts(m).Mode = os.FileMode(n)
	default:
		return fmt.Errorf("unexpected key '%s' in '%s'", key, field)
	}
	return err
}

func bindOpts(m *mount.Mount) *mount.BindOptions {
	if m.BindOptions == nil {
		m.BindOptions = &mount.BindOptions{}
	}
	return m.BindOptions
}

func volumeOpts(m *mount.Mount) *mount.VolumeOptions {
	if m.VolumeOptions == nil {
		m.VolumeOptions = &mount.VolumeOptions{}
	}
	return m.VolumeOptions
}

func tmpfsOpts(m *mount.Mount) *mount.TmpfsOptions {
	if m.TmpfsOptions == nil {
		m.TmpfsOptions = &mount.TmpfsOptions{}
	}
	return m.TmpfsOptions
}

// CheckMount is the daemon's check of one mount (validateMountConfig):
// the type, the source each type wants, an absolute target other than
// /, a known propagation, the named volume's name.
func CheckMount(m mount.Mount) error {
	if !filepath.IsAbs(m.Target) {
		return mountError(m.Type, "invalid mount path: '%s' mount path must be absolute", m.Target)
	}
	if filepath.Clean(m.Target) == "/" {
		return mountError(m.Type, "invalid specification: destination can't be '/'")
	}
	switch m.Type {
	case mount.TypeBind:
		if m.Source == "" {
			return mountError(m.Type, "field Source must not be empty")
		}
		if !filepath.IsAbs(m.Source) {
			return mountError(m.Type, "invalid mount path: '%s' mount path must be absolute", m.Source)
		}
		if m.BindOptions != nil && m.BindOptions.Propagation != "" && !slices.Contains(mount.Propagations, m.BindOptions.Propagation) {
			return mountError(m.Type, "invalid propagation mode: %s", m.BindOptions.Propagation)
		}
		if m.BindOptions == nil || !m.BindOptions.CreateMountpoint {
			if _, err := os.Stat(m.Source); err != nil {
				return mountError(m.Type, "bind source path does not exist: %s", m.Source)
			}
		}
	case mount.TypeVolume:
		if m.Source != "" {
			if err := CheckVolumeName(m.Source); err != nil {
				return mountError(m.Type, "%v", err)
			}
		}
		if d := m.VolumeOptions; d != nil && d.DriverConfig != nil && d.DriverConfig.Name != "" && d.DriverConfig.Name != "local" {
			return fmt.Errorf("error looking up volume plugin %s: plugin %q not found", d.DriverConfig.Name, d.DriverConfig.Name)
		}
	case mount.TypeTmpfs:
		if m.Source != "" {
			return mountError(m.Type, "field Source must not be specified")
		}
	default:
		return mountError(m.Type, "mount type unknown")
	}
	return nil
}

// ParseTmpfs reads one --tmpfs /ctr[:OPTIONS], refusing an option
// tmpfs does not know as Docker does.
func ParseTmpfs(v string) (dst, opts string, err error) {
	dst, opts, _ = strings.Cut(v, ":")
	if !filepath.IsAbs(dst) {
		return "", "", fmt.Errorf("invalid mount path: '%s' mount path must be absolute", dst)
	}
	if filepath.Clean(dst) == "/" {
		return "", "", fmt.Errorf("invalid specification: destination can't be '/'")
	}
	for _, o := range strings.Split(opts, ",") {
		if o == "" {
			continue
		}
		kv := strings.SplitN(o, "=", 2)
		if !tmpfsFlags[kv[0]] && !(len(kv) == 2 && tmpfsData[kv[0]]) {
			return "", "", fmt.Errorf("invalid tmpfs option %q", kv)
		}
	}
	return dst, opts, nil
}

// tmpfsFlags are the mount flags a tmpfs takes; tmpfsData its own
// options (Docker's ValidateTmpfsMountOptions).
var (
	tmpfsFlags = map[string]bool{"rw": true, "ro": true, "exec": true, "noexec": true, "suid": true, "nosuid": true,
		"dev": true, "nodev": true, "sync": true, "async": true, "dirsync": true, "atime": true, "noatime": true,
		"diratime": true, "nodiratime": true, "relatime": true, "norelatime": true, "strictatime": true, "nostrictatime": true}
	tmpfsData = map[string]bool{"size": true, "mode": true, "uid": true, "gid": true, "nr_inodes": true, "nr_blocks": true, "mpol": true}
)

// TmpfsOptions are the options of a tmpfs mount as Docker gives them to
// the kernel: nosuid, nodev and noexec first (what a user lists after
// wins: exec), then the size and mode of --mount's tmpfs-size and tmpfs-mode.
func TmpfsOptions(opts string, o *mount.TmpfsOptions) []string {
	out := []string{"nosuid", "nodev", "noexec"}
	if o != nil && o.SizeBytes > 0 {
		out = append(out, fmt.Sprintf("size=%d", o.SizeBytes))
	}
	if o != nil && o.Mode != 0 {
		out = append(out, fmt.Sprintf("mode=%o", o.Mode))
	}
	for _, s := range strings.Split(opts, ",") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// mountFlag is --mount as a pflag value: each use appends one parsed
// mount, and a bad one is refused as the flag's error (`invalid
// argument "..." for "--mount" flag: ...`, Docker's words).
type mountFlag struct{ ms *[]mount.Mount }

func (f mountFlag) String() string { return "" }
func (f mountFlag) Type() string   { return "mount" }
func (f mountFlag) Set(v string) error {
	m, err := ParseMount(v)
	if err != nil {
		return err
	}
	*f.ms = append(*f.ms, m)
	return nil
}

// MountFlags are the mounts of the flags as HostConfig records them:
// Binds (the -v values of binds and named volumes), Mounts (--mount),
// Tmpfs (--tmpfs); -v's anonymous volumes go to Config.Volumes.
type MountFlags struct {
	Binds  []string
	Mounts []mount.Mount
	Tmpfs  map[string]string
}

// ParseMounts checks every mount the flags ask for (-v, --mount,
// --tmpfs) as the daemon does: each one, and no target twice.
func (o *Options) ParseMounts() (MountFlags, error) {
	var mf MountFlags
	targets := map[string]bool{}
	add := func(t string) error {
		t = filepath.Clean(t)
		if targets[t] {
			//lint:ignore ST1005 Docker's own words, as docker prints them
			return fmt.Errorf("Duplicate mount point: %s", t)
		}
		targets[t] = true
		return nil
	}
	for _, v := range o.Volumes {
		m, err := ParseVolume(v)
		if err != nil {
			return mf, err
		}
		if err := add(m.Target); err != nil {
			return mf, err
		}
		if m.Source != "" {
			mf.Binds = append(mf.Binds, v)
		}
	}
	for _, m := range o.Mounts {
		if err := CheckMount(m); err != nil {
			return mf, err
		}
		if err := add(m.Target); err != nil {
			return mf, err
		}
	}
	mf.Mounts = o.Mounts
	for _, v := range o.Tmpfs {
		dst, opts, err := ParseTmpfs(v)
		if err != nil {
			return mf, err
		}
		if err := add(dst); err != nil {
			return mf, err
		}
		if mf.Tmpfs == nil {
			mf.Tmpfs = map[string]string{}
		}
		mf.Tmpfs[dst] = opts
	}
	return mf, nil
}

// AnonymousVolumes are the targets of -v /ctr, each an anonymous
// volume (Config.Volumes, beside the image's VOLUMEs).
func (o *Options) AnonymousVolumes() []string {
	var out []string
	for _, v := range o.Volumes {
		if v != "" && !strings.Contains(v, ":") {
			out = append(out, v)
		}
	}
	return out
}
