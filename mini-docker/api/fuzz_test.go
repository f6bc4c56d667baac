package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	mobycontainer "github.com/moby/moby/api/types/container"

	"mini-docker/mini-docker/api/wire"
	"mini-docker/mini-docker/container"
)

// FuzzRequest sends arbitrary requests (method, path, query, body) to
// the server on an empty state root. None may crash it, none may be
// answered 5xx (every bad request is the client's error, 4xx, with a
// JSON message), and none may leave a container behind. Pulls are left
// out: they go to the network.
func FuzzRequest(f *testing.F) {
	for _, seed := range []struct{ method, path, body string }{
		{"GET", "/_ping", ""},
		{"GET", "/v1.41/containers/json?all=1&filters={\"status\":[\"running\"]}", ""},
		{"GET", "/containers/json?filters={\"bogus\":{\"x\":true}}", ""},
		{"POST", "/v1.41/containers/create?name=demo", `{"Image":"debian","Cmd":["echo","hi"],"HostConfig":{"NetworkMode":"none"}}`},
		{"POST", "/containers/create?name=../../etc", `{"Image":"debian"}`},
		{"POST", "/containers/create", `{"Image":"debian","HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"1.2.3.4","HostPort":"8080"}]}}}`},
		{"POST", "/containers/create", `{"Image":`},
		{"POST", "/containers/..%2F..%2Fetc/start", ""},
		{"POST", "/containers/x/../../start", ""},
		{"GET", "/v9.99/version", ""},
		{"GET", "/v1.0/version", ""},
		{"POST", "/containers/demo/wait?condition=bogus", ""},
		{"GET", "/containers/demo/logs?stdout=1&tail=x", ""},
		{"POST", "/containers/demo/exec", `{"Cmd":[]}`},
		{"POST", "/exec/abc/start", `{"Detach":true}`},
		{"GET", "/images/127.0.0.1:5000/debian:bookworm/json", ""},
		{"DELETE", "/images/..%2F..", ""},
		{"POST", "/images/a/tag?repo=UPPER&tag=x", ""},
		{"GET", "/v1.41/networks?filters={\"label\":[\"com.docker.compose.project=demo\"]}", ""},
		{"POST", "/v1.41/networks/create", `{"Name":"app","IPAM":{"Config":[{"Subnet":"10.9.0.0/24"}]},"Labels":{"a":"b"}}`},
		{"GET", "/v1.41/networks/app", ""},
		{"POST", "/v1.41/networks/app/connect", `{"Container":"x","EndpointConfig":{"Aliases":["web"]}}`},
		{"DELETE", "/v1.41/networks/app", ""},
		{"POST", "/v1.41/volumes/create", `{"Name":"data","Labels":{"a":"b"}}`},
		{"GET", "/v1.41/volumes?filters={\"dangling\":[\"true\"]}", ""},
		{"DELETE", "/v1.41/volumes/data?force=1", ""},
		{"POST", "/v1.41/volumes/prune", ""},
		{"POST", "/v1.41/containers/demo/rename?name=web", ""},
		{"GET", "/v1.41/images/get?names=busybox&names=debian", ""},
		{"GET", "/v1.41/images/busybox/get", ""},
		{"POST", "/v1.41/images/load?quiet=1", "oci-layout\x00"},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	root := f.TempDir()
	h := NewServer(root).Handler()
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n#") {
			return
		}
		req, err := http.NewRequest(method, "http://localhost"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		if p := versionPrefix().ReplaceAllString(req.URL.Path, "/"); strings.HasPrefix(p, "/images/create") || strings.HasSuffix(p, "/images/create") {
			return // a pull: the network
		}
		if p := versionPrefix().ReplaceAllString(req.URL.Path, "/"); strings.Contains(p, "networks/prune") {
			return // syncs the firewall rules, here the host's own
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: status %d: %s", method, target, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var msg struct{ Message string }
			if err := json.Unmarshal(w.Body.Bytes(), &msg); err != nil || msg.Message == "" {
				t.Fatalf("%s %s: status %d without a JSON message: %q", method, target, w.Code, w.Body)
			}
		}
		if ents, _ := os.ReadDir(filepath.Join(root, "containers")); len(ents) > 0 {
			t.Fatalf("%s %s %q left %s in the state root", method, target, body, ents[0].Name())
		}
	})
}

