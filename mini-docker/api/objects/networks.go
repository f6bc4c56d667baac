// Package objects is the networks and volumes of `mini-docker serve`:
// the Engine API's /networks and /volumes, over the same stores the
// `mini-docker network` and `mini-docker volume` commands use
// (mini-docker/networks, mini-docker/volume). docker network, docker
// volume and docker compose reach them here: compose finds the objects
// of a project by their labels (com.docker.compose.project=NAME), so
// every list here takes the label filter. A container create's
// network, aliases and labels are read here too (create.go).
//
// Lesson 14 (lessons/14-api.md) teaches the API; lesson 12 networks,
// lesson 13 volumes.
package objects

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	mobynet "github.com/moby/moby/api/types/network"

	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine"
	"mini-docker/mini-docker/filters"
	"mini-docker/mini-docker/networks"
)

// Server answers /networks and /volumes with engines open opens.
type Server struct {
	Open func() (*engine.Engine, error)
}

// Routes adds the endpoints to m.
func (s *Server) Routes(m *http.ServeMux) {
	wire.Handle(m, "GET /networks", s.networks)
	wire.Handle(m, "GET /networks/{$}", s.networks)
	wire.Handle(m, "POST /networks/create", s.createNetwork)
	wire.Handle(m, "POST /networks/prune", s.pruneNetworks)
	wire.Handle(m, "GET /networks/{id}", s.withNetwork(s.inspectNetwork))
	wire.Handle(m, "DELETE /networks/{id}", s.withNetwork(s.removeNetwork))
	wire.Handle(m, "POST /networks/{id}/connect", s.withNetwork(s.connect))
	wire.Handle(m, "POST /networks/{id}/disconnect", s.withNetwork(s.disconnect))
	s.volumeRoutes(m)
}

// networkHandler answers a request about one network.
type networkHandler func(http.ResponseWriter, *http.Request, *engine.Engine, *networks.Store, *networks.Network) error

// withNetwork finds the network the path's {id} names (a name, an ID
// or an ID's prefix) before h runs.
func (s *Server) withNetwork(h networkHandler) wire.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		e, err := s.Open()
		if err != nil {
			return err
		}
		st := &networks.Store{Root: e.Root}
		n, err := st.Find(r.PathValue("id"))
		if err != nil {
			return err
		}
		return h(w, r, e, st, n)
	}
}

// networkFilters are the filters GET /networks and POST /networks/prune take.
var networkFilters = []string{"name", "id", "label", "driver", "type", "scope", "dangling"}

// all is every network, the modes host and none after the default
// bridge, as dockerd lists them.
func all(st *networks.Store) ([]*networks.Network, error) {
	list, err := st.List()
	if err != nil {
		return nil, err
	}
	host, _ := st.Find("host")
	none, _ := st.Find("none")
	return append([]*networks.Network{list[0], host, none}, list[1:]...), nil
}

// builtin reports whether n is one of Docker's own networks.
func builtin(n *networks.Network) bool {
	return n.Name == networks.Default || n.Name == "host" || n.Name == "none"
}

// networkMatches reports whether n passes f. dangling needs the
// members, so it is read only when asked for.
func networkMatches(n *networks.Network, f filters.Args, cs *container.Store) bool {
	if dangling, ok, _ := f.Bool("dangling"); ok {
		members, _ := networks.Members(cs, n)
		if dangling != (len(members) == 0 && !builtin(n)) {
			return false
		}
	}
	return f.Match("name", n.Name) && f.Any("id", func(v string) bool { return strings.HasPrefix(n.ID, v) }) &&
		f.Any("driver", func(v string) bool { return n.Driver == v }) &&
		f.Any("scope", func(v string) bool { return n.Scope == v }) &&
		f.Any("type", func(v string) bool { return (v == "builtin") == builtin(n) }) &&
		f.MatchLabels(n.Labels)
}

// view is n as the API shows it. A network's bridge name is an option
// the user did not give (Docker derives br-ID12 from the ID and does
// not list it); compose compares a network's options with its file's
// driver_opts and refuses an existing network whose options differ.
func view(n *networks.Network) mobynet.Network {
	v := *n
	if v.Options != nil && v.Name != networks.Default && strings.HasPrefix(networks.Bridge(n), "mdbr-") {
		v.Options = map[string]string{}
		for k, val := range n.Options {
			if k != networks.BridgeOption {
				v.Options[k] = val
			}
		}
	}
	return v
}

