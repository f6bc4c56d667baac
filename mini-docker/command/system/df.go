package system

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/docker/go-units"

	"mini-docker/internal/cli"
	"mini-docker/mini-docker/command"
	"mini-docker/mini-docker/formatter"
	"mini-docker/mini-docker/imageops"
	"mini-docker/pull/store"
)

const defaultDfTable = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"

var dfHeader = formatter.SubHeaderContext{"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}

var dfSpec = command.Spec{
	Name: "system df", Usage: "[--format TEMPLATE]",
	Summary:  "Show mini-docker disk usage.",
	Examples: []string{"mini-docker system df"},
}

// Df is `mini-docker system df`: the disk the state root's images
// (their unpacked layers, each counted once), containers (their upper
// layers) and volumes take, and what removing the unused ones would give
// back.
func Df(root string, args []string) error {
	f := dfSpec.Flags()
	format := command.FormatFlag(f)
	e, err := dfSpec.Open(root, f, args)
	if err != nil {
		return cli.Done(err)
	}
	cs, err := e.List()
	if err != nil {
		return err
	}
	s, err := store.Open(root)
	if err != nil {
		return err
	}
	imgs, err := s.List()
	if err != nil {
		return err
	}
	used := map[string]bool{}
	var ctrs dfRow
	ctrs.typ, ctrs.total = "Containers", len(cs)
	for _, ct := range cs {
		used[ct.Image] = true
		n := imageops.DirSize(ct.GraphDriver.Data["UpperDir"])
		ctrs.size += n
		if ct.State.Running {
			ctrs.active++
		} else {
			ctrs.reclaim += n
		}
	}
	images := dfRow{typ: "Images", total: len(imgs)}
	layerSize := map[string]int64{}
	layerUsed := map[string]bool{}
	for _, img := range imgs {
		for _, l := range img.LayerDirs {
			if _, ok := layerSize[l]; !ok {
				layerSize[l] = imageops.DirSize(l)
			}
			layerUsed[l] = layerUsed[l] || used[img.ID.String()]
		}
		if used[img.ID.String()] {
			images.active++
		}
	}
	for l, n := range layerSize {
		images.size += n
		if !layerUsed[l] {
			images.reclaim += n
		}
	}
	vols := dfRow{typ: "Local Volumes", noPercent: true}
	ents, _ := os.ReadDir(filepath.Join(root, "volumes"))
	for _, v := range ents {
		if v.IsDir() {
			vols.total++
			n := imageops.DirSize(filepath.Join(root, "volumes", v.Name()))
			vols.size, vols.reclaim = vols.size+n, vols.reclaim+n
		}
	}
	rows := []any{&images, &ctrs, &vols, &dfRow{typ: "Build Cache", noPercent: true}}
	err = formatter.Write(os.Stdout, formatter.Pick(*format, false, defaultDfTable), dfHeader, rows)
	return command.TemplateError(err, "template parsing error", "template parsing error")
}

// dfRow is one line of system df.
type dfRow struct {
	typ           string
	total, active int
	size, reclaim int64
	noPercent     bool
}

func (r *dfRow) MarshalJSON() ([]byte, error) { return formatter.MarshalJSON(r) }

func (r *dfRow) Type() string       { return r.typ }
func (r *dfRow) TotalCount() string { return fmt.Sprint(r.total) }
func (r *dfRow) Active() string     { return fmt.Sprint(r.active) }
func (r *dfRow) Size() string       { return units.HumanSize(float64(r.size)) }

// Reclaimable is the size of what is unused, with its share of the whole.
func (r *dfRow) Reclaimable() string {
	h := units.HumanSize(float64(r.reclaim))
	if r.noPercent || r.size == 0 {
		return h
	}
	return fmt.Sprintf("%s (%d%%)", h, r.reclaim*100/r.size)
}
