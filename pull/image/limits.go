package image

import (
	"errors"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/pull/store"
)

// ErrLayerTooLarge is returned for a layer that expands past
// Limits.MaxLayerSize or Limits.MaxLayerRatio.
var ErrLayerTooLarge = errors.New("layer too large")

// Limits bound what one layer may expand to. A compressed layer says
// nothing of its uncompressed size: gzip members of zeros, stacked, turn
// 21 MB into 21 GiB. The store's disk reserve (store.Store.Reserve)
// applies whatever these say.
type Limits struct {
	// MaxLayerSize is the most bytes a layer may expand to (its
	// uncompressed tar, and what it writes to disk); 0: no limit.
	MaxLayerSize int64
	// MaxLayerRatio is the most uncompressed bytes per compressed byte of
	// the layer blob; 0: no limit. Ordinary layers are below 10.
	MaxLayerRatio float64
}

// budget counts what one layer expands to: the uncompressed stream
// (stream) and the bytes the unpacker writes (charge, which also keeps
// the store's reserve, checking it every store.ReserveCheckEvery bytes).
type budget struct {
	max     int64  // 0: none
	why     string // which limit max comes from, for the message
	written int64
	reserve func(n int64) error // store.Every(s.CheckReserve)
}

func newBudget(s *store.Store, desc ocispec.Descriptor, lim Limits) *budget {
	b := &budget{reserve: store.Every(s.CheckReserve)}
	if lim.MaxLayerSize > 0 {
		b.max, b.why = lim.MaxLayerSize, fmt.Sprintf("max-layer-size %d", lim.MaxLayerSize)
	}
	if lim.MaxLayerRatio > 0 && desc.Size > 0 {
		if r := int64(lim.MaxLayerRatio * float64(desc.Size)); b.max == 0 || r < b.max {
			b.max, b.why = r, fmt.Sprintf("max-layer-ratio %g times its %d compressed bytes", lim.MaxLayerRatio, desc.Size)
		}
	}
	return b
}

func (b *budget) tooLarge() error {
	return fmt.Errorf("expands to more than %d bytes (%s): %w", b.max, b.why, ErrLayerTooLarge)
}

// charge is unpack's budget: n more bytes are about to be written.
func (b *budget) charge(n int64) error {
	b.written += n
	if b.max > 0 && b.written > b.max {
		return b.tooLarge()
	}
	return b.reserve(n)
}

// stream bounds the uncompressed stream: bytes after the tar's end are
// never written, but each one costs the decompression and the diff ID.
func (b *budget) stream(r io.Reader) io.Reader {
	if b.max == 0 {
		return r
	}
	return &boundedReader{r: r, b: b}
}

type boundedReader struct {
	r io.Reader
	b *budget
	n int64
}

func (br *boundedReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	if br.n += int64(n); br.n > br.b.max {
		return n, br.b.tooLarge()
	}
	return n, err
}
