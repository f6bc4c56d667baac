// Package input is what mini-docker-inside reads on descriptor 3: the
// chain of tools from unshare to the command, as data. It is a leaf
// package (the OCI runtime spec's types only), so that the container's
// first process links nothing it does not use and does no start-up work
// for it (package container's Docker types bring go-digest, whose
// regexps compile before main). Lesson 09 (lessons/09-mini-docker.md)
// teaches it.
package input

import specs "github.com/opencontainers/runtime-spec/specs-go"

// Inside is what the chain of tools from unshare to the command does,
// as data for mini-docker's own first process of the container, which
// does the same steps through the same packages without an exec per tool.
type Inside struct {
	Program     string              `json:"Program"`         // mini-docker-inside, run from a read-only mount of it
	Netns       string              `json:"Netns,omitempty"` // /run/netns/NAME to join ("" = the host's)
	Hostname    string              `json:"Hostname"`
	Userns      bool                `json:"Userns,omitempty"`   // a user namespace mapping root to root
	CgroupNS    bool                `json:"CgroupNS,omitempty"` // a cgroup namespace rooted at the container's group
	CgroupV1    []string            `json:"CgroupV1,omitempty"` // the group's directory in each v1 hierarchy
	CgroupV2    string              `json:"CgroupV2,omitempty"` // its cgroup2 directory
	Root        string              `json:"Root"`               // the merged overlay
	Privileged  bool                `json:"Privileged,omitempty"`
	Mounts      []specs.Mount       `json:"Mounts,omitempty"` // the OCI spec's bind mounts, as chroot --bind
	ReadOnly    bool                `json:"ReadOnly,omitempty"`
	Shm         string              `json:"Shm,omitempty"`     // /dev/shm's size, as chroot --shm ("" = 64m)
	Rlimits     []specs.POSIXRlimit `json:"Rlimits,omitempty"` // --ulimit, as prlimit sets them
	Devices     []Device            `json:"Devices,omitempty"` // --device, as chroot --device makes them
	Workdir     string              `json:"Workdir"`
	Seccomp     string              `json:"Seccomp"` // default, a profile file, or unconfined
	SeccompCaps []string            `json:"SeccompCaps,omitempty"`
	CapAdd      []string            `json:"CapAdd,omitempty"`
	CapDrop     []string            `json:"CapDrop,omitempty"`
	User        string              `json:"User,omitempty"`
	Groups      []string            `json:"Groups,omitempty"` // --group-add, as capctl --group-add takes them
	NoNewPrivs  bool                `json:"NoNewPrivs,omitempty"`
	Console     bool                `json:"Console,omitempty"` // -t: make the terminal inside
	Argv        []string            `json:"Argv"`
	// Join is docker exec's: the container's first process, whose
	// namespaces, root and working directory to join (no new
	// namespaces, no pivot).
	Join int `json:"Join,omitempty"`
	// Prestarted: the process was started before its plan existed
	// (engine/launch/prestart.go), outside the network namespace and
	// with an empty environment, so it joins Netns itself and gives the
	// command Env.
	Prestarted bool     `json:"Prestarted,omitempty"`
	Env        []string `json:"Env,omitempty"`
}

// Device is one --device as chroot --device takes it: the host's node
// (read before the pivot) and its path in the container.
type Device struct {
	Host      string `json:"Host"`
	Container string `json:"Container"`
}
