package api

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostile is a bad request and the refusal it must get.
type hostile struct {
	method, path, body string
	status             int
	msg                string // in the JSON message
}

func hostileRequests(ref string) []hostile {
	img := func(extra string) string { return `{"Image":"` + ref + `","Cmd":["true"]` + extra + `}` }
	return []hostile{
		{"POST", "/v1.41/containers/create", `{"Image":`, 400, "malformed JSON"},
		{"POST", "/v1.41/containers/create", `{"Image":"x"} {"Image":"y"}`, 400, "data after the object"},
		{"POST", "/v1.41/containers/create", `{"Image":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "too large"},
		{"POST", "/v1.41/containers/create?name=../../etc", img(""), 400, "Invalid container name"},
		{"POST", "/v1.41/containers/create?name=a%2Fb", img(""), 400, "Invalid container name"},
		{"POST", "/v1.41/containers/create", `{"Image":"../../etc/passwd"}`, 400, "invalid reference format"},
		{"POST", "/v1.41/containers/create", `{"Image":"no-such-image:1"}`, 404, "No such image"},
		{"POST", "/v1.41/containers/create", img(`,"HostConfig":{"NetworkMode":"bogus"}`), 404, "network bogus not found"},
		{"POST", "/v1.41/containers/create", img(`,"HostConfig":{"Mounts":[{"Type":"bind","Source":"/","Target":"/host"}]}`), 400, "not supported"},
		{"POST", "/v1.41/containers/create", img(`,"WorkingDir":"relative"`), 400, "absolute path"},
		{"POST", "/v1.41/containers/create", img(`,"HostConfig":{"Memory":-5}`), 400, "invalid Memory"},
		{"POST", "/v1.41/containers/create", img(`,"HostConfig":{"Memory":1024}`), 400, "Minimum memory limit"},
		{"GET", "/v1.41/containers/..%2F..%2Fetc/json", "", 400, "invalid path"},
		{"GET", "/v1.41/containers/x/../../etc/passwd", "", 400, "invalid path"},
		{"POST", "/v1.41/containers/%2E%2E/start", "", 400, "invalid path"},
		{"POST", "/v1.41/containers/a%2F..%2Fb/start", "", 400, "invalid path"},
		{"POST", "/v1.41/containers/%2Fetc%2Fpasswd/start", "", 400, "invalid path"},
		{"GET", "/v1.41/containers/json?filters=" + `{"bogus":["x"]}`, "", 400, "invalid filter 'bogus'"},
		{"GET", "/v1.41/containers/json?filters=notjson", "", 400, "invalid filters"},
		{"GET", "/v1.41/containers/json?limit=x", "", 400, "invalid limit"},
		{"GET", "/v9.99/version", "", 400, "too new"},
		{"GET", "/v1.12/version", "", 400, "too old"},
		{"GET", "/v1.41/no/such/endpoint", "", 404, "page not found"},
		{"POST", "/v1.41/exec/nope/start", `{"Detach":true}`, 404, "No such exec instance"},
		{"GET", "/v1.41/images/..%2F..%2Fetc/json", "", 400, "invalid path"},
		{"GET", "/v1.41/images/%2Fetc%2Fpasswd/json", "", 400, "invalid path"},
		{"GET", "/v1.41/images/ETC:passwd/json", "", 400, "invalid reference format"},
		{"DELETE", "/v1.41/images/no-such-image", "", 404, "No such image"},
		{"POST", "/v1.41/images/create?fromImage=../../x", "", 400, "invalid reference format"},
		{"POST", "/v1.41/images/create?fromSrc=http://example.invalid/x.tar", "", 400, "not supported"},
		{"POST", "/v1.41/images/create?fromSrc=-&repo=../x", "", 400, "invalid reference format"},
		{"POST", "/v1.41/images/create?fromSrc=-&changes=RUN+x", "", 400, "run is not a valid change command"},
		{"POST", "/v1.41/images/create?fromSrc=-", "not a tar", 400, "unpack the new layer"},
		{"GET", "/v1.41/images/json?filters=" + `{"evil":["x"]}`, "", 400, "invalid filter 'evil'"},
		{"GET", "/v1.41/containers/nope/top", "", 404, "No such container: nope"},
		{"GET", "/v1.41/containers/nope/archive?path=/etc", "", 404, "No such container: nope"},
		{"POST", "/v1.41/commit?container=nope", "", 404, "No such container: nope"},
		{"POST", "/v1.41/commit?container=nope&repo=../x", "", 400, "invalid reference format"},
		{"POST", "/v1.41/build?t=UPPER:1", "", 400, "invalid reference format"},
		{"POST", "/v1.41/build?buildargs=[1]", "", 400, "invalid buildargs"},
		{"POST", "/v1.41/build?networkmode=container:x", "", 400, "invalid networkmode"},
		{"POST", "/v1.41/build", "not a tar archive", 400, "invalid build context"},
		{"POST", "/v1.41/build", "", 400, "Cannot locate specified Dockerfile: Dockerfile"},
		// A link in the context to a host folder: the Dockerfile is
		// looked for inside the context (as Docker's daemon does), never
		// read from the host.
		{"POST", "/v1.41/build?dockerfile=x/passwd", contextWithLink("x", "/etc"), 400, "Cannot locate specified Dockerfile: x/passwd"},
		{"POST", "/v1.41/images/never-made/push", "", 404, "does not exist locally"},
		{"GET", "/v1.41/images/never-made/history", "", 404, "No such image: never-made"},
		{"POST", "/v1.41/networks/create", `{"Name":`, 400, "malformed JSON"},
		{"POST", "/v1.41/networks/create", `{"Name":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "too large"},
		{"POST", "/v1.41/networks/create", `{"Name":"../etc"}`, 400, "invalid network name"},
		{"POST", "/v1.41/networks/create", `{"Name":""}`, 400, "network name cannot be empty"},
		{"POST", "/v1.41/networks/create", `{"Name":"bridge"}`, 403, "predefined"},
		{"POST", "/v1.41/networks/create", `{"Name":"n1","Driver":"overlay"}`, 404, "plugin \"overlay\" not found"},
		{"POST", "/v1.41/networks/create", `{"Name":"n1","IPAM":{"Config":[{"Subnet":"300.1.0.0/16"}]}}`, 400, "malformed JSON"},
		{"POST", "/v1.41/networks/create", `{"Name":"n1","IPAM":{"Config":[{"Subnet":"fd00::/64"}]}}`, 400, "invalid subnet"},
		{"POST", "/v1.41/networks/create", `{"Name":"n1","Options":{"com.docker.network.bridge.name":"eth0"}}`, 400, "not supported"},
		{"GET", "/v1.41/networks/nope", "", 404, "network nope not found"},
		{"GET", "/v1.41/networks/..%2F..%2Fetc", "", 400, "invalid path"},
		{"GET", "/v1.41/networks?filters=" + `{"bogus":["x"]}`, "", 400, "invalid filter 'bogus'"},
		{"DELETE", "/v1.41/networks/bridge", "", 403, "pre-defined"},
		{"DELETE", "/v1.41/networks/nope", "", 404, "network nope not found"},
		{"POST", "/v1.41/networks/bridge/connect", `{"Container":"nope"}`, 404, "No such container: nope"},
		{"POST", "/v1.41/networks/bridge/connect", `{"Container":`, 400, "malformed JSON"},
		{"POST", "/v1.41/networks/bridge/disconnect", `{"Container":""}`, 400, "Container is empty"},
		{"POST", "/v1.41/networks/prune?filters=" + `{"until":["1h"]}`, "", 400, "not supported"},
		{"POST", "/v1.41/volumes/create", `{"Name":"../etc"}`, 400, "invalid characters"},
		{"POST", "/v1.41/volumes/create", `{"Name":"x1","Driver":"nfs"}`, 404, "plugin \"nfs\" not found"},
		{"POST", "/v1.41/volumes/create", `{"Name":"x1","DriverOpts":{"type":"nfs"}}`, 400, "takes no options"},
		{"POST", "/v1.41/volumes/create", `{"Name":"` + strings.Repeat("v", 2<<20) + `"}`, 413, "too large"},
		{"GET", "/v1.41/volumes/nope", "", 404, "no such volume"},
		{"GET", "/v1.41/volumes/.hidden", "", 404, "no such volume"},
		{"DELETE", "/v1.41/volumes/..%2Fnetworks", "", 400, "invalid path"},
		{"GET", "/v1.41/volumes?filters=" + `{"evil":["x"]}`, "", 400, "invalid filter 'evil'"},
		{"POST", "/v1.41/containers/nope/rename?name=x", "", 404, "No such container: nope"},
		{"GET", "/v1.41/images/get?names=never-made", "", 404, "No such image: never-made"},
		{"GET", "/v1.41/images/get?names=UPPER", "", 400, "invalid reference format"},
		{"GET", "/v1.41/images/get", "", 400, "names is empty"},
		{"GET", "/v1.41/images/never-made/get", "", 404, "No such image: never-made"},
		{"POST", "/v1.41/images/load", "not a tar archive", 400, "invalid image archive"},
	}
}

// contextWithLink is a build context (a tar) holding one symbolic link,
// name -> target.
func contextWithLink(name, target string) string {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777})
	tw.Close()
	return b.String()
}

