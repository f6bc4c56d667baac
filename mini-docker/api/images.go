package api

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"

	"mini-docker/mini-docker/api/ship"
	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/engine/toolkit"
	"mini-docker/mini-docker/imageops"
	"mini-docker/pull/reference"
	"mini-docker/pull/store"
)

func (s *Server) imageRoutes(m *http.ServeMux) {
	wire.Handle(m, "POST /images/create", s.pull)
	wire.Handle(m, "GET /images/json", s.images)
	// Image names hold slashes (127.0.0.1:5000/debian:12), so the rest
	// of the path is the name, then the action.
	wire.Handle(m, "GET /images/{rest...}", s.imageGet)
	wire.Handle(m, "POST /images/{rest...}", s.imagePost)
	wire.Handle(m, "DELETE /images/{rest...}", s.rmi)
}

// pullRef is the reference POST /images/create names: fromImage with
// its tag (or digest).
func pullRef(r *http.Request) (string, error) {
	q := r.URL.Query()
	ref := q.Get("fromImage")
	if tag := q.Get("tag"); tag != "" {
		if strings.HasPrefix(tag, "sha256:") {
			ref += "@" + tag
		} else {
			ref += ":" + tag
		}
	}
	if _, err := reference.Parse(ref); err != nil {
		return "", wire.Badf("invalid reference format: %q: %v", ref, err)
	}
	return ref, nil
}

// pull runs the pull tool, the same program `mini-docker pull` runs,
// and sends each line it prints as a progress message. A client that
// leaves stops the pull (SIGTERM: pull removes what it half made).
func (s *Server) pull(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Get("fromSrc") != "" {
		return s.ship.Import(w, r) // docker import
	}
	ref, err := pullRef(r)
	if err != nil {
		return err
	}
	t, err := toolkit.SelfTools()
	if err != nil {
		return err
	}
	cmd, err := ship.PullCommand(r, t, "--root", s.Root, ref)
	if err != nil {
		return err
	}
	cmd.WaitDelay = time.Minute
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return err
	}
	defer pr.Close()
	// The header goes at once (NewStream flushes it): the client learns
	// the pull has begun before the first layer's line, which comes
	// only when that layer is done.
	stream := wire.NewStream(w)
	var last string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if last != "" {
			stream.Send(wire.Progress(last))
		}
		last = line
	}
	if err := cmd.Wait(); err != nil {
		// The pull tool's last line says why.
		msg := strings.TrimPrefix(last, "pull: ")
		if msg == "" {
			msg = err.Error()
		}
		stream.Send(jsonstream.Message{Error: &jsonstream.Error{Message: msg}})
		return nil
	}
	if last != "" {
		stream.Send(wire.Progress(last))
	}
	return nil
}

// images answers GET /images/json: one entry per image ID, with every
// name it has.
func (s *Server) images(w http.ResponseWriter, r *http.Request) error {
	if _, err := wire.ParseFilters(r.URL.Query().Get("filters"), "dangling", "reference"); err != nil {
		return err
	}
	st, err := store.Open(s.Root)
	if err != nil {
		return err
	}
	list, err := st.List()
	if err != nil {
		return err
	}
	byID := map[string]*image.Summary{}
	out := []*image.Summary{}
	for _, img := range list {
		sum := byID[img.ID.String()]
		if sum == nil {
			var created int64
			if img.Config.Created != nil {
				created = img.Config.Created.Unix()
			}
			sum = &image.Summary{ID: img.ID.String(), Created: created, Size: img.Size, Containers: -1,
				Labels: img.Config.Config.Labels, RepoTags: []string{}, RepoDigests: []string{}}
			byID[img.ID.String()] = sum
			out = append(out, sum)
		}
		if img.Ref != "" { // an untagged image (docker import without a name) lists none
			sum.RepoTags = append(sum.RepoTags, imageops.FamiliarRef(img.Ref))
			sum.RepoDigests = append(sum.RepoDigests, imageops.FamiliarRef(imageops.RepoName(img.Ref))+"@"+img.Digest.String())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created > out[j].Created })
	wire.WriteJSON(w, http.StatusOK, out)
	return nil
}

// imageName splits /images/NAME/ACTION.
func imageName(r *http.Request, actions ...string) (name, action string) {
	rest := r.PathValue("rest")
	for _, a := range actions {
		if strings.HasSuffix(rest, "/"+a) {
			return strings.TrimSuffix(rest, "/"+a), a
		}
	}
	return rest, ""
}

func (s *Server) imageGet(w http.ResponseWriter, r *http.Request) error {
	name, action := imageName(r, "json", "history", "get")
	switch action {
	case "history":
		return ship.History(w, s.Root, name)
	case "get":
		return ship.Save(w, s.Root, []string{name})
	case "":
		return wire.NotFoundf("page not found")
	}
	obj, err := imageops.Inspect(s.Root, name)
	if err != nil {
		return ship.NoSuchImage(name, err)
	}
	wire.WriteJSON(w, http.StatusOK, obj)
	return nil
}

func (s *Server) imagePost(w http.ResponseWriter, r *http.Request) error {
	name, action := imageName(r, "tag", "push")
	switch action {
	case "push":
		return s.ship.Push(w, r, name)
	case "":
		return wire.NotFoundf("page not found")
	}
	target := r.URL.Query().Get("repo")
	if tag := r.URL.Query().Get("tag"); tag != "" {
		target += ":" + tag
	}
	if _, err := reference.Parse(target); err != nil {
		return wire.Badf("invalid reference format: %q", target)
	}
	st, err := store.Open(s.Root)
	if err != nil {
		return err
	}
	img, err := imageops.Lookup(st, name)
	if err != nil {
		return ship.NoSuchImage(name, err)
	}
	if _, err := imageops.Tag(st, img, target, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// rmi answers DELETE /images/NAME: refused (409) while a container uses
// the image, unless forced (which removes those containers first).
func (s *Server) rmi(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("rest")
	st, err := store.Open(s.Root)
	if err != nil {
		return err
	}
	img, err := st.Lookup(name)
	if err != nil {
		return ship.NoSuchImage(name, err)
	}
	e, cs, err := s.containers()
	if err != nil {
		return err
	}
	var users []*container.Container
	for _, ct := range cs {
		if ct.Image == img.ID.String() {
			users = append(users, ct)
		}
	}
	if len(users) > 0 && !wire.BoolParam(r, "force") {
		return wire.Conflicting(fmt.Errorf("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
			name, container.ShortID(users[0].ID), img.ID.Encoded()[:12]))
	}
	for _, u := range users {
		if err := e.Remove(u, true); err != nil {
			return err
		}
	}
	deleted, err := st.Remove(name)
	if err != nil {
		return err
	}
	out := []image.DeleteResponse{}
	if img.Ref != "" {
		out = append(out, image.DeleteResponse{Untagged: imageops.FamiliarRef(img.Ref)})
	}
	for _, d := range deleted {
		out = append(out, image.DeleteResponse{Deleted: d.String()})
	}
	wire.WriteJSON(w, http.StatusOK, out)
	return nil
}
