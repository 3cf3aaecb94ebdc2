package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/pipeline"
)

// WorkerInfo is what a live worker says about itself in KVWorkers.
type WorkerInfo struct {
	Kind        string    `json:"kind"`
	ID          string    `json:"id"`
	Concurrency int       `json:"concurrency"`
	Started     time.Time `json:"started"`
	Seen        time.Time `json:"seen"`
}

// Announce keeps info in KVWorkers, refreshed every pipeline.WorkerHeartbeat, until ctx
// ends; then it removes the entry so health notices at once. The TTL of the bucket
// removes the entry of a worker that died without saying so.
func (b *Bus) Announce(ctx context.Context, info WorkerInfo, log *slog.Logger) {
	kv, err := b.KeyValue(ctx, pipeline.KVWorkers)
	if err != nil {
		log.Warn("worker announce", "error", err)
		return
	}
	key := info.Kind + "." + info.ID
	t := time.NewTicker(pipeline.WorkerHeartbeat)
	defer t.Stop()
	for {
		info.Seen = time.Now().UTC()
		if v, err := json.Marshal(info); err == nil {
			if _, err := kv.Put(ctx, key, v); err != nil && ctx.Err() == nil {
				log.Warn("worker announce", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = kv.Delete(dctx, key)
			cancel()
			return
		case <-t.C:
		}
	}
}

// WorkerID is the default worker ID: host and process, unique on a machine at a time.
func WorkerID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// LiveWorkers lists the workers that announced themselves within the TTL.
func (b *Bus) LiveWorkers(ctx context.Context) ([]WorkerInfo, error) {
	kv, err := b.KeyValue(ctx, pipeline.KVWorkers)
	if err != nil {
		return nil, err
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	var out []WorkerInfo
	for key := range lister.Keys() {
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // expired between list and get
		}
		if err != nil {
			return nil, fmt.Errorf("read worker %s: %w", key, err)
		}
		var w WorkerInfo
		if err := json.Unmarshal(e.Value(), &w); err != nil {
			w = WorkerInfo{Kind: strings.SplitN(key, ".", 2)[0], ID: key}
		}
		out = append(out, w)
	}
	return out, nil
}