// FuzzOptionsOf: every create request is either refused or becomes run
// flags that the flag parsers accept and that mean the same network,
// ports and command.
func FuzzOptionsOf(f *testing.F) {
	f.Add("demo", `{"Image":"debian","Cmd":["echo","hi"],"HostConfig":{"NetworkMode":"none"}}`)
	f.Add("l", `{"Image":"debian","Labels":{"made-by":"curl","a":""},"StopTimeout":3,"StopSignal":"SIGINT"}`)
	f.Add("", `{"Image":"debian","Entrypoint":["sh","-c"],"Cmd":["echo hi"],"HostConfig":{"Memory":33554432,"NanoCpus":500000000,"PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]}}}`)
	f.Add("x", `{"Image":"debian","Entrypoint":[""],"HostConfig":{"PidsLimit":100,"Binds":["/tmp:/data:ro"],"CapDrop":["NET_RAW"]}}`)
	f.Add("x", `{"Image":"","HostConfig":{"Mounts":[{"Type":"bind"}]}}`)
	f.Add("web", `{"Image":"busybox","Labels":{"com.docker.compose.project":"demo"},"HostConfig":{"NetworkMode":"demo_default"},"NetworkingConfig":{"EndpointsConfig":{"demo_default":{"Aliases":["web"]}}}}`)
	f.Add("n", `{"Image":"debian","HostConfig":{"NetworkMode":"none","Dns":["9.9.9.9"],"DnsSearch":["a.example"],"DnsOptions":["ndots:2"],"ExtraHosts":["db:10.1.2.3"]}}`)
	f.Add("j", `{"Image":"debian","HostConfig":{"NetworkMode":"container:db","Dns":["9.9.9.9"]}}`)
	f.Fuzz(func(t *testing.T, name, body string) {
		var req mobycontainer.CreateRequest
		if json.Unmarshal([]byte(body), &req) != nil {
			return
		}
		o, err := OptionsOf(name, &req)
		if err != nil {
			if wire.StatusOf(err) >= 500 {
				t.Fatalf("refused with a server error: %v", err)
			}
			return
		}
		if o.Image != req.Image || o.Name != name || o.Pull != "never" {
			t.Fatalf("image %q name %q pull %q from %s", o.Image, o.Name, o.Pull, body)
		}
		want := append(append([]string{}, req.Entrypoint...), req.Cmd...)
		got := o.Args
		if o.Entrypoint != nil {
			got = append([]string{*o.Entrypoint}, o.Args...)
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("command %q, want %q", got, want)
		}
		// Labels and the stop settings reach the run flags (a missing
		// timeout is -1, docker stop's 10 s; 0 would kill at once).
		timeout := -1
		if req.StopTimeout != nil {
			timeout = *req.StopTimeout
		}
		if len(o.Labels) != len(req.Labels) || o.StopTimeout != timeout || o.StopSignal != req.StopSignal {
			t.Fatalf("labels %q stop timeout %d from %s", o.Labels, o.StopTimeout, body)
		}
		hc, err := o.HostConfig()
		if err != nil {
			return // the flag parsers' own refusal: a 400 when the engine says it
		}
		if req.HostConfig == nil {
			req.HostConfig = &mobycontainer.HostConfig{}
		}
		switch m := req.HostConfig.NetworkMode; {
		case m == "" || m == "default":
			if hc.NetworkMode != container.NetworkBridge {
				t.Fatalf("network mode %q from %s", hc.NetworkMode, body)
			}
		case hc.NetworkMode != m:
			t.Fatalf("network mode %q from %q", hc.NetworkMode, m)
		}
		// (a search domain is kept without its final dot, as Docker keeps it)
		if fmt.Sprint(hc.DNS, hc.DNSOptions, hc.ExtraHosts) != fmt.Sprint(req.HostConfig.DNS, req.HostConfig.DNSOptions, req.HostConfig.ExtraHosts) || len(hc.DNSSearch) != len(req.HostConfig.DNSSearch) {
			t.Fatalf("/etc files' settings %v %v %v %v from %s", hc.DNS, hc.DNSSearch, hc.DNSOptions, hc.ExtraHosts, body)
		}
		// A port with an empty list of bindings publishes nothing.
		published := 0
		for _, bs := range req.HostConfig.PortBindings {
			if len(bs) > 0 {
				published++
			}
		}
		if hc.NetworkMode == container.NetworkBridge && len(hc.PortBindings) != published {
			t.Fatalf("ports %v from %v", hc.PortBindings, req.HostConfig.PortBindings)
		}
	})
}