// begin reads a list's or a prune's filters and opens an engine.
func (s *Server) begin(r *http.Request, known ...string) (*engine.Engine, filters.Args, error) {
	f, err := wire.ParseFilters(r.URL.Query().Get("filters"), known...)
	if err != nil {
		return nil, nil, err
	}
	for _, key := range []string{"dangling", "all"} {
		if _, _, err := f.Bool(key); err != nil {
			return nil, nil, wire.Bad(err)
		}
	}
	e, err := s.Open()
	return e, f, err
}

func (s *Server) networks(w http.ResponseWriter, r *http.Request) error {
	e, f, err := s.begin(r, networkFilters...)
	if err != nil {
		return err
	}
	list, err := all(&networks.Store{Root: e.Root})
	if err != nil {
		return err
	}
	out := []mobynet.Summary{}
	for _, n := range list {
		if networkMatches(n, f, e.Store) {
			out = append(out, mobynet.Summary{Network: view(n)})
		}
	}
	wire.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) inspectNetwork(w http.ResponseWriter, r *http.Request, e *engine.Engine, st *networks.Store, n *networks.Network) error {
	in, err := networks.Inspect(e.Store, n)
	if err != nil {
		return err
	}
	in.Network = view(n)
	wire.WriteJSON(w, http.StatusOK, in)
	return nil
}

// createRequest checks what a network create asks for against what
// mini-docker's bridge networks are: IPv4 bridges on this host.
func createRequest(req *mobynet.CreateRequest) (networks.CreateOptions, error) {
	o := networks.CreateOptions{Name: req.Name, Labels: req.Labels}
	if req.Name == "" {
		return o, wire.Badf("network name cannot be empty")
	}
	if req.Driver != "" && req.Driver != "bridge" {
		return o, wire.NotFoundf("plugin %q not found (mini-docker has the bridge driver only)", req.Driver)
	}
	if (req.EnableIPv6 != nil && *req.EnableIPv6) || req.Internal || req.Ingress || req.ConfigOnly || req.ConfigFrom != nil {
		return o, wire.Badf("IPv6, internal, ingress and config-only networks are not supported by mini-docker")
	}
	for k := range req.Options {
		return o, wire.Badf("network option %q is not supported by mini-docker", k)
	}
	if req.IPAM != nil {
		if (req.IPAM.Driver != "" && req.IPAM.Driver != "default") || len(req.IPAM.Config) > 1 {
			return o, wire.Badf("mini-docker's networks take the default IPAM driver and one subnet")
		}
		if len(req.IPAM.Config) == 1 {
			c := req.IPAM.Config[0]
			if c.IPRange.IsValid() || len(c.AuxAddress) > 0 {
				return o, wire.Badf("IPRange and AuxAddress are not supported by mini-docker")
			}
			if c.Subnet.IsValid() {
				o.Subnet = c.Subnet.String()
			}
			if c.Gateway.IsValid() {
				o.Gateway = c.Gateway.String()
			}
		}
	}
	return o, nil
}

func (s *Server) createNetwork(w http.ResponseWriter, r *http.Request) error {
	var req mobynet.CreateRequest
	if err := wire.DecodeBody(r, &req); err != nil {
		return err
	}
	o, err := createRequest(&req)
	if err != nil {
		return err
	}
	e, err := s.Open()
	if err != nil {
		return err
	}
	n, err := (&networks.Store{Root: e.Root}).Create(o)
	if err != nil {
		return networkError(err)
	}
	wire.WriteJSON(w, http.StatusCreated, mobynet.CreateResponse{ID: n.ID})
	return nil
}

