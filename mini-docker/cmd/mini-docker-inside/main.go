// Command mini-docker-inside is the first process of a container that
// mini-docker run starts: it does the chain's steps inside the new
// namespaces (cgroup join, pivot_root with Docker's mounts, seccomp,
// capabilities and user) through the tools' packages, then execs the
// container's command. It is not meant to be run by hand; mini-docker
// starts it from a read-only mount of it, with its plan on descriptor 3
// (see mini-docker/inside and mini-docker/engine/launch/inside.go).
//
// Lesson 09 (lessons/09-mini-docker.md) teaches it.
package main

import (
	"os"

	"mini-docker/mini-docker/inside"
)

// Every step belongs to the thread that execs: hold the main one.
func init() { inside.LockThread() }

func main() { os.Exit(inside.Run()) }
