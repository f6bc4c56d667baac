// Package cgroup puts processes into control groups and limits what they
// may use: memory, CPU time, CPUs, number of tasks. It is lesson 03 in code.
//
// The kernel's interface is a file system. A group is a directory; making
// the directory makes the group, and the kernel fills it with files. A
// limit is a number written to one of those files; a process joins by
// writing its PID to cgroup.procs. There are two layouts of that file
// system:
//
//	cgroup v1   one tree ("hierarchy") per controller:
//	            /sys/fs/cgroup/memory/mini-docker/t1/memory.limit_in_bytes
//	            /sys/fs/cgroup/pids/mini-docker/t1/pids.max
//	            a group exists once in every tree it needs.
//	cgroup v2   one tree for everything:
//	            /sys/fs/cgroup/mini-docker/t1/memory.max
//	            /sys/fs/cgroup/mini-docker/t1/pids.max
//	            a parent hands controllers down through cgroup.subtree_control.
//
// A hybrid host mounts both: controllers in v1 trees, and a cgroup2 tree
// (/sys/fs/cgroup/unified) holding no controller. Host says which one the
// kernel shows; Group is one group, in every tree it lives in.
//
// This file reads in the lesson's order: make the group, hand it the
// controllers, write the limits, join it, freeze it, delete it. Host
// detection is in detect.go, limit parsing and file names in
// resources.go, statistics in stats.go.
//
// Lesson 03 (lessons/03-cgroups.md) teaches it.
package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"mini-docker/cgroupctl/cgroup/devicefilter"
	"mini-docker/internal/explain"
)

// ErrNotFound is returned (wrapped) when a group does not exist.
var ErrNotFound = errors.New("no such cgroup")

// Group is one control group: a directory in the v2 tree, or one
// directory in each v1 hierarchy cgroupctl uses.
type Group struct {
	Name string // "t1"
	// Parent is the path of groups the group lives under: "mini-docker",
	// or several levels ("testdir/cgrouptest", an OCI bundle's relative
	// linux.cgroupsPath); "" for a group right under the root.
	Parent string
	// Base, when set, is where Parent starts in each tree instead of the
	// tree's root: a tree's mount point mapped to a group in it (an OCI
	// runtime's own group, for a relative cgroupsPath: see
	// ociruntime/convert.SelfBase).
	Base map[string]string
	// Made, when not nil, lists the only parent directories Delete may
	// remove (when left empty), deepest first: those Create made, as
	// MadeParents gives them, kept by the caller (an OCI runtime's state)
	// for the delete. When it is nil, Delete removes every level of Parent
	// left empty, whoever made it: groups sharing a parent, made and
	// deleted in any order, leave nothing.
	Made []string
	made []string // what Create made, for MadeParents
	host *Host
}

// MadeParents returns the parent directories Create made for the group
// (missing levels of Parent, in any tree), deepest first: empty when
// they all existed.
func (g *Group) MadeParents() []string { return g.made }

// validName is ^[A-Za-z0-9_][A-Za-z0-9_.-]*$, checked by hand: every
// container start names its group, and a regexp compiled at start-up
// would cost each program that links this package.
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

// validParent reports whether parent is "" or valid names joined by
// single slashes: no "..", ".", empty level, or leading "/" can take a
// group out of the tree (or of its Base).
func validParent(parent string) bool {
	if parent == "" {
		return true
	}
	for _, p := range strings.Split(parent, "/") {
		if !validName(p) {
			return false
		}
	}
	return true
}

// New returns the Group called name under parent, without touching the
// kernel. A name is one path component; a parent is one or more.
func New(h *Host, parent, name string) (*Group, error) {
	if !validName(name) {
		return nil, fmt.Errorf("invalid cgroup name %q: use letters, digits, '_', '-' and '.', not starting with '.' or '-'", name)
	}
	if !validParent(parent) {
		return nil, fmt.Errorf("invalid parent cgroup %q: names joined by '/', like mini-docker or a/b/c (no '..', no leading '/')", parent)
	}
	return &Group{Name: name, Parent: parent, host: h}, nil
}

