package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/pipeline"
)

// TestHardKillCluster: a real cluster, every part its own process: three nats-server
// processes (JetStream, every stream and bucket at three replicas), a four-node distributed
// MinIO (one drive a node, one erasure set), an OCR and a metadata worker, each on a MinIO
// node of its own. While pages are in flight, kill -9 takes one NATS server (the one a
// worker is on, made leader of every stream and consumer of the pipeline) and one MinIO
// node (the fourth, which no client talks to: its drive is what goes). Neither comes back:
// a cluster of three keeps a quorum with two, and an erasure set of four drives at EC:2
// keeps its write quorum with three, so the pipeline must finish without them. Every page
// ends done exactly once, chained once, and verify --all passes; the time from the kills to
// the last page done is reported.
func TestHardKillCluster(t *testing.T) {
	const doc, pages = "hardkill", 8
	natsC := startNATSProcCluster(t, 3)
	minioC := startMinIOCluster(t, 4)
	const ocrAt, metaAt, testAt, killedMinIO = 0, 1, 2, 3 // MinIO nodes, by index
	t.Setenv(envNATSURL, natsC.URL())
	t.Setenv(envNATSReplicas, "3")
	t.Setenv(envS3Endpoint, minioC.endpoints[testAt])
	t.Setenv(envAccessKey, devstacktest.AccessKey)
	t.Setenv(envSecretKey, devstacktest.SecretKey)
	ctx := context.Background()

	store, err := objectstore.New(minioC.endpoints[testAt], devstacktest.AccessKey, devstacktest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: store, logs: &syncBuffer{}}
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	quiet := &globals{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if e.bus, _, err = connect(ctx, quiet, cfg, "test", false); err != nil { // makes the topology, 3 replicas
		t.Fatal(err)
	}
	t.Cleanup(e.bus.Close)

	ocrW := startProcEnv(t, "ocr-worker", []string{envS3Endpoint + "=" + minioC.endpoints[ocrAt]}, "worker", "ocr", "--concurrency", "2")
	metaW := startProcEnv(t, "metadata-worker", []string{envS3Endpoint + "=" + minioC.endpoints[metaAt]}, "worker", "metadata")
	var ocrNode, metaNode *natsNode
	waitFor(t, 2*time.Minute, "both workers connected", func() bool {
		for _, w := range []*proc{ocrW, metaW} {
			if !w.running() {
				t.Fatalf("%s exited:\n%s", w.name, w.output())
			}
		}
		ocrNode, metaNode = natsC.serving(t, "colophon-ocr-worker"), natsC.serving(t, "colophon-metadata-worker")
		return ocrNode != nil && metaNode != nil
	})
	// The victim is a node a worker is on (both, if they share one; else the meta leader if
	// it is one of theirs), so a worker loses its server mid-page as well as the cluster its
	// leaders. nats.go picks a server from the list at random: which one is logged.
	victim := ocrNode
	if metaNode != ocrNode && natsC.metaLeader(t) == metaNode.name {
		victim = metaNode
	}
	moveLeaders(t, e.bus, victim.name)
	onVictim := []string{}
	if ocrNode == victim {
		onVictim = append(onVictim, "OCR worker")
	}
	if metaNode == victim {
		onVictim = append(onVictim, "metadata worker")
	}

	e.mustRun(append([]string{"upload", "--source", "hard-kill box", "--doc", doc}, clusterPages(t, pages)...)...)
	var before []pipeline.PageStatus
	waitFor(t, 3*time.Minute, "2 pages done and a page in flight", func() bool {
		before = pageStates(e, doc)
		done := countState(before, pipeline.StateDone)
		if pages-done < 3 {
			t.Fatalf("%d of %d pages done before the test could kill a node; it proves nothing", done, pages)
		}
		inFlight := countState(before, pipeline.StateOCR) + countState(before, pipeline.StateMetadata)
		return len(before) == pages && done >= 2 && inFlight > 0
	})
	led := leads(e.bus, victim.name)
	if natsC.metaLeader(t) == victim.name {
		led = append([]string{"the meta group"}, led...)
	}
	mark := map[*proc]int{ocrW: len(ocrW.output()), metaW: len(metaW.output())}
	killed := time.Now()
	victim.p.kill() // SIGKILL
	minioC.procs[killedMinIO].kill()
	t.Logf("kill -9 of NATS server %s (leader of %s; serving the %s) and MinIO node %d, with %d of %d pages done, %d in OCR, %d in metadata",
		victim.name, strings.Join(led, ", "), strings.Join(onVictim, " and "), killedMinIO+1,
		countState(before, pipeline.StateDone), pages, countState(before, pipeline.StateOCR), countState(before, pipeline.StateMetadata))

	waitFor(t, 4*time.Minute, fmt.Sprintf("all %d pages done after the kills", pages), func() bool { return allDone(e, doc, pages) })
	recovered := time.Since(killed)
	t.Logf("all %d pages done %s after the kills", pages, recovered.Round(time.Millisecond))
	// Printed too, for the CI log of a verbose run: the figure the reliability notes quote.
	fmt.Printf("hard-kill cluster: %d pages done %s after kill -9 of a NATS server and a MinIO node\n", pages, recovered.Round(time.Millisecond))

	assertOneOfEach(t, e, doc, pages)
	assertChainedOnce(t, e, doc, pages)
	if r := e.colophon("verify", "--all"); r.code != 0 || !strings.Contains(r.stdout, "all verified") {
		t.Errorf("verify --all: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, w := range []*proc{ocrW, metaW} {
		if !w.running() {
			t.Errorf("%s exited", w.name)
		}
		after := w.output()[mark[w]:]
		if strings.Contains(after, "outcome=failed") {
			t.Errorf("%s failed a page:\n%s", w.name, grepLines(after, "outcome=failed"))
		}
	}
	for w, node := range map[*proc]*natsNode{ocrW: ocrNode, metaW: metaNode} {
		if node == victim && !strings.Contains(w.output()[mark[w]:], "nats reconnected") {
			t.Errorf("%s lost its NATS server, but its log does not show it reconnecting to another", w.name)
		}
	}
	// Still three replicas, led by the servers that are left.
	for _, name := range []string{pipeline.StreamOCR, pipeline.StreamMetadata, pipeline.StreamRecords} {
		s, err := e.bus.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info := s.CachedInfo()
		if info.Config.Replicas != 3 || info.Cluster == nil || info.Cluster.Leader == "" || info.Cluster.Leader == victim.name {
			t.Errorf("stream %s: %d replicas, cluster %+v", name, info.Config.Replicas, info.Cluster)
		}
	}
}
