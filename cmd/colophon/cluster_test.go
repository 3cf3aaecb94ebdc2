package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/pipeline"
	"github.com/colophon-archive/colophon/workers/metadata"
	"github.com/colophon-archive/colophon/workers/ocr"
)

// TestNATSClusterNodeLoss: the workers, unchanged, on a three-node JetStream cluster with
// every stream and bucket at three replicas. Mid-run, one node goes away: the one that leads
// the JetStream meta group and every stream and consumer of the pipeline, and that the
// workers are connected to. The workers reconnect to another node and ride out the
// elections; every page ends done exactly once, chained once, and verify passes.
func TestNATSClusterNodeLoss(t *testing.T) {
	const doc, pages = "cluster", 12
	c := devstacktest.StartCluster(t, 3)
	minio := startExternalMinIO(t)
	t.Setenv(envNATSURL, c.URL())
	t.Setenv(envNATSReplicas, "3")
	t.Setenv(envS3Endpoint, minio.endpoint)
	t.Setenv(envAccessKey, devstacktest.AccessKey)
	t.Setenv(envSecretKey, devstacktest.SecretKey)
	ctx := context.Background()

	store, err := objectstore.New(minio.endpoint, devstacktest.AccessKey, devstacktest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: store, logs: &syncBuffer{}}
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	// The test's own connection, for reading states: logs elsewhere, so the worker log's
	// reconnection is the workers'.
	quiet := &globals{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if e.bus, _, err = connect(ctx, quiet, cfg, "test", false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.bus.Close)

	victim := c.MetaLeader()
	if victim < 0 {
		t.Fatal("the cluster lost its JetStream meta leader")
	}
	victimName := c.Servers[victim].Name()
	moveLeaders(t, e.bus, victimName)

	// The workers get every server, the victim first and kept first, so they are on it
	// when it goes and must find another.
	urls := append([]string{c.URLs[victim]}, slices.Delete(slices.Clone(c.URLs), victim, victim+1)...)
	g := e.globals()
	wb, err := bus.Connect(ctx, strings.Join(urls, ","), bus.WithName("cluster-workers"), bus.WithLogger(g.log),
		bus.WithNATSOptions(nats.DontRandomize()))
	if err != nil {
		t.Fatal(err)
	}
	if got := wb.NC.ConnectedServerName(); got != victimName {
		t.Fatalf("workers connected to %s, want %s", got, victimName)
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if err := startWorkers(wctx, &wg, g, wb, store, []metadata.Option{metadata.WithSigner(testSigner(t))}, ocr.WithConcurrency(2)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		wb.Close()
		if t.Failed() {
			t.Logf("worker logs:\n%s", e.logs.String())
		}
	})

	e.mustRun(append([]string{"upload", "--source", "cluster box", "--doc", doc}, clusterPages(t, pages)...)...)
	var (
		before []pipeline.PageStatus
		mark   int // where the worker log was when before was read
	)
	waitFor(t, 3*time.Minute, "3 pages done and 3 not yet", func() bool {
		mark = len(e.logs.String())
		before = pageStates(e, doc)
		done := countState(before, pipeline.StateDone)
		if pages-done < 3 {
			t.Fatalf("%d of %d pages done before the test could stop a node; it proves nothing", done, pages)
		}
		return len(before) == pages && done >= 3
	})
	led := leads(e.bus, victimName)
	if c.Servers[victim].JetStreamIsLeader() {
		led = append([]string{"the meta group"}, led...)
	}
	c.Stop(victim)
	t.Logf("stopped %s, leader of %s, with %d of %d pages done", victimName, strings.Join(led, ", "), countState(before, pipeline.StateDone), pages)

	waitFor(t, 5*time.Minute, fmt.Sprintf("all %d pages done after the node loss", pages), func() bool { return allDone(e, doc, pages) })
	assertOneOfEach(t, e, doc, pages)

	assertChainedOnce(t, e, doc, pages)
	if r := e.colophon("verify", doc); r.code != 0 || !strings.Contains(r.stdout, "all verified") {
		t.Errorf("verify %s: exit %d\n%s\n%s", doc, r.code, r.stdout, r.stderr)
	}

	after := e.logs.String()[mark:]
	if !strings.Contains(after, "nats reconnected") {
		t.Error("the worker log does not show the workers reconnecting to another node")
	}
	if n, left := strings.Count(after, "stage=metadata outcome=ok"), pages-countState(before, pipeline.StateDone); n < left {
		t.Errorf("%d pages recorded after the node loss, fewer than the %d then unfinished", n, left)
	}
	if strings.Contains(after, "outcome=failed") {
		t.Errorf("a page failed:\n%s", grepLines(after, "outcome=failed"))
	}
	// Still three replicas, led by the nodes that are left.
	for _, name := range []string{pipeline.StreamOCR, pipeline.StreamRecords} {
		s, err := e.bus.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info := s.CachedInfo()
		if info.Config.Replicas != 3 || info.Cluster == nil || info.Cluster.Leader == "" || info.Cluster.Leader == victimName {
			t.Errorf("stream %s: %d replicas, cluster %+v", name, info.Config.Replicas, info.Cluster)
		}
	}
}

// clusterPages writes n small pages, each with its own text: a quick read.
func clusterPages(t *testing.T, n int) []string {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for i := range n {
		text := fmt.Sprintf("Harbor Court Tenants' Association, sheet %d.\nThe rent strike goes on.", i+1)
		p, err := sample.Render(text, sample.WithPageSize(1748, 600))
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, fmt.Sprintf("sheet-%02d.png", i+1))
		if err := os.WriteFile(f, p[0].PNG, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

func countState(pages []pipeline.PageStatus, s pipeline.PageState) int {
	n := 0
	for _, p := range pages {
		if p.State == s {
			n++
		}
	}
	return n
}

// The pipeline's streams (the key-value buckets' included) and consumers, by name.
var (
	clusterStreams = []string{pipeline.StreamOCR, pipeline.StreamMetadata, pipeline.StreamDead, pipeline.StreamRecords,
		"KV_" + pipeline.KVStatus, "KV_" + pipeline.KVWorkers}
	clusterConsumers = [][2]string{{pipeline.StreamOCR, pipeline.ConsumerOCR}, {pipeline.StreamMetadata, pipeline.ConsumerMetadata}}
)

// moveLeaders has the server named name lead every stream and consumer of the pipeline, by
// asking each leader to step down in its favour, so that losing it loses every leader at
// once. It asks through the JetStream API, so it works on any cluster, in-process or not.
func moveLeaders(t *testing.T, b *bus.Bus, name string) {
	t.Helper()
	body := []byte(fmt.Sprintf(`{"placement":{"preferred":%q}}`, name))
	move := func(what, subject string, leader func() string) {
		deadline := time.Now().Add(90 * time.Second)
		var last string
		for leader() != name {
			if time.Now().After(deadline) {
				t.Fatalf("%s still not led by %s after 90 s; last answer: %s", what, name, last)
			}
			if m, err := b.NC.Request(subject, body, 5*time.Second); err != nil {
				last = err.Error()
			} else {
				last = string(m.Data)
			}
			// An election takes a moment: wait for it before asking again.
			for end := time.Now().Add(5 * time.Second); leader() != name && time.Now().Before(end); {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	for _, s := range clusterStreams {
		move("stream "+s, "$JS.API.STREAM.LEADER.STEPDOWN."+s, func() string { return streamLeader(b, s) })
	}
	for _, cn := range clusterConsumers {
		move("consumer "+cn[1], fmt.Sprintf("$JS.API.CONSUMER.LEADER.STEPDOWN.%s.%s", cn[0], cn[1]), func() string {
			return consumerLeader(b, cn[0], cn[1])
		})
	}
}

// streamLeader is the name of the server leading stream, as JetStream answers now; "" if it
// does not answer.
func streamLeader(b *bus.Bus, stream string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := b.JS.Stream(ctx, stream)
	if err != nil || s.CachedInfo().Cluster == nil {
		return ""
	}
	return s.CachedInfo().Cluster.Leader
}

// consumerLeader is streamLeader for a consumer.
func consumerLeader(b *bus.Bus, stream, consumer string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := b.JS.Consumer(ctx, stream, consumer)
	if err != nil || c.CachedInfo().Cluster == nil {
		return ""
	}
	return c.CachedInfo().Cluster.Leader
}

// leads names the streams and consumers of the pipeline the server named name leads now,
// for the log.
func leads(b *bus.Bus, name string) []string {
	var out []string
	for _, s := range clusterStreams {
		if streamLeader(b, s) == name {
			out = append(out, s)
		}
	}
	for _, cn := range clusterConsumers {
		if consumerLeader(b, cn[0], cn[1]) == name {
			out = append(out, "consumer "+cn[1])
		}
	}
	return out
}

// assertChainedOnce checks the record log holds each of the document's pages once, in one
// unbroken chain.
func assertChainedOnce(t *testing.T, e *env, doc string, pages int) {
	t.Helper()
	entries, err := e.bus.RecordEntries(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	for i, en := range entries {
		seen[en.Page]++
		if en.Seq != i+1 || (i == 0) != (en.Prev == nil) || (i > 0 && en.Prev.SHA256 != entries[i-1].SHA256) {
			t.Errorf("record log entry %d breaks the chain: seq %d, prev %+v", i+1, en.Seq, en.Prev)
		}
	}
	for p := 1; p <= pages; p++ {
		if seen[p] != 1 {
			t.Errorf("page %d is in the record log %d times, want once", p, seen[p])
		}
	}
}

func TestNATSReplicasSetting(t *testing.T) {
	t.Setenv(envAccessKey, "k")
	t.Setenv(envSecretKey, "secret-key")
	for v, want := range map[string]int{"": 1, "1": 1, "3": 3, "5": 5} {
		t.Setenv(envNATSReplicas, v)
		cfg, err := loadConfig()
		if err != nil || cfg.NATSReplicas != want {
			t.Errorf("%s=%q: %d replicas, %v; want %d", envNATSReplicas, v, cfg.NATSReplicas, err, want)
		}
	}
	for _, v := range []string{"0", "6", "three", "-1"} {
		t.Setenv(envNATSReplicas, v)
		if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), envNATSReplicas) {
			t.Errorf("%s=%q: %v, want an error naming the variable", envNATSReplicas, v, err)
		}
	}
}