// at is the group's directory in the tree mounted at mp.
func (g *Group) at(mp string) string {
	return filepath.Join(mp, g.Base[mp], g.Parent, g.Name)
}

// top is the directory Parent starts from in the tree mounted at mp:
// the tree's root, or the group's Base in it.
func (g *Group) top(mp string) string {
	return filepath.Join(mp, g.Base[mp])
}

// Dirs returns the group's directory in each tree it lives in: one on v2,
// one per mounted v1 hierarchy (cpu, cpuacct, cpuset, memory, pids,
// freezer, then devices, blkio, name=systemd, ...), and on a hybrid host
// also one in the cgroup2 tree, as runc does: with no controller there it
// only names the group (systemd and tools reading the "0::" line of
// /proc/PID/cgroup see the container's group, not the root).
func (g *Group) Dirs() []string {
	v1, v2 := g.SplitDirs()
	if v2 != "" {
		return append(v1, v2)
	}
	return v1
}

// trees are the mount points of the trees the group lives in, in the
// order of Dirs.
func (g *Group) trees() []string {
	if g.host.Driver == V2 {
		return []string{g.host.V2Root}
	}
	t := g.host.hierarchies()
	if g.host.Mode == Hybrid && g.host.V2Root != "" {
		t = append(t, g.host.V2Root)
	}
	return t
}

// SplitDirs returns Dirs in two parts: the directories in v1 hierarchies
// and the one in the cgroup2 tree ("" when there is none). A process can
// be started straight into its cgroup2 directory (clone3 with
// CLONE_INTO_CGROUP), while v1 needs a write to each hierarchy.
func (g *Group) SplitDirs() (v1 []string, v2 string) {
	if g.host.Driver == V2 {
		return nil, g.at(g.host.V2Root)
	}
	for _, mp := range g.host.hierarchies() {
		v1 = append(v1, g.at(mp))
	}
	if g.host.Mode == Hybrid && g.host.V2Root != "" {
		v2 = g.at(g.host.V2Root)
	}
	return v1, v2
}

// JoinThread moves the calling thread alone into the group's v1
// directories: "0" written to each hierarchy's tasks file. Unlike a
// write to cgroup.procs, which moves a whole thread group and so takes
// the kernel's global threadgroup lock for writing (waiting for an RCU
// grace period: about 5-12 ms on this kind of machine), moving the
// writing thread itself needs no such lock. A thread that then calls
// execve(2) becomes the whole new process, inside the group. The caller
// must hold its thread (runtime.LockOSThread) and exec from it.
func JoinThread(v1 []string, ex *explain.Printer) error {
	for _, d := range v1 {
		if err := writeFile(ex, filepath.Join(d, "tasks"), "0"); err != nil {
			return fmt.Errorf("join cgroup %s: %w", d, err)
		}
	}
	return nil
}

// DirsOf is SplitDirs of group parent/name on this host, or nothing
// when the host has no cgroups (what needs the group then fails there).
func DirsOf(parent, name string) (v1 []string, v2 string) {
	if h, err := Detected(); err == nil {
		if g, err := New(h, parent, name); err == nil {
			return g.SplitDirs()
		}
	}
	return nil, ""
}

// Paths maps each controller to the group's directory for it ("" → the
// v2 directory), for `mini-docker inspect`.
func (g *Group) Paths() map[string]string {
	if g.host.Driver == V2 {
		return map[string]string{"": g.Dirs()[0]}
	}
	m := map[string]string{}
	for _, c := range Controllers {
		if mp, ok := g.host.V1[c]; ok {
			m[c] = g.at(mp)
		}
	}
	return m
}

// dir is the group's directory holding controller c's files.
func (g *Group) dir(c string) string {
	if g.host.Driver == V2 {
		return g.Dirs()[0]
	}
	return g.at(g.host.V1[c])
}

