package bus

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/pipeline"
)

// Every stream of the topology, the key-value buckets' included.
var topologyStreams = []string{pipeline.StreamOCR, pipeline.StreamMetadata, pipeline.StreamDead, pipeline.StreamRecords,
	kvStream(pipeline.KVStatus), kvStream(pipeline.KVWorkers)}

var topologyConsumers = []struct{ stream, name string }{
	{pipeline.StreamOCR, pipeline.ConsumerOCR},
	{pipeline.StreamMetadata, pipeline.ConsumerMetadata},
}

// replicated reports whether an asset has a leader and n-1 other members, all caught up,
// with no reconfiguration under way.
func replicated(ci *jetstream.ClusterInfo, n int) bool {
	if ci == nil || ci.Leader == "" || ci.Desired != nil || len(ci.Replicas) != n-1 {
		return false
	}
	for _, p := range ci.Replicas {
		if !p.Current || p.Offline || p.Pending {
			return false
		}
	}
	return true
}

// TestEnsureTopologyOnCluster: on a three-node cluster, a topology made with one copy (a
// process without the setting) is scaled to three by a process asked for three, consumers
// with their streams; a later process without the setting leaves them at three; the record
// log keeps its guards and chains concurrent appends once each.
func TestEnsureTopologyOnCluster(t *testing.T) {
	c := devstacktest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	one := connect(t, c.URL())
	if err := one.EnsureTopology(ctx); err != nil {
		t.Fatalf("EnsureTopology, 1 replica: %v", err)
	}
	for _, name := range topologyStreams {
		s, err := one.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.CachedInfo().Config.Replicas; r != 1 {
			t.Errorf("stream %s made with %d replicas, want 1", name, r)
		}
	}

	three := connect(t, c.URL(), WithReplicas(3))
	if err := three.EnsureTopology(ctx); err != nil {
		t.Fatalf("EnsureTopology, 3 replicas: %v", err)
	}
	var last string
	ok := eventually(90*time.Second, func() bool {
		for _, name := range topologyStreams {
			s, err := three.JS.Stream(ctx, name)
			if err != nil {
				last = fmt.Sprintf("stream %s: %v", name, err)
				return false
			}
			info := s.CachedInfo()
			if info.Config.Replicas != 3 || !replicated(info.Cluster, 3) {
				last = fmt.Sprintf("stream %s: %d replicas configured, cluster %+v", name, info.Config.Replicas, info.Cluster)
				return false
			}
		}
		for _, cn := range topologyConsumers {
			cons, err := three.JS.Consumer(ctx, cn.stream, cn.name)
			if err != nil {
				last = fmt.Sprintf("consumer %s: %v", cn.name, err)
				return false
			}
			if info := cons.CachedInfo(); !replicated(info.Cluster, 3) {
				last = fmt.Sprintf("consumer %s: cluster %+v", cn.name, info.Cluster)
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("streams and consumers not at 3 current replicas after 90 s; last seen: %s", last)
	}

	// A one-off command without the setting must not scale the cluster's streams down.
	if err := one.EnsureTopology(ctx); err != nil {
		t.Fatalf("EnsureTopology again, 1 replica: %v", err)
	}
	for _, name := range topologyStreams {
		s, err := one.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.CachedInfo().Config.Replicas; r != 3 {
			t.Errorf("stream %s has %d replicas after a process without the setting, want 3", name, r)
		}
	}

	// The record log keeps its guards on three replicas.
	if err := three.AppendRecord(ctx, entry("guarded", 1, ChainHead{}), ChainHead{}); err != nil {
		t.Fatal(err)
	}
	s, err := three.JS.Stream(ctx, pipeline.StreamRecords)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := s.CachedInfo().Config; !cfg.DenyDelete || !cfg.DenyPurge || cfg.Retention != jetstream.LimitsPolicy {
		t.Errorf("record log config: deny delete %v, deny purge %v, retention %v", cfg.DenyDelete, cfg.DenyPurge, cfg.Retention)
	}
	if err := s.DeleteMsg(ctx, 1); err == nil {
		t.Error("deleting a record log entry succeeded")
	}
	if err := s.Purge(ctx); err == nil {
		t.Error("purging the record log succeeded")
	}
	// A replicated stream answers a lost race to the chain's head with its own error code;
	// it must still read as ErrChainMoved.
	checkConcurrentAppends(t, three)
}

func TestConnectRefusesReplicas(t *testing.T) {
	for _, n := range []int{0, -1, MaxReplicas + 1} {
		_, err := Connect(testCtx(t), "nats://127.0.0.1:1", WithReplicas(n))
		if err == nil || !strings.Contains(err.Error(), "replicas") {
			t.Errorf("Connect with %d replicas: %v, want an error about replicas", n, err)
		}
	}
}
