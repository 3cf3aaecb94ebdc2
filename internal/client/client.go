// Package client is what Colophon's commands do on behalf of a person: upload a document,
// wait for it, report its status, and read back verified text and provenance. The commands
// in cmd/colophon parse flags and print; the work is here, where tests can reach it.
package client

import (
	"context"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/objectstore"
)

// Client talks to one Colophon deployment.
type Client struct {
	bus    *bus.Bus
	store  *objectstore.Store
	status *bus.Status
}

// New opens the status bucket; b and store must reach a deployment with the pipeline topology.
func New(ctx context.Context, b *bus.Bus, store *objectstore.Store) (*Client, error) {
	st, err := b.OpenStatus(ctx)
	if err != nil {
		return nil, err
	}
	return &Client{bus: b, store: store, status: st}, nil
}
