// Package image holds mini-docker's image listing, `images` (docker
// images / docker image ls), read from pull's store with Docker's
// flags, --format fields and --filter keys.
package image

import (
	"os"
	"sort"
	"time"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/filters"
	"mini-docker/mini-docker/formatter"
	"mini-docker/mini-docker/imageops"
	"mini-docker/pull/reference"
	"mini-docker/pull/store"
)

var imagesSpec = command.Spec{
	Name: "images", Usage: "[OPTIONS] [REPOSITORY[:TAG]]", MaxArgs: 1,
	Summary: "List images.",
	Examples: []string{"mini-docker images", "mini-docker rmi $(mini-docker images -q)",
		"mini-docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}'", "mini-docker images --filter dangling=true"},
}

// Images is `mini-docker images [REPOSITORY[:TAG]]`.
func Images(root string, args []string) error {
	f := imagesSpec.Flags()
	f.BoolP("all", "a", false, "show all images (mini-docker keeps no intermediate images: the same list)")
	quiet := f.BoolP("quiet", "q", false, "only show image IDs")
	digests := f.Bool("digests", false, "show digests")
	noTrunc := f.Bool("no-trunc", false, "don't truncate output")
	format := command.FormatFlag(f)
	filterFlags := command.FilterFlag(f, "dangling, label, before, since, reference")
	a, err := imagesSpec.ParseFilters(f, args, filterFlags)
	if err != nil {
		return cli.Done(err)
	}
	if f.NArg() == 1 {
		a["reference"] = append(a["reference"], f.Arg(0))
	}
	table := formatter.DefaultImageTable
	if *digests {
		table = formatter.DefaultImageTableDigests
	}
	fm := formatter.Pick(*format, *quiet, table)
	s, err := store.Open(root)
	if err != nil {
		return err
	}
	all, err := list(s)
	if err != nil {
		return err
	}
	all, err = filterImages(s, all, a)
	if err != nil {
		return err
	}
	var rows []any
	for _, r := range all {
		rows = append(rows, formatter.NewImageContext(r.row, !*noTrunc))
	}
	err = formatter.Write(os.Stdout, fm, formatter.ImageHeader, rows)
	return command.TemplateError(err, "template parsing error", "template parsing error")
}

// entry is one row and what the filters look at.
type entry struct {
	row    formatter.ImageRow
	labels map[string]string
}

// list gives docker images's rows for the store's images, newest first.
func list(s *store.Store) ([]entry, error) {
	imgs, err := s.List()
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, img := range imgs {
		r := formatter.ImageRow{Repository: "<none>", Tag: "<none>", ID: img.ID.String(), Digest: img.Digest.String(), Size: imageops.UnpackedSize(img.LayerDirs)}
		if ref, err := reference.Parse(img.Ref); err == nil {
			r.Repository = ref.FamiliarName()
			if ref.Tag != "" {
				r.Tag = ref.Tag
			}
		}
		if img.Config.Created != nil {
			r.Created = *img.Config.Created
		}
		out = append(out, entry{row: r, labels: img.Config.Config.Labels})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].row.Created.After(out[j].row.Created) })
	return out, nil
}

// filterImages keeps the images the filters pass.
func filterImages(s *store.Store, list []entry, a filters.Args) ([]entry, error) {
	if err := a.Validate("before", "dangling", "label", "reference", "since"); err != nil {
		return nil, cli.WithCode(err, 1)
	}
	dangling, hasDangling, err := a.Bool("dangling")
	if err != nil {
		return nil, cli.WithCode(err, 1)
	}
	bound := func(key string) (*time.Time, error) {
		vs := a[key]
		if len(vs) == 0 {
			return nil, nil
		}
		img, err := s.Lookup(vs[len(vs)-1])
		if err != nil {
			return nil, cli.Errorf(1, "No such image: %s", vs[len(vs)-1])
		}
		if img.Config.Created == nil {
			return &time.Time{}, nil
		}
		return img.Config.Created, nil
	}
	before, err := bound("before")
	if err != nil {
		return nil, err
	}
	since, err := bound("since")
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, e := range list {
		isDangling := e.row.Tag == "<none>"
		ok := (!hasDangling || dangling == isDangling) &&
			a.MatchLabels(e.labels) &&
			a.Any("reference", func(p string) bool { return filters.MatchReference(p, e.row.Repository, e.row.Tag) }) &&
			(before == nil || e.row.Created.Before(*before)) &&
			(since == nil || e.row.Created.After(*since))
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}
