// Package client is what Colophon's commands do on behalf of a person: upload a document,
// wait for it, report its status, and read back verified text and provenance. The commands
// in cmd/colophon parse flags and print; the work is here, where tests can reach it.
package client

import (
	"context"
	"crypto/ed25519"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/objectstore"
)

// Client talks to one Colophon deployment.
type Client struct {
	bus     *bus.Bus
	store   *objectstore.Store
	status  *bus.Status
	trusted []ed25519.PublicKey
}

// Option configures a Client.
type Option func(*Client)

// WithTrustedKeys makes every record read check out against one of keys: without, a record's
// signature is checked with the key it carries (intact since signed, whoever signed it).
func WithTrustedKeys(keys ...ed25519.PublicKey) Option {
	return func(c *Client) { c.trusted = keys }
}

// New opens the status bucket; b and store must reach a deployment with the pipeline topology.
func New(ctx context.Context, b *bus.Bus, store *objectstore.Store, opts ...Option) (*Client, error) {
	st, err := b.OpenStatus(ctx)
	if err != nil {
		return nil, err
	}
	c := &Client{bus: b, store: store, status: st}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}
