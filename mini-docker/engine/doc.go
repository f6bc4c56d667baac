// Package engine is mini-docker's engine: it records a container from
// `docker run`'s flags, plans its steps and runs them, then watches,
// stops and removes the container. Lesson 09 (lessons/09-mini-docker.md)
// teaches it.
//
// The path of one run, file by file (ARCHITECTURE.md, "How a run flag
// flows", draws it):
//
//	run.go         Engine.Create: the flags parsed once (package spec) into
//	               Docker's Config and HostConfig, the image, the recorded state
//	ocispec.go     the host's places the OCI spec names (package spec
//	               converts Config + HostConfig; inspect --oci prints it)
//	plan.go        the host steps (overlay, cgroup, netns, veth: package
//	               plan's HostSteps, done in-process), and the steps inside
//	               the namespaces from package plan, rendered as the chain
//	               of tools and as mini-docker-inside's input
//	start.go       Engine.Prepare reads the OCI spec into the plan's terms
//	               and does the host steps, Engine.Start the chain
//	network.go     bridge and address lease
//	detach.go      -d: starts the container's monitor
//	engine.go      Refresh and release: what a dead container leaves
//	lifecycle.go   stop, kill, pause, rm;  exec.go: exec
//
// The packages below it each do one job of the engine's:
//
//	launch/        the container's first process: mini-docker-inside (the
//	               default, inside.go) or the chain of tools (--tool-chain),
//	               each program run from a read-only mount of itself
//	               (hops.go, CVE-2019-5736), followed until the command runs
//	monitor/       the process that waits for a detached container's end
//	portmap/       -p, -P: one vethctl forward per published port
//	pty/           -t: the terminal made inside, copied to ours
//	sweep/         what crashed runs left that no container records
//	toolkit/       finding the toolkit's programs, running a host step as one
//
// The primitives' packages (overlayfs, cgroup, network, jail, seccomp,
// caps) do the kernel work; this package orders and records it.
package engine
