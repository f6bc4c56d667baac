package formatter

import (
	"strings"
	"time"

	"github.com/docker/go-units"
)

// The docker images tables, with and without --digests.
const (
	DefaultImageTable        = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	DefaultImageTableDigests = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
)

// ImageHeader titles docker images's columns.
var ImageHeader = SubHeaderContext{
	"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
	"CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
	"Containers": "CONTAINERS", "VirtualSize": "VIRTUAL SIZE", "SharedSize": "SHARED SIZE",
	"UniqueSize": "UNIQUE SIZE",
}

// ImageRow is what one row of docker images shows.
type ImageRow struct {
	Repository, Tag string // familiar name and tag, "<none>" when absent
	ID              string // sha256:<hex>, the config's digest
	Digest          string // the manifest's digest, or "<none>"
	Created         time.Time
	Size            int64
}

// NewImageContext is the row's template context.
func NewImageContext(r ImageRow, trunc bool) any { return &imageContext{r: r, trunc: trunc} }

type imageContext struct {
	r     ImageRow
	trunc bool
}

// MarshalJSON is {{json .}}.
func (c *imageContext) MarshalJSON() ([]byte, error) { return MarshalJSON(c) }

func (c *imageContext) ID() string {
	if c.trunc {
		id := strings.TrimPrefix(c.r.ID, "sha256:")
		if len(id) > 12 {
			id = id[:12]
		}
		return id
	}
	return c.r.ID
}

func (c *imageContext) Repository() string { return c.r.Repository }
func (c *imageContext) Tag() string        { return c.r.Tag }
func (c *imageContext) Digest() string     { return c.r.Digest }
func (c *imageContext) CreatedAt() string  { return time.Unix(c.r.Created.Unix(), 0).String() }
func (c *imageContext) CreatedSince() string {
	if c.r.Created.IsZero() {
		return "N/A"
	}
	return units.HumanDuration(time.Now().UTC().Sub(c.r.Created)) + " ago"
}
func (c *imageContext) Size() string        { return units.HumanSizeWithPrecision(float64(c.r.Size), 3) }
func (c *imageContext) VirtualSize() string { return units.HumanSize(float64(c.r.Size)) }
func (c *imageContext) Containers() string  { return "N/A" }
func (c *imageContext) SharedSize() string  { return "N/A" }
func (c *imageContext) UniqueSize() string  { return "N/A" }
