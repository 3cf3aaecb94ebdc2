package client

import (
	"context"
	"fmt"

	"github.com/colophon-archive/colophon/internal/audit"
)

// refuseLostRecordLog refuses a document that has provenance records in the store but no
// entry in the record log: its log was lost or replaced, and a page recorded now would
// start a second chain beside the stored one. A document with no records (a new ID) passes.
func (c *Client) refuseLostRecordLog(ctx context.Context, doc string) error {
	keys, err := audit.RecordKeys(ctx, c.store, doc)
	if err != nil || len(keys) == 0 {
		return err
	}
	head, err := c.bus.RecordHead(ctx, doc)
	if err != nil {
		return fmt.Errorf("document %s: read its record log: %w", doc, err)
	}
	if head.LogSeq != 0 {
		return nil
	}
	return fmt.Errorf("document %s has %d provenance records in the store (%s first) but none in the record log, which was lost or replaced: "+
		"nothing uploaded; rebuild the log from the signed records with `%s %s`, then upload again", doc, len(keys), keys[0], audit.RebuildCommand, doc)
}
