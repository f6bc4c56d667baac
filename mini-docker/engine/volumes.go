package engine

import "mini-docker/mini-docker/volume/local"

// Volumes is the state root's volume store (Docker's local driver); package
// mounts resolves a container's volumes and binds with it.
func (e *Engine) Volumes() *local.Store { return &local.Store{Root: e.Root, Explain: e.Explain} }
