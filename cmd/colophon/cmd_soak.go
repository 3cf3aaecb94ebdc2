package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/pipeline"
)

func newSoakCmd(g *globals) *cobra.Command {
	var (
		pages, perDoc int
		dev           bool
		dataDir       string
	)
	cmd := &cobra.Command{
		Use:   "soak [--pages N] [--docs-of M] [--dev]",
		Short: "Push many generated pages through the pipeline and count pages lost, doubled and failed",
		Long: `Renders N distinct pages, uploads them as documents of M pages, waits for every page, then
audits the store: a page is lost if it is not done with exactly one verified text and record,
doubled if it has more than one text or record, failed if the pipeline failed it. Exits non-zero
unless all three counts are zero. With --dev it runs its own stack and workers in this process;
otherwise it uses the configured NATS, S3 and running workers. A benchmark, not a test: it
reports throughput but asserts none.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if pages < 1 || perDoc < 1 {
				return errors.New("--pages and --docs-of must be 1 or more")
			}
			if dev {
				st, err := startInprocStack(ctx, g, inprocOptions{dataDir: dataDir, setEnv: true})
				if err != nil {
					return err
				}
				defer st.Stop()
			}
			c, closeFn, err := openClient(ctx, g)
			if err != nil {
				return err
			}
			defer closeFn()
			cfg, _ := loadConfig()
			store, err := objectstore.New(cfg.S3Endpoint, cfg.AccessKey, cfg.SecretKey)
			if err != nil {
				return err
			}
			rep, err := soak(ctx, g, c, store, pages, perDoc)
			if err != nil {
				return err
			}
			fmt.Fprint(g.stdout, rep.String())
			if rep.Lost+rep.Doubled+rep.Failed > 0 {
				return &exitError{code: 1, err: errors.New("soak found pages lost, doubled or failed"), silent: true}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&pages, "pages", 1000, "pages to push through")
	cmd.Flags().IntVar(&perDoc, "docs-of", 50, "pages per document")
	cmd.Flags().BoolVar(&dev, "dev", false, "run a throwaway dev stack and workers in this process")
	cmd.Flags().StringVar(&dataDir, "data", "", "with --dev: state directory (default: a temporary one, removed after)")
	return cmd
}

// soakReport is what a soak run found.
type soakReport struct {
	Pages, Docs                 int
	Done, Lost, Doubled, Failed int
	Elapsed                     time.Duration
	Problems                    []string
	MaxRSSKiB                   int64
}

func (r soakReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pages %d in %d documents: done %d, lost %d, doubled %d, failed %d\n", r.Pages, r.Docs, r.Done, r.Lost, r.Doubled, r.Failed)
	fmt.Fprintf(&b, "elapsed %s: %.1f pages a minute\n", r.Elapsed.Round(time.Millisecond), float64(r.Pages)/r.Elapsed.Minutes())
	if r.MaxRSSKiB > 0 {
		fmt.Fprintf(&b, "peak RSS of this process %d MiB\n", r.MaxRSSKiB/1024)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	return b.String()
}

func soak(ctx context.Context, g *globals, c *client.Client, store *objectstore.Store, pages, perDoc int) (soakReport, error) {
	rep := soakReport{Pages: pages}
	dir, err := os.MkdirTemp("", "colophon-soak-pages-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	run := fmt.Sprintf("soak-%s", time.Now().UTC().Format("20060102-150405"))
	start := time.Now()
	var docs []string
	for first := 1; first <= pages; first += perDoc {
		n := min(perDoc, pages-first+1)
		doc := fmt.Sprintf("%s-%04d", run, len(docs)+1)
		files, err := soakFiles(filepath.Join(dir, doc), doc, first, n)
		if err != nil {
			return rep, err
		}
		if _, err := c.Upload(ctx, client.UploadRequest{Doc: doc, Source: "colophon soak " + run, Files: files}); err != nil {
			return rep, fmt.Errorf("upload %s: %w", doc, err)
		}
		docs = append(docs, doc)
		g.log.Info("soak uploaded", pipeline.LogDoc, doc, "pages", n)
	}
	rep.Docs = len(docs)
	for _, doc := range docs {
		if _, err := c.Wait(ctx, doc, nil); err != nil {
			return rep, err
		}
	}
	rep.Elapsed = time.Since(start)
	for _, doc := range docs {
		if err := auditDoc(ctx, c, store, doc, &rep); err != nil {
			return rep, err
		}
	}
	rep.MaxRSSKiB = maxRSSKiB()
	return rep, nil
}

// soakFiles renders n pages with distinct text: each names its document and page, so no two
// texts are alike and a text filed under the wrong page would show.
func soakFiles(dir, doc string, first, n int) ([]string, error) {
	rnd := rand.New(rand.NewSource(int64(first)))
	words := strings.Fields("the tenants met on tuesday and agreed to write to the management company about the boiler heating repairs rent dues newsletter meeting association building statement record temperature winter spring committee members")
	var all []sample.Page
	for i := range n {
		var b strings.Builder
		fmt.Fprintf(&b, "Soak page %d of document %s.\n\n", first+i, doc)
		for range 60 {
			b.WriteString(words[rnd.Intn(len(words))])
			b.WriteByte(' ')
		}
		p, err := sample.Render(b.String(), sample.WithPageSize(1240, 1000))
		if err != nil {
			return nil, err
		}
		all = append(all, p[0])
	}
	return sample.WriteFiles(dir, all)
}

// auditDoc counts a document's pages as done, lost, doubled or failed from what the store holds.
func auditDoc(ctx context.Context, c *client.Client, store *objectstore.Store, doc string, rep *soakReport) error {
	st, err := c.Status(ctx, doc)
	if err != nil {
		return err
	}
	texts, err := store.List(ctx, pipeline.BucketTexts, doc+"/")
	if err != nil {
		return err
	}
	records, err := store.List(ctx, pipeline.BucketProvenance, doc+"/")
	if err != nil {
		return err
	}
	// A page's texts are its .txt objects (beside them are its other outputs, hOCR, ALTO
	// and PDF); its records are every object it has in the provenance bucket.
	count := func(keys []string, page int, suffix string) int {
		n := 0
		prefix := fmt.Sprintf("%s/%04d/", doc, page)
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) && strings.HasSuffix(k, suffix) {
				n++
			}
		}
		return n
	}
	verified := map[int]bool{}
	if pts, err := c.Text(ctx, doc, 0); err == nil {
		for _, p := range pts {
			verified[p.Page] = true
		}
	}
	for _, p := range st.PageStates {
		nt, nr := count(texts, p.Page, ".txt"), count(records, p.Page, "")
		switch {
		case p.State == pipeline.StateFailed:
			rep.Failed++
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s page %d failed: %s", doc, p.Page, p.Error))
		case nt > 1 || nr > 1:
			rep.Doubled++
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s page %d has %d texts and %d records", doc, p.Page, nt, nr))
		case p.State != pipeline.StateDone || nt != 1 || nr != 1 || !verified[p.Page]:
			rep.Lost++
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s page %d is %s with %d texts, %d records, verified %v", doc, p.Page, p.State, nt, nr, verified[p.Page]))
		default:
			rep.Done++
		}
	}
	return nil
}

// maxRSSKiB reads this process's peak resident set size (Linux).
func maxRSSKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var n int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &n)
			return n
		}
	}
	return 0
}
