package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/pipeline"
)

// Ingest reads and writes the ingest worker's entries in KVIngest.
type Ingest struct {
	kv jetstream.KeyValue
}

// OpenIngest opens the ingest bucket.
func (b *Bus) OpenIngest(ctx context.Context) (*Ingest, error) {
	kv, err := b.KeyValue(ctx, pipeline.KVIngest)
	if err != nil {
		return nil, err
	}
	return &Ingest{kv: kv}, nil
}

// ErrConflict is returned (wrapped) by Create and Update when someone else wrote the entry
// first.
var ErrConflict = errors.New("written by someone else first")

// Get reads an entry and its revision; found is false when there is none.
func (i *Ingest) Get(ctx context.Context, key string) (e pipeline.IngestEntry, rev uint64, found bool, err error) {
	kve, err := i.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return e, 0, false, nil
	}
	if err != nil {
		return e, 0, false, fmt.Errorf("read ingest entry %s: %w", key, err)
	}
	if err := json.Unmarshal(kve.Value(), &e); err != nil {
		return e, 0, false, fmt.Errorf("decode ingest entry %s: %w", key, err)
	}
	return e, kve.Revision(), true, nil
}

// Write creates the entry (rev 0) or replaces revision rev of it, and returns the new
// revision; ErrConflict if the entry is not at rev.
func (i *Ingest) Write(ctx context.Context, key string, e pipeline.IngestEntry, rev uint64) (uint64, error) {
	e.Updated = time.Now().UTC()
	b, err := pipeline.Encode(e)
	if err != nil {
		return 0, err
	}
	var n uint64
	if rev == 0 {
		n, err = i.kv.Create(ctx, key, b)
	} else {
		n, err = i.kv.Update(ctx, key, b, rev)
	}
	if isConflict(err) {
		return 0, fmt.Errorf("ingest entry %s: %w", key, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("write ingest entry %s: %w", key, err)
	}
	return n, nil
}

// Put writes the entry whatever is there.
func (i *Ingest) Put(ctx context.Context, key string, e pipeline.IngestEntry) error {
	e.Updated = time.Now().UTC()
	b, err := pipeline.Encode(e)
	if err != nil {
		return err
	}
	if _, err := i.kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("write ingest entry %s: %w", key, err)
	}
	return nil
}

// Failures lists the events ingest could not take, oldest first.
func (i *Ingest) Failures(ctx context.Context) ([]pipeline.IngestEntry, error) {
	lister, err := i.kv.ListKeysFiltered(ctx, pipeline.IngestFailuresFilter)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("list ingest failures: %w", err)
	}
	var out []pipeline.IngestEntry
	seen := map[string]bool{}
	for key := range lister.Keys() {
		if !strings.HasPrefix(key, "fail.") || seen[key] { // a busy bucket may list a key twice
			continue
		}
		seen[key] = true
		e, _, found, err := i.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Updated.Before(out[b].Updated) })
	return out, nil
}

// Delete removes the entry if it is still at revision rev (a newer write wins).
func (i *Ingest) Delete(ctx context.Context, key string, rev uint64) error {
	err := i.kv.Delete(ctx, key, jetstream.LastRevision(rev))
	if err != nil && !isConflict(err) {
		return fmt.Errorf("delete ingest entry %s: %w", key, err)
	}
	return nil
}