// Exists reports whether the group's directory exists in any tree.
func (g *Group) Exists() bool {
	for _, d := range g.Dirs() {
		if _, err := os.Stat(d); err == nil {
			return true
		}
	}
	return false
}

// Open returns an existing group, or an error wrapping ErrNotFound.
func Open(h *Host, parent, name string) (*Group, error) {
	g, err := New(h, parent, name)
	if err != nil {
		return nil, err
	}
	if !g.Exists() {
		return nil, fmt.Errorf("cgroup %q: %w under %s (looked in %s)", name, ErrNotFound, orRoot(parent), strings.Join(g.Dirs(), ", "))
	}
	return g, nil
}

func orRoot(parent string) string {
	if parent == "" {
		return "the root"
	}
	return parent
}

// Create makes the group with limits r and returns it with its undo (which
// deletes it, killing what is inside). A failed Create removes every
// directory it made, so nothing is left half-created.
func Create(h *Host, parent, name string, r Resources, ex *explain.Printer) (g *Group, undo func() error, err error) {
	return CreateIn(h, nil, parent, name, r, ex)
}

// CreateIn is Create with parent starting at base in each tree (see
// Group.Base; nil: at the trees' roots).
func CreateIn(h *Host, base map[string]string, parent, name string, r Resources, ex *explain.Printer) (g *Group, undo func() error, err error) {
	if g, err = New(h, parent, name); err != nil {
		return nil, nil, err
	}
	g.Base = base
	if err := h.check(r); err != nil {
		return nil, nil, fmt.Errorf("create cgroup %q: %w", name, err)
	}
	exists := g.Exists()
	if exists && g.takeEarly() { // made by CreateEarly: set its limits
		return g, func() error { return g.Delete(true, ex) }, g.Set(r, ex)
	}
	if exists {
		return nil, nil, fmt.Errorf("create cgroup %q: it already exists (%s)", name, strings.Join(g.Dirs(), ", "))
	}
	var made []string // directories to remove, in reverse, if a step fails
	defer func() {
		if err != nil {
			for i := len(made) - 1; i >= 0; i-- {
				rmdir(ex, made[i])
			}
		}
	}()
	if h.Driver == V2 {
		err = g.createV2(ex, &made)
	} else {
		err = g.createV1(ex, &made)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("create cgroup %q: %w", name, err)
	}
	g.made = madeParents(made, g.Dirs())
	if err = g.Set(r, ex); err != nil {
		return nil, nil, fmt.Errorf("create cgroup %q: %w", name, err)
	}
	return g, func() error { return g.Delete(true, ex) }, nil
}

// madeParents are the directories of made (in the order they were made)
// that are not the group's own, deepest first and each once.
func madeParents(made, dirs []string) []string {
	out := []string{}
	for i := len(made) - 1; i >= 0; i-- {
		if !slices.Contains(dirs, made[i]) && !slices.Contains(out, made[i]) {
			out = append(out, made[i])
		}
	}
	return out
}

// createV2 makes the parent and the group in the single v2 tree.
//
// On v2 a controller works in a group only when its parent lists it in
// cgroup.subtree_control, and that parent's parent does too, up to the
// root: "+memory" written there hands the memory controller down one
// level. The "no internal processes" rule says a group (other than the
// root) that hands controllers down may hold no process itself, so the
// parent stays empty and processes live only in the leaves.
func (g *Group) createV2(ex *explain.Printer, made *[]string) error {
	root := g.host.V2Root
	want := g.controllersToEnable()
	if err := enableControllers(ex, root, want, true); err != nil {
		return err
	}
	prepareParent := func(p string) error { return enableControllers(ex, p, want, false) }
	return mkdirGroup(ex, root, g.at(root), made, prepareParent, nil)
}

