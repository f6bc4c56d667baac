// Package contents is the Engine API's view into a container, for
// `mini-docker serve`: its files (docker cp's archive, docker diff's
// changes, docker export) and its processes (docker top, docker stats).
// Each endpoint calls what the mini-docker command of the same name
// runs: the API is a front end over the same engine, not a second one.
//
// Lesson 14 (lessons/14-api.md) teaches the API; lessons 09 and 13 the
// commands.
package contents

import (
	"net/http"

	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/engine"
)

// Routes adds the endpoints to m; open opens the engine for a request.
func Routes(m *http.ServeMux, open func() (*engine.Engine, error)) {
	on := wire.ContainerRoutes(m, open)
	on("GET /containers/{id}/top", top)
	on("GET /containers/{id}/stats", stats)
	on("GET /containers/{id}/changes", changes)
	on("GET /containers/{id}/export", export)
	on("GET /containers/{id}/archive", getArchive)
	on("HEAD /containers/{id}/archive", getArchive)
	on("PUT /containers/{id}/archive", putArchive)
}
