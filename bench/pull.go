package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"mini-docker/bench/report"
)

// BenchPull is benchmark 4: a cold pull of the debian image from the
// loopback registry into an empty store, against skopeo copy + umoci
// unpack, docker pull and the floor (curl | zcat | tar -x of the layer
// blob); then a warm pull (the store has it: one manifest request).
func BenchPull(e *Env, r *report.Report) error {
	const bench = "4 pull, cold"
	w, n := e.runs(1, 1), e.runs(10, 3)
	cold := filepath.Join(e.Tmp, "pull-cold")
	md, err := Hyperfine(e, Cmd{Name: "mini-docker pull", Limit: 2 * time.Minute, Prepare: "rm -rf " + cold,
		Argv: []string{e.MD(), "--root", cold, "pull", "-q", e.Ref}}, w, n)
	if err != nil {
		return err
	}
	os.RemoveAll(cold)
	skopeo, err := e.skopeoUmoci("skopeo+umoci", e.Ref, w, n)
	if err != nil {
		return err
	}
	blob, err := e.layerBlobURL()
	if err != nil {
		return err
	}
	tarDir := filepath.Join(e.Tmp, "tar")
	floor, err := Hyperfine(e, Cmd{Name: "curl|zcat|tar", Limit: 2 * time.Minute, Prepare: fmt.Sprintf("rm -rf %s && mkdir %s", tarDir, tarDir),
		Shell: fmt.Sprintf("curl -sf %s | zcat | tar -x -C %s", blob, tarDir)}, w, n)
	if err != nil {
		return err
	}
	os.RemoveAll(tarDir)
	mdRow := r.Sample(bench, "mini-docker pull debian", "ms", md)
	skRow := r.Sample(bench, "skopeo copy + umoci unpack", "ms", skopeo)
	flRow := r.Sample(bench, "floor: curl | zcat | tar -x (layer blob only)", "ms", floor)
	skRow.Vs(flRow)
	mdRow.Vs(flRow).AtMost(1.2, "floor")
	r.Again(mdRow).Vs(skRow).AtMost(1, "skopeo+umoci")
	if err := benchDockerPullCold(e, r, bench, mdRow, flRow, w, n); err != nil {
		return err
	}

	const warm = "4 pull, warm"
	wm, err := Hyperfine(e, Cmd{Name: "mini-docker pull (warm)", Argv: []string{e.MD(), "--root", e.Root, "pull", "-q", e.Ref}}, e.runs(3, 1), e.runs(30, 5))
	if err != nil {
		return err
	}
	wRow := r.Sample(warm, "mini-docker pull debian (already in the store)", "ms", wm)
	if e.Docker {
		dw, err := Hyperfine(e, Cmd{Name: "docker pull (warm)", Argv: []string{"docker", "pull", "-q", e.Ref}}, e.runs(3, 1), e.runs(20, 3))
		if err != nil {
			return err
		}
		dRow := r.Sample(warm, "docker pull debian (already present)", "ms", dw)
		wRow.Vs(dRow)
	}
	return nil
}

// skopeoUmoci times skopeo copy of ref into an OCI layout and umoci
// unpack of it, from an empty folder each run.
func (e *Env) skopeoUmoci(name, ref string, w, n int) ([]float64, error) {
	oci := filepath.Join(e.Tmp, "skopeo")
	defer os.RemoveAll(oci)
	return Hyperfine(e, Cmd{Name: name, Limit: 2 * time.Minute, Prepare: fmt.Sprintf("rm -rf %s && mkdir -p %s", oci, oci),
		Shell: fmt.Sprintf("skopeo copy --quiet --insecure-policy --src-tls-verify=false docker://%s oci:%s/layout:img && umoci unpack --image %s/layout:img %s/bundle >/dev/null",
			ref, oci, oci, oci)}, w, n)
}

// benchDockerPullCold times a cold docker pull, when the engine can
// drop the image's layer, and compares mini-docker's row (md) with it.
func benchDockerPullCold(e *Env, r *report.Report, bench string, mdRow, flRow *report.Row, w, n int) error {
	shared := ""
	if e.Docker {
		// A cold docker pull needs the engine to drop the layer on rmi;
		// it keeps it when another image in the engine shares it.
		id, _ := exec.Command("docker", "image", "inspect", "-f", "{{.Id}}", e.Ref).Output()
		exec.Command("docker", "rmi", "-f", e.Ref).Run()
		stillThere := exec.Command("docker", "image", "inspect", strings.TrimSpace(string(id))).Run() == nil
		out, err := exec.Command("docker", "pull", e.Ref).CombinedOutput()
		if err != nil {
			return fmt.Errorf("docker pull %s: %v %s", e.Ref, err, out)
		}
		if stillThere || strings.Contains(string(out), "Already exists") {
			tags, _ := exec.Command("docker", "images", "--format", "{{.Repository}}:{{.Tag}}").Output()
			shared = "n/a: after docker rmi the engine still holds the debian layer (shared with another image of this engine: " +
				strings.Join(strings.Fields(string(tags)), ", ") + "), so docker pull cannot be cold here"
		}
	}
	if e.Docker && shared != "" {
		r.Add(report.Row{Bench: bench, Subject: "docker pull", Status: shared, Target: "mini-docker faster"})
	} else if e.Docker {
		// docker rmi before each run; the engine keeps nothing of a
		// removed image's layers, so each pull downloads and extracts.
		dk, err := Hyperfine(e, Cmd{Name: "docker pull", Limit: 2 * time.Minute, Prepare: "docker rmi -f " + e.Ref,
			Argv: []string{"docker", "pull", "-q", e.Ref}}, w, n)
		if err != nil {
			return err
		}
		dRow := r.Sample(bench, "docker pull", "ms", dk)
		dRow.Vs(flRow)
		r.Again(mdRow).Vs(dRow).AtMost(1, "docker pull")
	} else {
		r.Add(report.Row{Bench: bench, Subject: "docker pull", Status: "n/a: " + e.NoDocker, Target: "mini-docker faster"})
	}
	return nil
}

// layerBlobURL finds the debian layer's blob on the registry.
func (e *Env) layerBlobURL() (string, error) {
	repo, tag, _ := strings.Cut(strings.TrimPrefix(e.Ref, e.Reg.Addr+"/"), ":")
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/v2/%s/manifests/%s", e.Reg.Addr, repo, tag), nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var m struct {
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || len(m.Layers) != 1 {
		return "", fmt.Errorf("manifest of %s: want one layer (%v)", e.Ref, err)
	}
	return fmt.Sprintf("http://%s/v2/%s/blobs/%s", e.Reg.Addr, repo, m.Layers[0].Digest), nil
}
