package build

import (
	"fmt"
	"io"
	"os"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/cli"
	"mini-docker/internal/idlehttp"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/dockerfile"
	"mini-docker/mini-docker/imageops/newlayer"
	"mini-docker/pull/image"
	"mini-docker/pull/reference"
	"mini-docker/pull/store"
)

var importSpec = command.Spec{
	Name: "import", Usage: "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
	Summary: "Import the contents from a tarball to create a filesystem image: the tar (plain, gzip,\n" +
		"bzip2 or zstd) becomes one layer, unpacked as pull unpacks one; prints the image ID.",
	Examples: []string{"mini-docker export box | mini-docker import - box:flat",
		"mini-docker import -c 'CMD [\"sh\"]' -c 'ENV A=b' -m 'from a tar' rootfs.tar.gz mybase:1"},
}

// Import is `mini-docker import file|URL|- [REPOSITORY[:TAG]]` (docker
// import): a root filesystem tar becomes an image of one layer.
func Import(root string, args []string) error {
	f := importSpec.Flags()
	changes := f.StringArrayP("change", "c", nil, "apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, USER, VOLUME, WORKDIR)")
	msg := f.StringP("message", "m", "", "set commit message for imported image")
	platform := f.String("platform", "", "set platform (os[/arch[/variant]]; os must be linux)")
	if err := importSpec.Parse(f, args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() < 1 || f.NArg() > 2 {
		return cli.WithCode(cli.Usagef("mini-docker import", "\"mini-docker import\" requires at least 1 and at most 2 arguments"), 1)
	}
	ref := f.Arg(1)
	if ref != "" {
		r, err := reference.Parse(ref)
		if err != nil {
			return cli.WithCode(err, 1)
		}
		if r.Digest != "" {
			return cli.Errorf(1, "cannot import digest reference")
		}
	}
	plat, err := image.ImportPlatform(*platform)
	if err != nil {
		return cli.WithCode(err, 1)
	}
	src, source, err := openSource(f.Arg(0))
	if err != nil {
		return cli.WithCode(err, 1)
	}
	defer src.Close()
	s, err := store.Open(root)
	if err != nil {
		return err
	}
	img, err := newlayer.Import(s, src, newlayer.ImportOptions{Ref: ref, Source: source, Message: *msg, Platform: plat, Explain: f.Explainer(),
		Changes: func(cfg ocispec.ImageConfig, ext dockerspec.DockerOCIImageConfigExt) (ocispec.ImageConfig, dockerspec.DockerOCIImageConfigExt, error) {
			return dockerfile.ApplyChanges(cfg, ext, *changes)
		}})
	if err != nil {
		return cli.WithCode(err, 1)
	}
	fmt.Println(img.ID)
	return nil
}

// Commit is `mini-docker commit`: a new image from a container's changes.
func Commit(root string, args []string) error {
	f := command.NewFlags("commit", "[-m MSG] [-a AUTHOR] [-c INSTRUCTION]... CONTAINER [REPO[:TAG]]",
		"Create a new image from a container's changes: its upper layer becomes a gzip'd OCI layer\n"+
			"(whiteouts written back as .wh. entries), on top of the image's layers, with the\n"+
			"container's Env, Cmd, Entrypoint, WorkingDir and User in the new config.",
		"mini-docker commit demo hello:1.0",
		"mini-docker commit -c 'CMD [\"cat\", \"/hello\"]' demo hello:2.0")
	msg := f.StringP("message", "m", "", "commit message")
	author := f.StringP("author", "a", "", "author")
	changes := f.StringArrayP("change", "c", nil, "apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, USER, VOLUME, WORKDIR)")
	pause := f.BoolP("pause", "p", true, "pause the container during the commit")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	if f.NArg() < 1 || f.NArg() > 2 {
		return cli.Usagef("mini-docker commit", "\"commit\" requires at least 1 and at most 2 arguments")
	}
	if f.NArg() == 2 {
		if _, err := reference.Parse(f.Arg(1)); err != nil {
			return cli.WithCode(err, 1)
		}
	}
	e, ct, err := command.OpenContainer(root, f, f.Arg(0))
	if err != nil {
		return err
	}
	s, err := store.Open(root)
	if err != nil {
		return err
	}
	img, err := newlayer.CommitContainer(e, s, ct, newlayer.ContainerCommit{Ref: f.Arg(1), Comment: *msg, Author: *author, Pause: *pause,
		Changes: func(cfg ocispec.ImageConfig, ext dockerspec.DockerOCIImageConfigExt) (ocispec.ImageConfig, dockerspec.DockerOCIImageConfigExt, error) {
			cfg, ext, err := dockerfile.ApplyChanges(cfg, ext, *changes)
			return cfg, ext, cli.WithCode(err, 1)
		}, Explain: f.Explainer()})
	if err != nil {
		return err
	}
	fmt.Println(img.ID)
	return nil
}

// openSource opens what docker import reads: stdin for "-", a URL's
// body for http:// and https://, else a file. The second value is the
// source as the daemon names it in the history ("-" for a file too: the
// docker CLI sends a file's content as stdin).
func openSource(arg string) (io.ReadCloser, string, error) {
	switch {
	case arg == "-":
		return io.NopCloser(os.Stdin), "-", nil
	case strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://"):
		resp, err := idlehttp.Client().Get(arg)
		if err != nil {
			return nil, "", err
		}
		if resp.StatusCode/100 != 2 {
			resp.Body.Close()
			return nil, "", fmt.Errorf("error downloading %s: %s", arg, resp.Status)
		}
		return resp.Body, arg, nil
	}
	fh, err := os.Open(arg)
	if err != nil {
		return nil, "", err
	}
	return fh, "-", nil
}