// networkError gives the networks store's refusals dockerd's statuses:
// a name taken is a conflict; the predefined networks, networks in use
// and a network more when the pool has no subnet left are forbidden; a
// bad name or subnet is the client's error.
func networkError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "already exists"):
		return wire.Conflicting(err)
	case strings.Contains(msg, "predefined") || strings.Contains(msg, "pre-defined") || strings.Contains(msg, "active endpoints"),
		strings.Contains(msg, "could not find an available"): // every subnet of the pool taken
		return wire.Forbid(err)
	case strings.HasPrefix(msg, "invalid") || strings.Contains(msg, "needs --subnet"):
		return wire.Bad(err)
	}
	return err
}

func (s *Server) removeNetwork(w http.ResponseWriter, r *http.Request, e *engine.Engine, st *networks.Store, n *networks.Network) error {
	if builtin(n) {
		return wire.Forbid(fmt.Errorf("%s is a pre-defined network and cannot be removed", n.Name))
	}
	if err := st.Remove(e.Store, n, e.Explain); err != nil {
		return networkError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pruneNetworks(w http.ResponseWriter, r *http.Request) error {
	e, f, err := s.begin(r, "label", "until")
	if err != nil {
		return err
	}
	if len(f["until"]) > 0 {
		return wire.Badf("the until filter is not supported by mini-docker")
	}
	keep := func(n *networks.Network) bool { return !f.MatchLabels(n.Labels) }
	removed, err := (&networks.Store{Root: e.Root}).Prune(e.Store, keep, e.Explain)
	if err != nil {
		return err
	}
	if removed == nil {
		removed = []string{}
	}
	wire.WriteJSON(w, http.StatusOK, mobynet.PruneReport{NetworksDeleted: removed})
	return nil
}

// connect is docker network connect: the container gets its endpoint
// on n (an interface now when it runs, at its start when not), with
// the aliases asked for.
func (s *Server) connect(w http.ResponseWriter, r *http.Request, e *engine.Engine, st *networks.Store, n *networks.Network) error {
	var req mobynet.ConnectRequest
	if err := wire.DecodeBody(r, &req); err != nil {
		return err
	}
	var o networks.EndpointOptions
	if ec := req.EndpointConfig; ec != nil {
		if ec.IPAMConfig != nil && ec.IPAMConfig.IPv6Address.IsValid() {
			return wire.Badf("a chosen IPv6 address (IPAMConfig.IPv6Address) is not supported by mini-docker")
		}
		if ec.IPAMConfig != nil {
			o.IP = ec.IPAMConfig.IPv4Address.Unmap() // network connect --ip
		}
		o.Aliases = ec.Aliases
	}
	return s.changeNetworks(w, e, req.Container, func(c *container.Container) error {
		return st.Connect(e.Store, c, n, o, e.Explain)
	})
}

func (s *Server) disconnect(w http.ResponseWriter, r *http.Request, e *engine.Engine, st *networks.Store, n *networks.Network) error {
	var req mobynet.DisconnectRequest
	if err := wire.DecodeBody(r, &req); err != nil {
		return err
	}
	return s.changeNetworks(w, e, req.Container, func(c *container.Container) error {
		return st.Disconnect(e.Store, c, n, e.Explain)
	})
}

// changeNetworks finds the container ref names and runs fn on it under
// its lock (networks.Locked, as network connect and disconnect do). The
// store's refusals (a container on the host's network, one already on
// n, or not on it) are dockerd's 403.
func (s *Server) changeNetworks(w http.ResponseWriter, e *engine.Engine, ref string, fn func(*container.Container) error) error {
	if ref == "" {
		return wire.Badf("no container given: Container is empty")
	}
	ct, err := e.Find(ref)
	if err != nil {
		return err
	}
	var refused bool
	err = networks.Locked(e.Store, ct.ID, func(c *container.Container) error {
		err := fn(c)
		refused = err != nil && refusal(err)
		return err
	})
	if refused {
		err = wire.Forbid(err)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// refusal reports whether err is the networks store saying no, not
// failing: Docker's conflicts and a bad alias.
func refusal(err error) bool {
	for _, known := range []error{networks.ErrConflictHostNetwork, networks.ErrConflictSharedNetwork, networks.ErrConflictNoNetwork} {
		if errors.Is(err, known) {
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "already exists in network") || strings.Contains(msg, "is not connected to network") || strings.HasPrefix(msg, "invalid alias")
}
