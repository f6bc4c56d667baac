package image

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/go-units"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/pull/store"
)

// output prints a pull the way Docker does: one line per layer, named by
// the first 12 hex digits of its digest. On a terminal the lines are
// redrawn in place with a progress bar; otherwise each layer's final
// status is printed once, in layer order, so logs and lessons are stable.
type output struct {
	w     io.Writer
	tty   bool
	quiet bool

	mu      sync.Mutex
	layers  []*progress
	status  []string
	printed int // plain mode: layers whose line is out
	drawn   int // tty mode: lines drawn last time
	stopc   chan struct{}
	wg      sync.WaitGroup
}

// progress counts the bytes of one layer.
type progress struct {
	id    string
	total int64
	n     atomic.Int64
	start time.Time
}

func newOutput(opts Options) *output {
	// --explain writes lines between the bars and would break the redraw:
	// plain lines then.
	return &output{w: opts.Out, tty: opts.TTY && !opts.Quiet && !opts.Explain.Enabled(), quiet: opts.Quiet || opts.Out == nil}
}

func (o *output) line(format string, args ...any) {
	if o.quiet {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, format+"\n", args...)
}

func (o *output) start(layers []ocispec.Descriptor) {
	o.layers = make([]*progress, len(layers))
	o.status = make([]string, len(layers))
	for i, l := range layers {
		o.layers[i] = &progress{id: store.ShortID(l.Digest), total: l.Size, start: time.Now()}
	}
	if o.quiet || !o.tty {
		return
	}
	o.stopc = make(chan struct{})
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-o.stopc:
				o.draw()
				return
			case <-t.C:
				o.draw()
			}
		}
	}()
}

func (o *output) stop() {
	if o.stopc != nil {
		close(o.stopc)
		o.wg.Wait()
		o.stopc = nil
	}
}

func (o *output) progress(i int) *progress { return o.layers[i] }

// done records a layer's final status ("Pull complete", "Already exists").
func (o *output) done(i int, status string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.status[i] = status
	if o.quiet || o.tty {
		return
	}
	for o.printed < len(o.status) && o.status[o.printed] != "" {
		fmt.Fprintf(o.w, "%s: %s\n", o.layers[o.printed].id, o.status[o.printed])
		o.printed++
	}
}

// draw redraws every layer's line: move the cursor up over the previous
// drawing, then erase and rewrite each line.
func (o *output) draw() {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	if o.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", o.drawn)
	}
	for i, p := range o.layers {
		b.WriteString("\x1b[2K")
		switch {
		case o.status[i] != "":
			fmt.Fprintf(&b, "%s: %s\n", p.id, o.status[i])
		case p.n.Load() == 0:
			fmt.Fprintf(&b, "%s: Waiting\n", p.id)
		default:
			fmt.Fprintf(&b, "%s: Downloading %s\n", p.id, p.bar())
		}
	}
	o.drawn = len(o.layers)
	io.WriteString(o.w, b.String())
}

func (p *progress) bar() string {
	n := p.n.Load()
	const width = 40
	filled := 0
	if p.total > 0 {
		filled = int(int64(width) * n / p.total)
	}
	if filled > width {
		filled = width
	}
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	rate := ""
	if el := time.Since(p.start).Seconds(); el > 0.2 {
		rate = "  " + HumanSize(float64(n)/el) + "/s"
	}
	return fmt.Sprintf("[%s] %s/%s%s", bar, HumanSize(float64(n)), HumanSize(float64(p.total)), rate)
}

// HumanSize prints sizes as Docker does (decimal units: 12.3MB), whole
// bytes below a kilobyte.
func HumanSize(f float64) string {
	if f < 1000 {
		return fmt.Sprintf("%dB", int64(f))
	}
	return units.HumanSizeWithPrecision(f, 3)
}

func (p *progress) add(n int64) { p.n.Add(n) }

// reader counts the bytes read through it.
func (p *progress) reader(r io.Reader) io.Reader {
	return progressReader{r, p}
}

type progressReader struct {
	r io.Reader
	p *progress
}

func (pr progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.n.Add(int64(n))
	return n, err
}