// controllersToEnable are the v2 controllers the root offers that
// cgroupctl uses: all of them are handed down, as runc and systemd do, so
// a later `set` finds them.
func (g *Group) controllersToEnable() []string {
	var c []string
	for _, x := range v2Controllers {
		if g.host.Has(x) {
			c = append(c, x)
		}
	}
	return c
}

// enableControllers writes "+c" for each controller dir does not hand
// down yet into dir/cgroup.subtree_control.
func enableControllers(ex *explain.Printer, dir string, want []string, isRoot bool) error {
	if len(want) == 0 {
		return nil
	}
	cur, _ := readFile(filepath.Join(dir, "cgroup.subtree_control"))
	have := map[string]bool{}
	for _, c := range strings.Fields(string(cur)) {
		have[strings.TrimPrefix(c, "+")] = true
	}
	var add []string
	for _, c := range want {
		if !have[c] {
			add = append(add, "+"+c)
		}
	}
	if len(add) == 0 {
		return nil
	}
	if !isRoot {
		if procs, _ := readPids(filepath.Join(dir, "cgroup.procs")); len(procs) > 0 {
			return fmt.Errorf("enable controllers in %s: it holds processes %v, and cgroup v2's no-internal-processes rule forbids a group that hands controllers down to hold any: move them to a leaf group first", dir, procs)
		}
	}
	return writeFile(ex, filepath.Join(dir, "cgroup.subtree_control"), strings.Join(add, " "))
}

// createV1 makes the parent and the group in each v1 hierarchy (and, on
// a hybrid host, in the cgroup2 tree: see Dirs).
func (g *Group) createV1(ex *explain.Printer, made *[]string) error {
	for _, mp := range g.trees() {
		var prepare func(string) error
		if mp == g.host.V1["cpuset"] {
			prepare = func(d string) error { return inheritCpuset(ex, d) }
		}
		if err := mkdirGroup(ex, mp, g.at(mp), made, prepare, prepare); err != nil {
			return err
		}
	}
	return nil
}

// parentLevels are the directories between root (a tree's mount point)
// and dir, both left out, from the top down: mkdir -p's steps.
func parentLevels(root, dir string) []string {
	rel, err := filepath.Rel(root, filepath.Dir(dir))
	if err != nil || rel == "." {
		return nil
	}
	var levels []string
	for _, p := range strings.Split(rel, "/") {
		root = filepath.Join(root, p)
		levels = append(levels, root)
	}
	return levels
}

// mkdirGroup makes the group directory dir in the tree mounted at root,
// after each level of its parent (made when missing, then readied by
// prepareParent, from the top down); prepare readies dir itself.
// Another cgroupctl deleting a parent's last group removes the empty
// parent, possibly between our mkdir of a level and our write into it
// (ENOENT, or ENODEV from a group being removed) or our mkdir below it
// (ENOENT): then the levels are made again. A level may also be removed
// and made again by a third between our write and our mkdir, unready (on
// v2: without the controllers handed down, so dir gets no limit files),
// so once dir holds them, the levels are readied again (a no-op when
// they are).
func mkdirGroup(ex *explain.Printer, root, dir string, made *[]string, prepareParent, prepare func(string) error) error {
	const attempts = 5
	levels := parentLevels(root, dir)
	gone := func(err error) bool { return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENODEV) }
	for attempt := 1; ; attempt++ {
		err := makeLevels(ex, levels, made, prepareParent)
		if err == nil {
			if err = mkdir(ex, dir); err == nil {
				*made = append(*made, dir)
				if err := makeLevels(ex, levels, nil, prepareParent); err != nil {
					return err
				}
				if prepare != nil {
					return prepare(dir)
				}
				return nil
			}
		}
		if !gone(err) || attempt == attempts {
			return err
		}
	}
}

