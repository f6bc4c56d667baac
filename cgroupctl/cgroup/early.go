package cgroup

import "sync"

// early holds the groups this process made with CreateEarly that Create
// has not taken over yet, by their first directory.
var early sync.Map

// CreateEarly makes the group parent/name without limits, ahead of its
// Create, so that a process can be cloned straight into it (clone3's
// CLONE_INTO_CGROUP) while the limits are still being worked out:
// mini-docker run starts its container's first process so, before it
// has prepared the rest (mini-docker/engine/launch/prestart.go). The
// group's Create in this process then takes it over and sets the limits
// instead of failing because it exists. abandon removes the group unless
// Create took it over.
func CreateEarly(h *Host, parent, name string) (abandon func(), err error) {
	g, undo, err := Create(h, parent, name, Resources{}, nil)
	if err != nil {
		return nil, err
	}
	key := g.Dirs()[0]
	early.Store(key, true)
	return func() {
		if _, ok := early.LoadAndDelete(key); ok {
			undo()
		}
	}, nil
}

// takeEarly reports whether g was made by CreateEarly and not taken
// over yet, and takes it over.
func (g *Group) takeEarly() bool {
	_, ok := early.LoadAndDelete(g.Dirs()[0])
	return ok
}