// check sends c and reports how the answer differs from the refusal wanted.
func (c hostile) check(s *apiServer, client *http.Client) error {
	req, err := http.NewRequest(c.method, "http://localhost"+c.path, strings.NewReader(c.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	var m struct{ Message string }
	json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != c.status || m.Message == "" || !strings.Contains(m.Message, c.msg) {
		return fmt.Errorf("%s %.120s: %d %q, want %d with %q", c.method, c.path, resp.StatusCode, m.Message, c.status, c.msg)
	}
	return nil
}

// TestHostileRequests: malformed JSON, huge bodies, path tricks in
// names, ids and image names, unknown filters and versions get a 4xx
// with a clear message; 1,000 of them, then 200 clients at once, leave
// the server answering, with no container, no kernel object and no
// descriptor more than before.
func TestHostileRequests(t *testing.T) {
	h := newHarness(t)
	ref := h.debian()
	cases := hostileRequests(ref)
	for _, c := range cases {
		if err := c.check(h.srv, h.srv.client); err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}
	h.srv.client.CloseIdleConnections()
	base := h.srv.settledFds(t, -1)
	for i := 0; i < 1000; i++ {
		if err := cases[i%len(cases)].check(h.srv, h.srv.client); err != nil {
			t.Fatalf("bad request %d: %v", i, err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := h.srv.newClient()
			defer client.CloseIdleConnections()
			resp, err := client.Get("http://localhost/v1.41/containers/json?all=1")
			if err != nil {
				errs <- err
				return
			}
			var list []any
			if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 {
				errs <- fmt.Errorf("containers/json: %d %v", resp.StatusCode, err)
			}
			resp.Body.Close()
			for _, c := range []hostile{cases[i%len(cases)], cases[(i+7)%len(cases)]} {
				if err := c.check(h.srv, client); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	h.srv.client.CloseIdleConnections()
	if code, body := request(t, h.srv, "GET", "/_ping", nil); code != 200 || body != "OK" {
		t.Errorf("after the flood, /_ping: %d %q", code, body)
	}
	h.srv.client.CloseIdleConnections()
	if n := h.srv.settledFds(t, base); n > base {
		t.Errorf("the server holds %d descriptors, %d before the flood", n, base)
	}
	if ids := h.seen(); len(ids) != 0 {
		t.Errorf("bad requests made containers: %v", ids)
	}
	h.assertNoLeaks()
}

// settledFds waits until the server's descriptor count is at most want
// (or, with want < 0, stops changing) and returns it: the server closes
// a connection a moment after the client's end.
func (s *apiServer) settledFds(t *testing.T, want int) int {
	n, last := s.fds(t), -1
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		n = s.fds(t)
		if (want >= 0 && n <= want) || (want < 0 && n == last) {
			break
		}
		last = n
	}
	return n
}