// makeLevels makes each missing directory of levels, top down, noting
// it in made (when made is not nil), and readies each with prepare.
func makeLevels(ex *explain.Printer, levels []string, made *[]string, prepare func(string) error) error {
	for _, l := range levels {
		if made != nil {
			if ok, err := mkdirIfMissing(ex, l); err != nil {
				return err
			} else if ok {
				*made = append(*made, l)
			}
		}
		if prepare != nil {
			if err := prepare(l); err != nil {
				return err
			}
		}
	}
	return nil
}

// inheritCpuset copies the parent's CPUs and memory nodes into a new v1
// cpuset group. A v1 cpuset starts empty, and the kernel refuses to move
// a task into a cpuset with no CPU or no memory node (ENOSPC).
func inheritCpuset(ex *explain.Printer, dir string) error {
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, _ := readFile(filepath.Join(dir, f))
		if strings.TrimSpace(string(cur)) != "" {
			continue
		}
		v, err := readFile(filepath.Join(filepath.Dir(dir), f))
		if err != nil {
			return fmt.Errorf("read %s: %w", filepath.Join(filepath.Dir(dir), f), err)
		}
		if err := writeFile(ex, filepath.Join(dir, f), strings.TrimSpace(string(v))); err != nil {
			return err
		}
	}
	return nil
}

// Set writes the limits r into the group's files.
func (g *Group) Set(r Resources, ex *explain.Printer) error {
	if err := g.host.check(r); err != nil {
		return err
	}
	if g.host.Driver == V2 {
		if err := g.SetDeviceRules(devicefilter.RulesOf(r.Devices, r.DeviceRules), ex); err != nil {
			return err
		}
		if r.OOMKillDisable {
			// v1's memory.oom_control has no v2 file: Docker drops the flag there too.
			ex.Note("--oom-kill-disable: not done on cgroup v2 (it has no switch for the OOM killer)")
		}
		for _, w := range r.v2Writes() {
			p := filepath.Join(g.dir(w.controller), w.file)
			if w.file == "memory.swap.max" && r.MemorySwap == 0 && !exists(p) {
				continue // no swap accounting: Docker's default swap limit is dropped, as Docker does
			}
			if err := writeFile(ex, p, w.value); err != nil {
				return err
			}
		}
		return nil
	}
	if err := g.setMemoryV1(r, ex); err != nil {
		return err
	}
	if err := g.SetDeviceRules(devicefilter.RulesOf(r.Devices, r.DeviceRules), ex); err != nil {
		return err
	}
	for _, w := range r.v1Writes() {
		if err := writeFile(ex, filepath.Join(g.dir(w.controller), w.file), w.value); err != nil {
			return err
		}
	}
	return nil
}

// SetDeviceRules applies rules (devices.allow and devices.deny lines,
// like --devices docker's) in order. On v1 each is one write to the
// devices controller, as runc does; on v2, which has no devices
// controller, the same rules are compiled into one eBPF program
// attached to the group (devicefilter, with the same meaning).
func (g *Group) SetDeviceRules(rules []devicefilter.Rule, ex *explain.Printer) error {
	if len(rules) == 0 {
		return nil
	}
	if g.host.Driver == V2 {
		return devicefilter.Apply(g.dir(""), rules, ex)
	}
	if _, ok := g.host.V1["devices"]; !ok {
		return fmt.Errorf("device rules: the devices controller is not available: no v1 hierarchy has it mounted (host mode %s)", g.host.Mode)
	}
	for _, r := range rules {
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		if err := writeFile(ex, filepath.Join(g.dir("devices"), file), r.Rule); err != nil {
			return err
		}
	}
	return nil
}

