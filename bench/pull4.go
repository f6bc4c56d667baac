package main

import (
	"fmt"
	"mini-docker/bench/proc"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/bench/report"
	"mini-docker/internal/testenv"
)

// layerSplit is how the 4-layer image cuts the debian tree: the rest
// first (the base layer), then each of these folders as a layer of its own.
var layerSplit = []string{"usr/bin", "usr/lib/x86_64-linux-gnu", "usr/share"}

// BenchPull4 is benchmark 10: a cold pull of a 4-layer image (the debian
// tree cut in four, about 140 MB unpacked: the layers download and unpack
// in proc.Parallel), against skopeo copy + umoci unpack and docker pull.
func BenchPull4(e *Env, r *report.Report) error {
	const bench = "10 pull, cold, 4 layers"
	ref, err := e.pushLayers4()
	if err != nil {
		return err
	}
	// Five runs: each is 140 MB written, 10-20 s on a loaded machine.
	w, n := e.runs(1, 1), e.runs(5, 3)
	cold := filepath.Join(e.Tmp, "pull4-cold")
	md, err := Hyperfine(e, Cmd{Name: "mini-docker pull (4 layers)", Limit: 2 * time.Minute, Prepare: "rm -rf " + cold,
		Argv: []string{e.MD(), "--root", cold, "pull", "-q", ref}}, w, n)
	if err != nil {
		return err
	}
	os.RemoveAll(cold)
	skopeo, err := e.skopeoUmoci("skopeo+umoci (4 layers)", ref, w, n)
	if err != nil {
		return err
	}
	mdRow := r.Sample(bench, "mini-docker pull (4 layers)", "ms", md)
	skRow := r.Sample(bench, "skopeo copy + umoci unpack (4 layers)", "ms", skopeo)
	mdRow.Vs(skRow).AtMost(1, "skopeo+umoci")
	if !e.Docker {
		r.Add(report.Row{Bench: bench, Subject: "docker pull (4 layers)", Status: "n/a: " + e.NoDocker})
		return nil
	}
	defer exec.Command("docker", "rmi", "-f", ref).Run()
	dk, err := Hyperfine(e, Cmd{Name: "docker pull (4 layers)", Limit: 2 * time.Minute, Prepare: proc.ShellJoin([]string{"sh", "-c", "docker rmi -f " + ref + " >/dev/null 2>&1 || true"}),
		Argv: []string{"docker", "pull", "-q", ref}}, w, n)
	if err != nil {
		return err
	}
	dRow := r.Sample(bench, "docker pull (4 layers)", "ms", dk)
	r.Again(mdRow).Vs(dRow).AtMost(1, "docker pull")
	return nil
}

// pushLayers4 makes the 4-layer image from the pulled debian tree (tar,
// gzip as registries hold it) and pushes it to the bench's registry.
func (e *Env) pushLayers4() (string, error) {
	src := e.Layers[len(e.Layers)-1]
	base := []string{"tar", "-C", src, "-cf", "-"}
	for _, d := range layerSplit {
		base = append(base, "--exclude=./"+d)
	}
	cuts := [][]string{append(base, ".")}
	for _, d := range layerSplit {
		cuts = append(cuts, []string{"tar", "-C", src, "-cf", "-", "./" + d})
	}
	var layers []testenv.Layer
	for i, argv := range cuts {
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			return "", fmt.Errorf("layer %d (%v): %w", i, argv, err)
		}
		layers = append(layers, testenv.Layer{Tar: out, Comment: fmt.Sprintf("layer %d of the debian tree", i)})
	}
	dir := filepath.Join(e.Tmp, "layout4")
	defer os.RemoveAll(dir)
	l, err := testenv.CreateLayout(dir)
	if err != nil {
		return "", err
	}
	desc, err := l.AddImage(testenv.Image{Config: ocispec.ImageConfig{Cmd: []string{"bash"},
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}, Layers: layers})
	if err != nil {
		return "", err
	}
	if err := l.Tag(desc, "image"); err != nil {
		return "", err
	}
	const repoTag = "bench/layers4:latest"
	if err := l.Push("image", e.Reg, repoTag, testenv.FormatDocker, false); err != nil {
		return "", err
	}
	return e.Reg.Ref(repoTag), nil
}
