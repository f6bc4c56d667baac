// Package monitor is the process that watches a detached container,
// containerd's shim in mini-docker's terms (monitor.go says what it
// does); the engine starts it as a hidden mode of mini-docker
// (engine.MonitorArg, engine/detach.go). Lesson 09
// (lessons/09-mini-docker.md) teaches it.
package monitor