// setMemoryV1 writes memory.limit_in_bytes and memory.memsw.limit_in_bytes
// in the order the kernel accepts: memsw (memory plus swap) may never be
// below the memory limit, so when limits grow memsw goes first and when
// they shrink memory goes first (the order runc uses).
func (g *Group) setMemoryV1(r Resources, ex *explain.Printer) error {
	if r.Memory == 0 && r.MemorySwap == 0 {
		return nil
	}
	d := g.dir("memory")
	mem := filepath.Join(d, "memory.limit_in_bytes")
	memsw := filepath.Join(d, "memory.memsw.limit_in_bytes")
	swap := r.swap()
	if !exists(memsw) {
		if r.MemorySwap != 0 {
			return fmt.Errorf("--memory-swap: this kernel does not account swap (no %s; boot with swapaccount=1)", memsw)
		}
		swap = 0
	}
	writeMem := func() error {
		if r.Memory == 0 {
			return nil
		}
		return writeFile(ex, mem, strconv.FormatInt(r.Memory, 10))
	}
	writeSwap := func() error {
		if swap == 0 {
			return nil
		}
		return writeFile(ex, memsw, strconv.FormatInt(swap, 10))
	}
	cur, _ := readInt(mem)
	if swap == -1 || (swap > 0 && swap > cur) {
		if err := writeSwap(); err != nil {
			return err
		}
		return writeMem()
	}
	if err := writeMem(); err != nil {
		return err
	}
	return writeSwap()
}

// Join moves process pid (with all its threads) into the group: its PID
// written to cgroup.procs in every tree. PID 0 means the calling process:
// the kernel reads "0" as "the writer", which is how a process that lives
// in a new PID namespace (where its own PID means nothing to the host)
// joins a group before exec'ing the container's command.
func (g *Group) Join(pid int, ex *explain.Printer) error {
	if pid == 0 {
		ex.Note("0 = the writing process, whatever its PID in its own PID namespace")
	}
	for _, mp := range g.trees() {
		d := g.at(mp)
		// A group made by an older cgroupctl lives in fewer hierarchies:
		// make it where it is missing, as runc's Apply does (mkdir -p).
		if !exists(d) {
			var made []string
			var prepare func(string) error
			if g.host.Driver != V2 && mp == g.host.V1["cpuset"] {
				prepare = func(d string) error { return inheritCpuset(ex, d) }
			}
			if err := mkdirGroup(ex, mp, d, &made, prepare, prepare); err != nil {
				return fmt.Errorf("join cgroup %q: %w", g.Name, err)
			}
		}
		if err := writeFile(ex, filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("join cgroup %q: %w", g.Name, err)
		}
	}
	return nil
}

// Freeze stops every process of the group where it stands, without a
// signal it could catch or notice, and waits until the kernel says all
// are frozen: v2 writes 1 to cgroup.freeze and watches cgroup.events;
// v1 writes FROZEN to freezer.state and reads it back until it stops
// saying FREEZING.
func (g *Group) Freeze(ex *explain.Printer) error { return g.setFrozen(true, ex) }

// Thaw lets the group's processes run again.
func (g *Group) Thaw(ex *explain.Printer) error { return g.setFrozen(false, ex) }

func (g *Group) setFrozen(frozen bool, ex *explain.Printer) error {
	verb := map[bool]string{true: "freeze", false: "thaw"}[frozen]
	var file, value, want string
	if g.host.Driver == V2 {
		file, value, want = filepath.Join(g.dir(""), "cgroup.freeze"), "0", "frozen 0"
		if frozen {
			value, want = "1", "frozen 1"
		}
	} else {
		if _, ok := g.host.V1["freezer"]; !ok {
			return fmt.Errorf("%s cgroup %q: the freezer controller is not available: no v1 hierarchy has it mounted (host mode %s)", verb, g.Name, g.host.Mode)
		}
		file, value, want = filepath.Join(g.dir("freezer"), "freezer.state"), "THAWED", "THAWED"
		if frozen {
			value, want = "FROZEN", "FROZEN"
		}
	}
	if err := writeFile(ex, file, value); err != nil {
		return fmt.Errorf("%s cgroup %q: %w", verb, g.Name, err)
	}
	check := file
	if g.host.Driver == V2 {
		check = filepath.Join(g.dir(""), "cgroup.events")
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		b, err := readFile(check)
		if err != nil {
			return fmt.Errorf("%s cgroup %q: %w", verb, g.Name, err)
		}
		if strings.Contains(string(b), want) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s cgroup %q: %s still says %q after 5s", verb, g.Name, check, strings.TrimSpace(string(b)))
		}
	}
}

