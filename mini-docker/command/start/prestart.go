package start

import (
	"os"

	"mini-docker/cgroupctl/cgroup"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/engine/launch"
	"mini-docker/mini-docker/engine/sweep"
	"mini-docker/mini-docker/spec"
)

// prestart starts the first process of the container o describes before
// the container is recorded (launch.Prestart), when o is a foreground
// run whose process the usual clone suits: without -t, --userns,
// --explain (whose printed order it would change) or --tool-chain. Its
// cgroup is made first, without limits, for the ID the container will
// get (cgroup.CreateEarly), so that the process is cloned into it as
// usual. done ends what was started early and not used: the process,
// then the group. Anything that fails here only means a usual start.
func prestart(e *engine.Engine, o *spec.Options) (done func()) {
	nothing := func() {}
	if o.Detach || o.TTY || o.Explain || o.ToolChain || o.Userns {
		return nothing
	}
	prog, err := e.Tools.Path("mini-docker-inside", "namespaces")
	if err != nil {
		return nothing
	}
	id := container.NewID()
	var abandon func()
	record := sweep.EarlyRecord(e, id)
	first := func() (string, error) { // on the early child's thread
		_, v2 := cgroup.DirsOf(engine.CgroupParent, id)
		if v2 == "" {
			return "", nil
		}
		// Recorded before it is made, as every object of a container is:
		// a run killed before the container's state records the group
		// leaves it to the next run, or to prune (sweep.EarlyGroups).
		sweep.EarlyGroups(e)
		if err := sweep.WriteEarlyRecord(record); err != nil {
			return "", err
		}
		h, err := cgroup.Detected()
		if err == nil {
			abandon, err = cgroup.CreateEarly(h, engine.CgroupParent, id)
		}
		return v2, err
	}
	var stdin *os.File
	if o.Interactive {
		stdin = e.Stdin
	}
	p := launch.Prestart(prog, stdin, first)
	e.Prestarted, e.NextID = p, id
	return func() {
		p.Drop() // after the early thread's end: abandon is set
		if abandon != nil {
			abandon()
		}
		os.Remove(record) // the state records the group, or it is gone
	}
}
