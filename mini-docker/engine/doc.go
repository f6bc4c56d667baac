// Package runtime is mini-docker's engine: it turns `docker run`'s flags
// into a plan of the toolkit's steps and runs it, then watches, stops and
// removes the container. Lesson 09 (lessons/09-mini-docker.md) teaches it.
//
// The path of one run, file by file:
//
//	options.go     the flags of run, with Docker's names (Options)
//	run.go         Engine.Create: the image, the ID, the recorded state
//	plan.go        Spec → Plan: the host steps (overlay, cgroup, netns)
//	               and the chain of tools from unshare on
//	start.go       Engine.Prepare does the host steps, Engine.Start the chain
//	network.go     bridge, address lease and published ports
//	inside.go      the chain as data for mini-docker-inside (the default),
//	               instead of one program per tool (--tool-chain)
//	hops.go        every program that enters runs from a read-only mount
//	               of itself (CVE-2019-5736)
//	monitor.go     the process that waits for the container's end
//	engine.go      Refresh and release: what a dead container leaves
//	lifecycle.go   stop, kill, pause, rm;  exec.go: exec
//
// The primitives' packages (overlayfs, cgroup, network, jail, seccomp,
// caps) do the kernel work; this package orders and records it.
package engine