// Procs returns the PIDs (as the host sees them) in the group, from
// cgroup.procs in every tree.
func (g *Group) Procs() ([]int, error) {
	seen := map[int]bool{}
	var all []int
	for _, d := range g.Dirs() {
		pids, err := readPids(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		for _, p := range pids {
			if !seen[p] {
				seen[p] = true
				all = append(all, p)
			}
		}
	}
	sort.Ints(all)
	return all, nil
}

// Delete removes the group from every tree, then the parent levels left
// empty: those Create made (Made), or when Made is nil every level of
// Parent, deepest first, never Base or above it. The kernel refuses to remove a group that still holds a
// process (EBUSY), so with kill the processes are killed first; without
// it, a group with live processes is an error and is left alone.
func (g *Group) Delete(kill bool, ex *explain.Printer) error {
	if kill && ex == nil && g.removeIfEmpty() {
		return nil
	}
	if !g.Exists() {
		return fmt.Errorf("delete cgroup %q: %w under %s", g.Name, ErrNotFound, orRoot(g.Parent))
	}
	procs, err := g.Procs()
	if err != nil {
		return fmt.Errorf("delete cgroup %q: %w", g.Name, err)
	}
	if len(procs) > 0 {
		if !kill {
			return fmt.Errorf("delete cgroup %q: it still has %d live process(es) %v: stop them, or delete with --kill", g.Name, len(procs), procs)
		}
		if err := g.Kill(ex); err != nil {
			return fmt.Errorf("delete cgroup %q: %w", g.Name, err)
		}
	}
	for _, d := range g.Dirs() {
		if !exists(d) {
			continue
		}
		if err := rmdir(ex, d); err != nil {
			return fmt.Errorf("delete cgroup %q: %w", g.Name, err)
		}
	}
	for _, p := range g.emptyParents() {
		if isEmptyGroup(p) {
			rmdir(ex, p) // a sibling made meanwhile keeps it: EBUSY is fine
		}
	}
	return nil
}

// removeIfEmpty is Delete's short way for a group whose processes have
// all exited (the usual end of a container): rmdir(2) in each tree, then
// in each parent level, with nothing read first. The kernel itself
// refuses to remove a group that still holds a process or a child group
// (EBUSY), so no check is needed before. It reports false when an rmdir
// is refused, or the group is not in the first tree: Delete then takes
// the long way (its checks, kills, retries and messages) for what is
// left. --explain always takes the long way, whose printed rmdirs are
// only those that remove something.
func (g *Group) removeIfEmpty() bool {
	for i, d := range g.Dirs() {
		err := syscall.Rmdir(d)
		if err != nil && (i == 0 || !errors.Is(err, syscall.ENOENT)) {
			return false
		}
	}
	for _, p := range g.emptyParents() {
		syscall.Rmdir(p) // refused (EBUSY) while a sibling group lives there
	}
	return true
}

// emptyParents are the parent directories Delete may remove, deepest
// first: Made, or each level of Parent in every tree.
func (g *Group) emptyParents() []string {
	if g.Made != nil {
		return g.Made
	}
	var out []string
	for _, mp := range g.trees() {
		levels := parentLevels(g.top(mp), g.at(mp))
		slices.Reverse(levels)
		out = append(out, levels...)
	}
	return out
}

// Kill ends every process in the group with SIGKILL and waits until the
// group is empty. v2 kernels since 5.14 do it in one write to cgroup.kill,
// which also catches processes forking meanwhile. Elsewhere the group is
// frozen first, so nothing inside can fork while the PIDs are read and
// killed, then thawed so the kills are delivered.
func (g *Group) Kill(ex *explain.Printer) error {
	if g.host.Driver == V2 && exists(filepath.Join(g.dir(""), "cgroup.kill")) {
		if err := writeFile(ex, filepath.Join(g.dir(""), "cgroup.kill"), "1"); err != nil {
			return err
		}
	} else {
		canFreeze := g.host.Driver == V2 || g.host.V1["freezer"] != ""
		if canFreeze {
			if err := g.Freeze(ex); err != nil {
				return err
			}
		}
		procs, err := g.Procs()
		if err != nil {
			return err
		}
		for _, p := range procs {
			ex.Cmd("kill -KILL %d", p)
			if err := syscall.Kill(p, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("kill %d: %w", p, err)
			}
		}
		if canFreeze {
			if err := g.Thaw(ex); err != nil {
				return err
			}
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		procs, err := g.Procs()
		if err != nil {
			return err
		}
		if len(procs) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kill: processes %v still in the group after 10s", procs)
		}
	}
}

// List returns the names of the groups under parent, from every tree.
func List(h *Host, parent string) ([]string, error) {
	var roots []string
	if h.Driver == V2 {
		roots = []string{filepath.Join(h.V2Root, parent)}
	} else {
		for _, mp := range h.hierarchies() {
			roots = append(roots, filepath.Join(mp, parent))
		}
	}
	seen := map[string]bool{}
	var names []string
	for _, r := range roots {
		ents, err := os.ReadDir(r)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("list cgroups: %w", err)
		}
		for _, e := range ents {
			if e.IsDir() && !seen[e.Name()] {
				seen[e.Name()] = true
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// --- the file operations, each printed by --explain before it is done ---

func mkdir(ex *explain.Printer, dir string) error {
	ex.Argv("mkdir", dir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("mkdir %s: %w", dir, unwrapPath(err))
	}
	return nil
}

// mkdirIfMissing makes dir unless it exists, and says whether it made it.
func mkdirIfMissing(ex *explain.Printer, dir string) (bool, error) {
	if exists(dir) {
		return false, nil
	}
	err := mkdir(ex, dir)
	if errors.Is(err, os.ErrExist) {
		return false, nil // made meanwhile by another cgroupctl
	}
	return err == nil, err
}

// rmdir removes a group directory. Right after its last process died the
// kernel may still count it for a moment (EBUSY), so it retries briefly.
func rmdir(ex *explain.Printer, dir string) error {
	ex.Argv("rmdir", dir)
	var err error
	for i := 0; i < 100; i++ {
		if err = syscall.Rmdir(dir); err == nil || !errors.Is(err, syscall.EBUSY) {
			break
		}
		if !isEmptyGroup(dir) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("rmdir %s: %w", dir, err)
	}
	return nil
}

// isEmptyGroup reports whether dir has no process and no child group.
func isEmptyGroup(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.IsDir() {
			return false
		}
	}
	pids, err := readPids(filepath.Join(dir, "cgroup.procs"))
	return err == nil && len(pids) == 0
}

// writeFile writes one value to a cgroup file, in one write(2) as the
// kernel wants it. It makes the system calls itself: an os.File would
// register the (pollable) cgroup file with Go's network poller, two
// epoll_ctl calls per file and the poller's set-up on the first. Go's
// signal handlers are SA_RESTART, so no EINTR reaches here.
func writeFile(ex *explain.Printer, path, value string) error {
	ex.Cmd("echo %s > %s", explain.Quote(value), explain.Quote(path))
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err == nil {
		_, err = unix.Write(fd, []byte(value))
		if cerr := unix.Close(fd); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("write %s to %s: %w", value, path, err)
	}
	return nil
}

// readFile is os.ReadFile without an os.File (see writeFile), with its
// errors.
func readFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	for b := make([]byte, 0, 512); ; {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func readPids(path string) ([]int, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids, nil
}

func readInt(path string) (int64, error) {
	b, err := readFile(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return -1, nil
	}
	return strconv.ParseInt(s, 10, 64)
}
