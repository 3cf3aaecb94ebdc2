package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/pipeline"
)

// memStore is an object store in memory: bucket/key -> bytes.
type memStore map[string][]byte

func (m memStore) Get(_ context.Context, bucket, key string) (objectstore.Object, error) {
	data, ok := m[bucket+"/"+key]
	if !ok {
		return objectstore.Object{}, fmt.Errorf("get %s/%s: %w", bucket, key, objectstore.ErrNotFound)
	}
	return objectstore.Object{Data: data}, nil
}

func (m memStore) List(_ context.Context, bucket, prefix string) ([]string, error) {
	var keys []string
	for id := range m {
		if key, ok := strings.CutPrefix(id, bucket+"/"); ok && strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// memLog is a record log in memory, each document's chain on its own; an append expects
// the chain's length as its head's LogSeq, as AppendRecord expects the last sequence.
type memLog struct {
	chains map[string][]pipeline.RecordEntry
	// beforeAppend, when set, runs before each append: another writer getting in first.
	beforeAppend func(l *memLog)
	appends      int
}

func (l *memLog) RecordEntries(_ context.Context, doc string) ([]pipeline.RecordEntry, error) {
	return slices.Clone(l.chains[doc]), nil
}

func (l *memLog) RecordDocs(context.Context) ([]string, error) {
	var docs []string
	for d, c := range l.chains {
		if len(c) > 0 {
			docs = append(docs, d)
		}
	}
	return docs, nil
}

func (l *memLog) RecordHead(_ context.Context, doc string) (bus.ChainHead, error) {
	c := l.chains[doc]
	if len(c) == 0 {
		return bus.ChainHead{}, nil
	}
	return bus.ChainHead{Entry: c[len(c)-1], LogSeq: uint64(len(c))}, nil
}

func (l *memLog) AppendRecord(_ context.Context, e pipeline.RecordEntry, head bus.ChainHead) error {
	if f := l.beforeAppend; f != nil {
		l.beforeAppend = nil
		f(l)
	}
	if uint64(len(l.chains[e.Doc])) != head.LogSeq {
		return bus.ErrChainMoved
	}
	l.chains[e.Doc] = append(l.chains[e.Doc], e)
	l.appends++
	return nil
}

// memStatus is the pages' status in memory.
type memStatus map[string][]pipeline.PageStatus

func (m memStatus) Pages(_ context.Context, doc string) ([]pipeline.PageStatus, error) {
	pages, ok := m[doc]
	if !ok {
		return nil, fmt.Errorf("%s: %w", doc, bus.ErrNoDocument)
	}
	return pages, nil
}
